/* The server's process-wide state. There is one server per process and it lives on one
 * libuv loop; everything here is touched from the loop thread only. */
#ifndef MUTUAL_SERVER_H
#define MUTUAL_SERVER_H

#include <sodium.h>
#include <stdbool.h>
#include <uv.h>

#include "config.h"
#include "proto.h"
#include "roles.h"
#include "store.h"
#include "throttle.h"

struct lws_context;

typedef struct mu_server {
    uv_loop_t *loop;
    mu_config cfg;
    mu_limits limits;
    mu_store *store;
    mu_throttle *throttle;
    struct lws_context *lws;
    bool test_clock;
    bool stopping;
    char host[256];
    int port;              /* bound port, known once listening */
    char dummy_hash[crypto_pwhash_STRBYTES]; /* verified against for unknown handles */
    uv_signal_t sigint, sigterm;
    uv_check_t check;
    uv_timer_t stop_timer;
    int stop_phase;
} mu_server;

extern mu_server *g_srv;

int server_run(mu_server *s);

#endif
