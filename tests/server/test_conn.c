/* The connection without a socket: its states, the index by user, the send queue and its
 * bound, the close frame, and what it asks of its transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conn.h"
#include "fakes.h"
#include "metrics.h"

#define BOUND 4096

static int setup(void **st)
{
    conn_init(&(conn_limits){.send_queue = BOUND, .mono_us = fake_mono_us});
    fake_reset();
    return 0;
}

static uint64_t idle_total_us; /* the loop's waiting time, as the idle test tells it */

static uint64_t fake_idle_us(void)
{
    return idle_total_us;
}

static int setup_idle(void **st)
{
    conn_init(
        &(conn_limits){.send_queue = BOUND, .mono_us = fake_mono_us, .idle_us = fake_idle_us});
    fake_reset();
    idle_total_us = 0;
    return 0;
}

static int teardown(void **st)
{
    conn_flush_pending();
    conn_shutdown();
    fake_cleanup();
    return 0;
}

/* A room.msg event carrying `n` bytes of text. */
static mu_frame *frame_of(size_t n)
{
    static char buf[70000];
    memset(buf, 'x', n);
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_map(&e, 2);
    mu_enc_kstr(&e, "op", "room.msg");
    mu_enc_kstrn(&e, "text", buf, n);
    return frame_from_enc(&e);
}

static void send_n(mu_conn *c, size_t n)
{
    mu_frame *f = frame_of(n);
    conn_send(c, f);
    frame_unref(f);
}

static void count(mu_conn *c, void *ud)
{
    (void)c;
    (*(unsigned *)ud)++;
}

static void test_states_and_index(void **st)
{
    size_t before = conn_count();
    mu_conn *a = fake_conn(), *b = fake_user(7, "riley", ROLE_MEMBER);
    mu_conn *b2 = fake_user(7, "riley", ROLE_MEMBER);
    assert_int_equal(conn_count(), before + 3);
    assert_int_equal(a->state, CONN_UNAUTHENTICATED);
    assert_int_equal(b->state, CONN_AUTHENTICATED);
    assert_string_equal(b->handle, "riley");

    unsigned seen = 0;
    conn_foreach_user(7, count, &seen);
    assert_int_equal(seen, 2);

    /* Sign-out takes the connection out of the index and forgets who it was. */
    conn_deauthenticate(b2);
    assert_int_equal(b2->state, CONN_UNAUTHENTICATED);
    assert_int_equal(b2->user_id, 0);
    assert_string_equal(b2->handle, "");
    seen = 0;
    conn_foreach_user(7, count, &seen);
    assert_int_equal(seen, 1);

    /* Gone: out of every index, not alive, sends nothing. */
    conn_ref(b);
    conn_gone(b);
    assert_false(conn_alive(b));
    assert_int_equal(b->state, CONN_CLOSING);
    seen = 0;
    conn_foreach_user(7, count, &seen);
    assert_int_equal(seen, 0);
    send_n(b, 10);
    assert_int_equal(b->sq_len, 0);
    conn_unref(b); /* the last reference frees it (the sanitizer build checks) */

    conn_gone(a);
    conn_gone(b2);
    assert_int_equal(conn_count(), before);
}

static void test_queue_and_flush(void **st)
{
    mu_conn *a = fake_conn(), *b = fake_conn();
    send_n(a, 10);
    send_n(a, 20);
    send_n(b, 30);
    assert_true(conn_flush_wanted());
    /* Once per connection, however many frames it has. */
    conn_flush_pending();
    assert_int_equal(fake.flushes, 2);
    assert_false(conn_flush_wanted());
    assert_string_equal(fake_take(a), "room.msg room.msg");
    assert_int_equal(a->sq_len, 0);
    assert_int_equal(a->sq_bytes, 0);
    /* A connection that went before the flush is not flushed. */
    send_n(b, 5);
    conn_gone(b);
    conn_flush_pending();
    assert_int_equal(fake.flushes, 2);
    conn_gone(a);
}

/* Under load, sends are held back a little so that each carries more; light load never waits. */
static void test_flush_coalescing(void **st)
{
    enum { MANY = 100, FEW = 10 };
    mu_conn *c[MANY];
    for (int i = 0; i < MANY; i++)
        c[i] = fake_conn();
    /* Cheap passes to many connections (the clock does not move): nothing is held. */
    for (int i = 0; i < MANY; i++)
        send_n(c[i], 10);
    conn_flush_pending();
    send_n(c[0], 10);
    assert_int_equal(conn_flush_held_us(), 0);
    conn_flush_pending();
    /* Costly passes to a few connections: nothing is held either. */
    fake.flush_us = 100;
    for (int i = 0; i < FEW; i++)
        send_n(c[i], 10);
    conn_flush_pending();
    send_n(c[0], 10);
    assert_int_equal(conn_flush_held_us(), 0);
    assert_true(conn_flush_wanted());
    conn_flush_pending();
    /* A costly pass to many (100 x 10 us): the next output waits twice as long. */
    fake.flush_us = 10;
    for (int i = 0; i < MANY; i++)
        send_n(c[i], 10);
    conn_flush_pending();
    send_n(c[1], 10);
    assert_int_equal(conn_flush_held_us(), 2000);
    assert_false(conn_flush_wanted());
    unsigned before = fake.flushes;
    conn_flush_pending();
    assert_int_equal(fake.flushes, before); /* held: not sent */
    /* Once the hold has passed, it goes. */
    fake_advance_us(1999);
    assert_false(conn_flush_wanted());
    fake_advance_us(1);
    assert_true(conn_flush_wanted());
    fake.flush_us = 0;
    conn_flush_pending();
    assert_int_equal(fake.flushes, before + 1);
    /* However costly a pass, the wait is at most 20 ms. */
    fake.flush_us = 1000;
    for (int i = 0; i < MANY; i++)
        send_n(c[i], 10);
    conn_flush_pending();
    send_n(c[3], 10);
    assert_int_equal(conn_flush_held_us(), 20000);
    fake_advance_us(20000);
    fake.flush_us = 0;
    conn_flush_pending();
    /* Shutdown lets held output go at once. */
    fake.flush_us = 10;
    for (int i = 0; i < MANY; i++)
        send_n(c[i], 10);
    conn_flush_pending();
    send_n(c[2], 10);
    assert_false(conn_flush_wanted());
    conn_flush_release();
    assert_true(conn_flush_wanted());
    fake.flush_us = 0;
    before = fake.flushes;
    conn_flush_pending();
    assert_int_equal(fake.flushes, before + 1);
    /* ... and holds none after, however costly a pass is: nothing may wait past the end. */
    fake.flush_us = 10;
    for (int i = 0; i < MANY; i++)
        send_n(c[i], 10);
    conn_flush_pending();
    assert_int_equal(conn_flush_held_us(), 0);
    send_n(c[2], 10);
    assert_true(conn_flush_wanted());
    for (int i = 0; i < MANY; i++)
        conn_gone(c[i]);
}

/* A loop that still has time to spare never holds output back, however costly a pass: the
 * hold only adds latency then. Once it is saturated (idle under a quarter of the time since
 * the previous pass), a costly pass holds the next as before. */
static void test_no_hold_with_time_to_spare(void **st)
{
    enum { MANY = 100 };
    mu_conn *c[MANY];
    for (int i = 0; i < MANY; i++)
        c[i] = fake_conn();
    fake.flush_us = 10; /* each pass: 100 x 10 us, costly */
    for (int round = 0; round < 3; round++) {
        fake_advance_us(4000);
        idle_total_us += 3000; /* waited for events for most of the time since the last */
        for (int i = 0; i < MANY; i++)
            send_n(c[i], 10);
        conn_flush_pending();
        send_n(c[0], 10);
        assert_int_equal(conn_flush_held_us(), 0);
        assert_true(conn_flush_wanted());
    }
    /* Saturated: idle 500 us of the 4,000 + 1,000 since the previous pass began. */
    fake_advance_us(4000);
    idle_total_us += 500;
    for (int i = 0; i < MANY; i++)
        send_n(c[i], 10);
    conn_flush_pending();
    send_n(c[1], 10);
    assert_int_equal(conn_flush_held_us(), 2000);
    fake_advance_us(2000);
    fake.flush_us = 0;
    conn_flush_pending();
    for (int i = 0; i < MANY; i++)
        conn_gone(c[i]);
}

static void test_take_output_in_pieces(void **st)
{
    mu_conn *c = fake_conn();
    send_n(c, 100);
    send_n(c, 100);
    size_t total = c->sq_bytes;
    unsigned char buf[1024];
    size_t got = conn_take_output(c, buf, 50);
    assert_int_equal(got, 50);
    assert_int_equal(c->sq_len, 2); /* the head frame is started, not gone */
    assert_int_equal(c->head_off, 50);
    got += conn_take_output(c, buf + 50, sizeof(buf) - 50);
    assert_int_equal(got, total);
    assert_int_equal(c->sq_len, 0);
    assert_int_equal(c->head_off, 0);
    /* The pieces are the frames, in order. */
    assert_int_equal(buf[0], 0x82);
    conn_gone(c);
}

static void test_send_queue_bound(void **st)
{
    uint64_t slow = g_metrics.slow_consumers;
    mu_conn *c = fake_conn();
    send_n(c, 1000);
    send_n(c, 1000);
    send_n(c, 1000);
    assert_int_equal(c->sq_len, 3);
    /* Start writing the head frame, then pass the bound. */
    unsigned char buf[16];
    conn_take_output(c, buf, sizeof(buf));
    send_n(c, 2000);
    /* Cut off: the new frame is dropped, what was queued stays and the close frame follows it
     * (PROTOCOL.md: the queued bytes go out, then the close frame). */
    assert_int_equal(c->close_code, CLOSE_TRY_LATER);
    assert_int_equal(c->sq_len, 4);
    assert_int_equal(fake.close_soons, 1);
    assert_int_equal(g_metrics.slow_consumers, slow + 1);
    /* Nothing more is queued to it. */
    send_n(c, 1);
    assert_int_equal(c->sq_len, 4);
    size_t rest = c->sq_bytes - c->head_off;
    unsigned char out[8192];
    assert_int_equal(conn_take_output(c, out, sizeof(out)), rest);
    assert_int_equal(out[rest - 4], 0x88); /* the close frame comes last */
    assert_int_equal(out[rest - 2] << 8 | out[rest - 1], 1013);
    conn_gone(c);
}

static int drained_calls;
static void on_drained(mu_conn *c)
{
    drained_calls++;
}

/* Replies are not cut off by the bound; the request layer waits for room instead, and hears
 * when the queue has drained to half. */
static void test_replies_and_room(void **st)
{
    mu_conn *c = fake_conn();
    drained_calls = 0;
    conn_set_drain_hook(on_drained);
    send_n(c, 1000);
    mu_enc e;
    frame_enc_init(&e);
    char big[BOUND * 2];
    memset(big, 'r', sizeof(big));
    mu_enc_strn(&e, big, sizeof(big));
    mu_frame *f = frame_from_enc(&e);
    mu_enc_free(&e);
    conn_send_reply(c, f);
    conn_send_reply(c, f);
    frame_unref(f);
    assert_int_equal(c->close_code, 0);
    assert_int_equal(c->sq_len, 3);
    assert_false(conn_has_room(c));
    unsigned char out[BOUND * 6];
    conn_take_output(c, out, sizeof(out));
    assert_true(conn_has_room(c));
    conn_flush_pending();
    assert_int_equal(drained_calls, 1);
    conn_set_drain_hook(NULL);
    conn_gone(c);
}

static void test_a_message_past_the_bound_alone_still_goes(void **st)
{
    /* The bound is on what waits: one message larger than it, to an empty queue, is sent. */
    mu_conn *c = fake_conn();
    send_n(c, BOUND + 100);
    assert_int_equal(c->sq_len, 1);
    assert_int_equal(c->close_code, 0);
    conn_gone(c);
}

static void test_close(void **st)
{
    mu_conn *c = fake_user(3, "sam", ROLE_MENTOR);
    send_n(c, 10);
    conn_close(c, CLOSE_POLICY);
    conn_close(c, CLOSE_GOING_AWAY); /* the first close stands */
    assert_int_equal(c->close_code, CLOSE_POLICY);
    assert_int_equal(c->state, CONN_CLOSING);
    assert_int_equal(fake.close_soons, 1);
    unsigned seen = 0;
    conn_foreach_user(3, count, &seen);
    assert_int_equal(seen, 0);
    send_n(c, 10); /* after the close frame nothing is queued */
    assert_string_equal(fake_take(c), "room.msg close:1008");
    conn_gone(c);
}

static void test_pause_reading_once_per_change(void **st)
{
    mu_conn *c = fake_conn();
    conn_pause_reading(c, true);
    conn_pause_reading(c, true);
    conn_pause_reading(c, false);
    conn_pause_reading(c, false);
    assert_int_equal(fake.pauses, 1);
    assert_int_equal(fake.resumes, 1);
    conn_ref(c);
    conn_gone(c);
    conn_pause_reading(c, true); /* a gone socket is not asked anything */
    assert_int_equal(fake.pauses, 1);
    conn_unref(c);
}

/* Held events wait behind a reply and then go in order; they count against the bound, and a
 * connection that closes meanwhile sends none of them. */
static void test_hold_and_release(void **st)
{
    mu_conn *c = fake_user(9, "sam", ROLE_MEMBER);
    conn_hold(c);
    send_n(c, 100);
    send_n(c, 200);
    assert_int_equal(c->sq_len, 0); /* held */
    mu_frame *reply = frame_of(50);
    conn_send_reply(c, reply);
    assert_int_equal(c->sq_len, 1); /* a reply goes at once */
    conn_hold(c);                   /* nested: released by the last */
    conn_release(c);
    assert_int_equal(c->sq_len, 1);
    conn_release(c);
    assert_int_equal(c->sq_len, 3);
    assert_ptr_equal(c->sq[c->sq_head], reply);
    assert_true(c->sq[(c->sq_head + 1) % c->sq_cap]->len <
                c->sq[(c->sq_head + 2) % c->sq_cap]->len);
    frame_unref(reply);
    conn_flush_pending();

    /* the bound counts what is held */
    mu_conn *d = fake_user(10, "kit", ROLE_MEMBER);
    conn_hold(d);
    send_n(d, BOUND / 2);
    assert_int_equal(d->close_code, 0);
    send_n(d, BOUND / 2);
    assert_int_equal(d->close_code, CLOSE_TRY_LATER);
    size_t queued = d->sq_len; /* the close frame */
    conn_release(d);
    assert_int_equal(d->sq_len, queued); /* nothing held follows a close */
    conn_gone(c);
    conn_gone(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_states_and_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_and_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_coalescing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_hold_with_time_to_spare, setup_idle, teardown),
        cmocka_unit_test_setup_teardown(test_take_output_in_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_queue_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_message_past_the_bound_alone_still_goes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replies_and_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pause_reading_once_per_change, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
