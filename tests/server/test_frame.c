/* Frames: the WebSocket header in front of an encoded message, close frames, references. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

/* A frame whose payload is a MessagePack string of n bytes; *payload_len gets its size. */
static mu_frame *frame_with(size_t n, size_t *payload_len)
{
    char *s = malloc(n + 1);
    memset(s, 'a', n);
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_strn(&e, s, n);
    free(s);
    mu_enc_payload(&e, payload_len);
    return frame_from_enc(&e);
}

static size_t header_len(const mu_frame *f, size_t *declared)
{
    const unsigned char *d = (const unsigned char *)f->data;
    assert_int_equal(d[0], 0x82);     /* FIN, binary */
    assert_int_equal(d[1] & 0x80, 0); /* server frames are not masked */
    size_t len = d[1] & 0x7f;
    if (len < 126) {
        *declared = len;
        return 2;
    }
    if (len == 126) {
        *declared = (size_t)d[2] << 8 | d[3];
        return 4;
    }
    *declared = 0;
    for (int i = 0; i < 8; i++)
        *declared = *declared << 8 | d[2 + i];
    return 10;
}

static void check(size_t n, size_t want_header)
{
    size_t payload, declared;
    mu_frame *f = frame_with(n, &payload);
    size_t h = header_len(f, &declared);
    assert_int_equal(h, want_header);
    assert_int_equal(declared, payload);
    assert_int_equal(f->len, h + payload);
    /* The payload follows the header with nothing between. */
    const unsigned char *p = (const unsigned char *)f->data + h;
    assert_true(p[0] == 0xa0 + n || p[0] == 0xd9 || p[0] == 0xda || p[0] == 0xdb);
    frame_unref(f);
}

static void test_header_lengths(void **st)
{
    check(0, 2);
    check(100, 2); /* payload 122: the 7-bit length */
    check(123, 2); /* payload 125, the largest 7-bit length */
    check(124, 4); /* payload 126: the 16-bit length */
    check(65000, 4);
    check(65532, 4); /* payload 65535 */
    check(65533, 10);
    check(200000, 10);
}

static void test_close_frame(void **st)
{
    mu_frame *f = frame_close(CLOSE_TRY_LATER);
    assert_int_equal(f->len, 4);
    const unsigned char *d = (const unsigned char *)f->data;
    assert_int_equal(d[0], 0x88);
    assert_int_equal(d[1], 2);
    assert_int_equal(d[2] << 8 | d[3], 1013);
    frame_unref(f);
    f = frame_close(CLOSE_NORMAL);
    assert_int_equal(f->data[2] << 8 | (unsigned char)f->data[3], 1000);
    frame_unref(f);
}

static void test_references(void **st)
{
    size_t payload;
    mu_frame *f = frame_with(10, &payload);
    assert_int_equal(f->refs, 1);
    assert_ptr_equal(frame_ref(f), f);
    assert_int_equal(f->refs, 2);
    frame_unref(f);
    assert_int_equal(f->refs, 1);
    frame_unref(f); /* freed: the sanitizer build would report a leak or a double free */
    frame_unref(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_lengths),
        cmocka_unit_test(test_close_frame),
        cmocka_unit_test(test_references),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
