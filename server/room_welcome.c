/* What a joiner sees: the room, its members, its history and its state, encoded for a join
 * reply (room_meeting.c) and for room.admitted, whose history is read off the loop as a join's
 * is. Layer: concerns (rooms), over room_int.h and reads.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reads.h"
#include "room_int.h"
#include "xalloc.h"

static void enc_members(mu_enc *e, const room *r)
{
    mu_enc_array(e, (uint32_t)r->members.n);
    for (size_t i = 0; i < r->members.n; i++) {
        const member *m = &r->members.v[i];
        mu_enc_map(e, 4);
        mu_enc_kstr(e, "handle", m->handle);
        mu_enc_kstr(e, "role", role_name(m->role));
        mu_enc_kbool(e, "facilitator", room_is_facilitator(m->role));
        mu_enc_kbool(e, "muted", ids_has(&r->mutes, m->user));
    }
}

void room_enc_msg(const room_msg_row *m, void *ud)
{
    mu_enc *e = ud;
    mu_enc_map(e, 4);
    mu_enc_kint(e, "seq", m->seq);
    mu_enc_kint(e, "ts", m->ts);
    mu_enc_kstr(e, "from", m->from);
    mu_enc_kstrn(e, "text", m->text, m->text_len);
}

void room_history_ask_of(room_history_ask *a, const room *r, int64_t user, bool has_since,
                         int64_t since)
{
    snprintf(a->slug, sizeof(a->slug), "%s", r->slug);
    a->hidden = room_visible_after(r, user);
    a->done_seq = r->done_seq;
    a->has_since = has_since;
    a->since = since;
}

int room_history_read(mu_reader *rd, const room_history_ask *a, mu_enc *e, bool *recovered)
{
    mu_enc body;
    mu_enc_init(&body, 0);
    int n;
    if (!a->has_since) {
        n = store_rooms_msgs(rd, a->slug, a->hidden, a->done_seq + 1, 50, room_enc_msg, &body);
    } else {
        int64_t after = a->since > a->hidden ? a->since : a->hidden, min_seq = 0;
        int64_t held = store_rooms_msgs_count_after(rd, a->slug, after, &min_seq);
        int64_t expected = a->done_seq > after ? a->done_seq - after : 0;
        *recovered = held >= 0 && held <= 500 && held >= expected;
        n = held < 0
                ? -1
                : store_rooms_msgs(rd, a->slug, after, a->done_seq + 1, 500, room_enc_msg, &body);
    }
    if (n < 0) {
        mu_enc_free(&body);
        return -1;
    }
    mu_enc_array(e, (uint32_t)n);
    mu_enc_append(e, &body);
    return 0;
}

void room_enc_join_head(mu_enc *e, const room *r)
{
    mu_enc_key(e, "room");
    room_enc(e, r);
    mu_enc_key(e, "members");
    enc_members(e, r);
}

void room_enc_join_state(mu_enc *e, const room *r)
{
    mu_enc_key(e, "state");
    mu_enc_map(e, 7);
    room_enc_state_fields(e, r);
}

void room_enc_join_parts(mu_enc *e, mu_enc *head, mu_enc *history, mu_enc *state)
{
    mu_enc *parts[3] = {head, history, state};
    for (int i = 0; i < 3; i++) {
        if (i == 1)
            mu_enc_key(e, "history");
        mu_enc_append(e, parts[i]); /* frees what it appends */
        mu_enc_init(parts[i], 0);
    }
}

/* ---- room.admitted ------------------------------------------------------------------------ */

/* The admitted user's connections here are held (their room events follow the event) while
 * the history is read; the room and its state are encoded when they were let in. */
typedef struct {
    conn_read cr; /* on the first connection */
    room_history_ask ask;
    int64_t user;
    uint64_t serial; /* the room let into (room.serial) */
    mu_enc head, state, hist;
    mu_conn **conns; /* each a reference and a hold, let go after */
    size_t n;
} admit_read;

static bool admit_run(conn_read *cr, mu_reader *rd)
{
    admit_read *a = (admit_read *)cr;
    mu_enc_free(&a->hist); /* a second try starts over */
    mu_enc_init(&a->hist, 0);
    bool recovered = false;
    return room_history_read(rd, &a->ask, &a->hist, &recovered) == 0;
}

static void admit_done(conn_read *cr, bool ok)
{
    admit_read *a = (admit_read *)cr;
    room *r = rooms_find(a->ask.slug, strlen(a->ask.slug));
    member *m = r && r->serial == a->serial ? room_member(r, a->user) : NULL;
    if (ok && m) {
        mu_enc e;
        frame_enc_init(&e);
        mu_enc_event(&e, MU_OP_EV_ROOM_ADMITTED, 4);
        room_enc_join_parts(&e, &a->head, &a->hist, &a->state);
        mu_frame *f = frame_from_enc(&e);
        mu_enc_free(&e);
        for (size_t i = 0; i < a->n; i++)
            if (member_has_conn(m, a->conns[i]))
                conn_send_reply(a->conns[i], f); /* ahead of what was held */
        frame_unref(f);
    } else if (m) {
        /* Their history could not be read: they are not left in the room without it. */
        for (size_t i = 0; i < a->n; i++) {
            member *now = room_member(r, a->user);
            if (now && member_has_conn(now, a->conns[i]))
                room_leave_conn(r, a->conns[i]);
        }
    }
    for (size_t i = 0; i < a->n; i++) {
        /* A connection not in the room now was never welcomed (or has left): it does not get
         * what was said there while the history was read. */
        member *now = m ? room_member(r, a->user) : NULL;
        if (!now || !member_has_conn(now, a->conns[i]))
            conn_drop_held(a->conns[i], a->serial);
        conn_release(a->conns[i]);
        conn_unref(a->conns[i]);
    }
    mu_enc_free(&a->head);
    mu_enc_free(&a->state);
    mu_enc_free(&a->hist);
    free(a->conns);
    free(a);
}

void room_send_admitted(room *r, member *m, mu_conn *const *conns, size_t n)
{
    if (!n)
        return;
    admit_read *a = xcalloc(1, sizeof(*a));
    room_history_ask_of(&a->ask, r, m->user, false, 0);
    a->serial = r->serial;
    a->user = m->user;
    mu_enc_init(&a->head, 0);
    room_enc_join_head(&a->head, r);
    mu_enc_init(&a->state, 0);
    room_enc_join_state(&a->state, r);
    mu_enc_init(&a->hist, 0);
    a->conns = xcalloc(n, sizeof(mu_conn *));
    for (size_t i = 0; i < n; i++) {
        a->conns[a->n++] = conn_ref(conns[i]);
        conn_hold(conns[i]);
    }
    a->cr.what = "a room's history";
    a->cr.once = true; /* the connections' events wait on it: no waiting on a retry */
    a->cr.run = admit_run;
    a->cr.done = admit_done;
    reads_for_conn(conns[0], &a->cr);
}
