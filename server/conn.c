/* A client connection (see conn.h). Layer: connections. */
#include "conn.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "xalloc.h"

static conn_limits limits;
static size_t input_bound_signed_in = (size_t)128 * 1024;
static mu_conn *all_head;
static size_t nconns;
static uint64_t next_id = 1;

/* Connections with output for the end of this loop iteration; each entry holds a reference. */
typedef struct {
    mu_conn **v;
    size_t n, cap;
} conn_list;
static conn_list flush_list;
/* Connections whose queue drained to half its bound while something waited for it. */
static conn_list drained_list;
static void (*drain_hook)(mu_conn *c);

/* Coalescing under load. A flush is one send per connection, and at high fan-out the kernel's
 * send path is most of the server's time: a pass that sends one message to each of a thousand
 * connections costs milliseconds. When the loop is saturated (it has waited for events less
 * than a quarter of the time since the previous pass began) and a pass took that long, the
 * next waits about twice as long again (never more than FLUSH_HOLD_MAX_US), so that messages
 * gather and each send carries several: the time spent sending stays about a third of the
 * loop's, whatever the rate. A loop with time to spare never holds output back: waiting would
 * only add latency (it did: 13 ms at the median at 150,000 deliveries/s), nor does a pass of a
 * few sends, which takes microseconds. */
#define FLUSH_COSTLY_US 200
#define FLUSH_COSTLY_CONNS 64 /* a pass to fewer is never costly enough to hold back */
#define FLUSH_HOLD_MAX_US 20000
static uint64_t hold_until_us; /* no flush before then (0: none held) */
static bool draining;          /* shutting down: never hold again (conn_flush_release) */
static uint64_t prev_start_us, prev_idle_us; /* at the previous pass */

static uint64_t real_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void conn_init(const conn_limits *l)
{
    limits = *l;
    if (!limits.mono_us)
        limits.mono_us = real_mono_us;
}

static void list_push(conn_list *l, mu_conn *c)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        mu_conn **v = xrealloc(l->v, cap * sizeof(mu_conn *));
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
        mu_conn **b = xcalloc(n, sizeof(mu_conn *));
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

mu_conn *conn_new(struct lws *wsi, const mu_transport *tp)
{
    mu_conn *c = xcalloc(1, sizeof(*c));
    c->wsi = wsi;
    c->tp = tp;
    c->refs = 1; /* the socket's */
    c->id = next_id++;
    c->state = CONN_UNAUTHENTICATED;
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

static void held_clear(mu_conn *c)
{
    for (size_t i = 0; i < c->nheld; i++)
        frame_unref(c->held[i]);
    c->nheld = 0;
    c->held_bytes = 0;
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
    /* The request layer let go of its requests before the last reference could go: the
     * queue at dispatch_conn_gone, the call in progress when it replied. */
    sq_clear(c, false);
    held_clear(c);
    free(c->held);
    free(c->alerts_shown);
    free(c->sq);
    free(c->rx);
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
    c->unauth_since = 0; /* a later sign-out starts a new preauth_timeout_s (transport.c) */
    c->user_id = user_id;
    snprintf(c->handle, sizeof(c->handle), "%s", handle);
    c->role = role;
    memcpy(c->token_hash, token_hash, sizeof(c->token_hash));
    uindex_add(c);
}

void conn_gone(mu_conn *c)
{
    conn_deauthenticate(c);
    c->state = CONN_CLOSING;
    c->wsi = NULL;
    sq_clear(c, false);
    held_clear(c);
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
        mu_frame **v = xmalloc(cap * sizeof(mu_frame *));
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
    c->tp->close_soon(c);
}

void conn_send(mu_conn *c, mu_frame *f)
{
    if (!conn_alive(c) || c->close_code)
        return;
    if ((c->sq_len || c->nheld) && c->sq_bytes + c->held_bytes + f->len > limits.send_queue) {
        /* A slow consumer: cut it off rather than let it hold more memory or anyone's time.
         * What is queued stays, so that it and then the close frame reach a peer that reads
         * again within close_grace_s (the transport drops it after that). */
        METRIC_INC(slow_consumers);
        log_info("connection %llu: send queue over %llu bytes, closing with 1013",
                 (unsigned long long)c->id, (unsigned long long)limits.send_queue);
        conn_close(c, CLOSE_TRY_LATER);
        return;
    }
    if (c->holds) {
        if (c->nheld == c->capheld) {
            c->capheld = c->capheld ? c->capheld * 2 : 8;
            c->held = xreallocarray(c->held, c->capheld, sizeof(mu_frame *));
        }
        c->held[c->nheld++] = frame_ref(f);
        c->held_bytes += f->len;
        return;
    }
    sq_push(c, f);
}

void conn_hold(mu_conn *c)
{
    c->holds++;
}

void conn_release(mu_conn *c)
{
    if (!c->holds || --c->holds)
        return;
    /* A connection closed meanwhile sends nothing more after its close frame. */
    for (size_t i = 0; i < c->nheld && conn_alive(c) && !c->close_code; i++)
        sq_push(c, c->held[i]);
    held_clear(c);
}

void conn_drop_held(mu_conn *c, uint64_t room)
{
    size_t kept = 0;
    for (size_t i = 0; i < c->nheld; i++) {
        mu_frame *f = c->held[i];
        if (f->room == room) {
            c->held_bytes -= f->len;
            frame_unref(f);
        } else {
            c->held[kept++] = f;
        }
    }
    c->nheld = kept;
}

void conn_send_reply(mu_conn *c, mu_frame *f)
{
    if (!conn_alive(c) || c->close_code)
        return;
    sq_push(c, f);
}

bool conn_has_room(mu_conn *c)
{
    if (c->sq_bytes <= limits.send_queue / 2)
        return true;
    c->wait_drain = true;
    return false;
}

void conn_set_drain_hook(void (*fn)(mu_conn *c))
{
    drain_hook = fn;
}

void conn_send_enc(mu_conn *c, mu_enc *e)
{
    mu_frame *f = frame_from_enc(e);
    conn_send(c, f);
    frame_unref(f);
}

size_t conn_take_output(mu_conn *c, unsigned char *dst, size_t cap)
{
    size_t n = 0;
    while (c->sq_len && n < cap) {
        mu_frame *f = c->sq[c->sq_head];
        size_t take = f->len - c->head_off;
        if (take > cap - n)
            take = cap - n;
        memcpy(dst + n, f->data + c->head_off, take);
        n += take;
        c->head_off += take;
        if (c->head_off == f->len) {
            c->sq_bytes -= f->len;
            c->sq_head = (c->sq_head + 1) % c->sq_cap;
            c->sq_len--;
            c->head_off = 0;
            frame_unref(f);
        }
    }
    if (c->wait_drain && c->sq_bytes <= limits.send_queue / 2) {
        c->wait_drain = false;
        list_push(&drained_list, c);
    }
    return n;
}

void conn_pause_reading(mu_conn *c, bool pause)
{
    if (c->rx_paused == pause || !conn_alive(c))
        return;
    c->rx_paused = pause;
    c->tp->pause_reading(c, pause);
}

void conn_set_input_bound(size_t signed_in)
{
    input_bound_signed_in = signed_in;
}

size_t conn_input_bound(const mu_conn *c)
{
    return c->state == CONN_AUTHENTICATED ? input_bound_signed_in : 4 * (size_t)CONN_PREAUTH_FRAME;
}

void conn_flush_pending(void)
{
    /* First whoever waited for room: what they queue goes out in the same flush. */
    conn_list drained = drained_list;
    drained_list = (conn_list){0};
    for (size_t i = 0; i < drained.n; i++) {
        mu_conn *c = drained.v[i];
        if (conn_alive(c) && !c->close_code) {
            if (drain_hook)
                drain_hook(c);
            if (c->refill)
                c->refill(c);
        }
        conn_unref(c);
    }
    free(drained.v);

    if (!flush_list.n)
        return;
    uint64_t start = limits.mono_us();
    if (start < hold_until_us)
        return;
    conn_list work = flush_list;
    flush_list = (conn_list){0};
    for (size_t i = 0; i < work.n; i++) {
        mu_conn *c = work.v[i];
        c->want_flush = false;
        if (conn_alive(c))
            c->tp->flush(c);
        conn_unref(c);
    }
    free(work.v);
    uint64_t end = limits.mono_us(), took = end - start;
    uint64_t idle_now = limits.idle_us ? limits.idle_us() : 0;
    /* Saturated: the loop waited for events for at most a quarter of the time since the
     * previous pass began (the first pass has nothing to go by, and holds nothing). */
    bool saturated = prev_start_us != 0 && (idle_now - prev_idle_us) * 4 <= start - prev_start_us;
    prev_start_us = start;
    prev_idle_us = idle_now;
    hold_until_us = draining || !saturated || took < FLUSH_COSTLY_US || work.n < FLUSH_COSTLY_CONNS
                        ? 0
                        : end + (2 * took < FLUSH_HOLD_MAX_US ? 2 * took : FLUSH_HOLD_MAX_US);
}

bool conn_flush_wanted(void)
{
    return drained_list.n != 0 || (flush_list.n != 0 && conn_flush_held_us() == 0);
}

uint64_t conn_flush_held_us(void)
{
    if (!flush_list.n || !hold_until_us)
        return 0;
    uint64_t now = limits.mono_us();
    return now < hold_until_us ? hold_until_us - now : 0;
}

void conn_flush_release(void)
{
    hold_until_us = 0;
    draining = true;
}

void conn_shutdown(void)
{
    free(ubuckets);
    ubuckets = NULL;
    unbuckets = ucount = 0;
    free(flush_list.v);
    flush_list = (conn_list){0};
    free(drained_list.v);
    drained_list = (conn_list){0};
    drain_hook = NULL;
    hold_until_us = 0;
    draining = false;
    prev_start_us = prev_idle_us = 0;
}
