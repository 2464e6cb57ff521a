/* Integration test harness: starts the real mutuald on a free port with a temporary database
 * and talks to it through libmutual over real WebSockets. */
#ifndef MUTUAL_TEST_HARNESS_H
#define MUTUAL_TEST_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mutual/client.h"

typedef struct {
    pid_t pid;
    int port;
    char dir[256];
    char db[320];     /* a SQLite file, or a PostgreSQL URL */
    char pg_name[64]; /* the PostgreSQL database made for this server, if any */
    char conf[320];
    char log[320];
    char url[128];
    int test_clock;
} srv_t;

/* Starts a server; `config` is extra settings file text (or NULL). Fails the test on error. */
void srv_start(srv_t *s, const char *config, int test_clock);
/* Starts another node on `first`'s PostgreSQL database (several mutuald, one database). Clean
 * it up before `first`, whose cleanup drops the database. */
void srv_start_node(srv_t *s, const srv_t *first, const char *config);
/* SIGTERM, and the server must exit 0 (a sanitizer or leak report makes it fail). */
void srv_stop(srv_t *s);
void srv_kill9(srv_t *s);
/* Starts again on the same database and configuration. */
void srv_restart(srv_t *s);
/* Starts again on the same port as before. */
void srv_restart_same_port(srv_t *s);
/* True when servers run on PostgreSQL (MUTUAL_TEST_PG is set), false on SQLite files. */
int harness_on_pg(void);
/* True when the server runs on PostgreSQL (MUTUAL_TEST_PG), false on a SQLite file. */
int srv_is_pg(const srv_t *s);
/* The first column of the first row of `sql`, run on the server's database (SQLite or
 * PostgreSQL) on a connection of the test's own; fails the test on error. */
int64_t srv_sql_int(const srv_t *s, const char *sql);
/* Runs statements there, outside the server. */
void srv_sql_exec(const srv_t *s, const char *sql);
/* The database is sound: SQLite's integrity_check, or PostgreSQL's amcheck on every index and
 * table. */
void srv_integrity_ok(const srv_t *s);
/* Removes the temporary directory (and the server's PostgreSQL database). */
void srv_cleanup(srv_t *s);

mu_client *cl_connect(mu_sync *y, const srv_t *s);
/* A call that must get a reply. */
mu_msg *cl_call(mu_sync *y, mu_client *c, mu_req *r);
void expect_ok(const mu_msg *m);
void expect_err(const mu_msg *m, const char *code);
/* One call, checked for `code` ("ok" for success), freed. */
void call_expect(mu_sync *y, mu_client *c, mu_req *r, const char *code);
/* Registers and returns the token (malloc'd). */
char *cl_register(mu_sync *y, mu_client *c, const char *handle, const char *pw, const char *role);
char *cl_login(mu_sync *y, mu_client *c, const char *handle, const char *pw);
/* A new connection signed in as an existing account. */
mu_client *cl_signed_in(mu_sync *y, const srv_t *s, const char *handle, const char *pw);
/* The next event of the connection, which must be `op` (fails the test otherwise). */
mu_msg *cl_event(mu_sync *y, mu_client *c, const char *op);
/* No event arrives within a short while. */
void cl_no_event(mu_sync *y, mu_client *c);
/* Creates a user with mutuald user add (any role) against a stopped or running server's db. */
void srv_user_add(const srv_t *s, const char *handle, const char *pw, const char *role);

/* ---- a world: a running server with the people a test needs ------------------------------ */

#define WORLD_PW "a good long password"

typedef struct {
    srv_t s;
    mu_sync *y;
    mu_client *admin, *mentor, *mem;
} world;

/* Starts a server (extra settings in `config`, or NULL) with the account "admin" signed in as
 * w->admin. With `mentor`, that mentor exists and is signed in as w->mentor; with `member`,
 * that member registers on w->mem and, when there is a mentor, is assigned to them. Every
 * account has the password WORLD_PW. */
void world_up(world *w, const char *config, int test_clock, const char *mentor, const char *member);
/* Stops the server (it must exit cleanly) and removes its files. */
void world_down(world *w);
/* Creates an account with `mutuald user add` (any role). */
void world_add(world *w, const char *handle, const char *role);
/* A new connection signed in as an existing account. */
mu_client *world_as(world *w, const char *handle);
/* A new connection on which a new account registers (role NULL: member). */
mu_client *world_newcomer(world *w, const char *handle, const char *role);
/* The next event of `c`, which must be `op`; or no event within a short while. */
mu_msg *world_event(world *w, mu_client *c, const char *op);
void world_no_event(world *w, mu_client *c);
/* Moves the server's test clock forward (the server runs with --test-clock). */
void world_advance(world *w, int64_t secs);

/* realloc that aborts when memory runs out, so a test never writes through NULL. */
void *grow(void *p, size_t size);

/* Plain HTTP GET on the server's port; returns the status and the body (malloc'd). */
int http_get(int port, const char *path, char **body);

double mono_ms(void);

/* Runs the shell command built from fmt, its stderr joined to its stdout; returns its exit
 * status (128 when it did not exit) and puts what it printed in out (at most cap - 1 bytes). */
int sh_capture(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int sh_vcapture(char *out, size_t cap, const char *fmt, va_list ap);

#endif
