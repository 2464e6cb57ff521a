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
#include <signal.h>
#include <sys/types.h>

#include <cmocka.h>

#include "nodes.h"

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
    cut_listeners(&n);
    send_dm(n.w.y, n.w.mem, "mentor.ana", "while B was not listening");
    m = cl_event(n.yb, ana_b, "dm.msg");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), "while B was not listening");
    mu_msg_free(m);
    cl_no_event(n.yb, ana_b);
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
        bool sent = mu_msg_ok(m);
        if (sent)
            ok++;
        else if (strcmp(mu_msg_code(m), "unavailable") == 0)
            unavailable++;
        else
            fail_msg("a request after the connections dropped got %s", mu_msg_code(m));
        mu_msg_free(m);
        if (!sent)
            mu_sync_run(n.w.y, 200);
    }
    assert_int_equal(ok, 3);
    /* A write whose BEGIN met the dropped connection runs again on a new one (nothing of it
     * was sent): it may succeed at once. Every one that succeeded is stored, once. */
    print_message("after the connections dropped: %d unavailable before 3 sent\n", unavailable);
    assert_int_equal(srv_sql_int(&n.w.s, "SELECT count(*) FROM dms WHERE text = 'after'"), 3);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND "
             "backend_type = 'client backend' AND pid <> pg_backend_pid()",
             n.w.s.pg_name);
    assert_true(srv_sql_int(&n.w.s, sql) >= 1); /* connected again: every old one was cut */
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

typedef struct {
    bool answered, ok;
    size_t n;
    char first[64];
} pending;

static void on_history(mu_client *c, const mu_msg *m, void *ud)
{
    (void)c;
    pending *p = ud;
    p->answered = true;
    p->ok = m && mu_msg_ok(m);
    const mu_value *msgs = p->ok ? mu_msg_get(m, "messages") : NULL;
    p->n = mu_value_len(msgs);
    if (p->n)
        snprintf(p->first, sizeof(p->first), "%s", mu_value_get_str(mu_value_at(msgs, 0), "text"));
}

/* A request's reads wait on the database off the loop: while PostgreSQL answers nothing
 * (every connection to it stopped), a dm.history waits and a ping on another connection is
 * answered meanwhile; once the database answers again, the history arrives whole. */
static void test_reads_off_loop(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    send_dm(n.w.y, n.w.mem, "mentor.ana", "kept for later");
    mu_msg *m = cl_call(n.w.y, n.w.mem, mu_req_new("dm.inbox")); /* every connection is up */
    expect_ok(m);
    mu_msg_free(m);
    assert_true(signal_backends(&n, NULL, SIGSTOP) >= 4);
    pending hist = {0};
    mu_req *r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mentor.ana");
    mu_client_send(n.w.mem, r, on_history, &hist);
    mu_sync_run(n.w.y, 300);
    assert_false(hist.answered); /* it waits on the database */
    m = mu_sync_call(n.w.y, n.w.mentor, mu_req_new("ping"), 2000);
    bool answered = m && mu_msg_ok(m);
    mu_msg_free(m);
    signal_backends(&n, NULL, SIGCONT);
    assert_true(answered);
    for (int i = 0; i < 50 && !hist.answered; i++)
        mu_sync_run(n.w.y, 100);
    assert_true(hist.ok);
    assert_int_equal(hist.n, 1);
    assert_string_equal(hist.first, "kept for later");
    nodes_down(&n);
}

typedef struct {
    bool answered, ok;
    size_t events_before; /* events the client had received when the reply came */
} join_seen;

static void on_join(mu_client *c, const mu_msg *m, void *ud)
{
    join_seen *j = ud;
    j->answered = true;
    j->ok = m && mu_msg_ok(m);
    j->events_before = mu_sync_pending(c);
}

/* A join's history is read off the loop; what happens in the room meanwhile follows the
 * reply: kit joins while riley's join waits on the database, and riley gets the reply (which
 * does not list kit) before kit's room.presence. */
static void test_join_holds_events(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    circle_open(&n);
    world_add(&n.w, "kit", "member");
    mu_client *kit = world_as(&n.w, "kit");
    while (mu_sync_pending(n.w.mem)) /* nothing of before */
        mu_msg_free(mu_sync_event(y, n.w.mem, 0));
    assert_true(signal_backends(&n, NULL, SIGSTOP) >= 4);
    join_seen riley = {0}, kits = {0};
    mu_client_send(n.w.mem, room_req("room.join"), on_join, &riley);
    mu_sync_run(y, 200);
    mu_client_send(kit, room_req("room.join"), on_join, &kits);
    mu_sync_run(y, 200);
    assert_false(riley.answered); /* it waits on the database */
    signal_backends(&n, NULL, SIGCONT);
    for (int i = 0; i < 50 && !(riley.answered && kits.answered); i++)
        mu_sync_run(y, 100);
    assert_true(riley.ok);
    assert_true(kits.ok);
    assert_int_equal(riley.events_before, 0);
    expect_presence(y, n.w.mem, "kit", "joined");
    nodes_down(&n);
}

/* The pushes after sign-in are read again until they can be: with the tables they read out
 * of reach (renamed) when a mentor signs in, the login still succeeds, and the open alert and
 * the unread message arrive in that session once the tables are back, followed by what is
 * sent after. */
static void test_push_read_again(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    mu_client *ana = n.w.mentor; /* signed out while riley writes */
    call_expect(y, ana, mu_req_new("logout"), "ok");
    send_dm(y, n.w.mem, "mentor.ana", "while you were away");
    mu_req *r = mu_req_new("help");
    mu_req_str(r, "text", "hard evening");
    call_expect(y, n.w.mem, r, "ok");
    srv_sql_exec(&n.w.s, "ALTER TABLE dms RENAME TO dms_away; "
                         "ALTER TABLE alerts RENAME TO alerts_away");
    char *tok = cl_login(y, ana, "mentor.ana", WORLD_PW);
    free(tok);
    mu_sync_run(y, 600); /* the pushes fail and wait to be read again */
    assert_int_equal(mu_sync_pending(ana), 0);
    srv_sql_exec(&n.w.s, "ALTER TABLE dms_away RENAME TO dms; "
                         "ALTER TABLE alerts_away RENAME TO alerts");
    mu_msg *m = mu_sync_event(y, ana, 20000);
    assert_non_null(m);
    assert_string_equal(mu_msg_op(m), "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "kind"), "help_requested");
    mu_msg_free(m);
    m = cl_event(y, ana, "dm.msg");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), "while you were away");
    mu_msg_free(m);
    send_dm(y, n.w.mem, "mentor.ana", "and now");
    m = cl_event(y, ana, "dm.msg");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), "and now");
    mu_msg_free(m);
    cl_no_event(y, ana);
    nodes_down(&n);
}

/* A join whose history cannot be read fails whole: riley is not left in the room, so ana
 * sees her arrive and go, and a message said after is not sent to her. */
static void test_join_read_fails(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    circle_open(&n);
    call_expect(y, n.w.mentor, room_req("room.join"), "ok");
    srv_sql_exec(&n.w.s, "ALTER TABLE room_messages RENAME TO room_messages_away");
    mu_msg *m = cl_call(y, n.w.mem, room_req("room.join"));
    assert_false(mu_msg_ok(m));
    assert_string_equal(mu_msg_code(m), "internal");
    mu_msg_free(m);
    srv_sql_exec(&n.w.s, "ALTER TABLE room_messages_away RENAME TO room_messages");
    expect_presence(y, n.w.mentor, "riley", "joined");
    expect_presence(y, n.w.mentor, "riley", "left");
    call_expect(y, n.w.mentor, say_req("after the failed join", NULL), "ok");
    while (mu_sync_pending(n.w.mem)) { /* what was held back while the join read */
        m = mu_sync_event(y, n.w.mem, 0);
        assert_string_not_equal(mu_msg_op(m), "room.msg");
        mu_msg_free(m);
    }
    cl_no_event(y, n.w.mem);
    call_expect(y, n.w.mem, say_req("am I in?", NULL), "forbidden"); /* she is not */
    nodes_down(&n);
}

/* What was said while a failed join was being read is not shown to its person: riley's join
 * waits on the stopped reading connections, ana speaks (the room.msg is held for riley),
 * the table the join reads goes away, and the join fails. riley gets the error and never that
 * message, nor the next one. */
static void test_join_fails_drops_held(void **st)
{
    (void)st;
    nodes n;
    nodes_up(&n);
    mu_sync *y = n.w.y;
    circle_open(&n);
    call_expect(y, n.w.mentor, room_req("room.join"), "ok");
    while (mu_sync_pending(n.w.mem)) /* nothing of before */
        mu_msg_free(mu_sync_event(y, n.w.mem, 0));
    assert_true(signal_backends(&n, "mutuald (reads)", SIGSTOP) >= 2);
    join_seen riley = {0};
    mu_client_send(n.w.mem, room_req("room.join"), on_join, &riley);
    mu_sync_run(y, 200);
    assert_false(riley.answered);
    expect_presence(y, n.w.mentor, "riley", "joined");
    call_expect(y, n.w.mentor, say_req("not for a failed join", NULL), "ok");
    mu_sync_run(y, 100);
    srv_sql_exec(&n.w.s, "SET lock_timeout = '5s'; "
                         "ALTER TABLE room_messages RENAME TO room_messages_away");
    signal_backends(&n, "mutuald (reads)", SIGCONT);
    for (int i = 0; i < 50 && !riley.answered; i++)
        mu_sync_run(y, 100);
    assert_true(riley.answered);
    assert_false(riley.ok);
    srv_sql_exec(&n.w.s, "ALTER TABLE room_messages_away RENAME TO room_messages");
    call_expect(y, n.w.mentor, say_req("after it", NULL), "ok");
    mu_sync_run(y, 300);
    while (mu_sync_pending(n.w.mem)) {
        mu_msg *m = mu_sync_event(y, n.w.mem, 0);
        assert_string_not_equal(mu_msg_op(m), "room.msg");
        mu_msg_free(m);
    }
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
        cmocka_unit_test(test_listener_catches_up),
        cmocka_unit_test(test_database_connections_lost),
        cmocka_unit_test(test_reads_off_loop),
        cmocka_unit_test(test_join_holds_events),
        cmocka_unit_test(test_push_read_again),
        cmocka_unit_test(test_join_read_fails),
        cmocka_unit_test(test_join_fails_drops_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
