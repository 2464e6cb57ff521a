/* The browser app over HTTP (see www.h). Layer: transport. */
#include "www.h"

#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "room_feed.h"
#include "xalloc.h"

/* A development directory holds the app's files, nothing big: a bound keeps a stray link to a
 * large file from being read into memory. */
#define WWW_FILE_MAX (8u << 20)

/* The page loads only its own scripts, styles and images and talks only to its own server; it
 * may not be framed (clickjacking of a health app) and sends no Referer anywhere. */
static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "connect-src 'self'; img-src 'self' data:; font-src 'self'; "
                          "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
                          "form-action 'self'";

static const struct {
    const char *ext, *type;
} mime_table[] = {
    {".html", "text/html; charset=utf-8"},
    /* lws's own table has no .mjs, and browsers refuse a module without a JavaScript type. */
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

const char *www_mime(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot)
        return NULL;
    for (size_t i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++)
        if (strcmp(dot, mime_table[i].ext) == 0)
            return mime_table[i].type;
    return NULL;
}

bool www_path_ok(const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || n > 200 || path[0] != '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = path[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' || ch == '/';
        if (!ok)
            return false;
        if (ch == '/' && i + 1 < n && (path[i + 1] == '/' || path[i + 1] == '.'))
            return false;
    }
    return n == 1 || path[n - 1] != '/';
}

static const char *canonical(const char *path)
{
    return strcmp(path, "/") == 0 ? "/index.html" : path;
}

const www_asset *www_find(const char *path)
{
    path = canonical(path);
    for (const www_asset *a = www_assets; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

bool www_etag_matches(const char *inm, const char *etag)
{
    if (!inm || !etag)
        return false;
    const char *p = inm;
    while (*p) {
        p += strspn(p, ", \t");
        if (!*p)
            break;
        if (*p == '*')
            return true;
        if (!strncmp(p, "W/", 2))
            p += 2; /* weak comparison, as RFC 9110 asks for If-None-Match */
        size_t n = strcspn(p, ", \t");
        if (n == strlen(etag) && !strncmp(p, etag, n))
            return true;
        p += n;
    }
    return false;
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

/* Status line and headers; for 304 no body follows. */
static int send_head(struct lws *wsi, unsigned status, const char *type, size_t len,
                     const char *etag, unsigned char *buf, size_t cap)
{
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + cap - 1;
    if (lws_add_http_common_headers(
            wsi, status, type, status == 304 ? LWS_ILLEGAL_HTTP_CONTENT_LEN : (lws_filepos_t)len,
            &p, end))
        return -1;
    /* no-cache: the browser keeps the file but asks each time, so an upgraded server's app is
     * never mixed with stale modules; the ETag makes the asking cheap. */
    if ((etag && add_header(wsi, "etag:", etag, &p, end)) ||
        add_header(wsi, "cache-control:", "no-cache", &p, end) ||
        add_header(wsi, "content-security-policy:", csp, &p, end) ||
        add_header(wsi, "x-content-type-options:", "nosniff", &p, end) ||
        add_header(wsi, "referrer-policy:", "no-referrer", &p, end) ||
        add_header(wsi, "x-frame-options:", "DENY", &p, end) ||
        add_header(wsi, "cross-origin-opener-policy:", "same-origin", &p, end))
        return -1;
    if (status == 304 && add_header(wsi, "content-length:", "0", &p, end))
        return -1;
    return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

static int send_file(struct lws *wsi, const char *type, const unsigned char *data, size_t len,
                     const char *etag)
{
    unsigned char hdr[LWS_PRE + 1536];
    char inm[256];
    bool fresh = lws_hdr_copy(wsi, inm, sizeof(inm), WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
                 www_etag_matches(inm, etag);
    if (send_head(wsi, fresh ? 304 : 200, type, len, etag, hdr, sizeof(hdr)) != 0)
        return -1;
    if (!fresh) {
        /* lws keeps whatever the socket does not take at once and completes the transaction
         * when it has gone out. */
        unsigned char *buf = xmalloc(LWS_PRE + len + 1);
        memcpy(buf + LWS_PRE, data, len);
        int w = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
        free(buf);
        if (w < (int)len)
            return -1;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int send_not_found(struct lws *wsi)
{
    static const char body[] = "not found\n";
    unsigned char hdr[LWS_PRE + 1536];
    if (send_head(wsi, HTTP_STATUS_NOT_FOUND, "text/plain; charset=utf-8", sizeof(body) - 1, NULL,
                  hdr, sizeof(hdr)) != 0)
        return -1;
    unsigned char buf[LWS_PRE + sizeof(body)];
    memcpy(buf + LWS_PRE, body, sizeof(body) - 1);
    if (lws_write(wsi, buf + LWS_PRE, sizeof(body) - 1, LWS_WRITE_HTTP_FINAL) <
        (int)sizeof(body) - 1)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Reads a regular file of the development directory. Returns the bytes (the caller frees them)
 * or NULL when there is no such file. The path has passed www_path_ok, so it cannot climb out
 * of dir; O_NOFOLLOW refuses a link as the last component. */
static unsigned char *read_dir_file(const char *dir, const char *path, size_t *len)
{
    char full[4096];
    int n = snprintf(full, sizeof(full), "%s%s", dir, path);
    if (n < 0 || (size_t)n >= sizeof(full))
        return NULL;
    int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    unsigned char *data = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > WWW_FILE_MAX)
        goto cleanup;
    size_t want = (size_t)st.st_size, got = 0;
    data = xmalloc(want + 1);
    while (got < want) {
        ssize_t r = read(fd, data + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    *len = got;
cleanup:
    close(fd);
    return data;
}

/* FNV-1a over the content: a development directory changes under the server, so its tags are
 * computed per request. */
static void etag_of(const unsigned char *d, size_t n, char *out, size_t cap)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= d[i];
        h *= 1099511628211ull;
    }
    snprintf(out, cap, "\"%016llx-%zx\"", (unsigned long long)h, n);
}

int www_serve(struct lws *wsi, const char *path, const char *dir)
{
    if (!www_path_ok(path))
        return send_not_found(wsi);
    path = canonical(path);
    const char *type = www_mime(path);
    if (!type)
        return send_not_found(wsi);
    if (!dir || !dir[0]) {
        const www_asset *a = www_find(path);
        return a ? send_file(wsi, type, a->data, a->len, a->etag) : send_not_found(wsi);
    }
    size_t len = 0;
    unsigned char *data = read_dir_file(dir, path, &len);
    if (!data)
        return send_not_found(wsi);
    char etag[64];
    etag_of(data, len, etag, sizeof(etag));
    int rc = send_file(wsi, type, data, len, etag);
    free(data);
    return rc;
}

/* The meeting feed and calendars are public data for other sites' pages and for meeting
 * finders: any origin may read them (CORS), and a finder may keep a copy for five minutes
 * (PROTOCOL.md). The body is the caller's. */
static int send_feed(struct lws *wsi, const char *type, char *body, size_t len)
{
    unsigned char hdr[LWS_PRE + 1024];
    unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
    if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, type, len, &p, end) ||
        add_header(wsi, "access-control-allow-origin:", "*", &p, end) ||
        add_header(wsi, "cache-control:", "max-age=300", &p, end) ||
        add_header(wsi, "x-content-type-options:", "nosniff", &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    unsigned char *buf = xmalloc(LWS_PRE + len + 1);
    memcpy(buf + LWS_PRE, body, len);
    int w = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
    free(buf);
    if (w < (int)len)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* The server's own address for a calendar's join link when public_url is not set: the
 * request's scheme and Host, as for the Origin rule. A Host that is not a plain host[:port]
 * gives "localhost", so nothing odd reaches the file. */
static void request_base(struct lws *wsi, char *out, size_t cap)
{
    char host[256];
    int n = lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST);
    bool ok = n > 0 && strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789.-:[]") == (size_t)n;
    snprintf(out, cap, "%s://%s", lws_is_ssl(wsi) ? "https" : "http", ok ? host : "localhost");
}

/* GET /meetings.json and GET /rooms/<room>.ics; 1 when the path is neither. */
static int serve_feed(struct lws *wsi, const char *path)
{
    const char *slug;
    size_t n, len;
    char *body;
    if (strcmp(path, "/meetings.json") == 0) {
        body = room_feed_json(&len);
        int rc = send_feed(wsi, "application/json; charset=utf-8", body, len);
        free(body);
        return rc;
    }
    if (strncmp(path, "/rooms/", 7) != 0)
        return 1;
    if (!room_feed_ics_path(path, &slug, &n))
        return send_not_found(wsi);
    char base[320];
    request_base(wsi, base, sizeof(base));
    body = room_feed_ics(slug, n, base, &len);
    if (!body)
        return send_not_found(wsi);
    int rc = send_feed(wsi, "text/calendar; charset=utf-8", body, len);
    free(body);
    return rc;
}

int www_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* "www" named as a subprotocol: the app is HTTP, and Mutual speaks only mutual.v1 */
        return -1;
    case LWS_CALLBACK_HTTP: {
        const struct lws_protocols *pr = lws_get_protocol(wsi);
        const char *dir = pr ? pr->user : NULL;
        /* GET only (HEAD and others have no GET URI); the answer closes the transaction */
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
            return lws_return_http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, NULL) ||
                           lws_http_transaction_completed(wsi)
                       ? -1
                       : 0;
        /* the mount hands over the request's path, without its query */
        char path[256];
        size_t n = in ? strnlen(in, len) : 0;
        if (n == 0 || n >= sizeof(path))
            return send_not_found(wsi);
        memcpy(path, in, n);
        path[n] = 0;
        int rc = serve_feed(wsi, path);
        return rc != 1 ? rc : www_serve(wsi, path, dir);
    }
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
