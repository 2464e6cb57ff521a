/* room.report: a member tells the facilitators about a message. The report is an audit entry
 * that keeps a copy of the message's text while the message itself is held, and the room's
 * facilitators who are in it, and every admin connected, get room.report at once. Its writer
 * job's run and done sit beside the handler. Layer: concerns (rooms), over room_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "reads.h"
#include "room_int.h"
#include "store_reports.h"
#include "xalloc.h"

typedef struct {
    room_job base;
    int64_t seq;
    char *reason;   /* owned; NULL when none was given */
    report_msg msg; /* owned: the message as the loop read it, for the event */
    bool repeat;
} report_job;

static void report_job_free(report_job *o)
{
    free(o->reason);
    store_reports_msg_free(&o->msg);
    room_job_free(&o->base);
}

static mu_code report_run(mu_job *j, mu_wtx *w)
{
    report_job *o = (report_job *)j;
    report_in in = {o->base.ts, o->base.actor_id, o->seq, o->base.actor, o->base.slug, o->reason};
    return store_reports_add(w, &in, &o->repeat);
}

static void send_to_admin(mu_conn *c, void *ud)
{
    if (c->state == CONN_AUTHENTICATED && c->role == ROLE_ADMIN)
        conn_send(c, ud);
}

/* Every admin connected (on each of their connections), and each facilitator in the room who
 * is not an admin on the connections that joined it: nobody gets it twice. */
static void send_report(const room *r, const report_job *o)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, MU_OP_EV_ROOM_REPORT, 7);
    mu_enc_kstr(&e, "room", r->slug);
    mu_enc_kint(&e, "seq", o->seq);
    mu_enc_kstr(&e, "from", o->msg.from);
    mu_enc_kstrn(&e, "text", o->msg.text, o->msg.text_len);
    mu_enc_kstr(&e, "by", o->base.actor);
    mu_enc_kstr(&e, "reason", o->reason); /* nil when none */
    mu_enc_kint(&e, "ts", o->base.ts);
    mu_frame *f = frame_from_enc(&e);
    mu_enc_free(&e);
    conn_foreach(send_to_admin, f);
    for (size_t i = 0; i < r->members.n; i++) {
        const member *m = &r->members.v[i];
        if (!room_is_facilitator(m->role) || m->role == ROLE_ADMIN)
            continue;
        for (size_t k = 0; k < m->nconns; k++)
            conn_send(m->conns[k], f);
    }
    frame_unref(f);
}

static void report_done(mu_job *j)
{
    report_job *o = (report_job *)j;
    if (j->result == MU_E_NOT_FOUND) {
        reply_err(o->base.c, MU_E_NOT_FOUND, "That message is no longer held.");
    } else {
        room *r = room_job_landed(&o->base);
        if (r) {
            reply_empty(o->base.c);
            /* A repeat by the same reporter tells nobody again. */
            if (!o->repeat)
                send_report(r, o);
        }
    }
    report_job_free(o);
}

/* The reported message, read off the loop. */
typedef struct {
    read_call rc;
    char slug[ROOM_SLUG_MAX + 1];
    int64_t seq;
    report_msg msg; /* owned until handed to the job */
} msg_call;

static bool msg_run(read_call *rc, mu_reader *r)
{
    msg_call *k = (msg_call *)rc;
    store_reports_msg_free(&k->msg); /* from a run before, on a connection lost since */
    int f = store_reports_msg(r, k->slug, k->seq, &k->msg);
    if (f == 0)
        return reads_refuse(rc, MU_E_NOT_FOUND,
                            "There is no message %lld that you can see in this room.",
                            (long long)k->seq);
    if (f > 0 && k->msg.user == rc->user)
        return reads_refuse(rc, MU_E_BAD_REQUEST, "You cannot report your own message.");
    return f > 0;
}

static void msg_found(read_call *rc)
{
    msg_call *k = (msg_call *)rc;
    mu_conn *c = rc->c;
    room *r = room_joined(c, rc->req); /* again: it may have gone meanwhile */
    if (!r)
        return;
    report_job *o = room_job_new(sizeof(*o), c, r->slug, "report");
    o->msg = k->msg;
    memset(&k->msg, 0, sizeof(k->msg)); /* the job's now */
    o->seq = k->seq;
    const mu_val *reason = mu_req_field(rc->req, "reason");
    if (reason->present && reason->v.s.n > 0) {
        o->reason = xmalloc(reason->v.s.n + 1);
        memcpy(o->reason, reason->v.s.p, reason->v.s.n);
        o->reason[reason->v.s.n] = '\0';
    }
    room_job_submit(&o->base, report_run, report_done);
}

static void msg_release(read_call *rc)
{
    store_reports_msg_free(&((msg_call *)rc)->msg);
}

void op_room_report(mu_conn *c, mu_request *req)
{
    room *r = room_joined(c, req);
    if (!r)
        return;
    int64_t seq = (int64_t)mu_req_field(req, "seq")->v.u;
    /* Only what the caller could see: said and committed, and after their first join when the
     * room's backlog hides what came before. A message said after that is not yet theirs. */
    if (seq <= room_visible_after(r, c->user_id) || seq > r->done_seq) {
        reply_err(c, MU_E_NOT_FOUND, "There is no message %lld that you can see in this room.",
                  (long long)seq);
        return;
    }
    msg_call *k = (msg_call *)reads_new(c, sizeof(*k), msg_run, "the room's messages");
    snprintf(k->slug, sizeof(k->slug), "%s", r->slug);
    k->seq = seq;
    k->rc.then = msg_found;
    k->rc.release = msg_release;
    reads_submit(&k->rc);
}
