/* Who is in a room, or waits at its lobby, through other nodes (see room_int.h), on PostgreSQL:
 * each node stores its own people's presence under its name and tells the others (`presence`
 * events; someone new at a lobby is a knock for the facilitators on every node); each node also
 * beats every node_timeout_s/6 in the database, forgets nodes silent for four beats with their
 * presence, and after each beat (and each time it listens again) reconciles its rooms with
 * what is stored, so that the people of a node that died leave within node_timeout_s. Other
 * nodes' events and the reconciliation are read on the fetcher's thread and applied in turn.
 * Nothing of this runs on SQLite (one node). Layer: concerns (rooms), over room_int.h. */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "log.h"
#include "room_int.h"
#include "rooms.h"
#include "store_fetch.h"
#include "store_users.h"
#include "xalloc.h"

static uv_timer_t beat;
static bool beating;
static int64_t beat_ms;

/* ---- this node's people ------------------------------------------------------------------- */

typedef struct {
    mu_job job;
    char slug[ROOM_SLUG_MAX + 1];
    int64_t user;
    presence_state state;
} presence_job;

static mu_code presence_run(mu_job *j, mu_wtx *w)
{
    presence_job *o = (presence_job *)j;
    mu_code c = store_rooms_presence_set(w, o->slug, o->user, events_node_id(), o->state);
    if (c == MU_E_NOT_FOUND)
        return MU_OK; /* the room or the account is gone, and the rows with it */
    return c == MU_OK ? events_publish_word(w, "presence", o->slug, o->user, events_node_id(),
                                            (int64_t)o->state)
                      : c;
}

static void presence_done(mu_job *j)
{
    presence_job *o = (presence_job *)j;
    if (j->result != MU_OK)
        log_warn("room %s: presence not stored for other nodes (%s); the next beat's "
                 "reconciliation does not see it",
                 o->slug, mu_code_name(j->result));
    free(o);
}

void room_presence_here(const room *r, int64_t user, presence_state state)
{
    if (!events_shared())
        return;
    presence_job *o = xcalloc(1, sizeof(*o));
    memcpy(o->slug, r->slug, sizeof(o->slug));
    o->user = user;
    o->state = state;
    o->job.run = presence_run;
    o->job.done = presence_done;
    o->job.lock_key = store_key_of(o->slug); /* in turn with the room's floor and hands */
    store_submit(g_srv->store, &o->job);
}

/* ---- other nodes' people ------------------------------------------------------------------ */

/* In through `node`. Their first-join point, set where they joined and read with the event
 * (-1: none stored), decides what they may see here if they come back through this node. */
static void remote_in(room *r, int64_t user, int64_t node, const char *handle, mu_role role,
                      int64_t after)
{
    member *m = room_member(r, user);
    if (!m) {
        if (after >= 0)
            room_put_join(r, user, after);
        m = room_add_remote(r, user, handle, role);
    }
    ids_add(&m->nodes, node);
}

/* Waiting at the lobby through `node`: the facilitators here hear the knock when the user was
 * not waiting already. */
static void remote_waiting(room *r, int64_t user, int64_t node, const char *handle, mu_role role)
{
    if (room_member(r, user))
        return; /* in already, through a node that admitted them first */
    member *w = room_waiter(r, user);
    if (!w) {
        w = room_add_remote_waiter(r, user, handle, role);
        room_knock(r, w);
    }
    ids_add(&w->nodes, node);
}

/* No longer waiting through `node` (admitted there, turned away or gone). */
static void remote_not_waiting(room *r, int64_t user, int64_t node)
{
    member *w = room_waiter(r, user);
    if (w && ids_del(&w->nodes, node) && !w->nconns && !w->nodes.n)
        room_drop_waiter(r, w);
}

/* Another node's presence event, applied in turn with the reads for the rooms (after what was
 * read before it, before what is read after). */
typedef struct {
    mu_fetch f;
    char slug[ROOM_SLUG_MAX + 1];
    int64_t user, node;
    presence_state state;
    user_row u;    /* read for IN and WAITING */
    int64_t after; /* read for IN: their first-join point, -1 when none is stored */
} presence_read;

static bool presence_read_run(mu_fetch *f, mu_reader *rd)
{
    presence_read *j = (presence_read *)f;
    if (j->state == PRESENCE_OUT)
        return true; /* nothing to read */
    j->after = -1;
    if (!rd || store_users_find_by_id(rd, j->user, &j->u) != 1)
        return false;
    return j->state != PRESENCE_IN || store_rooms_join_point(rd, j->slug, j->user, &j->after) >= 0;
}

static void presence_read_done(mu_fetch *f, bool ok)
{
    presence_read *j = (presence_read *)f;
    room *r = rooms_find(j->slug, strlen(j->slug));
    member *m = r ? room_member(r, j->user) : NULL;
    if (!r || !ok) {
        /* gone, or the account could not be read: the next beat's reconciliation sees it */
    } else if (j->state == PRESENCE_WAITING) {
        if (!m)
            remote_waiting(r, j->user, j->node, j->u.handle, j->u.role);
    } else {
        remote_not_waiting(r, j->user, j->node);
        if (j->state == PRESENCE_IN && m)
            ids_add(&m->nodes, j->node);
        else if (j->state == PRESENCE_IN)
            remote_in(r, j->user, j->node, j->u.handle, j->u.role, j->after);
        else if (m && ids_del(&m->nodes, j->node) && !m->nconns && !m->nodes.n)
            room_member_out(r, m, true);
    }
    free(j);
}

static void on_presence(int64_t user, int64_t node, int64_t state, const char *slug)
{
    struct mu_fetcher *f = room_fetcher();
    if (!f || state < PRESENCE_OUT || state > PRESENCE_WAITING)
        return;
    presence_read *j = xcalloc(1, sizeof(*j));
    snprintf(j->slug, sizeof(j->slug), "%s", slug);
    j->user = user;
    j->node = node;
    j->state = (presence_state)state;
    j->f.run = presence_read_run;
    j->f.done = presence_read_done;
    store_fetch(f, &j->f);
}

typedef struct {
    struct row {
        char slug[ROOM_SLUG_MAX + 1], handle[MU_HANDLE_MAX + 1];
        int64_t user, node, after;
        mu_role role;
        bool waiting;
    } * v;
    size_t n, cap;
} rows;

static void collect(const char *slug, int64_t user, int64_t node, bool waiting, const char *handle,
                    mu_role role, int64_t after, void *ud)
{
    rows *l = ud;
    if (strlen(slug) > ROOM_SLUG_MAX)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    struct row *p = &l->v[l->n++];
    memcpy(p->slug, slug, strlen(slug) + 1);
    snprintf(p->handle, sizeof(p->handle), "%s", handle);
    p->user = user;
    p->node = node;
    p->role = role;
    p->waiting = waiting;
    p->after = after;
}

/* Every room's other-node presence as stored: who came is announced (or knocks), who is no
 * longer in (or waiting) anywhere leaves. Read on the fetcher's thread. */
typedef struct {
    mu_fetch f;
    rows l;
} reconcile_read;

static bool reconcile_run(mu_fetch *f, mu_reader *rd)
{
    reconcile_read *j = (reconcile_read *)f;
    j->l.n = 0; /* a second try starts over */
    return rd && store_rooms_presence_load(rd, events_node_id(), collect, &j->l) >= 0;
}

static void reconcile_done(mu_fetch *f, bool ok)
{
    reconcile_read *j = (reconcile_read *)f;
    rows l = j->l;
    free(j);
    if (!ok) {
        free(l.v);
        return; /* as it was; the next beat tries again */
    }
    for (room *r = rooms_first(); r; r = r->next) {
        for (size_t i = 0; i < r->members.n; i++)
            r->members.v[i].nodes.n = 0;
        for (size_t i = 0; i < r->waiting.n; i++)
            r->waiting.v[i].nodes.n = 0;
    }
    for (size_t i = 0; i < l.n; i++) {
        room *r = rooms_find(l.v[i].slug, strlen(l.v[i].slug));
        if (r && l.v[i].waiting)
            remote_waiting(r, l.v[i].user, l.v[i].node, l.v[i].handle, l.v[i].role);
        else if (r)
            remote_in(r, l.v[i].user, l.v[i].node, l.v[i].handle, l.v[i].role, l.v[i].after);
    }
    free(l.v);
    for (room *r = rooms_first(); r; r = r->next) {
        for (size_t i = r->members.n; i-- > 0;) {
            member *m = &r->members.v[i];
            if (!m->nconns && !m->nodes.n)
                room_member_out(r, m, true);
        }
        for (size_t i = r->waiting.n; i-- > 0;) {
            member *w = &r->waiting.v[i];
            if (!w->nconns && !w->nodes.n)
                room_drop_waiter(r, w);
        }
    }
    room_live_reread_all(); /* hands of people only now known to be in */
}

static void reconcile(void)
{
    struct mu_fetcher *f = room_fetcher();
    if (!f)
        return;
    reconcile_read *j = xcalloc(1, sizeof(*j));
    j->f.run = reconcile_run;
    j->f.done = reconcile_done;
    store_fetch(f, &j->f);
}

/* ---- the beat ----------------------------------------------------------------------------- */

/* A beat also writes this node's presence again as it is: a write that failed, or rows
 * another node cleared while this one was slow, are mended within a beat. */
typedef struct {
    mu_job job;
    size_t n;
    char (*rooms)[ROOM_SLUG_MAX + 1]; /* owned, n of them */
    const char **names;               /* owned array into rooms */
    int64_t *users;                   /* owned, n of them */
    bool *waiting;                    /* owned, n of them */
} beat_job;

static mu_code beat_run(mu_job *j, mu_wtx *w)
{
    beat_job *o = (beat_job *)j;
    mu_code c = store_rooms_heartbeat(w, events_node_id(), 4 * beat_ms);
    return c == MU_OK
               ? store_rooms_presence_put(w, events_node_id(), o->names, o->users, o->waiting, o->n)
               : c;
}

static void beat_done(mu_job *j)
{
    beat_job *o = (beat_job *)j;
    if (j->result == MU_OK && beating)
        reconcile();
    if (beating)
        room_remote_retry();
    free(o->rooms);
    free(o->names);
    free(o->users);
    free(o->waiting);
    free(o);
}

static void beat_add(beat_job *o, const room *r, const member_list *l, bool waiting)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].nconns) {
            memcpy(o->rooms[o->n], r->slug, sizeof(o->rooms[o->n]));
            o->names[o->n] = o->rooms[o->n];
            o->waiting[o->n] = waiting;
            o->users[o->n++] = l->v[i].user;
        }
}

static void on_beat(uv_timer_t *t)
{
    (void)t;
    beat_job *o = xcalloc(1, sizeof(*o));
    size_t cap = 0;
    for (const room *r = rooms_first(); r; r = r->next)
        cap += r->members.n + r->waiting.n;
    o->rooms = xcalloc(cap + 1, sizeof(*o->rooms));
    o->names = xcalloc(cap + 1, sizeof(*o->names));
    o->users = xcalloc(cap + 1, sizeof(*o->users));
    o->waiting = xcalloc(cap + 1, sizeof(*o->waiting));
    for (const room *r = rooms_first(); r; r = r->next) {
        beat_add(o, r, &r->members, false);
        beat_add(o, r, &r->waiting, true);
    }
    o->job.run = beat_run;
    o->job.done = beat_done;
    store_submit(g_srv->store, &o->job);
}

void room_presence_start(mu_server *s)
{
    events_on("presence", on_presence, reconcile);
    if (!db_is_url(s->cfg.db))
        return;
    beat_ms = (int64_t)s->cfg.node_timeout_s * 1000 / 6;
    uv_timer_init(s->loop, &beat);
    uv_timer_start(&beat, on_beat, 0, (uint64_t)beat_ms);
    beating = true;
}

void room_presence_stop(void)
{
    if (!beating)
        return;
    beating = false;
    uv_timer_stop(&beat);
    uv_close((uv_handle_t *)&beat, NULL);
}
