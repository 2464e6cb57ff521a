/* The transport and envelope rules of the protocol, over real sockets. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "harness.h"
#include "rawws.h"

/* ---- helpers ---------------------------------------------------------------------------- */

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

static void raw_open(raw_ws *w, const srv_t *s)
{
    assert_int_equal(raw_connect(w, s->port, "/ws", "mutual.v1"), 101);
    /* the welcome comes first */
    int op;
    char *p;
    size_t n;
    assert_int_equal(raw_recv(w, &op, &p, &n, 5000), 0);
    assert_int_equal(op, 2);
    mu_msg *m = mu_msg_decode(p, n);
    assert_non_null(m);
    assert_string_equal(mu_msg_op(m), "welcome");
    mu_msg_free(m);
    free(p);
}

/* The next data frame, decoded. */
static mu_msg *raw_reply(raw_ws *w)
{
    for (;;) {
        int op;
        char *p;
        size_t n;
        if (raw_recv(w, &op, &p, &n, 10000) != 0)
            return NULL;
        if (op == 2) {
            mu_msg *m = mu_msg_decode(p, n);
            free(p);
            return m;
        }
        free(p);
        if (op == 8)
            return NULL;
    }
}

static void send_ping(raw_ws *w, uint64_t rid)
{
    pk_t p;
    pk_init(&p);
    msgpack_pack_map(&p.pk, 2);
    pk_str(&p, "op");
    pk_str(&p, "ping");
    pk_str(&p, "rid");
    msgpack_pack_uint64(&p.pk, rid);
    assert_int_equal(raw_send(w, 2, p.sb.data, p.sb.size, true), 0);
    msgpack_sbuffer_destroy(&p.sb);
}

/* Sends bytes and checks for bad_request with (or without) the rid. */
static void expect_malformed(raw_ws *w, int opcode, const void *bytes, size_t n, int64_t rid)
{
    assert_int_equal(raw_send(w, opcode, bytes, n, true), 0);
    mu_msg *m = raw_reply(w);
    assert_non_null(m);
    expect_err(m, "bad_request");
    int64_t got;
    if (rid < 0)
        assert_null(mu_msg_get(m, "rid"));
    else {
        assert_true(mu_value_int(mu_msg_get(m, "rid"), &got));
        assert_int_equal(got, rid);
    }
    mu_msg_free(m);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_welcome(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    const mu_msg *w = mu_client_welcome(c);
    assert_string_equal(mu_msg_op(w), "welcome");
    assert_int_equal(mu_value_get_int(mu_msg_root(w), "proto", 0), 1);
    const char *server = mu_value_get_str(mu_msg_root(w), "server");
    assert_non_null(server);
    assert_true(strncmp(server, "mutual/", 7) == 0);
    const mu_value *lim = mu_msg_get(w, "limits");
    assert_int_equal(mu_value_get_int(lim, "max_frame", 0), 65536);
    assert_int_equal(mu_value_get_int(lim, "max_text", 0), 4000);
    assert_int_equal(mu_value_get_int(lim, "max_note", 0), 2000);
    assert_int_equal(mu_value_get_int(lim, "send_queue", 0), 1048576);
    /* the harness raises the rate limit; the welcome reports what is in force */
    assert_int_equal(mu_value_get_int(lim, "rate_per_s", 0), 100000);
    assert_int_equal(mu_value_get_int(lim, "burst", 0), 100000);
    assert_int_equal(mu_value_len(lim), 6);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

/* A wait on a quiet connection ends when its time is up, not at the next event: the client's
 * ping timer is 30 s away, and a wait of 0 or 1 ms used to sleep until it. */
static void test_short_wait_returns(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    mu_sync_run(y, 20); /* nothing more will arrive */
    double t0 = mono_ms();
    for (int i = 0; i < 40; i++)
        mu_sync_run(y, i % 2);
    assert_true(mono_ms() - t0 < 10000);
    assert_true(mu_client_is_open(c));
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_subprotocol_and_path(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    raw_ws w;
    /* no subprotocol, another subprotocol, another path: no WebSocket */
    assert_int_not_equal(raw_connect(&w, s.port, "/ws", NULL), 101);
    raw_close(&w);
    assert_int_not_equal(raw_connect(&w, s.port, "/ws", "chat.v2"), 101);
    raw_close(&w);
    assert_int_not_equal(raw_connect(&w, s.port, "/other", "mutual.v1"), 101);
    raw_close(&w);
    /* the client library sees the refusal as a failed connection */
    mu_sync *y = mu_sync_new();
    char err[256];
    mu_client_opts o = {.url = s.url, .subprotocol = ""};
    assert_null(mu_sync_connect(y, &o, 5000, err, sizeof(err)));
    /* and the right one works */
    assert_int_equal(raw_connect(&w, s.port, "/ws", "mutual.v1"), 101);
    raw_close(&w);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_malformed_frames(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    raw_ws w;
    pk_t p;
    /* text frame */
    raw_open(&w, &s);
    expect_malformed(&w, 1, "{\"op\":\"ping\",\"rid\":1}", 21, -1);
    /* not MessagePack */
    expect_malformed(&w, 2, "\xc1\xc1", 2, -1);
    /* an array */
    expect_malformed(&w, 2, "\x91\x01", 2, -1);
    /* bytes after the map: the rid is known */
    pk_init(&p);
    msgpack_pack_map(&p.pk, 2);
    pk_str(&p, "op");
    pk_str(&p, "ping");
    pk_str(&p, "rid");
    msgpack_pack_uint64(&p.pk, 77);
    msgpack_pack_int(&p.pk, 1);
    expect_malformed(&w, 2, p.sb.data, p.sb.size, 77);
    msgpack_sbuffer_destroy(&p.sb);
    raw_close(&w);

    raw_open(&w, &s);
    /* no op, with a rid */
    pk_init(&p);
    msgpack_pack_map(&p.pk, 1);
    pk_str(&p, "rid");
    msgpack_pack_uint64(&p.pk, 5);
    expect_malformed(&w, 2, p.sb.data, p.sb.size, 5);
    msgpack_sbuffer_destroy(&p.sb);
    /* op not a string */
    pk_init(&p);
    msgpack_pack_map(&p.pk, 2);
    pk_str(&p, "op");
    msgpack_pack_true(&p.pk);
    pk_str(&p, "rid");
    msgpack_pack_uint64(&p.pk, 6);
    expect_malformed(&w, 2, p.sb.data, p.sb.size, 6);
    msgpack_sbuffer_destroy(&p.sb);
    /* negative rid: no rid */
    pk_init(&p);
    msgpack_pack_map(&p.pk, 2);
    pk_str(&p, "op");
    pk_str(&p, "ping");
    pk_str(&p, "rid");
    msgpack_pack_int64(&p.pk, -3);
    expect_malformed(&w, 2, p.sb.data, p.sb.size, -1);
    msgpack_sbuffer_destroy(&p.sb);
    /* fractional rid: no rid */
    pk_init(&p);
    msgpack_pack_map(&p.pk, 2);
    pk_str(&p, "op");
    pk_str(&p, "ping");
    pk_str(&p, "rid");
    msgpack_pack_double(&p.pk, 2.5);
    expect_malformed(&w, 2, p.sb.data, p.sb.size, -1);
    msgpack_sbuffer_destroy(&p.sb);
    raw_close(&w);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_fifth_malformed_closes(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    raw_ws w;
    raw_open(&w, &s);
    for (int i = 0; i < 4; i++)
        expect_malformed(&w, 2, "\xc1", 1, -1);
    /* well-formed requests with bad fields are not malformed and count toward nothing */
    for (int i = 0; i < 10; i++) {
        pk_t p;
        pk_init(&p);
        msgpack_pack_map(&p.pk, 3);
        pk_str(&p, "op");
        pk_str(&p, "login");
        pk_str(&p, "rid");
        msgpack_pack_uint64(&p.pk, 100 + (uint64_t)i);
        pk_str(&p, "handle");
        msgpack_pack_int(&p.pk, 3);
        assert_int_equal(raw_send(&w, 2, p.sb.data, p.sb.size, true), 0);
        msgpack_sbuffer_destroy(&p.sb);
        mu_msg *m = raw_reply(&w);
        expect_err(m, "bad_request");
        mu_msg_free(m);
    }
    send_ping(&w, 1);
    mu_msg *m = raw_reply(&w);
    expect_ok(m);
    mu_msg_free(m);
    /* the fifth gets its reply, then the connection is closed with 1008 */
    expect_malformed(&w, 2, "\xc1", 1, -1);
    assert_int_equal(raw_wait_close(&w, 5000), 1008);
    raw_close(&w);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_max_frame_and_fragments(void **st)
{
    srv_t s;
    srv_start(&s, "max_frame = 4096", 0);
    raw_ws w;
    raw_open(&w, &s);
    /* a request in three fragments is one message */
    pk_t p;
    pk_init(&p);
    msgpack_pack_map(&p.pk, 2);
    pk_str(&p, "op");
    pk_str(&p, "ping");
    pk_str(&p, "rid");
    msgpack_pack_uint64(&p.pk, 9);
    size_t n = p.sb.size, a = n / 3, b = 2 * n / 3;
    assert_int_equal(raw_send(&w, 2, p.sb.data, a, false), 0);
    assert_int_equal(raw_send(&w, 0, p.sb.data + a, b - a, false), 0);
    assert_int_equal(raw_send(&w, 0, p.sb.data + b, n - b, true), 0);
    msgpack_sbuffer_destroy(&p.sb);
    mu_msg *m = raw_reply(&w);
    expect_ok(m);
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "rid", 0), 9);
    mu_msg_free(m);
    /* a message that spans many reads of the server's receive buffer */
    char text[3000];
    memset(text, 'h', sizeof(text));
    pk_init(&p);
    msgpack_pack_map(&p.pk, 3);
    pk_str(&p, "op");
    pk_str(&p, "help");
    pk_str(&p, "rid");
    msgpack_pack_uint64(&p.pk, 10);
    pk_str(&p, "text");
    msgpack_pack_str(&p.pk, sizeof(text));
    msgpack_pack_str_body(&p.pk, text, sizeof(text));
    assert_int_equal(raw_send(&w, 2, p.sb.data, p.sb.size, true), 0);
    msgpack_sbuffer_destroy(&p.sb);
    m = raw_reply(&w);
    expect_ok(m);
    mu_msg_free(m);
    /* over max_frame, even across fragments: closed with 1009 */
    char big[3000];
    memset(big, 0, sizeof(big));
    assert_int_equal(raw_send(&w, 2, big, sizeof(big), false), 0);
    assert_int_equal(raw_send(&w, 0, big, sizeof(big), true), 0);
    assert_int_equal(raw_wait_close(&w, 5000), 1009);
    raw_close(&w);
    /* and in one frame */
    raw_open(&w, &s);
    char huge[5000];
    memset(huge, 0, sizeof(huge));
    assert_int_equal(raw_send(&w, 2, huge, sizeof(huge), true), 0);
    assert_int_equal(raw_wait_close(&w, 5000), 1009);
    raw_close(&w);
    srv_stop(&s);
    srv_cleanup(&s);
}

typedef struct {
    int n;
    uint64_t rids[64];
    char codes[64][24];
} collected;

static void collect(mu_client *c, const mu_msg *reply, void *ud)
{
    collected *k = ud;
    assert_non_null(reply);
    k->rids[k->n] = (uint64_t)mu_value_get_int(mu_msg_root(reply), "rid", 0);
    snprintf(k->codes[k->n], sizeof(k->codes[0]), "%s",
             mu_msg_ok(reply) ? "ok" : mu_msg_code(reply));
    k->n++;
}

static void test_rate_limit(void **st)
{
    srv_t s;
    srv_start(&s, "rate_per_s = 1\nburst = 5", 0);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    collected k = {0};
    for (int i = 0; i < 10; i++)
        assert_true(mu_client_send(c, mu_req_new("ping"), collect, &k) > 0);
    /* a malformed frame takes a token too, and past the bucket gets rate_limited itself */
    assert_int_equal(mu_client_send_raw(c, "\xc1", 1, true), 0);
    while (k.n < 10)
        mu_sync_run(y, 20);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(k.rids[i], i + 1); /* replies in request order */
        assert_string_equal(k.codes[i], i < 5 ? "ok" : "rate_limited");
    }
    mu_msg *ev = mu_sync_event(y, c, 5000);
    assert_non_null(ev);
    expect_err(ev, "rate_limited");
    mu_msg_free(ev);
    /* the bucket refills at rate_per_s */
    mu_sync_run(y, 1100);
    call_expect(y, c, mu_req_new("ping"), "ok");
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_reply_order(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    collected k = {0};
    /* a register waits for a password hash and a commit; the ping behind it must wait too */
    mu_req *r = mu_req_new("register");
    mu_req_str(r, "handle", "orderly");
    mu_req_str(r, "password", "long enough password");
    mu_client_send(c, r, collect, &k);
    mu_client_send(c, mu_req_new("ping"), collect, &k);
    r = mu_req_new("register");
    mu_req_str(r, "handle", "orderly");
    mu_req_str(r, "password", "long enough password");
    mu_client_send(c, r, collect, &k);
    mu_client_send(c, mu_req_new("logout"), collect, &k);
    mu_client_send(c, mu_req_new("logout"), collect, &k);
    while (k.n < 5)
        mu_sync_run(y, 20);
    for (int i = 0; i < 5; i++)
        assert_int_equal(k.rids[i], i + 1);
    assert_string_equal(k.codes[0], "ok");
    assert_string_equal(k.codes[1], "ok");
    assert_string_equal(k.codes[2], "conflict"); /* signed in by the first */
    assert_string_equal(k.codes[3], "ok");
    assert_string_equal(k.codes[4], "unauthenticated");
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_http(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    call_expect(y, c, mu_req_new("ping"), "ok");
    call_expect(y, c, mu_req_new("logout"), "unauthenticated");
    char *body;
    assert_int_equal(http_get(s.port, "/healthz", &body), 200);
    assert_string_equal(body, "ok");
    free(body);
    assert_int_equal(http_get(s.port, "/metrics", &body), 200);
    const char *names[] = {"mutual_connections 1",
                           "mutual_frames_in_total",
                           "mutual_frames_out_total",
                           "mutual_replies_total{code=\"ok\"}",
                           "mutual_replies_total{code=\"unauthenticated\"} 1",
                           "mutual_writer_batch_jobs_bucket",
                           "mutual_writer_commit_seconds_sum",
                           "mutual_process_resident_memory_bytes"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strstr(body, names[i]))
            fail_msg("/metrics lacks %s", names[i]);
    free(body);
    assert_int_equal(http_get(s.port, "/nothing-here", &body), 404);
    free(body);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

/* A slow consumer (here: a signed-in member who stops reading while messages keep coming) is
 * closed with 1013: nothing more is queued to it, everyone else carries on, and when it reads
 * again within close_grace_s it gets what was queued and then the close frame (not 1006). */
static void test_slow_consumer(void **st)
{
    world w;
    world_up(&w, "send_queue = 65536\nclose_grace_s = 30", 0, "mentor1", "memb");
    raw_ws r;
    raw_open(&r, &w.s);
    pk_t p;
    pk_init(&p);
    msgpack_pack_map(&p.pk, 4);
    pk_str(&p, "op");
    pk_str(&p, "login");
    pk_str(&p, "rid");
    msgpack_pack_uint64(&p.pk, 1);
    pk_str(&p, "handle");
    pk_str(&p, "memb");
    pk_str(&p, "password");
    pk_str(&p, WORLD_PW);
    assert_int_equal(raw_send(&r, 2, p.sb.data, p.sb.size, true), 0);
    msgpack_sbuffer_destroy(&p.sb);
    mu_msg *m = raw_reply(&r);
    assert_non_null(m);
    expect_ok(m);
    mu_msg_free(m);
    /* The mentor writes on and on; the raw connection reads nothing. */
    char text[4001];
    memset(text, 'q', 4000);
    text[4000] = 0;
    bool cut = false;
    int sent = 0;
    double t0 = mono_ms();
    while (!cut && mono_ms() - t0 < 60000) {
        mu_req *q = mu_req_new("dm.send");
        mu_req_str(q, "to", "memb");
        mu_req_str(q, "text", text);
        call_expect(w.y, w.mentor, q, "ok");
        if (++sent % 20 == 0) {
            char *body;
            http_get(w.s.port, "/metrics", &body);
            cut = strstr(body, "mutual_slow_consumers_total 1") != NULL;
            free(body);
        }
    }
    assert_true(cut);
    /* everyone else carries on, the member's other connection included */
    call_expect(w.y, w.admin, mu_req_new("ping"), "ok");
    call_expect(w.y, w.mem, mu_req_new("ping"), "ok");
    /* reading again: the queued messages, in order, then the close frame says why */
    sleep(2);
    int got = 0, code = -1;
    for (;;) {
        int op;
        char *b;
        size_t n;
        if (raw_recv(&r, &op, &b, &n, 20000) != 0)
            break;
        if (op == 8)
            code = n >= 2 ? ((unsigned char)b[0] << 8) | (unsigned char)b[1] : 1005;
        else if (op == 2)
            got++;
        free(b);
        if (op == 8)
            break;
    }
    if (code != 1013)
        fprintf(stderr, "got %d messages of %d, close %d; server log %s\n", got, sent, code,
                w.s.log);
    assert_int_equal(code, 1013);
    assert_true(got > 10 && got < sent);
    raw_close(&r);
    call_expect(w.y, w.admin, mu_req_new("ping"), "ok");
    world_down(&w);
}

static void test_shutdown_1001(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    raw_ws w;
    raw_open(&w, &s);
    send_ping(&w, 3);
    mu_msg *m = raw_reply(&w);
    expect_ok(m);
    mu_msg_free(m);
    kill(s.pid, SIGTERM);
    assert_int_equal(raw_wait_close(&w, 10000), 1001);
    raw_close(&w);
    int status;
    assert_int_equal(waitpid(s.pid, &status, 0), s.pid);
    s.pid = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    srv_cleanup(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_welcome),
        cmocka_unit_test(test_short_wait_returns),
        cmocka_unit_test(test_subprotocol_and_path),
        cmocka_unit_test(test_malformed_frames),
        cmocka_unit_test(test_fifth_malformed_closes),
        cmocka_unit_test(test_max_frame_and_fragments),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_reply_order),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_slow_consumer),
        cmocka_unit_test(test_shutdown_1001),
    };
    if (getenv("MUTUAL_TEST_FILTER")) /* one test by name, when debugging */
        cmocka_set_test_filter(getenv("MUTUAL_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
