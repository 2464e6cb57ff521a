/* What is said in a room reaches its members on this node in seq order, once each, whichever
 * node stored it (see room_int.h). A room's messages commit in seq order on every node (a
 * room's writes hold its lock to their commit), so once seq s has committed every seq below it
 * has too: a gap before s is read from the store, never waited for.
 * With several nodes the gap is read on the fetcher's thread (store_fetch.h), so that the loop
 * never waits on PostgreSQL: while a room's read is on its way, this node's own messages wait
 * behind it (in memory, in seq order), and further events only raise what the next read
 * covers. One node (SQLite) writes every message itself and reads a gap, which a failed write
 * can leave, at once. Layer: concerns (rooms), over room_int.h. */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "log.h"
#include "room_int.h"
#include "rooms.h"
#include "store_fetch.h"
#include "xalloc.h"

/* The most a gap is filled with at once; older ones stay in room.history. */
#define GAP_MAX 500

/* A message kept until it can go out: this node's own, behind a read; or one read. */
typedef struct {
    int64_t seq, ts;
    char *from, *text; /* owned */
    size_t text_len;
} kept_msg;

typedef struct {
    kept_msg *v;
    size_t n, cap;
} kept_list;

/* A room's reads: owned by the room (room_deliver_forget frees it). */
struct room_fill {
    bool busy;     /* a read is on its way */
    int64_t want;  /* a committed seq that members have not had yet (0: none) */
    bool all;      /* read to the newest (after the listening connection was down) */
    kept_list own; /* this node's messages behind the read, in seq order */
};

static mu_fetcher *fetcher;

static void send_msg(const room *r, const room_msg_row *m)
{
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, MU_OP_EV_ROOM_MSG, 5);
    mu_enc_kstr(&e, "room", r->slug);
    mu_enc_kint(&e, "seq", m->seq);
    mu_enc_kint(&e, "ts", m->ts);
    mu_enc_kstr(&e, "from", m->from);
    mu_enc_kstrn(&e, "text", m->text, m->text_len);
    room_broadcast(r, &e, 0);
}

static void kept_add(kept_list *l, const room_msg_row *m)
{
    if (l->n == l->cap || !l->v) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    size_t i = l->n; /* in seq order: this node's writes land in seq order, nearly always */
    while (i > 0 && l->v[i - 1].seq > m->seq)
        i--;
    memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*l->v));
    kept_msg *k = &l->v[i];
    k->seq = m->seq;
    k->ts = m->ts;
    k->from = xstrdup(m->from);
    k->text = xmalloc(m->text_len + 1);
    memcpy(k->text, m->text, m->text_len);
    k->text[m->text_len] = '\0';
    k->text_len = m->text_len;
    l->n++;
}

static void kept_free(kept_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].from);
        free(l->v[i].text);
    }
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static void send_kept(room *r, const kept_msg *k)
{
    room_msg_row m = {k->seq, k->ts, k->from, k->text, k->text_len};
    send_msg(r, &m);
    r->done_seq = k->seq;
}

/* ---- one node: a gap read at once ---------------------------------------------------------- */

static void fill_one(const room_msg_row *m, void *ud)
{
    room *r = ud;
    if (m->seq <= r->done_seq)
        return;
    send_msg(r, m);
    r->done_seq = m->seq;
}

static void fill_now(room *r, int64_t before)
{
    if (store_rooms_msgs(loop_reader(), r->slug, r->done_seq, before, GAP_MAX, fill_one, r) < 0)
        log_warn("room %s: messages could not be read; members find them in the room's history",
                 r->slug);
}

/* ---- several nodes: reads on the fetcher's thread ------------------------------------------ */

typedef struct {
    mu_fetch f;
    char slug[ROOM_SLUG_MAX + 1];
    int64_t created_ts; /* the room it is for (a slug deleted and made again is another) */
    int64_t after, before;
    kept_list got;
} fill_job;

static void collect(const room_msg_row *m, void *ud)
{
    kept_add(ud, m);
}

static bool fill_run(mu_fetch *f, mu_reader *rd)
{
    fill_job *j = (fill_job *)f;
    kept_free(&j->got); /* a second try starts over */
    return rd && store_rooms_msgs(rd, j->slug, j->after, j->before, GAP_MAX, collect, &j->got) >= 0;
}

static void kick(room *r);

static void fill_done(mu_fetch *f, bool ok)
{
    fill_job *j = (fill_job *)f;
    room *r = rooms_find(j->slug, strlen(j->slug));
    if (r && r->created_ts == j->created_ts && r->fill) {
        r->fill->busy = false;
        if (!ok)
            log_warn("room %s: messages stored through another node could not be read; members "
                     "find them in the room's history",
                     r->slug);
        for (size_t i = 0; i < j->got.n; i++)
            if (j->got.v[i].seq > r->done_seq)
                send_kept(r, &j->got.v[i]);
        /* Everything below `before` has committed: what was not read is not there (erased,
         * or older than GAP_MAX), or could not be read. */
        if (j->before != INT64_MAX && j->before - 1 > r->done_seq)
            r->done_seq = j->before - 1;
        kick(r);
    }
    kept_free(&j->got);
    free(j);
}

/* Sends this node's kept messages that are next, then starts the read that the rest need. */
static void kick(room *r)
{
    struct room_fill *fl = r->fill;
    if (fl->busy)
        return;
    size_t sent = 0;
    while (sent < fl->own.n && fl->own.v[sent].seq <= r->done_seq + 1) {
        if (fl->own.v[sent].seq == r->done_seq + 1)
            send_kept(r, &fl->own.v[sent]);
        sent++;
    }
    for (size_t i = 0; i < sent; i++) {
        free(fl->own.v[i].from);
        free(fl->own.v[i].text);
    }
    if (sent) {
        memmove(fl->own.v, fl->own.v + sent, (fl->own.n - sent) * sizeof(*fl->own.v));
        fl->own.n -= sent;
    }
    int64_t before;
    if (fl->own.n) {
        before = fl->own.v[0].seq; /* the rest (want, all) once they have gone */
    } else if (fl->all) {
        before = INT64_MAX;
        fl->all = false;
    } else if (fl->want > r->done_seq) {
        before = fl->want + 1;
    } else {
        return; /* nothing missing */
    }
    fill_job *j = xcalloc(1, sizeof(*j));
    memcpy(j->slug, r->slug, sizeof(j->slug));
    j->created_ts = r->created_ts;
    j->after = r->done_seq;
    j->before = before;
    j->f.run = fill_run;
    j->f.done = fill_done;
    fl->busy = true;
    store_fetch(fetcher, &j->f);
}

static struct room_fill *fill_of(room *r)
{
    if (!r->fill)
        r->fill = xcalloc(1, sizeof(*r->fill));
    return r->fill;
}

void room_deliver(room *r, int64_t seq, const room_msg_row *m)
{
    if (seq <= r->done_seq)
        return; /* read already, with a gap before a later one */
    bool busy = r->fill && r->fill->busy;
    if (!busy && (r->members.n == 0 || (m && seq == r->done_seq + 1))) {
        if (m && r->members.n)
            send_msg(r, m);
        r->done_seq = seq; /* nobody here to read it for, or nothing missing before it */
        return;
    }
    if (!fetcher) {
        fill_now(r, m ? seq : seq + 1);
        if (m)
            send_msg(r, m);
        if (seq > r->done_seq)
            r->done_seq = seq;
        return;
    }
    struct room_fill *fl = fill_of(r);
    if (m)
        kept_add(&fl->own, m);
    else if (seq > fl->want)
        fl->want = seq;
    kick(r);
}

void room_deliver_event(const char *slug, int64_t seq)
{
    room *r = rooms_find(slug, strlen(slug));
    if (r && seq > 0)
        room_deliver(r, seq, NULL);
}

void room_deliver_catch_up(void)
{
    for (room *r = rooms_first(); r; r = r->next) {
        if (!r->members.n)
            continue;
        if (!fetcher) {
            fill_now(r, INT64_MAX);
            continue;
        }
        fill_of(r)->all = true;
        kick(r);
    }
}

void room_deliver_forget(room *r)
{
    if (!r->fill)
        return;
    kept_free(&r->fill->own);
    free(r->fill);
    r->fill = NULL;
}

struct mu_fetcher *room_fetcher(void)
{
    return fetcher;
}

void room_deliver_start(mu_server *s)
{
    if (db_is_url(s->cfg.db)) /* events_shared() is not known before events_start */
        fetcher = store_fetcher_start(s->store, s->loop);
}

void room_deliver_stop(void)
{
    store_fetcher_stop(fetcher);
    fetcher = NULL;
}
