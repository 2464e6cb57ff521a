/* Two mutuald nodes on one PostgreSQL database (MUTUAL_TEST_PG; the tests skip on SQLite),
 * and the helpers of the cross-node tests. */
#ifndef MUTUAL_TEST_NODES_H
#define MUTUAL_TEST_NODES_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

typedef struct {
    world w; /* node A, with admin, mentor.ana and riley (ana's mentee) signed in there */
    srv_t b; /* node B on the same database */
    mu_sync *yb;
} nodes;

typedef struct {
    int ok, other;
} said;

void nodes_up_with(nodes *n, const char *config);
void nodes_up(nodes *n);
void nodes_down(nodes *n);
mu_client *on_b(nodes *n, const char *handle);
void send_dm(mu_sync *y, mu_client *c, const char *to, const char *text);
void fence(nodes *n, mu_client *ana_b, const char *text);
void on_said(mu_client *c, const mu_msg *m, void *ud);
mu_req *say_req(const char *text, const char *cid);
mu_msg *next_op(mu_sync *y, mu_client *c, const char *op);
mu_msg *next_msg(mu_sync *y, mu_client *c);
mu_req *room_req(const char *op);
/* ana creates the room "circle" on A and opens it. */
void circle_open(nodes *n);
void circle_up(nodes *n, mu_client *riley_b);
mu_req *target_req(const char *op, const char *handle);
bool flag(const mu_value *map, const char *key);
void expect_moderation(mu_sync *y, mu_client *c, const char *action);
void expect_presence(mu_sync *y, mu_client *c, const char *handle, const char *state);
bool has_member(const mu_msg *m, const char *handle);
int64_t say_seq(mu_sync *y, mu_client *c, const char *text);
void expect_floor(mu_sync *y, mu_client *c, const char *handle);
/* Every listening connection of the database, both nodes', is cut (pg_terminate_backend):
 * each node listens again after its retry and catches up. */
void cut_listeners(nodes *n);
/* Every client connection of the database (or those whose application_name is `app`, such as
 * "mutuald (reads)"), stopped (SIGSTOP) or let go on (SIGCONT); the number of them. */
int signal_backends(nodes *n, const char *app, int sig);

#endif
