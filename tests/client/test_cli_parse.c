/* The CLI's strict parsing of typed answers, and how it words an error reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "cli.h"
#include "cli_parse.h"

static void test_int_strict(void **st)
{
    long v = -1;
    assert_true(parse_int("7", 0, 10, &v));
    assert_int_equal(v, 7);
    assert_true(parse_int(" 10 ", 0, 10, &v));
    assert_int_equal(v, 10);
    assert_true(parse_int("0", 0, 10, &v));
    assert_int_equal(v, 0);
    v = 99;
    /* never read as 0: words, fractions, trailing junk, out of range, empty */
    const char *bad[] = {
        "abc", "five", "lots", "", "  ", "5x", "5.5", "11", "-1", "0x5", "99999999999999999999",
        "5 5", NULL};
    for (int i = 0; bad[i]; i++)
        assert_false(parse_int(bad[i], 0, 10, &v));
    assert_int_equal(v, 99);
    assert_false(parse_int(NULL, 0, 10, &v));
}

static void test_tz(void **st)
{
    int tz = 1;
    assert_true(parse_tz("-300", &tz));
    assert_int_equal(tz, -300);
    assert_true(parse_tz("840", &tz));
    assert_false(parse_tz("abc", &tz));
    assert_false(parse_tz("841", &tz));
    assert_false(parse_tz("-721", &tz));
    assert_int_equal(tz, 840);
}

static void test_lists(void **st)
{
    int64_t v[10];
    assert_int_equal(parse_int_list("3,4,2,3,4", v, 5, 0, 5), 5);
    assert_int_equal(v[2], 2);
    assert_int_equal(parse_int_list("3 4 2 3 4", v, 5, 0, 5), 5);
    assert_int_equal(parse_int_list("3, 4, 2, 3, 4", v, 5, 0, 5), 5);
    assert_int_equal(parse_int_list("3,4,2,3", v, 5, 0, 5), -1);     /* too few */
    assert_int_equal(parse_int_list("3,4,2,3,4,1", v, 5, 0, 5), -1); /* too many */
    assert_int_equal(parse_int_list("3,4,x,3,4", v, 5, 0, 5), -1);
    assert_int_equal(parse_int_list("3,4,6,3,4", v, 5, 0, 5), -1);
    assert_int_equal(parse_int_list("1,2,3,4,5,6,1,2,3,4", v, 10, 1, 6), 10);
    assert_int_equal(parse_int_list("0,2,3,4,5,6,1,2,3,4", v, 10, 1, 6), -1);
}

static void test_words(void **st)
{
    assert_string_equal(parse_word("as planned", parse_use_words), "as_planned");
    assert_string_equal(parse_word("More-Than-Planned", parse_use_words), "more_than_planned");
    assert_string_equal(parse_word(" none ", parse_use_words), "none");
    assert_null(parse_word("maybe", parse_use_words));
    assert_null(parse_word("", parse_use_words));
    assert_string_equal(parse_word("Action", parse_stage_words), "action");
    assert_null(parse_word("act", parse_stage_words));
    assert_string_equal(parse_word("scores", parse_share_words), "scores");
    assert_null(parse_word("everything", parse_share_words));
    assert_string_equal(parse_word("recent", parse_backlog_words), "recent");
    assert_null(parse_word("all", parse_role_words));
}

static mu_msg *error_reply(const char *code, const char *msg, int64_t retry_after)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, retry_after >= 0 ? 5 : 4);
    const char *kv[] = {"op", "reply", "ok", NULL, "code", code, "msg", msg};
    for (int i = 0; i < 8; i += 2) {
        msgpack_pack_str(&pk, strlen(kv[i]));
        msgpack_pack_str_body(&pk, kv[i], strlen(kv[i]));
        if (!kv[i + 1]) {
            msgpack_pack_false(&pk);
            continue;
        }
        msgpack_pack_str(&pk, strlen(kv[i + 1]));
        msgpack_pack_str_body(&pk, kv[i + 1], strlen(kv[i + 1]));
    }
    if (retry_after >= 0) {
        msgpack_pack_str(&pk, 11);
        msgpack_pack_str_body(&pk, "retry_after", 11);
        msgpack_pack_int64(&pk, retry_after);
    }
    mu_msg *m = mu_msg_decode(sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    assert_non_null(m);
    return m;
}

static void test_error_text(void **st)
{
    char out[256];
    mu_msg *m = error_reply("rate_limited", "Too many attempts.", 42);
    error_text(m, out, sizeof(out));
    assert_string_equal(out, "Too many attempts. (rate_limited); try again in 42 s");
    mu_msg_free(m);
    /* a long wait in minutes, rounded up so nobody is told to come back too early */
    m = error_reply("rate_limited", "Too many attempts.", 896);
    error_text(m, out, sizeof(out));
    assert_string_equal(out, "Too many attempts. (rate_limited); try again in 15 minutes");
    mu_msg_free(m);
    m = error_reply("rate_limited", "Too many attempts.", 90);
    error_text(m, out, sizeof(out));
    assert_string_equal(out, "Too many attempts. (rate_limited); try again in 2 minutes");
    mu_msg_free(m);
    m = error_reply("rate_limited", "Slow down.", -1);
    error_text(m, out, sizeof(out));
    assert_string_equal(out, "Slow down. (rate_limited)");
    mu_msg_free(m);
    m = error_reply("forbidden", "No.", 5);
    error_text(m, out, sizeof(out));
    assert_string_equal(out, "No. (forbidden)");
    mu_msg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_strict), cmocka_unit_test(test_tz),
        cmocka_unit_test(test_lists),      cmocka_unit_test(test_words),
        cmocka_unit_test(test_error_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
