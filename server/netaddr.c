/* Network addresses (see netaddr.h). Layer: base (calls nothing of the server's above it). */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "xalloc.h"

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

int netaddr_parse(const char *s, size_t n, mu_netaddr *out)
{
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    while (n && is_space(s[n - 1]))
        n--;
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    struct in_addr a4;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        memcpy(out->b, v4_prefix, 12);
        memcpy(out->b + 12, &a4, 4);
        return 0;
    }
    struct in6_addr a6;
    if (inet_pton(AF_INET6, buf, &a6) == 1) {
        memcpy(out->b, &a6, 16);
        return 0;
    }
    return -1;
}

int netaddr_from_sockaddr(const struct sockaddr *sa, mu_netaddr *out)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(out->b, v4_prefix, 12);
        memcpy(out->b + 12, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(out->b, &in6->sin6_addr, 16);
        return 0;
    }
    return -1;
}

bool netaddr_is_v4(const mu_netaddr *a)
{
    return memcmp(a->b, v4_prefix, 12) == 0;
}

void netaddr_format(const mu_netaddr *a, char *buf, size_t cap)
{
    if (netaddr_is_v4(a))
        inet_ntop(AF_INET, a->b + 12, buf, (socklen_t)cap);
    else
        inet_ntop(AF_INET6, a->b, buf, (socklen_t)cap);
}

bool netaddr_equal(const mu_netaddr *a, const mu_netaddr *b)
{
    return memcmp(a->b, b->b, 16) == 0;
}

mu_netaddr netaddr_limit_key(const mu_netaddr *a)
{
    mu_netaddr k = *a;
    if (!netaddr_is_v4(a))
        memset(k.b + 8, 0, 8);
    return k;
}

int netaddr_last_forwarded(const char *xff, mu_netaddr *out)
{
    const char *comma = strrchr(xff, ',');
    const char *item = comma ? comma + 1 : xff;
    return netaddr_parse(item, strlen(item), out);
}

static bool prefix_match(const mu_netaddr *a, const mu_netaddr *p, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a->b, p->b, whole) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->b[whole] & mask) == (p->b[whole] & mask);
}

int netlist_parse(mu_netlist *l, const char *text, char *err, size_t errlen)
{
    mu_netlist out = {0};
    const char *p = text;
    while (*p) {
        while (*p == ',' || is_space(*p))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ',' && !is_space(*p))
            p++;
        size_t n = (size_t)(p - start);
        const char *slash = memchr(start, '/', n);
        size_t alen = slash ? (size_t)(slash - start) : n;
        struct netlist_entry e;
        bool ok = netaddr_parse(start, alen, &e.addr) == 0;
        bool v4 = ok && netaddr_is_v4(&e.addr);
        e.bits = 128;
        if (ok && slash) {
            char *end;
            char num[8] = {0};
            size_t nl = n - alen - 1;
            ok = nl > 0 && nl < sizeof(num);
            if (ok) {
                memcpy(num, slash + 1, nl);
                unsigned long b = strtoul(num, &end, 10);
                ok = *end == 0 && b <= (v4 ? 32u : 128u);
                e.bits = (unsigned)b + (v4 ? 96u : 0u);
            }
        }
        if (!ok) {
            snprintf(err, errlen, "'%.*s' is not an address or ADDRESS/PREFIX", (int)n, start);
            free(out.v);
            return -1;
        }
        out.v = xreallocarray(out.v, out.n + 1, sizeof(*out.v));
        out.v[out.n++] = e;
    }
    netlist_free(l);
    *l = out;
    return 0;
}

bool netlist_has(const mu_netlist *l, const mu_netaddr *a)
{
    for (size_t i = 0; i < l->n; i++)
        if (prefix_match(a, &l->v[i].addr, l->v[i].bits))
            return true;
    return false;
}

void netlist_free(mu_netlist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
