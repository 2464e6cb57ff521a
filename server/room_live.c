/* The floor and raised hands across nodes, on PostgreSQL: a change made here is shown here at
 * once and stored under the room's lock (store_nodes.c), and every node then reads the room's
 * floor and hands back as stored, so that changes made at the same moment on two nodes end the
 * same on both, in the order they were written. A node also reads them all when it starts or
 * listens again, and after each presence beat (a hand of someone it has only just learnt is in
 * the room). While this node's own changes to a room are on their way, it waits for the last
 * of them before reading, so that nobody sees a hand go down and up again. The reads are made
 * on the fetcher's thread (store_fetch.h), in turn with the other reads for the rooms. Each
 * node ends a timed share by its own clock. Nothing of this runs on SQLite. Layer: concerns (rooms), over
 * room_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "events.h"
#include "log.h"
#include "room_int.h"
#include "rooms.h"
#include "store_fetch.h"
#include "xalloc.h"

typedef enum { LIVE_HAND, LIVE_FLOOR } live_what;

typedef struct {
    mu_job job;
    char slug[ROOM_SLUG_MAX + 1];
    live_what what;
    int64_t user, ends; /* LIVE_HAND: the user, and whether the hand is up (1) */
} live_job;

/* ---- reading them back -------------------------------------------------------------------- */

typedef struct {
    char slug[ROOM_SLUG_MAX + 1];
    int64_t floor_user, floor_ends;
    id_list hands;
} live_row;

typedef struct {
    live_row *v;
    size_t n, cap;
} live_rows;

static void collect(const char *slug, bool hand, int64_t user, int64_t ends, void *ud)
{
    live_rows *l = ud;
    if (strlen(slug) > ROOM_SLUG_MAX)
        return;
    live_row *last = l->n ? &l->v[l->n - 1] : NULL;
    if (!last || strcmp(last->slug, slug) != 0) {
        if (l->n == l->cap || !l->v) {
            l->cap = l->cap ? l->cap * 2 : 16;
            l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
        }
        last = &l->v[l->n++];
        memset(last, 0, sizeof(*last));
        memcpy(last->slug, slug, strlen(slug) + 1);
    }
    if (hand) {
        ids_add(&last->hands, user);
    } else {
        last->floor_user = user;
        last->floor_ends = ends;
    }
}

static void rows_free(live_rows *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].hands.v);
    free(l->v);
}

static bool ids_same(const id_list *a, const id_list *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i] != b->v[i])
            return false;
    return true;
}

/* The room's floor and hands as stored (`s` NULL: nobody, none), of the people in it here. */
static void apply(room *r, const live_row *s)
{
    static const live_row none;
    if (!s)
        s = &none;
    bool changed = false;
    const member *m = s->floor_user ? room_member(r, s->floor_user) : NULL;
    int64_t left = s->floor_ends ? s->floor_ends - clock_now_ms() : 0;
    if (s->floor_ends && left <= 0)
        m = NULL; /* ran out */
    if ((m ? s->floor_user : 0) != r->floor_user || (m ? s->floor_ends : 0) != r->floor_ends) {
        room_give_floor(r, m, m && s->floor_ends ? (uint64_t)(left + 999) / 1000 : 0);
        if (m && s->floor_ends)
            r->floor_ends = s->floor_ends; /* the giver's end, not one rounded to seconds */
        changed = true;
    }
    id_list hands = {0};
    for (size_t i = 0; i < s->hands.n; i++)
        if (room_member(r, s->hands.v[i]))
            ids_add(&hands, s->hands.v[i]);
    if (!ids_same(&hands, &r->hands)) {
        free(r->hands.v);
        r->hands = hands;
        changed = true;
    } else {
        free(hands.v);
    }
    if (changed)
        room_send_state(r);
}

/* A read of one room's floor and hands (or every room's), on the fetcher's thread. */
/* Counts this node's changes; a read asked for before a room's latest is not applied to it
 * (that change's own read, asked for after it, is). */
static uint64_t live_clock;

typedef struct {
    mu_fetch f;
    char slug[ROOM_SLUG_MAX + 1]; /* empty: every room */
    uint64_t mark;                /* live_clock when asked for */
    live_rows rows;
} live_read;

static bool read_run(mu_fetch *f, mu_reader *rd)
{
    live_read *j = (live_read *)f;
    rows_free(&j->rows); /* a second try starts over */
    memset(&j->rows, 0, sizeof(j->rows));
    return rd && store_rooms_live_load(rd, j->slug[0] ? j->slug : NULL, collect, &j->rows) >= 0;
}

/* The rooms as read; as they are when they could not be. */
static void read_done(mu_fetch *f, bool ok)
{
    live_read *j = (live_read *)f;
    room *one = j->slug[0] ? rooms_find(j->slug, strlen(j->slug)) : NULL;
    if (!ok)
        log_warn("the floor and raised hands could not be read; they stay as they are here");
    else if (!j->slug[0] || one)
        for (room *x = one ? one : rooms_first(); x; x = one ? NULL : x->next) {
            if (x->live_pending || x->live_mark > j->mark)
                continue; /* read when this node's own changes have landed */
            const live_row *s = NULL;
            for (size_t i = 0; i < j->rows.n && !s; i++)
                if (strcmp(j->rows.v[i].slug, x->slug) == 0)
                    s = &j->rows.v[i];
            apply(x, s);
        }
    rows_free(&j->rows);
    free(j);
}

/* One room (`r`), or every room (NULL), read again as stored. */
static void reread(const room *r)
{
    mu_fetcher *f = room_fetcher();
    if (!f)
        return;
    live_read *j = xcalloc(1, sizeof(*j));
    if (r)
        memcpy(j->slug, r->slug, sizeof(j->slug));
    j->mark = live_clock;
    j->f.run = read_run;
    j->f.done = read_done;
    store_fetch(f, &j->f);
}

void room_live_reread_all(void)
{
    reread(NULL);
}

void room_live_event(int64_t a, int64_t b, int64_t c, const char *slug)
{
    (void)a;
    (void)b;
    (void)c;
    room *r = rooms_find(slug, strlen(slug));
    if (r)
        reread(r);
}

/* ---- storing this node's changes ---------------------------------------------------------- */

static mu_code live_run(mu_job *j, mu_wtx *w)
{
    live_job *o = (live_job *)j;
    mu_code c = o->what == LIVE_HAND
                    ? store_rooms_hand_set(w, o->slug, o->user, o->ends != 0, events_node_id())
                    : store_rooms_floor_set(w, o->slug, o->user, o->ends, events_node_id());
    if (c == MU_E_NOT_FOUND)
        return MU_OK; /* the room or the account is gone, and the rows with it */
    return c == MU_OK ? events_publish_word(w, "live", o->slug, 0, 0, 0) : c;
}

static void live_done(mu_job *j)
{
    live_job *o = (live_job *)j;
    room *r = rooms_find(o->slug, strlen(o->slug));
    if (j->result != MU_OK)
        log_warn("room %s: a change of the floor or hands was not stored (%s); it is read back "
                 "as stored",
                 o->slug, mu_code_name(j->result));
    if (r && r->live_pending > 0 && --r->live_pending == 0)
        reread(r);
    free(o);
}

static void submit(room *r, live_what what, int64_t user, int64_t ends)
{
    if (!events_shared())
        return;
    live_job *o = xcalloc(1, sizeof(*o));
    memcpy(o->slug, r->slug, sizeof(o->slug));
    o->what = what;
    o->user = user;
    o->ends = ends;
    o->job.run = live_run;
    o->job.done = live_done;
    o->job.lock_key = store_key_of(o->slug);
    r->live_pending++;
    r->live_mark = ++live_clock;
    store_submit(g_srv->store, &o->job);
}

void room_live_hand(room *r, int64_t user, bool up)
{
    submit(r, LIVE_HAND, user, up);
}

void room_live_floor(room *r)
{
    submit(r, LIVE_FLOOR, r->floor_user, r->floor_ends);
}
