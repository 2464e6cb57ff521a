/* The per-connection token bucket and the per-handle login throttle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "bucket.h"
#include "throttle.h"

static void test_bucket(void **st)
{
    mu_bucket b;
    bucket_init(&b, 20, 40, 1000);
    for (int i = 0; i < 40; i++)
        assert_true(bucket_take(&b, 1000));
    assert_false(bucket_take(&b, 1000)); /* the burst is spent */
    assert_false(bucket_take(&b, 1049)); /* 49 ms refills 0.98 of a token */
    assert_true(bucket_take(&b, 1050));  /* 50 ms at 20/s is one token */
    assert_false(bucket_take(&b, 1050));
    /* a long pause refills up to the burst, never beyond */
    int n = 0;
    while (bucket_take(&b, 100000))
        n++;
    assert_int_equal(n, 40);
    /* a clock that goes backwards takes nothing away */
    assert_false(bucket_take(&b, 50));
}

static void test_throttle_window(void **st)
{
    mu_throttle *t = throttle_new(5, 900000, 100);
    int64_t now = 1000000;
    for (int i = 0; i < 4; i++) {
        throttle_fail(t, "alice", now + i * 1000);
        assert_false(throttle_blocked(t, "alice", now + i * 1000));
    }
    throttle_fail(t, "alice", now + 4000);
    assert_true(throttle_blocked(t, "alice", now + 4000));
    assert_false(throttle_blocked(t, "bob", now + 4000)); /* per handle */
    /* sliding: blocked until the oldest of the five is 15 minutes old */
    assert_true(throttle_blocked(t, "alice", now + 899999));
    assert_false(throttle_blocked(t, "alice", now + 900000));
    /* one more failure then puts five inside the window again */
    throttle_fail(t, "alice", now + 900001);
    assert_true(throttle_blocked(t, "alice", now + 900001));
    assert_false(throttle_blocked(t, "alice", now + 901001));
    /* a success clears */
    throttle_clear(t, "alice");
    assert_false(throttle_blocked(t, "alice", now + 901001));
    assert_int_equal(throttle_size(t), 0);
    throttle_free(t);
}

static void test_throttle_bounded(void **st)
{
    mu_throttle *t = throttle_new(5, 900000, 50);
    char h[32];
    for (int i = 0; i < 500; i++) {
        snprintf(h, sizeof(h), "user%d", i);
        throttle_fail(t, h, 1000 + i);
    }
    assert_true(throttle_size(t) <= 50);
    /* a handle under attack right now is still tracked */
    for (int i = 0; i < 5; i++)
        throttle_fail(t, "target", 2000);
    assert_true(throttle_blocked(t, "target", 2000));
    throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bucket),
                                       cmocka_unit_test(test_throttle_window),
                                       cmocka_unit_test(test_throttle_bounded)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
