/* Read calls (see reads.h). Layer: requests. */
#include "reads.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "context.h"
#include "db.h"
#include "log.h"
#include "xalloc.h"

/* Its own thread and connection, apart from the one that reads other nodes' changes for the
 * rooms: a slow answer to one person's request never holds up a meeting's delivery. */
static mu_fetcher *fetcher;
static bool stopping;

static void outcome_reset(read_call *rc)
{
    mu_enc_free(&rc->body);
    mu_enc_init(&rc->body, 0);
    rc->nfields = 0;
    rc->code = MU_OK;
    rc->msg[0] = '\0';
}

/* A run's outcome, noting whether a failure was the database out of reach (no connection,
 * or one lost on the way). */
static bool lost_if_failed(bool ok, mu_reader *r, bool *lost)
{
    *lost = !ok && (!r || db_lost(store_reader_db(r)));
    return ok;
}

static bool run_on(mu_fetch *f, mu_reader *r)
{
    read_call *rc = (read_call *)f;
    outcome_reset(rc);
    return lost_if_failed(r && rc->run(rc, r), r, &rc->lost);
}

static void done(mu_fetch *f, bool ok)
{
    read_call *rc = (read_call *)f;
    mu_conn *c = rc->c;
    if (!ok && (rc->lost || stopping)) {
        reply_err(c, MU_E_UNAVAILABLE, "The database cannot be reached just now; try again.");
    } else if (!ok) {
        reply_read_failed(c, rc->what);
    } else if (rc->code != MU_OK) {
        reply_err(c, rc->code, "%s", rc->msg);
    } else if (rc->then) {
        rc->then(rc);
    } else {
        mu_enc e;
        reply_begin(c, &e, rc->nfields);
        mu_enc_append(&e, &rc->body); /* frees body */
        mu_enc_init(&rc->body, 0);
        reply_end(c, &e);
    }
    if (rc->release)
        rc->release(rc);
    mu_enc_free(&rc->body);
    conn_unref(c);
    free(rc);
}

read_call *reads_new(mu_conn *c, size_t size, read_run_fn run, const char *what)
{
    read_call *rc = xcalloc(1, size < sizeof(*rc) ? sizeof(*rc) : size);
    rc->f.run = run_on;
    rc->f.done = done;
    rc->c = conn_ref(c); /* the request's own ends with its reply, before release */
    rc->req = c->req;
    rc->user = c->user_id;
    rc->role = c->role;
    rc->what = what;
    rc->run = run;
    mu_enc_init(&rc->body, 0);
    return rc;
}

void reads_submit(read_call *rc)
{
    if (fetcher) {
        store_fetch(fetcher, &rc->f);
        return;
    }
    done(&rc->f, run_on(&rc->f, store_reader(g_srv->store)));
}

bool reads_ok(read_call *rc, uint32_t nfields)
{
    rc->nfields = nfields;
    return true;
}

bool reads_list(read_call *rc, const char *key, uint32_t n, mu_enc *items)
{
    mu_enc_key(&rc->body, key);
    mu_enc_array(&rc->body, n);
    mu_enc_append(&rc->body, items);
    return reads_ok(rc, 1);
}

bool reads_same_account(read_call *rc, bool found)
{
    mu_conn *c = rc->c;
    if (!conn_alive(c) || c->user_id != rc->user) {
        reply_err(c, MU_E_UNAUTHENTICATED, "You signed out while this was being checked.");
        return false;
    }
    if (!found) { /* erased meanwhile, through another connection */
        reply_err(c, MU_E_UNAUTHENTICATED, "This account no longer exists.");
        return false;
    }
    return true;
}

bool reads_refuse(read_call *rc, mu_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rc->msg, sizeof(rc->msg), fmt, ap);
    va_end(ap);
    rc->code = code;
    return true;
}

static bool conn_run(mu_fetch *f, mu_reader *r)
{
    conn_read *cr = (conn_read *)f;
    return lost_if_failed(r && cr->run(cr, r), r, &cr->lost);
}

/* A failed conn read waiting to be made again; in a list so that stopping can end it. */
typedef struct retry {
    uv_timer_t t;
    conn_read *cr;
    struct retry *prev, *next;
} retry;
static retry *retries;

enum { RETRY_FIRST_MS = 250, RETRY_MAX_MS = 15000, RETRY_OTHER = 5 };

static void conn_submit(conn_read *cr);

static void retry_closed(uv_handle_t *h)
{
    free(h->data);
}

static void retry_unlink(retry *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        retries = t->next;
    if (t->next)
        t->next->prev = t->prev;
    uv_close((uv_handle_t *)&t->t, retry_closed);
}

static bool worth_retrying(const conn_read *cr)
{
    const mu_conn *c = cr->c;
    return !cr->once && (cr->lost || cr->fails < RETRY_OTHER) && !stopping && conn_alive(c) &&
           !c->close_code && c->state == CONN_AUTHENTICATED && c->session_gen == cr->gen;
}

static void conn_done(mu_fetch *f, bool ok);

static void retry_fire(uv_timer_t *h)
{
    retry *t = h->data;
    conn_read *cr = t->cr;
    retry_unlink(t);
    if (worth_retrying(cr))
        conn_submit(cr);
    else
        conn_done(&cr->f, false); /* the session ended meanwhile */
}

static void retry_later(conn_read *cr)
{
    int shift = cr->fails < 6 ? cr->fails : 6;
    uint64_t ms = (uint64_t)RETRY_FIRST_MS << shift;
    if (ms > RETRY_MAX_MS)
        ms = RETRY_MAX_MS;
    if (cr->fails % 20 == 0) /* the first, then now and then */
        log_error("connection %llu: could not read %s; trying again in %llu ms",
                  (unsigned long long)cr->c->id, cr->what, (unsigned long long)ms);
    cr->fails++;
    retry *t = xcalloc(1, sizeof(*t));
    t->cr = cr;
    t->t.data = t;
    uv_timer_init(g_srv->loop, &t->t);
    uv_timer_start(&t->t, retry_fire, ms, 0);
    t->next = retries;
    if (retries)
        retries->prev = t;
    retries = t;
}

static void conn_done(mu_fetch *f, bool ok)
{
    conn_read *cr = (conn_read *)f;
    mu_conn *c = cr->c;
    if (!ok && worth_retrying(cr)) {
        retry_later(cr); /* keeps the reference */
        return;
    }
    if (!ok && !stopping)
        log_error("connection %llu: could not read %s", (unsigned long long)c->id, cr->what);
    cr->done(cr, ok);
    conn_unref(c);
}

static void conn_submit(conn_read *cr)
{
    if (fetcher)
        store_fetch(fetcher, &cr->f);
    else
        conn_done(&cr->f, conn_run(&cr->f, store_reader(g_srv->store)));
}

void reads_for_conn(mu_conn *c, conn_read *cr)
{
    cr->c = conn_ref(c);
    cr->gen = c->session_gen;
    cr->fails = 0;
    cr->f.run = conn_run;
    cr->f.done = conn_done;
    conn_submit(cr);
}

void reads_start(mu_server *s)
{
    stopping = false;
    if (db_is_url(s->cfg.db))
        fetcher = store_fetcher_start(s->store, s->loop);
}

void reads_stop(void)
{
    stopping = true;
    store_fetcher_stop(fetcher);
    fetcher = NULL;
    while (retries) {
        retry *t = retries;
        conn_read *cr = t->cr;
        retry_unlink(t);
        conn_done(&cr->f, false);
    }
}
