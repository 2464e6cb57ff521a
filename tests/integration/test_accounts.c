/* Accounts over real WebSockets: register, login, resume, logout, password.set, ping, help,
 * test.clock, and the rules about what may come before sign-in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define PW "correct horse battery"

static mu_req *reg(const char *handle, const char *pw, const char *role)
{
    mu_req *r = mu_req_new("register");
    if (handle)
        mu_req_str(r, "handle", handle);
    if (pw)
        mu_req_str(r, "password", pw);
    if (role)
        mu_req_str(r, "role", role);
    return r;
}

static mu_req *login(const char *handle, const char *pw)
{
    mu_req *r = mu_req_new("login");
    mu_req_str(r, "handle", handle);
    mu_req_str(r, "password", pw);
    return r;
}

static mu_req *resume(const char *token)
{
    mu_req *r = mu_req_new("resume");
    mu_req_str(r, "token", token);
    return r;
}

static void test_register(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);

    mu_msg *m = cl_call(y, c, reg("Sam.R-1", PW, NULL));
    expect_ok(m);
    const mu_value *user = mu_msg_get(m, "user");
    assert_string_equal(mu_value_get_str(user, "handle"), "sam.r-1"); /* folded */
    assert_string_equal(mu_value_get_str(user, "role"), "member");    /* the default */
    assert_int_equal(strlen(mu_value_get_str(mu_msg_root(m), "token")), 43);
    mu_msg_free(m);
    /* already signed in on this connection */
    call_expect(y, c, reg("other", PW, NULL), "conflict");
    call_expect(y, c, login("sam.r-1", PW), "conflict");

    mu_client *d = cl_connect(y, &s);
    /* taken, whatever the case */
    call_expect(y, d, reg("SAM.r-1", PW, NULL), "conflict");
    /* roles: member and family only */
    call_expect(y, d, reg("mentorwannabe", PW, "mentor"), "bad_request");
    call_expect(y, d, reg("adminwannabe", PW, "admin"), "bad_request");
    call_expect(y, d, reg("whoever", PW, "boss"), "bad_request");
    /* passwords 8 to 128 bytes */
    call_expect(y, d, reg("shortpw", "1234567", NULL), "bad_request");
    char longpw[130];
    memset(longpw, 'p', 129);
    longpw[129] = 0;
    call_expect(y, d, reg("longpw", longpw, NULL), "bad_request");
    mu_req *r = mu_req_new("register");
    mu_req_str(r, "handle", "badutf8");
    mu_req_strn(r, "password", "abcdefgh\xff", 9);
    call_expect(y, d, r, "bad_request");
    /* handles */
    call_expect(y, d, reg("ab", PW, NULL), "bad_request");
    call_expect(y, d, reg("has space", PW, NULL), "bad_request");
    call_expect(y, d, reg("\xc3\xa9mile", PW, NULL), "bad_request");
    call_expect(y, d, reg(NULL, PW, NULL), "bad_request");
    r = mu_req_new("register");
    mu_req_int(r, "handle", 12345);
    mu_req_str(r, "password", PW);
    call_expect(y, d, r, "bad_request");
    /* none of the refused ones exists */
    call_expect(y, d, login("shortpw", "1234567"), "unauthenticated");
    /* family is a role of its own */
    m = cl_call(y, d, reg("carer.jo", PW, "family"));
    expect_ok(m);
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "user"), "role"), "family");
    mu_msg_free(m);

    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_registration_closed(void **st)
{
    srv_t s;
    srv_start(&s, "open_registration = false", 0);
    srv_user_add(&s, "admin1", PW, "admin");
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    call_expect(y, c, reg("newcomer", PW, NULL), "forbidden");
    free(cl_login(y, c, "admin1", PW)); /* accounts made by an operator still work */
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_login(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    free(cl_register(y, c, "alex", PW, NULL));
    mu_client *d = cl_connect(y, &s);
    /* a wrong password and an unknown handle look the same */
    mu_msg *a = cl_call(y, d, login("alex", "wrong password"));
    mu_msg *b = cl_call(y, d, login("nobody-here", "wrong password"));
    expect_err(a, "unauthenticated");
    expect_err(b, "unauthenticated");
    assert_string_equal(mu_msg_text(a), mu_msg_text(b));
    mu_msg_free(a);
    mu_msg_free(b);
    /* the handle is folded on login too */
    mu_msg *m = cl_call(y, d, login("ALEX", PW));
    expect_ok(m);
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "user"), "handle"), "alex");
    const char *tok = mu_value_get_str(mu_msg_root(m), "token");
    assert_non_null(tok);
    assert_int_equal(strlen(tok), 43);
    mu_msg_free(m);
    call_expect(y, d, login("alex", PW), "conflict");
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void advance(mu_sync *y, mu_client *admin, int64_t secs)
{
    mu_req *r = mu_req_new("test.clock");
    mu_req_int(r, "advance", secs);
    call_expect(y, admin, r, "ok");
}

static void test_login_throttle(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 1);
    srv_user_add(&s, "root", PW, "admin");
    mu_sync *y = mu_sync_new();
    mu_client *admin = cl_connect(y, &s);
    free(cl_login(y, admin, "root", PW));
    mu_client *c = cl_connect(y, &s);
    char *jamie_token = cl_register(y, c, "jamie", PW, NULL);
    mu_client *d = cl_connect(y, &s);

    for (int i = 0; i < 5; i++)
        call_expect(y, d, login("jamie", "not the password"), "unauthenticated");
    /* five failures: every login for the handle is refused, the right password included */
    call_expect(y, d, login("jamie", PW), "rate_limited");
    call_expect(y, d, login("Jamie", "not the password"), "rate_limited");
    /* resume is not affected */
    mu_client *e = cl_connect(y, &s);
    call_expect(y, e, resume(jamie_token), "ok");
    free(jamie_token);
    /* other handles are not affected */
    mu_client *f = cl_connect(y, &s);
    free(cl_login(y, f, "root", PW));
    /* a sliding window of 15 minutes: after it the right password works, and the
     * rate_limited attempts above did not count as failures */
    advance(y, admin, 890); /* margin: a login counts from when it starts, before its hash */
    call_expect(y, d, login("jamie", PW), "rate_limited");
    advance(y, admin, 11);
    free(cl_login(y, d, "jamie", PW));
    /* a success clears the failures */
    mu_client *g = cl_connect(y, &s);
    for (int i = 0; i < 4; i++)
        call_expect(y, g, login("jamie", "nope nope"), "unauthenticated");
    free(cl_login(y, g, "jamie", PW));
    mu_client *h = cl_connect(y, &s);
    for (int i = 0; i < 4; i++)
        call_expect(y, h, login("jamie", "nope nope"), "unauthenticated");
    free(cl_login(y, h, "jamie", PW));
    /* unknown handles are throttled the same way */
    mu_client *k = cl_connect(y, &s);
    for (int i = 0; i < 5; i++)
        call_expect(y, k, login("ghost", "whatever1"), "unauthenticated");
    call_expect(y, k, login("ghost", "whatever1"), "rate_limited");
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_resume_and_expiry(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 1);
    srv_user_add(&s, "root", PW, "admin");
    mu_sync *y = mu_sync_new();
    mu_client *admin = cl_connect(y, &s);
    free(cl_login(y, admin, "root", PW));
    mu_client *c = cl_connect(y, &s);
    char *tok = cl_register(y, c, "robin", PW, "family");

    mu_client *d = cl_connect(y, &s);
    mu_msg *m = cl_call(y, d, resume(tok));
    expect_ok(m);
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "user"), "handle"), "robin");
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "user"), "role"), "family");
    assert_null(mu_msg_get(m, "token"));
    mu_msg_free(m);
    mu_client *e = cl_connect(y, &s);
    call_expect(y, e, resume("not-a-token"), "unauthenticated");
    call_expect(y, e, resume(""), "bad_request");
    /* tokens last 30 days */
    advance(y, admin, 30 * 86400 - 10);
    mu_client *f = cl_connect(y, &s);
    call_expect(y, f, resume(tok), "ok");
    advance(y, admin, 11);
    mu_client *g = cl_connect(y, &s);
    call_expect(y, g, resume(tok), "unauthenticated");
    /* open connections are not closed by expiry: d is still signed in */
    mu_req *r = mu_req_new("password.set");
    mu_req_str(r, "old", "wrong old password");
    mu_req_str(r, "new", "a new password");
    call_expect(y, d, r, "forbidden");
    free(tok);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_logout(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    char *t1 = cl_register(y, c, "casey", PW, NULL);
    mu_client *d = cl_connect(y, &s);
    char *t2 = cl_login(y, d, "casey", PW);
    call_expect(y, c, mu_req_new("logout"), "ok");
    /* unauthenticated again */
    call_expect(y, c, mu_req_new("logout"), "unauthenticated");
    call_expect(y, c, mu_req_new("ping"), "ok");
    /* the token is revoked; the other session is not */
    mu_client *e = cl_connect(y, &s);
    call_expect(y, e, resume(t1), "unauthenticated");
    call_expect(y, e, resume(t2), "ok");
    /* the connection can sign in again */
    free(cl_login(y, c, "casey", PW));
    free(t1);
    free(t2);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static mu_req *pwset(const char *old, const char *new_)
{
    mu_req *r = mu_req_new("password.set");
    mu_req_str(r, "old", old);
    mu_req_str(r, "new", new_);
    return r;
}

static void test_password_set(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    mu_client *a = cl_connect(y, &s);
    char *ta = cl_register(y, a, "morgan", PW, NULL);
    mu_client *b = cl_connect(y, &s);
    char *tb = cl_login(y, b, "morgan", PW);
    mu_client *b2 = cl_connect(y, &s);
    call_expect(y, b2, resume(tb), "ok");
    mu_client *other = cl_connect(y, &s);
    free(cl_register(y, other, "someone", PW, NULL));

    call_expect(y, a, pwset("not my password", "brand new password"), "forbidden");
    call_expect(y, a, pwset(PW, "short"), "bad_request");
    assert_true(mu_client_is_open(b));
    call_expect(y, a, pwset(PW, "brand new password"), "ok");
    /* every other connection of the user is closed with 1008, others' are not */
    assert_int_equal(mu_sync_wait_closed(y, b, 5000), 1008);
    assert_int_equal(mu_sync_wait_closed(y, b2, 5000), 1008);
    call_expect(y, other, mu_req_new("ping"), "ok");
    assert_true(mu_client_is_open(other));
    /* this connection carries on */
    call_expect(y, a, mu_req_new("ping"), "ok");
    /* other tokens are revoked, this one is not */
    mu_client *c = cl_connect(y, &s);
    call_expect(y, c, resume(tb), "unauthenticated");
    call_expect(y, c, resume(ta), "ok");
    mu_client *d = cl_connect(y, &s);
    call_expect(y, d, login("morgan", PW), "unauthenticated");
    free(cl_login(y, d, "morgan", "brand new password"));
    free(ta);
    free(tb);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_before_sign_in(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    call_expect(y, c, mu_req_new("ping"), "ok");
    call_expect(y, c, mu_req_new("help"), "ok");
    call_expect(y, c, mu_req_new("logout"), "unauthenticated");
    call_expect(y, c, pwset(PW, "another password"), "unauthenticated");
    call_expect(y, c, mu_req_new("rooms.list"), "unauthenticated");
    call_expect(y, c, mu_req_new("me.export"), "unauthenticated");
    /* unauthenticated wins over field checks for ops that need sign-in */
    mu_req *r = mu_req_new("room.say");
    mu_req_int(r, "room", 5);
    call_expect(y, c, r, "unauthenticated");
    call_expect(y, c, mu_req_new("no.such.op"), "unknown_op");
    /* test.clock exists only with --test-clock */
    r = mu_req_new("test.clock");
    mu_req_int(r, "advance", 10);
    call_expect(y, c, r, "unknown_op");
    free(cl_register(y, c, "drew", PW, NULL));
    call_expect(y, c, mu_req_new("no.such.op"), "unknown_op");
    r = mu_req_new("test.clock");
    mu_req_int(r, "advance", 10);
    call_expect(y, c, r, "unknown_op");
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_ping_and_clock(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 1);
    srv_user_add(&s, "root", PW, "admin");
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    mu_msg *m = cl_call(y, c, mu_req_new("ping"));
    expect_ok(m);
    int64_t t0 = mu_value_get_int(mu_msg_root(m), "ts", 0);
    assert_true(t0 >= now - 5000 && t0 <= now + 5000);
    mu_msg_free(m);
    /* the test clock stands still while nobody moves it, however long the machine takes */
    usleep(1100 * 1000);
    m = cl_call(y, c, mu_req_new("ping"));
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "ts", 0), t0);
    mu_msg_free(m);

    free(cl_register(y, c, "member1", PW, NULL));
    mu_req *r = mu_req_new("test.clock");
    mu_req_int(r, "advance", 60);
    call_expect(y, c, r, "forbidden"); /* admins only */

    mu_client *a = cl_connect(y, &s);
    free(cl_login(y, a, "root", PW));
    r = mu_req_new("test.clock");
    mu_req_int(r, "advance", 0);
    call_expect(y, a, r, "bad_request");
    r = mu_req_new("test.clock");
    mu_req_int(r, "advance", 31536001);
    call_expect(y, a, r, "bad_request");
    r = mu_req_new("test.clock");
    mu_req_int(r, "advance", 86400);
    m = cl_call(y, a, r);
    expect_ok(m);
    int64_t t1 = mu_value_get_int(mu_msg_root(m), "ts", 0);
    assert_int_equal(t1, t0 + 86400000);
    mu_msg_free(m);
    /* every reader of the clock moved: ping too */
    m = cl_call(y, c, mu_req_new("ping"));
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "ts", 0), t1);
    mu_msg_free(m);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_help(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    mu_msg *m = cl_call(y, c, mu_req_new("help"));
    expect_ok(m);
    const mu_value *list = mu_msg_get(m, "resources");
    assert_true(mu_value_len(list) >= 4);
    bool samaritans = false, samhsa = false;
    for (size_t i = 0; i < mu_value_len(list); i++) {
        const mu_value *res = mu_value_at(list, i);
        assert_non_null(mu_value_get_str(res, "name"));
        const char *phone = mu_value_get_str(res, "phone");
        samaritans |= phone && !strcmp(phone, "116 123");
        samhsa |= phone && !strcmp(phone, "1-800-662-4357");
    }
    assert_true(samaritans && samhsa);
    mu_msg_free(m);
    /* text is optional, bounded by max_text */
    mu_req *r = mu_req_new("help");
    mu_req_str(r, "text", "I need to talk to someone");
    call_expect(y, c, r, "ok");
    char *big = malloc(4002);
    memset(big, 'x', 4001);
    big[4001] = 0;
    r = mu_req_new("help");
    mu_req_str(r, "text", big);
    call_expect(y, c, r, "too_large");
    free(big);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);

    /* configured resources replace the built-in ones, fields left empty are absent */
    srv_start(&s,
              "help = Harbour Line | 0800 111 222 | https://harbour.example | 8am-10pm | GB\n"
              "help = Drop-in centre | | | Mon-Fri |\n",
              0);
    y = mu_sync_new();
    c = cl_connect(y, &s);
    m = cl_call(y, c, mu_req_new("help"));
    expect_ok(m);
    list = mu_msg_get(m, "resources");
    assert_int_equal(mu_value_len(list), 2);
    assert_string_equal(mu_value_get_str(mu_value_at(list, 0), "name"), "Harbour Line");
    assert_string_equal(mu_value_get_str(mu_value_at(list, 0), "url"), "https://harbour.example");
    assert_string_equal(mu_value_get_str(mu_value_at(list, 1), "hours"), "Mon-Fri");
    assert_null(mu_value_get(mu_value_at(list, 1), "phone"));
    mu_msg_free(m);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register),
        cmocka_unit_test(test_registration_closed),
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_login_throttle),
        cmocka_unit_test(test_resume_and_expiry),
        cmocka_unit_test(test_logout),
        cmocka_unit_test(test_password_set),
        cmocka_unit_test(test_before_sign_in),
        cmocka_unit_test(test_ping_and_clock),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
