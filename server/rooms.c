/* Group rooms: the registry, membership, access, fan-out, encoding, and the hooks other
 * concerns call; the room job is in room_job.c (see rooms.h and room_int.h). Layer: concerns (rooms); the lowest
 * of the four room files, which call into it and never the other way. */
#include "rooms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "handlers.h"
#include "room_int.h"
#include "store_admin.h"
#include "store_users.h"
#include "xalloc.h"

static room *rooms;
static const char *const audience_names[] = {"open", "recovery", "carers", "mentors"};

/* ---- the registry ----------------------------------------------------------------------- */

room *rooms_first(void)
{
    return rooms;
}

room *rooms_find(const char *slug, size_t n)
{
    for (room *r = rooms; r; r = r->next)
        if (strlen(r->slug) == n && memcmp(r->slug, slug, n) == 0)
            return r;
    return NULL;
}

const char *room_audience_name(audience a)
{
    return audience_names[a];
}

static audience audience_parse(const char *s)
{
    for (int a = 0; a < 4; a++)
        if (!strcmp(audience_names[a], s))
            return (audience)a;
    return AUD_OPEN; /* the op table and the schema admit only the four */
}

bool room_admits(const room *r, mu_role role)
{
    switch (r->aud) {
    case AUD_OPEN: return true;
    case AUD_RECOVERY: return role != ROLE_FAMILY;
    case AUD_CARERS: return role != ROLE_MEMBER;
    case AUD_MENTORS: return role == ROLE_MENTOR || role == ROLE_ADMIN;
    }
    return false;
}

bool room_is_facilitator(mu_role role)
{
    return role == ROLE_MENTOR || role == ROLE_ADMIN;
}

void room_set_def(room *r, const room_def *d)
{
    snprintf(r->name, sizeof(r->name), "%s", d->name);
    snprintf(r->format, sizeof(r->format), "%s", d->format);
    free(r->schedule);
    r->schedule = d->schedule && d->schedule_len ? xmemdup0(d->schedule, d->schedule_len) : NULL;
    r->schedule_len = r->schedule ? d->schedule_len : 0;
    r->capacity = d->capacity;
    r->persistent = d->persistent;
    r->backlog = !d->backlog                     ? BACKLOG_DEFAULT
                 : !strcmp(d->backlog, "recent") ? BACKLOG_RECENT
                                                 : BACKLOG_JOIN;
    r->listed = d->listed;
}

room *rooms_add(const room_def *d)
{
    static uint64_t serials;
    room *r = xcalloc(1, sizeof(*r));
    r->serial = ++serials;
    snprintf(r->slug, sizeof(r->slug), "%s", d->slug);
    r->aud = audience_parse(d->audience);
    room_set_def(r, d);
    r->is_open = d->is_open;
    /* Stored live state (a close resets it); the lobby's queue, the floor and hands are not
     * stored: people reconnect and knock or raise a hand again. */
    r->locked = d->locked;
    r->lobby = d->lobby;
    r->floor_mode = d->floor_mode;
    r->created_ts = r->changed_ts = d->created_ts;
    r->meeting = d->meeting;
    r->done_seq = d->next_seq > 0 ? d->next_seq - 1 : 0;
    r->next = rooms;
    rooms = r;
    return r;
}

static void room_free(room *r)
{
    room_deliver_forget(r);
    for (size_t i = 0; i < r->members.n; i++) {
        free(r->members.v[i].conns);
        free(r->members.v[i].nodes.v);
    }
    for (size_t i = 0; i < r->waiting.n; i++) {
        free(r->waiting.v[i].conns);
        free(r->waiting.v[i].nodes.v);
    }
    free(r->members.v);
    free(r->waiting.v);
    free(r->hands.v);
    free(r->bans.v);
    free(r->mutes.v);
    free(r->joins.v);
    free(r->schedule);
    if (r->floor_timer) {
        uv_timer_stop(r->floor_timer);
        uv_close((uv_handle_t *)r->floor_timer, (uv_close_cb)free);
    }
    free(r);
}

/* ---- id lists --------------------------------------------------------------------------- */

bool ids_has(const id_list *l, int64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == id)
            return true;
    return false;
}

bool ids_add(id_list *l, int64_t id)
{
    if (ids_has(l, id))
        return false;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    l->v[l->n++] = id;
    return true;
}

bool ids_del(id_list *l, int64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == id) {
            memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
            l->n--;
            return true;
        }
    return false;
}

/* ---- membership ------------------------------------------------------------------------- */

static member *list_find(member_list *l, int64_t user)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].user == user)
            return &l->v[i];
    return NULL;
}

static member *list_find_handle(member_list *l, const char *handle)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].handle, handle))
            return &l->v[i];
    return NULL;
}

static member *list_add(member_list *l, int64_t user, const char *handle, mu_role role)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    member *m = &l->v[l->n++];
    memset(m, 0, sizeof(*m));
    m->user = user;
    snprintf(m->handle, sizeof(m->handle), "%s", handle);
    m->role = role;
    return m;
}

/* Removes the entry; its connection array goes with it. */
static void list_del(member_list *l, member *m)
{
    free(m->conns);
    free(m->nodes.v);
    size_t i = (size_t)(m - l->v);
    memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
    l->n--;
}

member *room_member(room *r, int64_t user)
{
    return list_find(&r->members, user);
}
member *room_waiter(room *r, int64_t user)
{
    return list_find(&r->waiting, user);
}
member *room_member_by_handle(room *r, const char *h)
{
    return list_find_handle(&r->members, h);
}
member *room_waiter_by_handle(room *r, const char *h)
{
    return list_find_handle(&r->waiting, h);
}

bool member_has_conn(const member *m, const mu_conn *c)
{
    for (size_t i = 0; i < m->nconns; i++)
        if (m->conns[i] == c)
            return true;
    return false;
}

/* The connection's own list of rooms, so that it can leave them all when it goes. */
static void conn_track(mu_conn *c, room *r)
{
    for (unsigned i = 0; i < c->nrooms; i++)
        if (c->rooms[i] == r)
            return;
    if (c->nrooms == c->caprooms) {
        c->caprooms = c->caprooms ? c->caprooms * 2 : 4;
        c->rooms = xreallocarray(c->rooms, c->caprooms, sizeof(struct room *));
    }
    c->rooms[c->nrooms++] = r;
}

static void conn_untrack(mu_conn *c, const room *r)
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
        m->conns = xreallocarray(m->conns, m->capconns, sizeof(mu_conn *));
    }
    m->conns[m->nconns++] = c;
}

static void member_del_conn(member *m, const mu_conn *c)
{
    for (size_t i = 0; i < m->nconns; i++)
        if (m->conns[i] == c) {
            m->conns[i] = m->conns[--m->nconns];
            return;
        }
}

/* Drops an entry of `l` whose connections no longer track the room. */
static void untrack_all(room *r, member_list *l, member *m)
{
    for (size_t i = 0; i < m->nconns; i++)
        conn_untrack(m->conns[i], r);
    list_del(l, m);
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
    room_broadcast(r, &e, m->user);
}

/* The connection in the list under its user, whose entry is new when *fresh. */
static member *enlist(room *r, member_list *l, mu_conn *c, int64_t user, const char *handle,
                      mu_role role, bool *fresh)
{
    member *m = list_find(l, user);
    *fresh = !m;
    if (!m)
        m = list_add(l, user, handle, role);
    member_add_conn(m, c);
    conn_track(c, r);
    return m;
}

member *room_join_conn(room *r, mu_conn *c, int64_t user, const char *handle, mu_role role)
{
    bool fresh;
    const member *had = list_find(&r->members, user);
    bool here_before = had && had->nconns > 0;
    member *m = enlist(r, &r->members, c, user, handle, role, &fresh);
    room_mark_join(r, user);
    if (fresh)
        send_presence(r, m, "joined");
    if (!here_before)
        room_presence_here(r, user, PRESENCE_IN);
    return m;
}

member *room_add_remote(room *r, int64_t user, const char *handle, mu_role role)
{
    member *m = list_add(&r->members, user, handle, role);
    send_presence(r, m, "joined");
    return m;
}

bool room_wait_conn(room *r, mu_conn *c)
{
    bool knock;
    const member *had = list_find(&r->waiting, c->user_id);
    bool here_before = had && had->nconns > 0;
    enlist(r, &r->waiting, c, c->user_id, c->handle, c->role, &knock);
    if (!here_before)
        room_presence_here(r, c->user_id, PRESENCE_WAITING);
    return knock;
}

member *room_add_remote_waiter(room *r, int64_t user, const char *handle, mu_role role)
{
    return list_add(&r->waiting, user, handle, role);
}

void room_drop_waiter(room *r, member *w)
{
    untrack_all(r, &r->waiting, w);
}

member room_take_waiter(room *r, member *w)
{
    member out = *w;
    w->conns = NULL; /* the copy owns them now */
    list_del(&r->waiting, w);
    return out;
}

void room_turn_away(room *r, member *w)
{
    room_send_event(w, MU_OP_EV_ROOM_DENIED, r);
    if (w->nconns)
        room_presence_here(r, w->user, PRESENCE_OUT);
    untrack_all(r, &r->waiting, w);
}

void room_member_out(room *r, member *m, bool tell)
{
    bool changed = ids_del(&r->hands, m->user);
    if (r->floor_user == m->user) {
        r->floor_user = 0;
        r->floor_ends = 0;
        changed = true;
    }
    if (m->nconns)
        room_presence_here(r, m->user, PRESENCE_OUT);
    member gone = *m;
    gone.conns = NULL;
    gone.nodes.v = NULL;
    untrack_all(r, &r->members, m);
    if (tell)
        send_presence(r, &gone, "left");
    if (changed)
        room_send_state(r);
}

void room_leave_conn(room *r, mu_conn *c)
{
    conn_untrack(c, r);
    for (size_t i = 0; i < r->members.n; i++) {
        member *m = &r->members.v[i];
        if (member_has_conn(m, c)) {
            member_del_conn(m, c);
            if (!m->nconns)
                room_presence_here(r, m->user, PRESENCE_OUT);
            if (!m->nconns && !m->nodes.n) /* else still in through another node */
                room_member_out(r, m, true);
            break;
        }
    }
    for (size_t i = 0; i < r->waiting.n; i++) {
        member *m = &r->waiting.v[i];
        if (member_has_conn(m, c)) {
            member_del_conn(m, c);
            if (!m->nconns)
                room_presence_here(r, m->user, PRESENCE_OUT);
            if (!m->nconns && !m->nodes.n) /* else still waiting through another node */
                list_del(&r->waiting, m);
            break;
        }
    }
}

void room_floor_expire(room *r)
{
    if (r->floor_user && r->floor_ends && clock_now_ms() >= r->floor_ends) {
        r->floor_user = 0;
        r->floor_ends = 0;
        room_send_state(r);
    }
}

void rooms_delete(room *r)
{
    for (room **pp = &rooms; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    /* Everyone goes at once: nobody is told about anyone else leaving. */
    while (r->members.n) {
        member *m = &r->members.v[r->members.n - 1];
        room_send_event(m, MU_OP_EV_ROOM_CLOSED, r);
        untrack_all(r, &r->members, m);
    }
    while (r->waiting.n)
        room_turn_away(r, &r->waiting.v[r->waiting.n - 1]);
    room_free(r);
}

/* ---- encoding and fan-out --------------------------------------------------------------- */

void room_enc(mu_enc *e, const room *r)
{
    mu_enc_map(e, 13);
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
    mu_enc_kstr(e, "backlog", room_backlog_name(r));
    mu_enc_kbool(e, "listed", r->listed);
    mu_enc_kbool(e, "is_open", r->is_open);
    mu_enc_kbool(e, "locked", r->locked);
    mu_enc_kint(e, "present", (int64_t)r->members.n);
    /* who is in, by handle (protocol/README.md): what anyone the audience admits would see in
     * `members` on joining, so the list of rooms can say who is there, not only how many */
    mu_enc_key(e, "here");
    mu_enc_array(e, (uint32_t)r->members.n);
    for (size_t i = 0; i < r->members.n; i++)
        mu_enc_str(e, r->members.v[i].handle);
}

static const char *handle_of(const room *r, int64_t user)
{
    for (size_t i = 0; i < r->members.n; i++)
        if (r->members.v[i].user == user)
            return r->members.v[i].handle;
    return NULL;
}

void room_enc_state_fields(mu_enc *e, const room *r)
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

static void send_member(const member *m, mu_frame *f)
{
    for (size_t i = 0; i < m->nconns; i++)
        conn_send(m->conns[i], f);
}

void room_broadcast(const room *r, mu_enc *e, int64_t except_user)
{
    mu_frame *f = frame_from_enc(e);
    mu_enc_free(e);
    f->room = r->serial;
    for (size_t i = 0; i < r->members.n; i++)
        if (r->members.v[i].user != except_user)
            send_member(&r->members.v[i], f);
    frame_unref(f);
}

void room_send_state(const room *r)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, MU_OP_EV_ROOM_STATE, 8);
    mu_enc_kstr(&e, "room", r->slug);
    room_enc_state_fields(&e, r);
    room_broadcast(r, &e, 0);
}

void room_send_moderation(const room *r, const char *action, const char *handle, const char *by)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, MU_OP_EV_ROOM_MODERATION, 4);
    mu_enc_kstr(&e, "room", r->slug);
    mu_enc_kstr(&e, "action", action);
    mu_enc_kstr(&e, "handle", handle);
    mu_enc_kstr(&e, "by", by);
    room_broadcast(r, &e, 0);
}

void room_send_removed(const room *r, const member *m, const char *by, bool ban)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, MU_OP_EV_ROOM_REMOVED, 3);
    mu_enc_kstr(&e, "room", r->slug);
    mu_enc_kstr(&e, "by", by);
    mu_enc_kbool(&e, "ban", ban);
    room_send_to(r, m, &e);
}

void room_send_to(const room *r, const member *m, mu_enc *e)
{
    mu_frame *f = frame_from_enc(e);
    mu_enc_free(e);
    f->room = r->serial;
    send_member(m, f);
    frame_unref(f);
}

void room_send_event(const member *m, mu_op_id ev, const room *r)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, ev, 1);
    mu_enc_kstr(&e, "room", r->slug);
    room_send_to(r, m, &e);
}

/* ---- hooks other concerns call ------------------------------------------------------------ */

void rooms_leave_all(mu_conn *c)
{
    while (c->nrooms)
        room_leave_conn(c->rooms[c->nrooms - 1], c);
}

void rooms_forget_user(int64_t user)
{
    for (room *r = rooms; r; r = r->next) {
        ids_del(&r->bans, user);
        ids_del(&r->mutes, user);
        room_forget_join(r, user);
        if (ids_del(&r->hands, user))
            room_send_state(r);
    }
}

void rooms_role_changed(int64_t user, mu_role role, const char *by)
{
    for (room *r = rooms; r; r = r->next) {
        member *m = room_member(r, user);
        if (m && !room_admits(r, role)) {
            /* The new role is not of this room's audience: out, as if removed (no ban). */
            room_send_removed(r, m, by, false);
            room_member_out(r, m, true);
        } else if (m) {
            m->role = role; /* facilitator status is the role's */
        }
        member *wt = room_waiter(r, user);
        if (wt && !room_admits(r, role))
            room_turn_away(r, wt);
        else if (wt)
            wt->role = role;
    }
}

void rooms_enc_joined(mu_enc *e, int64_t user)
{
    uint32_t n = 0;
    for (room *r = rooms; r; r = r->next)
        n += list_find(&r->members, user) != NULL;
    mu_enc_array(e, n);
    for (room *r = rooms; r; r = r->next)
        if (list_find(&r->members, user))
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
    rooms_add(d);
}

static void load_ban(const char *slug, int64_t user, void *ud)
{
    (void)ud;
    room *r = rooms_find(slug, strlen(slug));
    if (r)
        ids_add(&r->bans, user);
}

static void load_mute(const char *slug, int64_t user, void *ud)
{
    (void)ud;
    room *r = rooms_find(slug, strlen(slug));
    if (r)
        ids_add(&r->mutes, user);
}

static void load_join(const char *slug, int64_t user, int64_t after, void *ud)
{
    (void)ud;
    room *r = rooms_find(slug, strlen(slug));
    if (r)
        room_put_join(r, user, after);
}

static void on_clock(void *ud)
{
    (void)ud;
    for (room *r = rooms; r; r = r->next)
        room_floor_expire(r);
}

int rooms_init(mu_server *s)
{
    db_conn *db = store_rdb(s->store);
    if (store_rooms_load(db, load_one, NULL) != 0 ||
        store_rooms_load_bans(db, load_ban, NULL) != 0 ||
        store_rooms_load_mutes(db, load_mute, NULL) != 0 ||
        store_rooms_load_joins(db, load_join, NULL) != 0)
        return -1;
    clock_observe(on_clock, NULL);
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
