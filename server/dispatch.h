/* The request layer: each connection's queue of requests, handled one at a time in arrival
 * order; the envelope's rules in the protocol's order (rate limit, malformed, unknown op,
 * authentication, shutdown, fields); the handler each op has in the table it is given; and the
 * replies that end each call. Layer: requests, above conn.c and below every concern. It knows
 * the concerns only through the table and the hook that dispatch_init hands it. */
#ifndef MUTUAL_DISPATCH_H
#define MUTUAL_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

/* A handler replies exactly once through reply_*, now or after asynchronous work. */
typedef void (*handler_fn)(mu_conn *c, mu_request *r);

typedef struct {
    /* MU_OP__COUNT entries, indexed by mu_op_id; an op with none answers unknown_op. */
    const handler_fn *handlers;
    /* The socket of a connection is gone: the concerns let go of it (leave rooms...). */
    void (*conn_gone)(mu_conn *c);
    /* Monotonic milliseconds, for the token buckets. */
    uint64_t (*now_ms)(void);
    double rate_per_s, burst;
    mu_limits limits;
    bool test_clock; /* test.clock is served; without it the op is unknown */
    /* True while reads cannot reach the database (its server is away): a failed read then
     * answers unavailable rather than internal. May be NULL. */
    bool (*reads_lost)(void);
} dispatch_config;

void dispatch_init(const dispatch_config *cfg);
/* Shutdown has begun: every later request is answered unavailable. */
void dispatch_refuse_requests(void);
/* Drops the lists (after every socket is gone). */
void dispatch_shutdown(void);

/* A connection was accepted: its token bucket starts full. */
void dispatch_conn_open(mu_conn *c);
/* A whole message arrived. Its token is taken now, however long it waits in the queue. */
void dispatch_on_message(mu_conn *c, const char *data, size_t len, bool text);
/* The socket is gone: queued requests are dropped, the concerns' hook runs, and the
 * connection leaves every index (conn_gone). A call in progress still finishes. */
void dispatch_conn_gone(mu_conn *c);
/* Once per loop iteration: handles queued requests until each connection waits on a call or
 * has none left, then flushes every send queue. */
void dispatch_run_pending(void);
/* Calls in progress on any connection; shutdown waits for them. */
unsigned dispatch_inflight(void);

/* ---- replies: each ends the call it answers -------------------------------------------- */

/* Starts a success reply with room for nfields pairs after op, rid and ok. */
void reply_begin(mu_conn *c, mu_enc *e, uint32_t nfields);
/* Sends a reply started with reply_begin (the encoder is freed). */
void reply_end(mu_conn *c, mu_enc *e);
/* {op: reply, rid, ok: true}, nothing more. */
void reply_empty(mu_conn *c);
/* {key: [n items]} where `items` holds the n encoded items (it is freed). */
void reply_list(mu_conn *c, const char *key, uint32_t n, mu_enc *items);
/* An error reply; internal errors are logged with the op's name. */
void reply_err(mu_conn *c, mu_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* rate_limited with `retry_after` (whole seconds, from `wait_ms` rounded up). */
void reply_err_retry(mu_conn *c, int64_t wait_ms, const char *msg);
/* A write job failed with `result`: unavailable when storage refuses writes (nothing was
 * saved), internal otherwise. `what` names what was not saved ("The check-in"). */
void reply_write_failed(mu_conn *c, mu_code result, const char *what);
/* A read on the loop failed (logged by the store): internal, "Could not read <what>." */
void reply_read_failed(mu_conn *c, const char *what);

#endif
