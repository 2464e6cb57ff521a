/* Declared MessagePack sizes are checked against the bytes before msgpack-c allocates for
 * them: frames that claim more than they carry are malformed, valid ones pass unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

#define B(...) ((const unsigned char[]){__VA_ARGS__}), sizeof((const unsigned char[]){__VA_ARGS__})

static void test_declared_sizes_beyond_the_bytes(void **st)
{
    (void)st;
    /* {"op": "ping", "rid": array32 of 1.9e9 elements}: 14 bytes that asked for 64 GiB. */
    assert_false(mu_msgpack_bounded(
        B(0x82, 0xa2, 0x6f, 0x70, 0xa4, 0x70, 0x69, 0x6e, 0x67, 0xdd, 0x72, 0x69, 0x64, 0x05)));
    assert_false(mu_msgpack_bounded(B(0xdf, 0xff, 0xff, 0xff, 0xff)));       /* map32 */
    assert_false(mu_msgpack_bounded(B(0xdc, 0x00, 0x03, 0x01, 0x02)));       /* array16 of 3 */
    assert_false(mu_msgpack_bounded(B(0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61))); /* str32 */
    assert_false(mu_msgpack_bounded(B(0xc6, 0x00, 0x00, 0x01, 0x00)));       /* bin32 */
    assert_false(mu_msgpack_bounded(B(0xc9, 0x00, 0x00, 0x00, 0x02, 0x01))); /* ext32 */
    assert_false(mu_msgpack_bounded(B(0x81, 0xa1, 0x61)));                   /* map: no value */
    assert_false(mu_msgpack_bounded(B(0xcf, 0x00, 0x00)));                   /* short uint64 */
    assert_false(mu_msgpack_bounded(B(0xda, 0x00)));                         /* short length */
    assert_false(mu_msgpack_bounded(B(0xc1)));                               /* never used */
    assert_false(mu_msgpack_bounded(NULL, 0));
    /* Nested headers that each fit alone but not together. */
    assert_false(mu_msgpack_bounded(B(0x92, 0x92, 0x01, 0x02, 0x92, 0x01)));
}

static void test_valid_values_pass(void **st)
{
    (void)st;
    assert_true(mu_msgpack_bounded(B(0xc0)));
    assert_true(mu_msgpack_bounded(B(0x90)));
    assert_true(mu_msgpack_bounded(B(0x80)));
    assert_true(mu_msgpack_bounded(B(0x92, 0x92, 0x01, 0x02, 0x92, 0x01, 0xa0)));
    assert_true(
        mu_msgpack_bounded(B(0xd8, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)));
    assert_true(mu_msgpack_bounded(B(0xc7, 0x02, 0x05, 0xaa, 0xbb)));
    /* Trailing bytes are the parser's business (it refuses them), not this check's. */
    assert_true(mu_msgpack_bounded(B(0x01, 0x02)));

    mu_enc e;
    size_t n;
    mu_enc_init(&e, 0);
    mu_enc_request(&e, "checkin.submit", 7, 3);
    mu_enc_kint(&e, "tz", -300);
    mu_enc_kint(&e, "mood", 6);
    mu_enc_key(&e, "who5");
    mu_enc_array(&e, 5);
    for (int i = 0; i < 5; i++)
        mu_enc_int(&e, i);
    const char *p = mu_enc_payload(&e, &n);
    assert_true(mu_msgpack_bounded(p, n));
    for (size_t cut = 0; cut < n; cut++)
        assert_false(mu_msgpack_bounded(p, cut)); /* every truncation is refused */
    mu_enc_free(&e);
}

static void test_parse_refuses_the_64_gib_frame(void **st)
{
    (void)st;
    static const unsigned char frame[] = {0x82, 0xa2, 0x6f, 0x70, 0xa4, 0x70, 0x69,
                                          0x6e, 0x67, 0xdd, 0x72, 0x69, 0x64, 0x05};
    mu_request r;
    mu_error err;
    mu_request_init(&r);
    assert_int_equal(mu_request_parse(&r, frame, sizeof(frame), &err), MU_PARSE_MALFORMED);
    assert_int_equal(err.code, MU_E_BAD_REQUEST);
    mu_request_free(&r);
}

/* Found by fuzzing: me.export of a user with nothing stored appended empty encoders, and an
 * empty encoder's payload was computed from a NULL buffer (undefined behaviour). */
static void test_empty_encoder(void **st)
{
    (void)st;
    mu_enc e, part;
    size_t n = 99;
    mu_enc_init(&part, 0);
    const char *p = mu_enc_payload(&part, &n);
    assert_non_null(p);
    assert_int_equal(n, 0);
    mu_enc_init(&e, 0);
    mu_enc_array(&e, 0);
    mu_enc_append(&e, &part);
    mu_enc_payload(&e, &n);
    assert_int_equal(n, 1);
    mu_enc_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_declared_sizes_beyond_the_bytes),
        cmocka_unit_test(test_valid_values_pass),
        cmocka_unit_test(test_parse_refuses_the_64_gib_frame),
        cmocka_unit_test(test_empty_encoder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
