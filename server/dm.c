/* Peer-mentor messaging: caseloads and direct messages.
 *
 * Messages pass only between a user and their current mentor, or between an admin and anyone.
 * Every refusal about a person (unknown, oneself, not your pair) is the same `forbidden`, so
 * that a handle's existence is never revealed. A message is committed before its reply and
 * before anyone is shown it. Layer: concerns, over requests and storage. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "context.h"
#include "dm.h"
#include "dm_int.h"
#include "events.h"
#include "handlers.h"
#include "log.h"
#include "reads.h"
#include "store_admin.h"
#include "store_alerts.h"
#include "store_checkins.h"
#include "store_dm.h"
#include "xalloc.h"

#define NOT_YOUR_PAIR "You can message only your own mentor or mentees (or an admin)."

typedef struct {
    mu_job job;
    mu_conn *c;
    int64_t me, peer, id, ts, old_mentor;
    char me_handle[MU_HANDLE_MAX + 1], peer_handle[MU_HANDLE_MAX + 1];
    char mentor_handle[MU_HANDLE_MAX + 1]; /* assignments: the audit entry's detail */
    char asked[MU_HANDLE_MAX + 1], asked2[MU_HANDLE_MAX + 1]; /* handles the request named */
    mu_role role;                                             /* the sender's */
    bool again;        /* dm.send: a retry of a message stored before (id and ts are its) */
    char refusal[200]; /* set by run with the code it returns: the reply's sentence */
    mu_code refused;   /* that code */
    char *text, *cid;
    size_t text_len, cid_len;
    uint64_t up_to, caseload_max;
} dm_op;

static dm_op *op_new(mu_conn *c)
{
    dm_op *o = xcalloc(1, sizeof(*o));
    o->c = conn_ref(c);
    o->me = c->user_id;
    o->role = c->role;
    memcpy(o->me_handle, c->handle, sizeof(o->me_handle));
    return o;
}

static void op_free(dm_op *o)
{
    conn_unref(o->c);
    free(o->text);
    free(o->cid);
    free(o);
}

static char *dup_val(const mu_val *v, size_t *len)
{
    *len = v->v.s.n;
    return xmemdup0(v->v.s.p, v->v.s.n);
}

/* Writer: refuses with `code` and a sentence for the reply. */
static mu_code refuse(dm_op *o, mu_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static mu_code refuse(dm_op *o, mu_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->refusal, sizeof(o->refusal), fmt, ap);
    va_end(ap);
    o->refused = code;
    return code;
}

/* Writer: the person `handle` names, whom o's sender may message now (their mentor or
 * mentee, or anyone when either is an admin), decided in the writers' order so that a
 * reassignment acknowledged before is honoured. */
static mu_code pair_w(mu_wtx *w, dm_op *o, const char *handle, user_row *peer)
{
    int f = store_users_find_by_handle_w(w, handle, peer);
    if (f < 0)
        return MU_E_INTERNAL;
    if (f == 0 || peer->id == o->me)
        return refuse(o, MU_E_FORBIDDEN, NOT_YOUR_PAIR);
    o->peer = peer->id;
    memcpy(o->peer_handle, peer->handle, sizeof(o->peer_handle));
    if (o->role == ROLE_ADMIN || peer->role == ROLE_ADMIN)
        return MU_OK;
    int64_t theirs = store_dm_mentor_of_w(w, peer->id), mine = store_dm_mentor_of_w(w, o->me);
    if (theirs < 0 || mine < 0)
        return MU_E_INTERNAL;
    return theirs == o->me || mine == peer->id ? MU_OK : refuse(o, MU_E_FORBIDDEN, NOT_YOUR_PAIR);
}

/* The end of a job that refused or failed: its sentence, or the write's failure (which can
 * follow a refusal: the batch's COMMIT failed after it). */
static void reply_failed(dm_op *o, mu_code result, const char *what)
{
    if (o->refusal[0] && result == o->refused)
        reply_err(o->c, result, "%s", o->refusal);
    else
        reply_write_failed(o->c, result, what);
}

void dm_enc(mu_enc *e, int64_t id, const char *from, const char *to, const char *text, size_t n,
            int64_t ts)
{
    mu_enc_kint(e, "id", id);
    mu_enc_kstr(e, "from", from);
    mu_enc_kstr(e, "to", to);
    mu_enc_kstrn(e, "text", text, n);
    mu_enc_kint(e, "ts", ts);
}

typedef struct {
    mu_frame *f;
    mu_conn *except;
    int64_t to, id; /* a dm.msg: its recipient and id; else 0 */
} fan;

static void send_to(mu_conn *c, void *ud)
{
    fan *x = ud;
    if (c == x->except)
        return;
    /* The recipient's connection still working through its unread messages after sign-in
     * (or already past this one) gets it from there, in order and once. */
    if (x->to && c->user_id == x->to && (c->push_busy || x->id <= c->push_after)) {
        if (x->id > c->push_after)
            c->push_missed = true;
        return;
    }
    conn_send(c, x->f);
}

/* One frame, queued to every connection of each user (but `except`). A dm.msg gives its
 * recipient `to` and `id`. */
void dm_fan_out(mu_enc *e, int64_t user_a, int64_t user_b, mu_conn *except, int64_t to, int64_t id)
{
    fan x = {frame_from_enc(e), except, to, id};
    mu_enc_free(e);
    conn_foreach_user(user_a, send_to, &x);
    if (user_b && user_b != user_a)
        conn_foreach_user(user_b, send_to, &x);
    frame_unref(x.f);
}

/* ---- caseloads --------------------------------------------------------------------------- */

/* Writer: the account `handle` names, or not_found. */
static mu_code account_w(mu_wtx *w, dm_op *o, const char *handle, user_row *u)
{
    int f = store_users_find_by_handle_w(w, handle, u);
    if (f < 0)
        return MU_E_INTERNAL;
    return f ? MU_OK : refuse(o, MU_E_NOT_FOUND, "No account has the handle '%s'.", handle);
}

static mu_code assign_run(mu_job *j, mu_wtx *w)
{
    dm_op *o = (dm_op *)j;
    /* The people and their roles as they are now, in the writer's order: a change decided
     * before (on this node or another) comes first. */
    user_row mentor, user;
    mu_code c = account_w(w, o, o->asked, &mentor);
    if (c == MU_OK)
        c = account_w(w, o, o->asked2, &user);
    if (c != MU_OK)
        return c;
    if (mentor.role != ROLE_MENTOR)
        return refuse(o, MU_E_BAD_REQUEST, "'%s' is not a peer mentor.", mentor.handle);
    if (user.role != ROLE_MEMBER && user.role != ROLE_FAMILY)
        return refuse(o, MU_E_BAD_REQUEST,
                      "Only members and family members have mentors; '%s' is %s.", user.handle,
                      role_name(user.role));
    o->id = mentor.id;
    o->peer = user.id;
    snprintf(o->peer_handle, sizeof(o->peer_handle), "%s", user.handle);
    snprintf(o->mentor_handle, sizeof(o->mentor_handle), "%s", mentor.handle);
    int64_t before = store_dm_mentor_of_w(w, o->peer);
    c = store_dm_assign(w, o->peer, o->id, (unsigned)o->caseload_max, o->ts, &o->old_mentor);
    /* The old mentor's open alerts about the user close (they stay in the record). */
    if (c == MU_OK && o->old_mentor > 0)
        c = store_alerts_close_about(w, o->peer, o->old_mentor, o->ts);
    /* Audited when something changed (assigning someone to the mentor they have is not). */
    if (c == MU_OK && before != o->id)
        c = store_admin_audit_add_detail(w, o->ts, o->me, o->me_handle, "assign", o->peer,
                                         o->peer_handle, NULL, o->mentor_handle);
    return c;
}

static void assign_done(mu_job *j)
{
    dm_op *o = (dm_op *)j;
    if (j->result == MU_E_CASELOAD_FULL)
        reply_err(o->c, MU_E_CASELOAD_FULL,
                  "That mentor's caseload is full (%llu people); assign someone else or "
                  "raise caseload_max.",
                  (unsigned long long)o->caseload_max);
    else if (j->result != MU_OK)
        reply_failed(o, j->result, "nothing was saved");
    else
        reply_empty(o->c);
    op_free(o);
}

static bool admin_only(mu_conn *c)
{
    if (c->role != ROLE_ADMIN) {
        reply_err(c, MU_E_FORBIDDEN, "Only an admin may change who mentors whom.");
        return false;
    }
    return true;
}

void op_mentor_assign(mu_conn *c, mu_request *r)
{
    if (!admin_only(c))
        return;
    dm_op *o = op_new(c);
    snprintf(o->asked, sizeof(o->asked), "%s", mu_req_field(r, "mentor")->v.h);
    snprintf(o->asked2, sizeof(o->asked2), "%s", mu_req_field(r, "user")->v.h);
    o->caseload_max = g_srv->cfg.caseload_max;
    o->ts = clock_now_ms();
    o->job.run = assign_run;
    o->job.done = assign_done;
    store_submit(g_srv->store, &o->job);
}

static mu_code unassign_run(mu_job *j, mu_wtx *w)
{
    dm_op *o = (dm_op *)j;
    user_row user;
    mu_code c = account_w(w, o, o->asked2, &user);
    if (c != MU_OK)
        return c;
    o->peer = user.id;
    snprintf(o->peer_handle, sizeof(o->peer_handle), "%s", user.handle);
    c = store_dm_unassign(w, o->peer, &o->old_mentor);
    if (c == MU_OK && o->old_mentor > 0)
        c = store_alerts_close_about(w, o->peer, o->old_mentor, o->ts);
    if (c == MU_OK && o->old_mentor > 0) /* someone had a mentor, and has none now */
        c = store_admin_audit_add(w, o->ts, o->me, o->me_handle, "unassign", o->peer,
                                  o->peer_handle, NULL);
    return c;
}

void op_mentor_unassign(mu_conn *c, mu_request *r)
{
    if (!admin_only(c))
        return;
    dm_op *o = op_new(c);
    snprintf(o->asked2, sizeof(o->asked2), "%s", mu_req_field(r, "user")->v.h);
    o->ts = clock_now_ms();
    o->job.run = unassign_run;
    o->job.done = assign_done;
    store_submit(g_srv->store, &o->job);
}

static bool mentor_get_run(read_call *rc, mu_reader *r)
{
    int64_t m;
    char handle[MU_HANDLE_MAX + 1];
    int f = store_dm_mentor_of(r, rc->user, &m, handle);
    share_level share = store_checkins_consent(r, rc->user);
    if (f < 0)
        return false;
    if (f)
        mu_enc_kstr(&rc->body, "mentor", handle);
    else
        mu_enc_knil(&rc->body, "mentor");
    /* The caller's own choice, so that a client can show it before changing it. */
    mu_enc_kstr(&rc->body, "share", share_name(share));
    return reads_ok(rc, 2);
}

void op_mentor_get(mu_conn *c, mu_request *r)
{
    (void)r;
    reads_submit(reads_new(c, sizeof(read_call), mentor_get_run, "assignments"));
}

typedef struct {
    mentee_row *v;
    size_t n, cap;
} mentee_list;

static void collect_mentee(const mentee_row *m, void *ud)
{
    mentee_list *l = ud;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = *m;
}

static bool mentees_run(read_call *rc, mu_reader *r)
{
    mentee_list l = {0};
    bool ok = store_dm_mentees(r, rc->user, collect_mentee, &l) >= 0;
    mu_enc *e = &rc->body;
    mu_enc_key(e, "mentees");
    mu_enc_array(e, (uint32_t)l.n);
    for (size_t i = 0; ok && i < l.n; i++) {
        mu_enc_map(e, 5);
        mu_enc_kstr(e, "handle", l.v[i].handle);
        mu_enc_kstr(e, "role", role_name(l.v[i].role));
        share_level share = store_checkins_consent(r, l.v[i].id);
        mu_enc_kstr(e, "share", share_name(share));
        /* Whether someone checks in at all is theirs to share: nothing at share none. */
        int32_t day;
        int latest = share == SHARE_NONE ? 0 : store_checkins_latest(r, l.v[i].id, &day, NULL);
        if (latest == 1) {
            char date[11];
            mu_date_format(day, date);
            mu_enc_kstr(e, "last_checkin", date);
        } else {
            mu_enc_knil(e, "last_checkin");
        }
        int open = store_alerts_open_count(r, rc->user, l.v[i].id);
        mu_enc_kint(e, "open_alerts", open);
        ok = latest >= 0 && open >= 0;
    }
    free(l.v);
    return ok && reads_ok(rc, 1);
}

void op_mentees_list(mu_conn *c, mu_request *r)
{
    (void)r;
    if (c->role != ROLE_MENTOR) {
        reply_err(c, MU_E_FORBIDDEN, "Only a peer mentor has a caseload.");
        return;
    }
    reads_submit(reads_new(c, sizeof(read_call), mentees_run, "the caseload"));
}

/* ---- sending ---------------------------------------------------------------------------- */

static void reply_sent(mu_conn *c, int64_t id, int64_t ts)
{
    mu_enc e;
    reply_begin(c, &e, 2);
    mu_enc_kint(&e, "id", id);
    mu_enc_kint(&e, "ts", ts);
    reply_end(c, &e);
}

events_shown dm_shown; /* messages this node has shown (events.h) */

static mu_code send_run(mu_job *j, mu_wtx *w)
{
    dm_op *o = (dm_op *)j;
    user_row peer;
    mu_code c = pair_w(w, o, o->asked, &peer);
    if (c != MU_OK)
        return c;
    if (o->cid) {
        int f = store_dm_find_cid((store_from){.w = w}, o->me, o->peer, o->cid, o->cid_len, &o->id,
                                  &o->ts);
        if (f < 0)
            return MU_E_INTERNAL;
        o->again = f == 1; /* a retry: the first message stands, nobody is told again */
        if (o->again)
            return MU_OK;
    }
    c = store_dm_insert(w, o->me, o->peer, o->ts, o->text, o->text_len, o->cid, o->cid_len, &o->id);
    return c == MU_OK ? events_publish(w, "dm", o->id, 0, 0) : c;
}

typedef struct {
    read_call rc;
    int64_t peer;
    const char *cid; /* the request's */
    size_t cid_len;
} cid_call;

static bool cid_run(read_call *rc, mu_reader *r)
{
    cid_call *k = (cid_call *)rc;
    int64_t id, ts;
    int f =
        store_dm_find_cid((store_from){.r = r}, rc->user, k->peer, k->cid, k->cid_len, &id, &ts);
    if (f == 0) /* it went again meanwhile (the whole account?): nothing to point at */
        return reads_refuse(rc, MU_E_CONFLICT, "A message with that cid was sent and is gone.");
    mu_enc_kint(&rc->body, "id", id);
    mu_enc_kint(&rc->body, "ts", ts);
    return f == 1 && reads_ok(rc, 2);
}

static void send_done(mu_job *j)
{
    dm_op *o = (dm_op *)j;
    mu_conn *c = o->c;
    if (j->result == MU_E_CONFLICT && o->cid) {
        /* The same cid went in first from another request (through another node, or this
         * one's twin in the same batch): that one is the message. */
        cid_call *k =
            (cid_call *)reads_new(c, sizeof(*k), cid_run, "the message saved with that cid");
        k->peer = o->peer;
        const mu_val *cid = mu_req_field(c->req, "cid");
        k->cid = cid->v.s.p;
        k->cid_len = cid->v.s.n;
        reads_submit(&k->rc);
    } else if (j->result != MU_OK) {
        reply_failed(o, j->result, "the message was not saved");
    } else if (o->again) {
        reply_sent(c, o->id, o->ts);
    } else {
        reply_sent(c, o->id, o->ts);
        events_shown_before(&dm_shown, o->id);
        mu_enc e;
        frame_enc_init(&e);
        mu_enc_event(&e, MU_OP_EV_DM_MSG, 5);
        dm_enc(&e, o->id, o->me_handle, o->peer_handle, o->text, o->text_len, o->ts);
        dm_fan_out(&e, o->peer, o->me, c, o->peer, o->id);
    }
    op_free(o);
}

void op_dm_send(mu_conn *c, mu_request *r)
{
    /* Who the recipient is, whether the two may talk and whether the cid was seen are all
     * decided in the write, in the writers' order; nothing is read on the loop. */
    dm_op *o = op_new(c);
    snprintf(o->asked, sizeof(o->asked), "%s", mu_req_field(r, "to")->v.h);
    o->text = dup_val(mu_req_field(r, "text"), &o->text_len);
    const mu_val *cid = mu_req_field(r, "cid");
    if (cid->present)
        o->cid = dup_val(cid, &o->cid_len);
    o->ts = clock_now_ms();
    o->job.run = send_run;
    o->job.done = send_done;
    store_submit(g_srv->store, &o->job);
}

/* ---- reading ---------------------------------------------------------------------------- */

static mu_code ack_run(mu_job *j, mu_wtx *w)
{
    dm_op *o = (dm_op *)j;
    user_row peer;
    int f = store_users_find_by_handle_w(w, o->asked, &peer);
    if (f < 0)
        return MU_E_INTERNAL;
    if (f == 0 || peer.id == o->me)
        return refuse(o, MU_E_FORBIDDEN, NOT_YOUR_PAIR);
    o->peer = peer.id;
    int t = store_dm_thread_exists((store_from){.w = w}, o->me, peer.id);
    if (t <= 0)
        return t < 0 ? MU_E_INTERNAL
                     : refuse(o, MU_E_FORBIDDEN, "You have no conversation with that person.");
    return store_dm_mark_read(w, o->me, o->peer, o->up_to);
}

static void ack_done(mu_job *j)
{
    dm_op *o = (dm_op *)j;
    if (j->result != MU_OK) {
        reply_failed(o, j->result, "nothing was saved");
    } else {
        reply_empty(o->c);
        mu_enc e;
        frame_enc_init(&e);
        mu_enc_event(&e, MU_OP_EV_DM_READ, 2);
        mu_enc_kstr(&e, "with", o->me_handle);
        mu_enc_kuint(&e, "up_to", o->up_to);
        dm_fan_out(&e, o->peer, o->me, o->c, 0, 0);
    }
    op_free(o);
}

void op_dm_ack(mu_conn *c, mu_request *r)
{
    dm_op *o = op_new(c);
    snprintf(o->asked, sizeof(o->asked), "%s", mu_req_field(r, "with")->v.h);
    o->up_to = mu_req_field(r, "up_to")->v.u;
    o->job.run = ack_run;
    o->job.done = ack_done;
    store_submit(g_srv->store, &o->job);
}

typedef struct {
    uint32_t n;
    mu_enc body;
} rows_out;

static void put_row(const dm_row *row, void *ud)
{
    rows_out *o = ud;
    mu_enc_map(&o->body, 5);
    dm_enc(&o->body, row->id, row->from, row->to, row->text, row->text_len, row->ts);
    o->n++;
}

/* The conversation with `handle` for a read call: 1 with *peer filled, 0 when the call is
 * refused (forbidden, the same for every reason), -1 when a read failed. */
static int thread_with(read_call *rc, mu_reader *r, const char *handle, user_row *peer)
{
    int f = store_users_find_by_handle(r, handle, peer);
    if (f < 0)
        return -1;
    if (f == 0 || peer->id == rc->user) {
        reads_refuse(rc, MU_E_FORBIDDEN, NOT_YOUR_PAIR);
        return 0;
    }
    int t = store_dm_thread_exists((store_from){.r = r}, rc->user, peer->id);
    if (t == 0)
        reads_refuse(rc, MU_E_FORBIDDEN, "You have no conversation with that person.");
    return t;
}

static bool history_run(read_call *rc, mu_reader *r)
{
    user_row peer;
    int t = thread_with(rc, r, mu_req_field(rc->req, "with")->v.h, &peer);
    if (t <= 0)
        return t == 0;
    const mu_val *before = mu_req_field(rc->req, "before"), *limit = mu_req_field(rc->req, "limit");
    rows_out o = {0};
    mu_enc_init(&o.body, 0);
    if (store_dm_history(r, rc->user, peer.id, before->present ? before->v.u : UINT64_MAX,
                         limit->present ? (unsigned)limit->v.u : 50, put_row, &o) < 0) {
        mu_enc_free(&o.body);
        return false;
    }
    return reads_list(rc, "messages", o.n, &o.body);
}

void op_dm_history(mu_conn *c, mu_request *r)
{
    (void)r;
    reads_submit(reads_new(c, sizeof(read_call), history_run, "messages"));
}

typedef struct {
    thread_row *v;
    size_t n, cap;
} thread_list;

static void collect_thread(const thread_row *t, void *ud)
{
    thread_list *l = ud;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = *t;
}

static void put_last(const dm_row *row, void *ud)
{
    mu_enc *e = ud;
    mu_enc_map(e, 5);
    dm_enc(e, row->id, row->from, row->to, row->text, row->text_len, row->ts);
}

static bool inbox_run(read_call *rc, mu_reader *r)
{
    thread_list l = {0};
    bool ok = store_dm_threads_of(r, rc->user, collect_thread, &l) >= 0;
    mu_enc *e = &rc->body;
    mu_enc_key(e, "threads");
    mu_enc_array(e, (uint32_t)l.n);
    for (size_t i = 0; ok && i < l.n; i++) {
        mu_enc_map(e, 3);
        mu_enc_kstr(e, "with", l.v[i].other);
        mu_enc_key(e, "last");
        int last = store_dm_last(r, rc->user, l.v[i].other_id, put_last, e);
        if (last == 0)
            mu_enc_nil(e);
        int64_t unread = store_dm_unread_count(r, rc->user, l.v[i].other_id);
        mu_enc_kint(e, "unread", unread);
        ok = last >= 0 && unread >= 0;
    }
    free(l.v);
    return ok && reads_ok(rc, 1);
}

void op_dm_inbox(mu_conn *c, mu_request *r)
{
    (void)r;
    reads_submit(reads_new(c, sizeof(read_call), inbox_run, "messages"));
}

/* ---- after sign-in ---------------------------------------------------------------------- */

typedef struct {
    dm_event *v;
    unsigned n, max;
} page_out;

static void page_row(const dm_row *row, void *ud)
{
    page_out *p = ud;
    if (p->n == p->max)
        return;
    dm_event *d = &p->v[p->n++];
    d->id = row->id;
    frame_enc_init(&d->ev);
    mu_enc_event(&d->ev, MU_OP_EV_DM_MSG, 5);
    dm_enc(&d->ev, row->id, row->from, row->to, row->text, row->text_len, row->ts);
}

int dm_unread_page(mu_reader *r, int64_t user, int64_t after, dm_event *out, unsigned max)
{
    page_out p = {out, 0, max};
    if (store_dm_unread_after(r, user, after, max, page_row, &p) < 0) {
        for (unsigned i = 0; i < p.n; i++)
            mu_enc_free(&out[i].ev);
        return -1;
    }
    return (int)p.n;
}
