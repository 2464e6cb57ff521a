/* The Origin rule (see origin.h). Layer: base. */
#include "origin.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIGIN_MAX 300

static bool host_char_ok(int ch)
{
    return isalnum(ch) || ch == '.' || ch == '-' || ch == '_' || ch == ':' || ch == '[' ||
           ch == ']';
}

int origin_normalize(const char *in, bool allow_path, char *out, size_t cap)
{
    const char *sep = in ? strstr(in, "://") : NULL;
    if (!sep)
        return -1;
    size_t sl = (size_t)(sep - in);
    char scheme[8];
    if (sl == 0 || sl >= sizeof(scheme))
        return -1;
    for (size_t i = 0; i < sl; i++)
        scheme[i] = (char)tolower((unsigned char)in[i]);
    scheme[sl] = 0;
    bool https = strcmp(scheme, "https") == 0;
    if (!https && strcmp(scheme, "http") != 0)
        return -1;

    const char *h = sep + 3;
    size_t hl = strcspn(h, "/?#");
    if (h[hl] && !allow_path)
        return -1;
    if (hl == 0 || hl >= ORIGIN_MAX)
        return -1;
    char host[ORIGIN_MAX] = {0}; /* zeroed: the analyzer cannot follow the copy loop */
    for (size_t i = 0; i < hl; i++) {
        if (!host_char_ok((unsigned char)h[i]))
            return -1; /* user info (@), spaces, control bytes: not an origin */
        host[i] = (char)tolower((unsigned char)h[i]);
    }
    host[hl] = 0;

    /* Split off the port: after "]" for an IPv6 literal, else after the only colon. */
    char *port = NULL;
    if (host[0] == '[') {
        char *close = strchr(host, ']');
        if (!close || close == host + 1)
            return -1;
        if (close[1] == ':')
            port = close + 1;
        else if (close[1])
            return -1;
        for (char *q = host + 1; q < close; q++)
            if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
                return -1;
    } else {
        port = strchr(host, ':');
        if (port && strchr(port + 1, ':'))
            return -1;
        if (strchr(host, '[') || strchr(host, ']'))
            return -1;
    }
    long pn = -1;
    if (port) {
        *port = 0;
        const char *digits = port + 1;
        if (!*digits || strlen(digits) > 5)
            return -1;
        for (const char *q = digits; *q; q++)
            if (!isdigit((unsigned char)*q))
                return -1;
        pn = strtol(digits, NULL, 10);
        if (pn < 1 || pn > 65535)
            return -1;
    }
    if (!host[0])
        return -1;
    int n;
    if (pn < 0 || pn == (https ? 443 : 80))
        n = snprintf(out, cap, "%s://%s", scheme, host);
    else
        n = snprintf(out, cap, "%s://%s:%ld", scheme, host, pn);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Calls fn on each entry of a comma- or space-separated list; stops at the first nonzero. */
static int list_each(const char *list, int (*fn)(const char *item, void *arg), void *arg)
{
    const char *p = list ? list : "";
    while (*p) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (!n)
            break;
        char item[ORIGIN_MAX];
        if (n >= sizeof(item))
            return fn("", arg); /* too long to be an origin: let fn reject it */
        memcpy(item, p, n);
        item[n] = 0;
        int rc = fn(item, arg);
        if (rc)
            return rc;
        p += n;
    }
    return 0;
}

typedef struct {
    char *err;
    size_t errlen;
} check_arg;

static int check_item(const char *item, void *arg)
{
    check_arg *a = arg;
    char norm[ORIGIN_MAX];
    if (origin_normalize(item, false, norm, sizeof(norm)) != 0) {
        snprintf(a->err, a->errlen,
                 "allowed_origins: '%s' is not an origin (scheme://host[:port], http or https)",
                 item);
        return -1;
    }
    return 0;
}

int origin_check_config(const mu_config *cfg, char *err, size_t errlen)
{
    char norm[ORIGIN_MAX];
    if (cfg->public_url && cfg->public_url[0] &&
        origin_normalize(cfg->public_url, true, norm, sizeof(norm)) != 0) {
        snprintf(err, errlen,
                 "public_url: '%s' is not an http(s) URL such as "
                 "https://mutual.example.org",
                 cfg->public_url);
        return -1;
    }
    check_arg a = {err, errlen};
    return list_each(cfg->allowed_origins, check_item, &a);
}

static int match_item(const char *item, void *arg)
{
    char norm[ORIGIN_MAX];
    return origin_normalize(item, false, norm, sizeof(norm)) == 0 && strcmp(norm, arg) == 0;
}

bool origin_allowed(const mu_config *cfg, const char *origin, const char *host, bool tls)
{
    if (!origin)
        return true;
    char got[ORIGIN_MAX], own[ORIGIN_MAX];
    /* "null" (sandboxed frames, file: pages) and anything malformed never match. */
    if (origin_normalize(origin, false, got, sizeof(got)) != 0)
        return false;
    if (cfg->public_url && cfg->public_url[0]) {
        if (origin_normalize(cfg->public_url, true, own, sizeof(own)) == 0 && !strcmp(got, own))
            return true;
    } else if (host && host[0]) {
        char url[ORIGIN_MAX + 16];
        snprintf(url, sizeof(url), "%s://%s", tls ? "https" : "http", host);
        if (origin_normalize(url, false, own, sizeof(own)) == 0 && !strcmp(got, own))
            return true;
    }
    return list_each(cfg->allowed_origins, match_item, got) == 1;
}
