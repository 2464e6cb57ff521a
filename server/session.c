/* Sign-in and sign-out hooks (see session.h). Layer: concerns, over requests and storage. */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "clock.h"
#include "context.h"
#include "dispatch.h"
#include "dm.h"
#include "events.h"
#include "log.h"
#include "peers.h"
#include "reads.h"
#include "rooms.h"
#include "store_users.h"
#include "xalloc.h"

/* The pushes after sign-in go out as the send queue drains, never past its bound: a backlog
 * of thousands of messages must not cut off the connection it is meant for. Each page is read
 * off the loop; while the push lasts, new messages for the user are left to it (dm.c), and a
 * message stored after its last read began is read by one more. */
enum { PUSH_PAGE = 32 };

typedef struct {
    conn_read cr;
    unsigned gen;
    int64_t user, after;
    int n;
    dm_event rows[PUSH_PAGE];
} page_read;

static void push_read(mu_conn *c);

static void push_on_drain(mu_conn *c)
{
    c->refill = NULL;
    if (c->push_busy)
        push_read(c);
}

static void page_free_rows(page_read *p)
{
    for (int i = 0; i < p->n; i++)
        mu_enc_free(&p->rows[i].ev);
    p->n = 0;
}

static bool page_run(conn_read *cr, mu_reader *r)
{
    page_read *p = (page_read *)cr;
    page_free_rows(p); /* from a run before, on a connection lost since */
    p->n = dm_unread_page(r, p->user, p->after, p->rows, PUSH_PAGE);
    if (p->n < 0) {
        p->n = 0;
        return false;
    }
    return true;
}

static bool still_signed_in(const mu_conn *c, unsigned gen)
{
    return conn_alive(c) && !c->close_code && c->state == CONN_AUTHENTICATED &&
           c->session_gen == gen;
}

static void page_done(conn_read *cr, bool ok)
{
    page_read *p = (page_read *)cr;
    mu_conn *c = cr->c;
    if (!ok && still_signed_in(c, p->gen)) {
        /* Tried again and given up (reads.h): new messages go live again; what was unread
         * shows at the next sign-in. */
        c->push_busy = false;
    } else if (ok && still_signed_in(c, p->gen)) {
        int i = 0;
        for (; i < p->n && conn_has_room(c); i++) {
            conn_send_enc(c, &p->rows[i].ev);
            c->push_after = p->rows[i].id;
        }
        if (i < p->n)
            c->refill = push_on_drain; /* the rest is read again once the queue drains */
        else if (p->n == PUSH_PAGE || c->push_missed)
            push_read(c);
        else
            c->push_busy = false;
    }
    page_free_rows(p);
    free(p);
}

static void push_read(mu_conn *c)
{
    c->push_missed = false;
    page_read *p = xcalloc(1, sizeof(*p));
    p->gen = c->session_gen;
    p->user = c->user_id;
    p->after = c->push_after;
    p->cr.what = "unread messages";
    p->cr.run = page_run;
    p->cr.done = page_done;
    reads_for_conn(c, &p->cr);
}

void session_signed_in(mu_conn *c)
{
    c->session_gen++;
    c->push_after = 0;
    c->push_busy = true;
    /* The open alerts first (their read is queued before the first page's): a mentor's alerts
     * never wait for a backlog of messages, and go into a queue with room for them. */
    alerts_push_open(c);
    push_read(c);
}

void session_signed_out(mu_conn *c)
{
    c->session_gen++;
    c->refill = NULL;
    c->push_busy = false;
    c->alerts_busy = false;
    free(c->alerts_shown);
    c->alerts_shown = NULL;
    c->nalerts_shown = 0;
    rooms_leave_all(c);
    conn_deauthenticate(c);
}

void session_conn_gone(mu_conn *c)
{
    rooms_leave_all(c);
}

bool session_attempt_begin(mu_conn *c, const char *handle, const mu_netaddr *a, int64_t *started)
{
    int64_t now = clock_now_ms();
    int64_t wait = throttle_wait(g_srv->throttle, handle, a, now);
    if (wait > 0) {
        reply_err_retry(c, wait,
                        "Too many failed sign-ins for this handle from here; wait and try again.");
        return false;
    }
    wait = peers_login_wait(a, now);
    if (wait > 0) {
        reply_err_retry(c, wait, "Too many failed sign-ins from this address; wait and try again.");
        return false;
    }
    throttle_fail(g_srv->throttle, handle, a, now);
    peers_login_started(a, now);
    *started = now;
    return true;
}

void session_attempt_passed(const char *handle, const mu_netaddr *a, int64_t started, bool clear)
{
    if (clear)
        throttle_clear(g_srv->throttle, handle, a);
    else
        throttle_unfail(g_srv->throttle, handle, a, started);
    peers_login_succeeded(a, started);
}

/* ---- what another node did to a user's sessions (events.h) ------------------------------ */

static void close_with(mu_conn *c, void *ud)
{
    conn_close(c, *(const int *)ud);
}

/* password.set there: every other session of the user was revoked. */
static void on_revoked(int64_t user, int64_t b, int64_t c, const char *word)
{
    (void)word;
    (void)b;
    (void)c;
    int code = CLOSE_POLICY;
    conn_foreach_user(user, close_with, &code);
}

/* me.delete (or an admin's erasure) there: the account is gone. */
static void on_erased(int64_t user, int64_t b, int64_t c, const char *word)
{
    (void)word;
    (void)b;
    (void)c;
    rooms_forget_user(user);
    int code = CLOSE_NORMAL;
    conn_foreach_user(user, close_with, &code);
}

typedef struct {
    mu_job job;
    int64_t user, actor;
    mu_role role;
    char by[MU_HANDLE_MAX + 1];
} role_op;

static mu_code role_run(mu_job *j, mu_wtx *w)
{
    role_op *o = (role_op *)j;
    return store_users_handle_w(w, o->actor, o->by) < 0 ? MU_E_INTERNAL : MU_OK;
}

static void set_role(mu_conn *c, void *ud)
{
    c->role = *(const mu_role *)ud;
    /* What the push showed was for the old role: an alert now escalated to them is new. */
    free(c->alerts_shown);
    c->alerts_shown = NULL;
    c->nalerts_shown = 0;
}

static void role_done(mu_job *j)
{
    role_op *o = (role_op *)j;
    conn_foreach_user(o->user, set_role, &o->role);
    rooms_role_changed(o->user, o->role, o->by[0] ? o->by : "admin");
    free(o);
}

/* user.role there: the user's connections here act with the new role at once. */
static void on_role(int64_t user, int64_t role, int64_t actor, const char *word)
{
    (void)word;
    if (role < 0 || role > ROLE_ADMIN)
        return;
    role_op *o = xcalloc(1, sizeof(*o));
    o->user = user;
    o->role = (mu_role)role;
    o->actor = actor;
    o->job.run = role_run;
    o->job.done = role_done;
    store_submit(g_srv->store, &o->job);
}

/* After the listening connection was down: every session here is checked against the
 * database, so that one revoked or erased meanwhile closes, and a changed role applies. */
typedef struct {
    mu_job job;
    size_t n, cap;
    struct checked {
        mu_conn *c;
        uint8_t hash[32];
        mu_role role;
        int found; /* 1 the session stands, 0 it is gone, -1 unknown (a read failed) */
    } * v;
} check_op;

static void collect_session(mu_conn *c, void *ud)
{
    check_op *o = ud;
    if (c->state != CONN_AUTHENTICATED)
        return;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
    }
    o->v[o->n].c = conn_ref(c);
    memcpy(o->v[o->n].hash, c->token_hash, sizeof(o->v[o->n].hash));
    o->n++;
}

static mu_code check_run(mu_job *j, mu_wtx *w)
{
    check_op *o = (check_op *)j;
    for (size_t i = 0; i < o->n; i++)
        if ((o->v[i].found = store_users_session_w(w, o->v[i].hash, &o->v[i].role)) < 0)
            return MU_E_INTERNAL; /* nothing is closed on a guess */
    return MU_OK;
}

static void check_done(mu_job *j)
{
    check_op *o = (check_op *)j;
    for (size_t i = 0; i < o->n; i++) {
        mu_conn *c = o->v[i].c;
        bool same = c->state == CONN_AUTHENTICATED &&
                    memcmp(c->token_hash, o->v[i].hash, sizeof(o->v[i].hash)) == 0;
        if (same && j->result == MU_OK && o->v[i].found == 0) {
            conn_close(c, CLOSE_POLICY);
        } else if (same && j->result == MU_OK && o->v[i].found == 1 && o->v[i].role != c->role) {
            mu_role role = o->v[i].role;
            conn_foreach_user(c->user_id, set_role, &role);
            rooms_role_changed(c->user_id, role, "admin");
        }
        conn_unref(c);
    }
    free(o->v);
    free(o);
}

static void sessions_catch_up(void)
{
    check_op *o = xcalloc(1, sizeof(*o));
    conn_foreach(collect_session, o);
    o->job.run = check_run;
    o->job.done = check_done;
    store_submit(g_srv->store, &o->job);
}

void session_events_init(void)
{
    events_on("revoked", on_revoked, sessions_catch_up);
    events_on("erased", on_erased, NULL);
    events_on("role", on_role, NULL);
}
