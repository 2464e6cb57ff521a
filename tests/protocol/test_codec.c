/* The codec: frames in, validated requests out, and replies and events encoded back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

static const mu_limits lim = {4000, 2000};

/* Packs a request from a printf-like recipe: keys and values alternate. */
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
static void pk_strn(pk_t *p, const char *s, size_t n)
{
    msgpack_pack_str(&p->pk, n);
    msgpack_pack_str_body(&p->pk, s, n);
}

/* {op, rid:7, <key>: <string value>}, plus `extra` pairs packed by the caller after. */
static void pk_req(pk_t *p, const char *op, unsigned extra)
{
    pk_init(p);
    msgpack_pack_map(&p->pk, 2 + extra);
    pk_str(p, "op");
    pk_str(p, op);
    pk_str(p, "rid");
    msgpack_pack_uint64(&p->pk, 7);
}

static mu_code run(pk_t *p, mu_request *r, mu_error *e)
{
    mu_request_init(r);
    mu_parse_result pr = mu_request_parse(r, p->sb.data, p->sb.size, e);
    if (pr != MU_PARSE_OK)
        return pr == MU_PARSE_UNKNOWN ? MU_E_UNKNOWN_OP : MU_E_BAD_REQUEST;
    return mu_request_validate(r, &lim, e);
}

static void expect_code(pk_t *p, mu_code want, const char *msg_part)
{
    mu_request r;
    mu_error e = {0};
    mu_code got = run(p, &r, &e);
    if (got != want)
        fail_msg("want %s, got %s (%s)", mu_code_name(want), mu_code_name(got), e.msg);
    if (msg_part && !strstr(e.msg, msg_part))
        fail_msg("message '%s' lacks '%s'", e.msg, msg_part);
    mu_request_free(&r);
    msgpack_sbuffer_destroy(&p->sb);
}

static void test_parse_ok_register(void **st)
{
    pk_t p;
    pk_req(&p, "register", 3);
    pk_str(&p, "handle");
    pk_str(&p, "Alice.R-2");
    pk_str(&p, "password");
    pk_str(&p, "correct horse");
    pk_str(&p, "unknown_key");
    msgpack_pack_array(&p.pk, 0);
    mu_request r;
    mu_error e;
    assert_int_equal(run(&p, &r, &e), MU_OK);
    assert_int_equal(mu_op_index(r.op), MU_OP_REGISTER);
    assert_true(r.has_rid);
    assert_int_equal(r.rid, 7);
    assert_string_equal(mu_req_field(&r, "handle")->v.h, "alice.r-2"); /* folded */
    const mu_val *pw = mu_req_field(&r, "password");
    assert_true(pw->present);
    assert_int_equal(pw->v.s.n, 13);
    assert_memory_equal(pw->v.s.p, "correct horse", 13);
    assert_false(mu_req_has(&r, "role"));
    mu_request_free(&r);
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_malformed(void **st)
{
    mu_request r;
    mu_error e;
    /* not MessagePack at all */
    mu_request_init(&r);
    assert_int_equal(mu_request_parse(&r, "\xc1", 1, &e), MU_PARSE_MALFORMED);
    assert_false(r.has_rid);
    mu_request_free(&r);
    /* an array */
    pk_t p;
    pk_init(&p);
    msgpack_pack_array(&p.pk, 1);
    msgpack_pack_int(&p.pk, 1);
    assert_int_equal(mu_request_parse(&r, p.sb.data, p.sb.size, &e), MU_PARSE_MALFORMED);
    msgpack_sbuffer_destroy(&p.sb);
    /* trailing bytes: malformed, but the rid is known */
    pk_req(&p, "ping", 0);
    msgpack_pack_nil(&p.pk);
    assert_int_equal(mu_request_parse(&r, p.sb.data, p.sb.size, &e), MU_PARSE_MALFORMED);
    assert_true(r.has_rid);
    assert_int_equal(r.rid, 7);
    assert_non_null(strstr(e.msg, "after"));
    msgpack_sbuffer_destroy(&p.sb);
    /* no op, a non-string op */
    pk_init(&p);
    msgpack_pack_map(&p.pk, 1);
    pk_str(&p, "rid");
    msgpack_pack_uint64(&p.pk, 3);
    assert_int_equal(mu_request_parse(&r, p.sb.data, p.sb.size, &e), MU_PARSE_MALFORMED);
    assert_true(r.has_rid);
    msgpack_sbuffer_destroy(&p.sb);
    pk_init(&p);
    msgpack_pack_map(&p.pk, 2);
    pk_str(&p, "op");
    msgpack_pack_int(&p.pk, 5);
    pk_str(&p, "rid");
    msgpack_pack_uint64(&p.pk, 3);
    assert_int_equal(mu_request_parse(&r, p.sb.data, p.sb.size, &e), MU_PARSE_MALFORMED);
    msgpack_sbuffer_destroy(&p.sb);
    /* rid negative, fractional, missing: no rid */
    for (int k = 0; k < 3; k++) {
        pk_init(&p);
        msgpack_pack_map(&p.pk, k == 2 ? 1 : 2);
        pk_str(&p, "op");
        pk_str(&p, "ping");
        if (k == 0) {
            pk_str(&p, "rid");
            msgpack_pack_int(&p.pk, -1);
        } else if (k == 1) {
            pk_str(&p, "rid");
            msgpack_pack_double(&p.pk, 1.5);
        }
        assert_int_equal(mu_request_parse(&r, p.sb.data, p.sb.size, &e), MU_PARSE_MALFORMED);
        assert_false(r.has_rid);
        msgpack_sbuffer_destroy(&p.sb);
    }
    /* unknown op: well formed */
    pk_req(&p, "no.such.op", 0);
    assert_int_equal(mu_request_parse(&r, p.sb.data, p.sb.size, &e), MU_PARSE_UNKNOWN);
    assert_true(r.has_rid);
    msgpack_sbuffer_destroy(&p.sb);
    /* an event name is not a request */
    pk_req(&p, "welcome", 0);
    assert_int_equal(mu_request_parse(&r, p.sb.data, p.sb.size, &e), MU_PARSE_UNKNOWN);
    msgpack_sbuffer_destroy(&p.sb);
    mu_request_free(&r);
}

static void test_field_errors(void **st)
{
    pk_t p;
    /* required field missing; nil counts as absent */
    pk_req(&p, "login", 1);
    pk_str(&p, "handle");
    pk_str(&p, "alice");
    expect_code(&p, MU_E_BAD_REQUEST, "password is required");
    pk_req(&p, "login", 2);
    pk_str(&p, "handle");
    pk_str(&p, "alice");
    pk_str(&p, "password");
    msgpack_pack_nil(&p.pk);
    expect_code(&p, MU_E_BAD_REQUEST, "password is required");
    /* wrong type */
    pk_req(&p, "resume", 1);
    pk_str(&p, "token");
    msgpack_pack_int(&p.pk, 5);
    expect_code(&p, MU_E_BAD_REQUEST, "token must be a string");
    /* string length bounds: password 8..128 */
    pk_req(&p, "register", 2);
    pk_str(&p, "handle");
    pk_str(&p, "alice");
    pk_str(&p, "password");
    pk_str(&p, "1234567");
    expect_code(&p, MU_E_BAD_REQUEST, "at least 8");
    char big[200];
    memset(big, 'x', sizeof(big));
    pk_req(&p, "register", 2);
    pk_str(&p, "handle");
    pk_str(&p, "alice");
    pk_str(&p, "password");
    pk_strn(&p, big, 129);
    expect_code(&p, MU_E_BAD_REQUEST, "128");
    pk_req(&p, "register", 2);
    pk_str(&p, "handle");
    pk_str(&p, "alice");
    pk_str(&p, "password");
    pk_strn(&p, big, 128);
    expect_code(&p, MU_OK, NULL);
    /* handles: too short, too long, bad characters, non-ASCII */
    const char *bad_handles[] = {"ab", "abcdefghijklmnopqrstuvwxyz0123456", "al ice", "al@ice",
                                 "\xc3\xa5lice"};
    for (size_t i = 0; i < sizeof(bad_handles) / sizeof(bad_handles[0]); i++) {
        pk_req(&p, "login", 2);
        pk_str(&p, "handle");
        pk_str(&p, bad_handles[i]);
        pk_str(&p, "password");
        pk_str(&p, "whatever1");
        expect_code(&p, MU_E_BAD_REQUEST, "handle must be 3 to 32");
    }
    /* enum */
    pk_req(&p, "register", 3);
    pk_str(&p, "handle");
    pk_str(&p, "alice");
    pk_str(&p, "password");
    pk_str(&p, "long enough");
    pk_str(&p, "role");
    pk_str(&p, "mentor");
    expect_code(&p, MU_E_BAD_REQUEST, "role must be one of member, family");
    /* invalid UTF-8 */
    pk_req(&p, "resume", 1);
    pk_str(&p, "token");
    pk_strn(&p, "ab\xff", 3);
    expect_code(&p, MU_E_BAD_REQUEST, "UTF-8");
    /* U+0000 is valid UTF-8 but never text anyone typed (and PostgreSQL refuses it) */
    pk_req(&p, "resume", 1);
    pk_str(&p, "token");
    pk_strn(&p, "ab\0cd", 5);
    expect_code(&p, MU_E_BAD_REQUEST, "U+0000");
    /* integer range and type */
    pk_req(&p, "test.clock", 1);
    pk_str(&p, "advance");
    msgpack_pack_uint64(&p.pk, 0);
    expect_code(&p, MU_E_BAD_REQUEST, "from 1 to 31536000");
    pk_req(&p, "test.clock", 1);
    pk_str(&p, "advance");
    msgpack_pack_uint64(&p.pk, 31536001);
    expect_code(&p, MU_E_BAD_REQUEST, "advance");
    pk_req(&p, "test.clock", 1);
    pk_str(&p, "advance");
    msgpack_pack_int64(&p.pk, -5);
    expect_code(&p, MU_E_BAD_REQUEST, "advance");
    pk_req(&p, "test.clock", 1);
    pk_str(&p, "advance");
    msgpack_pack_double(&p.pk, 2.0);
    expect_code(&p, MU_E_BAD_REQUEST, "integer");
    /* integers of any width are accepted */
    pk_req(&p, "test.clock", 1);
    pk_str(&p, "advance");
    msgpack_pack_uint8(&p.pk, 60);
    expect_code(&p, MU_OK, NULL);
    pk_req(&p, "test.clock", 1);
    pk_str(&p, "advance");
    msgpack_pack_int64(&p.pk, 60);
    expect_code(&p, MU_OK, NULL);
    /* bool */
    pk_req(&p, "room.lock", 2);
    pk_str(&p, "room");
    pk_str(&p, "smart-1");
    pk_str(&p, "locked");
    msgpack_pack_int(&p.pk, 1);
    expect_code(&p, MU_E_BAD_REQUEST, "true or false");
    /* slug */
    pk_req(&p, "room.open", 1);
    pk_str(&p, "room");
    pk_str(&p, "Smart_1");
    expect_code(&p, MU_E_BAD_REQUEST, "room must be 1 to 32");
}

static void test_text_limits(void **st)
{
    pk_t p;
    char big[4100];
    memset(big, 'a', sizeof(big));
    /* help's text follows max_text, and over it is too_large, not bad_request */
    pk_req(&p, "help", 1);
    pk_str(&p, "text");
    pk_strn(&p, big, 4000);
    expect_code(&p, MU_OK, NULL);
    pk_req(&p, "help", 1);
    pk_str(&p, "text");
    pk_strn(&p, big, 4001);
    expect_code(&p, MU_E_TOO_LARGE, "4000");
    /* room.say: empty text is bad_request */
    pk_req(&p, "room.say", 2);
    pk_str(&p, "room");
    pk_str(&p, "r");
    pk_str(&p, "text");
    pk_str(&p, "");
    expect_code(&p, MU_E_BAD_REQUEST, "at least 1");
    /* a note follows max_note */
    pk_req(&p, "checkin.submit", 3);
    pk_str(&p, "tz");
    msgpack_pack_int(&p.pk, 0);
    pk_str(&p, "mood");
    msgpack_pack_int(&p.pk, 5);
    pk_str(&p, "note");
    pk_strn(&p, big, 2001);
    expect_code(&p, MU_E_TOO_LARGE, "2000");
}

static void test_arrays_and_dates(void **st)
{
    pk_t p;
    /* who5 has exactly five items of 0..5 */
    int64_t ok5[5] = {5, 4, 3, 2, 1};
    pk_req(&p, "checkin.submit", 3);
    pk_str(&p, "tz");
    msgpack_pack_int(&p.pk, -720);
    pk_str(&p, "mood");
    msgpack_pack_int(&p.pk, 10);
    pk_str(&p, "who5");
    msgpack_pack_array(&p.pk, 5);
    for (int i = 0; i < 5; i++)
        msgpack_pack_int64(&p.pk, ok5[i]);
    expect_code(&p, MU_OK, NULL);
    pk_req(&p, "checkin.submit", 3);
    pk_str(&p, "tz");
    msgpack_pack_int(&p.pk, 0);
    pk_str(&p, "mood");
    msgpack_pack_int(&p.pk, 1);
    pk_str(&p, "who5");
    msgpack_pack_array(&p.pk, 4);
    for (int i = 0; i < 4; i++)
        msgpack_pack_int(&p.pk, 1);
    expect_code(&p, MU_E_BAD_REQUEST, "exactly 5");
    pk_req(&p, "checkin.submit", 3);
    pk_str(&p, "tz");
    msgpack_pack_int(&p.pk, 0);
    pk_str(&p, "mood");
    msgpack_pack_int(&p.pk, 1);
    pk_str(&p, "who5");
    msgpack_pack_array(&p.pk, 5);
    for (int i = 0; i < 5; i++)
        msgpack_pack_int(&p.pk, i == 3 ? 6 : 1);
    expect_code(&p, MU_E_BAD_REQUEST, "who5 item 4");
    /* tz range */
    pk_req(&p, "checkin.submit", 2);
    pk_str(&p, "tz");
    msgpack_pack_int(&p.pk, 841);
    pk_str(&p, "mood");
    msgpack_pack_int(&p.pk, 1);
    expect_code(&p, MU_E_BAD_REQUEST, "tz must be from -720 to 840");
    /* triggers: strings 1..40 bytes, at most 10 */
    pk_req(&p, "checkin.submit", 3);
    pk_str(&p, "tz");
    msgpack_pack_int(&p.pk, 0);
    pk_str(&p, "mood");
    msgpack_pack_int(&p.pk, 1);
    pk_str(&p, "triggers");
    msgpack_pack_array(&p.pk, 11);
    for (int i = 0; i < 11; i++)
        pk_str(&p, "payday");
    expect_code(&p, MU_E_BAD_REQUEST, "0 to 10 items");
    /* dates */
    pk_req(&p, "checkin.list", 2);
    pk_str(&p, "from");
    pk_str(&p, "2024-02-29");
    pk_str(&p, "to");
    pk_str(&p, "2026-12-31");
    expect_code(&p, MU_OK, NULL);
    const char *bad[] = {"2026-02-29", "2026-13-01", "2026-1-01", "20260101", "2026-04-31"};
    for (size_t i = 0; i < 5; i++) {
        pk_req(&p, "checkin.list", 1);
        pk_str(&p, "from");
        pk_str(&p, bad[i]);
        expect_code(&p, MU_E_BAD_REQUEST, "YYYY-MM-DD");
    }
}

static void test_encode_round_trip(void **st)
{
    mu_enc e;
    mu_enc_init(&e, 10);
    mu_enc_reply_ok(&e, 42, 2);
    mu_enc_kint(&e, "ts", -5);
    mu_enc_kstr(&e, "name", "mutual");
    size_t n;
    const char *p = mu_enc_payload(&e, &n);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&up, p, n, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, n);
    assert_true(mu_obj_str_eq(mu_map_get(&up.data, "op"), "reply"));
    assert_int_equal(mu_map_get(&up.data, "rid")->via.u64, 42);
    assert_true(mu_map_get(&up.data, "ok")->via.boolean);
    assert_int_equal(mu_map_get(&up.data, "ts")->via.i64, -5);
    assert_true(mu_obj_str_eq(mu_map_get(&up.data, "name"), "mutual"));
    assert_int_equal(up.data.via.map.size, 5);
    msgpack_unpacked_destroy(&up);
    mu_enc_free(&e);

    mu_enc_init(&e, 0);
    mu_enc_reply_err(&e, false, 0, MU_E_RATE_LIMITED, "slow down");
    p = mu_enc_payload(&e, &n);
    msgpack_unpacked_init(&up);
    off = 0;
    assert_int_equal(msgpack_unpack_next(&up, p, n, &off), MSGPACK_UNPACK_SUCCESS);
    assert_null(mu_map_get(&up.data, "rid"));
    assert_false(mu_map_get(&up.data, "ok")->via.boolean);
    assert_true(mu_obj_str_eq(mu_map_get(&up.data, "code"), "rate_limited"));
    assert_true(mu_obj_str_eq(mu_map_get(&up.data, "msg"), "slow down"));
    msgpack_unpacked_destroy(&up);
    mu_enc_free(&e);

    mu_enc_init(&e, 0);
    mu_enc_event(&e, MU_OP_EV_ROOM_MSG, 1);
    mu_enc_kuint(&e, "seq", 3);
    p = mu_enc_payload(&e, &n);
    msgpack_unpacked_init(&up);
    off = 0;
    assert_int_equal(msgpack_unpack_next(&up, p, n, &off), MSGPACK_UNPACK_SUCCESS);
    assert_true(mu_obj_str_eq(mu_map_get(&up.data, "op"), "room.msg"));
    msgpack_unpacked_destroy(&up);
    mu_enc_free(&e);
}

static void test_table(void **st)
{
    /* Every code has its wire name, and names map back. */
    for (int c = 1; c < MU_E__COUNT; c++) {
        const char *name = mu_code_name((mu_code)c);
        assert_int_equal(mu_code_from_name(name, strlen(name)), c);
    }
    /* Every request op is found by its name, and no two requests (nor two events) share one;
     * an event may bear its request's name (room.report). */
    for (int i = 0; i < MU_OP__COUNT; i++) {
        const mu_op *op = mu_op_by_id((mu_op_id)i);
        assert_non_null(op->name);
        assert_true(op->nfields <= MU_MAX_FIELDS);
        if (!(op->flags & MU_OPF_EVENT))
            assert_ptr_equal(mu_op_by_name(op->name, strlen(op->name)), op);
        for (int j = i + 1; j < MU_OP__COUNT; j++) {
            const mu_op *other = mu_op_by_id((mu_op_id)j);
            if ((other->flags & MU_OPF_EVENT) == (op->flags & MU_OPF_EVENT))
                assert_string_not_equal(op->name, other->name);
        }
    }
    assert_true(mu_op_by_id(MU_OP_PING)->flags & MU_OPF_PREAUTH);
    assert_false(mu_op_by_id(MU_OP_LOGOUT)->flags & MU_OPF_PREAUTH);
    assert_true(mu_op_by_id(MU_OP_HELP)->flags & MU_OPF_PREAUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok_register),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_field_errors),
        cmocka_unit_test(test_text_limits),
        cmocka_unit_test(test_arrays_and_dates),
        cmocka_unit_test(test_encode_round_trip),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
