/* Peer-mentor messaging over real WebSockets: caseloads, the pair rule, live and offline
 * delivery, read receipts, history, inbox, idempotent retries and durability. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

/* A world with the admin signed in and these mentors (not signed in). */
static void up(world *w, const char *config, const char *const *mentors)
{
    world_up(w, config, 0, NULL, NULL);
    for (; mentors && *mentors; mentors++)
        world_add(w, *mentors, "mentor");
}

static void assign(world *w, const char *mentor, const char *user, const char *code)
{
    mu_req *r = mu_req_new("mentor.assign");
    mu_req_str(r, "mentor", mentor);
    mu_req_str(r, "user", user);
    call_expect(w->y, w->admin, r, code);
}

static mu_msg *send_dm(world *w, mu_client *c, const char *to, const char *text, const char *cid)
{
    mu_req *r = mu_req_new("dm.send");
    mu_req_str(r, "to", to);
    mu_req_str(r, "text", text);
    if (cid)
        mu_req_str(r, "cid", cid);
    return cl_call(w->y, c, r);
}

static void dm_expect(world *w, mu_client *c, const char *to, const char *code)
{
    mu_msg *m = send_dm(w, c, to, "hello", NULL);
    if (!strcmp(code, "ok"))
        expect_ok(m);
    else
        expect_err(m, code);
    mu_msg_free(m);
}

/* The next event, which must be `op`. */
static void test_assignments(void **st)
{
    world w;
    const char *mentors[] = {"mentor.a", "mentor.b", NULL};
    up(&w, "caseload_max = 2", mentors);
    mu_client *m1 = world_newcomer(&w, "mem1", NULL);
    world_newcomer(&w, "mem2", NULL);
    world_newcomer(&w, "mem3", "family");
    mu_client *ma = world_as(&w, "mentor.a");

    /* only admins assign */
    mu_req *r = mu_req_new("mentor.assign");
    mu_req_str(r, "mentor", "mentor.a");
    mu_req_str(r, "user", "mem1");
    call_expect(w.y, ma, r, "forbidden");
    /* roles and existence */
    assign(&w, "mem2", "mem1", "bad_request");         /* not a mentor */
    assign(&w, "mentor.a", "mentor.b", "bad_request"); /* a mentor has no mentor */
    assign(&w, "mentor.a", "mentor.a", "bad_request"); /* nor themselves */
    assign(&w, "mentor.a", "admin", "bad_request");
    assign(&w, "nobody", "mem1", "not_found");
    assign(&w, "mentor.a", "nobody", "not_found");
    /* the caseload limit, at the configured value */
    assign(&w, "mentor.a", "mem1", "ok");
    assign(&w, "mentor.a", "mem3", "ok");
    assign(&w, "mentor.a", "mem2", "caseload_full");
    assign(&w, "mentor.a", "mem1", "ok"); /* already on it: no change, not full */
    /* mentor.get and mentees.list */
    mu_msg *m = cl_call(w.y, m1, mu_req_new("mentor.get"));
    expect_ok(m);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "mentor"), "mentor.a");
    mu_msg_free(m);
    m = cl_call(w.y, ma, mu_req_new("mentees.list"));
    expect_ok(m);
    const mu_value *list = mu_msg_get(m, "mentees");
    assert_int_equal(mu_value_len(list), 2);
    assert_string_equal(mu_value_get_str(mu_value_at(list, 0), "handle"), "mem1");
    assert_string_equal(mu_value_get_str(mu_value_at(list, 0), "role"), "member");
    assert_string_equal(mu_value_get_str(mu_value_at(list, 0), "share"), "none");
    assert_int_equal(mu_value_type(mu_value_get(mu_value_at(list, 0), "last_checkin")), MU_V_NIL);
    assert_int_equal(mu_value_get_int(mu_value_at(list, 0), "open_alerts", -1), 0);
    assert_string_equal(mu_value_get_str(mu_value_at(list, 1), "role"), "family");
    mu_msg_free(m);
    call_expect(w.y, m1, mu_req_new("mentees.list"), "forbidden");
    /* the pair's conversation is there before anything is said in it */
    m = cl_call(w.y, m1, mu_req_new("dm.inbox"));
    expect_ok(m);
    list = mu_msg_get(m, "threads");
    assert_int_equal(mu_value_len(list), 1);
    assert_string_equal(mu_value_get_str(mu_value_at(list, 0), "with"), "mentor.a");
    assert_int_equal(mu_value_type(mu_value_get(mu_value_at(list, 0), "last")), MU_V_NIL);
    assert_int_equal(mu_value_get_int(mu_value_at(list, 0), "unread", -1), 0);
    mu_msg_free(m);
    /* reassigning moves the user, and frees the place */
    assign(&w, "mentor.b", "mem1", "ok");
    assign(&w, "mentor.a", "mem2", "ok");
    m = cl_call(w.y, m1, mu_req_new("mentor.get"));
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "mentor"), "mentor.b");
    mu_msg_free(m);
    /* unassign */
    r = mu_req_new("mentor.unassign");
    mu_req_str(r, "user", "mem1");
    call_expect(w.y, w.admin, r, "ok");
    m = cl_call(w.y, m1, mu_req_new("mentor.get"));
    assert_int_equal(mu_value_type(mu_msg_get(m, "mentor")), MU_V_NIL);
    mu_msg_free(m);
    r = mu_req_new("mentor.unassign");
    mu_req_str(r, "user", "ghost");
    call_expect(w.y, w.admin, r, "not_found");
    r = mu_req_new("mentor.unassign");
    mu_req_str(r, "user", "mem1");
    call_expect(w.y, ma, r, "forbidden");
    world_down(&w);
}

static void test_pair_rule(void **st)
{
    world w;
    const char *mentors[] = {"mentor.a", "mentor.b", NULL};
    up(&w, NULL, mentors);
    mu_client *m1 = world_newcomer(&w, "mem1", NULL);
    world_newcomer(&w, "mem2", NULL);
    mu_client *fam = world_newcomer(&w, "fam", "family");
    mu_client *ma = world_as(&w, "mentor.a");
    mu_client *mb = world_as(&w, "mentor.b");
    assign(&w, "mentor.a", "mem1", "ok");
    assign(&w, "mentor.b", "mem2", "ok");

    dm_expect(&w, m1, "mentor.a", "ok");
    dm_expect(&w, ma, "mem1", "ok");
    dm_expect(&w, m1, "mem2", "forbidden");      /* member to member */
    dm_expect(&w, fam, "mentor.a", "forbidden"); /* family to an unassigned mentor */
    dm_expect(&w, ma, "mem2", "forbidden");      /* mentor to someone else's mentee */
    dm_expect(&w, mb, "mentor.a", "forbidden");  /* mentor to mentor */
    dm_expect(&w, m1, "mem1", "forbidden");      /* oneself */
    /* an unknown handle looks the same as a refused one */
    mu_msg *a = send_dm(&w, m1, "no-such-person", "hi", NULL);
    mu_msg *b = send_dm(&w, m1, "mem2", "hi", NULL);
    expect_err(a, "forbidden");
    assert_string_equal(mu_msg_text(a), mu_msg_text(b));
    mu_msg_free(a);
    mu_msg_free(b);
    /* admins with anyone, both ways */
    dm_expect(&w, w.admin, "fam", "ok");
    dm_expect(&w, fam, "admin", "ok");
    /* limits */
    char *big = malloc(4002);
    memset(big, 'x', 4001);
    big[4001] = 0;
    mu_msg *m = send_dm(&w, m1, "mentor.a", big, NULL);
    expect_err(m, "too_large");
    mu_msg_free(m);
    free(big);
    m = send_dm(&w, m1, "mentor.a", "", NULL);
    expect_err(m, "bad_request");
    mu_msg_free(m);

    /* after reassignment both can read the old thread but neither can send in it */
    assign(&w, "mentor.b", "mem1", "ok");
    dm_expect(&w, m1, "mentor.a", "forbidden");
    dm_expect(&w, ma, "mem1", "forbidden");
    dm_expect(&w, m1, "mentor.b", "ok");
    mu_req *r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mentor.a");
    m = cl_call(w.y, m1, r);
    expect_ok(m);
    assert_int_equal(mu_value_len(mu_msg_get(m, "messages")), 2);
    mu_msg_free(m);
    r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mem1");
    call_expect(w.y, ma, r, "ok");
    /* history with someone one never had a thread with */
    r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mem2");
    call_expect(w.y, m1, r, "forbidden");
    r = mu_req_new("dm.history");
    mu_req_str(r, "with", "nobody-at-all");
    call_expect(w.y, m1, r, "forbidden");
    world_down(&w);
}

static void test_live_delivery_and_receipts(void **st)
{
    world w;
    const char *mentors[] = {"mentor.a", NULL};
    up(&w, NULL, mentors);
    mu_client *m1 = world_newcomer(&w, "mem1", NULL);
    mu_client *m1b = world_as(&w, "mem1"); /* a second device */
    mu_client *ma = world_as(&w, "mentor.a");
    mu_client *ma2 = world_as(&w, "mentor.a");
    assign(&w, "mentor.a", "mem1", "ok");

    mu_msg *m = send_dm(&w, m1, "mentor.a", "rough night, doing ok now", NULL);
    expect_ok(m);
    int64_t id1 = mu_value_get_int(mu_msg_root(m), "id", 0);
    int64_t ts1 = mu_value_get_int(mu_msg_root(m), "ts", 0);
    assert_true(id1 > 0 && ts1 > 0);
    mu_msg_free(m);
    /* both of the mentor's connections, and the sender's other one */
    mu_client *to_see[] = {ma, ma2, m1b};
    for (int i = 0; i < 3; i++) {
        m = world_event(&w, to_see[i], "dm.msg");
        assert_int_equal(mu_value_get_int(mu_msg_root(m), "id", 0), id1);
        assert_string_equal(mu_value_get_str(mu_msg_root(m), "from"), "mem1");
        assert_string_equal(mu_value_get_str(mu_msg_root(m), "to"), "mentor.a");
        assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), "rough night, doing ok now");
        assert_int_equal(mu_value_get_int(mu_msg_root(m), "ts", 0), ts1);
        mu_msg_free(m);
    }
    world_no_event(&w, m1); /* the sender's own connection has the reply, not an event */
    m = send_dm(&w, m1, "mentor.a", "second", NULL);
    int64_t id2 = mu_value_get_int(mu_msg_root(m), "id", 0);
    assert_true(id2 > id1); /* ids increase */
    mu_msg_free(m);
    for (int i = 0; i < 3; i++)
        mu_msg_free(world_event(&w, to_see[i], "dm.msg"));

    /* inbox before and after the ack */
    m = cl_call(w.y, ma, mu_req_new("dm.inbox"));
    expect_ok(m);
    const mu_value *th = mu_msg_get(m, "threads");
    assert_int_equal(mu_value_len(th), 1);
    assert_string_equal(mu_value_get_str(mu_value_at(th, 0), "with"), "mem1");
    assert_int_equal(mu_value_get_int(mu_value_at(th, 0), "unread", -1), 2);
    assert_string_equal(mu_value_get_str(mu_value_get(mu_value_at(th, 0), "last"), "text"),
                        "second");
    mu_msg_free(m);
    mu_req *r = mu_req_new("dm.ack");
    mu_req_str(r, "with", "mem1");
    mu_req_int(r, "up_to", id1);
    call_expect(w.y, ma, r, "ok");
    /* the sender's connections and the reader's other connection hear of it */
    mu_client *told[] = {m1, m1b, ma2};
    for (int i = 0; i < 3; i++) {
        m = world_event(&w, told[i], "dm.read");
        assert_string_equal(mu_value_get_str(mu_msg_root(m), "with"), "mentor.a");
        assert_int_equal(mu_value_get_int(mu_msg_root(m), "up_to", 0), id1);
        mu_msg_free(m);
    }
    world_no_event(&w, ma);
    m = cl_call(w.y, ma, mu_req_new("dm.inbox"));
    assert_int_equal(mu_value_get_int(mu_value_at(mu_msg_get(m, "threads"), 0), "unread", -1), 1);
    mu_msg_free(m);
    /* the member's inbox counts only what was sent to them */
    m = cl_call(w.y, m1, mu_req_new("dm.inbox"));
    assert_int_equal(mu_value_get_int(mu_value_at(mu_msg_get(m, "threads"), 0), "unread", -1), 0);
    mu_msg_free(m);
    r = mu_req_new("dm.ack");
    mu_req_str(r, "with", "stranger");
    mu_req_int(r, "up_to", 5);
    call_expect(w.y, ma, r, "forbidden");
    world_down(&w);
}

static void test_offline_delivery(void **st)
{
    world w;
    const char *mentors[] = {"mentor.a", NULL};
    up(&w, NULL, mentors);
    mu_client *m1 = world_newcomer(&w, "mem1", NULL);
    assign(&w, "mentor.a", "mem1", "ok");
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        char text[32];
        snprintf(text, sizeof(text), "message %d", i);
        mu_msg *m = send_dm(&w, m1, "mentor.a", text, NULL);
        expect_ok(m);
        ids[i] = mu_value_get_int(mu_msg_root(m), "id", 0);
        mu_msg_free(m);
    }
    /* the mentor signs in later: every unread message, in id order, after the reply */
    mu_client *ma = cl_connect(w.y, &w.s);
    mu_req *r = mu_req_new("login");
    mu_req_str(r, "handle", "mentor.a");
    mu_req_str(r, "password", WORLD_PW);
    mu_msg *m = cl_call(w.y, ma, r);
    expect_ok(m);
    char *token = strdup(mu_value_get_str(mu_msg_root(m), "token"));
    mu_msg_free(m);
    for (int i = 0; i < 5; i++) {
        m = world_event(&w, ma, "dm.msg");
        assert_int_equal(mu_value_get_int(mu_msg_root(m), "id", 0), ids[i]);
        mu_msg_free(m);
    }
    world_no_event(&w, ma);
    /* still unread: pushed again on the next authentication (resume too) */
    r = mu_req_new("dm.ack");
    mu_req_str(r, "with", "mem1");
    mu_req_int(r, "up_to", ids[2]);
    call_expect(w.y, ma, r, "ok");
    mu_client *again = cl_connect(w.y, &w.s);
    r = mu_req_new("resume");
    mu_req_str(r, "token", token);
    call_expect(w.y, again, r, "ok");
    for (int i = 3; i < 5; i++) {
        m = world_event(&w, again, "dm.msg");
        assert_int_equal(mu_value_get_int(mu_msg_root(m), "id", 0), ids[i]);
        mu_msg_free(m);
    }
    world_no_event(&w, again);
    free(token);
    world_down(&w);
}

static void test_history_pages(void **st)
{
    world w;
    const char *mentors[] = {"mentor.a", NULL};
    up(&w, NULL, mentors);
    mu_client *m1 = world_newcomer(&w, "mem1", NULL);
    mu_client *ma = world_as(&w, "mentor.a");
    assign(&w, "mentor.a", "mem1", "ok");
    int64_t ids[7];
    for (int i = 0; i < 7; i++) {
        mu_msg *m = send_dm(&w, i % 2 ? ma : m1, i % 2 ? "mem1" : "mentor.a", "x", NULL);
        ids[i] = mu_value_get_int(mu_msg_root(m), "id", 0);
        mu_msg_free(m);
    }
    /* the newest `limit` below `before`, ascending; both directions in one thread */
    mu_req *r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mentor.a");
    mu_req_int(r, "limit", 3);
    mu_msg *m = cl_call(w.y, m1, r);
    const mu_value *msgs = mu_msg_get(m, "messages");
    assert_int_equal(mu_value_len(msgs), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(mu_value_get_int(mu_value_at(msgs, (size_t)i), "id", 0), ids[4 + i]);
    assert_string_equal(mu_value_get_str(mu_value_at(msgs, 0), "from"), "mem1");
    assert_string_equal(mu_value_get_str(mu_value_at(msgs, 1), "from"), "mentor.a");
    mu_msg_free(m);
    r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mentor.a");
    mu_req_int(r, "limit", 3);
    mu_req_int(r, "before", ids[4]);
    m = cl_call(w.y, m1, r);
    msgs = mu_msg_get(m, "messages");
    assert_int_equal(mu_value_len(msgs), 3);
    assert_int_equal(mu_value_get_int(mu_value_at(msgs, 0), "id", 0), ids[1]);
    mu_msg_free(m);
    r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mentor.a");
    mu_req_int(r, "before", ids[1]);
    m = cl_call(w.y, m1, r);
    assert_int_equal(mu_value_len(mu_msg_get(m, "messages")), 1);
    mu_msg_free(m);
    r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mentor.a");
    mu_req_int(r, "before", ids[0]);
    m = cl_call(w.y, m1, r);
    expect_ok(m);
    assert_int_equal(mu_value_len(mu_msg_get(m, "messages")), 0);
    mu_msg_free(m);
    /* the default page is 50 and the limit is 1 to 200 */
    r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mem1");
    m = cl_call(w.y, ma, r);
    assert_int_equal(mu_value_len(mu_msg_get(m, "messages")), 7);
    mu_msg_free(m);
    r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mem1");
    mu_req_int(r, "limit", 0);
    call_expect(w.y, ma, r, "bad_request");
    r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mem1");
    mu_req_int(r, "limit", 201);
    call_expect(w.y, ma, r, "bad_request");
    world_down(&w);
}

static void test_cid_retry(void **st)
{
    world w;
    const char *mentors[] = {"mentor.a", NULL};
    up(&w, NULL, mentors);
    mu_client *m1 = world_newcomer(&w, "mem1", NULL);
    mu_client *m1b = world_as(&w, "mem1");
    mu_client *ma = world_as(&w, "mentor.a");
    assign(&w, "mentor.a", "mem1", "ok");
    mu_msg *a = send_dm(&w, m1, "mentor.a", "first", "retry-1");
    mu_msg_free(world_event(&w, ma, "dm.msg"));
    mu_msg_free(world_event(&w, m1b, "dm.msg"));
    /* the same cid again, from another connection and with another text: the first stands */
    mu_msg *b = send_dm(&w, m1b, "mentor.a", "something else", "retry-1");
    expect_ok(b);
    assert_int_equal(mu_value_get_int(mu_msg_root(a), "id", 0),
                     mu_value_get_int(mu_msg_root(b), "id", 1));
    assert_int_equal(mu_value_get_int(mu_msg_root(a), "ts", 0),
                     mu_value_get_int(mu_msg_root(b), "ts", 1));
    mu_msg_free(a);
    mu_msg_free(b);
    world_no_event(&w, ma);
    /* a new cid is a new message */
    b = send_dm(&w, m1, "mentor.a", "third", "retry-2");
    expect_ok(b);
    mu_msg_free(b);
    mu_msg_free(world_event(&w, ma, "dm.msg"));
    /* two in flight at once with one cid: one message */
    mu_req *r1 = mu_req_new("dm.send"), *r2 = mu_req_new("dm.send");
    mu_req_str(r1, "to", "mentor.a");
    mu_req_str(r1, "text", "race");
    mu_req_str(r1, "cid", "retry-3");
    mu_req_str(r2, "to", "mentor.a");
    mu_req_str(r2, "text", "race");
    mu_req_str(r2, "cid", "retry-3");
    mu_client_send(m1, r1, NULL, NULL);
    a = mu_sync_call(w.y, m1b, r2, 10000);
    expect_ok(a);
    mu_msg_free(a);
    mu_msg_free(world_event(&w, ma, "dm.msg"));
    world_no_event(&w, ma);
    mu_req *r = mu_req_new("dm.history");
    mu_req_str(r, "with", "mentor.a");
    mu_msg *m = cl_call(w.y, m1, r);
    assert_int_equal(mu_value_len(mu_msg_get(m, "messages")), 3);
    mu_msg_free(m);
    world_down(&w);
}

static void test_durable_exactly_once(void **st)
{
    world w;
    const char *mentors[] = {"mentor.a", NULL};
    up(&w, NULL, mentors);
    mu_client *m1 = world_newcomer(&w, "mem1", NULL);
    assign(&w, "mentor.a", "mem1", "ok");
    mu_msg *m = send_dm(&w, m1, "mentor.a", "please call me tomorrow", NULL);
    expect_ok(m);
    int64_t id = mu_value_get_int(mu_msg_root(m), "id", 0);
    mu_msg_free(m);
    /* killed right after the reply */
    srv_kill9(&w.s);
    mu_sync_free(w.y);
    srv_restart(&w.s);
    w.y = mu_sync_new();
    mu_client *ma = world_as(&w, "mentor.a");
    m = world_event(&w, ma, "dm.msg");
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "id", 0), id);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), "please call me tomorrow");
    mu_msg_free(m);
    world_no_event(&w, ma); /* exactly once */
    w.admin = world_as(&w, "admin");
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assignments),
        cmocka_unit_test(test_pair_rule),
        cmocka_unit_test(test_live_delivery_and_receipts),
        cmocka_unit_test(test_offline_delivery),
        cmocka_unit_test(test_history_pages),
        cmocka_unit_test(test_cid_retry),
        cmocka_unit_test(test_durable_exactly_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
