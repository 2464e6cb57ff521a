#include "conn.h"

#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "session.h"
#include "log.h"
#include "metrics.h"
#include "transport.h"
#include "xalloc.h"

/* Past this many queued requests a connection stops being read until it catches up. */
#define INQ_PAUSE 256
#define INQ_RESUME 32

static mu_conn *all_head;
static size_t nconns;
static uint64_t next_id = 1;

/* Connections with work for the end of this loop iteration; each entry holds a reference. */
typedef struct {
    mu_conn **v;
    size_t n, cap;
} conn_list;
static conn_list pump_list, flush_list;

static void list_push(conn_list *l, mu_conn *c)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        mu_conn **v = xrealloc(l->v, cap * sizeof(*v));
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = conn_ref(c);
}

/* ---- index by user ----------------------------------------------------------------------- */

static mu_conn **ubuckets;
static size_t unbuckets, ucount;

static size_t ubucket(int64_t uid, size_t n)
{
    return (size_t)((uint64_t)uid * 0x9E3779B97F4A7C15ull >> 20) % n;
}

static void uindex_insert_into(mu_conn **b, size_t n, mu_conn *c)
{
    mu_conn **head = &b[ubucket(c->user_id, n)];
    c->u_prev = NULL;
    c->u_next = *head;
    if (*head)
        (*head)->u_prev = c;
    *head = c;
}

static void uindex_add(mu_conn *c)
{
    if (ucount + 1 > unbuckets * 2) {
        size_t n = unbuckets ? unbuckets * 4 : 256;
        mu_conn **b = xcalloc(n, sizeof(*b));
        for (size_t i = 0; i < unbuckets; i++)
            for (mu_conn *x = ubuckets[i], *nx; x; x = nx) {
                nx = x->u_next;
                uindex_insert_into(b, n, x);
            }
        free(ubuckets);
        ubuckets = b;
        unbuckets = n;
    }
    uindex_insert_into(ubuckets, unbuckets, c);
    ucount++;
}

static void uindex_remove(mu_conn *c)
{
    if (c->u_prev)
        c->u_prev->u_next = c->u_next;
    else
        ubuckets[ubucket(c->user_id, unbuckets)] = c->u_next;
    if (c->u_next)
        c->u_next->u_prev = c->u_prev;
    c->u_next = c->u_prev = NULL;
    ucount--;
}

void conn_foreach_user(int64_t user_id, conn_visit_fn fn, void *ud)
{
    if (!unbuckets)
        return;
    for (mu_conn *c = ubuckets[ubucket(user_id, unbuckets)], *n; c; c = n) {
        n = c->u_next; /* fn may close c, which unlinks it */
        if (c->user_id == user_id && c->state == CONN_AUTHENTICATED)
            fn(c, ud);
    }
}

void conn_foreach(conn_visit_fn fn, void *ud)
{
    for (mu_conn *c = all_head, *n; c; c = n) {
        n = c->a_next;
        fn(c, ud);
    }
}

/* ---- life ------------------------------------------------------------------------------- */

mu_conn *conn_new(struct lws *wsi)
{
    mu_conn *c = xcalloc(1, sizeof(*c));
    c->wsi = wsi;
    c->refs = 1; /* the socket's */
    c->id = next_id++;
    c->state = CONN_UNAUTHENTICATED;
    bucket_init(&c->bucket, (double)g_srv->cfg.rate_per_s, (double)g_srv->cfg.burst,
                uv_now(g_srv->loop));
    c->a_next = all_head;
    if (all_head)
        all_head->a_prev = c;
    all_head = c;
    nconns++;
    METRIC_INC(connections);
    METRIC_INC(connections_total);
    return c;
}

bool conn_alive(const mu_conn *c)
{
    return c->wsi != NULL;
}

size_t conn_count(void)
{
    return nconns;
}

mu_conn *conn_ref(mu_conn *c)
{
    c->refs++;
    return c;
}

static void sq_clear(mu_conn *c, bool keep_started_head)
{
    size_t keep = keep_started_head && c->head_off > 0 && c->sq_len ? 1 : 0;
    while (c->sq_len > keep) {
        size_t last = (c->sq_head + c->sq_len - 1) % c->sq_cap;
        c->sq_bytes -= c->sq[last]->len;
        frame_unref(c->sq[last]);
        c->sq_len--;
    }
    if (!keep)
        c->head_off = 0;
}

void conn_unref(mu_conn *c)
{
    if (--c->refs)
        return;
    sq_clear(c, false);
    free(c->sq);
    free(c->rx);
    for (mu_inmsg *m = c->in_head, *n; m; m = n) {
        n = m->next;
        free(m);
    }
    if (c->req) {
        mu_request_free(c->req);
        free(c->req);
    }
    free(c->cur_msg);
    free(c->rooms);
    free(c);
}

void conn_deauthenticate(mu_conn *c)
{
    if (c->state != CONN_AUTHENTICATED)
        return;
    uindex_remove(c);
    c->state = CONN_UNAUTHENTICATED;
    c->user_id = 0;
    c->handle[0] = 0;
    sodium_memzero(c->token_hash, sizeof(c->token_hash));
}

void conn_authenticate(mu_conn *c, int64_t user_id, const char *handle, mu_role role,
                       const uint8_t token_hash[32])
{
    conn_deauthenticate(c);
    if (!conn_alive(c))
        return;
    c->state = CONN_AUTHENTICATED;
    c->user_id = user_id;
    snprintf(c->handle, sizeof(c->handle), "%s", handle);
    c->role = role;
    memcpy(c->token_hash, token_hash, sizeof(c->token_hash));
    uindex_add(c);
}

void conn_gone(mu_conn *c)
{
    session_conn_gone(c);
    conn_deauthenticate(c);
    c->state = CONN_CLOSING;
    c->wsi = NULL;
    sq_clear(c, false);
    if (c->a_prev)
        c->a_prev->a_next = c->a_next;
    else
        all_head = c->a_next;
    if (c->a_next)
        c->a_next->a_prev = c->a_prev;
    nconns--;
    METRIC_DEC(connections);
    conn_unref(c);
}

/* ---- sending ---------------------------------------------------------------------------- */

static void want_flush(mu_conn *c)
{
    if (!c->want_flush) {
        c->want_flush = true;
        list_push(&flush_list, c);
    }
}

static void sq_push(mu_conn *c, mu_frame *f)
{
    if (c->sq_len == c->sq_cap) {
        size_t cap = c->sq_cap ? c->sq_cap * 2 : 8;
        mu_frame **v = xmalloc(cap * sizeof(*v));
        for (size_t i = 0; i < c->sq_len; i++)
            v[i] = c->sq[(c->sq_head + i) % c->sq_cap];
        free(c->sq);
        c->sq = v;
        c->sq_cap = cap;
        c->sq_head = 0;
    }
    c->sq[(c->sq_head + c->sq_len++) % c->sq_cap] = frame_ref(f);
    c->sq_bytes += f->len;
    METRIC_INC(frames_out);
    METRIC_ADD(bytes_out, f->len);
    want_flush(c);
}

void conn_close(mu_conn *c, mu_close_code code)
{
    if (!conn_alive(c) || c->close_code)
        return;
    c->close_code = code;
    if (c->state == CONN_AUTHENTICATED)
        conn_deauthenticate(c);
    c->state = CONN_CLOSING;
    /* The close frame is queued behind what is already queued, so that it goes out last and
     * in order through the same raw writes; lws then only has to wait for the peer's answer. */
    mu_frame *f = frame_close(code);
    sq_push(c, f);
    frame_unref(f);
    transport_close_soon(c);
}

void conn_send(mu_conn *c, mu_frame *f)
{
    if (!conn_alive(c) || c->close_code)
        return;
    if (c->sq_len && c->sq_bytes + f->len > g_srv->cfg.send_queue) {
        /* A slow consumer: cut it off rather than let it hold memory or anyone's time. What it
         * already started receiving is finished so that the close frame parses. */
        METRIC_INC(slow_consumers);
        log_info("connection %llu: send queue over %llu bytes, closing with 1013",
                 (unsigned long long)c->id, (unsigned long long)g_srv->cfg.send_queue);
        sq_clear(c, true);
        conn_close(c, CLOSE_TRY_LATER);
        return;
    }
    sq_push(c, f);
}

void conn_send_enc(mu_conn *c, mu_enc *e)
{
    mu_frame *f = frame_from_enc(e);
    conn_send(c, f);
    frame_unref(f);
}

/* ---- requests --------------------------------------------------------------------------- */

static void want_pump(mu_conn *c)
{
    if (!c->want_pump) {
        c->want_pump = true;
        list_push(&pump_list, c);
    }
}

void conn_on_message(mu_conn *c, const char *data, size_t len, bool text)
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
    m->limited = !bucket_take(&c->bucket, uv_now(g_srv->loop));
    if (c->in_tail)
        c->in_tail->next = m;
    else
        c->in_head = m;
    c->in_tail = m;
    if (++c->in_len >= INQ_PAUSE && !c->rx_paused && c->wsi) {
        c->rx_paused = true;
        lws_rx_flow_control(c->wsi, 0);
    }
    want_pump(c);
}

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
        dispatch_call_ended();
        want_pump(c);
        conn_unref(c); /* the call's reference */
    }
}

static void count_reply(mu_code code)
{
    METRIC_INC(replies[code < MU_E__COUNT ? code : MU_E_INTERNAL]);
}

void conn_reply_begin(mu_conn *c, mu_enc *e, uint32_t nfields)
{
    frame_enc_init(e);
    mu_enc_reply_ok(e, c->req->rid, nfields);
}

void conn_reply_list(mu_conn *c, const char *key, uint32_t n, mu_enc *items)
{
    mu_enc e;
    conn_reply_begin(c, &e, 1);
    mu_enc_key(&e, key);
    mu_enc_array(&e, n);
    mu_enc_append(&e, items);
    conn_reply(c, &e);
}

void conn_reply(mu_conn *c, mu_enc *e)
{
    count_reply(MU_OK);
    conn_send_enc(c, e);
    mu_enc_free(e);
    finish_call(c);
}

void conn_reply_empty(mu_conn *c)
{
    mu_enc e;
    conn_reply_begin(c, &e, 0);
    conn_reply(c, &e);
}

static void send_error(mu_conn *c, bool has_rid, uint64_t rid, mu_code code, const char *msg)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_reply_err(&e, has_rid, rid, code, msg);
    count_reply(code);
    conn_send_enc(c, &e);
    mu_enc_free(&e);
}

void conn_reply_err(mu_conn *c, mu_code code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (code == MU_E_INTERNAL)
        log_error("connection %llu: internal error in %s: %s", (unsigned long long)c->id,
                  c->req->op ? c->req->op->name : "?", msg);
    send_error(c, c->req->has_rid, c->req->rid, code, msg);
    finish_call(c);
}

/* Handles queued requests until one has to wait (for a hash, a commit) or none is left. */
static void pump(mu_conn *c)
{
    while (!c->busy && c->in_head && conn_alive(c) && !c->close_code) {
        mu_inmsg *m = c->in_head;
        c->in_head = m->next;
        if (!c->in_head)
            c->in_tail = NULL;
        c->in_len--;
        c->cur_msg = m;
        c->req = xmalloc(sizeof(*c->req));
        mu_request_init(c->req);
        c->busy = true;
        dispatch_call_started();
        conn_ref(c); /* the call's: the socket may go while the call waits */
        dispatch_request(c, m);
    }
    if (c->rx_paused && c->in_len <= INQ_RESUME && c->wsi) {
        c->rx_paused = false;
        lws_rx_flow_control(c->wsi, 1);
    }
}

void conn_malformed(mu_conn *c, const mu_error *err);
void conn_malformed(mu_conn *c, const mu_error *err)
{
    METRIC_INC(malformed_frames);
    c->bad_frames++;
    send_error(c, c->req->has_rid, c->req->rid, MU_E_BAD_REQUEST, err->msg);
    finish_call(c);
    if (c->bad_frames >= 5) {
        log_info("connection %llu: 5 malformed frames, closing with 1008",
                 (unsigned long long)c->id);
        conn_close(c, CLOSE_POLICY);
    }
}

void conn_run_pending(void)
{
    /* Pumping can queue more pumps (a finished call) and flushes; loop until both settle.
     * Each connection handles at most its queued requests, so this ends. */
    while (pump_list.n || flush_list.n) {
        conn_list work = pump_list;
        pump_list = (conn_list){0};
        for (size_t i = 0; i < work.n; i++) {
            mu_conn *c = work.v[i];
            c->want_pump = false;
            pump(c);
            conn_unref(c);
        }
        free(work.v);
        if (pump_list.n)
            continue;
        work = flush_list;
        flush_list = (conn_list){0};
        for (size_t i = 0; i < work.n; i++) {
            mu_conn *c = work.v[i];
            c->want_flush = false;
            if (conn_alive(c))
                transport_flush(c);
            conn_unref(c);
        }
        free(work.v);
    }
}

void conn_shutdown(void)
{
    free(ubuckets);
    ubuckets = NULL;
    unbuckets = ucount = 0;
    free(pump_list.v);
    free(flush_list.v);
    pump_list = flush_list = (conn_list){0};
}
