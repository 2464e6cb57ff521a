/* What another node did to a room (room_change in room_int.h): this node's members and waiting
 * users see it as if it had been done here. A definition, the meeting's being open and its
 * stored flags are read again from the store and reconciled, so that an event that arrives
 * late or twice does no harm; moderation carries its target. After the listening connection
 * was down, every room is reconciled and its bans and mutes read again. Every read is made on
 * the rooms' fetcher (never on the loop) and applied in turn with the other reads for the
 * rooms; of several reads asked for one room, only the last is applied, so that a read made
 * before a change (this node's, or another's) never undoes it or brings back a deleted room.
 * Layer: concerns (rooms), over room_int.h and events.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "events.h"
#include "log.h"
#include "room_int.h"
#include "rooms.h"
#include "store_fetch.h"
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

/* ---- reads of rooms, on the fetcher ------------------------------------------------------ */

/* A room_def read on the fetcher's thread, copied to outlive the row. */
typedef struct {
    room_def d;
    char *strs[5]; /* owned: slug, name, audience, format, backlog */
    void *schedule;
} def_copy;

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void def_copy_of(def_copy *c, const room_def *d)
{
    c->d = *d;
    c->d.slug = c->strs[0] = dup_or_null(d->slug);
    c->d.name = c->strs[1] = dup_or_null(d->name);
    c->d.audience = c->strs[2] = dup_or_null(d->audience);
    c->d.format = c->strs[3] = dup_or_null(d->format);
    c->d.backlog = c->strs[4] = dup_or_null(d->backlog);
    c->schedule = d->schedule && d->schedule_len ? xmemdup0(d->schedule, d->schedule_len) : NULL;
    c->d.schedule = c->schedule;
    c->d.schedule_len = c->schedule ? d->schedule_len : 0;
}

static void def_copy_free(def_copy *c)
{
    for (size_t i = 0; i < sizeof(c->strs) / sizeof(c->strs[0]); i++)
        free(c->strs[i]);
    free(c->schedule);
}

typedef struct {
    def_copy *v;
    size_t n, cap;
} def_list;

static void def_list_free(def_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        def_copy_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void collect_def(const room_def *d, void *ud)
{
    def_list *l = ud;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    def_copy_of(&l->v[l->n++], d);
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

/* One room read again (`slug`), or every room with its bans and mutes (slug empty: the
 * catch-up after the listening connection was down). */
typedef struct room_read {
    mu_fetch f;
    struct room_read *prev, *next; /* the reads asked for and not yet applied, oldest first */
    char slug[ROOM_SLUG_MAX + 1];
    bool touched; /* an event: the meeting feed's `updated` moves */
    bool lists;   /* one room's bans and mutes too (those the catch-up left to it) */
    def_list defs;
    pairs bans, mutes;
} room_read;

static room_read *pending_head, *pending_tail;

static void read_again(const char *slug, bool touched, bool lists);

/* Reads that failed, asked for again at the next presence beat (room_remote_retry). */
static struct again {
    char slug[ROOM_SLUG_MAX + 1];
    bool lists;
} * retries;
static size_t nretries, capretries;
static bool retry_all;

static void retry_add(const char *slug, bool lists)
{
    for (size_t i = 0; i < nretries; i++)
        if (strcmp(retries[i].slug, slug) == 0) {
            retries[i].lists |= lists;
            return;
        }
    if (nretries == capretries) {
        capretries = capretries ? capretries * 2 : 8;
        retries = xreallocarray(retries, capretries, sizeof(*retries));
    }
    snprintf(retries[nretries].slug, sizeof(retries[nretries].slug), "%s", slug);
    retries[nretries++].lists = lists;
}

void room_remote_retry(void)
{
    if (retry_all) {
        retry_all = false;
        read_again(NULL, false, false);
    }
    size_t n = nretries;
    nretries = 0; /* a read that fails again adds itself back */
    for (size_t i = 0; i < n; i++)
        read_again(retries[i].slug, true, retries[i].lists);
    if (!nretries) {
        free(retries);
        retries = NULL;
        capretries = 0;
    }
}

/* A read of `slug` asked for after the one being applied (the fetcher applies in order). */
static bool read_later(const char *slug)
{
    for (const room_read *j = pending_head; j; j = j->next)
        if (j->slug[0] && strcmp(j->slug, slug) == 0)
            return true;
    return false;
}

static bool room_read_run(mu_fetch *f, mu_reader *rd)
{
    room_read *j = (room_read *)f;
    def_list_free(&j->defs); /* a second try starts over */
    j->bans.n = j->mutes.n = 0;
    if (!rd)
        return false;
    db_conn *db = store_reader_db(rd);
    if (j->slug[0] && store_rooms_get(rd, j->slug, collect_def, &j->defs) < 0)
        return false;
    if (!j->slug[0] && store_rooms_load(db, collect_def, &j->defs) != 0)
        return false;
    return (j->slug[0] && !j->lists) || (store_rooms_load_bans(db, collect_pair, &j->bans) == 0 &&
                                         store_rooms_load_mutes(db, collect_pair, &j->mutes) == 0);
}

/* Bans and mutes as read, for `only` (NULL: every room but those with a later read). */
static void set_lists(room_read *j, room *only)
{
    for (room *r = only ? only : rooms_first(); r; r = only ? NULL : r->next)
        if (only || !read_later(r->slug))
            r->bans.n = r->mutes.n = 0;
    for (int k = 0; k < 2; k++) {
        const pairs *l = k ? &j->mutes : &j->bans;
        for (size_t i = 0; i < l->n; i++) {
            room *r = rooms_find(l->v[i].slug, strlen(l->v[i].slug));
            if (r && (only ? r == only : !read_later(r->slug)))
                ids_add(k ? &r->mutes : &r->bans, l->v[i].user);
        }
    }
}

static void apply_one(room_read *j)
{
    room *r = rooms_find(j->slug, strlen(j->slug));
    if (j->defs.n) {
        reconciling k = {NULL, j->touched};
        reconcile(&j->defs.v[0].d, &k);
        if (j->lists && k.r)
            set_lists(j, k.r);
    } else if (r) {
        rooms_delete(r); /* gone from the store */
    }
}

/* Every room as stored, and none that is not; bans and mutes as stored (a ban made meanwhile
 * keeps its user out from here too). A room with a read asked for after this one is left to
 * it. */
static void apply_all(room_read *j)
{
    for (size_t i = 0; i < j->defs.n; i++) {
        if (read_later(j->defs.v[i].d.slug))
            continue;
        reconciling k = {NULL, false};
        reconcile(&j->defs.v[i].d, &k);
    }
    for (room *r = rooms_first(), *next; r; r = next) {
        next = r->next;
        bool kept = read_later(r->slug);
        for (size_t i = 0; i < j->defs.n && !kept; i++)
            kept = strcmp(j->defs.v[i].d.slug, r->slug) == 0;
        if (!kept)
            rooms_delete(r);
    }
    set_lists(j, NULL);
    /* A room left to a later read has its lists read again after it (that read may not). */
    for (room *r = rooms_first(); r; r = r->next)
        if (read_later(r->slug))
            read_again(r->slug, false, true);
    room_live_reread_all();
    room_deliver_catch_up();
}

static void room_read_done(mu_fetch *f, bool ok)
{
    room_read *j = (room_read *)f;
    if (j->prev)
        j->prev->next = j->next;
    else
        pending_head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        pending_tail = j->prev;
    if (!ok && j->slug[0] && !read_later(j->slug)) {
        log_warn("room %s could not be read again; it is read at the next beat", j->slug);
        retry_add(j->slug, j->lists);
    } else if (!ok && !j->slug[0]) {
        log_warn("rooms could not be read again after other nodes' events were missed; they "
                 "are read at the next beat");
        retry_all = true;
    } else if (j->slug[0] && !read_later(j->slug))
        apply_one(j);
    else if (!j->slug[0])
        apply_all(j);
    def_list_free(&j->defs);
    free(j->bans.v);
    free(j->mutes.v);
    free(j);
}

/* Asks for the room `slug` (NULL: every room) as stored. */
static void read_again(const char *slug, bool touched, bool lists)
{
    mu_fetcher *f = room_fetcher();
    if (!f) {
        log_warn("room %s: no reading thread to read it again", slug ? slug : "(all)");
        return;
    }
    room_read *j = xcalloc(1, sizeof(*j));
    if (slug)
        snprintf(j->slug, sizeof(j->slug), "%s", slug);
    j->touched = touched;
    j->lists = lists;
    j->f.run = room_read_run;
    j->f.done = room_read_done;
    j->prev = pending_tail;
    if (pending_tail)
        pending_tail->next = j;
    else
        pending_head = j;
    pending_tail = j;
    store_fetch(f, &j->f);
}

void room_recheck(const char *slug)
{
    if (events_shared())
        read_again(slug, true, false);
}

/* ---- moderation made on another node ------------------------------------------------------ */

/* Its target's and actor's handles, read on the fetcher, in turn with the room's reads (a lobby
 * answer reads nothing, but is applied in turn too: after the lobby change before it). */
typedef struct {
    mu_fetch f;
    char slug[ROOM_SLUG_MAX + 1];
    room_change what;
    int64_t target, actor;
    char th[MU_HANDLE_MAX + 1], ah[MU_HANDLE_MAX + 1];
} moderation_read;

static bool handle_of(mu_reader *rd, int64_t id, char out[MU_HANDLE_MAX + 1])
{
    user_row u;
    if (store_users_find_by_id(rd, id, &u) != 1)
        return false;
    snprintf(out, MU_HANDLE_MAX + 1, "%s", u.handle);
    return true;
}

static bool moderation_run(mu_fetch *f, mu_reader *rd)
{
    moderation_read *j = (moderation_read *)f;
    if (j->what == ROOM_CH_ADMIT || j->what == ROOM_CH_DENY)
        return true; /* nothing to read: in turn is all it needs */
    return rd && handle_of(rd, j->target, j->th) && handle_of(rd, j->actor, j->ah);
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

/* Mute, unmute, remove, ban, unban of the target by the actor; a lobby answer. */
static void moderation_done(mu_fetch *f, bool ok)
{
    moderation_read *j = (moderation_read *)f;
    room *r = rooms_find(j->slug, strlen(j->slug));
    if (!ok)
        log_warn("room %s: a moderation on another node names an account that cannot be read",
                 j->slug);
    if (!r || !ok)
        goto done;
    switch (j->what) {
    case ROOM_CH_MUTE:
        if (ids_add(&r->mutes, j->target))
            room_send_moderation(r, "mute", j->th, j->ah);
        break;
    case ROOM_CH_UNMUTE:
        if (ids_del(&r->mutes, j->target))
            room_send_moderation(r, "unmute", j->th, j->ah);
        break;
    case ROOM_CH_REMOVE:
    case ROOM_CH_BAN: room_remove_user(r, j->target, j->th, j->ah, j->what == ROOM_CH_BAN); break;
    case ROOM_CH_UNBAN:
        if (ids_del(&r->bans, j->target))
            room_send_moderation(r, "unban", j->th, j->ah);
        break;
    case ROOM_CH_ADMIT:
    case ROOM_CH_DENY: lobby_decided(r, j->what, j->target); break;
    default: break;
    }
done:
    free(j);
}

static void moderate(const char *slug, room_change what, int64_t target, int64_t actor)
{
    mu_fetcher *f = room_fetcher();
    if (!f)
        return;
    moderation_read *j = xcalloc(1, sizeof(*j));
    snprintf(j->slug, sizeof(j->slug), "%s", slug);
    j->what = what;
    j->target = target;
    j->actor = actor;
    j->f.run = moderation_run;
    j->f.done = moderation_done;
    store_fetch(f, &j->f);
}

static void on_room(int64_t what, int64_t target, int64_t actor, const char *slug)
{
    switch (what) {
    case ROOM_CH_CLOSE: /* the stored meeting count tells a late close from a new meeting */
    case ROOM_CH_DEF:
    case ROOM_CH_OPEN:
    case ROOM_CH_FLAGS:
    case ROOM_CH_DELETED: read_again(slug, true, false); break;
    default: moderate(slug, (room_change)what, target, actor); break;
    }
}

static void rooms_catch_up(void)
{
    read_again(NULL, false, false);
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
