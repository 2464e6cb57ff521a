/* Daily wellbeing check-ins, their summary, and consent to share with a mentor.
 *
 * A note is private to its author: it is stored and returned to its author only; nothing that
 * reaches anyone else (mentee.checkins, alerts) carries it.
 * Layer: concerns, over requests and storage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "clock.h"
#include "context.h"
#include "handlers.h"
#include "log.h"
#include "reads.h"
#include "scoring.h"
#include "store_checkins.h"
#include "store_dm.h"
#include "store_admin.h"
#include "xalloc.h"

typedef struct {
    mu_job job;
    mu_conn *c;
    checkin_in in;
    char handle[MU_HANDLE_MAX + 1];
    char use[24], stage[24];
    char *note;
    mu_enc who5, barc10, triggers;
    alert_out alerts[FLAG__COUNT];
    int nalerts;
    int streak; /* from the writer */
} submit_op;

static void pack_blob(mu_enc *e, const msgpack_object *o, const void **p, size_t *n)
{
    mu_enc_init(e, 0);
    if (!o)
        return;
    mu_enc_obj(e, o);
    *p = mu_enc_payload(e, n);
}

static void ints_of(const msgpack_object *o, int *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = (int)o->via.array.ptr[i].via.i64;
}

static void op_free(submit_op *o)
{
    conn_unref(o->c);
    mu_enc_free(&o->who5);
    mu_enc_free(&o->barc10);
    mu_enc_free(&o->triggers);
    if (o->note)
        sodium_memzero(o->note, o->in.note_len);
    free(o->note);
    free(o);
}

static void flag_detail(unsigned bit, const checkin_in *in, char *out, size_t cap)
{
    switch (bit) {
    case FLAG_HIGH_CRAVING:
        snprintf(out, cap, "Craving at %d of 10 in today's check-in.", in->craving);
        break;
    case FLAG_LOW_MOOD:
        snprintf(out, cap, "Mood at %d of 10 in today's check-in.", in->mood);
        break;
    case FLAG_USE_ABOVE_PLAN: snprintf(out, cap, "Use was above their own plan today."); break;
    default: snprintf(out, cap, "WHO-5 wellbeing is low today (%d%%).", in->who5_pct); break;
    }
}

static mu_code submit_run(mu_job *j, mu_wtx *w)
{
    submit_op *o = (submit_op *)j;
    unsigned alerted = 0;
    mu_code c = store_checkins_put(w, &o->in, &alerted, &o->streak);
    if (c != MU_OK)
        return c;
    share_level share = store_checkins_consent_w(w, o->in.user);
    int64_t mentor = store_dm_mentor_of_w(w, o->in.user);
    if (share == SHARE_NONE || mentor <= 0)
        return MU_OK; /* flags raised without consent raise no alert, now or later */
    unsigned fresh = o->in.flags & ~alerted;
    for (unsigned i = 0; i < FLAG__COUNT; i++) {
        unsigned bit = 1u << i;
        if (!(fresh & bit))
            continue;
        char detail[200];
        flag_detail(bit, &o->in, detail, sizeof(detail));
        c = alerts_raise(w, o->in.user, o->handle, mentor, flag_name(i), detail, o->in.ts,
                         &o->alerts[o->nalerts]);
        if (c != MU_OK)
            return c;
        o->nalerts++;
    }
    return fresh ? store_checkins_set_alerted(w, o->in.user, o->in.day, alerted | fresh) : MU_OK;
}

static void enc_flags(mu_enc *e, unsigned flags)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < FLAG__COUNT; i++)
        n += (flags >> i) & 1;
    mu_enc_array(e, n);
    for (unsigned i = 0; i < FLAG__COUNT; i++)
        if (flags & (1u << i))
            mu_enc_str(e, flag_name(i));
}

static void submit_done(mu_job *j)
{
    submit_op *o = (submit_op *)j;
    mu_conn *c = o->c;
    if (j->result == MU_E_CONFLICT) {
        reply_err(c, MU_E_CONFLICT,
                  "You have a check-in on a later local date; check the time zone (tz).");
    } else if (j->result != MU_OK) {
        reply_write_failed(c, j->result, "the check-in was not saved");
    } else {
        char date[11];
        mu_date_format(o->in.day, date);
        mu_enc e;
        reply_begin(c, &e, 3 + (o->in.who5_pct >= 0) + (o->in.barc10_total >= 0));
        mu_enc_kstr(&e, "date", date);
        mu_enc_kint(&e, "streak", o->streak);
        if (o->in.who5_pct >= 0)
            mu_enc_kint(&e, "who5_pct", o->in.who5_pct);
        if (o->in.barc10_total >= 0)
            mu_enc_kint(&e, "barc10_total", o->in.barc10_total);
        mu_enc_key(&e, "flags");
        enc_flags(&e, o->in.flags);
        reply_end(c, &e);
        for (int i = 0; i < o->nalerts; i++)
            alerts_deliver(&o->alerts[i]);
    }
    op_free(o);
}

static int opt_int(const mu_request *r, const char *name)
{
    const mu_val *v = mu_req_field(r, name);
    return v->present ? (int)v->v.i : -1;
}

static const char *opt_str(const mu_request *r, const char *name, char *buf, size_t cap)
{
    const mu_val *v = mu_req_field(r, name);
    if (!v->present)
        return NULL;
    snprintf(buf, cap, "%.*s", (int)v->v.s.n, v->v.s.p);
    return buf;
}

void op_checkin_submit(mu_conn *c, mu_request *r)
{
    submit_op *o = xcalloc(1, sizeof(*o));
    o->c = conn_ref(c);
    snprintf(o->handle, sizeof(o->handle), "%s", c->handle);
    checkin_in *in = &o->in;
    in->user = c->user_id;
    in->tz = (int)mu_req_field(r, "tz")->v.i;
    in->ts = clock_now_ms();
    in->day = local_day(in->ts, in->tz);
    in->mood = (int)mu_req_field(r, "mood")->v.i;
    in->craving = opt_int(r, "craving");
    in->sleep = opt_int(r, "sleep");
    in->use = opt_str(r, "use", o->use, sizeof(o->use));
    in->stage = opt_str(r, "stage", o->stage, sizeof(o->stage));
    const mu_val *who5 = mu_req_field(r, "who5"), *barc = mu_req_field(r, "barc10");
    const mu_val *trig = mu_req_field(r, "triggers"), *note = mu_req_field(r, "note");
    pack_blob(&o->who5, who5->present ? who5->v.o : NULL, &in->who5, &in->who5_len);
    pack_blob(&o->barc10, barc->present ? barc->v.o : NULL, &in->barc10, &in->barc10_len);
    pack_blob(&o->triggers, trig->present ? trig->v.o : NULL, &in->triggers, &in->triggers_len);
    checkin_scores sc = {in->mood,
                         in->craving,
                         in->use && !strcmp(in->use, "more_than_planned"),
                         who5->present,
                         {0}};
    in->who5_pct = in->barc10_total = -1;
    if (who5->present) {
        ints_of(who5->v.o, sc.who5, 5);
        in->who5_pct = who5_pct(sc.who5);
    }
    if (barc->present) {
        int items[10];
        ints_of(barc->v.o, items, 10);
        in->barc10_total = barc10_total(items);
    }
    if (note->present) {
        o->note = xmemdup0(note->v.s.p, note->v.s.n);
        in->note = o->note;
        in->note_len = note->v.s.n;
    }
    thresholds t = {(unsigned)g_srv->cfg.craving_high, (unsigned)g_srv->cfg.mood_low,
                    (unsigned)g_srv->cfg.who5_low_sum, (unsigned)g_srv->cfg.who5_item_low};
    in->flags = checkin_flags(&sc, &t);
    o->job.run = submit_run;
    o->job.done = submit_done;
    store_submit(g_srv->store, &o->job);
}

/* ---- reading ---------------------------------------------------------------------------- */

typedef struct {
    mu_enc body;
    uint32_t n;
    bool with_note;
} items_out;

static void put_opt_int(mu_enc *e, const char *k, int v)
{
    if (v >= 0)
        mu_enc_kint(e, k, v);
    else
        mu_enc_knil(e, k);
}

static void put_blob(mu_enc *e, const char *k, const void *p, size_t n)
{
    mu_enc_key(e, k);
    if (p)
        mu_enc_raw(e, p, n);
    else
        mu_enc_nil(e);
}

static void put_item(const checkin_row *row, void *ud)
{
    items_out *o = ud;
    mu_enc *e = &o->body;
    char date[11];
    mu_date_format(row->day, date);
    mu_enc_map(e, 15);
    mu_enc_kstr(e, "date", date);
    mu_enc_kint(e, "tz", row->tz);
    mu_enc_kint(e, "ts", row->ts);
    mu_enc_kint(e, "mood", row->mood);
    put_opt_int(e, "craving", row->craving);
    put_opt_int(e, "sleep", row->sleep);
    mu_enc_kstr(e, "use", row->use);
    mu_enc_kstr(e, "stage", row->stage);
    put_blob(e, "who5", row->who5, row->who5_len);
    put_opt_int(e, "who5_pct", row->who5_pct);
    put_blob(e, "barc10", row->barc10, row->barc10_len);
    put_opt_int(e, "barc10_total", row->barc10_total);
    put_blob(e, "triggers", row->triggers, row->triggers_len);
    if (o->with_note && row->note)
        mu_enc_kstrn(e, "note", row->note, row->note_len);
    else
        mu_enc_knil(e, "note");
    mu_enc_key(e, "flags");
    enc_flags(e, row->flags);
    o->n++;
}

typedef struct {
    read_call rc;
    int32_t from, to; /* checkin.list: the days */
    int days;         /* checkin.summary: how many days back */
    int64_t now;      /* when the request was handled */
} range_call;

static bool list_run(read_call *rc, mu_reader *r)
{
    range_call *k = (range_call *)rc;
    items_out o = {.with_note = true}; /* the author's own: with their notes */
    mu_enc_init(&o.body, 0);
    if (store_checkins_range(r, rc->user, k->from, k->to, put_item, &o) < 0) {
        mu_enc_free(&o.body);
        return false;
    }
    return reads_list(rc, "checkins", o.n, &o.body);
}

void op_checkin_list(mu_conn *c, mu_request *r)
{
    range_call *k = (range_call *)reads_new(c, sizeof(*k), list_run, "check-ins");
    k->from = -1000000;
    k->to = 1000000;
    const mu_val *f = mu_req_field(r, "from"), *t = mu_req_field(r, "to");
    if (f->present)
        mu_date_parse(f->v.s.p, f->v.s.n, &k->from);
    if (t->present)
        mu_date_parse(t->v.s.p, t->v.s.n, &k->to);
    reads_submit(&k->rc);
}

typedef struct {
    int count, mood_sum, craving_n, craving_sum;
    int who5_last, barc10_last;
    int32_t from;
} summary_acc;

static void sum_row(const checkin_row *row, void *ud)
{
    summary_acc *a = ud;
    if (row->who5_pct >= 0)
        a->who5_last = row->who5_pct;
    if (row->barc10_total >= 0)
        a->barc10_last = row->barc10_total;
    if (row->day < a->from)
        return;
    a->count++;
    a->mood_sum += row->mood;
    if (row->craving >= 0) {
        a->craving_n++;
        a->craving_sum += row->craving;
    }
}

static bool summary_run(read_call *rc, mu_reader *r)
{
    range_call *k = (range_call *)rc;
    /* "Today" for the user: the local date by the time zone of their latest check-in. */
    int32_t day;
    int tz = 0;
    int latest = store_checkins_latest(r, rc->user, &day, &tz);
    if (latest < 0)
        return false;
    int32_t today = local_day(k->now, latest ? tz : 0), from = today - k->days + 1;
    int32_t *all;
    size_t n;
    if (store_checkins_days(r, rc->user, &all, &n) < 0)
        return false;
    summary_acc a = {.who5_last = -1, .barc10_last = -1, .from = from};
    if (store_checkins_range(r, rc->user, -1000000, today, sum_row, &a) < 0) {
        free(all);
        return false;
    }
    int missed = n ? days_missed(all, n, all[0], from, today) : 0;
    mu_enc *e = &rc->body;
    mu_enc_kint(e, "days", k->days);
    mu_enc_kint(e, "count", a.count);
    mu_enc_kint(e, "streak", streak_current(all, n, today));
    mu_enc_kint(e, "best_streak", streak_best(all, n));
    mu_enc_key(e, "mood_avg");
    if (a.count)
        mu_enc_double(e, (double)a.mood_sum / a.count);
    else
        mu_enc_nil(e);
    mu_enc_key(e, "craving_avg");
    if (a.craving_n)
        mu_enc_double(e, (double)a.craving_sum / a.craving_n);
    else
        mu_enc_nil(e);
    mu_enc_kint(e, "missed", missed);
    put_opt_int(e, "who5_last", a.who5_last);
    put_opt_int(e, "barc10_last", a.barc10_last);
    free(all);
    return reads_ok(rc, 9);
}

void op_checkin_summary(mu_conn *c, mu_request *r)
{
    range_call *k = (range_call *)reads_new(c, sizeof(*k), summary_run, "check-ins");
    k->days = (int)mu_req_field(r, "days")->v.u;
    k->now = clock_now_ms();
    reads_submit(&k->rc);
}

/* ---- consent ---------------------------------------------------------------------------- */

/* A job's run function reads only the job: the connection belongs to the loop thread, which
 * may sign it out (and clear its user) while the job waits for the writer. */
typedef struct {
    mu_job job;
    mu_conn *c;
    int64_t user;
    share_level share;
    int64_t ts;
} consent_op;

static mu_code consent_run(mu_job *j, mu_wtx *w)
{
    consent_op *o = (consent_op *)j;
    return store_checkins_consent_put(w, o->user, o->share, o->ts);
}

static void consent_done(mu_job *j)
{
    consent_op *o = (consent_op *)j;
    if (j->result != MU_OK)
        reply_write_failed(o->c, j->result, "the choice was not saved");
    else
        reply_empty(o->c);
    conn_unref(o->c);
    free(o);
}

void op_consent_set(mu_conn *c, mu_request *r)
{
    const mu_val *v = mu_req_field(r, "share");
    consent_op *o = xcalloc(1, sizeof(*o));
    o->c = conn_ref(c);
    o->user = c->user_id;
    o->share = v->v.s.n == 6 && !memcmp(v->v.s.p, "alerts", 6)   ? SHARE_ALERTS
               : v->v.s.n == 6 && !memcmp(v->v.s.p, "scores", 6) ? SHARE_SCORES
                                                                 : SHARE_NONE;
    o->ts = clock_now_ms();
    o->job.run = consent_run;
    o->job.done = consent_done;
    store_submit(g_srv->store, &o->job);
}

/* mentee.checkins decides the share and reads the data in one writer job, so it is ordered
 * with every consent.set: a reply that carries check-ins was decided before any withdrawal
 * that was acknowledged ahead of it (done callbacks run in the writer's order). The audit
 * entry is in the same job: no read goes unrecorded. */
typedef struct {
    mu_job job;
    mu_conn *c;
    int64_t user, reader;
    char handle[MU_HANDLE_MAX + 1], reader_handle[MU_HANDLE_MAX + 1];
    char asked[MU_HANDLE_MAX + 1]; /* the handle the request named */
    int64_t ts;
    int days;
    items_out out; /* filled on the writer thread, sent from the loop */
} read_op;

static const char *const not_shared =
    "Only a mentee's own mentor sees their check-ins, and only when they share their scores.";

static mu_code read_run(mu_job *j, mu_wtx *w)
{
    read_op *o = (read_op *)j;
    user_row u;
    mu_code c = mentee_shared_w(w, o->asked, o->reader, &u);
    if (c != MU_OK)
        return c;
    o->user = u.id;
    snprintf(o->handle, sizeof(o->handle), "%s", u.handle);
    c = store_admin_audit_add(w, o->ts, o->reader, o->reader_handle, "read_checkins", o->user,
                              o->handle, NULL);
    if (c != MU_OK)
        return c;
    int32_t day;
    int tz = 0;
    if (store_checkins_latest_w(w, o->user, &day, &tz) < 0)
        return MU_E_INTERNAL;
    int32_t today = local_day(o->ts, tz);
    if (store_checkins_range_w(w, o->user, today - o->days + 1, today, put_item, &o->out) < 0)
        return MU_E_INTERNAL;
    return MU_OK;
}

static void read_done(mu_job *j)
{
    read_op *o = (read_op *)j;
    if (j->result == MU_E_FORBIDDEN) {
        mu_enc_free(&o->out.body);
        reply_err(o->c, MU_E_FORBIDDEN, not_shared);
    } else if (j->result != MU_OK) {
        mu_enc_free(&o->out.body);
        reply_write_failed(o->c, j->result, "the check-ins were not shown");
    } else {
        reply_list(o->c, "checkins", o->out.n, &o->out.body);
    }
    conn_unref(o->c);
    free(o);
}

mu_code mentee_shared_w(mu_wtx *w, const char *handle, int64_t mentor, user_row *u)
{
    int f = store_users_find_by_handle_w(w, handle, u);
    if (f < 0)
        return MU_E_INTERNAL;
    if (f == 0)
        return MU_E_FORBIDDEN; /* as a refusal answers, so that no handle's existence shows */
    int64_t m = store_dm_mentor_of_w(w, u->id);
    if (m < 0)
        return MU_E_INTERNAL;
    return m == mentor && store_checkins_consent_w(w, u->id) == SHARE_SCORES ? MU_OK
                                                                             : MU_E_FORBIDDEN;
}

void op_mentee_checkins(mu_conn *c, mu_request *r)
{
    read_op *o = xcalloc(1, sizeof(*o));
    o->c = conn_ref(c);
    snprintf(o->asked, sizeof(o->asked), "%s", mu_req_field(r, "handle")->v.h);
    o->reader = c->user_id;
    snprintf(o->reader_handle, sizeof(o->reader_handle), "%s", c->handle);
    o->ts = clock_now_ms();
    o->days = (int)mu_req_field(r, "days")->v.u;
    mu_enc_init(&o->out.body, 0);
    o->out.with_note = false; /* a note never leaves its author */
    o->job.run = read_run;
    o->job.done = read_done;
    store_submit(g_srv->store, &o->job);
}
