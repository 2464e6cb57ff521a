/* What is said in a room reaches its members on this node in seq order, once each, whichever
 * node stored it (see room_int.h). A room's messages commit in seq order on every node (a
 * room's writes hold its lock to their commit), so once seq s has committed every seq below it
 * has too: a gap before s is read from the store, never waited for. Layer: concerns (rooms),
 * over room_int.h. */
#include <string.h>

#include "log.h"
#include "room_int.h"

/* The most a gap is filled with at once; older ones stay in room.history. */
#define GAP_MAX 500

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

static void fill_one(const room_msg_row *m, void *ud)
{
    room *r = ud;
    if (m->seq <= r->done_seq)
        return;
    send_msg(r, m);
    r->done_seq = m->seq;
}

/* Everything stored after the newest delivered, below `before`. */
static void fill(room *r, int64_t before)
{
    if (store_rooms_msgs(g_srv->store, r->slug, r->done_seq, before, GAP_MAX, fill_one, r) < 0)
        log_warn("room %s: messages stored through another node could not be read; members "
                 "find them in the room's history",
                 r->slug);
}

void room_deliver(room *r, int64_t seq, const room_msg_row *m)
{
    if (seq <= r->done_seq)
        return; /* read already, with a gap before a later one */
    if (r->members.n > 0) {
        if (seq - 1 > r->done_seq || !m)
            fill(r, m ? seq : seq + 1);
        if (m)
            send_msg(r, m);
    }
    r->done_seq = seq;
}

void room_deliver_event(const char *slug, int64_t seq)
{
    room *r = rooms_find(slug, strlen(slug));
    if (r && seq > 0)
        room_deliver(r, seq, NULL);
}

void room_deliver_catch_up(void)
{
    for (room *r = rooms_first(); r; r = r->next)
        if (r->members.n > 0)
            fill(r, INT64_MAX);
}
