/* Group rooms and their meetings. See rooms.h. */
#include "rooms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "handlers.h"
#include "log.h"
#include "store_admin.h"
#include "store_rooms.h"
#include "store_users.h"
#include "xalloc.h"

/* ---- the registry and live state --------------------------------------------------------- */

typedef enum { AUD_OPEN, AUD_RECOVERY, AUD_CARERS, AUD_MENTORS } audience;
static const char *const audience_names[] = {"open", "recovery", "carers", "mentors"};

typedef struct {
    int64_t user;
    char handle[MU_HANDLE_MAX + 1];
    mu_role role;
    mu_conn **conns;
    size_t nconns, capconns;
} member;

typedef struct {
    member *v;
    size_t n, cap;
} member_list;

typedef struct {
    int64_t *v;
    size_t n, cap;
} id_list;

typedef struct pending_cid {
    struct pending_cid *next;
    int64_t user, seq, ts;
    char cid[65];
} pending_cid;

typedef struct room {
    struct room *next;
    char slug[33], name[81], format[41];
    audience aud;
    char *schedule; /* MessagePack array, or NULL */
    size_t schedule_len;
    int capacity;
    bool persistent, is_open, locked, lobby, floor_mode;
    int64_t floor_user, floor_ends;
    char floor_handle[MU_HANDLE_MAX + 1];
    uv_timer_t *floor_timer;
    int64_t next_seq, done_seq;
    member_list members, waiting;
    id_list hands, bans, mutes;
    pending_cid *pending;
} room;

static room *rooms;
static mu_server *srv;

static bool admits(audience a, mu_role r)
{
    switch (a) {
    case AUD_OPEN: return true;
    case AUD_RECOVERY: return r != ROLE_FAMILY;
    case AUD_CARERS: return r != ROLE_MEMBER;
    case AUD_MENTORS: return r == ROLE_MENTOR || r == ROLE_ADMIN;
    }
    return false;
}

static bool is_facilitator(mu_role r)
{
    return r == ROLE_MENTOR || r == ROLE_ADMIN; /* every audience admits them */
}

static room *room_find(const char *slug, size_t n)
{
    for (room *r = rooms; r; r = r->next)
        if (strlen(r->slug) == n && memcmp(r->slug, slug, n) == 0)
            return r;
    return NULL;
}

static bool ids_has(const id_list *l, int64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == id)
            return true;
    return false;
}

static void ids_add(id_list *l, int64_t id)
{
    if (ids_has(l, id))
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = id;
}

static bool ids_del(id_list *l, int64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == id) {
            memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
            l->n--;
            return true;
        }
    return false;
}

static member *members_find(member_list *l, int64_t user)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].user == user)
            return &l->v[i];
    return NULL;
}

static member *members_add(member_list *l, int64_t user, const char *handle, mu_role role)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    member *m = &l->v[l->n++];
    memset(m, 0, sizeof(*m));
    m->user = user;
    snprintf(m->handle, sizeof(m->handle), "%s", handle);
    m->role = role;
    return m;
}

static void members_del(member_list *l, member *m)
{
    free(m->conns);
    size_t i = (size_t)(m - l->v);
    memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
    l->n--;
}

static bool member_has_conn(const member *m, const mu_conn *c)
{
    for (size_t i = 0; i < m->nconns; i++)
        if (m->conns[i] == c)
            return true;
    return false;
}

static void conn_track(mu_conn *c, room *r)
{
    for (unsigned i = 0; i < c->nrooms; i++)
        if (c->rooms[i] == r)
            return;
    if (c->nrooms == c->caprooms) {
        c->caprooms = c->caprooms ? c->caprooms * 2 : 4;
        c->rooms = xrealloc(c->rooms, c->caprooms * sizeof(*c->rooms));
    }
    c->rooms[c->nrooms++] = r;
}

static void conn_untrack(mu_conn *c, room *r)
{
    for (unsigned i = 0; i < c->nrooms; i++)
        if (c->rooms[i] == r) {
            c->rooms[i] = c->rooms[--c->nrooms];
            return;
        }
}

static void member_add_conn(member *m, mu_conn *c)
{
    if (member_has_conn(m, c))
        return;
    if (m->nconns == m->capconns) {
        m->capconns = m->capconns ? m->capconns * 2 : 2;
        m->conns = xrealloc(m->conns, m->capconns * sizeof(*m->conns));
    }
    m->conns[m->nconns++] = c;
}

static void member_del_conn(member *m, mu_conn *c)
{
    for (size_t i = 0; i < m->nconns; i++)
        if (m->conns[i] == c) {
            m->conns[i] = m->conns[--m->nconns];
            return;
        }
}

/* ---- encoding ------------------------------------------------------------------------------ */

static void enc_room(mu_enc *e, const room *r)
{
    mu_enc_map(e, 10);
    mu_enc_kstr(e, "room", r->slug);
    mu_enc_kstr(e, "name", r->name);
    mu_enc_kstr(e, "audience", audience_names[r->aud]);
    mu_enc_kstr(e, "format", r->format);
    mu_enc_key(e, "schedule");
    if (r->schedule)
        mu_enc_raw(e, r->schedule, r->schedule_len);
    else
        mu_enc_array(e, 0);
    mu_enc_kint(e, "capacity", r->capacity);
    mu_enc_kbool(e, "persistent", r->persistent);
    mu_enc_kbool(e, "is_open", r->is_open);
    mu_enc_kbool(e, "locked", r->locked);
    mu_enc_kint(e, "present", (int64_t)r->members.n);
}

static const char *handle_of(const room *r, int64_t user)
{
    for (size_t i = 0; i < r->members.n; i++)
        if (r->members.v[i].user == user)
            return r->members.v[i].handle;
    return NULL;
}

/* The seven state fields, without the map header. */
static void enc_state_fields(mu_enc *e, const room *r)
{
    mu_enc_kbool(e, "is_open", r->is_open);
    mu_enc_kbool(e, "locked", r->locked);
    mu_enc_kbool(e, "lobby", r->lobby);
    mu_enc_kbool(e, "floor_mode", r->floor_mode);
    if (r->floor_user)
        mu_enc_kstr(e, "floor", r->floor_handle);
    else
        mu_enc_knil(e, "floor");
    if (r->floor_user && r->floor_ends)
        mu_enc_kint(e, "floor_ends", r->floor_ends);
    else
        mu_enc_knil(e, "floor_ends");
    mu_enc_key(e, "hands");
    mu_enc_array(e, (uint32_t)r->hands.n);
    for (size_t i = 0; i < r->hands.n; i++) {
        const char *h = handle_of(r, r->hands.v[i]);
        mu_enc_str(e, h ? h : "");
    }
}

static void enc_members(mu_enc *e, const room *r)
{
    mu_enc_array(e, (uint32_t)r->members.n);
    for (size_t i = 0; i < r->members.n; i++) {
        const member *m = &r->members.v[i];
        mu_enc_map(e, 4);
        mu_enc_kstr(e, "handle", m->handle);
        mu_enc_kstr(e, "role", role_name(m->role));
        mu_enc_kbool(e, "facilitator", is_facilitator(m->role));
        mu_enc_kbool(e, "muted", ids_has(&r->mutes, m->user));
    }
}

static void put_msg(const room_msg_row *m, void *ud)
{
    mu_enc *e = ud;
    mu_enc_map(e, 4);
    mu_enc_kint(e, "seq", m->seq);
    mu_enc_kint(e, "ts", m->ts);
    mu_enc_kstr(e, "from", m->from);
    mu_enc_kstrn(e, "text", m->text, m->text_len);
}

/* History for a join: the last 50, or everything after `since` when it can be had. */
static int enc_history(mu_enc *e, const room *r, bool has_since, int64_t since, bool *recovered)
{
    mu_enc body;
    mu_enc_init(&body, 0);
    int n;
    if (!has_since) {
        n = store_rooms_msgs(srv->store, r->slug, 0, INT64_MAX, 50, put_msg, &body);
    } else {
        int64_t min_seq = 0;
        int64_t held = store_rooms_msgs_count_after(srv->store, r->slug, since, &min_seq);
        int64_t expected = r->done_seq > since ? r->done_seq - since : 0;
        *recovered = held >= 0 && held <= 500 && held >= expected;
        n = store_rooms_msgs(srv->store, r->slug, since, INT64_MAX, 500, put_msg, &body);
    }
    if (n < 0) {
        mu_enc_free(&body);
        return -1;
    }
    mu_enc_array(e, (uint32_t)n);
    mu_enc_append(e, &body);
    return 0;
}

/* The fields of a join reply (and of room.admitted): room, members, history, state. */
static int enc_join_fields(mu_enc *e, const room *r, bool has_since, int64_t since)
{
    bool recovered = false;
    mu_enc_key(e, "room");
    enc_room(e, r);
    mu_enc_key(e, "members");
    enc_members(e, r);
    mu_enc_key(e, "history");
    if (enc_history(e, r, has_since, since, &recovered) != 0)
        return -1;
    mu_enc_key(e, "state");
    mu_enc_map(e, 7);
    enc_state_fields(e, r);
    if (has_since)
        mu_enc_kbool(e, "recovered", recovered);
    return 0;
}

/* ---- fan-out ------------------------------------------------------------------------------ */

static void send_member(const member *m, mu_frame *f)
{
    for (size_t i = 0; i < m->nconns; i++)
        conn_send(m->conns[i], f);
}

/* One frame to every connection in the room, but those of `except_user` (0: none). */
static void broadcast(const room *r, mu_frame *f, int64_t except_user)
{
    for (size_t i = 0; i < r->members.n; i++)
        if (r->members.v[i].user != except_user)
            send_member(&r->members.v[i], f);
}

static void broadcast_enc(const room *r, mu_enc *e, int64_t except_user)
{
    mu_frame *f = frame_from_enc(e);
    mu_enc_free(e);
    broadcast(r, f, except_user);
    frame_unref(f);
}

static void send_state(const room *r)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, MU_OP_EV_ROOM_STATE, 8);
    mu_enc_kstr(&e, "room", r->slug);
    enc_state_fields(&e, r);
    broadcast_enc(r, &e, 0);
}

static void send_presence(const room *r, const member *m, const char *state)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, MU_OP_EV_ROOM_PRESENCE, 4);
    mu_enc_kstr(&e, "room", r->slug);
    mu_enc_kstr(&e, "handle", m->handle);
    mu_enc_kstr(&e, "role", role_name(m->role));
    mu_enc_kstr(&e, "state", state);
    broadcast_enc(r, &e, m->user);
}

static void send_moderation(const room *r, const char *action, const char *handle,
                            const char *by)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, MU_OP_EV_ROOM_MODERATION, 4);
    mu_enc_kstr(&e, "room", r->slug);
    mu_enc_kstr(&e, "action", action);
    mu_enc_kstr(&e, "handle", handle);
    mu_enc_kstr(&e, "by", by);
    broadcast_enc(r, &e, 0);
}

/* An event to each connection of one (member or waiting) user. */
static void send_to_member(const member *m, mu_enc *e)
{
    mu_frame *f = frame_from_enc(e);
    mu_enc_free(e);
    send_member(m, f);
    frame_unref(f);
}

static void simple_event(const member *m, mu_op_id ev, const room *r)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, ev, 1);
    mu_enc_kstr(&e, "room", r->slug);
    send_to_member(m, &e);
}

/* ---- leaving ------------------------------------------------------------------------------ */

/* The user is out of the room: no floor, no hand, presence left. Returns whether the state
 * changed (and was sent). */
static void member_out(room *r, member *m, bool tell)
{
    bool changed = ids_del(&r->hands, m->user);
    if (r->floor_user == m->user) {
        r->floor_user = 0;
        r->floor_ends = 0;
        changed = true;
    }
    for (size_t i = 0; i < m->nconns; i++)
        conn_untrack(m->conns[i], r);
    member gone = *m;
    gone.conns = NULL;
    members_del(&r->members, m);
    if (tell)
        send_presence(r, &gone, "left");
    if (changed)
        send_state(r);
}

static void leave_conn(room *r, mu_conn *c)
{
    for (size_t i = 0; i < r->members.n; i++) {
        member *m = &r->members.v[i];
        if (member_has_conn(m, c)) {
            member_del_conn(m, c);
            if (!m->nconns)
                member_out(r, m, true);
            break;
        }
    }
    for (size_t i = 0; i < r->waiting.n; i++) {
        member *m = &r->waiting.v[i];
        if (member_has_conn(m, c)) {
            member_del_conn(m, c);
            if (!m->nconns)
                members_del(&r->waiting, m);
            break;
        }
    }
}

void rooms_leave_all(mu_conn *c)
{
    while (c->nrooms) {
        room *r = c->rooms[c->nrooms - 1];
        c->nrooms--; /* untracked first: leave_conn may look again */
        leave_conn(r, c);
    }
}

/* ---- access ------------------------------------------------------------------------------- */

static room *access_room(mu_conn *c, mu_request *req)
{
    const mu_val *v = mu_req_field(req, "room");
    room *r = room_find(v->v.s.p, v->v.s.n);
    if (!r) {
        reply_err(c, MU_E_NOT_FOUND, "There is no room '%.*s'.", (int)v->v.s.n, v->v.s.p);
        return NULL;
    }
    if (!admits(r->aud, c->role)) {
        reply_err(c, MU_E_FORBIDDEN, "That room is not open to your role.");
        return NULL;
    }
    return r;
}

static room *facilitated(mu_conn *c, mu_request *req)
{
    room *r = access_room(c, req);
    if (r && !is_facilitator(c->role)) {
        reply_err(c, MU_E_FORBIDDEN, "Only the room's facilitators may do that.");
        return NULL;
    }
    return r;
}

/* ---- jobs --------------------------------------------------------------------------------- */

typedef enum {
    OP_CREATE, OP_UPDATE, OP_DELETE, OP_OPEN, OP_CLOSE, OP_SAY, OP_MUTE, OP_UNMUTE, OP_REMOVE,
    OP_UNBAN, OP_LOCK, OP_LOBBY, OP_ADMIT, OP_DENY
} op_kind;

typedef struct {
    mu_job job;
    mu_conn *c;
    op_kind kind;
    char slug[33];
    room_def def;
    char name[81], format[41], audience[16];
    char *schedule;
    size_t schedule_len;
    int64_t actor_id, target_id, ts, seq, last_seq;
    char actor[MU_HANDLE_MAX + 1], target[MU_HANDLE_MAX + 1];
    bool flag, erase;
    char *text, *cid;
    size_t text_len, cid_len;
    const char *audit_action;
} room_op;

static room_op *op_new(mu_conn *c, op_kind kind, const char *slug)
{
    room_op *o = xcalloc(1, sizeof(*o));
    o->c = conn_ref(c);
    o->kind = kind;
    snprintf(o->slug, sizeof(o->slug), "%s", slug);
    o->actor_id = c->user_id;
    snprintf(o->actor, sizeof(o->actor), "%s", c->handle);
    o->ts = clock_now_ms();
    return o;
}

static void op_free(room_op *o)
{
    conn_unref(o->c);
    free(o->schedule);
    free(o->text);
    free(o->cid);
    free(o);
}

static mu_code op_run(mu_job *j, mu_wtx *w)
{
    room_op *o = (room_op *)j;
    mu_code c = MU_OK;
    switch (o->kind) {
    case OP_CREATE: c = store_rooms_insert(w, &o->def, o->ts); break;
    case OP_UPDATE: c = store_rooms_update(w, &o->def); break;
    case OP_DELETE: c = store_rooms_remove(w, o->slug); break;
    case OP_OPEN: c = store_rooms_set_open(w, o->slug, true); break;
    case OP_CLOSE:
        c = store_rooms_set_open(w, o->slug, false);
        if (c == MU_OK)
            c = store_rooms_end_meeting(w, o->slug, o->erase, o->last_seq);
        break;
    case OP_SAY:
        return store_rooms_msg_insert(w, o->slug, o->seq, o->ts, o->actor_id, o->actor, o->text,
                                      o->text_len, o->cid, o->cid_len);
    case OP_MUTE:
    case OP_UNMUTE:
        c = store_rooms_user_set(w, ROOM_MUTES, o->slug, o->target_id, o->kind == OP_MUTE);
        break;
    case OP_REMOVE:
        if (o->flag)
            c = store_rooms_user_set(w, ROOM_BANS, o->slug, o->target_id, true);
        break;
    case OP_UNBAN: c = store_rooms_user_set(w, ROOM_BANS, o->slug, o->target_id, false); break;
    default: break;
    }
    if (c == MU_OK && o->audit_action)
        c = store_admin_audit_add(w, o->ts, o->actor_id, o->actor, o->audit_action, o->target_id,
                      o->target[0] ? o->target : NULL, o->slug);
    return c;
}

static void op_done(mu_job *j);

static void submit(room_op *o, const char *audit_action)
{
    o->audit_action = audit_action;
    o->job.run = op_run;
    o->job.done = op_done;
    store_submit(srv->store, &o->job);
}

static void reply_room(mu_conn *c, const room *r)
{
    mu_enc e;
    reply_begin(c, &e, 1);
    mu_enc_key(&e, "room");
    enc_room(&e, r);
    reply_end(c, &e);
}

static void set_def(room *r, const room_op *o)
{
    snprintf(r->name, sizeof(r->name), "%s", o->def.name);
    snprintf(r->format, sizeof(r->format), "%s", o->def.format);
    free(r->schedule);
    r->schedule = NULL;
    r->schedule_len = 0;
    if (o->def.schedule) {
        r->schedule = xmalloc(o->def.schedule_len);
        memcpy(r->schedule, o->def.schedule, o->def.schedule_len);
        r->schedule_len = o->def.schedule_len;
    }
    r->capacity = o->def.capacity;
    r->persistent = o->def.persistent;
}

static void room_free(room *r)
{
    for (size_t i = 0; i < r->members.n; i++)
        free(r->members.v[i].conns);
    for (size_t i = 0; i < r->waiting.n; i++)
        free(r->waiting.v[i].conns);
    free(r->members.v);
    free(r->waiting.v);
    free(r->hands.v);
    free(r->bans.v);
    free(r->mutes.v);
    free(r->schedule);
    for (pending_cid *p = r->pending, *n; p; p = n) {
        n = p->next;
        free(p);
    }
    if (r->floor_timer) {
        uv_timer_stop(r->floor_timer);
        uv_close((uv_handle_t *)r->floor_timer, (uv_close_cb)free);
    }
    free(r);
}

static void end_meeting(room *r);
static void finish_say(room *r, room_op *o);
static void admit_waiting(room *r, member *w);

static void op_done(mu_job *j)
{
    room_op *o = (room_op *)j;
    mu_conn *c = o->c;
    room *r = room_find(o->slug, strlen(o->slug));
    if (j->result != MU_OK) {
        if (o->kind == OP_CREATE && j->result == MU_E_CONFLICT)
            reply_err(c, MU_E_CONFLICT, "A room with that slug exists already.");
        else
            reply_write_failed(c, j->result, "nothing was changed");
        if (o->kind == OP_SAY && r) {
            for (pending_cid **pp = &r->pending; *pp; pp = &(*pp)->next)
                if ((*pp)->seq == o->seq) {
                    pending_cid *p = *pp;
                    *pp = p->next;
                    free(p);
                    break;
                }
        }
        op_free(o);
        return;
    }
    if (o->kind == OP_CREATE) {
        room *n = xcalloc(1, sizeof(*n));
        snprintf(n->slug, sizeof(n->slug), "%s", o->slug);
        for (int a = 0; a < 4; a++)
            if (!strcmp(audience_names[a], o->def.audience))
                n->aud = (audience)a;
        set_def(n, o);
        n->next_seq = 1;
        n->next = rooms;
        rooms = n;
        reply_room(c, n);
        op_free(o);
        return;
    }
    if (!r) {
        reply_err(c, MU_E_NOT_FOUND, "The room is gone.");
        op_free(o);
        return;
    }
    member *t;
    switch (o->kind) {
    case OP_UPDATE:
        set_def(r, o);
        reply_room(c, r);
        break;
    case OP_DELETE: {
        for (room **pp = &rooms; *pp; pp = &(*pp)->next)
            if (*pp == r) {
                *pp = r->next;
                break;
            }
        while (r->members.n) {
            member *m = &r->members.v[r->members.n - 1];
            simple_event(m, MU_OP_EV_ROOM_CLOSED, r);
            for (size_t i = 0; i < m->nconns; i++)
                conn_untrack(m->conns[i], r);
            members_del(&r->members, m);
        }
        while (r->waiting.n) {
            member *m = &r->waiting.v[r->waiting.n - 1];
            simple_event(m, MU_OP_EV_ROOM_DENIED, r);
            for (size_t i = 0; i < m->nconns; i++)
                conn_untrack(m->conns[i], r);
            members_del(&r->waiting, m);
        }
        room_free(r);
        reply_empty(c);
        break;
    }
    case OP_OPEN:
        r->is_open = true;
        reply_empty(c);
        send_state(r);
        break;
    case OP_CLOSE:
        if (o->erase)
            for (pending_cid *p = r->pending, *n; p; p = n) {
                n = p->next;
                free(p);
            }
        if (o->erase)
            r->pending = NULL;
        end_meeting(r);
        reply_empty(c);
        break;
    case OP_SAY:
        finish_say(r, o);
        o = NULL;
        break;
    case OP_MUTE:
        ids_add(&r->mutes, o->target_id);
        reply_empty(c);
        send_moderation(r, "mute", o->target, o->actor);
        break;
    case OP_UNMUTE:
        ids_del(&r->mutes, o->target_id);
        reply_empty(c);
        send_moderation(r, "unmute", o->target, o->actor);
        break;
    case OP_REMOVE:
        if (o->flag)
            ids_add(&r->bans, o->target_id);
        reply_empty(c);
        send_moderation(r, o->flag ? "ban" : "remove", o->target, o->actor);
        if ((t = members_find(&r->members, o->target_id))) {
            mu_enc e;
            frame_enc_init(&e);
            mu_enc_event(&e, MU_OP_EV_ROOM_REMOVED, 3);
            mu_enc_kstr(&e, "room", r->slug);
            mu_enc_kstr(&e, "by", o->actor);
            mu_enc_kbool(&e, "ban", o->flag);
            send_to_member(t, &e);
            member_out(r, t, true);
        }
        if ((t = members_find(&r->waiting, o->target_id))) {
            simple_event(t, MU_OP_EV_ROOM_DENIED, r);
            for (size_t i = 0; i < t->nconns; i++)
                conn_untrack(t->conns[i], r);
            members_del(&r->waiting, t);
        }
        break;
    case OP_UNBAN:
        ids_del(&r->bans, o->target_id);
        reply_empty(c);
        send_moderation(r, "unban", o->target, o->actor);
        break;
    case OP_LOCK:
        r->locked = o->flag;
        reply_empty(c);
        send_state(r);
        break;
    case OP_LOBBY:
        r->lobby = o->flag;
        reply_empty(c);
        send_state(r);
        while (!r->lobby && r->waiting.n)
            admit_waiting(r, &r->waiting.v[0]);
        break;
    case OP_ADMIT:
    case OP_DENY:
        reply_empty(c);
        if ((t = members_find(&r->waiting, o->target_id))) {
            if (o->kind == OP_ADMIT) {
                admit_waiting(r, t);
            } else {
                simple_event(t, MU_OP_EV_ROOM_DENIED, r);
                for (size_t i = 0; i < t->nconns; i++)
                    conn_untrack(t->conns[i], r);
                members_del(&r->waiting, t);
            }
        }
        break;
    default:
        reply_empty(c);
        break;
    }
    if (o)
        op_free(o);
}

/* ---- meeting life ------------------------------------------------------------------------- */

static void end_meeting(room *r)
{
    r->is_open = r->locked = r->lobby = r->floor_mode = false;
    r->floor_user = r->floor_ends = 0;
    r->hands.n = 0;
    r->mutes.n = 0;
    /* Everyone who is not a facilitator is out; whoever waits is turned away. */
    for (size_t i = r->members.n; i-- > 0;) {
        member *m = &r->members.v[i];
        if (is_facilitator(m->role))
            continue;
        simple_event(m, MU_OP_EV_ROOM_CLOSED, r);
        member_out(r, m, true);
    }
    while (r->waiting.n) {
        member *m = &r->waiting.v[r->waiting.n - 1];
        simple_event(m, MU_OP_EV_ROOM_DENIED, r);
        for (size_t i = 0; i < m->nconns; i++)
            conn_untrack(m->conns[i], r);
        members_del(&r->waiting, m);
    }
    send_state(r);
}

static void do_join(room *r, mu_conn *c, int64_t user, const char *handle, mu_role role)
{
    member *m = members_find(&r->members, user);
    bool fresh = !m;
    if (!m)
        m = members_add(&r->members, user, handle, role);
    member_add_conn(m, c);
    conn_track(c, r);
    if (fresh)
        send_presence(r, m, "joined");
}

static void admit_waiting(room *r, member *w)
{
    member copy = *w;
    w->conns = NULL;
    members_del(&r->waiting, w);
    for (size_t i = 0; i < copy.nconns; i++)
        do_join(r, copy.conns[i], copy.user, copy.handle, copy.role);
    member *m = members_find(&r->members, copy.user);
    if (m) {
        mu_enc e;
        frame_enc_init(&e);
        mu_enc_event(&e, MU_OP_EV_ROOM_ADMITTED, 4);
        if (enc_join_fields(&e, r, false, 0) == 0)
            send_to_member(m, &e);
        else
            mu_enc_free(&e);
    }
    free(copy.conns);
}

/* ---- handlers ----------------------------------------------------------------------------- */

void op_rooms_list(mu_conn *c, mu_request *req)
{
    uint32_t n = 0;
    for (room *r = rooms; r; r = r->next)
        n += admits(r->aud, c->role);
    mu_enc e;
    reply_begin(c, &e, 1);
    mu_enc_key(&e, "rooms");
    mu_enc_array(&e, n);
    for (room *r = rooms; r; r = r->next)
        if (admits(r->aud, c->role))
            enc_room(&e, r);
    reply_end(c, &e);
}

static bool hhmm(const msgpack_object *o)
{
    if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size != 5)
        return false;
    const char *s = o->via.str.ptr;
    if (s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' || s[1] > '9' || s[3] < '0' ||
        s[3] > '5' || s[4] < '0' || s[4] > '9')
        return false;
    return (s[0] - '0') * 10 + (s[1] - '0') < 24;
}

static bool tz_shape(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size < 3 || o->via.str.size > 64)
        return false;
    const char *s = o->via.str.ptr;
    size_t n = o->via.str.size;
    const char *slash = memchr(s, '/', n);
    if (!slash || slash == s || slash == s + n - 1)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '/' || ch == '_' || ch == '-' || ch == '+'))
            return false;
    }
    return s[0] >= 'A' && s[0] <= 'Z';
}

bool rooms_schedule_valid(const msgpack_object *list, char *err, size_t cap)
{
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *slot = &list->via.array.ptr[i];
        if (slot->type != MSGPACK_OBJECT_MAP) {
            snprintf(err, cap, "schedule item %u must be a map {day, time}.", i + 1);
            return false;
        }
        const msgpack_object *day = mu_map_get(slot, "day"), *time = mu_map_get(slot, "time");
        const msgpack_object *end = mu_map_get(slot, "end_time"), *tz = mu_map_get(slot, "timezone");
        if (!day || day->type != MSGPACK_OBJECT_POSITIVE_INTEGER || day->via.u64 > 6) {
            snprintf(err, cap, "schedule item %u: day must be 0 (Sunday) to 6.", i + 1);
            return false;
        }
        if (!hhmm(time)) {
            snprintf(err, cap, "schedule item %u: time must be HH:MM, 00:00 to 23:59.", i + 1);
            return false;
        }
        if (end && end->type != MSGPACK_OBJECT_NIL && !hhmm(end)) {
            snprintf(err, cap, "schedule item %u: end_time must be HH:MM, 00:00 to 23:59.", i + 1);
            return false;
        }
        if (tz && tz->type != MSGPACK_OBJECT_NIL && !tz_shape(tz)) {
            snprintf(err, cap, "schedule item %u: timezone must be an IANA name such as "
                               "Europe/London.", i + 1);
            return false;
        }
    }
    return true;
}

/* The schedule, normalised to {day, time, end_time?, timezone?} slots. */
static void pack_schedule(const msgpack_object *list, char **out, size_t *len)
{
    mu_enc e;
    mu_enc_init(&e, 0);
    mu_enc_array(&e, list->via.array.size);
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *slot = &list->via.array.ptr[i];
        const msgpack_object *end = mu_map_get(slot, "end_time"), *tz = mu_map_get(slot, "timezone");
        bool has_end = end && end->type == MSGPACK_OBJECT_STR;
        bool has_tz = tz && tz->type == MSGPACK_OBJECT_STR;
        mu_enc_map(&e, 2 + has_end + has_tz);
        mu_enc_kuint(&e, "day", mu_map_get(slot, "day")->via.u64);
        const msgpack_object *t = mu_map_get(slot, "time");
        mu_enc_kstrn(&e, "time", t->via.str.ptr, t->via.str.size);
        if (has_end)
            mu_enc_kstrn(&e, "end_time", end->via.str.ptr, end->via.str.size);
        if (has_tz)
            mu_enc_kstrn(&e, "timezone", tz->via.str.ptr, tz->via.str.size);
    }
    *out = mu_enc_release(&e, len);
}

static bool read_def(mu_conn *c, mu_request *req, room_op *o, const room *existing)
{
    const mu_val *name = mu_req_field(req, "name"), *format = mu_req_field(req, "format");
    const mu_val *sched = mu_req_field(req, "schedule"), *cap = mu_req_field(req, "capacity");
    const mu_val *pers = mu_req_field(req, "persistent");
    if (sched->present) {
        char err[160];
        if (!rooms_schedule_valid(sched->v.o, err, sizeof(err))) {
            reply_err(c, MU_E_BAD_REQUEST, "%s", err);
            return false;
        }
        pack_schedule(sched->v.o, &o->schedule, &o->schedule_len);
    } else if (existing && existing->schedule) {
        o->schedule = xmalloc(existing->schedule_len);
        memcpy(o->schedule, existing->schedule, existing->schedule_len);
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
    o->def.slug = o->slug;
    o->def.name = o->name;
    o->def.format = o->format;
    o->def.audience = o->audience;
    o->def.schedule = o->schedule;
    o->def.schedule_len = o->schedule_len;
    o->def.capacity = cap->present ? (int)cap->v.u : existing ? existing->capacity : 100;
    o->def.persistent = pers->present ? pers->v.b : existing ? existing->persistent : false;
    return true;
}

void op_room_create(mu_conn *c, mu_request *req)
{
    if (!is_facilitator(c->role)) {
        reply_err(c, MU_E_FORBIDDEN, "Only peer mentors and admins create rooms.");
        return;
    }
    const mu_val *slug = mu_req_field(req, "room"), *aud = mu_req_field(req, "audience");
    if (room_find(slug->v.s.p, slug->v.s.n)) {
        reply_err(c, MU_E_CONFLICT, "A room with that slug exists already.");
        return;
    }
    char s[33];
    snprintf(s, sizeof(s), "%.*s", (int)slug->v.s.n, slug->v.s.p);
    room_op *o = op_new(c, OP_CREATE, s);
    snprintf(o->audience, sizeof(o->audience), "%.*s", (int)aud->v.s.n, aud->v.s.p);
    if (!read_def(c, req, o, NULL)) {
        op_free(o);
        return;
    }
    submit(o, NULL);
}

void op_room_update(mu_conn *c, mu_request *req)
{
    room *r = facilitated(c, req);
    if (!r)
        return;
    room_op *o = op_new(c, OP_UPDATE, r->slug);
    snprintf(o->audience, sizeof(o->audience), "%s", audience_names[r->aud]);
    if (!read_def(c, req, o, r)) {
        op_free(o);
        return;
    }
    submit(o, NULL);
}

void op_room_delete(mu_conn *c, mu_request *req)
{
    if (c->role != ROLE_ADMIN) {
        reply_err(c, MU_E_FORBIDDEN, "Only an admin may delete a room.");
        return;
    }
    room *r = access_room(c, req);
    if (!r)
        return;
    if (r->is_open) {
        reply_err(c, MU_E_CONFLICT, "The meeting is open; close it first.");
        return;
    }
    submit(op_new(c, OP_DELETE, r->slug), NULL);
}

void op_room_open(mu_conn *c, mu_request *req)
{
    room *r = facilitated(c, req);
    if (!r)
        return;
    if (r->is_open) {
        reply_empty(c);
        return;
    }
    submit(op_new(c, OP_OPEN, r->slug), "open");
}

void op_room_close(mu_conn *c, mu_request *req)
{
    room *r = facilitated(c, req);
    if (!r)
        return;
    if (!r->is_open) {
        reply_empty(c);
        return;
    }
    room_op *o = op_new(c, OP_CLOSE, r->slug);
    o->erase = !r->persistent;
    o->last_seq = r->next_seq - 1;
    submit(o, "close");
}

void op_room_join(mu_conn *c, mu_request *req)
{
    room *r = access_room(c, req);
    if (!r)
        return;
    const mu_val *since = mu_req_field(req, "since");
    bool fac = is_facilitator(c->role);
    if (!members_find(&r->members, c->user_id) && !fac) {
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
            member *w = members_find(&r->waiting, c->user_id);
            bool knock = !w;
            if (!w)
                w = members_add(&r->waiting, c->user_id, c->handle, c->role);
            member_add_conn(w, c);
            conn_track(c, r);
            mu_enc e;
            reply_begin(c, &e, 1);
            mu_enc_kbool(&e, "waiting", true);
            reply_end(c, &e);
            if (knock)
                for (size_t i = 0; i < r->members.n; i++)
                    if (is_facilitator(r->members.v[i].role)) {
                        mu_enc k;
                        frame_enc_init(&k);
                        mu_enc_event(&k, MU_OP_EV_ROOM_KNOCK, 3);
                        mu_enc_kstr(&k, "room", r->slug);
                        mu_enc_kstr(&k, "handle", c->handle);
                        mu_enc_kstr(&k, "role", role_name(c->role));
                        send_to_member(&r->members.v[i], &k);
                    }
            return;
        }
    }
    do_join(r, c, c->user_id, c->handle, c->role);
    mu_enc e;
    reply_begin(c, &e, 4 + since->present);
    if (enc_join_fields(&e, r, since->present, since->present ? (int64_t)since->v.u : 0) != 0) {
        mu_enc_free(&e);
        reply_read_failed(c, "the room's history");
        return;
    }
    reply_end(c, &e);
}

void op_room_leave(mu_conn *c, mu_request *req)
{
    room *r = access_room(c, req);
    if (!r)
        return;
    member *m = members_find(&r->members, c->user_id);
    member *w = members_find(&r->waiting, c->user_id);
    if ((!m || !member_has_conn(m, c)) && (!w || !member_has_conn(w, c))) {
        reply_err(c, MU_E_CONFLICT, "You are not in that room.");
        return;
    }
    conn_untrack(c, r);
    leave_conn(r, c);
    reply_empty(c);
}

static void reply_said(mu_conn *c, int64_t seq, int64_t ts)
{
    mu_enc e;
    reply_begin(c, &e, 2);
    mu_enc_kint(&e, "seq", seq);
    mu_enc_kint(&e, "ts", ts);
    reply_end(c, &e);
}

static void finish_say(room *r, room_op *o)
{
    for (pending_cid **pp = &r->pending; *pp; pp = &(*pp)->next)
        if ((*pp)->seq == o->seq) {
            pending_cid *p = *pp;
            *pp = p->next;
            free(p);
            break;
        }
    if (o->seq > r->done_seq)
        r->done_seq = o->seq;
    reply_said(o->c, o->seq, o->ts);
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, MU_OP_EV_ROOM_MSG, 5);
    mu_enc_kstr(&e, "room", r->slug);
    mu_enc_kint(&e, "seq", o->seq);
    mu_enc_kint(&e, "ts", o->ts);
    mu_enc_kstr(&e, "from", o->actor);
    mu_enc_kstrn(&e, "text", o->text, o->text_len);
    broadcast_enc(r, &e, 0);
    op_free(o);
}

void op_room_say(mu_conn *c, mu_request *req)
{
    room *r = access_room(c, req);
    if (!r)
        return;
    member *m = members_find(&r->members, c->user_id);
    if (!m || !member_has_conn(m, c)) {
        reply_err(c, MU_E_FORBIDDEN, "Join the room first.");
        return;
    }
    if (ids_has(&r->mutes, c->user_id)) {
        reply_err(c, MU_E_FORBIDDEN, "A facilitator has muted you in this meeting.");
        return;
    }
    if (r->floor_mode && r->floor_user != c->user_id && !is_facilitator(c->role)) {
        reply_err(c, MU_E_FORBIDDEN, "Someone else has the floor; raise your hand.");
        return;
    }
    const mu_val *cid = mu_req_field(req, "cid"), *text = mu_req_field(req, "text");
    if (cid->present) {
        for (pending_cid *p = r->pending; p; p = p->next)
            if (p->user == c->user_id && strlen(p->cid) == cid->v.s.n &&
                !memcmp(p->cid, cid->v.s.p, cid->v.s.n)) {
                reply_said(c, p->seq, p->ts);
                return;
            }
        int64_t seq, ts;
        int f = store_rooms_find_cid(srv->store, r->slug, c->user_id, cid->v.s.p, cid->v.s.n, &seq,
                                     &ts);
        if (f < 0) {
            reply_read_failed(c, "messages");
            return;
        }
        if (f == 1) {
            reply_said(c, seq, ts);
            return;
        }
    }
    room_op *o = op_new(c, OP_SAY, r->slug);
    o->seq = r->next_seq++;
    o->text = xmalloc(text->v.s.n + 1);
    memcpy(o->text, text->v.s.p, text->v.s.n);
    o->text_len = text->v.s.n;
    if (cid->present) {
        o->cid = xmalloc(cid->v.s.n + 1);
        memcpy(o->cid, cid->v.s.p, cid->v.s.n);
        o->cid_len = cid->v.s.n;
        pending_cid *p = xcalloc(1, sizeof(*p));
        p->user = c->user_id;
        p->seq = o->seq;
        p->ts = o->ts;
        memcpy(p->cid, cid->v.s.p, cid->v.s.n);
        p->next = r->pending;
        r->pending = p;
    }
    submit(o, NULL);
}

void op_room_history(mu_conn *c, mu_request *req)
{
    room *r = access_room(c, req);
    if (!r)
        return;
    member *m = members_find(&r->members, c->user_id);
    if (!m) {
        reply_err(c, MU_E_FORBIDDEN, "Join the room first.");
        return;
    }
    const mu_val *before = mu_req_field(req, "before"), *limit = mu_req_field(req, "limit");
    int64_t b = before->present && before->v.u < (uint64_t)INT64_MAX ? (int64_t)before->v.u : INT64_MAX;
    mu_enc body;
    mu_enc_init(&body, 0);
    int n = store_rooms_msgs(srv->store, r->slug, 0, b, limit->present ? (int)limit->v.u : 50,
                             put_msg, &body);
    if (n < 0) {
        mu_enc_free(&body);
        reply_read_failed(c, "messages");
        return;
    }
    reply_list(c, "messages", (uint32_t)n, &body);
}

/* A moderation target: an account that is not a facilitator. */
static bool target(mu_conn *c, mu_request *req, room_op *o)
{
    user_row u;
    int f = store_users_find_by_handle(srv->store, mu_req_field(req, "handle")->v.h, &u);
    if (f < 0) {
        reply_read_failed(c, "accounts");
        return false;
    }
    if (!f) {
        reply_err(c, MU_E_NOT_FOUND, "No account has that handle.");
        return false;
    }
    if (is_facilitator(u.role)) {
        reply_err(c, MU_E_FORBIDDEN, "Facilitators cannot be muted, removed or banned.");
        return false;
    }
    o->target_id = u.id;
    snprintf(o->target, sizeof(o->target), "%s", u.handle);
    return true;
}

static void moderate(mu_conn *c, mu_request *req, op_kind kind, const char *action)
{
    room *r = facilitated(c, req);
    if (!r)
        return;
    room_op *o = op_new(c, kind, r->slug);
    if (!target(c, req, o)) {
        op_free(o);
        return;
    }
    if (kind == OP_REMOVE) {
        const mu_val *ban = mu_req_field(req, "ban");
        o->flag = ban->present && ban->v.b;
        if (!o->flag && !members_find(&r->members, o->target_id) &&
            !members_find(&r->waiting, o->target_id)) {
            reply_err(c, MU_E_CONFLICT, "'%s' is not in the room.", o->target);
            op_free(o);
            return;
        }
        action = o->flag ? "ban" : "remove";
    }
    submit(o, action);
}

void op_room_mute(mu_conn *c, mu_request *r) { moderate(c, r, OP_MUTE, "mute"); }
void op_room_unmute(mu_conn *c, mu_request *r) { moderate(c, r, OP_UNMUTE, "unmute"); }
void op_room_remove(mu_conn *c, mu_request *r) { moderate(c, r, OP_REMOVE, "remove"); }
void op_room_unban(mu_conn *c, mu_request *r) { moderate(c, r, OP_UNBAN, "unban"); }

void op_room_lock(mu_conn *c, mu_request *req)
{
    room *r = facilitated(c, req);
    if (!r)
        return;
    room_op *o = op_new(c, OP_LOCK, r->slug);
    o->flag = mu_req_field(req, "locked")->v.b;
    submit(o, o->flag ? "lock" : "unlock");
}

void op_room_lobby(mu_conn *c, mu_request *req)
{
    room *r = facilitated(c, req);
    if (!r)
        return;
    room_op *o = op_new(c, OP_LOBBY, r->slug);
    o->flag = mu_req_field(req, "on")->v.b;
    submit(o, o->flag ? "lobby_on" : "lobby_off");
}

static void admit_deny(mu_conn *c, mu_request *req, op_kind kind)
{
    room *r = facilitated(c, req);
    if (!r)
        return;
    const char *h = mu_req_field(req, "handle")->v.h;
    member *w = NULL;
    for (size_t i = 0; i < r->waiting.n; i++)
        if (!strcmp(r->waiting.v[i].handle, h))
            w = &r->waiting.v[i];
    if (!w) {
        reply_err(c, MU_E_NOT_FOUND, "Nobody called '%s' is waiting.", h);
        return;
    }
    room_op *o = op_new(c, kind, r->slug);
    o->target_id = w->user;
    snprintf(o->target, sizeof(o->target), "%s", w->handle);
    submit(o, kind == OP_ADMIT ? "admit" : "deny");
}

void op_room_admit(mu_conn *c, mu_request *r) { admit_deny(c, r, OP_ADMIT); }
void op_room_deny(mu_conn *c, mu_request *r) { admit_deny(c, r, OP_DENY); }

void op_room_floor(mu_conn *c, mu_request *req)
{
    room *r = facilitated(c, req);
    if (!r)
        return;
    bool on = mu_req_field(req, "on")->v.b;
    reply_empty(c);
    if (r->floor_mode != on) {
        r->floor_mode = on;
        send_state(r);
    }
}

static void check_floor(room *r)
{
    if (r->floor_user && r->floor_ends && clock_now_ms() >= r->floor_ends) {
        r->floor_user = 0;
        r->floor_ends = 0;
        send_state(r);
    }
}

static void on_floor_timer(uv_timer_t *t)
{
    room *r = t->data;
    check_floor(r);
    if (r->floor_user && r->floor_ends) /* the clock was moved back to real time: wait again */
        uv_timer_start(t, on_floor_timer, (uint64_t)(r->floor_ends - clock_now_ms()), 0);
}

static void rooms_on_clock(void *ud)
{
    (void)ud;
    for (room *r = rooms; r; r = r->next)
        check_floor(r);
}

void op_room_give(mu_conn *c, mu_request *req)
{
    room *r = facilitated(c, req);
    if (!r)
        return;
    const mu_val *h = mu_req_field(req, "handle"), *secs = mu_req_field(req, "secs");
    if (!h->present) {
        r->floor_user = 0;
        r->floor_ends = 0;
        reply_empty(c);
        send_state(r);
        return;
    }
    member *m = NULL;
    for (size_t i = 0; i < r->members.n; i++)
        if (!strcmp(r->members.v[i].handle, h->v.h))
            m = &r->members.v[i];
    if (!m) {
        reply_err(c, MU_E_CONFLICT, "'%s' is not in the room.", h->v.h);
        return;
    }
    r->floor_user = m->user;
    snprintf(r->floor_handle, sizeof(r->floor_handle), "%s", m->handle);
    ids_del(&r->hands, m->user);
    r->floor_ends = secs->present ? clock_now_ms() + (int64_t)secs->v.u * 1000 : 0;
    if (secs->present) {
        if (!r->floor_timer) {
            r->floor_timer = xmalloc(sizeof(uv_timer_t));
            uv_timer_init(srv->loop, r->floor_timer);
            r->floor_timer->data = r;
        }
        uv_timer_start(r->floor_timer, on_floor_timer, secs->v.u * 1000, 0);
    }
    reply_empty(c);
    send_state(r);
}

static void hand(mu_conn *c, mu_request *req, bool up)
{
    room *r = access_room(c, req);
    if (!r)
        return;
    if (!members_find(&r->members, c->user_id)) {
        reply_err(c, MU_E_FORBIDDEN, "Join the room first.");
        return;
    }
    bool changed = up ? !ids_has(&r->hands, c->user_id) : ids_del(&r->hands, c->user_id);
    if (up && changed)
        ids_add(&r->hands, c->user_id);
    reply_empty(c);
    if (changed)
        send_state(r);
}

void op_hand_raise(mu_conn *c, mu_request *r) { hand(c, r, true); }
void op_hand_lower(mu_conn *c, mu_request *r) { hand(c, r, false); }

void rooms_forget_user(int64_t user)
{
    for (room *r = rooms; r; r = r->next) {
        ids_del(&r->bans, user);
        ids_del(&r->mutes, user);
        if (ids_del(&r->hands, user))
            send_state(r);
    }
}

void rooms_role_changed(int64_t user)
{
    user_row u;
    if (store_users_find_by_id(srv->store, user, &u) != 1)
        return;
    for (room *r = rooms; r; r = r->next) {
        member *m = members_find(&r->members, user);
        if (m)
            m->role = u.role;
    }
}

void rooms_enc_joined(mu_enc *e, int64_t user)
{
    uint32_t n = 0;
    for (room *r = rooms; r; r = r->next)
        n += members_find(&r->members, user) != NULL;
    mu_enc_array(e, n);
    for (room *r = rooms; r; r = r->next)
        if (members_find(&r->members, user))
            mu_enc_str(e, r->slug);
}

int64_t rooms_open_count(void)
{
    int64_t n = 0;
    for (room *r = rooms; r; r = r->next)
        n += r->is_open;
    return n;
}

/* ---- startup and shutdown ----------------------------------------------------------------- */

static void load_one(const room_def *d, void *ud)
{
    (void)ud;
    room *r = xcalloc(1, sizeof(*r));
    snprintf(r->slug, sizeof(r->slug), "%s", d->slug);
    snprintf(r->name, sizeof(r->name), "%s", d->name);
    snprintf(r->format, sizeof(r->format), "%s", d->format);
    for (int a = 0; a < 4; a++)
        if (!strcmp(audience_names[a], d->audience))
            r->aud = (audience)a;
    if (d->schedule && d->schedule_len) {
        r->schedule = xmalloc(d->schedule_len);
        memcpy(r->schedule, d->schedule, d->schedule_len);
        r->schedule_len = d->schedule_len;
    }
    r->capacity = d->capacity;
    r->persistent = d->persistent;
    r->is_open = d->is_open;
    r->next_seq = d->next_seq;
    r->done_seq = d->next_seq - 1;
    r->next = rooms;
    rooms = r;
}

static void load_ban(const char *slug, int64_t user, void *ud)
{
    room *r = room_find(slug, strlen(slug));
    if (r)
        ids_add(ud ? &r->mutes : &r->bans, user);
}

int rooms_init(mu_server *s)
{
    srv = s;
    sqlite3 *db = store_rdb(s->store);
    if (store_rooms_load(db, load_one, NULL) != 0 ||
        store_rooms_load_bans(db, load_ban, NULL) != 0 ||
        store_rooms_load_mutes(db, load_ban, (void *)1) != 0)
        return -1;
    clock_observe(rooms_on_clock, NULL);
    return 0;
}

void rooms_shutdown(void)
{
    while (rooms) {
        room *r = rooms;
        rooms = r->next;
        room_free(r);
    }
}
