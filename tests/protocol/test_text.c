/* UTF-8, handle folding, slugs and calendar dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

static bool u(const char *s)
{
    return mu_utf8_valid(s, strlen(s));
}

static void test_utf8(void **st)
{
    assert_true(u(""));
    assert_true(u("plain ascii"));
    assert_true(u("caf\xc3\xa9"));       /* é */
    assert_true(u("\xe2\x82\xac"));      /* € */
    assert_true(u("\xf0\x9f\x92\x9a"));  /* a heart, 4 bytes */
    assert_true(u("\xf4\x8f\xbf\xbf"));  /* U+10FFFF */
    assert_false(u("\xc3"));             /* truncated */
    assert_false(u("\xc0\xaf"));         /* overlong '/' */
    assert_false(u("\xe0\x80\xaf"));     /* overlong, 3 bytes */
    assert_false(u("\xed\xa0\x80"));     /* surrogate U+D800 */
    assert_false(u("\xf4\x90\x80\x80")); /* above U+10FFFF */
    assert_false(u("\x80"));             /* lone continuation */
    assert_false(u("\xff"));
    assert_true(mu_utf8_valid("a\0b", 3)); /* NUL is a character */
}

static void test_handles(void **st)
{
    char out[MU_HANDLE_MAX + 1];
    assert_true(mu_handle_fold("Sam_R.2-x", 9, out));
    assert_string_equal(out, "sam_r.2-x");
    assert_true(mu_handle_fold("abc", 3, out));
    assert_false(mu_handle_fold("ab", 2, out));
    char longh[40];
    memset(longh, 'a', sizeof(longh));
    assert_true(mu_handle_fold(longh, 32, out));
    assert_false(mu_handle_fold(longh, 33, out));
    assert_false(mu_handle_fold("no spaces", 9, out));
    assert_false(mu_handle_fold("\xc3\x89mile", 6, out)); /* only ASCII folds */
    assert_true(mu_slug_valid("smart-tuesday", 13));
    assert_false(mu_slug_valid("", 0));
    assert_false(mu_slug_valid("Smart", 5));
    assert_false(mu_slug_valid("a_b", 3));
}

static void test_dates(void **st)
{
    int32_t d;
    assert_true(mu_date_parse("1970-01-01", 10, &d));
    assert_int_equal(d, 0);
    assert_true(mu_date_parse("2000-03-01", 10, &d));
    assert_int_equal(d, 11017);
    assert_true(mu_date_parse("2024-02-29", 10, &d));
    assert_false(mu_date_parse("2023-02-29", 10, &d));
    assert_false(mu_date_parse("1900-02-29", 10, &d)); /* not a leap year */
    assert_true(mu_date_parse("2000-02-29", 10, &d));  /* a leap year */
    /* Every day over a span that crosses leap years round-trips. */
    char buf[11];
    for (int32_t day = -800; day < 30000; day++) {
        mu_date_format(day, buf);
        int32_t back;
        assert_true(mu_date_parse(buf, 10, &back));
        assert_int_equal(back, day);
    }
    mu_date_format(20788, buf);
    assert_string_equal(buf, "2026-12-01");
    mu_date_format(20819, buf);
    assert_string_equal(buf, "2027-01-01");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_utf8), cmocka_unit_test(test_handles),
                                       cmocka_unit_test(test_dates)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
