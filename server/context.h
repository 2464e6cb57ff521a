/* The server's process-wide context: its settings, store, login throttle and loop. There is
 * one per process, on one libuv loop, and everything here is touched from the loop thread
 * only. Layer: context, over storage and below the concerns: it names the parts they share
 * and calls none of them; server.c fills it in and runs the server's life. */
#ifndef MUTUAL_CONTEXT_H
#define MUTUAL_CONTEXT_H

#include <sodium.h>
#include <stdbool.h>
#include <uv.h>

#include "config.h"
#include "proto.h"
#include "store.h"
#include "throttle.h"

struct lws_context;

/* The phases of a shutdown, in order. */
typedef enum {
    STOP_RUNNING = 0, /* not shutting down */
    STOP_CALLS,       /* calls in progress finish and reply; new requests are refused */
    STOP_CONNECTIONS, /* every connection is closed with 1001 once its queue is out */
    STOP_WORK,        /* pool work (hashing, exports) gives up; the store waits for it */
    STOP_DONE,        /* writes committed, store closed, the loop runs dry */
} mu_stop_phase;

typedef struct mu_server {
    uv_loop_t *loop;
    mu_config cfg;
    mu_limits limits;
    mu_store *store;
    mu_throttle *throttle;
    struct lws_context *lws;
    bool test_clock;
    bool stopping; /* stop_phase != STOP_RUNNING */
    char host[256];
    int port;                                /* bound port, known once listening */
    char dummy_hash[crypto_pwhash_STRBYTES]; /* verified against for unknown handles */
    uv_signal_t sigint, sigterm;
    uv_check_t check;
    uv_timer_t stop_timer;
    mu_stop_phase stop_phase;
} mu_server;

extern mu_server *g_srv;

/* The loop's own read connection. A read through it waits on the database: with PostgreSQL
 * that is a network round trip, so a request's reads go through reads.h instead, and what is
 * still read here is what has not moved yet. */
static inline mu_reader *loop_reader(void)
{
    return store_reader(g_srv->store);
}

#endif
