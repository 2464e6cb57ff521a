/* Meetings over real WebSockets, on what outlives a moment: what a joiner may see (backlog)
 * across reconnects, `since` and restarts; the live state of a meeting across a restart; timed
 * shares that end on their own; schedule slots checked against the system's time zones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "harness.h"

static mu_req *rreq(const char *op, const char *room)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "room", room);
    return r;
}

static void rcall(world *w, mu_client *c, const char *op, const char *room, const char *code)
{
    call_expect(w->y, c, rreq(op, room), code);
}

static void rflag(world *w, mu_client *c, const char *op, const char *room, const char *key,
                  bool on)
{
    mu_req *r = rreq(op, room);
    mu_req_bool(r, key, on);
    call_expect(w->y, c, r, "ok");
}

static void say(world *w, mu_client *c, const char *room, const char *text)
{
    mu_req *r = rreq("room.say", room);
    mu_req_str(r, "text", text);
    call_expect(w->y, c, r, "ok");
}

/* room.create with the given persistent and backlog (NULL: left out); the reply. */
static mu_msg *create(world *w, const char *slug, bool persistent, const char *backlog)
{
    mu_req *r = rreq("room.create", slug);
    mu_req_str(r, "name", "Evening meeting");
    mu_req_str(r, "audience", "open");
    mu_req_bool(r, "persistent", persistent);
    if (backlog)
        mu_req_str(r, "backlog", backlog);
    mu_msg *m = cl_call(w->y, w->mentor, r);
    expect_ok(m);
    return m;
}

static bool flag_of(const mu_value *map, const char *key)
{
    bool b = false;
    assert_true(mu_value_bool(mu_value_get(map, key), &b));
    return b;
}

/* The texts of a message list, joined with '|'. */
static void texts(const mu_value *list, char *out, size_t cap)
{
    out[0] = 0;
    for (size_t i = 0; i < mu_value_len(list); i++) {
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%s", i ? "|" : "",
                 mu_value_get_str(mu_value_at(list, i), "text"));
    }
}

/* room.join (with `since` when >= 0): the history's texts; the recovered flag in *rec. */
static void join_history(world *w, mu_client *c, const char *room, int64_t since, char *out,
                         size_t cap, bool *rec)
{
    mu_req *r = rreq("room.join", room);
    if (since >= 0)
        mu_req_int(r, "since", since);
    mu_msg *m = cl_call(w->y, c, r);
    expect_ok(m);
    texts(mu_msg_get(m, "history"), out, cap);
    if (rec)
        *rec = flag_of(mu_msg_root(m), "recovered");
    mu_msg_free(m);
}

static void room_history(world *w, mu_client *c, const char *room, char *out, size_t cap)
{
    mu_msg *m = cl_call(w->y, c, rreq("room.history", room));
    expect_ok(m);
    texts(mu_msg_get(m, "messages"), out, cap);
    mu_msg_free(m);
}

/* A crash and a start on the same database; the admin and mentor sign in again. */
static void crash_and_restart(world *w)
{
    srv_kill9(&w->s);
    mu_sync_free(w->y);
    srv_restart(&w->s);
    w->y = mu_sync_new();
    w->admin = world_as(w, "admin");
    w->mentor = world_as(w, "mentor.ana");
}

static void test_backlog(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    char h[512];
    bool rec;
    /* the room object carries backlog and listed; defaults follow persistent */
    mu_msg *m = create(&w, "evening", false, NULL);
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "room"), "backlog"), "join");
    assert_false(flag_of(mu_msg_get(m, "room"), "listed"));
    mu_msg_free(m);
    m = create(&w, "archive", true, NULL);
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "room"), "backlog"), "recent");
    mu_msg_free(m);
    mu_req *r = rreq("room.create", "bad");
    mu_req_str(r, "name", "x");
    mu_req_str(r, "audience", "open");
    mu_req_str(r, "backlog", "everything");
    call_expect(w.y, w.mentor, r, "bad_request");
    r = rreq("room.update", "evening");
    mu_req_int(r, "listed", 1);
    call_expect(w.y, w.mentor, r, "bad_request");

    rcall(&w, w.mentor, "room.open", "evening", "ok");
    rcall(&w, w.mentor, "room.join", "evening", "ok");
    say(&w, w.mentor, "evening", "before alex");
    mu_client *alex = world_newcomer(&w, "alex", NULL);
    join_history(&w, alex, "evening", -1, h, sizeof(h), NULL);
    assert_string_equal(h, ""); /* said before alex first joined */
    join_history(&w, alex, "evening", 0, h, sizeof(h), &rec);
    assert_string_equal(h, "");
    assert_true(rec); /* nothing alex may see is missing */
    say(&w, w.mentor, "evening", "after alex");
    room_history(&w, alex, "evening", h, sizeof(h));
    assert_string_equal(h, "after alex");
    /* leaving, reconnecting and `since` do not move the point */
    rcall(&w, alex, "room.leave", "evening", "ok");
    say(&w, w.mentor, "evening", "while alex was out");
    mu_client_free(alex);
    alex = world_as(&w, "alex");
    join_history(&w, alex, "evening", 0, h, sizeof(h), &rec);
    assert_string_equal(h, "after alex|while alex was out");
    assert_true(rec);
    /* the mentor joined first and sees it all */
    room_history(&w, w.mentor, "evening", h, sizeof(h));
    assert_string_equal(h, "before alex|after alex|while alex was out");

    /* nor does a crash of the server */
    crash_and_restart(&w);
    alex = world_as(&w, "alex");
    join_history(&w, alex, "evening", -1, h, sizeof(h), NULL);
    assert_string_equal(h, "after alex|while alex was out");
    room_history(&w, alex, "evening", h, sizeof(h));
    assert_string_equal(h, "after alex|while alex was out");
    mu_client *blair = world_newcomer(&w, "blair", NULL);
    join_history(&w, blair, "evening", -1, h, sizeof(h), NULL);
    assert_string_equal(h, "");

    /* `recent` applies to later joins */
    r = rreq("room.update", "evening");
    mu_req_str(r, "backlog", "recent");
    m = cl_call(w.y, w.mentor, r);
    expect_ok(m);
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "room"), "backlog"), "recent");
    mu_msg_free(m);
    mu_client *casey = world_newcomer(&w, "casey", NULL);
    join_history(&w, casey, "evening", -1, h, sizeof(h), NULL);
    assert_string_equal(h, "before alex|after alex|while alex was out");

    /* a persistent room shows what is held (recent) */
    rcall(&w, w.mentor, "room.open", "archive", "ok");
    rcall(&w, w.mentor, "room.join", "archive", "ok");
    say(&w, w.mentor, "archive", "kept");
    join_history(&w, blair, "archive", -1, h, sizeof(h), NULL);
    assert_string_equal(h, "kept");

    /* a new meeting is a new first join: a persistent room with backlog join hides the last
     * meeting's messages from everyone who joins the next one */
    r = rreq("room.update", "archive");
    mu_req_str(r, "backlog", "join");
    call_expect(w.y, w.mentor, r, "ok");
    rcall(&w, w.mentor, "room.close", "archive", "ok");
    rcall(&w, w.mentor, "room.open", "archive", "ok");
    join_history(&w, blair, "archive", -1, h, sizeof(h), NULL);
    assert_string_equal(h, "");
    room_history(&w, w.mentor, "archive", h, sizeof(h));
    assert_string_equal(h, "");
    world_down(&w);
}

/* A facilitator's join: the state's `key`. */
static bool state_flag(world *w, const char *room, const char *key)
{
    mu_msg *m = cl_call(w->y, w->mentor, rreq("room.join", room));
    expect_ok(m);
    bool b = flag_of(mu_msg_get(m, "state"), key);
    mu_msg_free(m);
    return b;
}

static void test_live_state_survives_a_restart(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    mu_msg_free(create(&w, "evening", false, NULL));
    rcall(&w, w.mentor, "room.open", "evening", "ok");
    rflag(&w, w.mentor, "room.lobby", "evening", "on", true);
    rflag(&w, w.mentor, "room.floor", "evening", "on", true);
    crash_and_restart(&w);
    assert_true(state_flag(&w, "evening", "is_open"));
    assert_true(state_flag(&w, "evening", "lobby"));
    assert_true(state_flag(&w, "evening", "floor_mode"));
    assert_false(state_flag(&w, "evening", "locked"));
    mu_client *alex = world_newcomer(&w, "alex", NULL);
    mu_msg *m = cl_call(w.y, alex, rreq("room.join", "evening"));
    expect_ok(m);
    assert_true(flag_of(mu_msg_root(m), "waiting")); /* the lobby is still on */
    mu_msg_free(m);

    rflag(&w, w.mentor, "room.lock", "evening", "locked", true);
    rflag(&w, w.mentor, "room.floor", "evening", "on", false);
    crash_and_restart(&w);
    assert_true(state_flag(&w, "evening", "locked"));
    assert_false(state_flag(&w, "evening", "floor_mode"));
    mu_client *blair = world_newcomer(&w, "blair", NULL);
    rcall(&w, blair, "room.join", "evening", "forbidden");

    /* a close resets it all, on disk too */
    rcall(&w, w.mentor, "room.close", "evening", "ok");
    srv_stop(&w.s);
    mu_sync_free(w.y);
    srv_restart(&w.s);
    w.y = mu_sync_new();
    w.admin = world_as(&w, "admin");
    w.mentor = world_as(&w, "mentor.ana");
    assert_false(state_flag(&w, "evening", "is_open"));
    assert_false(state_flag(&w, "evening", "locked"));
    assert_false(state_flag(&w, "evening", "lobby"));
    world_down(&w);
}

static void test_timed_share_and_shutdown(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    mu_msg_free(create(&w, "evening", false, NULL));
    rcall(&w, w.mentor, "room.open", "evening", "ok");
    rcall(&w, w.mentor, "room.join", "evening", "ok");
    mu_client *alex = world_newcomer(&w, "alex", NULL);
    rcall(&w, alex, "room.join", "evening", "ok");
    mu_req *r = rreq("room.give", "evening");
    mu_req_str(r, "handle", "alex");
    mu_req_int(r, "secs", 1800);
    call_expect(w.y, w.mentor, r, "ok");
    /* by the test clock: the share ends without anyone speaking */
    mu_msg *m;
    do {
        m = world_event(&w, alex, "room.state");
        if (mu_value_type(mu_value_get(mu_msg_root(m), "floor")) == MU_V_NIL)
            break;
        mu_msg_free(m);
        m = NULL;
        world_advance(&w, 1801);
    } while (1);
    mu_msg_free(m);
    /* a share still running does not hold up a SIGTERM */
    r = rreq("room.give", "evening");
    mu_req_str(r, "handle", "alex");
    mu_req_int(r, "secs", 1800);
    call_expect(w.y, w.mentor, r, "ok");
    double t0 = mono_ms();
    mu_sync_free(w.y);
    srv_stop(&w.s);
    assert_true(mono_ms() - t0 < 15000);
    srv_cleanup(&w.s);
}

static void pack_s(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* room.update of one slot {day 2, time, end_time, timezone}; the reply, or NULL when it was
 * refused with `code`. */
static mu_msg *set_slot(world *w, const char *time, const char *end, const char *tz,
                        const char *code)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 4);
    pack_s(&pk, "day");
    msgpack_pack_int(&pk, 2);
    pack_s(&pk, "time");
    pack_s(&pk, time);
    pack_s(&pk, "end_time");
    pack_s(&pk, end);
    pack_s(&pk, "timezone");
    pack_s(&pk, tz);
    mu_req *r = rreq("room.update", "evening");
    mu_req_raw(r, "schedule", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    mu_msg *m = cl_call(w->y, w->mentor, r);
    if (strcmp(code, "ok") != 0) {
        expect_err(m, code);
        mu_msg_free(m);
        return NULL;
    }
    expect_ok(m);
    return m;
}

static void test_schedule_zones(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    mu_msg_free(create(&w, "evening", false, NULL));
    /* a zone the system does not know, out of shape, a directory, a climb out */
    const char *bad[] = {"Mars/Base",        "Europe/Londonn", "America/Argentina",
                         "Europe/../../etc", "Europe//London", "europe/london",
                         "Europe/London/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_null(set_slot(&w, "19:00", "20:30", bad[i], "bad_request"));
    assert_null(set_slot(&w, "24:00", "01:00", "Europe/London", "bad_request"));
    /* an end before the start runs past midnight: accepted, kept as given */
    mu_msg *m = set_slot(&w, "23:00", "00:30", "America/Argentina/Salta", "ok");
    const mu_value *slot = mu_value_at(mu_value_get(mu_msg_get(m, "room"), "schedule"), 0);
    assert_string_equal(mu_value_get_str(slot, "time"), "23:00");
    assert_string_equal(mu_value_get_str(slot, "end_time"), "00:30");
    assert_string_equal(mu_value_get_str(slot, "timezone"), "America/Argentina/Salta");
    mu_msg_free(m);
    m = cl_call(w.y, w.mentor, mu_req_new("rooms.list"));
    expect_ok(m);
    slot = mu_value_at(mu_value_get(mu_value_at(mu_msg_get(m, "rooms"), 0), "schedule"), 0);
    assert_string_equal(mu_value_get_str(slot, "end_time"), "00:30");
    mu_msg_free(m);
    world_down(&w);
}

static int64_t said_seq(world *w, mu_client *c, const char *text)
{
    mu_req *r = rreq("room.say", "evening");
    mu_req_str(r, "text", text);
    mu_msg *m = cl_call(w->y, c, r);
    expect_ok(m);
    int64_t seq = mu_value_get_int(mu_msg_root(m), "seq", -1);
    mu_msg_free(m);
    return seq;
}

/* A seq is never given twice, not even when the newest message goes with its author's
 * account. */
static void test_seq_never_reused(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    mu_msg_free(create(&w, "evening", true, NULL));
    rcall(&w, w.mentor, "room.open", "evening", "ok");
    rcall(&w, w.mentor, "room.join", "evening", "ok");
    assert_int_equal(said_seq(&w, w.mentor, "one"), 1);
    mu_client *alex = world_newcomer(&w, "alex", NULL);
    rcall(&w, alex, "room.join", "evening", "ok");
    assert_int_equal(said_seq(&w, alex, "two"), 2);
    mu_req *r = mu_req_new("me.delete");
    mu_req_str(r, "password", WORLD_PW);
    call_expect(w.y, alex, r, "ok");
    assert_int_equal(said_seq(&w, w.mentor, "three"), 3);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backlog),
        cmocka_unit_test(test_live_state_survives_a_restart),
        cmocka_unit_test(test_timed_share_and_shutdown),
        cmocka_unit_test(test_schedule_zones),
        cmocka_unit_test(test_seq_never_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
