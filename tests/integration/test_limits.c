/* Limits per source address and before sign-in, over real WebSockets: login throttling per
 * (handle, address) with retry_after, the per-address ceiling, the registration limit,
 * limit_exempt and trusted_proxy, logins in flight, max_conns_per_addr, preauth_timeout_s and
 * the 4 KiB frame limit before sign-in. Different source addresses come from X-Forwarded-For
 * through a trusted proxy (the test's own 127.0.0.1) or from binding to 127.0.0.x. */
#include <msgpack.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include <cmocka.h>

#include "harness.h"
#include "rawws.h"

#define PW "a good long password"

/* Nothing exempt, and 127.0.0.1 is a proxy whose X-Forwarded-For names the source. */
#define BEHIND_PROXY "limit_exempt =\ntrusted_proxy = 127.0.0.1\npreauth_timeout_s = 600\n"

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} pk_t;

static void pk_init(pk_t *p)
{
    msgpack_sbuffer_init(&p->sb);
    msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
}

static void pk_str(pk_t *p, const char *s)
{
    msgpack_pack_str(&p->pk, strlen(s));
    msgpack_pack_str_body(&p->pk, s, strlen(s));
}

/* A connection whose source is `xff` (through the trusted proxy) or, with xff NULL, the local
 * address `from` (NULL: 127.0.0.1). Returns the upgrade's HTTP status; after a 101 the welcome
 * has been read. */
static int open_as(raw_ws *w, const srv_t *s, const char *from, const char *xff)
{
    char hdr[128] = "";
    if (xff)
        snprintf(hdr, sizeof(hdr), "X-Forwarded-For: 203.0.113.250, %s\r\n", xff);
    int status = raw_connect_from(w, s->port, "/ws", "mutual.v1", from, hdr);
    if (status != 101)
        return status;
    int op;
    char *p;
    size_t n;
    assert_int_equal(raw_recv(w, &op, &p, &n, 5000), 0);
    assert_int_equal(op, 2);
    free(p);
    return status;
}

static void send_req(raw_ws *w, uint64_t rid, const char *op, const char *k1, const char *v1,
                     const char *k2, const char *v2)
{
    pk_t p;
    pk_init(&p);
    msgpack_pack_map(&p.pk, 2 + (k1 ? 1 : 0) + (k2 ? 1 : 0));
    pk_str(&p, "op");
    pk_str(&p, op);
    pk_str(&p, "rid");
    msgpack_pack_uint64(&p.pk, rid);
    if (k1) {
        pk_str(&p, k1);
        pk_str(&p, v1);
    }
    if (k2) {
        pk_str(&p, k2);
        pk_str(&p, v2);
    }
    assert_int_equal(raw_send(w, 2, p.sb.data, p.sb.size, true), 0);
    msgpack_sbuffer_destroy(&p.sb);
}

/* The next reply (events are skipped); NULL at a close or timeout. */
static mu_msg *next_reply(raw_ws *w)
{
    for (;;) {
        int op;
        char *p;
        size_t n;
        if (raw_recv(w, &op, &p, &n, 20000) != 0)
            return NULL;
        if (op == 8) {
            free(p);
            return NULL;
        }
        mu_msg *m = op == 2 ? mu_msg_decode(p, n) : NULL;
        free(p);
        if (m && strcmp(mu_msg_op(m), "reply") == 0)
            return m;
        mu_msg_free(m);
    }
}

/* One request; returns the reply's code ("ok" on success) in code (and retry_after or -1). */
static void call(raw_ws *w, const char *op, const char *k1, const char *v1, const char *k2,
                 const char *v2, const char *want, int64_t *retry_after)
{
    static uint64_t rid = 1;
    send_req(w, rid++, op, k1, v1, k2, v2);
    mu_msg *m = next_reply(w);
    assert_non_null(m);
    if (strcmp(want, "ok") == 0)
        expect_ok(m);
    else
        expect_err(m, want);
    if (retry_after) {
        int64_t v = -1;
        const mu_value *ra = mu_msg_get(m, "retry_after");
        if (!ra || !mu_value_int(ra, &v))
            v = -1;
        *retry_after = v;
    }
    mu_msg_free(m);
}

static void login(raw_ws *w, const char *handle, const char *pw, const char *want,
                  int64_t *retry_after)
{
    call(w, "login", "handle", handle, "password", pw, want, retry_after);
}

static void advance(mu_sync *y, mu_client *admin, int64_t secs)
{
    mu_req *r = mu_req_new("test.clock");
    mu_req_int(r, "advance", secs);
    call_expect(y, admin, r, "ok");
}

/* ---- login throttling ------------------------------------------------------------------ */

static void test_login_per_address(void **st)
{
    srv_t s;
    srv_start(&s, BEHIND_PROXY, 1);
    srv_user_add(&s, "root", PW, "admin");
    srv_user_add(&s, "jamie", PW, "member");
    mu_sync *y = mu_sync_new();
    mu_client *admin = cl_connect(y, &s);
    free(cl_login(y, admin, "root", PW));

    raw_ws attacker, owner;
    assert_int_equal(open_as(&attacker, &s, NULL, "198.51.100.66"), 101);
    assert_int_equal(open_as(&owner, &s, NULL, "192.0.2.10"), 101);
    int64_t ra;
    for (int i = 0; i < 5; i++)
        login(&attacker, "jamie", "wrong wrong", "unauthenticated", NULL);
    /* the attacker's address is throttled for jamie, the right password included ... */
    login(&attacker, "jamie", PW, "rate_limited", &ra);
    assert_true(ra >= 880 && ra <= 900); /* from the first failure, some hashing ago */
    /* ... but jamie, from home, is not locked out */
    login(&owner, "jamie", PW, "ok", NULL);
    /* the X-Forwarded-For of a peer that is not the trusted proxy is ignored: 127.0.0.2 is
     * its own address, whatever it claims */
    raw_ws liar;
    assert_int_equal(open_as(&liar, &s, "127.0.0.2", NULL), 101);
    raw_close(&liar);
    {
        char hdr[] = "X-Forwarded-For: 198.51.100.66\r\n";
        assert_int_equal(raw_connect_from(&liar, s.port, "/ws", "mutual.v1", "127.0.0.2", hdr),
                         101);
        int op;
        char *p;
        size_t n;
        assert_int_equal(raw_recv(&liar, &op, &p, &n, 5000), 0);
        free(p);
        login(&liar, "jamie", PW, "ok", NULL);
        raw_close(&liar);
    }
    /* retry_after counts down with the sliding window */
    advance(y, admin, 600);
    login(&attacker, "jamie", PW, "rate_limited", &ra);
    assert_true(ra >= 280 && ra <= 300);
    advance(y, admin, 301);
    login(&attacker, "jamie", PW, "ok", NULL);
    raw_close(&attacker);
    raw_close(&owner);

    /* the per-address ceiling: 30 failures from one address, whatever the handles */
    raw_ws spray;
    assert_int_equal(open_as(&spray, &s, NULL, "198.51.100.77"), 101);
    char h[32];
    for (int i = 0; i < 30; i++) {
        snprintf(h, sizeof(h), "nobody%d", i);
        login(&spray, h, "wrong wrong", "unauthenticated", NULL);
    }
    login(&spray, "jamie", PW, "rate_limited", &ra);
    /* the window runs from the oldest of the 30, a few seconds of hashing ago */
    assert_true(ra >= 870 && ra <= 900);
    raw_close(&spray);
    raw_ws other;
    assert_int_equal(open_as(&other, &s, NULL, "198.51.100.78"), 101);
    login(&other, "nobody1", "wrong wrong", "unauthenticated", NULL);
    raw_close(&other);

    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

/* Loopback is exempt by default from the per-address ceiling, never from the per-handle
 * throttle; and 300 logins at once get their passwords checked no more than 5 times. */
static void test_parallel_guesses(void **st)
{
    srv_t s;
    srv_start(&s, "max_conns_per_addr = 400\n", 0);
    srv_user_add(&s, "jamie", PW, "member");
    enum { N = 300 };
    raw_ws *w = calloc(N, sizeof(*w));
    for (int i = 0; i < N; i++)
        assert_int_equal(open_as(&w[i], &s, NULL, NULL), 101);
    for (int i = 0; i < N; i++)
        send_req(&w[i], 1, "login", "handle", "jamie", "password", "wrong guess");
    int unauth = 0, limited = 0;
    for (int i = 0; i < N; i++) {
        mu_msg *m = next_reply(&w[i]);
        assert_non_null(m);
        const char *code = mu_value_str(mu_msg_get(m, "code"));
        assert_non_null(code);
        if (strcmp(code, "unauthenticated") == 0)
            unauth++;
        else if (strcmp(code, "rate_limited") == 0)
            limited++;
        mu_msg_free(m);
        raw_close(&w[i]);
    }
    free(w);
    assert_int_equal(unauth, 5);
    assert_int_equal(limited, N - 5);
    srv_stop(&s);
    srv_cleanup(&s);
}

/* A wrong password in password.set and me.delete is a failed login, and while throttled
 * those ops are rate_limited too. */
static void test_password_ops_throttled(void **st)
{
    srv_t s;
    srv_start(&s, BEHIND_PROXY, 0);
    srv_user_add(&s, "jamie", PW, "member");
    raw_ws a, b;
    assert_int_equal(open_as(&a, &s, NULL, "198.51.100.5"), 101);
    login(&a, "jamie", PW, "ok", NULL);
    for (int i = 0; i < 3; i++)
        call(&a, "password.set", "old", "not it at all", "new", "another long one", "forbidden",
             NULL);
    for (int i = 0; i < 2; i++)
        call(&a, "me.delete", "password", "not it either", NULL, NULL, "forbidden", NULL);
    int64_t ra;
    call(&a, "me.delete", "password", PW, NULL, NULL, "rate_limited", &ra);
    assert_true(ra > 0);
    call(&a, "password.set", "old", PW, "new", "another long one", "rate_limited", NULL);
    assert_int_equal(open_as(&b, &s, NULL, "198.51.100.5"), 101);
    login(&b, "jamie", PW, "rate_limited", NULL);
    raw_close(&b);
    /* from elsewhere the owner still can */
    assert_int_equal(open_as(&b, &s, NULL, "192.0.2.99"), 101);
    login(&b, "jamie", PW, "ok", NULL);
    call(&b, "password.set", "old", PW, "new", "another long one", "ok", NULL);
    raw_close(&b);
    raw_close(&a);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_register_per_address(void **st)
{
    srv_t s;
    srv_start(&s, BEHIND_PROXY "register_per_addr_hour = 3\n", 1);
    srv_user_add(&s, "root", PW, "admin");
    mu_sync *y = mu_sync_new();
    mu_client *admin = cl_connect(y, &s);
    free(cl_login(y, admin, "root", PW));
    char h[32];
    int64_t ra = 0;
    for (int i = 0; i < 4; i++) {
        raw_ws w;
        assert_int_equal(open_as(&w, &s, NULL, "198.51.100.9"), 101);
        snprintf(h, sizeof(h), "newbie%d", i);
        call(&w, "register", "handle", h, "password", PW, i < 3 ? "ok" : "rate_limited",
             i < 3 ? NULL : &ra);
        raw_close(&w);
    }
    assert_true(ra >= 3500 && ra <= 3600); /* from the first of them, some hashing ago */
    /* a taken handle is no account: it does not count (from a fresh address) */
    raw_ws w;
    assert_int_equal(open_as(&w, &s, NULL, "198.51.100.10"), 101);
    call(&w, "register", "handle", "newbie0", "password", PW, "conflict", NULL);
    call(&w, "register", "handle", "fresh1", "password", PW, "ok", NULL);
    raw_close(&w);
    /* another address is not affected; after the hour the first may again */
    assert_int_equal(open_as(&w, &s, NULL, "198.51.100.11"), 101);
    call(&w, "register", "handle", "fresh2", "password", PW, "ok", NULL);
    raw_close(&w);
    advance(y, admin, 3601);
    assert_int_equal(open_as(&w, &s, NULL, "198.51.100.9"), 101);
    call(&w, "register", "handle", "newbie9", "password", PW, "ok", NULL);
    raw_close(&w);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

/* ---- before sign-in ---------------------------------------------------------------------- */

static void test_conns_per_address(void **st)
{
    srv_t s;
    srv_start(&s, "limit_exempt = 127.0.0.1\nmax_conns_per_addr = 4\n", 0);
    raw_ws w[6];
    for (int i = 0; i < 4; i++)
        assert_int_equal(open_as(&w[i], &s, "127.0.0.3", NULL), 101);
    assert_int_equal(raw_connect_from(&w[4], s.port, "/ws", "mutual.v1", "127.0.0.3", NULL), 429);
    raw_close(&w[4]);
    /* another address, and an exempt one, are not affected */
    assert_int_equal(open_as(&w[4], &s, "127.0.0.4", NULL), 101);
    raw_ws ex[6];
    for (int i = 0; i < 6; i++)
        assert_int_equal(open_as(&ex[i], &s, "127.0.0.1", NULL), 101);
    for (int i = 0; i < 6; i++)
        raw_close(&ex[i]);
    /* a closed connection frees its place */
    raw_close(&w[0]);
    int status = 0;
    for (int tries = 0; tries < 50 && status != 101; tries++) {
        usleep(20000);
        status = open_as(&w[0], &s, "127.0.0.3", NULL);
        if (status != 101)
            raw_close(&w[0]);
    }
    assert_int_equal(status, 101);
    for (int i = 0; i < 5; i++)
        raw_close(&w[i]);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_preauth_timeout(void **st)
{
    srv_t s;
    srv_start(&s, "preauth_timeout_s = 2\n", 0);
    srv_user_add(&s, "jamie", PW, "member");
    raw_ws idle, busy, in;
    assert_int_equal(open_as(&in, &s, NULL, NULL), 101);
    login(&in, "jamie", PW, "ok", NULL);
    assert_int_equal(open_as(&idle, &s, NULL, NULL), 101);
    assert_int_equal(open_as(&busy, &s, NULL, NULL), 101);
    double t0 = mono_ms();
    /* pings do not keep an unauthenticated connection open */
    for (int i = 0; i < 2; i++) {
        call(&busy, "ping", NULL, NULL, NULL, NULL, "ok", NULL);
        usleep(200000);
    }
    assert_int_equal(raw_wait_close(&idle, 8000), 1008);
    double waited = mono_ms() - t0;
    assert_true(waited > 1000 && waited < 5000);
    assert_int_equal(raw_wait_close(&busy, 5000), 1008);
    /* a signed-in connection stays */
    usleep(300000);
    call(&in, "ping", NULL, NULL, NULL, NULL, "ok", NULL);
    raw_close(&idle);
    raw_close(&busy);
    raw_close(&in);
    srv_stop(&s);
    srv_cleanup(&s);
}

/* A message whose fragments never finish is cut off after fragment_timeout_s. */
static void test_fragment_timeout(void **st)
{
    srv_t s;
    srv_start(&s, "fragment_timeout_s = 1\n", 0);
    raw_ws w;
    assert_int_equal(open_as(&w, &s, NULL, NULL), 101);
    char part[100];
    memset(part, 'f', sizeof(part));
    assert_int_equal(raw_send(&w, 2, part, sizeof(part), false), 0);
    double t0 = mono_ms();
    assert_int_equal(raw_wait_close(&w, 8000), 1008);
    double waited = mono_ms() - t0;
    assert_true(waited > 900 && waited < 5000);
    raw_close(&w);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_preauth_frame_limit(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    srv_user_add(&s, "jamie", PW, "member");
    char pad[5000];
    memset(pad, 'x', sizeof(pad));
    pad[sizeof(pad) - 1] = 0;
    /* 4,096 bytes pass before sign-in (one ping padded to exactly that size) ... */
    raw_ws w;
    assert_int_equal(open_as(&w, &s, NULL, NULL), 101);
    pk_t p;
    pk_init(&p);
    msgpack_pack_map(&p.pk, 3);
    pk_str(&p, "op");
    pk_str(&p, "ping");
    pk_str(&p, "rid");
    msgpack_pack_uint64(&p.pk, 7);
    pk_str(&p, "pad");
    size_t fill = 4096 - p.sb.size - 3; /* str16 header */
    msgpack_pack_str(&p.pk, fill);
    msgpack_pack_str_body(&p.pk, pad, fill);
    assert_int_equal(p.sb.size, 4096);
    assert_int_equal(raw_send(&w, 2, p.sb.data, p.sb.size, true), 0);
    mu_msg *m = next_reply(&w);
    assert_non_null(m);
    expect_ok(m);
    mu_msg_free(m);
    /* ... 4,097 do not: 1009 */
    pk_t q;
    pk_init(&q);
    msgpack_pack_map(&q.pk, 3);
    pk_str(&q, "op");
    pk_str(&q, "ping");
    pk_str(&q, "rid");
    msgpack_pack_uint64(&q.pk, 8);
    pk_str(&q, "pad");
    msgpack_pack_str(&q.pk, fill + 1);
    msgpack_pack_str_body(&q.pk, pad, fill + 1);
    assert_int_equal(raw_send(&w, 2, q.sb.data, q.sb.size, true), 0);
    assert_int_equal(raw_wait_close(&w, 5000), 1009);
    raw_close(&w);
    /* in fragments too */
    assert_int_equal(open_as(&w, &s, NULL, NULL), 101);
    assert_int_equal(raw_send(&w, 2, q.sb.data, 3000, false), 0);
    assert_int_equal(raw_send(&w, 0, q.sb.data + 3000, q.sb.size - 3000, true), 0);
    assert_int_equal(raw_wait_close(&w, 5000), 1009);
    raw_close(&w);
    /* after sign-in max_frame applies */
    assert_int_equal(open_as(&w, &s, NULL, NULL), 101);
    login(&w, "jamie", PW, "ok", NULL);
    assert_int_equal(raw_send(&w, 2, q.sb.data, q.sb.size, true), 0);
    m = next_reply(&w);
    assert_non_null(m);
    expect_ok(m);
    mu_msg_free(m);
    raw_close(&w);
    msgpack_sbuffer_destroy(&p.sb);
    msgpack_sbuffer_destroy(&q.sb);
    srv_stop(&s);
    srv_cleanup(&s);
}

/* ---- bounded pushes and big replies --------------------------------------------------------- */

static void dm_send(world *w, mu_client *from, const char *to, const char *text)
{
    mu_req *r = mu_req_new("dm.send");
    mu_req_str(r, "to", to);
    mu_req_str(r, "text", text);
    call_expect(w->y, from, r, "ok");
}

/* Copies the first message to `n` more unread ones, straight into the database (the server
 * reads them on the next sign-in). */
static void add_unread(const srv_t *s, int n)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "INSERT INTO dms (lo_id, hi_id, from_id, to_id, ts, text) "
             "SELECT lo_id, hi_id, from_id, to_id, ts, text FROM dms, "
             "(WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %d) "
             "SELECT i FROM k) AS copies WHERE dms.id = (SELECT min(id) FROM dms) ORDER BY i",
             n);
    srv_sql_exec(s, sql);
}

/* A user with 5,000 unread messages of 4,000 bytes signs in: the login reply comes first, then
 * every message in order, and the connection is not closed (with a 64 KiB send queue, the
 * backlog is 300 times the bound). */
static void test_dm_backlog(void **st)
{
    world w;
    world_up(&w, "send_queue = 65536\n", 0, "mentor1", "memb");
    char text[4001];
    memset(text, 'm', 4000);
    text[4000] = 0;
    dm_send(&w, w.mentor, "memb", text);
    enum { N = 5000 };
    add_unread(&w.s, N - 1);
    raw_ws r;
    assert_int_equal(open_as(&r, &w.s, NULL, NULL), 101);
    send_req(&r, 1, "login", "handle", "memb", "password", WORLD_PW);
    int op;
    char *p;
    size_t n;
    assert_int_equal(raw_recv(&r, &op, &p, &n, 20000), 0);
    assert_int_equal(op, 2);
    mu_msg *m = mu_msg_decode(p, n);
    free(p);
    assert_non_null(m);
    assert_string_equal(mu_msg_op(m), "reply"); /* the reply, with its token, goes first */
    expect_ok(m);
    mu_msg_free(m);
    int64_t last = 0;
    int got = 0;
    while (got < N) {
        assert_int_equal(raw_recv(&r, &op, &p, &n, 20000), 0);
        assert_int_not_equal(op, 8); /* never closed */
        m = mu_msg_decode(p, n);
        free(p);
        assert_non_null(m);
        if (strcmp(mu_msg_op(m), "dm.msg") == 0) {
            int64_t id = 0;
            assert_true(mu_value_int(mu_msg_get(m, "id"), &id));
            assert_true(id > last); /* in order, each once */
            assert_int_equal(strlen(mu_value_str(mu_msg_get(m, "text"))), 4000);
            last = id;
            got++;
        }
        mu_msg_free(m);
    }
    /* a message sent now comes after the backlog, once */
    dm_send(&w, w.mentor, "memb", "and one more");
    for (;;) {
        assert_int_equal(raw_recv(&r, &op, &p, &n, 20000), 0);
        m = mu_msg_decode(p, n);
        free(p);
        assert_non_null(m);
        bool dm = strcmp(mu_msg_op(m), "dm.msg") == 0;
        if (dm) {
            int64_t id = 0;
            assert_true(mu_value_int(mu_msg_get(m, "id"), &id));
            assert_true(id > last);
            assert_string_equal(mu_value_str(mu_msg_get(m, "text")), "and one more");
        }
        mu_msg_free(m);
        if (dm)
            break;
    }
    call(&r, "ping", NULL, NULL, NULL, NULL, "ok", NULL);
    raw_close(&r);
    world_down(&w);
}

/* Two pipelined replies that each pass send_queue alone both arrive whole, in order, and the
 * connection stays open. */
static void test_pipelined_big_replies(void **st)
{
    world w;
    world_up(&w, "send_queue = 65536\n", 0, "mentor1", "memb");
    char text[4001];
    memset(text, 'e', 4000);
    text[4000] = 0;
    for (int i = 0; i < 40; i++) /* about 160 KB in each export */
        dm_send(&w, w.mem, "mentor1", text);
    raw_ws r;
    assert_int_equal(open_as(&r, &w.s, NULL, NULL), 101);
    call(&r, "login", "handle", "memb", "password", WORLD_PW, "ok", NULL);
    send_req(&r, 100, "me.export", NULL, NULL, NULL, NULL);
    send_req(&r, 101, "me.export", NULL, NULL, NULL, NULL);
    usleep(500000); /* read nothing while both are answered */
    for (int want = 100; want <= 101; want++) {
        mu_msg *m = next_reply(&r);
        assert_non_null(m); /* not closed */
        expect_ok(m);
        int64_t rid = 0;
        assert_true(mu_value_int(mu_msg_get(m, "rid"), &rid));
        assert_int_equal(rid, want);
        mu_msg_free(m);
    }
    call(&r, "ping", NULL, NULL, NULL, NULL, "ok", NULL);
    raw_close(&r);
    world_down(&w);
}

/* Exports run one at a time per person: a second one asked for on another connection while
 * the first is being prepared gets conflict; one asked for after it has come is served. */
static void test_one_export_per_person(void **st)
{
    world w;
    world_up(&w, NULL, 0, "mentor1", "memb");
    char text[4001];
    memset(text, 'e', 4000);
    text[4000] = 0;
    for (int i = 0; i < 200; i++) /* about 800 KB in each export: it takes a while */
        dm_send(&w, w.mem, "mentor1", text);
    raw_ws a, b;
    assert_int_equal(open_as(&a, &w.s, NULL, NULL), 101);
    assert_int_equal(open_as(&b, &w.s, NULL, NULL), 101);
    call(&a, "login", "handle", "memb", "password", WORLD_PW, "ok", NULL);
    call(&b, "login", "handle", "memb", "password", WORLD_PW, "ok", NULL);
    int conflicts = 0;
    for (int round = 0; round < 10 && !conflicts; round++) {
        send_req(&a, 200, "me.export", NULL, NULL, NULL, NULL);
        send_req(&b, 201, "me.export", NULL, NULL, NULL, NULL);
        mu_msg *got[2] = {next_reply(&a), next_reply(&b)};
        int served = 0;
        for (int i = 0; i < 2; i++) {
            assert_non_null(got[i]);
            if (mu_msg_ok(got[i])) {
                assert_non_null(mu_msg_get(got[i], "dms"));
                served++;
            } else {
                expect_err(got[i], "conflict");
                conflicts++;
            }
            mu_msg_free(got[i]);
        }
        assert_true(served >= 1); /* whichever the server read first is served */
    }
    assert_true(conflicts > 0);
    /* Once the first has come, the next is served. */
    send_req(&b, 202, "me.export", NULL, NULL, NULL, NULL);
    mu_msg *m = next_reply(&b);
    expect_ok(m);
    mu_msg_free(m);
    raw_close(&a);
    raw_close(&b);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_per_address),      cmocka_unit_test(test_parallel_guesses),
        cmocka_unit_test(test_password_ops_throttled), cmocka_unit_test(test_register_per_address),
        cmocka_unit_test(test_conns_per_address),      cmocka_unit_test(test_preauth_timeout),
        cmocka_unit_test(test_preauth_frame_limit),    cmocka_unit_test(test_dm_backlog),
        cmocka_unit_test(test_pipelined_big_replies),  cmocka_unit_test(test_fragment_timeout),
        cmocka_unit_test(test_one_export_per_person),
    };
    if (getenv("MUTUAL_TEST_FILTER")) /* one test by name, when debugging */
        cmocka_set_test_filter(getenv("MUTUAL_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
