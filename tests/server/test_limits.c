/* The per-connection token bucket, the login throttle per (handle, address), addresses and
 * address lists, and the per-address limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bucket.h"
#include "netaddr.h"
#include "peers.h"
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

static mu_netaddr A1, A2;

static mu_netaddr addr(const char *s)
{
    mu_netaddr a;
    assert_int_equal(netaddr_parse(s, strlen(s), &a), 0);
    return a;
}

static int setup(void **st)
{
    A1 = addr("192.0.2.1");
    A2 = addr("198.51.100.7");
    return 0;
}

static void test_throttle_window(void **st)
{
    mu_throttle *t = throttle_new(5, 900000, 100);
    int64_t now = 1000000;
    for (int i = 0; i < 4; i++) {
        throttle_fail(t, "alice", &A1, now + i * (int64_t)1000);
        assert_false(throttle_blocked(t, "alice", &A1, now + i * (int64_t)1000));
    }
    throttle_fail(t, "alice", &A1, now + 4000);
    assert_true(throttle_blocked(t, "alice", &A1, now + 4000));
    assert_false(throttle_blocked(t, "bob", &A1, now + 4000)); /* per handle */
    /* sliding: blocked until the oldest of the five is 15 minutes old */
    assert_true(throttle_blocked(t, "alice", &A1, now + 899999));
    assert_false(throttle_blocked(t, "alice", &A1, now + 900000));
    /* one more failure then puts five inside the window again */
    throttle_fail(t, "alice", &A1, now + 900001);
    assert_true(throttle_blocked(t, "alice", &A1, now + 900001));
    assert_false(throttle_blocked(t, "alice", &A1, now + 901001));
    /* a success clears */
    throttle_clear(t, "alice", &A1);
    assert_false(throttle_blocked(t, "alice", &A1, now + 901001));
    assert_int_equal(throttle_size(t), 0);
    throttle_free(t);
}

static void test_throttle_bounded(void **st)
{
    mu_throttle *t = throttle_new(5, 900000, 50);
    char h[32];
    for (int i = 0; i < 500; i++) {
        snprintf(h, sizeof(h), "user%d", i);
        throttle_fail(t, h, &A1, 1000 + i);
    }
    assert_true(throttle_size(t) <= 50);
    /* a handle under attack right now is still tracked */
    for (int i = 0; i < 5; i++)
        throttle_fail(t, "target", &A1, 2000);
    assert_true(throttle_blocked(t, "target", &A1, 2000));
    throttle_free(t);
}

/* Failures from one address never block the handle from another (nobody can lock another
 * person out); retry_after counts from the oldest failure in the window. */
typedef struct {
    int calls;
    uint64_t key;
    throttle_change what;
    int64_t ms;
} tapped;

static void tap(void *ud, uint64_t key, throttle_change what, int64_t ms)
{
    tapped *t = ud;
    t->calls++;
    t->key = key;
    t->what = what;
    t->ms = ms;
}

/* What another node shares arrives by key: it counts like a local failure, in time order
 * even when it arrives late, and is never told back to the other nodes. */
static void test_throttle_shared(void **st)
{
    (void)st;
    uint64_t k = throttle_key("alice", &A1);
    assert_true(k == throttle_key("alice", &A1));
    assert_true(k != throttle_key("alice", &A2));
    assert_true(k != throttle_key("alicf", &A1));
    assert_true(throttle_key("", &A1) != throttle_key("a", &A1));

    mu_throttle *t = throttle_new(3, 1000, 100);
    tapped seen = {0};
    throttle_set_tap(t, tap, &seen);
    throttle_fail(t, "alice", &A1, 500);
    assert_int_equal(seen.calls, 1);
    assert_true(seen.key == k && seen.what == THROTTLE_FAIL && seen.ms == 500);
    throttle_apply(t, k, THROTTLE_FAIL, 100); /* older, arrived later */
    throttle_apply(t, k, THROTTLE_FAIL, 700);
    assert_int_equal(seen.calls, 1);
    assert_true(throttle_blocked(t, "alice", &A1, 800));
    /* the oldest (100) decides when the window frees a try */
    assert_int_equal(throttle_wait(t, "alice", &A1, 800), 300);
    throttle_apply(t, k, THROTTLE_UNFAIL, 700);
    assert_false(throttle_blocked(t, "alice", &A1, 800));
    throttle_clear(t, "alice", &A1);
    assert_int_equal(seen.calls, 2);
    assert_true(seen.what == THROTTLE_CLEAR);
    assert_int_equal(throttle_size(t), 0);
    throttle_free(t);
}

static void test_throttle_per_address(void **st)
{
    mu_throttle *t = throttle_new(5, 900000, 100);
    for (int i = 0; i < 5; i++)
        throttle_fail(t, "alice", &A1, 1000);
    assert_true(throttle_blocked(t, "alice", &A1, 1000));
    assert_false(throttle_blocked(t, "alice", &A2, 1000));
    assert_int_equal(throttle_wait(t, "alice", &A1, 1000), 900000);
    assert_int_equal(throttle_wait(t, "alice", &A1, 900999), 1);
    assert_int_equal(throttle_wait(t, "alice", &A1, 901000), 0);
    /* an attempt counted in flight and then passed is taken back */
    mu_throttle *u = throttle_new(3, 1000, 100);
    throttle_fail(u, "bo", &A1, 10);
    throttle_fail(u, "bo", &A1, 20);
    throttle_fail(u, "bo", &A1, 30);
    assert_true(throttle_blocked(u, "bo", &A1, 30));
    throttle_unfail(u, "bo", &A1, 20);
    assert_false(throttle_blocked(u, "bo", &A1, 30));
    throttle_fail(u, "bo", &A1, 40);
    assert_int_equal(throttle_wait(u, "bo", &A1, 40), 970); /* oldest left is 10 */
    throttle_unfail(u, "bo", &A1, 10);
    throttle_unfail(u, "bo", &A1, 30);
    throttle_unfail(u, "bo", &A1, 40);
    assert_int_equal(throttle_size(u), 0);
    throttle_free(u);
    throttle_free(t);
}

static void test_netaddr(void **st)
{
    char text[NETADDR_TEXT];
    mu_netaddr a = addr(" 10.1.2.3 ");
    assert_true(netaddr_is_v4(&a));
    netaddr_format(&a, text, sizeof(text));
    assert_string_equal(text, "10.1.2.3");
    mu_netaddr b = addr("2001:db8:1:2:aaaa::1"), c = addr("2001:db8:1:2:bbbb::9");
    assert_false(netaddr_is_v4(&b));
    mu_netaddr kb = netaddr_limit_key(&b), kc = netaddr_limit_key(&c);
    assert_true(netaddr_equal(&kb, &kc)); /* one /64 */
    mu_netaddr bad;
    assert_int_not_equal(netaddr_parse("10.1.2", 6, &bad), 0);
    assert_int_not_equal(netaddr_parse("", 0, &bad), 0);
    assert_int_equal(netaddr_last_forwarded("203.0.113.9, 10.0.0.1,  192.0.2.44", &a), 0);
    netaddr_format(&a, text, sizeof(text));
    assert_string_equal(text, "192.0.2.44");
    assert_int_not_equal(netaddr_last_forwarded("10.0.0.1, nonsense", &a), 0);

    mu_netlist l = {0};
    char err[160];
    assert_int_equal(netlist_parse(&l, "127.0.0.0/8, ::1 10.0.0.0/9", err, sizeof(err)), 0);
    assert_int_equal(l.n, 3);
    mu_netaddr x = addr("127.5.6.7"), y = addr("::1"), z = addr("10.127.0.1"),
               w = addr("10.128.0.1");
    assert_true(netlist_has(&l, &x));
    assert_true(netlist_has(&l, &y));
    assert_true(netlist_has(&l, &z));
    assert_false(netlist_has(&l, &w));
    assert_false(netlist_has(&l, &A1));
    assert_int_not_equal(netlist_parse(&l, "10.0.0.0/33", err, sizeof(err)), 0);
    assert_int_not_equal(netlist_parse(&l, "localhost", err, sizeof(err)), 0);
    assert_int_equal(l.n, 3); /* a failed parse leaves the list as it was */
    assert_int_equal(netlist_parse(&l, "", err, sizeof(err)), 0);
    assert_int_equal(l.n, 0);
    netlist_free(&l);
}

static void test_peers(void **st)
{
    char err[200];
    assert_int_not_equal(
        peers_init(&(peers_config){"nonsense", "", 3, 4, 900000, 2, 1000}, err, sizeof(err)), 0);
    assert_int_equal(peers_init(&(peers_config){"127.0.0.0/8", "10.9.9.9", 3, 4, 900000, 2, 1000},
                                err, sizeof(err)),
                     0);
    /* connections per address; the exempt are not counted against */
    for (int i = 0; i < 3; i++) {
        assert_true(peers_conn_allowed(&A1));
        peers_conn_open(&A1);
    }
    assert_false(peers_conn_allowed(&A1));
    assert_true(peers_conn_allowed(&A2));
    peers_conn_close(&A1);
    assert_true(peers_conn_allowed(&A1));
    mu_netaddr lo = addr("127.0.0.1");
    for (int i = 0; i < 10; i++)
        peers_conn_open(&lo);
    assert_true(peers_conn_allowed(&lo));
    /* an IPv6 /64 counts as one address */
    mu_netaddr v6a = addr("2001:db8::1"), v6b = addr("2001:db8::2");
    for (int i = 0; i < 3; i++)
        peers_conn_open(i % 2 ? &v6a : &v6b);
    assert_false(peers_conn_allowed(&v6b));

    /* the per-address login ceiling; a login in flight counts until it succeeds */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(peers_login_wait(&A1, 1000 + i), 0);
        peers_login_started(&A1, 1000 + i);
    }
    assert_int_equal(peers_login_wait(&A1, 1004), 900000 - 4);
    peers_login_succeeded(&A1, 1002);
    assert_int_equal(peers_login_wait(&A1, 1004), 0);
    assert_int_equal(peers_login_wait(&A2, 1004), 0);
    for (int i = 0; i < 10; i++)
        peers_login_started(&lo, 5);
    assert_int_equal(peers_login_wait(&lo, 5), 0);

    /* registrations per sliding hour; a failed one does not count */
    peers_register_started(&A1, 0);
    peers_register_started(&A1, 10);
    assert_int_equal(peers_register_wait(&A1, 10), 3600000 - 10);
    peers_register_failed(&A1, 10);
    assert_int_equal(peers_register_wait(&A1, 10), 0);
    peers_register_started(&A1, 20);
    assert_int_equal(peers_register_wait(&A1, 3599999), 1);
    assert_int_equal(peers_register_wait(&A1, 3600000), 0);

    /* X-Forwarded-For only from the trusted proxy */
    mu_netaddr proxy = addr("10.9.9.9");
    mu_netaddr src = peers_source(&proxy, "1.2.3.4, 192.0.2.1");
    assert_true(netaddr_equal(&src, &A1));
    src = peers_source(&A2, "192.0.2.1");
    assert_true(netaddr_equal(&src, &A2));
    src = peers_source(&proxy, "garbage");
    assert_true(netaddr_equal(&src, &proxy));
    src = peers_source(&proxy, NULL);
    assert_true(netaddr_equal(&src, &proxy));
    peers_shutdown();
    /* before peers_init (or after shutdown) nothing is limited */
    assert_true(peers_conn_allowed(&A1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bucket),
                                       cmocka_unit_test(test_throttle_window),
                                       cmocka_unit_test(test_throttle_bounded),
                                       cmocka_unit_test(test_throttle_per_address),
                                       cmocka_unit_test(test_throttle_shared),
                                       cmocka_unit_test(test_netaddr),
                                       cmocka_unit_test(test_peers)};
    return cmocka_run_group_tests(tests, setup, NULL);
}
