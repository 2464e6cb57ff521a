/* The request layer (see dispatch.h). Layer: requests. */
#include "dispatch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "xalloc.h"

/* Past this many queued requests, or conn_input_bound bytes of them, a connection stops being
 * read until it catches up (to a quarter of either). */
#define INQ_PAUSE 256
#define INQ_RESUME 32
/* What one queued request costs beyond its bytes (its header and the allocator's), so that a
 * flood of tiny frames is bounded in bytes too. */
#define INQ_OVERHEAD 64
/* The malformed frame that closes its connection (counted over the connection's life). */
#define MALFORMED_MAX 5

/* A message as it arrived, waiting for its turn. */
typedef struct mu_inmsg {
    struct mu_inmsg *next;
    bool limited; /* arrived past the token bucket */
    bool text;    /* a text message, which is never a request */
    size_t len;
    char data[];
} mu_inmsg;

static dispatch_config cfg;
static bool refusing;
static unsigned inflight;

/* Connections with requests to handle at the end of this loop iteration; each entry holds a
 * reference. */
static struct {
    mu_conn **v;
    size_t n, cap;
} pump_list;

static void want_pump(mu_conn *c);

void dispatch_init(const dispatch_config *c)
{
    cfg = *c;
    /* A connection that waited for room in its send queue resumes its requests. */
    conn_set_drain_hook(want_pump);
    refusing = false;
    inflight = 0;
}

void dispatch_refuse_requests(void)
{
    refusing = true;
}

void dispatch_shutdown(void)
{
    free(pump_list.v);
    memset(&pump_list, 0, sizeof(pump_list));
}

unsigned dispatch_inflight(void)
{
    return inflight;
}

static void want_pump(mu_conn *c)
{
    if (c->want_pump)
        return;
    c->want_pump = true;
    if (pump_list.n == pump_list.cap) {
        pump_list.cap = pump_list.cap ? pump_list.cap * 2 : 64;
        pump_list.v = xreallocarray(pump_list.v, pump_list.cap, sizeof(mu_conn *));
    }
    pump_list.v[pump_list.n++] = conn_ref(c);
}

/* ---- connections -------------------------------------------------------------------------- */

void dispatch_conn_open(mu_conn *c)
{
    bucket_init(&c->bucket, cfg.rate_per_s, cfg.burst, cfg.now_ms());
}

void dispatch_on_message(mu_conn *c, const char *data, size_t len, bool text)
{
    METRIC_INC(frames_in);
    METRIC_ADD(bytes_in, len);
    if (c->close_code)
        return; /* closing: nothing more is read */
    mu_inmsg *m = xmalloc(sizeof(*m) + len);
    m->next = NULL;
    m->text = text;
    m->len = len;
    memcpy(m->data, data, len);
    /* The token is taken on arrival, so a flood is limited however fast it is read. */
    m->limited = !bucket_take(&c->bucket, cfg.now_ms());
    if (c->in_tail)
        c->in_tail->next = m;
    else
        c->in_head = m;
    c->in_tail = m;
    c->in_bytes += len + INQ_OVERHEAD;
    if (++c->in_len >= INQ_PAUSE || c->in_bytes >= conn_input_bound(c))
        conn_pause_reading(c, true);
    want_pump(c);
}

void dispatch_conn_gone(mu_conn *c)
{
    for (mu_inmsg *m = c->in_head, *n; m; m = n) {
        n = m->next;
        free(m);
    }
    c->in_head = c->in_tail = NULL;
    c->in_len = 0;
    c->in_bytes = 0;
    if (cfg.conn_gone)
        cfg.conn_gone(c);
    conn_gone(c);
}

/* ---- the call: one request from start to reply ------------------------------------------- */

static void finish_call(mu_conn *c)
{
    if (c->req) {
        mu_request_free(c->req);
        free(c->req);
        c->req = NULL;
    }
    free(c->cur_msg);
    c->cur_msg = NULL;
    if (c->busy) {
        c->busy = false;
        inflight--;
        want_pump(c);
        conn_unref(c); /* the call's reference */
    }
}

static void count_reply(mu_code code)
{
    METRIC_INC(replies[code < MU_E__COUNT ? code : MU_E_INTERNAL]);
}

static void send_reply_enc(mu_conn *c, mu_enc *e)
{
    mu_frame *f = frame_from_enc(e);
    conn_send_reply(c, f);
    frame_unref(f);
}

static void send_error(mu_conn *c, mu_code code, const char *msg)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_reply_err(&e, c->req->has_rid, c->req->rid, code, msg);
    count_reply(code);
    send_reply_enc(c, &e);
    mu_enc_free(&e);
}

void reply_begin(mu_conn *c, mu_enc *e, uint32_t nfields)
{
    frame_enc_init(e);
    mu_enc_reply_ok(e, c->req->rid, nfields);
}

void reply_end(mu_conn *c, mu_enc *e)
{
    count_reply(MU_OK);
    send_reply_enc(c, e);
    mu_enc_free(e);
    finish_call(c);
}

void reply_empty(mu_conn *c)
{
    mu_enc e;
    reply_begin(c, &e, 0);
    reply_end(c, &e);
}

void reply_list(mu_conn *c, const char *key, uint32_t n, mu_enc *items)
{
    mu_enc e;
    reply_begin(c, &e, 1);
    mu_enc_key(&e, key);
    mu_enc_array(&e, n);
    mu_enc_append(&e, items);
    reply_end(c, &e);
}

void reply_err(mu_conn *c, mu_code code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (code == MU_E_INTERNAL)
        log_error("connection %llu: internal error in %s: %s", (unsigned long long)c->id,
                  c->req->op ? c->req->op->name : "?", msg);
    send_error(c, code, msg);
    finish_call(c);
}

void reply_err_retry(mu_conn *c, int64_t wait_ms, const char *msg)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_map(&e, c->req->has_rid ? 6 : 5);
    mu_enc_kstr(&e, "op", "reply");
    if (c->req->has_rid)
        mu_enc_kuint(&e, "rid", c->req->rid);
    mu_enc_kbool(&e, "ok", false);
    mu_enc_kstr(&e, "code", mu_code_name(MU_E_RATE_LIMITED));
    mu_enc_kstr(&e, "msg", msg);
    mu_enc_kint(&e, "retry_after", wait_ms <= 0 ? 1 : (wait_ms + 999) / 1000);
    count_reply(MU_E_RATE_LIMITED);
    send_reply_enc(c, &e);
    mu_enc_free(&e);
    finish_call(c);
}

void reply_write_failed(mu_conn *c, mu_code result, const char *what)
{
    if (result == MU_E_UNAVAILABLE)
        reply_err(c, MU_E_UNAVAILABLE, "Storage cannot take writes right now; %s.", what);
    else
        reply_err(c, MU_E_INTERNAL, "Storage failed; %s.", what);
}

void reply_read_failed(mu_conn *c, const char *what)
{
    if (cfg.reads_lost && cfg.reads_lost())
        reply_err(c, MU_E_UNAVAILABLE, "The database cannot be reached just now; try again.");
    else
        reply_err(c, MU_E_INTERNAL, "Could not read %s.", what);
}

/* ---- the envelope --------------------------------------------------------------------------- */

static void malformed(mu_conn *c, const mu_error *err)
{
    METRIC_INC(malformed_frames);
    c->bad_frames++;
    send_error(c, MU_E_BAD_REQUEST, err->msg);
    finish_call(c);
    if (c->bad_frames >= MALFORMED_MAX) {
        log_info("connection %llu: %d malformed frames, closing with 1008",
                 (unsigned long long)c->id, MALFORMED_MAX);
        conn_close(c, CLOSE_POLICY);
    }
}

/* The protocol's order: rate limit, malformed, unknown op, authentication, shutdown, fields. */
static void handle(mu_conn *c, mu_inmsg *m)
{
    mu_request *r = c->req;
    mu_error err = {0};

    if (m->text) {
        /* Text is never a request: malformed, and counted as such. */
        mu_error_set(&err, MU_E_BAD_REQUEST, "Frames must be binary MessagePack, not text.");
        if (m->limited)
            reply_err(c, MU_E_RATE_LIMITED, "Too many requests; slow down.");
        else
            malformed(c, &err);
        return;
    }
    mu_parse_result pr = mu_request_parse(r, m->data, m->len, &err);
    if (m->limited) {
        reply_err(c, MU_E_RATE_LIMITED, "Too many requests; slow down.");
        return;
    }
    if (pr == MU_PARSE_MALFORMED) {
        malformed(c, &err);
        return;
    }
    const mu_op *op = r->op;
    handler_fn h = op ? cfg.handlers[mu_op_index(op)] : NULL;
    if (op && (op->flags & MU_OPF_TESTCLOCK) && !cfg.test_clock)
        op = NULL; /* test.clock exists only under --test-clock */
    if (!op) {
        if (r->op_len <= 64 && mu_utf8_valid(r->op_name, r->op_len))
            reply_err(c, MU_E_UNKNOWN_OP, "Unknown op '%.*s'.", (int)r->op_len, r->op_name);
        else
            reply_err(c, MU_E_UNKNOWN_OP, "Unknown op.");
        return;
    }
    if (!(op->flags & MU_OPF_PREAUTH) && c->state != CONN_AUTHENTICATED) {
        reply_err(c, MU_E_UNAUTHENTICATED, "Sign in first (register, login or resume).");
        return;
    }
    if (refusing) {
        reply_err(c, MU_E_UNAVAILABLE, "The server is shutting down; try again shortly.");
        return;
    }
    if (mu_request_validate(r, &cfg.limits, &err) != MU_OK) {
        reply_err(c, err.code, "%s", err.msg);
        return;
    }
    if (!h) {
        reply_err(c, MU_E_UNKNOWN_OP, "This server does not serve '%s' yet.", op->name);
        return;
    }
    h(c, r);
}

/* Handles queued requests until one has to wait (for a hash, a commit) or none is left. */
static void pump(mu_conn *c)
{
    /* A request starts only while the send queue has room, so that replies (which the bound
     * does not cut off) cannot pile up behind a peer that does not read. */
    while (!c->busy && c->in_head && conn_alive(c) && !c->close_code && conn_has_room(c)) {
        mu_inmsg *m = c->in_head;
        c->in_head = m->next;
        if (!c->in_head)
            c->in_tail = NULL;
        c->in_len--;
        c->in_bytes -= m->len + INQ_OVERHEAD;
        c->cur_msg = m;
        c->req = xmalloc(sizeof(*c->req));
        mu_request_init(c->req);
        c->busy = true;
        inflight++;
        conn_ref(c); /* the call's: the socket may go while the call waits */
        handle(c, m);
    }
    if (c->in_len <= INQ_RESUME && c->in_bytes <= conn_input_bound(c) / 4)
        conn_pause_reading(c, false);
}

void dispatch_run_pending(void)
{
    /* Pumping can queue more pumps (a finished call) and flushes, and a flush can, through a
     * transport that notices a dead socket, end a connection: loop until both settle. Each
     * connection handles at most its queued requests, so this ends. */
    do {
        while (pump_list.n) {
            mu_conn **v = pump_list.v;
            size_t n = pump_list.n;
            memset(&pump_list, 0, sizeof(pump_list));
            for (size_t i = 0; i < n; i++) {
                v[i]->want_pump = false;
                pump(v[i]);
                conn_unref(v[i]);
            }
            free(v);
        }
        conn_flush_pending();
    } while (pump_list.n || conn_flush_wanted());
}
