/* The browser app's HTTP rules without sockets: types, paths, ETags, the embedded copy, and
 * the Origin rule for upgrades. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "origin.h"
#include "www.h"

static void test_mime(void **state)
{
    assert_string_equal(www_mime("/index.html"), "text/html; charset=utf-8");
    /* Browsers refuse a module served without a JavaScript type. */
    assert_string_equal(www_mime("/app.js"), "text/javascript; charset=utf-8");
    assert_string_equal(www_mime("/vendor/msgpack.mjs"), "text/javascript; charset=utf-8");
    assert_string_equal(www_mime("/style.css"), "text/css; charset=utf-8");
    assert_string_equal(www_mime("/icon.svg"), "image/svg+xml");
    assert_string_equal(www_mime("/a.json"), "application/json");
    assert_string_equal(www_mime("/a.png"), "image/png");
    assert_string_equal(www_mime("/favicon.ico"), "image/x-icon");
    assert_null(www_mime("/vendor/regenerate.sh"));
    assert_null(www_mime("/README"));
    assert_null(www_mime("/dir.js/file"));
}

static void test_paths(void **state)
{
    assert_true(www_path_ok("/"));
    assert_true(www_path_ok("/index.html"));
    assert_true(www_path_ok("/vendor/msgpack-3.1.2.mjs"));
    assert_false(www_path_ok(""));
    assert_false(www_path_ok("index.html"));
    assert_false(www_path_ok("/../etc/passwd"));
    assert_false(www_path_ok("/vendor/../../x.js"));
    assert_false(www_path_ok("/./x.js"));
    assert_false(www_path_ok("/.git/config"));
    assert_false(www_path_ok("//etc/passwd"));
    assert_false(www_path_ok("/a\\b.js"));
    assert_false(www_path_ok("/a%2e%2e/b.js"));
    assert_false(www_path_ok("/dir/"));
    char long_path[260];
    memset(long_path, 'a', sizeof(long_path));
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = 0;
    assert_false(www_path_ok(long_path));
}

static void test_etags(void **state)
{
    assert_true(www_etag_matches("\"abc\"", "\"abc\""));
    assert_true(www_etag_matches("W/\"abc\"", "\"abc\""));
    assert_true(www_etag_matches("\"x\", \"abc\"", "\"abc\""));
    assert_true(www_etag_matches("*", "\"abc\""));
    assert_false(www_etag_matches("\"abcd\"", "\"abc\""));
    assert_false(www_etag_matches("\"ab\"", "\"abc\""));
    assert_false(www_etag_matches("", "\"abc\""));
    assert_false(www_etag_matches(NULL, "\"abc\""));
}

static void test_embedded(void **state)
{
    /* The build embeds web/: the page is there, under / too, with a quoted tag. */
    assert_true(www_assets_count > 0);
    const www_asset *a = www_find("/");
    assert_non_null(a);
    assert_ptr_equal(a, www_find("/index.html"));
    assert_true(a->len > 0 && a->etag[0] == '"');
    assert_non_null(strstr((const char *)a->data, "<!doctype html>"));
    assert_null(www_find("/vendor/regenerate.sh"));
    size_t total = 0;
    for (const www_asset *p = www_assets; p->path; p++) {
        assert_non_null(www_mime(p->path));
        total += p->len;
    }
    assert_int_equal(total, www_assets_bytes);
}

static void test_origin_normalize(void **state)
{
    char out[320];
    assert_int_equal(origin_normalize("HTTP://Example.ORG:80", false, out, sizeof(out)), 0);
    assert_string_equal(out, "http://example.org");
    assert_int_equal(origin_normalize("https://example.org:443", false, out, sizeof(out)), 0);
    assert_string_equal(out, "https://example.org");
    assert_int_equal(origin_normalize("https://example.org:8443", false, out, sizeof(out)), 0);
    assert_string_equal(out, "https://example.org:8443");
    assert_int_equal(origin_normalize("http://[::1]:7681", false, out, sizeof(out)), 0);
    assert_string_equal(out, "http://[::1]:7681");
    assert_int_equal(origin_normalize("https://m.example.org/app/", true, out, sizeof(out)), 0);
    assert_string_equal(out, "https://m.example.org");
    assert_int_equal(origin_normalize("https://m.example.org/app/", false, out, sizeof(out)), -1);
    assert_int_equal(origin_normalize("null", false, out, sizeof(out)), -1);
    assert_int_equal(origin_normalize("ftp://example.org", false, out, sizeof(out)), -1);
    assert_int_equal(origin_normalize("http://user@example.org", false, out, sizeof(out)), -1);
    assert_int_equal(origin_normalize("http://example.org:0", false, out, sizeof(out)), -1);
    assert_int_equal(origin_normalize("http://example.org:99999", false, out, sizeof(out)), -1);
    assert_int_equal(origin_normalize("http://", false, out, sizeof(out)), -1);
    assert_int_equal(origin_normalize("http://a:b:c", false, out, sizeof(out)), -1);
}

static void test_origin_rule(void **state)
{
    mu_config c;
    config_defaults(&c);
    char err[256];
    /* No Origin: programs such as the mutual CLI. */
    assert_true(origin_allowed(&c, NULL, "127.0.0.1:7681", false));
    /* Without public_url the request's own scheme and Host. */
    assert_true(origin_allowed(&c, "http://127.0.0.1:7681", "127.0.0.1:7681", false));
    assert_true(origin_allowed(&c, "http://LOCALHOST:7681", "localhost:7681", false));
    assert_false(origin_allowed(&c, "http://127.0.0.1:7682", "127.0.0.1:7681", false));
    assert_false(origin_allowed(&c, "https://127.0.0.1:7681", "127.0.0.1:7681", false));
    assert_true(origin_allowed(&c, "https://127.0.0.1:7681", "127.0.0.1:7681", true));
    assert_false(origin_allowed(&c, "http://evil.example", "127.0.0.1:7681", false));
    assert_false(origin_allowed(&c, "null", "127.0.0.1:7681", false));
    assert_false(origin_allowed(&c, "http://127.0.0.1:7681", NULL, false));
    /* With public_url, that origin only, whatever the Host says. */
    assert_int_equal(config_set(&c, "public_url", "https://mutual.example.org/", err, sizeof(err)),
                     0);
    assert_int_equal(origin_check_config(&c, err, sizeof(err)), 0);
    assert_true(origin_allowed(&c, "https://mutual.example.org", "127.0.0.1:7681", false));
    assert_false(origin_allowed(&c, "http://127.0.0.1:7681", "127.0.0.1:7681", false));
    /* allowed_origins adds others. */
    assert_int_equal(config_set(&c, "allowed_origins", "https://a.example, http://b.example:8080",
                                err, sizeof(err)),
                     0);
    assert_int_equal(origin_check_config(&c, err, sizeof(err)), 0);
    assert_true(origin_allowed(&c, "https://a.example", "x", false));
    assert_true(origin_allowed(&c, "http://b.example:8080", "x", false));
    assert_false(origin_allowed(&c, "http://b.example", "x", false));
    /* Settings that are not origins stop the server at start. */
    assert_int_equal(
        config_set(&c, "allowed_origins", "https://a.example, b.example", err, sizeof(err)), 0);
    assert_int_equal(origin_check_config(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "b.example"));
    assert_int_equal(config_set(&c, "allowed_origins", "", err, sizeof(err)), 0);
    assert_int_equal(config_set(&c, "public_url", "mutual.example.org", err, sizeof(err)), 0);
    assert_int_equal(origin_check_config(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "public_url"));
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mime),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_etags),
        cmocka_unit_test(test_embedded),
        cmocka_unit_test(test_origin_normalize),
        cmocka_unit_test(test_origin_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
