/* Blocking use of the client: a private loop run until the awaited thing happens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

struct mu_sync {
    uv_loop_t loop;
    mu_ctx *x;
    uv_timer_t timer;
    bool timed_out;
};

/* uv_run(UV_RUN_ONCE) runs due timers before it polls: a timer that is already due when the run
 * starts fires first, and the poll would then wait for the next event (the 30 s ping timer, if
 * nothing else comes). uv_stop makes that poll return at once. */
static void on_timeout(uv_timer_t *t)
{
    ((mu_sync *)t->data)->timed_out = true;
    uv_stop(t->loop);
}

typedef bool (*pred_fn)(void *arg);

static bool run_until(mu_sync *s, pred_fn pred, void *arg, int timeout_ms)
{
    if (pred(arg))
        return true;
    s->timed_out = false;
    uv_timer_start(&s->timer, on_timeout, (uint64_t)(timeout_ms > 0 ? timeout_ms : 0), 0);
    while (!pred(arg) && !s->timed_out)
        uv_run(&s->loop, UV_RUN_ONCE);
    uv_timer_stop(&s->timer);
    return pred(arg);
}

mu_sync *mu_sync_new(void)
{
    mu_sync *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (uv_loop_init(&s->loop) != 0) {
        free(s);
        return NULL;
    }
    uv_timer_init(&s->loop, &s->timer);
    s->timer.data = s;
    s->x = mu_ctx_new(&s->loop);
    if (!s->x) {
        uv_close((uv_handle_t *)&s->timer, NULL);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
        free(s);
        return NULL;
    }
    return s;
}

uv_loop_t *mu_sync_loop(mu_sync *s)
{
    return &s->loop;
}

static bool connected_or_ended(void *arg)
{
    mu_client *c = arg;
    return c->welcome || c->ended;
}

mu_client *mu_sync_connect(mu_sync *s, const mu_client_opts *o, int timeout_ms, char *err,
                           size_t errlen)
{
    mu_client_opts opts = *o;
    opts.on_event = NULL; /* events queue for mu_sync_event */
    mu_client *c = mu_client_new(s->x, &opts);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->sync = s;
    if (!run_until(s, connected_or_ended, c, timeout_ms) || !c->welcome) {
        if (c->ended && c->close_code)
            snprintf(err, errlen, "the server closed the connection (%d)", c->close_code);
        else if (c->ended && (strstr(c->fail, "SSL") || strstr(c->fail, "ssl") ||
                              strstr(c->fail, "tls") || strstr(c->fail, "TLS")))
            /* lws says this in OpenSSL's words, which do not name the likely cause */
            snprintf(err, errlen,
                     "cannot connect to %s: the TLS handshake failed, for example because the "
                     "server's certificate is not trusted (%s)",
                     o->url ? o->url : "(no url)", c->fail);
        else if (c->ended && !strcmp(c->fail, "closed before established"))
            /* lws's words for a refused connection */
            snprintf(err, errlen,
                     "cannot connect to %s: nothing answered there (is the server "
                     "running, and is the address right?)",
                     o->url ? o->url : "(no url)");
        else if (c->ended)
            snprintf(err, errlen, "cannot connect to %s%s%s", o->url ? o->url : "(no url)",
                     c->fail[0] ? ": " : "", c->fail);
        else
            snprintf(err, errlen, "no welcome from %s within %d ms", o->url, timeout_ms);
        mu_client_free(c);
        return NULL;
    }
    return c;
}

typedef struct {
    bool done, abandoned;
    mu_msg *reply;
} call_slot;

static void on_reply(mu_client *c, const mu_msg *reply, void *ud)
{
    call_slot *slot = ud;
    if (slot->abandoned) {
        free(slot); /* the caller gave up waiting; the library frees the reply */
        return;
    }
    slot->done = true;
    slot->reply = reply ? client_steal(c) : NULL;
}

static bool slot_done(void *arg)
{
    return ((call_slot *)arg)->done;
}

mu_msg *mu_sync_call(mu_sync *s, mu_client *c, mu_req *r, int timeout_ms)
{
    call_slot *slot = calloc(1, sizeof(*slot));
    if (!slot)
        abort();
    if (!mu_client_send(c, r, on_reply, slot)) {
        free(slot);
        return NULL;
    }
    if (!run_until(s, slot_done, slot, timeout_ms)) {
        /* The reply may still come: leave the slot to it rather than free it under it. */
        slot->abandoned = true;
        return NULL;
    }
    mu_msg *m = slot->reply;
    free(slot);
    return m;
}

static bool has_event_or_ended(void *arg)
{
    mu_client *c = arg;
    return c->evq_len > 0 || c->ended;
}

mu_msg *mu_sync_event(mu_sync *s, mu_client *c, int timeout_ms)
{
    run_until(s, has_event_or_ended, c, timeout_ms);
    if (!c->evq_len)
        return NULL;
    mu_msg *m = c->evq[c->evq_head];
    c->evq_head = (c->evq_head + 1) % c->evq_cap;
    c->evq_len--;
    return m;
}

size_t mu_sync_pending(const mu_client *c)
{
    return c->evq_len;
}

static bool ended(void *arg)
{
    return ((mu_client *)arg)->ended;
}

int mu_sync_wait_closed(mu_sync *s, mu_client *c, int timeout_ms)
{
    if (!run_until(s, ended, c, timeout_ms))
        return -1;
    return c->close_code;
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

void mu_sync_run(mu_sync *s, int ms)
{
    run_until(s, never, NULL, ms);
}

void mu_sync_free(mu_sync *s)
{
    if (!s)
        return;
    mu_ctx_stop(s->x);
    uv_close((uv_handle_t *)&s->timer, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    mu_ctx_free(s->x);
    uv_run(&s->loop, UV_RUN_NOWAIT);
    uv_loop_close(&s->loop);
    free(s);
}
