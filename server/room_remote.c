/* What another node did to a room (room_change in room_int.h): this node's members and waiting
 * users see it as if it had been done here. A definition, the meeting's being open and its
 * stored flags are read again from the store and reconciled, so that an event that arrives
 * late or twice does no harm; moderation carries its target. After the listening connection
 * was down, every room is reconciled and its bans and mutes read again. Layer: concerns (rooms), over room_int.h and
 * events.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "events.h"
#include "log.h"
#include "room_int.h"
#include "rooms.h"
#include "store_users.h"
#include "xalloc.h"

typedef struct {
    room *r;      /* out: the room here, after */
    bool touched; /* an event: the meeting feed's `updated` moves */
} reconciling;

/* The room as stored: its definition, whether its meeting is open, its flags, its newest seq. */
static void reconcile(const room_def *d, void *ud)
{
    reconciling *k = ud;
    room *r = rooms_find(d->slug, strlen(d->slug));
    if (r && r->created_ts != d->created_ts) {
        rooms_delete(r); /* deleted and made again meanwhile: another room */
        r = NULL;
    }
    if (!r) {
        k->r = rooms_add(d); /* as stored */
        return;
    }
    k->r = r;
    room_set_def(r, d);
    if (k->touched)
        r->changed_ts = clock_now_ms();
    /* The meeting here ended there: closed, or closed and opened again (a new meeting). */
    if (r->is_open && (!d->is_open || d->meeting != r->meeting)) {
        room_end_meeting(r);
        room_restart_joins(r);
    }
    r->meeting = d->meeting;
    if (!r->is_open && d->is_open) {
        r->is_open = true;
        room_restart_joins(r);
        room_send_state(r);
    }
    if (r->locked != d->locked || r->lobby != d->lobby || r->floor_mode != d->floor_mode) {
        r->locked = d->locked;
        r->lobby = d->lobby;
        r->floor_mode = d->floor_mode;
        room_send_state(r);
    }
    while (!r->lobby && r->waiting.n) /* the lobby turned off there lets everyone in here */
        room_admit(r, &r->waiting.v[0]);
    if (d->next_seq - 1 > r->done_seq) /* said while this node did not listen */
        room_deliver(r, d->next_seq - 1, NULL);
}

/* The room as stored; gone when it is not. */
static void reread(const char *slug, room *r)
{
    reconciling k = {NULL, true};
    if (store_rooms_get(loop_reader(), slug, reconcile, &k) == 0 && r)
        rooms_delete(r);
}

void room_recheck(room *r)
{
    if (events_shared())
        reread(r->slug, r);
}

static bool handle_of(int64_t id, char out[MU_HANDLE_MAX + 1])
{
    user_row u;
    if (store_users_find_by_id(loop_reader(), id, &u) != 1)
        return false;
    snprintf(out, MU_HANDLE_MAX + 1, "%s", u.handle);
    return true;
}

/* Mute, unmute, remove, ban, unban of `target` by `actor`. */
static void moderate(room *r, room_change what, int64_t target, int64_t actor)
{
    char th[MU_HANDLE_MAX + 1], ah[MU_HANDLE_MAX + 1];
    if (!handle_of(target, th) || !handle_of(actor, ah)) {
        log_warn("room %s: a moderation on another node names an account that cannot be read",
                 r->slug);
        return;
    }
    switch (what) {
    case ROOM_CH_MUTE:
        if (ids_add(&r->mutes, target))
            room_send_moderation(r, "mute", th, ah);
        break;
    case ROOM_CH_UNMUTE:
        if (ids_del(&r->mutes, target))
            room_send_moderation(r, "unmute", th, ah);
        break;
    case ROOM_CH_REMOVE:
    case ROOM_CH_BAN: room_remove_user(r, target, th, ah, what == ROOM_CH_BAN); break;
    case ROOM_CH_UNBAN:
        if (ids_del(&r->bans, target))
            room_send_moderation(r, "unban", th, ah);
        break;
    default: break;
    }
}

/* Admitted or denied there: whoever waits here under that user goes in, or away. */
static void lobby_decided(room *r, room_change what, int64_t target)
{
    member *w = room_waiter(r, target);
    if (w && what == ROOM_CH_ADMIT)
        room_admit(r, w);
    else if (w)
        room_turn_away(r, w);
}

static void on_room(int64_t what, int64_t target, int64_t actor, const char *slug)
{
    room *r = rooms_find(slug, strlen(slug));
    switch (what) {
    case ROOM_CH_CLOSE: /* the stored meeting count tells a late close from a new meeting */
    case ROOM_CH_DEF:
    case ROOM_CH_OPEN:
    case ROOM_CH_FLAGS: reread(slug, r); break;
    case ROOM_CH_DELETED:
        if (r)
            rooms_delete(r);
        break;
    case ROOM_CH_ADMIT:
    case ROOM_CH_DENY:
        if (r)
            lobby_decided(r, (room_change)what, target);
        break;
    default:
        if (r)
            moderate(r, (room_change)what, target, actor);
        break;
    }
}

/* After the listening connection was down: every room as stored, and none that is not. */
typedef struct {
    room **v;
    size_t n, cap;
} room_set;

static void catch_up_one(const room_def *d, void *ud)
{
    room_set *seen = ud;
    reconciling k = {NULL, false};
    reconcile(d, &k);
    if (seen->n == seen->cap) {
        seen->cap = seen->cap ? seen->cap * 2 : 16;
        seen->v = xrealloc(seen->v, seen->cap * sizeof(room *));
    }
    seen->v[seen->n++] = k.r;
}

typedef struct {
    struct pair {
        char slug[ROOM_SLUG_MAX + 1];
        int64_t user;
    } * v;
    size_t n, cap;
} pairs;

static void collect_pair(const char *slug, int64_t user, void *ud)
{
    pairs *l = ud;
    if (strlen(slug) > ROOM_SLUG_MAX)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    memcpy(l->v[l->n].slug, slug, strlen(slug) + 1);
    l->v[l->n++].user = user;
}

/* Bans and mutes as stored (a ban made meanwhile keeps its user out from here too); as they
 * were when they cannot be read. */
static void reload_lists(void)
{
    pairs bans = {0}, mutes = {0};
    db_conn *db = store_rdb(g_srv->store);
    if (store_rooms_load_bans(db, collect_pair, &bans) == 0 &&
        store_rooms_load_mutes(db, collect_pair, &mutes) == 0) {
        for (room *r = rooms_first(); r; r = r->next)
            r->bans.n = r->mutes.n = 0;
        for (size_t i = 0; i < bans.n; i++) {
            room *r = rooms_find(bans.v[i].slug, strlen(bans.v[i].slug));
            if (r)
                ids_add(&r->bans, bans.v[i].user);
        }
        for (size_t i = 0; i < mutes.n; i++) {
            room *r = rooms_find(mutes.v[i].slug, strlen(mutes.v[i].slug));
            if (r)
                ids_add(&r->mutes, mutes.v[i].user);
        }
    } else {
        log_warn("room bans and mutes could not be read again; they stay as they were");
    }
    free(bans.v);
    free(mutes.v);
}

static void rooms_catch_up(void)
{
    room_set seen = {0};
    if (store_rooms_load(store_rdb(g_srv->store), catch_up_one, &seen) == 0) {
        for (room *r = rooms_first(), *next; r; r = next) {
            next = r->next;
            bool kept = false;
            for (size_t i = 0; i < seen.n && !kept; i++)
                kept = seen.v[i] == r;
            if (!kept)
                rooms_delete(r);
        }
    } else {
        log_warn("rooms could not be read again after other nodes' events were missed");
    }
    free(seen.v);
    reload_lists();
    room_live_reread_all();
    room_deliver_catch_up();
}

static void on_msg(int64_t seq, int64_t b, int64_t c, const char *slug)
{
    (void)b;
    (void)c;
    room_deliver_event(slug, seq);
}

void rooms_events_init(void)
{
    events_on("msg", on_msg, NULL);
    events_on("room", on_room, rooms_catch_up);
    events_on("live", room_live_event, NULL);
}
