/* The client library's message access and request building, without a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client_int.h"

static void test_request_encoding(void **st)
{
    mu_req *r = mu_req_new("checkin.submit");
    mu_req_int(r, "tz", -300);
    mu_req_str(r, "use", "as_planned");
    int64_t w[5] = {1, 2, 3, 4, 5};
    mu_req_ints(r, "who5", w, 5);
    const char *tr[2] = {"payday", "party"};
    mu_req_strs(r, "triggers", tr, 2);
    mu_req_bool(r, "flag", true);
    mu_req_nil(r, "note");
    size_t n;
    char *buf = req_encode(r, 9, 0, &n);
    mu_req_free(r);
    mu_msg *m = mu_msg_decode(buf, n);
    free(buf);
    assert_non_null(m);
    assert_string_equal(mu_msg_op(m), "checkin.submit");
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "rid", -1), 9);
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "tz", 0), -300);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "use"), "as_planned");
    const mu_value *who5 = mu_msg_get(m, "who5");
    assert_int_equal(mu_value_type(who5), MU_V_ARRAY);
    assert_int_equal(mu_value_len(who5), 5);
    int64_t v;
    assert_true(mu_value_int(mu_value_at(who5, 4), &v));
    assert_int_equal(v, 5);
    assert_null(mu_value_at(who5, 5));
    assert_string_equal(mu_value_str(mu_value_at(mu_msg_get(m, "triggers"), 1)), "party");
    assert_int_equal(mu_value_type(mu_msg_get(m, "note")), MU_V_NIL);
    assert_null(mu_msg_get(m, "absent"));
    assert_int_equal(mu_value_len(mu_msg_root(m)), 8); /* op, rid and six fields */
    char *json = mu_value_to_json(mu_msg_root(m), 0);
    assert_non_null(strstr(json, "\"who5\":[1,2,3,4,5]"));
    assert_non_null(strstr(json, "\"note\":null"));
    free(json);
    mu_msg_free(m);
}

static void test_reply_accessors(void **st)
{
    mu_enc e;
    mu_enc_init(&e, 0);
    mu_enc_reply_err(&e, true, 4, MU_E_FORBIDDEN, "Not yours to see.");
    size_t n;
    const char *p = mu_enc_payload(&e, &n);
    mu_msg *m = mu_msg_decode(p, n);
    assert_non_null(m);
    assert_false(mu_msg_ok(m));
    assert_string_equal(mu_msg_code(m), "forbidden");
    assert_string_equal(mu_msg_text(m), "Not yours to see.");
    mu_msg_free(m);
    /* trailing bytes are not one message */
    char two[64];
    memcpy(two, p, n);
    two[n] = (char)0xc0;
    assert_null(mu_msg_decode(two, n + 1));
    mu_enc_free(&e);
    /* JSON escapes control characters and quotes */
    mu_enc_init(&e, 0);
    mu_enc_map(&e, 1);
    mu_enc_kstr(&e, "t", "a\"b\n\x01");
    p = mu_enc_payload(&e, &n);
    m = mu_msg_decode(p, n);
    char *json = mu_value_to_json(mu_msg_root(m), 0);
    assert_string_equal(json, "{\"t\":\"a\\\"b\\n\\u0001\"}");
    free(json);
    mu_msg_free(m);
    mu_enc_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_request_encoding),
                                       cmocka_unit_test(test_reply_accessors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
