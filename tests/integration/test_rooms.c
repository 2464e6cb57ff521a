/* Group rooms over real WebSockets: audiences, a whole meeting with its facilitator tools,
 * ordering under load, resume, restart, and a slow reader cut off while the others carry on. */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "harness.h"
#include "rawws.h"

static mu_req *rreq(const char *op, const char *room)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "room", room);
    return r;
}

static void create(world *w, mu_client *c, const char *slug, const char *aud, bool persistent,
                   const char *code)
{
    mu_req *r = rreq("room.create", slug);
    mu_req_str(r, "name", "Tuesday SMART meeting");
    mu_req_str(r, "audience", aud);
    mu_req_str(r, "format", "SMART");
    mu_req_bool(r, "persistent", persistent);
    call_expect(w->y, c, r, code);
}

static void rcall(world *w, mu_client *c, const char *op, const char *room, const char *code)
{
    call_expect(w->y, c, rreq(op, room), code);
}

static void with_handle(world *w, mu_client *c, const char *op, const char *room,
                        const char *handle, const char *code)
{
    mu_req *r = rreq(op, room);
    mu_req_str(r, "handle", handle);
    call_expect(w->y, c, r, code);
}

static mu_msg *say(world *w, mu_client *c, const char *room, const char *text)
{
    mu_req *r = rreq("room.say", room);
    mu_req_str(r, "text", text);
    return cl_call(w->y, c, r);
}

static void say_expect(world *w, mu_client *c, const char *room, const char *text, const char *code)
{
    mu_msg *m = say(w, c, room, text);
    if (!strcmp(code, "ok"))
        expect_ok(m);
    else
        expect_err(m, code);
    mu_msg_free(m);
}

/* Skips events until one with op `op` arrives (fails after a few seconds). */
static mu_msg *wait_for(world *w, mu_client *c, const char *op)
{
    for (int i = 0; i < 200; i++) {
        mu_msg *m = mu_sync_event(w->y, c, 5000);
        if (!m)
            break;
        if (!strcmp(mu_msg_op(m), op))
            return m;
        mu_msg_free(m);
    }
    fail_msg("no %s event", op);
    return NULL;
}

static void drain(world *w, mu_client *c)
{
    mu_msg *m;
    while ((m = mu_sync_event(w->y, c, 50)))
        mu_msg_free(m);
}

static void test_audiences(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    const char *auds[4] = {"open", "recovery", "carers", "mentors"};
    for (int i = 0; i < 4; i++) {
        create(&w, w.admin, auds[i], auds[i], false, "ok");
        rcall(&w, w.admin, "room.open", auds[i], "ok");
    }
    mu_client *member = world_newcomer(&w, "member.m", NULL);
    mu_client *family = world_newcomer(&w, "family.f", "family");
    /* who sees and joins what: open all; recovery m/mentor/admin; carers f/mentor/admin;
     * mentors mentor/admin */
    const bool admit[4][4] = {{1, 1, 0, 0}, {1, 0, 1, 0}, {1, 1, 1, 1}, {1, 1, 1, 1}};
    mu_client *who[4] = {member, family, w.mentor, w.admin};
    for (int u = 0; u < 4; u++) {
        mu_msg *m = cl_call(w.y, who[u], mu_req_new("rooms.list"));
        expect_ok(m);
        const mu_value *list = mu_msg_get(m, "rooms");
        int seen[4] = {0};
        for (size_t i = 0; i < mu_value_len(list); i++)
            for (int a = 0; a < 4; a++)
                if (!strcmp(mu_value_get_str(mu_value_at(list, i), "room"), auds[a]))
                    seen[a] = 1;
        for (int a = 0; a < 4; a++) {
            assert_int_equal(seen[a], admit[u][a]);
            rcall(&w, who[u], "room.join", auds[a], admit[u][a] ? "ok" : "forbidden");
        }
        mu_msg_free(m);
    }
    rcall(&w, member, "room.join", "no-such-room", "not_found");
    world_down(&w);
}

static void test_meeting(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    mu_client *a = world_newcomer(&w, "alex", NULL), *b = world_newcomer(&w, "blair", NULL);
    mu_client *c = world_newcomer(&w, "casey", NULL), *d = world_newcomer(&w, "drew", NULL);
    mu_client *e = world_newcomer(&w, "emery", NULL);
    mu_req *r = rreq("room.create", "smart-tue");
    mu_req_str(r, "name", "SMART Recovery, Tuesday");
    mu_req_str(r, "audience", "recovery");
    mu_req_str(r, "format", "SMART");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 4);
    msgpack_pack_str(&pk, 3);
    msgpack_pack_str_body(&pk, "day", 3);
    msgpack_pack_int(&pk, 2);
    msgpack_pack_str(&pk, 4);
    msgpack_pack_str_body(&pk, "time", 4);
    msgpack_pack_str(&pk, 5);
    msgpack_pack_str_body(&pk, "19:00", 5);
    msgpack_pack_str(&pk, 8);
    msgpack_pack_str_body(&pk, "end_time", 8);
    msgpack_pack_str(&pk, 5);
    msgpack_pack_str_body(&pk, "20:30", 5);
    msgpack_pack_str(&pk, 8);
    msgpack_pack_str_body(&pk, "timezone", 8);
    msgpack_pack_str(&pk, 13);
    msgpack_pack_str_body(&pk, "Europe/London", 13);
    mu_req_raw(r, "schedule", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    mu_msg *m = cl_call(w.y, w.mentor, r);
    expect_ok(m);
    const mu_value *room = mu_msg_get(m, "room");
    assert_false(mu_value_get(room, "is_open") && 0);
    assert_int_equal(mu_value_get_int(room, "capacity", 0), 100);
    assert_string_equal(
        mu_value_get_str(mu_value_at(mu_value_get(room, "schedule"), 0), "timezone"),
        "Europe/London");
    mu_msg_free(m);
    /* closed: members cannot join yet, facilitators can */
    rcall(&w, a, "room.join", "smart-tue", "conflict");
    rcall(&w, w.mentor, "room.open", "smart-tue", "ok");
    rcall(&w, w.mentor, "room.open", "smart-tue", "ok"); /* again: no change */
    rcall(&w, w.mentor, "room.join", "smart-tue", "ok");
    drain(&w, w.mentor);
    m = cl_call(w.y, a, rreq("room.join", "smart-tue"));
    expect_ok(m);
    assert_int_equal(mu_value_len(mu_msg_get(m, "members")), 2);
    assert_int_equal(mu_value_len(mu_msg_get(m, "history")), 0);
    assert_int_equal(mu_value_type(mu_value_get(mu_msg_get(m, "state"), "floor")), MU_V_NIL);
    mu_msg_free(m);
    m = wait_for(&w, w.mentor, "room.presence");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "handle"), "alex");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "state"), "joined");
    mu_msg_free(m);
    rcall(&w, b, "room.join", "smart-tue", "ok");
    rcall(&w, c, "room.join", "smart-tue", "ok");
    /* hands, in raise order */
    rcall(&w, b, "hand.raise", "smart-tue", "ok");
    rcall(&w, a, "hand.raise", "smart-tue", "ok");
    rcall(&w, b, "hand.raise", "smart-tue", "ok"); /* again: no change */
    drain(&w, w.mentor);
    m = cl_call(w.y, d, rreq("hand.raise", "smart-tue"));
    expect_err(m, "forbidden"); /* not joined */
    mu_msg_free(m);
    /* floor mode with a timed share */
    r = rreq("room.floor", "smart-tue");
    mu_req_bool(r, "on", true);
    call_expect(w.y, w.mentor, r, "ok");
    say_expect(&w, a, "smart-tue", "may I?", "forbidden");
    r = rreq("room.give", "smart-tue");
    mu_req_str(r, "handle", "alex");
    mu_req_int(r, "secs", 60);
    call_expect(w.y, w.mentor, r, "ok");
    m = wait_for(&w, b, "room.state");
    while (mu_value_type(mu_value_get(mu_msg_root(m), "floor")) == MU_V_NIL) {
        mu_msg_free(m);
        m = wait_for(&w, b, "room.state");
    }
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "floor"), "alex");
    assert_true(mu_value_get_int(mu_msg_root(m), "floor_ends", 0) > 0);
    const mu_value *hands = mu_msg_get(m, "hands");
    assert_int_equal(mu_value_len(hands), 1); /* alex's hand went down with the floor */
    assert_string_equal(mu_value_str(mu_value_at(hands, 0)), "blair");
    mu_msg_free(m);
    say_expect(&w, a, "smart-tue", "this week I used my ABC tool", "ok");
    say_expect(&w, b, "smart-tue", "me too", "forbidden");
    say_expect(&w, w.mentor, "smart-tue", "facilitators may always speak", "ok");
    drain(&w, b);
    r = mu_req_new("test.clock");
    mu_req_int(r, "advance", 61);
    call_expect(w.y, w.admin, r, "ok");
    m = wait_for(&w, b, "room.state");
    assert_int_equal(mu_value_type(mu_value_get(mu_msg_root(m), "floor")), MU_V_NIL);
    mu_msg_free(m);
    say_expect(&w, a, "smart-tue", "again", "forbidden");
    r = rreq("room.floor", "smart-tue");
    mu_req_bool(r, "on", false);
    call_expect(w.y, w.mentor, r, "ok");
    /* mute */
    with_handle(&w, w.mentor, "room.mute", "smart-tue", "blair", "ok");
    m = wait_for(&w, a, "room.moderation");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "action"), "mute");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "handle"), "blair");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "by"), "mentor.ana");
    mu_msg_free(m);
    say_expect(&w, b, "smart-tue", "hello?", "forbidden");
    with_handle(&w, a, "room.mute", "smart-tue", "blair", "forbidden");
    with_handle(&w, w.mentor, "room.mute", "smart-tue", "admin", "forbidden");
    /* a mute lasts across leaving and rejoining */
    rcall(&w, b, "room.leave", "smart-tue", "ok");
    rcall(&w, b, "room.leave", "smart-tue", "conflict");
    rcall(&w, b, "room.join", "smart-tue", "ok");
    say_expect(&w, b, "smart-tue", "hello?", "forbidden");
    with_handle(&w, w.mentor, "room.unmute", "smart-tue", "blair", "ok");
    say_expect(&w, b, "smart-tue", "thanks", "ok");
    /* remove with ban */
    r = rreq("room.remove", "smart-tue");
    mu_req_str(r, "handle", "casey");
    mu_req_bool(r, "ban", true);
    call_expect(w.y, w.mentor, r, "ok");
    m = wait_for(&w, c, "room.removed");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "by"), "mentor.ana");
    bool ban = false;
    assert_true(mu_value_bool(mu_msg_get(m, "ban"), &ban) && ban);
    mu_msg_free(m);
    m = wait_for(&w, a, "room.presence");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "state"), "left");
    mu_msg_free(m);
    rcall(&w, c, "room.join", "smart-tue", "forbidden");
    say_expect(&w, c, "smart-tue", "let me back", "forbidden");
    with_handle(&w, w.mentor, "room.unban", "smart-tue", "casey", "ok");
    rcall(&w, c, "room.join", "smart-tue", "ok");
    /* lock */
    r = rreq("room.lock", "smart-tue");
    mu_req_bool(r, "locked", true);
    call_expect(w.y, w.mentor, r, "ok");
    rcall(&w, d, "room.join", "smart-tue", "forbidden");
    rcall(&w, a, "room.join", "smart-tue", "ok"); /* already in: the same reply */
    r = rreq("room.lock", "smart-tue");
    mu_req_bool(r, "locked", false);
    call_expect(w.y, w.mentor, r, "ok");
    /* lobby: knock, admit, deny */
    r = rreq("room.lobby", "smart-tue");
    mu_req_bool(r, "on", true);
    call_expect(w.y, w.mentor, r, "ok");
    drain(&w, w.mentor);
    m = cl_call(w.y, d, rreq("room.join", "smart-tue"));
    expect_ok(m);
    bool waiting = false;
    assert_true(mu_value_bool(mu_msg_get(m, "waiting"), &waiting) && waiting);
    mu_msg_free(m);
    m = wait_for(&w, w.mentor, "room.knock");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "handle"), "drew");
    mu_msg_free(m);
    with_handle(&w, w.mentor, "room.admit", "smart-tue", "drew", "ok");
    m = wait_for(&w, d, "room.admitted");
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "room"), "room"), "smart-tue");
    /* what was said before drew first joined is not for drew (backlog join) */
    assert_int_equal(mu_value_len(mu_msg_get(m, "history")), 0);
    mu_msg_free(m);
    rcall(&w, e, "room.join", "smart-tue", "ok");
    with_handle(&w, w.mentor, "room.admit", "smart-tue", "emery-not-here", "not_found");
    with_handle(&w, w.mentor, "room.deny", "smart-tue", "emery", "ok");
    mu_msg_free(wait_for(&w, e, "room.denied"));
    rcall(&w, e, "room.join", "smart-tue", "ok"); /* waits again */
    r = rreq("room.lobby", "smart-tue");
    mu_req_bool(r, "on", false);
    call_expect(w.y, w.mentor, r, "ok");
    mu_msg_free(wait_for(&w, e, "room.admitted")); /* turning it off admits everyone waiting */
    /* close: everyone but facilitators is out, and what was said is erased */
    rcall(&w, w.mentor, "room.close", "smart-tue", "ok");
    mu_msg_free(wait_for(&w, a, "room.closed"));
    say_expect(&w, a, "smart-tue", "still here?", "forbidden");
    rcall(&w, w.mentor, "room.open", "smart-tue", "ok");
    m = cl_call(w.y, a, rreq("room.join", "smart-tue"));
    expect_ok(m);
    assert_int_equal(mu_value_len(mu_msg_get(m, "history")), 0);
    mu_msg_free(m);
    mu_msg *s1 = say(&w, a, "smart-tue", "a new meeting");
    assert_int_equal(mu_value_get_int(mu_msg_root(s1), "seq", 0), 4); /* seq is never reused */
    mu_msg_free(s1);
    /* a persistent room keeps its messages across a close */
    create(&w, w.mentor, "family-circle", "carers", true, "ok");
    rcall(&w, w.mentor, "room.open", "family-circle", "ok");
    rcall(&w, w.mentor, "room.join", "family-circle", "ok");
    say_expect(&w, w.mentor, "family-circle", "welcome, everyone", "ok");
    rcall(&w, w.mentor, "room.close", "family-circle", "ok");
    rcall(&w, w.mentor, "room.open", "family-circle", "ok");
    m = cl_call(w.y, w.mentor, rreq("room.history", "family-circle"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "messages")), 1);
    mu_msg_free(m);
    world_down(&w);
}

static void test_validation_and_admin(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    mu_client *a = world_newcomer(&w, "alex", NULL);
    create(&w, a, "mine", "open", false, "forbidden");
    create(&w, w.mentor, "group-1", "open", false, "ok");
    create(&w, w.admin, "group-1", "open", false, "conflict");
    mu_req *r = rreq("room.create", "Bad Slug");
    mu_req_str(r, "name", "x");
    mu_req_str(r, "audience", "open");
    call_expect(w.y, w.mentor, r, "bad_request");
    r = rreq("room.create", "g2");
    mu_req_str(r, "name", "x");
    mu_req_str(r, "audience", "everyone");
    call_expect(w.y, w.mentor, r, "bad_request");
    r = rreq("room.create", "g2");
    mu_req_str(r, "name", "x");
    mu_req_str(r, "audience", "open");
    mu_req_int(r, "capacity", 1);
    call_expect(w.y, w.mentor, r, "bad_request");
    char longname[90];
    memset(longname, 'n', 81);
    longname[81] = 0;
    r = rreq("room.create", "g2");
    mu_req_str(r, "name", longname);
    mu_req_str(r, "audience", "open");
    call_expect(w.y, w.mentor, r, "bad_request");
    /* schedules out of shape */
#define S1                \
    "\x91\x82\xa3"        \
    "day\x07\xa4time\xa5" \
    "19:00"
#define S2                \
    "\x91\x82\xa3"        \
    "day\x01\xa4time\xa5" \
    "24:00"
#define S3                \
    "\x91\x83\xa3"        \
    "day\x01\xa4time\xa5" \
    "19:00\xa8timezone\xa6London"
    const char *bad[] = {S1, S2, S3};
    size_t badlen[] = {sizeof(S1) - 1, sizeof(S2) - 1, sizeof(S3) - 1};
    for (int i = 0; i < 3; i++) {
        r = rreq("room.create", "g3");
        mu_req_str(r, "name", "x");
        mu_req_str(r, "audience", "open");
        mu_req_raw(r, "schedule", bad[i], badlen[i]);
        call_expect(w.y, w.mentor, r, "bad_request");
    }
    /* update */
    r = rreq("room.update", "group-1");
    mu_req_str(r, "name", "Renamed group");
    mu_req_int(r, "capacity", 2);
    mu_msg *m = cl_call(w.y, w.mentor, r);
    expect_ok(m);
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "room"), "name"), "Renamed group");
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "room"), "format"), "SMART");
    mu_msg_free(m);
    r = rreq("room.update", "group-1");
    mu_req_str(r, "name", "mine now");
    call_expect(w.y, a, r, "forbidden");
    /* capacity counts facilitators */
    rcall(&w, w.mentor, "room.open", "group-1", "ok");
    rcall(&w, w.mentor, "room.join", "group-1", "ok");
    rcall(&w, a, "room.join", "group-1", "ok");
    mu_client *b = world_newcomer(&w, "blair", NULL);
    rcall(&w, b, "room.join", "group-1", "room_full");
    rcall(&w, w.admin, "room.join", "group-1", "ok"); /* facilitators pass */
    rcall(&w, b, "room.history", "group-1", "forbidden");
    r = rreq("room.give", "group-1");
    mu_req_str(r, "handle", "blair");
    call_expect(w.y, w.mentor, r, "conflict");
    r = rreq("room.give", "group-1");
    mu_req_str(r, "handle", "alex");
    mu_req_int(r, "secs", 10);
    call_expect(w.y, w.mentor, r, "bad_request");
    with_handle(&w, w.mentor, "room.mute", "group-1", "nobody-here", "not_found");
    r = rreq("room.remove", "group-1");
    mu_req_str(r, "handle", "blair");
    call_expect(w.y, w.mentor, r, "conflict");
    /* delete: admins only, not while open; the slug is free again */
    rcall(&w, w.mentor, "room.delete", "group-1", "forbidden");
    rcall(&w, w.admin, "room.delete", "group-1", "conflict");
    rcall(&w, w.mentor, "room.close", "group-1", "ok");
    rcall(&w, w.admin, "room.delete", "group-1", "ok");
    rcall(&w, w.admin, "room.join", "group-1", "not_found");
    create(&w, w.mentor, "group-1", "open", false, "ok");
    /* text limits */
    rcall(&w, w.mentor, "room.open", "group-1", "ok");
    rcall(&w, a, "room.join", "group-1", "ok");
    say_expect(&w, a, "group-1", "", "bad_request");
    char *big = malloc(4002);
    memset(big, 'x', 4001);
    big[4001] = 0;
    say_expect(&w, a, "group-1", big, "too_large");
    free(big);
    /* cid: the first {seq, ts}, broadcast once */
    r = rreq("room.say", "group-1");
    mu_req_str(r, "text", "once");
    mu_req_str(r, "cid", "c-1");
    mu_msg *first = cl_call(w.y, a, r);
    r = rreq("room.say", "group-1");
    mu_req_str(r, "text", "twice?");
    mu_req_str(r, "cid", "c-1");
    mu_msg *second = cl_call(w.y, a, r);
    assert_int_equal(mu_value_get_int(mu_msg_root(first), "seq", 0),
                     mu_value_get_int(mu_msg_root(second), "seq", 1));
    mu_msg_free(first);
    mu_msg_free(second);
    m = cl_call(w.y, a, rreq("room.history", "group-1"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "messages")), 1);
    mu_msg_free(m);
    world_down(&w);
}

/* ---- ordering under load --------------------------------------------------------------- */

typedef struct {
    int64_t last_seq;
    int got, bad;
} order_state;

static void test_ordering(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    create(&w, w.mentor, "big", "open", false, "ok");
    rcall(&w, w.mentor, "room.open", "big", "ok");
    enum { SENDERS = 5, EACH = 200, LISTENERS = 3 };
    mu_client *snd[SENDERS], *lis[LISTENERS];
    for (int i = 0; i < SENDERS; i++) {
        char h[16];
        snprintf(h, sizeof(h), "sender%d", i);
        snd[i] = world_newcomer(&w, h, NULL);
        rcall(&w, snd[i], "room.join", "big", "ok");
    }
    for (int i = 0; i < LISTENERS; i++) {
        char h[16];
        snprintf(h, sizeof(h), "listener%d", i);
        lis[i] = world_newcomer(&w, h, NULL);
        rcall(&w, lis[i], "room.join", "big", "ok");
        drain(&w, lis[i]);
    }
    for (int i = 0; i < SENDERS; i++)
        drain(&w, snd[i]);
    for (int k = 0; k < EACH; k++)
        for (int i = 0; i < SENDERS; i++) {
            mu_req *r = rreq("room.say", "big");
            char text[32];
            snprintf(text, sizeof(text), "%d:%d", i, k);
            mu_req_str(r, "text", text);
            mu_client_send(snd[i], r, NULL, NULL);
        }
    /* every member, senders included, gets all 1,000 in seq order, no gap, no duplicate */
    mu_client *all[SENDERS + LISTENERS];
    for (int i = 0; i < SENDERS; i++)
        all[i] = snd[i];
    for (int i = 0; i < LISTENERS; i++)
        all[SENDERS + i] = lis[i];
    for (int i = 0; i < SENDERS + LISTENERS; i++) {
        order_state o = {0, 0, 0};
        while (o.got < SENDERS * EACH) {
            mu_msg *m = mu_sync_event(w.y, all[i], 10000);
            if (!m)
                fail_msg("connection %d got %d of %d", i, o.got, SENDERS * EACH);
            if (!strcmp(mu_msg_op(m), "room.msg")) {
                int64_t seq = mu_value_get_int(mu_msg_root(m), "seq", 0);
                if (o.last_seq && seq != o.last_seq + 1)
                    o.bad++;
                o.last_seq = seq;
                o.got++;
            }
            mu_msg_free(m);
        }
        assert_int_equal(o.bad, 0);
    }
    world_down(&w);
}

static void test_resume(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    create(&w, w.mentor, "r1", "open", false, "ok");
    rcall(&w, w.mentor, "room.open", "r1", "ok");
    rcall(&w, w.mentor, "room.join", "r1", "ok");
    mu_client *a = world_newcomer(&w, "alex", NULL);
    rcall(&w, a, "room.join", "r1", "ok");
    mu_msg *m = say(&w, w.mentor, "r1", "before the drop");
    int64_t seen = mu_value_get_int(mu_msg_root(m), "seq", 0);
    mu_msg_free(m);
    mu_client_free(a); /* the connection drops */
    for (int i = 0; i < 5; i++) {
        char text[16];
        snprintf(text, sizeof(text), "missed %d", i);
        say_expect(&w, w.mentor, "r1", text, "ok");
    }
    a = world_as(&w, "alex");
    mu_req *r = rreq("room.join", "r1");
    mu_req_int(r, "since", seen);
    m = cl_call(w.y, a, r);
    expect_ok(m);
    const mu_value *h = mu_msg_get(m, "history");
    assert_int_equal(mu_value_len(h), 5);
    assert_int_equal(mu_value_get_int(mu_value_at(h, 0), "seq", 0), seen + 1);
    assert_string_equal(mu_value_get_str(mu_value_at(h, 4), "text"), "missed 4");
    bool rec = false;
    assert_true(mu_value_bool(mu_msg_get(m, "recovered"), &rec) && rec);
    mu_msg_free(m);
    /* more than 500 missed: the newest 500, recovered false */
    mu_client_free(a);
    for (int i = 0; i < 510; i++) {
        mu_req *q = rreq("room.say", "r1");
        mu_req_str(q, "text", "busy meeting");
        mu_client_send(w.mentor, q, NULL, NULL);
    }
    say_expect(&w, w.mentor, "r1", "last", "ok");
    a = world_as(&w, "alex");
    r = rreq("room.join", "r1");
    mu_req_int(r, "since", seen);
    m = cl_call(w.y, a, r);
    assert_int_equal(mu_value_len(mu_msg_get(m, "history")), 500);
    assert_true(mu_value_bool(mu_msg_get(m, "recovered"), &rec) && !rec);
    mu_msg_free(m);
    world_down(&w);
}

static void test_restart_mid_meeting(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    create(&w, w.mentor, "r1", "open", false, "ok");
    rcall(&w, w.mentor, "room.open", "r1", "ok");
    rcall(&w, w.mentor, "room.join", "r1", "ok");
    with_handle(&w, w.mentor, "room.mute", "r1", "admin", "forbidden");
    mu_client *a = world_newcomer(&w, "alex", NULL);
    rcall(&w, a, "room.join", "r1", "ok");
    for (int i = 0; i < 3; i++)
        say_expect(&w, a, "r1", "acknowledged", "ok");
    with_handle(&w, w.mentor, "room.mute", "r1", "alex", "ok");
    srv_kill9(&w.s);
    mu_sync_free(w.y);
    srv_restart(&w.s);
    w.y = mu_sync_new();
    w.admin = world_as(&w, "admin");
    a = world_as(&w, "alex");
    mu_msg *m = cl_call(w.y, a, rreq("room.join", "r1"));
    expect_ok(m); /* still open */
    assert_int_equal(mu_value_len(mu_msg_get(m, "history")), 3);
    mu_msg_free(m);
    say_expect(&w, a, "r1", "am I still muted?", "forbidden");
    world_down(&w);
}

/* A member that stops reading: packs requests by hand over a raw socket. */
static void raw_request(raw_ws *r, const char *op, uint64_t rid, const char *k1, const char *v1,
                        const char *k2, const char *v2)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2 + (k1 != NULL) + (k2 != NULL));
    const char *kv[6] = {"op", op, k1, v1, k2, v2};
    for (int i = 0; i < 6; i += 2) {
        if (!kv[i])
            continue;
        msgpack_pack_str(&pk, strlen(kv[i]));
        msgpack_pack_str_body(&pk, kv[i], strlen(kv[i]));
        msgpack_pack_str(&pk, strlen(kv[i + 1]));
        msgpack_pack_str_body(&pk, kv[i + 1], strlen(kv[i + 1]));
    }
    msgpack_pack_str(&pk, 3);
    msgpack_pack_str_body(&pk, "rid", 3);
    msgpack_pack_uint64(&pk, rid);
    assert_int_equal(raw_send(r, 2, sb.data, sb.size, true), 0);
    msgpack_sbuffer_destroy(&sb);
}

static void raw_expect_reply(raw_ws *r, uint64_t rid)
{
    for (;;) {
        int op;
        char *p;
        size_t n;
        assert_int_equal(raw_recv(r, &op, &p, &n, 10000), 0);
        mu_msg *m = mu_msg_decode(p, n);
        free(p);
        bool mine = m && !strcmp(mu_msg_op(m), "reply") &&
                    mu_value_get_int(mu_msg_root(m), "rid", 0) == (int64_t)rid;
        if (mine)
            expect_ok(m);
        mu_msg_free(m);
        if (mine)
            return;
    }
}

static void test_slow_consumer(void **st)
{
    world w;
    world_up(&w, "send_queue = 65536", 1, "mentor.ana", NULL);
    create(&w, w.mentor, "r1", "open", false, "ok");
    rcall(&w, w.mentor, "room.open", "r1", "ok");
    mu_client *a = world_newcomer(&w, "alex", NULL), *b = world_newcomer(&w, "blair", NULL);
    rcall(&w, a, "room.join", "r1", "ok");
    rcall(&w, b, "room.join", "r1", "ok");
    free(cl_register(w.y, cl_connect(w.y, &w.s), "slowpoke", WORLD_PW, NULL));
    raw_ws r;
    assert_int_equal(raw_connect(&r, w.s.port, "/ws", "mutual.v1"), 101);
    raw_request(&r, "login", 1, "handle", "slowpoke", "password", WORLD_PW);
    raw_expect_reply(&r, 1);
    raw_request(&r, "room.join", 2, "room", "r1", NULL, NULL);
    raw_expect_reply(&r, 2);
    /* from here on the raw member reads nothing */
    char text[3001];
    memset(text, 'z', 3000);
    text[3000] = 0;
    enum { N = 3000 };
    /* Sent in steps that a reading member keeps up with; the raw member reads nothing. */
    int got = 0;
    for (int i = 0; i < N; i += 100) {
        for (int j = 0; j < 100; j++) {
            mu_req *q = rreq("room.say", "r1");
            mu_req_str(q, "text", text);
            mu_client_send(a, q, NULL, NULL);
        }
        while (got < i + 100) {
            mu_msg *m = mu_sync_event(w.y, b, 30000);
            if (!m)
                fail_msg("blair received %d of %d", got, i + 100);
            got += !strcmp(mu_msg_op(m), "room.msg");
            mu_msg_free(m);
        }
    }
    assert_int_equal(got, N); /* everyone else receives everything */
    assert_int_equal(raw_wait_close(&r, 30000), 1013);
    raw_close(&r);
    mu_msg *m = mu_sync_event(w.y, a, 2000);
    while (m && !(strcmp(mu_msg_op(m), "room.presence") == 0 &&
                  !strcmp(mu_value_get_str(mu_msg_root(m), "handle"), "slowpoke") &&
                  !strcmp(mu_value_get_str(mu_msg_root(m), "state"), "left"))) {
        mu_msg_free(m);
        m = mu_sync_event(w.y, a, 2000);
    }
    assert_non_null(m); /* the slow member left */
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "handle"), "slowpoke");
    mu_msg_free(m);
    world_down(&w);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audiences),
        cmocka_unit_test(test_meeting),
        cmocka_unit_test(test_validation_and_admin),
        cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_restart_mid_meeting),
        cmocka_unit_test(test_slow_consumer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
