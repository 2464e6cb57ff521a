/* The settings table and the file parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char path[64];

static void write_file(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/mutual-conf-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_defaults(void **st)
{
    mu_config c;
    config_defaults(&c);
    assert_string_equal(c.listen, "127.0.0.1:7681");
    assert_string_equal(c.db, "./mutual.db");
    assert_true(c.open_registration);
    assert_int_equal(c.rate_per_s, 20);
    assert_int_equal(c.burst, 40);
    assert_int_equal(c.max_frame, 65536);
    assert_int_equal(c.max_text, 4000);
    assert_int_equal(c.max_note, 2000);
    assert_int_equal(c.send_queue, 1048576);
    assert_int_equal(c.token_lifetime_days, 30);
    assert_int_equal(c.login_max_failures, 5);
    assert_int_equal(c.login_window_s, 900);
    assert_int_equal(c.caseload_max, 30);
    assert_int_equal(c.craving_high, 8);
    assert_int_equal(c.mood_low, 2);
    assert_int_equal(c.missed_days, 3);
    assert_string_equal(c.synchronous, "full");
    /* The built-in helplines are real public services. */
    assert_true(c.nhelp >= 4);
    assert_string_equal(c.help[0].phone, "116 123");
    bool has_988 = false;
    for (size_t i = 0; i < c.nhelp; i++)
        has_988 |= c.help[i].phone && !strcmp(c.help[i].phone, "988");
    assert_true(has_988);
    config_free(&c);
}

static void test_file(void **st)
{
    write_file("# a comment\n"
               "\n"
               "   listen = 0.0.0.0:9000   \n"
               "open_registration = no\n"
               "rate_per_s=5\n"
               "log_level = debug\n"
               "help = Local line | 0800 000 | | 9-5 weekdays | GB-ENG\n"
               "help = Second service\n");
    mu_config c;
    char err[256];
    config_defaults(&c);
    assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
    assert_string_equal(c.listen, "0.0.0.0:9000");
    assert_false(c.open_registration);
    assert_int_equal(c.rate_per_s, 5);
    assert_string_equal(c.log_level, "debug");
    /* configured help entries replace the built-in list */
    assert_int_equal(c.nhelp, 2);
    assert_string_equal(c.help[0].name, "Local line");
    assert_string_equal(c.help[0].phone, "0800 000");
    assert_null(c.help[0].url);
    assert_string_equal(c.help[0].hours, "9-5 weekdays");
    assert_string_equal(c.help[0].region, "GB-ENG");
    assert_string_equal(c.help[1].name, "Second service");
    assert_null(c.help[1].phone);
    config_free(&c);
    unlink(path);
}

static void expect_error(const char *text, const char *want)
{
    write_file(text);
    mu_config c;
    char err[256] = "";
    config_defaults(&c);
    assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
    assert_non_null(strstr(err, path)); /* names the file */
    config_free(&c);
    unlink(path);
}

static void test_errors(void **st)
{
    expect_error("listen = x:1\nno_such_key = 1\n", ":2: unknown setting 'no_such_key'");
    expect_error("rate_per_s = fast\n", ":1: rate_per_s must be a whole number");
    expect_error("rate_per_s = -3\n", ":1: rate_per_s must be a whole number");
    expect_error("\nburst = 0\n", ":2: burst must be from 1 to");
    expect_error("open_registration = maybe\n", "true or false");
    expect_error("log_level = loud\n", "log_level must be one of error, warn, info, debug");
    expect_error("synchronous = off\n", "synchronous must be one of full, normal");
    expect_error("just words\n", ":1: expected 'key = value'");
    expect_error("help = | 123\n", "help needs a name");
    expect_error("help = a|b|c|d|e|f\n", "at most 5 fields");
    mu_config c;
    char err[256];
    config_defaults(&c);
    assert_int_equal(config_load(&c, "/nonexistent/mutual.conf", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/mutual.conf: cannot read"));
    config_free(&c);
}

static void test_table_defaults_in_range(void **st)
{
    size_t n;
    const cfg_setting *t = config_table(&n);
    assert_true(n > 20);
    for (size_t i = 0; i < n; i++)
        if (t[i].type == CFG_UINT) {
            unsigned long long v = strtoull(t[i].def, NULL, 10);
            assert_true(v >= t[i].min && v <= t[i].max);
        }
}

/* The example configuration shipped for operators loads, and documents every setting. */
static void test_example_file(void **st)
{
    mu_config c;
    char err[256];
    config_defaults(&c);
    assert_int_equal(config_load(&c, MUTUAL_SOURCE_DIR "/deploy/mutual.conf", err, sizeof(err)), 0);
    assert_int_equal(c.nhelp, 4);
    config_free(&c);
    FILE *f = fopen(MUTUAL_SOURCE_DIR "/deploy/mutual.conf", "r");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = 0;
    fclose(f);
    size_t nt;
    const cfg_setting *t = config_table(&nt);
    for (size_t i = 0; i < nt; i++) {
        char key[80];
        snprintf(key, sizeof(key), "\n%s =", t[i].name);
        if (!strstr(text, key))
            fail_msg("deploy/mutual.conf does not set %s", t[i].name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_file), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_table_defaults_in_range), cmocka_unit_test(test_example_file)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
