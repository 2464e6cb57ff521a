/* Meetings: the list of rooms, a room's definition (create, update, delete), its meeting's
 * life (open, close), being in it (join, leave, with what a joiner sees) and what is said in
 * it (say, history). Each op's writer job has its run and done beside its handler. Layer:
 * concerns (rooms), over room_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "handlers.h"
#include "reads.h"
#include "room_int.h"
#include "xalloc.h"

/* ---- the registry as a list, and a room's definition: create, update, delete ------------ */

void op_rooms_list(mu_conn *c, mu_request *req)
{
    uint32_t n = 0;
    for (room *r = rooms_first(); r; r = r->next)
        n += room_admits(r, c->role);
    mu_enc e;
    reply_begin(c, &e, 1);
    mu_enc_key(&e, "rooms");
    mu_enc_array(&e, n);
    for (room *r = rooms_first(); r; r = r->next)
        if (room_admits(r, c->role))
            room_enc(&e, r);
    reply_end(c, &e);
}

/* A job that carries a whole room definition. */
typedef struct {
    room_job base;
    room_def def;
    char name[ROOM_NAME_MAX + 1], format[ROOM_FORMAT_MAX + 1], audience[16];
    char backlog[8]; /* empty: the default */
    char *schedule;  /* owned */
    size_t schedule_len;
} def_job;

static void def_job_free(def_job *o)
{
    free(o->schedule);
    room_job_free(&o->base);
}

static void reply_room(mu_conn *c, const room *r)
{
    mu_enc e;
    reply_begin(c, &e, 1);
    mu_enc_key(&e, "room");
    room_enc(&e, r);
    reply_end(c, &e);
}

/* The definition from the request, what it leaves out from `existing` (or the defaults).
 * Replies and returns false when the schedule is out of shape. */
static bool read_def(mu_conn *c, mu_request *req, def_job *o, const room *existing)
{
    const mu_val *name = mu_req_field(req, "name"), *format = mu_req_field(req, "format");
    const mu_val *sched = mu_req_field(req, "schedule"), *cap = mu_req_field(req, "capacity");
    const mu_val *pers = mu_req_field(req, "persistent"), *backlog = mu_req_field(req, "backlog");
    const mu_val *listed = mu_req_field(req, "listed");
    if (sched->present) {
        char err[160];
        if (!room_schedule_check(sched->v.o, err, sizeof(err))) {
            reply_err(c, MU_E_BAD_REQUEST, "%s", err);
            return false;
        }
        room_schedule_pack(sched->v.o, &o->schedule, &o->schedule_len);
    } else if (existing && existing->schedule) {
        o->schedule = xmemdup0(existing->schedule, existing->schedule_len);
        o->schedule_len = existing->schedule_len;
    }
    if (name->present)
        snprintf(o->name, sizeof(o->name), "%.*s", (int)name->v.s.n, name->v.s.p);
    else
        snprintf(o->name, sizeof(o->name), "%s", existing ? existing->name : "");
    if (format->present)
        snprintf(o->format, sizeof(o->format), "%.*s", (int)format->v.s.n, format->v.s.p);
    else
        snprintf(o->format, sizeof(o->format), "%s", existing ? existing->format : "");
    o->def.slug = o->base.slug;
    o->def.name = o->name;
    o->def.format = o->format;
    o->def.audience = o->audience;
    o->def.schedule = o->schedule;
    o->def.schedule_len = o->schedule_len;
    o->def.capacity = cap->present ? (int)cap->v.u : existing ? existing->capacity : 100;
    o->def.persistent = pers->present ? pers->v.b : existing ? existing->persistent : false;
    if (backlog->present) /* the op table admits only "join" and "recent" */
        snprintf(o->backlog, sizeof(o->backlog), "%.*s", (int)backlog->v.s.n, backlog->v.s.p);
    else if (existing && existing->backlog != BACKLOG_DEFAULT)
        snprintf(o->backlog, sizeof(o->backlog), "%s", room_backlog_name(existing));
    o->def.backlog = o->backlog[0] ? o->backlog : NULL;
    o->def.listed = listed->present ? listed->v.b : existing ? existing->listed : false;
    return true;
}

static mu_code create_run(mu_job *j, mu_wtx *w)
{
    def_job *o = (def_job *)j;
    mu_code c = store_rooms_insert(w, &o->def, o->base.ts);
    return c == MU_OK ? room_job_tell(&o->base, w, ROOM_CH_DEF) : c;
}

static void create_done(mu_job *j)
{
    def_job *o = (def_job *)j;
    if (j->result == MU_E_CONFLICT)
        reply_err(o->base.c, MU_E_CONFLICT, "A room with that slug exists already.");
    else if (j->result != MU_OK)
        reply_write_failed(o->base.c, j->result, "the room was not created");
    else {
        o->def.created_ts = o->base.ts;
        /* Another node's event may have brought it here first. */
        room *r = rooms_find(o->def.slug, strlen(o->def.slug));
        if (r)
            room_set_def(r, &o->def);
        reply_room(o->base.c, r ? r : rooms_add(&o->def));
        room_recheck(o->def.slug);
    }
    def_job_free(o);
}

void op_room_create(mu_conn *c, mu_request *req)
{
    if (!room_is_facilitator(c->role)) {
        reply_err(c, MU_E_FORBIDDEN, "Only peer mentors and admins create rooms.");
        return;
    }
    const mu_val *slug = mu_req_field(req, "room"), *aud = mu_req_field(req, "audience");
    if (rooms_find(slug->v.s.p, slug->v.s.n)) {
        reply_err(c, MU_E_CONFLICT, "A room with that slug exists already.");
        return;
    }
    char s[ROOM_SLUG_MAX + 1];
    snprintf(s, sizeof(s), "%.*s", (int)slug->v.s.n, slug->v.s.p);
    def_job *o = room_job_new(sizeof(*o), c, s, NULL);
    snprintf(o->audience, sizeof(o->audience), "%.*s", (int)aud->v.s.n, aud->v.s.p);
    if (!read_def(c, req, o, NULL)) {
        def_job_free(o);
        return;
    }
    room_job_submit(&o->base, create_run, create_done);
}

static mu_code update_run(mu_job *j, mu_wtx *w)
{
    def_job *o = (def_job *)j;
    mu_code c = store_rooms_update(w, &o->def);
    return c == MU_OK ? room_job_tell(&o->base, w, ROOM_CH_DEF) : c;
}

static void update_done(mu_job *j)
{
    def_job *o = (def_job *)j;
    room *r = room_job_landed(&o->base);
    if (r) {
        room_set_def(r, &o->def);
        r->changed_ts = o->base.ts;
        reply_room(o->base.c, r);
        room_recheck(r->slug);
    }
    def_job_free(o);
}

void op_room_update(mu_conn *c, mu_request *req)
{
    room *r = room_facilitated(c, req);
    if (!r)
        return;
    def_job *o = room_job_new(sizeof(*o), c, r->slug, NULL);
    snprintf(o->audience, sizeof(o->audience), "%s", room_audience_name(r->aud));
    if (!read_def(c, req, o, r)) {
        def_job_free(o);
        return;
    }
    room_job_submit(&o->base, update_run, update_done);
}

static mu_code delete_run(mu_job *j, mu_wtx *w)
{
    room_job *o = (room_job *)j;
    mu_code c = store_rooms_remove(w, o->slug);
    return c == MU_OK ? room_job_tell(o, w, ROOM_CH_DELETED) : c;
}

static void delete_done(mu_job *j)
{
    room_job *o = (room_job *)j;
    room *r = room_job_landed(o);
    if (r) {
        rooms_delete(r);
        reply_empty(o->c);
        room_recheck(o->slug);
    }
    room_job_free(o);
}

void op_room_delete(mu_conn *c, mu_request *req)
{
    if (c->role != ROLE_ADMIN) {
        reply_err(c, MU_E_FORBIDDEN, "Only an admin may delete a room.");
        return;
    }
    room *r = room_access(c, req);
    if (!r)
        return;
    if (r->is_open) {
        reply_err(c, MU_E_CONFLICT, "The meeting is open; close it first.");
        return;
    }
    room_job_submit(room_job_new(sizeof(room_job), c, r->slug, NULL), delete_run, delete_done);
}

/* ---- the meeting's life: open, close ------------------------------------------------------- */

typedef struct {
    room_job base;
    int64_t meeting; /* given in the write: open's new meeting, or the one close ends */
    bool erase;      /* close: not persistent, the meeting's messages go */
} meeting_job;

static mu_code open_run(mu_job *j, mu_wtx *w)
{
    meeting_job *o = (meeting_job *)j;
    mu_code c = store_rooms_set_open(w, o->base.slug, true, &o->meeting);
    if (c == MU_OK) /* the last meeting's points go with the open, before any node adds its own */
        c = store_rooms_set_joins(w, o->base.slug, true, NULL, 0, 0);
    if (c == MU_OK)
        c = room_job_tell(&o->base, w, ROOM_CH_OPEN);
    return c == MU_OK ? room_job_audit(&o->base, w) : c;
}

static void open_done(mu_job *j)
{
    meeting_job *o = (meeting_job *)j;
    room *r = room_job_landed(&o->base);
    if (r) {
        /* Another node may have opened it meanwhile: then it is the same meeting. */
        bool same = r->is_open && r->meeting == o->meeting;
        r->is_open = true;
        r->meeting = o->meeting;
        if (!same)
            room_restart_joins(r); /* whoever is in already joined this meeting now */
        reply_empty(o->base.c);
        room_send_state(r);
        room_recheck(r->slug);
    }
    room_job_free(&o->base);
}

void op_room_open(mu_conn *c, mu_request *req)
{
    room *r = room_facilitated(c, req);
    if (!r)
        return;
    if (r->is_open) {
        reply_empty(c);
        return;
    }
    meeting_job *o = room_job_new(sizeof(*o), c, r->slug, "open");
    room_job_submit(&o->base, open_run, open_done);
}

static mu_code close_run(mu_job *j, mu_wtx *w)
{
    meeting_job *o = (meeting_job *)j;
    mu_code c = store_rooms_set_open(w, o->base.slug, false, &o->meeting);
    if (c == MU_OK)
        c = store_rooms_end_meeting(w, o->base.slug, o->erase);
    if (c == MU_OK)
        c = room_job_tell(&o->base, w, ROOM_CH_CLOSE);
    return c == MU_OK ? room_job_audit(&o->base, w) : c;
}

static void close_done(mu_job *j)
{
    meeting_job *o = (meeting_job *)j;
    room *r = room_job_landed(&o->base);
    if (r) {
        room_end_meeting(r);
        room_restart_joins(r); /* the facilitators who stay start from here */
        reply_empty(o->base.c);
        room_recheck(r->slug);
    }
    room_job_free(&o->base);
}

void op_room_close(mu_conn *c, mu_request *req)
{
    room *r = room_facilitated(c, req);
    if (!r)
        return;
    if (!r->is_open) {
        reply_empty(c);
        return;
    }
    meeting_job *o = room_job_new(sizeof(*o), c, r->slug, "close");
    o->erase = !r->persistent;
    room_job_submit(&o->base, close_run, close_done);
}

void room_end_meeting(room *r)
{
    r->is_open = r->locked = r->lobby = r->floor_mode = false;
    r->floor_user = r->floor_ends = 0;
    r->hands.n = 0;
    r->mutes.n = 0;
    for (size_t i = r->members.n; i-- > 0;) {
        member *m = &r->members.v[i];
        if (room_is_facilitator(m->role))
            continue;
        room_send_event(m, MU_OP_EV_ROOM_CLOSED, r);
        room_member_out(r, m, true);
    }
    while (r->waiting.n)
        room_turn_away(r, &r->waiting.v[r->waiting.n - 1]);
    room_send_state(r);
}

/* ---- being in it: join, leave ------------------------------------------------------------ */

void room_knock(const room *r, const member *w)
{
    for (size_t i = 0; i < r->members.n; i++)
        if (room_is_facilitator(r->members.v[i].role)) {
            mu_enc k;
            frame_enc_init(&k);
            mu_enc_event(&k, MU_OP_EV_ROOM_KNOCK, 3);
            mu_enc_kstr(&k, "room", r->slug);
            mu_enc_kstr(&k, "handle", w->handle);
            mu_enc_kstr(&k, "role", role_name(w->role));
            room_send_to(r, &r->members.v[i], &k);
        }
}

typedef struct {
    read_call rc;
    room_history_ask ask;
    bool recovered;
    bool joined_now, answered; /* the connection was not in the room before; the reply went */
    char slug[ROOM_SLUG_MAX + 1];
    uint64_t serial;    /* the room joined (room.serial) */
    mu_enc head, state; /* encoded when the request was handled */
} join_call;

static bool join_run(read_call *rc, mu_reader *r)
{
    join_call *k = (join_call *)rc;
    return room_history_read(r, &k->ask, &rc->body, &k->recovered) == 0;
}

static void join_reply(read_call *rc)
{
    join_call *k = (join_call *)rc;
    mu_enc e;
    reply_begin(rc->c, &e, 4 + k->ask.has_since);
    room_enc_join_parts(&e, &k->head, &rc->body, &k->state);
    if (k->ask.has_since)
        mu_enc_kbool(&e, "recovered", k->recovered);
    reply_end(rc->c, &e);
    k->answered = true;
}

static void join_release(read_call *rc)
{
    join_call *k = (join_call *)rc;
    if (!k->answered && k->joined_now && conn_alive(rc->c)) {
        /* The join failed (its reply says so): it does not leave the person half in. */
        room *r = rooms_find(k->slug, strlen(k->slug));
        member *m = r ? room_member(r, rc->user) : NULL;
        if (m && member_has_conn(m, rc->c))
            room_leave_conn(r, rc->c);
        /* Nor does it see what was said there while the join was being read. */
        conn_drop_held(rc->c, k->serial);
    }
    mu_enc_free(&k->head);
    mu_enc_free(&k->state);
    conn_release(rc->c);
}

void op_room_join(mu_conn *c, mu_request *req)
{
    room *r = room_access(c, req);
    if (!r)
        return;
    const mu_val *since = mu_req_field(req, "since");
    if (!room_member(r, c->user_id) && !room_is_facilitator(c->role)) {
        if (!r->is_open) {
            reply_err(c, MU_E_CONFLICT, "The meeting is not open now.");
            return;
        }
        if (ids_has(&r->bans, c->user_id)) {
            reply_err(c, MU_E_FORBIDDEN, "You cannot join this room.");
            return;
        }
        if (r->locked) {
            reply_err(c, MU_E_FORBIDDEN, "The meeting is locked to new arrivals.");
            return;
        }
        if ((int)r->members.n >= r->capacity) {
            reply_err(c, MU_E_ROOM_FULL, "The room is full (%d people).", r->capacity);
            return;
        }
        if (r->lobby) {
            bool first = room_wait_conn(r, c);
            mu_enc e;
            reply_begin(c, &e, 1);
            mu_enc_kbool(&e, "waiting", true);
            reply_end(c, &e);
            if (first)
                room_knock(r, room_waiter(r, c->user_id));
            return;
        }
    }
    member *was = room_member(r, c->user_id);
    bool joined_now = !was || !member_has_conn(was, c);
    room_join_conn(r, c, c->user_id, c->handle, c->role);
    /* The room as it is now, and its history up to now read off the loop: what happens in
     * the room meanwhile is held back on the connection and follows the reply. */
    join_call *k = (join_call *)reads_new(c, sizeof(*k), join_run, "the room's history");
    k->joined_now = joined_now;
    snprintf(k->slug, sizeof(k->slug), "%s", r->slug);
    k->serial = r->serial;
    room_history_ask_of(&k->ask, r, c->user_id, since->present,
                        since->present ? (int64_t)since->v.u : 0);
    mu_enc_init(&k->head, 0);
    room_enc_join_head(&k->head, r);
    mu_enc_init(&k->state, 0);
    room_enc_join_state(&k->state, r);
    k->rc.then = join_reply;
    k->rc.release = join_release;
    conn_hold(c);
    reads_submit(&k->rc);
}

void op_room_leave(mu_conn *c, mu_request *req)
{
    room *r = room_access(c, req);
    if (!r)
        return;
    member *m = room_member(r, c->user_id), *w = room_waiter(r, c->user_id);
    if ((!m || !member_has_conn(m, c)) && (!w || !member_has_conn(w, c))) {
        reply_err(c, MU_E_CONFLICT, "You are not in that room.");
        return;
    }
    room_leave_conn(r, c);
    reply_empty(c);
}

/* ---- what is said: say, history ------------------------------------------------------------ */

typedef struct {
    room_job base;
    int64_t seq;      /* given in the write */
    bool said_before; /* a retry: seq and ts are the first one's, nothing was stored */
    char *text, *cid; /* owned; cid NULL when the request had none */
    size_t text_len, cid_len;
} say_job;

static void say_job_free(say_job *o)
{
    free(o->text);
    free(o->cid);
    room_job_free(&o->base);
}

static mu_code say_run(mu_job *j, mu_wtx *w)
{
    say_job *o = (say_job *)j;
    if (o->cid) {
        /* A retry through any node: the room's lock (its job key) orders this after the
         * first one's commit, and a retry in this batch sees the first one's row. */
        int f = store_rooms_find_cid_w(w, o->base.slug, o->base.actor_id, o->cid, o->cid_len,
                                       &o->seq, &o->base.ts);
        if (f != 0) {
            o->said_before = f == 1;
            return f == 1 ? MU_OK : MU_E_INTERNAL;
        }
    }
    mu_code c = store_rooms_msg_insert(w, o->base.slug, o->base.ts, o->base.actor_id, o->base.actor,
                                       o->text, o->text_len, o->cid, o->cid_len, &o->seq);
    return c == MU_OK ? events_publish_word(w, "msg", o->base.slug, o->seq, 0, 0) : c;
}

static void say_done(mu_job *j)
{
    say_job *o = (say_job *)j;
    room *r = rooms_find(o->base.slug, strlen(o->base.slug));
    if (j->result != MU_OK) {
        if (j->result == MU_E_NOT_FOUND)
            reply_err(o->base.c, MU_E_NOT_FOUND, "The room is gone.");
        else
            reply_write_failed(o->base.c, j->result, "the message was not saved");
    } else if (!r) {
        reply_err(o->base.c, MU_E_NOT_FOUND, "The room is gone.");
    } else {
        mu_enc e;
        reply_begin(o->base.c, &e, 2);
        mu_enc_kint(&e, "seq", o->seq);
        mu_enc_kint(&e, "ts", o->base.ts);
        reply_end(o->base.c, &e);
        if (!o->said_before)
            room_deliver(r, o->seq,
                         &(room_msg_row){o->seq, o->base.ts, o->base.actor, o->text, o->text_len});
    }
    say_job_free(o);
}

void op_room_say(mu_conn *c, mu_request *req)
{
    room *r = room_access(c, req);
    if (!r)
        return;
    member *m = room_member(r, c->user_id);
    if (!m || !member_has_conn(m, c)) {
        reply_err(c, MU_E_FORBIDDEN, "Join the room first.");
        return;
    }
    if (ids_has(&r->mutes, c->user_id)) {
        reply_err(c, MU_E_FORBIDDEN, "A facilitator has muted you in this meeting.");
        return;
    }
    if (r->floor_mode && r->floor_user != c->user_id && !room_is_facilitator(c->role)) {
        reply_err(c, MU_E_FORBIDDEN, "Someone else has the floor; raise your hand.");
        return;
    }
    const mu_val *cid = mu_req_field(req, "cid"), *text = mu_req_field(req, "text");
    say_job *o = room_job_new(sizeof(*o), c, r->slug, NULL);
    o->text = xmemdup0(text->v.s.p, text->v.s.n);
    o->text_len = text->v.s.n;
    if (cid->present) {
        o->cid = xmemdup0(cid->v.s.p, cid->v.s.n);
        o->cid_len = cid->v.s.n;
    }
    room_job_submit(&o->base, say_run, say_done);
}

typedef struct {
    read_call rc;
    char slug[ROOM_SLUG_MAX + 1];
    int64_t after, before;
    int limit;
} history_call;

static bool history_run(read_call *rc, mu_reader *r)
{
    history_call *k = (history_call *)rc;
    mu_enc body;
    mu_enc_init(&body, 0);
    int n = store_rooms_msgs(r, k->slug, k->after, k->before, k->limit, room_enc_msg, &body);
    if (n < 0) {
        mu_enc_free(&body);
        return false;
    }
    return reads_list(rc, "messages", (uint32_t)n, &body);
}

void op_room_history(mu_conn *c, mu_request *req)
{
    room *r = room_joined(c, req);
    if (!r)
        return;
    const mu_val *before = mu_req_field(req, "before"), *limit = mu_req_field(req, "limit");
    history_call *k = (history_call *)reads_new(c, sizeof(*k), history_run, "messages");
    snprintf(k->slug, sizeof(k->slug), "%s", r->slug);
    k->after = room_visible_after(r, c->user_id);
    k->before = before->present && before->v.u <= (uint64_t)r->done_seq ? (int64_t)before->v.u
                                                                        : r->done_seq + 1;
    k->limit = limit->present ? (int)limit->v.u : 50;
    reads_submit(&k->rc);
}
