/* Meetings across two mutuald nodes on one PostgreSQL database (MUTUAL_TEST_PG; skipped on
 * SQLite): messages, state, presence, the floor and the lobby reach the people connected to
 * either node, and a node whose listening connection was cut catches up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>

#include <cmocka.h>

#include "nodes.h"

#define SAYS 20

/* A meeting with members on both nodes: what is said on either reaches everyone on both, in
 * seq order with no gap, the same on each node; a retry through the other node is stored
 * once. */
static void test_meeting_across(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y; /* one loop for the clients of both nodes, so that they send at once */
    mu_client *ana = n.w.mentor, *riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    circle_up(&n, riley_b);
    mu_client *clients[2] = {ana, riley_b};
    said t = {0, 0};
    char text[32];
    for (int i = 0; i < SAYS; i++)
        for (int k = 0; k < 2; k++) {
            snprintf(text, sizeof(text), "%s %d", k ? "B" : "A", i);
            assert_true(mu_client_send(clients[k], say_req(text, NULL), on_said, &t) > 0);
        }
    for (int i = 0; i < 200 && t.ok + t.other < 2 * SAYS; i++)
        mu_sync_run(y, 50);
    assert_int_equal(t.other, 0);
    assert_int_equal(t.ok, 2 * SAYS);
    /* everyone gets the same 40 messages, in seq order with no gap; each node's in its order */
    char seen[2][2 * SAYS][32];
    for (int k = 0; k < 2; k++) {
        int64_t first = 0;
        int next[2] = {0, 0};
        for (int i = 0; i < 2 * SAYS; i++) {
            mu_msg *m = next_msg(y, clients[k]);
            const mu_value *v = mu_msg_root(m);
            int64_t seq = mu_value_get_int(v, "seq", -1);
            if (i == 0)
                first = seq;
            assert_int_equal(seq, first + i);
            snprintf(seen[k][i], sizeof(seen[k][i]), "%s", mu_value_get_str(v, "text"));
            int from_b = seen[k][i][0] == 'B';
            snprintf(text, sizeof(text), "%s %d", from_b ? "B" : "A", next[from_b]++);
            assert_string_equal(seen[k][i], text);
            mu_msg_free(m);
        }
    }
    for (int i = 0; i < 2 * SAYS; i++)
        assert_string_equal(seen[0][i], seen[1][i]);
    /* the same cid through B and then A (riley is in the room on both): one message, one seq */
    call_expect(y, n.w.mem, room_req("room.join"), "ok");
    mu_msg *m1 = cl_call(y, riley_b, say_req("only once", "cid-1"));
    expect_ok(m1);
    mu_msg *m2 = cl_call(y, n.w.mem, say_req("only once", "cid-1"));
    expect_ok(m2);
    assert_int_equal(mu_value_get_int(mu_msg_root(m1), "seq", -1),
                     mu_value_get_int(mu_msg_root(m2), "seq", -2));
    mu_msg_free(m1);
    mu_msg_free(m2);
    assert_int_equal(srv_sql_int(&n.w.s, "SELECT count(*) FROM room_messages WHERE cid = 'cid-1'"),
                     1);
    nodes_down(&n);
}

/* A facilitator on A runs the meeting for members on B: mute, lock, remove with a ban, close,
 * and an admin's deletion reach B as they happen. */
static void test_meeting_state_across(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    mu_client *ana = n.w.mentor, *riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    circle_up(&n, riley_b);
    /* mute and unmute */
    call_expect(y, ana, target_req("room.mute", "riley"), "ok");
    expect_moderation(y, riley_b, "mute");
    call_expect(y, riley_b, say_req("may I?", NULL), "forbidden");
    call_expect(y, ana, target_req("room.unmute", "riley"), "ok");
    expect_moderation(y, riley_b, "unmute");
    call_expect(y, riley_b, say_req("thank you", NULL), "ok");
    /* lock: a newcomer on B is turned away until it is unlocked */
    srv_user_add(&n.w.s, "sam", WORLD_PW, "member");
    mu_client *sam_b = cl_signed_in(y, &n.b, "sam", WORLD_PW);
    mu_req *r = room_req("room.lock");
    mu_req_bool(r, "locked", true);
    call_expect(y, ana, r, "ok");
    mu_msg *m = next_op(y, riley_b, "room.state");
    assert_true(flag(mu_msg_root(m), "locked"));
    mu_msg_free(m);
    call_expect(y, sam_b, room_req("room.join"), "forbidden");
    r = room_req("room.lock");
    mu_req_bool(r, "locked", false);
    call_expect(y, ana, r, "ok");
    mu_msg_free(next_op(y, riley_b, "room.state"));
    call_expect(y, sam_b, room_req("room.join"), "ok");
    /* removal with a ban: riley's connection on B is out and cannot come back */
    r = target_req("room.remove", "riley");
    mu_req_bool(r, "ban", true);
    call_expect(y, ana, r, "ok");
    m = next_op(y, riley_b, "room.removed");
    assert_true(flag(mu_msg_root(m), "ban"));
    mu_msg_free(m);
    call_expect(y, riley_b, say_req("still here?", NULL), "forbidden");
    call_expect(y, riley_b, room_req("room.join"), "forbidden");
    /* close: the member on B is out */
    call_expect(y, ana, room_req("room.close"), "ok");
    mu_msg_free(next_op(y, sam_b, "room.closed"));
    call_expect(y, sam_b, room_req("room.join"), "conflict");
    /* an admin deletes the room on A: B lists it no more */
    call_expect(y, n.w.admin, room_req("room.delete"), "ok");
    bool listed = true;
    for (int i = 0; i < 100 && listed; i++) {
        m = cl_call(y, sam_b, mu_req_new("rooms.list"));
        expect_ok(m);
        const mu_value *rooms = mu_msg_get(m, "rooms");
        listed = false;
        for (size_t k = 0; k < mu_value_len(rooms); k++)
            listed |= strcmp(mu_value_get_str(mu_value_at(rooms, k), "room"), "circle") == 0;
        mu_msg_free(m);
        if (listed)
            mu_sync_run(y, 50);
    }
    assert_false(listed);
    nodes_down(&n);
}

/* Who is in the meeting, across nodes: a join or a leave on B is seen on A, each side's member
 * list holds the other's people; B is killed (kill -9): its people leave within
 * node_timeout_s, and a member who reconnects to A recovers everything acknowledged. */
static void test_presence_across(void **st)
{
    (void)st;
    nodes n;
    nodes_up_with(&n, "node_timeout_s = 3\n");
    mu_sync *y = n.w.y;
    mu_client *ana = n.w.mentor, *riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    circle_up(&n, riley_b);
    expect_presence(y, ana, "riley", "joined");
    /* again: the member list (ana's presence may reach B just after riley's first join) */
    bool both = false;
    for (int i = 0; i < 100 && !both; i++) {
        mu_msg *m = cl_call(y, riley_b, room_req("room.join"));
        expect_ok(m);
        both = has_member(m, "mentor.ana") && has_member(m, "riley");
        mu_msg_free(m);
        if (!both)
            mu_sync_run(y, 50);
    }
    assert_true(both);
    call_expect(y, riley_b, room_req("room.leave"), "ok");
    expect_presence(y, ana, "riley", "left");
    call_expect(y, riley_b, room_req("room.join"), "ok");
    expect_presence(y, ana, "riley", "joined");
    /* what riley saw and said before B dies */
    int64_t seen = say_seq(y, riley_b, "first, through B");
    int64_t b2 = say_seq(y, riley_b, "second, through B");
    int64_t a1 = say_seq(y, ana, "answer, through A");
    assert_true(seen < b2 && b2 < a1);
    srv_kill9(&n.b);
    double t0 = mono_ms();
    expect_presence(y, ana, "riley", "left");
    assert_true(mono_ms() - t0 < 2 * 3000); /* within node_timeout_s, with room for a slow run */
    /* riley comes back through A and recovers what came after the last message seen */
    mu_client *riley_a = n.w.mem;
    mu_req *r = room_req("room.join");
    mu_req_int(r, "since", seen);
    mu_msg *m = cl_call(y, riley_a, r);
    expect_ok(m);
    bool recovered = false;
    assert_true(mu_value_bool(mu_msg_get(m, "recovered"), &recovered) && recovered);
    const mu_value *h = mu_msg_get(m, "history");
    assert_int_equal(mu_value_len(h), 2);
    assert_int_equal(mu_value_get_int(mu_value_at(h, 0), "seq", -1), b2);
    assert_int_equal(mu_value_get_int(mu_value_at(h, 1), "seq", -1), a1);
    mu_msg_free(m);
    assert_int_equal(srv_sql_int(&n.w.s, "SELECT count(*) FROM room_messages"), 3);
    nodes_down(&n);
}

/* The connection's room.state events until one shows the floor with `handle` (NULL: nobody);
 * states sent on the way (a raised hand's) are passed over. */
/* Floor mode with the facilitator on A and the member on B: the hand raised on B is seen on
 * A, the floor given on A lets the member speak on B, and taken back it stops them. */
static void test_floor_across(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    mu_client *ana = n.w.mentor, *riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    circle_up(&n, riley_b);
    expect_presence(y, ana, "riley", "joined");
    mu_req *r = room_req("room.floor");
    mu_req_bool(r, "on", true);
    call_expect(y, ana, r, "ok");
    mu_msg *m = next_op(y, riley_b, "room.state");
    assert_true(flag(mu_msg_root(m), "floor_mode"));
    mu_msg_free(m);
    call_expect(y, riley_b, say_req("may I?", NULL), "forbidden");
    call_expect(y, riley_b, room_req("hand.raise"), "ok");
    /* ana's own floor mode change came first */
    bool raised = false;
    for (int i = 0; i < 5 && !raised; i++) {
        m = next_op(y, ana, "room.state");
        const mu_value *hands = mu_msg_get(m, "hands");
        raised =
            mu_value_len(hands) == 1 && strcmp(mu_value_str(mu_value_at(hands, 0)), "riley") == 0;
        mu_msg_free(m);
    }
    assert_true(raised);
    call_expect(y, ana, target_req("room.give", "riley"), "ok");
    expect_floor(y, riley_b, "riley");
    call_expect(y, riley_b, say_req("thank you all", NULL), "ok");
    call_expect(y, ana, room_req("room.give"), "ok");
    expect_floor(y, riley_b, NULL);
    call_expect(y, riley_b, say_req("one more thing", NULL), "forbidden");
    nodes_down(&n);
}

/* B's listening connection is cut while the meeting goes on on A: once B listens again, its
 * member sees the lock and the message said meanwhile. */
static void test_meeting_catches_up(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    mu_client *ana = n.w.mentor, *riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    circle_up(&n, riley_b);
    /* a persistent room that nobody on B is in */
    mu_req *r = mu_req_new("room.create");
    mu_req_str(r, "room", "archive");
    mu_req_str(r, "name", "Archive");
    mu_req_str(r, "audience", "open");
    mu_req_bool(r, "persistent", true);
    call_expect(y, ana, r, "ok");
    r = mu_req_new("room.open");
    mu_req_str(r, "room", "archive");
    call_expect(y, ana, r, "ok");
    srv_user_add(&n.w.s, "sam", WORLD_PW, "member");
    mu_client *sam_b = cl_signed_in(y, &n.b, "sam", WORLD_PW);
    fence(&n, on_b(&n, "mentor.ana"), "B knows the archive");

    cut_listeners(&n);
    r = room_req("room.lock");
    mu_req_bool(r, "locked", true);
    call_expect(y, ana, r, "ok");
    r = target_req("room.remove", "sam");
    mu_req_bool(r, "ban", true);
    call_expect(y, ana, r, "ok");
    r = mu_req_new("room.join");
    mu_req_str(r, "room", "archive");
    call_expect(y, ana, r, "ok");
    r = mu_req_new("room.say");
    mu_req_str(r, "room", "archive");
    mu_req_str(r, "text", "kept for later");
    call_expect(y, ana, r, "ok");
    call_expect(y, ana, say_req("while B was not listening", NULL), "ok");
    /* B's member sees the lock and what was said meanwhile */
    mu_msg *m = next_op(y, riley_b, "room.state");
    assert_true(flag(mu_msg_root(m), "locked"));
    mu_msg_free(m);
    m = next_msg(y, riley_b);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), "while B was not listening");
    mu_msg_free(m);
    /* the ban made meanwhile holds on B (unlocked, so that only the ban refuses) */
    r = room_req("room.lock");
    mu_req_bool(r, "locked", false);
    call_expect(y, ana, r, "ok");
    mu_msg_free(next_op(y, riley_b, "room.state"));
    call_expect(y, sam_b, room_req("room.join"), "forbidden");
    /* a room nobody on B was in: a joiner on B gets what was said in it meanwhile */
    r = mu_req_new("room.join");
    mu_req_str(r, "room", "archive");
    m = cl_call(y, sam_b, r);
    expect_ok(m);
    const mu_value *h = mu_msg_get(m, "history");
    assert_int_equal(mu_value_len(h), 1);
    assert_string_equal(mu_value_get_str(mu_value_at(h, 0), "text"), "kept for later");
    mu_msg_free(m);
    nodes_down(&n);
}

/* Someone waits at the lobby through B: the facilitator on A hears the knock. */
static mu_client *knock_on_b(nodes *n, const char *handle)
{
    srv_user_add(&n->w.s, handle, WORLD_PW, "member");
    mu_client *c = cl_signed_in(n->w.y, &n->b, handle, WORLD_PW);
    mu_msg *m = cl_call(n->w.y, c, room_req("room.join"));
    expect_ok(m);
    assert_true(flag(mu_msg_root(m), "waiting"));
    mu_msg_free(m);
    m = next_op(n->w.y, n->w.mentor, "room.knock");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "handle"), handle);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "role"), "member");
    mu_msg_free(m);
    return c;
}

/* The lobby across nodes: people waiting through B are admitted and denied by the facilitator
 * on A, and someone waiting through A by the same facilitator signed in on B; whoever left the
 * lobby meanwhile is not found; the lobby turned off on A lets in whoever waits on B. */
static void test_lobby_across(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    mu_client *ana = n.w.mentor, *riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    circle_up(&n, riley_b);
    expect_presence(y, ana, "riley", "joined");
    mu_req *r = room_req("room.lobby");
    mu_req_bool(r, "on", true);
    call_expect(y, ana, r, "ok");
    mu_msg *m = next_op(y, riley_b, "room.state");
    assert_true(flag(mu_msg_root(m), "lobby"));
    mu_msg_free(m);

    mu_client *sam_b = knock_on_b(&n, "sam");
    call_expect(y, ana, target_req("room.admit", "sam"), "ok");
    m = next_op(y, sam_b, "room.admitted");
    assert_true(has_member(m, "sam"));
    assert_true(has_member(m, "mentor.ana"));
    mu_msg_free(m);
    expect_presence(y, ana, "sam", "joined");

    mu_client *kit_b = knock_on_b(&n, "kit");
    call_expect(y, ana, target_req("room.deny", "kit"), "ok");
    mu_msg_free(next_op(y, kit_b, "room.denied"));
    call_expect(y, ana, target_req("room.admit", "kit"), "not_found");

    /* lee leaves the lobby on B; what B writes after it (riley's message) comes later */
    mu_client *lee_b = knock_on_b(&n, "lee");
    call_expect(y, lee_b, room_req("room.leave"), "ok");
    call_expect(y, riley_b, say_req("lee has gone", NULL), "ok");
    m = next_msg(y, ana);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), "lee has gone");
    mu_msg_free(m);
    call_expect(y, ana, target_req("room.admit", "lee"), "not_found");

    /* the other way: nova waits through A, ana admits her from B */
    mu_client *ana_b = cl_signed_in(y, &n.b, "mentor.ana", WORLD_PW);
    call_expect(y, ana_b, room_req("room.join"), "ok");
    srv_user_add(&n.w.s, "nova", WORLD_PW, "member");
    mu_client *nova = cl_signed_in(y, &n.w.s, "nova", WORLD_PW);
    m = cl_call(y, nova, room_req("room.join"));
    assert_true(flag(mu_msg_root(m), "waiting"));
    mu_msg_free(m);
    for (int i = 0; i < 2; i++) { /* both of ana's connections hear it */
        m = next_op(y, i ? ana : ana_b, "room.knock");
        assert_string_equal(mu_value_get_str(mu_msg_root(m), "handle"), "nova");
        mu_msg_free(m);
    }
    call_expect(y, ana_b, target_req("room.admit", "nova"), "ok");
    m = next_op(y, nova, "room.admitted");
    assert_true(has_member(m, "riley"));
    mu_msg_free(m);

    /* the lobby turned off on A lets in whoever waits on B */
    mu_client *ash_b = knock_on_b(&n, "ash");
    r = room_req("room.lobby");
    mu_req_bool(r, "on", false);
    call_expect(y, ana, r, "ok");
    m = next_op(y, ash_b, "room.admitted");
    assert_true(has_member(m, "ash"));
    mu_msg_free(m);
    nodes_down(&n);
}

/* The hands as a node shows them, read through a member's room.join there: "a,b,c". */
static void hands_of(mu_sync *y, mu_client *c, char *out, size_t cap)
{
    mu_msg *m = cl_call(y, c, room_req("room.join"));
    expect_ok(m);
    const mu_value *h = mu_value_get(mu_msg_get(m, "state"), "hands");
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < mu_value_len(h) && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "",
                                 mu_value_str(mu_value_at(h, i)));
    mu_msg_free(m);
}

/* Until node A (through `a`) and node B (through `b`) show `want` hands, the same on both. */
static void hands_agree(mu_sync *y, mu_client *a, mu_client *b, size_t want)
{
    char on_a[128], on_b[128];
    for (int i = 0; i < 100; i++) {
        hands_of(y, a, on_a, sizeof(on_a));
        hands_of(y, b, on_b, sizeof(on_b));
        size_t n = on_a[0] ? 1 : 0;
        for (const char *p = on_a; *p; p++)
            n += *p == ',';
        if (n == want && strcmp(on_a, on_b) == 0)
            return;
        mu_sync_run(y, 50);
    }
    fail_msg("the nodes disagree on the hands: A \"%s\", B \"%s\"", on_a, on_b);
}

static void all_at_once(mu_sync *y, mu_client *const *cl, size_t n, const char *op)
{
    said t = {0, 0};
    for (size_t k = 0; k < n; k++)
        assert_true(mu_client_send(cl[k], room_req(op), on_said, &t) > 0);
    for (int i = 0; i < 200 && t.ok + t.other < (int)n; i++)
        mu_sync_run(y, 50);
    assert_int_equal(t.ok, (int)n);
}

/* Hands raised at the same moment through both nodes stand in the same order on both (the
 * order they were stored in), round after round; a node started later learns the floor and
 * the hands as they are. */
static void test_hands_agree(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    mu_client *ana = n.w.mentor, *riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    circle_up(&n, riley_b);
    srv_user_add(&n.w.s, "sam", WORLD_PW, "member");
    srv_user_add(&n.w.s, "kit", WORLD_PW, "member");
    srv_user_add(&n.w.s, "lee", WORLD_PW, "member");
    mu_client *sam = cl_signed_in(y, &n.w.s, "sam", WORLD_PW);
    mu_client *kit_b = cl_signed_in(y, &n.b, "kit", WORLD_PW);
    call_expect(y, sam, room_req("room.join"), "ok");
    call_expect(y, kit_b, room_req("room.join"), "ok");
    mu_client *const raisers[3] = {sam, riley_b, kit_b};
    for (int round = 0; round < 6; round++) {
        all_at_once(y, raisers, 3, "hand.raise");
        hands_agree(y, sam, kit_b, 3);
        all_at_once(y, raisers, 3, "hand.lower");
        hands_agree(y, sam, kit_b, 0);
    }
    /* the floor to riley (B), sam's and kit's hands up, and then a third node */
    call_expect(y, ana, target_req("room.give", "riley"), "ok");
    call_expect(y, sam, room_req("hand.raise"), "ok");
    call_expect(y, kit_b, room_req("hand.raise"), "ok");
    hands_agree(y, sam, kit_b, 2);
    char want[128];
    hands_of(y, sam, want, sizeof(want));
    srv_t c;
    srv_start_node(&c, &n.w.s, NULL);
    mu_client *lee_c = cl_signed_in(y, &c, "lee", WORLD_PW);
    bool learnt = false;
    for (int i = 0; i < 100 && !learnt; i++) {
        mu_msg *m = cl_call(y, lee_c, room_req("room.join"));
        if (mu_msg_ok(m)) {
            const char *f = mu_value_get_str(mu_msg_get(m, "state"), "floor");
            char got[128];
            hands_of(y, lee_c, got, sizeof(got));
            learnt = f && strcmp(f, "riley") == 0 && strcmp(got, want) == 0;
        }
        mu_msg_free(m);
        if (!learnt)
            mu_sync_run(y, 50);
    }
    assert_true(learnt);
    /* kit leaves: the stored hand goes with the last of kit's presence, and is not back when
     * kit comes back */
    call_expect(y, kit_b, room_req("room.leave"), "ok");
    const char *kit_hands = "SELECT count(*) FROM room_hands h JOIN users u ON u.id = h.user_id "
                            "WHERE u.handle = 'kit'";
    for (int i = 0; i < 100 && srv_sql_int(&n.w.s, kit_hands) != 0; i++)
        mu_sync_run(y, 50);
    assert_int_equal(srv_sql_int(&n.w.s, kit_hands), 0);
    hands_agree(y, sam, kit_b, 1);
    srv_stop(&c);
    srv_cleanup(&c);
    nodes_down(&n);
}

/* B's listening connection is cut, and meanwhile the meeting is closed and opened again on A:
 * once B listens again, its member learns that the meeting they were in ended (room.closed)
 * and may join the new one. */
static void test_missed_meeting(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    mu_client *ana = n.w.mentor, *riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    circle_up(&n, riley_b);
    cut_listeners(&n);
    call_expect(y, ana, room_req("room.close"), "ok");
    call_expect(y, ana, room_req("room.open"), "ok");
    mu_msg_free(next_op(y, riley_b, "room.closed"));
    call_expect(y, riley_b, room_req("room.join"), "ok"); /* open: a member may join */
    nodes_down(&n);
}

/* The next room.admitted or room.denied of the connection: its op. */
static const char *lobby_answer(mu_sync *y, mu_client *c)
{
    for (;;) {
        mu_msg *m = mu_sync_event(y, c, 5000);
        if (!m)
            fail_msg("no answer from the lobby");
        const char *op = mu_msg_op(m);
        const char *got = strcmp(op, "room.admitted") == 0 ? "room.admitted"
                          : strcmp(op, "room.denied") == 0 ? "room.denied"
                                                           : NULL;
        mu_msg_free(m);
        if (got)
            return got;
    }
}

/* Admit through A and deny through B at the same moment: one of them is answered ok, the
 * other not_found, and the waiting user gets what the ok one said. */
static void test_lobby_answers_race(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    mu_client *ana = n.w.mentor, *riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    circle_up(&n, riley_b);
    mu_client *ana_b = cl_signed_in(y, &n.b, "mentor.ana", WORLD_PW);
    call_expect(y, ana_b, room_req("room.join"), "ok");
    mu_req *r = room_req("room.lobby");
    mu_req_bool(r, "on", true);
    call_expect(y, ana, r, "ok");
    mu_msg_free(next_op(y, riley_b, "room.state"));
    for (int i = 0; i < 6; i++) {
        char who[16];
        snprintf(who, sizeof(who), "guest%d", i);
        srv_user_add(&n.w.s, who, WORLD_PW, "member");
        mu_client *g = cl_signed_in(y, &n.w.s, who, WORLD_PW);
        mu_msg *m = cl_call(y, g, room_req("room.join"));
        assert_true(flag(mu_msg_root(m), "waiting"));
        mu_msg_free(m);
        for (int k = 0; k < 2; k++) { /* both of ana's connections hear the knock */
            m = next_op(y, k ? ana : ana_b, "room.knock");
            assert_string_equal(mu_value_get_str(mu_msg_root(m), "handle"), who);
            mu_msg_free(m);
        }
        said admitted = {0, 0}, denied = {0, 0};
        assert_true(mu_client_send(ana, target_req("room.admit", who), on_said, &admitted) > 0);
        assert_true(mu_client_send(ana_b, target_req("room.deny", who), on_said, &denied) > 0);
        for (int t = 0; t < 200 && admitted.ok + admitted.other + denied.ok + denied.other < 2; t++)
            mu_sync_run(y, 50);
        assert_int_equal(admitted.ok + denied.ok, 1);
        assert_int_equal(admitted.other + denied.other, 1);
        assert_string_equal(lobby_answer(y, g), admitted.ok ? "room.admitted" : "room.denied");
    }
    nodes_down(&n);
}

/* B is killed while riley's hand is up there, and starts again at once; riley comes back
 * through it: the hand raised through the old B does not come back (a restart starts hands
 * empty), even though riley is in the room again before the old B is forgotten. */
static void test_hands_after_restart(void **st)
{
    (void)st;
    nodes n;
    nodes_up_with(&n, "node_timeout_s = 3\n");
    mu_sync *y = n.w.y;
    mu_client *ana = n.w.mentor, *riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    circle_up(&n, riley_b);
    call_expect(y, riley_b, room_req("hand.raise"), "ok");
    const char *stored = "SELECT count(*) FROM room_hands";
    for (int i = 0; i < 100 && srv_sql_int(&n.w.s, stored) != 1; i++)
        mu_sync_run(y, 50);
    assert_int_equal(srv_sql_int(&n.w.s, stored), 1);
    srv_kill9(&n.b);
    srv_restart_same_port(&n.b);
    riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    call_expect(y, riley_b, room_req("room.join"), "ok");
    /* past node_timeout_s (3 s) and a beat: the old B is forgotten with what it raised */
    mu_sync_run(y, 5000);
    assert_int_equal(srv_sql_int(&n.w.s, stored), 0);
    char on_a[64], on_b[64];
    hands_of(y, ana, on_a, sizeof(on_a));
    hands_of(y, riley_b, on_b, sizeof(on_b));
    assert_string_equal(on_a, "");
    assert_string_equal(on_b, "");
    nodes_down(&n);
}

/* Another node's change to a room is read off the loop: with every reading connection to the
 * database stopped, a lock made on B reaches A, whose loop still answers a ping while the
 * room is read; once the database answers, A's members see the room locked. */
static void test_room_events_off_loop(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    mu_client *ana_b = on_b(&n, "mentor.ana"), *riley_b = cl_signed_in(y, &n.b, "riley", WORLD_PW);
    circle_up(&n, riley_b);
    while (mu_sync_pending(n.w.mentor))
        mu_msg_free(mu_sync_event(y, n.w.mentor, 0));
    assert_true(signal_backends(&n, "mutuald (reads)", SIGSTOP) >= 4);
    mu_req *r = room_req("room.lock");
    mu_req_bool(r, "locked", true);
    mu_msg *m = mu_sync_call(n.yb, ana_b, r, 5000);
    bool locked = m && mu_msg_ok(m);
    mu_msg_free(m);
    mu_sync_run(y, 500); /* A hears of it and waits on the read */
    m = mu_sync_call(y, n.w.mem, mu_req_new("ping"), 2000);
    bool answered = m && mu_msg_ok(m);
    mu_msg_free(m);
    int early = 0; /* a room.state before the read */
    while (mu_sync_pending(n.w.mentor)) {
        m = mu_sync_event(y, n.w.mentor, 0);
        early += strcmp(mu_msg_op(m), "room.state") == 0;
        mu_msg_free(m);
    }
    signal_backends(&n, "mutuald (reads)", SIGCONT);
    assert_true(locked);
    assert_true(answered);
    assert_int_equal(early, 0);
    m = next_op(y, n.w.mentor, "room.state");
    assert_true(flag(mu_msg_root(m), "locked"));
    mu_msg_free(m);
    nodes_down(&n);
}

/* An admission whose history cannot be read lets nobody in, and shows nothing of the room:
 * sam waits at the lobby, ana admits him while the reading connections are stopped, says
 * something (held for sam behind room.admitted), the table the history is read from goes
 * away, and sam is left out of the room with no room.admitted and no room.msg. */
static void test_admit_fails_drops_held(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    mu_client *ana = n.w.mentor;
    circle_open(&n);
    call_expect(y, ana, room_req("room.join"), "ok");
    mu_req *r = room_req("room.lobby");
    mu_req_bool(r, "on", true);
    call_expect(y, ana, r, "ok");
    world_add(&n.w, "sam", "member");
    mu_client *sam = world_as(&n.w, "sam");
    mu_msg *m = cl_call(y, sam, room_req("room.join"));
    expect_ok(m);
    assert_true(flag(mu_msg_root(m), "waiting"));
    mu_msg_free(m);
    mu_msg_free(next_op(y, ana, "room.knock"));
    assert_true(signal_backends(&n, "mutuald (reads)", SIGSTOP) >= 2);
    call_expect(y, ana, target_req("room.admit", "sam"), "ok");
    call_expect(y, ana, say_req("not for a failed admission", NULL), "ok");
    mu_sync_run(y, 100);
    srv_sql_exec(&n.w.s, "SET lock_timeout = '5s'; "
                         "ALTER TABLE room_messages RENAME TO room_messages_away");
    signal_backends(&n, "mutuald (reads)", SIGCONT);
    mu_sync_run(y, 1000);
    srv_sql_exec(&n.w.s, "ALTER TABLE room_messages_away RENAME TO room_messages");
    call_expect(y, ana, say_req("after it", NULL), "ok");
    mu_sync_run(y, 300);
    while (mu_sync_pending(sam)) {
        m = mu_sync_event(y, sam, 0);
        assert_string_not_equal(mu_msg_op(m), "room.msg");
        assert_string_not_equal(mu_msg_op(m), "room.admitted");
        mu_msg_free(m);
    }
    call_expect(y, sam, say_req("am I in?", NULL), "forbidden");
    nodes_down(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_room_events_off_loop), cmocka_unit_test(test_meeting_across),
        cmocka_unit_test(test_meeting_state_across), cmocka_unit_test(test_presence_across),
        cmocka_unit_test(test_floor_across),         cmocka_unit_test(test_hands_agree),
        cmocka_unit_test(test_lobby_across),         cmocka_unit_test(test_lobby_answers_race),
        cmocka_unit_test(test_hands_after_restart),  cmocka_unit_test(test_meeting_catches_up),
        cmocka_unit_test(test_missed_meeting),       cmocka_unit_test(test_admit_fails_drops_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
