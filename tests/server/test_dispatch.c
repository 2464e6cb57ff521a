/* The request layer without a socket: the envelope's rules in the protocol's order (rate
 * limit, malformed, unknown op, authentication, shutdown, fields), one request at a time in
 * arrival order, and what happens to queued requests when a connection goes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dispatch.h"
#include "fakes.h"

static uint64_t now;
static mu_conn *held; /* a call whose handler waits (as one waiting on a commit would) */
static unsigned gone_calls, handled;

static uint64_t clock_ms(void)
{
    return now;
}

static void h_now(mu_conn *c, mu_request *r)
{
    handled++;
    reply_empty(c);
}

static void h_login(mu_conn *c, mu_request *r)
{
    uint8_t token[32] = {0};
    conn_authenticate(c, 1, "riley", ROLE_MEMBER, token);
    reply_empty(c);
}

static void h_later(mu_conn *c, mu_request *r)
{
    handled++;
    held = c;
}

static bool lost; /* what the reads_lost hook answers */

static bool reads_lost(void)
{
    return lost;
}

static void h_read_fails(mu_conn *c, mu_request *r)
{
    handled++;
    reply_read_failed(c, "the thing");
}

static void on_gone(mu_conn *c)
{
    gone_calls++;
}

static handler_fn table[MU_OP__COUNT];

static void init(bool test_clock, double burst)
{
    memset(table, 0, sizeof(table));
    table[MU_OP_PING] = h_now;
    table[MU_OP_LOGIN] = h_login;
    table[MU_OP_ROOMS_LIST] = h_now;
    table[MU_OP_ROOM_JOIN] = h_now;
    table[MU_OP_DM_INBOX] = h_later;
    table[MU_OP_TEST_CLOCK] = h_now;
    table[MU_OP_DM_HISTORY] = h_read_fails;
    /* alerts.list has no handler: this build "does not serve" it */
    dispatch_init(&(dispatch_config){
        table, on_gone, clock_ms, 1.0, burst, {4000, 2000}, test_clock, reads_lost});
}

static int setup(void **st)
{
    conn_init(&(conn_limits){.send_queue = 1 << 20, .mono_us = fake_mono_us});
    init(false, 1000);
    fake_reset();
    now = 1000;
    held = NULL;
    gone_calls = handled = 0;
    return 0;
}

static int teardown(void **st)
{
    dispatch_run_pending();
    dispatch_shutdown();
    conn_shutdown();
    fake_cleanup();
    return 0;
}

static void send_raw(mu_conn *c, const void *p, size_t n, bool text)
{
    dispatch_on_message(c, p, n, text);
}

static void send_req(mu_conn *c, const char *op, uint64_t rid, const char *fields)
{
    size_t n;
    const char *p = fake_request(op, rid, fields, &n);
    send_raw(c, p, n, false);
}

static bool has_rid(int i, uint64_t rid)
{
    const msgpack_object *r = mu_map_get(fake_msg(i), "rid");
    return r && r->type == MSGPACK_OBJECT_POSITIVE_INTEGER && r->via.u64 == rid;
}

static void test_rate_limit_comes_first(void **st)
{
    init(false, 3);
    mu_conn *c = fake_conn();
    dispatch_conn_open(c);
    for (int i = 0; i < 5; i++)
        send_req(c, "ping", (uint64_t)i + 1, NULL);
    send_raw(c, "\xc1", 1, false); /* malformed, and past the bucket */
    send_raw(c, "hello", 5, true);
    dispatch_run_pending();
    assert_string_equal(fake_take(c),
                        "ok ok ok rate_limited rate_limited rate_limited rate_limited");
    assert_true(has_rid(3, 4));
    /* Frames past the bucket are not counted as malformed: five more do not close it. */
    for (int i = 0; i < 5; i++)
        send_raw(c, "\xc1", 1, false);
    dispatch_run_pending();
    assert_string_equal(fake_take(c), "rate_limited rate_limited rate_limited rate_limited "
                                      "rate_limited");
    assert_int_equal(c->bad_frames, 0);
    /* The bucket refills with time (1 a second here). */
    now += 2000;
    assert_string_equal(fake_call(c, "ping", NULL), "ok");
    dispatch_conn_gone(c);
}

static void test_malformed(void **st)
{
    mu_conn *c = fake_conn();
    dispatch_conn_open(c);
    send_raw(c, "{\"op\":\"ping\"}", 13, true); /* text is never a request */
    send_raw(c, "\x92\x01\x02", 3, false);      /* an array, not a map */
    mu_enc e;
    mu_enc_init(&e, 0);
    mu_enc_map(&e, 1);
    mu_enc_kuint(&e, "rid", 9); /* a rid but no op */
    size_t n;
    const char *p = mu_enc_payload(&e, &n);
    send_raw(c, p, n, false);
    mu_enc_free(&e);
    dispatch_run_pending();
    assert_string_equal(fake_take(c), "bad_request bad_request bad_request");
    assert_null(mu_map_get(fake_msg(0), "rid"));
    assert_true(has_rid(2, 9));
    /* A well-formed request with bad fields is not malformed. */
    assert_string_equal(fake_call(c, "login", "handle=x"), "bad_request");
    assert_int_equal(c->bad_frames, 3);
    /* The fifth malformed frame gets its reply, then the connection is closed with 1008. */
    send_raw(c, "\xc1", 1, false);
    send_raw(c, "\xc1", 1, false);
    send_req(c, "ping", 1, NULL); /* after the close nothing more is handled */
    dispatch_run_pending();
    assert_string_equal(fake_take(c), "bad_request bad_request close:1008");
    assert_int_equal(c->close_code, CLOSE_POLICY);
    dispatch_conn_gone(c);
}

static void test_envelope_order(void **st)
{
    mu_conn *c = fake_conn();
    dispatch_conn_open(c);
    /* unknown op before authentication */
    assert_string_equal(fake_call(c, "no.such.op", NULL), "unknown_op");
    /* authentication before fields */
    assert_string_equal(fake_call(c, "room.join", NULL), "unauthenticated");
    assert_string_equal(fake_call(c, "ping", NULL), "ok"); /* allowed before sign-in */
    assert_int_equal(handled, 1);
    assert_string_equal(fake_call(c, "login", "handle=riley;password=a good password"), "ok");
    assert_string_equal(fake_call(c, "room.join", NULL), "bad_request");
    assert_string_equal(fake_call(c, "room.join", "room=Not A Slug"), "bad_request");
    assert_string_equal(fake_call(c, "room.join", "room=tue"), "ok");
    /* an op of the protocol this build does not serve */
    assert_string_equal(fake_call(c, "alerts.list", NULL), "unknown_op");
    /* test.clock exists only under --test-clock */
    assert_string_equal(fake_call(c, "test.clock", "advance=5"), "unknown_op");
    dispatch_conn_gone(c);
}

static void test_shutdown_refuses_requests(void **st)
{
    mu_conn *c = fake_conn(), *d = fake_conn();
    dispatch_conn_open(c);
    dispatch_conn_open(d);
    assert_string_equal(fake_call(c, "login", "handle=riley;password=a good password"), "ok");
    dispatch_refuse_requests();
    assert_string_equal(fake_call(c, "ping", NULL), "unavailable");
    /* unknown op and authentication still come first; shutdown before fields */
    assert_string_equal(fake_call(c, "no.such.op", NULL), "unknown_op");
    assert_string_equal(fake_call(d, "rooms.list", NULL), "unauthenticated");
    assert_string_equal(fake_call(c, "room.join", NULL), "unavailable");
    assert_int_equal(handled, 0);
    dispatch_conn_gone(c);
    dispatch_conn_gone(d);
}

/* A read that failed because the database server is away is `unavailable` (try again), not
 * `internal`. */
static void test_read_failure_codes(void **st)
{
    init(false, 1000);
    mu_conn *c = fake_conn();
    dispatch_conn_open(c);
    assert_string_equal(fake_call(c, "login", "handle=riley;password=a good password"), "ok");
    lost = false;
    assert_string_equal(fake_call(c, "dm.history", "with=ana"), "internal");
    lost = true;
    assert_string_equal(fake_call(c, "dm.history", "with=ana"), "unavailable");
    lost = false;
    dispatch_conn_gone(c);
}

static void test_test_clock_when_enabled(void **st)
{
    init(true, 1000);
    mu_conn *c = fake_conn();
    dispatch_conn_open(c);
    assert_string_equal(fake_call(c, "test.clock", "advance=5"), "unauthenticated");
    assert_string_equal(fake_call(c, "login", "handle=riley;password=a good password"), "ok");
    assert_string_equal(fake_call(c, "test.clock", "advance=5"), "ok");
    dispatch_conn_gone(c);
}

static void test_one_at_a_time_in_order(void **st)
{
    mu_conn *c = fake_conn();
    dispatch_conn_open(c);
    fake_call(c, "login", "handle=riley;password=a good password");
    send_req(c, "dm.inbox", 1, NULL);
    send_req(c, "ping", 2, NULL);
    send_req(c, "ping", 3, NULL);
    dispatch_run_pending();
    /* The first call waits, and the others wait behind it. */
    assert_string_equal(fake_take(c), "");
    assert_int_equal(dispatch_inflight(), 1);
    assert_int_equal(handled, 1);
    reply_empty(held);
    dispatch_run_pending();
    assert_string_equal(fake_take(c), "ok ok ok");
    assert_true(has_rid(0, 1) && has_rid(1, 2) && has_rid(2, 3));
    assert_int_equal(dispatch_inflight(), 0);
    dispatch_conn_gone(c);
}

static void test_gone_drops_the_queue(void **st)
{
    mu_conn *c = fake_conn();
    dispatch_conn_open(c);
    fake_call(c, "login", "handle=riley;password=a good password");
    send_req(c, "dm.inbox", 1, NULL);
    send_req(c, "ping", 2, NULL);
    dispatch_run_pending();
    send_req(c, "ping", 3, NULL);
    dispatch_conn_gone(c);
    assert_int_equal(gone_calls, 1);
    assert_int_equal(c->in_len, 0);
    /* The call in progress still finishes; its reply goes nowhere. */
    assert_int_equal(dispatch_inflight(), 1);
    reply_empty(held);
    dispatch_run_pending();
    assert_int_equal(dispatch_inflight(), 0);
    assert_int_equal(handled, 1); /* the queued pings were never handled */
}

static void test_reading_pauses_behind_a_long_queue(void **st)
{
    mu_conn *c = fake_conn();
    dispatch_conn_open(c);
    for (int i = 0; i < 300; i++)
        send_req(c, "ping", (uint64_t)i, NULL);
    assert_int_equal(fake.pauses, 1);
    assert_int_equal(fake.resumes, 0);
    dispatch_run_pending();
    assert_int_equal(fake.resumes, 1);
    assert_int_equal(handled, 300);
    assert_int_equal(c->sq_len, 300); /* every reply queued, in one flush */
    dispatch_conn_gone(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rate_limit_comes_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_envelope_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_refuses_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_test_clock_when_enabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_failure_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_at_a_time_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gone_drops_the_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reading_pauses_behind_a_long_queue, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
