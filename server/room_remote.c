/* What another node did to a room (room_change in room_int.h): this node's members and waiting
 * users see it as if it had been done here. A definition, the meeting's being open and its
 * stored flags are read again from the store and reconciled, so that an event that arrives
 * late or twice does no harm; moderation carries its target. After the listening connection
 * was down, every room is reconciled. Mutes and bans changed while it was down are not
 * caught up: they are reloaded at the next start. Layer: concerns (rooms), over room_int.h and
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

/* The room as stored: its definition, whether its meeting is open, its flags. */
static void reconcile(const room_def *d, void *ud)
{
    room *r = rooms_find(d->slug, strlen(d->slug));
    if (ud)
        *(room **)ud = r;
    if (!r) {
        r = rooms_add(d); /* created there: closed, or as stored */
        if (ud)
            *(room **)ud = r;
        return;
    }
    room_set_def(r, d);
    r->changed_ts = clock_now_ms();
    if (r->is_open && !d->is_open) {
        room_end_meeting(r);
        room_restart_joins(r, true);
    } else if (!r->is_open && d->is_open) {
        r->is_open = true;
        room_restart_joins(r, true);
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
}

static bool handle_of(int64_t id, char out[MU_HANDLE_MAX + 1])
{
    user_row u;
    if (store_users_find_by_id(g_srv->store, id, &u) != 1)
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

static void on_room(int64_t what, int64_t target, int64_t actor, const char *slug)
{
    room *r = rooms_find(slug, strlen(slug));
    switch (what) {
    case ROOM_CH_DEF:
    case ROOM_CH_OPEN:
    case ROOM_CH_CLOSE:
    case ROOM_CH_FLAGS:
        if (store_rooms_get(g_srv->store, slug, reconcile, NULL) == 0 && r)
            rooms_delete(r); /* gone since */
        break;
    case ROOM_CH_DELETED:
        if (r)
            rooms_delete(r);
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
    room *r = NULL;
    reconcile(d, &r);
    if (seen->n == seen->cap) {
        seen->cap = seen->cap ? seen->cap * 2 : 16;
        seen->v = xrealloc(seen->v, seen->cap * sizeof(room *));
    }
    seen->v[seen->n++] = r;
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
}
