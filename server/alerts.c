/* Alerts to peer mentors: raising, delivery, alerts.list, alert.ack and the missed check-in
 * scan (see alerts.h). Layer: concerns, over requests and storage. */
#include "alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "context.h"
#include "events.h"
#include "handlers.h"
#include "log.h"
#include "reads.h"
#include "scoring.h"
#include "store_admin.h"
#include "store_alerts.h"
#include "xalloc.h"

/* The alert's fields: five, and `escalated: true` when it went to the admins. */
static uint32_t alert_nfields(bool escalated)
{
    return escalated ? 6 : 5;
}

static void enc_alert(mu_enc *e, int64_t id, const char *kind, const char *handle, int64_t ts,
                      const char *detail, bool escalated)
{
    mu_enc_kint(e, "id", id);
    mu_enc_kstr(e, "kind", kind);
    mu_enc_kstr(e, "handle", handle);
    mu_enc_kint(e, "ts", ts);
    mu_enc_kstr(e, "detail", detail);
    if (escalated)
        mu_enc_kbool(e, "escalated", true);
}

mu_code alerts_audit_escalation(mu_wtx *w, const alert_out *a, int64_t ts)
{
    /* "(server)" cannot be a handle: nobody did this but the clock. */
    return store_admin_audit_add_detail(w, ts, 0, "(server)", "escalate", a->user, a->handle, NULL,
                                        a->kind);
}

mu_code alerts_raise(mu_wtx *w, int64_t user, const char *handle, int64_t mentor, const char *kind,
                     const char *detail, int64_t ts, alert_out *out)
{
    memset(out, 0, sizeof(*out));
    mu_code c = store_alerts_insert(w, user, mentor, kind, ts, detail, &out->id);
    if (c != MU_OK)
        return c;
    out->mentor = mentor;
    out->user = user;
    out->ts = ts;
    out->escalated = mentor == 0;
    snprintf(out->kind, sizeof(out->kind), "%s", kind);
    snprintf(out->handle, sizeof(out->handle), "%s", handle);
    snprintf(out->detail, sizeof(out->detail), "%s", detail);
    c = out->escalated ? alerts_audit_escalation(w, out, ts) : MU_OK;
    return c == MU_OK ? events_publish(w, "alert", out->id, 0, 0) : c;
}

/* A connection whose open alerts are still to be pushed gets this one from the push; one that
 * the push showed (read after it was stored, heard of after) is not shown again. */
typedef struct {
    mu_frame *f;
    int64_t id;
} live_alert;

static bool pushed_already(mu_conn *c, int64_t id)
{
    for (uint32_t i = 0; i < c->nalerts_shown; i++)
        if (c->alerts_shown[i] == id)
            return true;
    return false;
}

static void send_unless_pushing(mu_conn *c, const live_alert *a)
{
    if (c->alerts_busy)
        c->alerts_missed = true;
    else if (!pushed_already(c, a->id))
        conn_send(c, a->f);
}

static void send_frame(mu_conn *c, void *ud)
{
    if (c->role == ROLE_MENTOR)
        send_unless_pushing(c, ud);
}

static void send_admin(mu_conn *c, void *ud)
{
    if (c->state == CONN_AUTHENTICATED && c->role == ROLE_ADMIN)
        send_unless_pushing(c, ud);
}

static events_shown shown; /* alerts this node has delivered (events.h) */

void alerts_deliver(const alert_out *a)
{
    events_shown_before(&shown, a->id);
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, MU_OP_EV_ALERT, alert_nfields(a->escalated));
    enc_alert(&e, a->id, a->kind, a->handle, a->ts, a->detail, a->escalated);
    live_alert l = {frame_from_enc(&e), a->id};
    mu_enc_free(&e);
    if (a->escalated)
        conn_foreach(send_admin, &l);
    else
        conn_foreach_user(a->mentor, send_frame, &l);
    frame_unref(l.f);
}

/* The open alerts a mentor (their own) or an admin (the escalated) is shown at sign-in, read
 * off the loop and encoded there as alert events. */
typedef struct {
    conn_read cr;
    unsigned gen;
    int64_t user;
    mu_role role;
    mu_enc *evs;
    int64_t *ids; /* each one's alert */
    size_t n, cap;
} open_read;

static void push_one(const alert_row *a, void *ud)
{
    open_read *o = ud;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 8;
        o->evs = xreallocarray(o->evs, o->cap, sizeof(*o->evs));
        o->ids = xreallocarray(o->ids, o->cap, sizeof(*o->ids));
    }
    o->ids[o->n] = a->id;
    mu_enc *e = &o->evs[o->n++];
    frame_enc_init(e);
    mu_enc_event(e, MU_OP_EV_ALERT, alert_nfields(a->escalated));
    enc_alert(e, a->id, a->kind, a->handle, a->ts, a->detail, a->escalated);
}

static void open_free_evs(open_read *o)
{
    for (size_t i = 0; i < o->n; i++)
        mu_enc_free(&o->evs[i]);
    o->n = 0;
}

static bool open_run(conn_read *cr, mu_reader *r)
{
    open_read *o = (open_read *)cr;
    open_free_evs(o); /* from a run before, on a connection lost since */
    int rc = o->role == ROLE_MENTOR ? store_alerts_of_mentor(r, o->user, true, push_one, o)
                                    : store_alerts_escalated(r, true, push_one, o);
    return rc >= 0;
}

static void open_done(conn_read *cr, bool ok)
{
    open_read *o = (open_read *)cr;
    mu_conn *c = cr->c;
    bool current = conn_alive(c) && c->state == CONN_AUTHENTICATED && c->session_gen == o->gen;
    if (!ok && current)
        c->alerts_busy = false; /* given up (reads.h): new alerts go live again */
    current = current && ok;
    bool again = current && c->alerts_missed; /* one came that this read may not show */
    for (size_t i = 0; current && !again && i < o->n; i++)
        conn_send_enc(c, &o->evs[i]);
    if (current && !again) {
        free(c->alerts_shown);
        c->alerts_shown = o->ids; /* the connection's now */
        c->nalerts_shown = (uint32_t)o->n;
        o->ids = NULL;
    }
    open_free_evs(o);
    free(o->evs);
    free(o->ids);
    free(o);
    if (again)
        alerts_push_open(c);
    else if (current)
        c->alerts_busy = false;
}

void alerts_push_open(mu_conn *c)
{
    free(c->alerts_shown);
    c->alerts_shown = NULL;
    c->nalerts_shown = 0;
    c->alerts_missed = false;
    c->alerts_busy = c->role == ROLE_MENTOR || c->role == ROLE_ADMIN;
    if (!c->alerts_busy)
        return;
    open_read *o = xcalloc(1, sizeof(*o));
    o->gen = c->session_gen;
    o->user = c->user_id;
    o->role = c->role;
    o->cr.what = "open alerts";
    o->cr.run = open_run;
    o->cr.done = open_done;
    reads_for_conn(c, &o->cr);
}

/* ---- alerts.list, alert.ack ------------------------------------------------------------- */

typedef struct {
    mu_enc body;
    uint32_t n;
} list_out;

static void list_one(const alert_row *a, void *ud)
{
    list_out *o = ud;
    mu_enc_map(&o->body, alert_nfields(a->escalated) + 1);
    enc_alert(&o->body, a->id, a->kind, a->handle, a->ts, a->detail, a->escalated);
    mu_enc_kbool(&o->body, "open", a->open);
    o->n++;
}

typedef struct {
    read_call rc;
    bool open_only;
} list_call;

static bool list_run(read_call *rc, mu_reader *r)
{
    list_call *k = (list_call *)rc;
    list_out o = {0};
    mu_enc_init(&o.body, 0);
    /* a mentor's own; an admin sees what was escalated */
    int n = rc->role == ROLE_MENTOR
                ? store_alerts_of_mentor(r, rc->user, k->open_only, list_one, &o)
                : store_alerts_escalated(r, k->open_only, list_one, &o);
    if (n < 0) {
        mu_enc_free(&o.body);
        return false;
    }
    return reads_list(rc, "alerts", o.n, &o.body);
}

void op_alerts_list(mu_conn *c, mu_request *r)
{
    if (c->role != ROLE_MENTOR && c->role != ROLE_ADMIN) {
        reply_err(c, MU_E_FORBIDDEN, "Only a peer mentor or an admin receives alerts.");
        return;
    }
    const mu_val *open = mu_req_field(r, "open");
    list_call *k = (list_call *)reads_new(c, sizeof(*k), list_run, "alerts");
    k->open_only = open->present ? open->v.b : true;
    reads_submit(&k->rc);
}

typedef struct {
    mu_job job;
    mu_conn *c;
    int64_t id, ts, user;
    mu_role role;
} ack_op;

/* Whose the alert is is decided in the write, so that no read on the loop waits for it. */
static mu_code ack_run(mu_job *j, mu_wtx *w)
{
    ack_op *o = (ack_op *)j;
    int64_t owner = 0;
    bool escalated = false;
    int f = store_alerts_owner_w(w, o->id, &owner, &escalated);
    if (f < 0)
        return MU_E_INTERNAL;
    /* the mentor's own, or for an admin one that was escalated */
    if (!f || !(o->role == ROLE_MENTOR ? owner == o->user : escalated))
        return MU_E_NOT_FOUND;
    return store_alerts_close(w, o->id, o->ts);
}

static void ack_done(mu_job *j)
{
    ack_op *o = (ack_op *)j;
    if (j->result == MU_E_NOT_FOUND)
        reply_err(o->c, MU_E_NOT_FOUND, "You have no alert with that id.");
    else if (j->result != MU_OK)
        reply_write_failed(o->c, j->result, "the alert was not closed");
    else
        reply_empty(o->c);
    conn_unref(o->c);
    free(o);
}

void op_alert_ack(mu_conn *c, mu_request *r)
{
    if (c->role != ROLE_MENTOR && c->role != ROLE_ADMIN) {
        reply_err(c, MU_E_FORBIDDEN, "Only a peer mentor or an admin receives alerts.");
        return;
    }
    ack_op *o = xcalloc(1, sizeof(*o));
    o->c = conn_ref(c);
    o->id = (int64_t)mu_req_field(r, "id")->v.u;
    o->user = c->user_id;
    o->role = c->role;
    o->ts = clock_now_ms();
    o->job.run = ack_run;
    o->job.done = ack_done;
    store_submit(g_srv->store, &o->job);
}

/* ---- missed check-ins ------------------------------------------------------------------- */

typedef struct {
    mu_job job;
    int64_t now;
    alert_out *out;
    size_t n, cap;
    mu_wtx *w;
    mu_code err;
} scan_job;

static void scan_candidate(const missed_candidate *m, void *ud)
{
    scan_job *s = ud;
    int32_t today = local_day(s->now, m->tz);
    int missed_days = (int)g_srv->cfg.missed_days;
    /* A check-in on day D and none on D+1 .. D+missed_days raises it on D+missed_days+1. */
    if (today < m->last_day + missed_days + 1 || s->err != MU_OK)
        return;
    char date[11], detail[200];
    mu_date_format(m->last_day, date);
    snprintf(detail, sizeof(detail), "No check-in for %d days; the last one was on %s.",
             (int)(today - m->last_day - 1), date);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->out = xrealloc(s->out, s->cap * sizeof(*s->out));
    }
    s->err = alerts_raise(s->w, m->user, m->handle, m->mentor, "missed_checkins", detail, s->now,
                          &s->out[s->n]);
    if (s->err == MU_OK)
        s->err = store_alerts_missed_mark(s->w, m->user, m->last_day);
    if (s->err == MU_OK)
        s->n++;
}

static mu_code scan_run(mu_job *j, mu_wtx *w)
{
    scan_job *s = (scan_job *)j;
    s->w = w;
    mu_code c = store_alerts_missed_candidates(w, scan_candidate, s);
    return c != MU_OK ? c : s->err;
}

static void scan_done(mu_job *j)
{
    scan_job *s = (scan_job *)j;
    if (j->result == MU_OK)
        for (size_t i = 0; i < s->n; i++)
            alerts_deliver(&s->out[i]);
    else
        log_error("the missed check-in scan failed; it runs again at the next interval");
    free(s->out);
    free(s);
}

static uv_timer_t scan_timer;
static bool scan_started;

static void scan_now(void *ud)
{
    mu_server *srv = ud;
    if (!srv->store || srv->stopping)
        return;
    scan_job *s = xcalloc(1, sizeof(*s));
    s->now = clock_now_ms();
    s->job.run = scan_run;
    s->job.done = scan_done;
    store_submit(srv->store, &s->job);
}

static void on_scan_timer(uv_timer_t *t)
{
    scan_now(t->data);
}

void alerts_start(mu_server *s)
{
    uv_timer_init(s->loop, &scan_timer);
    scan_timer.data = s;
    uint64_t every = s->cfg.missed_scan_s * 1000;
    uv_timer_start(&scan_timer, on_scan_timer, every, every);
    clock_observe(scan_now, s);
    scan_started = true;
}

void alerts_stop(void)
{
    if (scan_started) {
        uv_timer_stop(&scan_timer);
        uv_close((uv_handle_t *)&scan_timer, NULL);
        scan_started = false;
    }
}

/* ---- alerts another node raised or escalated (events.h) -------------------------------- */

typedef struct {
    mu_job job;
    int64_t id, after; /* one alert (id), or a catch-up: those above `after` */
    size_t n, cap;
    alert_row *v;
} remote_op;

static void collect_remote(const alert_row *a, void *ud)
{
    remote_op *o = ud;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 4;
        o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
    }
    o->v[o->n++] = *a;
}

static mu_code remote_run(mu_job *j, mu_wtx *w)
{
    remote_op *o = (remote_op *)j;
    if (o->id) {
        alert_row a;
        int f = store_alerts_get_w(w, o->id, &a);
        if (f == 1)
            collect_remote(&a, o);
        return f < 0 ? MU_E_INTERNAL : MU_OK;
    }
    return store_alerts_after_w(w, o->after, 500, collect_remote, o) < 0 ? MU_E_INTERNAL : MU_OK;
}

static void remote_done(mu_job *j)
{
    remote_op *o = (remote_op *)j;
    for (size_t i = 0; i < o->n; i++) {
        const alert_row *a = &o->v[i];
        /* An escalation comes back with the id it was raised under: shown again, to the
         * admins. A catch-up shows only what this node never showed. */
        bool seen = events_shown_before(&shown, a->id);
        if (!a->open || (seen && (!o->id || !a->escalated)))
            continue;
        alert_out out = {.id = a->id,
                         .mentor = a->mentor_id,
                         .user = a->user_id,
                         .ts = a->ts,
                         .escalated = a->escalated};
        memcpy(out.kind, a->kind, sizeof(out.kind));
        memcpy(out.handle, a->handle, sizeof(out.handle));
        memcpy(out.detail, a->detail, sizeof(out.detail));
        alerts_deliver(&out);
    }
    if (j->result != MU_OK)
        log_warn("an alert raised on another node could not be read; it is shown at sign-in");
    free(o->v);
    free(o);
}

static void remote_read(int64_t id, int64_t after)
{
    remote_op *o = xcalloc(1, sizeof(*o));
    o->id = id;
    o->after = after;
    o->job.run = remote_run;
    o->job.done = remote_done;
    store_submit(g_srv->store, &o->job);
}

static void on_alert_event(int64_t id, int64_t b, int64_t c, const char *word)
{
    (void)word;
    (void)b;
    (void)c;
    if (id > 0)
        remote_read(id, 0);
}

static void alerts_catch_up(void)
{
    remote_read(0, events_catch_up_after(&shown));
}

void alerts_events_init(void)
{
    events_shown_init(&shown, store_alerts_max_id(loop_reader()));
    events_on("alert", on_alert_event, alerts_catch_up);
}
