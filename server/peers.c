/* Per-address limits (see peers.h). Layer: base (calls nothing of the server's above it). */
#include "peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"
#include "xalloc.h"

typedef struct conn_count {
    struct conn_count *next;
    mu_netaddr key;
    unsigned n;
} conn_count;

static struct {
    bool on;
    peers_config cfg;
    mu_netlist exempt;
    mu_netaddr proxy;
    bool has_proxy;
    mu_throttle *login, *reg;
    /* Open connections by limit key; an entry goes with its last connection, so the table
     * never holds more entries than there are connections. */
    conn_count **buckets;
    size_t nbuckets;
} P;

int peers_init(const peers_config *cfg, char *err, size_t errlen)
{
    peers_shutdown();
    char why[160];
    if (netlist_parse(&P.exempt, cfg->limit_exempt, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "limit_exempt: %s", why);
        return -1;
    }
    P.has_proxy = false;
    if (cfg->trusted_proxy[0]) {
        if (netaddr_parse(cfg->trusted_proxy, strlen(cfg->trusted_proxy), &P.proxy) != 0) {
            snprintf(err, errlen, "trusted_proxy: '%s' is not an address", cfg->trusted_proxy);
            netlist_free(&P.exempt);
            return -1;
        }
        P.has_proxy = true;
    }
    P.cfg = *cfg;
    P.login = throttle_new(cfg->login_max_failures_per_addr, cfg->login_window_ms, cfg->capacity);
    P.reg = throttle_new(cfg->register_per_addr_hour, 3600000, cfg->capacity);
    P.nbuckets = 4096;
    P.buckets = xcalloc(P.nbuckets, sizeof(conn_count *));
    P.on = true;
    return 0;
}

void peers_shutdown(void)
{
    for (size_t i = 0; i < P.nbuckets; i++)
        for (conn_count *e = P.buckets[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    free(P.buckets);
    throttle_free(P.login);
    throttle_free(P.reg);
    netlist_free(&P.exempt);
    memset(&P, 0, sizeof(P));
}

mu_netaddr peers_source(const mu_netaddr *peer, const char *xff)
{
    mu_netaddr a;
    if (P.has_proxy && xff && netaddr_equal(peer, &P.proxy) && netaddr_last_forwarded(xff, &a) == 0)
        return a;
    return *peer;
}

bool peers_exempt(const mu_netaddr *a)
{
    return P.on && netlist_has(&P.exempt, a);
}

/* ---- connections ------------------------------------------------------------------------ */

static conn_count **count_find(const mu_netaddr *key)
{
    size_t h = 1469598103934665603ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ key->b[i]) * 1099511628211ull;
    conn_count **pp = &P.buckets[h % P.nbuckets];
    while (*pp && !netaddr_equal(&(*pp)->key, key))
        pp = &(*pp)->next;
    return pp;
}

unsigned peers_conns(const mu_netaddr *a)
{
    if (!P.on)
        return 0;
    mu_netaddr key = netaddr_limit_key(a);
    conn_count *e = *count_find(&key);
    return e ? e->n : 0;
}

bool peers_conn_allowed(const mu_netaddr *a)
{
    return !P.on || peers_exempt(a) || peers_conns(a) < P.cfg.max_conns_per_addr;
}

void peers_conn_open(const mu_netaddr *a)
{
    if (!P.on)
        return;
    mu_netaddr key = netaddr_limit_key(a);
    conn_count **pp = count_find(&key);
    if (!*pp) {
        *pp = xcalloc(1, sizeof(**pp));
        (*pp)->key = key;
    }
    (*pp)->n++;
}

void peers_conn_close(const mu_netaddr *a)
{
    if (!P.on)
        return;
    mu_netaddr key = netaddr_limit_key(a);
    conn_count **pp = count_find(&key);
    conn_count *e = *pp;
    if (e && --e->n == 0) {
        *pp = e->next;
        free(e);
    }
}

/* ---- logins and registrations ------------------------------------------------------------ */

int64_t peers_login_wait(const mu_netaddr *a, int64_t now_ms)
{
    if (!P.on || peers_exempt(a))
        return 0;
    mu_netaddr key = netaddr_limit_key(a);
    return throttle_wait(P.login, "", &key, now_ms);
}

void peers_login_started(const mu_netaddr *a, int64_t now_ms)
{
    if (!P.on || peers_exempt(a))
        return;
    mu_netaddr key = netaddr_limit_key(a);
    throttle_fail(P.login, "", &key, now_ms);
}

void peers_login_succeeded(const mu_netaddr *a, int64_t started_ms)
{
    if (!P.on || peers_exempt(a))
        return;
    mu_netaddr key = netaddr_limit_key(a);
    throttle_unfail(P.login, "", &key, started_ms);
}

int64_t peers_register_wait(const mu_netaddr *a, int64_t now_ms)
{
    if (!P.on || peers_exempt(a))
        return 0;
    mu_netaddr key = netaddr_limit_key(a);
    return throttle_wait(P.reg, "", &key, now_ms);
}

void peers_register_started(const mu_netaddr *a, int64_t now_ms)
{
    if (!P.on || peers_exempt(a))
        return;
    mu_netaddr key = netaddr_limit_key(a);
    throttle_fail(P.reg, "", &key, now_ms);
}

void peers_register_failed(const mu_netaddr *a, int64_t started_ms)
{
    if (!P.on || peers_exempt(a))
        return;
    mu_netaddr key = netaddr_limit_key(a);
    throttle_unfail(P.reg, "", &key, started_ms);
}

mu_throttle *peers_login_throttle(void)
{
    return P.login;
}

mu_throttle *peers_register_throttle(void)
{
    return P.reg;
}
