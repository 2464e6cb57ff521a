/* The browser app served by mutuald, and the Origin rule on upgrades, over real sockets. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "rawws.h"

typedef struct {
    int status;
    char *head; /* status line and headers */
    char *body;
} http_res;

/* One request with extra header lines ("Name: value\r\n"...). Reads until the declared body is
 * in, or the server closes (an upgrade answer is read up to its blank line). */
static http_res http_do(int port, const char *path, const char *extra)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char req[2048];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n", path,
                     port, extra ? extra : "");
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1 >= cap)
            buf = grow(buf, cap *= 2);
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        if (strstr(buf, " 101 ") || strstr(buf, " 304 "))
            break;
        char *cl = strcasestr(buf, "content-length:");
        if (cl && cl < end && len >= (size_t)(end + 4 - buf) + (size_t)atol(cl + 15))
            break;
    }
    close(fd);
    buf[len] = 0;
    http_res res = {0};
    sscanf(buf, "HTTP/1.%*d %d", &res.status);
    char *end = strstr(buf, "\r\n\r\n");
    res.body = strdup(end ? end + 4 : "");
    if (end)
        *end = 0;
    res.head = buf;
    return res;
}

static void res_free(http_res *r)
{
    free(r->head);
    free(r->body);
}

/* The value of a response header (case-insensitive name), copied into out; NULL when absent. */
static const char *res_header(const http_res *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (!strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1;
            v += strspn(v, " ");
            size_t vl = strcspn(v, "\r");
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = 0;
            return out;
        }
    }
    return NULL;
}

static void expect_app_headers(const http_res *r)
{
    char v[512];
    assert_non_null(res_header(r, "content-security-policy", v, sizeof(v)));
    assert_non_null(strstr(v, "default-src 'self'"));
    assert_non_null(strstr(v, "script-src 'self'"));
    assert_non_null(strstr(v, "connect-src 'self'"));
    assert_non_null(strstr(v, "frame-ancestors 'none'"));
    assert_null(strstr(v, "unsafe-inline"));
    assert_string_equal(res_header(r, "x-content-type-options", v, sizeof(v)), "nosniff");
    assert_string_equal(res_header(r, "referrer-policy", v, sizeof(v)), "no-referrer");
}

static void test_app_served(void **state)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    char v[512], etag[128];
    http_res r = http_do(s.port, "/", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(res_header(&r, "content-type", v, sizeof(v)), "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "<!doctype html>"));
    expect_app_headers(&r);
    assert_non_null(res_header(&r, "etag", etag, sizeof(etag)));
    assert_true(etag[0] == '"');
    res_free(&r);

    /* The same tag: 304 and no body; another tag: the file again. */
    char extra[256];
    snprintf(extra, sizeof(extra), "If-None-Match: %s\r\n", etag);
    r = http_do(s.port, "/index.html", extra);
    assert_int_equal(r.status, 304);
    assert_string_equal(r.body, "");
    expect_app_headers(&r);
    res_free(&r);
    r = http_do(s.port, "/index.html", "If-None-Match: \"other\"\r\n");
    assert_int_equal(r.status, 200);
    res_free(&r);

    /* Every embedded module is served as JavaScript. */
    r = http_do(s.port, "/js/app.js", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(res_header(&r, "content-type", v, sizeof(v)),
                        "text/javascript; charset=utf-8");
    res_free(&r);

    const char *missing[] = {"/nothing.js", "/../../etc/passwd", "/vendor/regenerate.sh",
                             "/%2e%2e/etc/passwd", "/.hidden.js"};
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        r = http_do(s.port, missing[i], NULL);
        assert_int_equal(r.status, 404);
        res_free(&r);
    }
    /* The server's own paths keep their mounts beside the app's "/", and a path below one of
     * them is not the app's either. */
    r = http_do(s.port, "/healthz", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok");
    res_free(&r);
    r = http_do(s.port, "/metrics", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "# TYPE"));
    assert_null(res_header(&r, "content-security-policy", v, sizeof(v)));
    res_free(&r);
    r = http_do(s.port, "/healthz/index.html", NULL);
    assert_int_equal(r.status, 404);
    res_free(&r);
    /* A query string is not part of the file's name. */
    r = http_do(s.port, "/js/app.js?v=2", NULL);
    assert_int_equal(r.status, 200);
    res_free(&r);
    /* The app's mount is HTTP only: naming its protocol as a WebSocket subprotocol gets no
     * WebSocket, while mutual.v1 still does, on the same server. */
    raw_ws w;
    assert_int_not_equal(raw_connect(&w, s.port, "/ws", "www"), 101);
    raw_close(&w);
    assert_int_not_equal(raw_connect(&w, s.port, "/", "www"), 101);
    raw_close(&w);
    assert_int_equal(raw_connect(&w, s.port, "/ws", "mutual.v1"), 101);
    raw_close(&w);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_www_dir(void **state)
{
    char top[] = "/tmp/mutual-www-XXXXXX";
    assert_non_null(mkdtemp(top));
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/app", top);
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(dir, "index.html", "<!doctype html><p>from the directory</p>");
    write_file(dir, "mod.mjs", "export const x = 1;\n");
    write_file(top, "secret.txt", "not for the web\n");
    char link[400];
    snprintf(link, sizeof(link), "%s/link.txt", dir);
    assert_int_equal(symlink("../secret.txt", link), 0);

    char conf[400];
    snprintf(conf, sizeof(conf), "www = %s", dir);
    srv_t s;
    srv_start(&s, conf, 0);
    char v[256], etag[128];
    http_res r = http_do(s.port, "/", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "<!doctype html><p>from the directory</p>");
    expect_app_headers(&r);
    assert_non_null(res_header(&r, "etag", etag, sizeof(etag)));
    res_free(&r);
    char extra[256];
    snprintf(extra, sizeof(extra), "If-None-Match: %s\r\n", etag);
    r = http_do(s.port, "/", extra);
    assert_int_equal(r.status, 304);
    res_free(&r);
    /* A change on disk is served at once, with a new tag. */
    write_file(dir, "index.html", "<!doctype html><p>changed</p>");
    r = http_do(s.port, "/", extra);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "<!doctype html><p>changed</p>");
    res_free(&r);

    r = http_do(s.port, "/mod.mjs", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(res_header(&r, "content-type", v, sizeof(v)),
                        "text/javascript; charset=utf-8");
    assert_string_equal(r.body, "export const x = 1;\n");
    res_free(&r);

    /* Nothing outside the directory: not by climbing, not through a link. */
    const char *refused[] = {"/../secret.txt", "/%2e%2e/secret.txt", "/link.txt",
                             "/app/../secret.txt", "//secret.txt"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        r = http_do(s.port, refused[i], NULL);
        assert_int_equal(r.status, 404);
        assert_null(strstr(r.body, "not for the web"));
        res_free(&r);
    }
    srv_stop(&s);
    srv_cleanup(&s);
    unlink(link);
    char path[400];
    snprintf(path, sizeof(path), "%s/index.html", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/mod.mjs", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/secret.txt", top);
    unlink(path);
    rmdir(dir);
    rmdir(top);
}

static int upgrade(int port, const char *origin_line)
{
    char extra[512];
    snprintf(extra, sizeof(extra),
             "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Protocol: mutual.v1\r\n%s",
             origin_line ? origin_line : "");
    http_res r = http_do(port, "/ws", extra);
    int st = r.status;
    res_free(&r);
    return st;
}

static void test_origin(void **state)
{
    srv_t s;
    srv_start(&s, "allowed_origins = https://app.example.org, http://localhost:9999", 0);
    char own[128];
    snprintf(own, sizeof(own), "Origin: http://127.0.0.1:%d\r\n", s.port);
    assert_int_equal(upgrade(s.port, NULL), 101);
    assert_int_equal(upgrade(s.port, own), 101);
    assert_int_equal(upgrade(s.port, "Origin: https://app.example.org\r\n"), 101);
    assert_int_equal(upgrade(s.port, "Origin: http://localhost:9999\r\n"), 101);
    assert_int_equal(upgrade(s.port, "Origin: http://evil.example\r\n"), 403);
    assert_int_equal(upgrade(s.port, "Origin: null\r\n"), 403);
    assert_int_equal(upgrade(s.port, "Origin: http://127.0.0.1\r\n"), 403);
    srv_stop(&s);
    srv_cleanup(&s);

    /* With public_url, the Host no longer decides; the C client, which sends no Origin, still
     * connects and works. */
    srv_start(&s, "public_url = https://mutual.example.org/", 0);
    snprintf(own, sizeof(own), "Origin: http://127.0.0.1:%d\r\n", s.port);
    assert_int_equal(upgrade(s.port, own), 403);
    assert_int_equal(upgrade(s.port, "Origin: https://mutual.example.org\r\n"), 101);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    call_expect(y, c, mu_req_new("ping"), "ok");
    mu_client_free(c);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_app_served),
        cmocka_unit_test(test_www_dir),
        cmocka_unit_test(test_origin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
