/* Several mutuald nodes on one PostgreSQL database (MUTUAL_TEST_PG; skipped on SQLite): what
 * is done through one node reaches the people connected to another, through LISTEN/NOTIFY,
 * and a node whose listening connection was cut catches up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

typedef struct {
    world w; /* node A, with admin, mentor.ana and riley (ana's mentee) signed in there */
    srv_t b; /* node B on the same database */
    mu_sync *yb;
} nodes;

static void nodes_up_with(nodes *n, const char *config)
{
    if (!harness_on_pg())
        skip();
    world_up(&n->w, config, 0, "mentor.ana", "riley");
    srv_start_node(&n->b, &n->w.s, config);
    n->yb = mu_sync_new();
}

static void nodes_up(nodes *n)
{
    nodes_up_with(n, NULL);
}

static void nodes_down(nodes *n)
{
    mu_sync_free(n->yb);
    srv_stop(&n->b);
    srv_cleanup(&n->b);
    world_down(&n->w);
}

static mu_client *on_b(nodes *n, const char *handle)
{
    return cl_signed_in(n->yb, &n->b, handle, WORLD_PW);
}

static void send_dm(mu_sync *y, mu_client *c, const char *to, const char *text)
{
    mu_req *r = mu_req_new("dm.send");
    mu_req_str(r, "to", to);
    mu_req_str(r, "text", text);
    call_expect(y, c, r, "ok");
}

/* A message sent on A reaches its recipient, connected only to B, once and in order. */
static void test_dm_across(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_client *ana_b = on_b(&n, "mentor.ana");
    send_dm(n.w.y, n.w.mem, "mentor.ana", "first, from node A");
    send_dm(n.w.y, n.w.mem, "mentor.ana", "second, from node A");
    for (int i = 0; i < 2; i++) {
        mu_msg *m = cl_event(n.yb, ana_b, "dm.msg");
        assert_string_equal(mu_value_get_str(mu_msg_root(m), "from"), "riley");
        assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"),
                            i == 0 ? "first, from node A" : "second, from node A");
        mu_msg_free(m);
    }
    cl_no_event(n.yb, ana_b);
    /* and back: the reply on B reaches riley on A (and ana's connection on A) */
    send_dm(n.yb, ana_b, "riley", "answered on node B");
    mu_msg *m = cl_event(n.w.y, n.w.mem, "dm.msg");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), "answered on node B");
    mu_msg_free(m);
    m = cl_event(n.w.y, n.w.mentor, "dm.msg");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), "first, from node A");
    mu_msg_free(m);
    nodes_down(&n);
}

/* password.set on A closes the user's sessions on B; me.delete on A closes them too. */
static void test_sessions_across(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_client *riley_b = on_b(&n, "riley");
    mu_req *r = mu_req_new("password.set");
    mu_req_str(r, "old", WORLD_PW);
    mu_req_str(r, "new", "another good long password");
    call_expect(n.w.y, n.w.mem, r, "ok");
    assert_int_equal(mu_sync_wait_closed(n.yb, riley_b, 5000), 1008);
    /* the connection that changed it stays */
    call_expect(n.w.y, n.w.mem, mu_req_new("ping"), "ok");

    mu_client *ana_b = on_b(&n, "mentor.ana");
    r = mu_req_new("me.delete");
    mu_req_str(r, "password", WORLD_PW);
    call_expect(n.w.y, n.w.mentor, r, "ok");
    assert_int_equal(mu_sync_wait_closed(n.yb, ana_b, 5000), 1000);
    nodes_down(&n);
}

/* user.role on A: the user's connection on B acts with the new role at once. */
static void test_role_across(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_client *ana_b = on_b(&n, "mentor.ana");
    call_expect(n.yb, ana_b, mu_req_new("mentees.list"), "ok");
    mu_req *r = mu_req_new("user.role");
    mu_req_str(r, "handle", "mentor.ana");
    mu_req_str(r, "role", "member");
    call_expect(n.w.y, n.w.admin, r, "ok");
    const char *code = "ok";
    for (int i = 0; i < 100 && strcmp(code, "forbidden") != 0; i++) {
        mu_msg *m = cl_call(n.yb, ana_b, mu_req_new("mentees.list"));
        code = mu_msg_ok(m) ? "ok" : "forbidden";
        assert_true(mu_msg_ok(m) || strcmp(mu_msg_code(m), "forbidden") == 0);
        mu_msg_free(m);
        if (strcmp(code, "forbidden") != 0)
            mu_sync_run(n.yb, 50);
    }
    assert_string_equal(code, "forbidden");
    nodes_down(&n);
}

static mu_req *login_req(const char *handle, const char *pw)
{
    mu_req *r = mu_req_new("login");
    mu_req_str(r, "handle", handle);
    mu_req_str(r, "password", pw);
    return r;
}

/* Whatever A published before this reached B: a DM sent through A after it, seen on B (a
 * node's events arrive in the order its writes committed). */
static void fence(nodes *n, mu_client *ana_b, const char *text)
{
    send_dm(n->w.y, n->w.mem, "mentor.ana", text);
    mu_msg *m = cl_event(n->yb, ana_b, "dm.msg");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), text);
    mu_msg_free(m);
}

/* Wrong passwords tried through A count on B too, and a success on one node clears the
 * handle's failures on both. */
static void test_login_throttle_across(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_client *ana_b = on_b(&n, "mentor.ana");
    mu_client *a = cl_connect(n.w.y, &n.w.s);
    mu_client *b = cl_connect(n.yb, &n.b);
    /* four failures on A, then a success there: B forgets the four as A does */
    for (int i = 0; i < 4; i++)
        call_expect(n.w.y, a, login_req("riley", "not the password"), "unauthenticated");
    free(cl_login(n.w.y, a, "riley", WORLD_PW));
    fence(&n, ana_b, "after a success on A");
    call_expect(n.yb, b, login_req("riley", "not the password"), "unauthenticated");
    free(cl_login(n.yb, b, "riley", WORLD_PW));
    /* five failures on A: B refuses the right password too */
    mu_client *a2 = cl_connect(n.w.y, &n.w.s);
    for (int i = 0; i < 5; i++)
        call_expect(n.w.y, a2, login_req("riley", "not the password"), "unauthenticated");
    fence(&n, ana_b, "after five failures on A");
    mu_client *b2 = cl_connect(n.yb, &n.b);
    call_expect(n.yb, b2, login_req("riley", WORLD_PW), "rate_limited");
    /* other handles are not affected */
    free(cl_login(n.yb, b2, "mentor.ana", WORLD_PW));
    nodes_down(&n);
}

typedef struct {
    int ok, other;
} said;

static void on_said(mu_client *c, const mu_msg *m, void *ud)
{
    (void)c;
    said *t = ud;
    if (m && mu_msg_ok(m))
        t->ok++;
    else
        t->other++;
}

static mu_req *say_req(const char *text, const char *cid)
{
    mu_req *r = mu_req_new("room.say");
    mu_req_str(r, "room", "circle");
    mu_req_str(r, "text", text);
    if (cid)
        mu_req_str(r, "cid", cid);
    return r;
}

/* The connection's next event `op` (others, such as presence, are passed over). */
static mu_msg *next_op(mu_sync *y, mu_client *c, const char *op)
{
    for (;;) {
        mu_msg *m = mu_sync_event(y, c, 5000);
        if (!m)
            fail_msg("no %s event", op);
        if (strcmp(mu_msg_op(m), op) == 0)
            return m;
        mu_msg_free(m);
    }
}

static mu_msg *next_msg(mu_sync *y, mu_client *c)
{
    return next_op(y, c, "room.msg");
}

static mu_req *room_req(const char *op)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "room", "circle");
    return r;
}

/* ana creates the room "circle" on A and opens it, and joins; riley_b joins it on B as soon as
 * B has learnt of it. */
static void circle_up(nodes *n, mu_client *riley_b)
{
    mu_sync *y = n->w.y;
    mu_req *r = room_req("room.create");
    mu_req_str(r, "name", "Morning circle");
    mu_req_str(r, "audience", "open");
    call_expect(y, n->w.mentor, r, "ok");
    call_expect(y, n->w.mentor, room_req("room.open"), "ok");
    call_expect(y, n->w.mentor, room_req("room.join"), "ok");
    const char *code = "?";
    for (int i = 0; i < 100 && strcmp(code, "ok") != 0; i++) {
        mu_msg *m = cl_call(y, riley_b, room_req("room.join"));
        code = mu_msg_ok(m) ? "ok" : "not yet";
        mu_msg_free(m);
        if (strcmp(code, "ok") != 0)
            mu_sync_run(y, 50);
    }
    assert_string_equal(code, "ok");
}

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

static mu_req *target_req(const char *op, const char *handle)
{
    mu_req *r = room_req(op);
    mu_req_str(r, "handle", handle);
    return r;
}

static bool flag(const mu_value *map, const char *key)
{
    bool b = false;
    return mu_value_bool(mu_value_get(map, key), &b) && b;
}

static void expect_moderation(mu_sync *y, mu_client *c, const char *action)
{
    mu_msg *m = next_op(y, c, "room.moderation");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "action"), action);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "by"), "mentor.ana");
    mu_msg_free(m);
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

static void expect_presence(mu_sync *y, mu_client *c, const char *handle, const char *state)
{
    mu_msg *m = next_op(y, c, "room.presence");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "handle"), handle);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "state"), state);
    mu_msg_free(m);
}

static bool has_member(const mu_msg *m, const char *handle)
{
    const mu_value *l = mu_msg_get(m, "members");
    for (size_t i = 0; i < mu_value_len(l); i++)
        if (strcmp(mu_value_get_str(mu_value_at(l, i), "handle"), handle) == 0)
            return true;
    return false;
}

static int64_t say_seq(mu_sync *y, mu_client *c, const char *text)
{
    mu_msg *m = cl_call(y, c, say_req(text, NULL));
    expect_ok(m);
    int64_t seq = mu_value_get_int(mu_msg_root(m), "seq", -1);
    mu_msg_free(m);
    return seq;
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
    mu_msg *m = cl_call(y, riley_b, room_req("room.join")); /* again: the member list */
    expect_ok(m);
    assert_true(has_member(m, "mentor.ana"));
    assert_true(has_member(m, "riley"));
    mu_msg_free(m);
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
    m = cl_call(y, riley_a, r);
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
static void expect_floor(mu_sync *y, mu_client *c, const char *handle)
{
    for (int i = 0; i < 5; i++) {
        mu_msg *m = next_op(y, c, "room.state");
        const char *f = mu_value_get_str(mu_msg_root(m), "floor");
        bool match = handle ? f && strcmp(f, handle) == 0 : f == NULL;
        mu_msg_free(m);
        if (match)
            return;
    }
    fail_msg("no room.state with the floor %s", handle ? handle : "(nobody)");
}

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

/* A help request made on A reaches the mentor connected only to B, as an alert, once; and a
 * member without a mentor asking on B reaches the admin on A, escalated. */
static void test_alert_across(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_client *ana_b = on_b(&n, "mentor.ana");
    mu_req *r = mu_req_new("help");
    mu_req_str(r, "text", "struggling tonight");
    call_expect(n.w.y, n.w.mem, r, "ok");
    mu_msg *a = cl_event(n.yb, ana_b, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "kind"), "help_requested");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "handle"), "riley");
    mu_msg_free(a);
    cl_no_event(n.yb, ana_b);
    mu_client *sam_b = cl_connect(n.yb, &n.b);
    char *tok = cl_register(n.yb, sam_b, "sam", WORLD_PW, NULL);
    free(tok);
    call_expect(n.yb, sam_b, mu_req_new("help"), "ok");
    a = cl_event(n.w.y, n.w.admin, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "handle"), "sam");
    bool escalated = false;
    assert_true(mu_value_bool(mu_msg_get(a, "escalated"), &escalated));
    assert_true(escalated);
    mu_msg_free(a);
    nodes_down(&n);
}

/* B's listening connection is cut (pg_terminate_backend) and a message is sent meanwhile:
 * once B listens again it delivers what it missed, once. */
static void test_listener_catches_up(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_client *ana_b = on_b(&n, "mentor.ana");
    send_dm(n.w.y, n.w.mem, "mentor.ana", "before the cut");
    mu_msg *m = cl_event(n.yb, ana_b, "dm.msg");
    mu_msg_free(m);
    /* every listener of the database, both nodes' */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             "WHERE datname = '%s' AND query = 'LISTEN mutual'",
             n.w.s.pg_name);
    assert_int_equal(srv_sql_int(&n.w.s, sql), 2);
    send_dm(n.w.y, n.w.mem, "mentor.ana", "while B was not listening");
    m = cl_event(n.yb, ana_b, "dm.msg");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), "while B was not listening");
    mu_msg_free(m);
    cl_no_event(n.yb, ana_b);
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

    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             "WHERE datname = '%s' AND query = 'LISTEN mutual'",
             n.w.s.pg_name);
    assert_int_equal(srv_sql_int(&n.w.s, sql), 2);
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

/* The database drops every connection of a node (as a restart of PostgreSQL would): requests
 * in flight fail with `unavailable`, never a false success and never `internal`; the node
 * connects again and service resumes; what was acknowledged is stored exactly once. */
static void test_database_connections_lost(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    send_dm(n.w.y, n.w.mem, "mentor.ana", "before");
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             "WHERE datname = '%s' AND pid <> pg_backend_pid()",
             n.w.s.pg_name);
    assert_true(srv_sql_int(&n.w.s, sql) >= 4); /* each node's writer, reader and listener */
    int ok = 0, unavailable = 0;
    for (int i = 0; i < 50 && ok < 3; i++) {
        mu_req *r = mu_req_new("dm.send");
        mu_req_str(r, "to", "mentor.ana");
        mu_req_str(r, "text", "after");
        mu_msg *m = cl_call(n.w.y, n.w.mem, r);
        if (mu_msg_ok(m))
            ok++;
        else if (strcmp(mu_msg_code(m), "unavailable") == 0)
            unavailable++;
        else
            fail_msg("a request after the connections dropped got %s", mu_msg_code(m));
        mu_msg_free(m);
        if (!mu_msg_ok(m))
            mu_sync_run(n.w.y, 200);
    }
    assert_int_equal(ok, 3);
    assert_true(unavailable >= 1); /* the first ones met the dropped connections */
    assert_int_equal(srv_sql_int(&n.w.s, "SELECT count(*) FROM dms WHERE text = 'after'"), 3);
    /* node B serves again too, once its first requests met the dropped connections */
    mu_client *ana_b = cl_connect(n.yb, &n.b);
    mu_msg *m = NULL;
    for (int i = 0; i < 20; i++) {
        mu_req *r = mu_req_new("login");
        mu_req_str(r, "handle", "mentor.ana");
        mu_req_str(r, "password", WORLD_PW);
        m = cl_call(n.yb, ana_b, r);
        if (mu_msg_ok(m))
            break;
        assert_string_equal(mu_msg_code(m), "unavailable");
        mu_msg_free(m);
        m = NULL;
        mu_sync_run(n.yb, 200);
    }
    expect_ok(m);
    mu_msg_free(m);
    m = cl_call(n.yb, ana_b, mu_req_new("dm.inbox"));
    for (int i = 0; i < 20 && !mu_msg_ok(m); i++) {
        assert_string_equal(mu_msg_code(m), "unavailable");
        mu_msg_free(m);
        mu_sync_run(n.yb, 200);
        m = cl_call(n.yb, ana_b, mu_req_new("dm.inbox"));
    }
    expect_ok(m);
    mu_msg_free(m);
    nodes_down(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dm_across),
        cmocka_unit_test(test_sessions_across),
        cmocka_unit_test(test_role_across),
        cmocka_unit_test(test_alert_across),
        cmocka_unit_test(test_login_throttle_across),
        cmocka_unit_test(test_meeting_across),
        cmocka_unit_test(test_meeting_state_across),
        cmocka_unit_test(test_presence_across),
        cmocka_unit_test(test_floor_across),
        cmocka_unit_test(test_listener_catches_up),
        cmocka_unit_test(test_meeting_catches_up),
        cmocka_unit_test(test_database_connections_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
