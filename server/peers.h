/* What the server keeps per source address: open WebSocket connections (max_conns_per_addr),
 * the per-address login ceiling, the registration limit, the addresses exempt from these
 * (limit_exempt) and the reverse proxy whose X-Forwarded-For is believed (trusted_proxy).
 * Module state on the loop thread, like conn.c's; before peers_init nothing is limited.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_PEERS_H
#define MUTUAL_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"
#include "throttle.h"

typedef struct {
    const char *limit_exempt;  /* address list text */
    const char *trusted_proxy; /* one address, or "" */
    unsigned max_conns_per_addr;
    unsigned login_max_failures_per_addr;
    int64_t login_window_ms;
    unsigned register_per_addr_hour;
    size_t capacity; /* addresses tracked by each table, at most */
} peers_config;

/* Parses the address settings. On failure returns -1 with the setting and reason in err. */
int peers_init(const peers_config *cfg, char *err, size_t errlen);
void peers_shutdown(void);

/* The source address of a request: the TCP peer's, or when the peer is the trusted proxy and
 * `xff` (its X-Forwarded-For, or NULL) names one, the last address it names. */
mu_netaddr peers_source(const mu_netaddr *peer, const char *xff);
bool peers_exempt(const mu_netaddr *a);

/* Whether one more WebSocket connection from `a` is allowed now. */
bool peers_conn_allowed(const mu_netaddr *a);
void peers_conn_open(const mu_netaddr *a);
void peers_conn_close(const mu_netaddr *a);
/* Open connections counted for `a`'s limit key (for tests). */
unsigned peers_conns(const mu_netaddr *a);

/* Milliseconds until a login from `a` is allowed by the per-address ceiling; 0 now. */
int64_t peers_login_wait(const mu_netaddr *a, int64_t now_ms);
/* A login from `a` started (it counts as a failure until it succeeds). */
void peers_login_started(const mu_netaddr *a, int64_t now_ms);
/* The login started at `started_ms` succeeded: it no longer counts. */
void peers_login_succeeded(const mu_netaddr *a, int64_t started_ms);

/* Milliseconds until a registration from `a` is allowed; 0 now. */
int64_t peers_register_wait(const mu_netaddr *a, int64_t now_ms);
/* A registration from `a` started; it counts unless it fails (peers_register_failed). */
void peers_register_started(const mu_netaddr *a, int64_t now_ms);
void peers_register_failed(const mu_netaddr *a, int64_t started_ms);

/* The counts behind the login ceiling and the registration limit (throttle_share.h shares
 * them between nodes); NULL before peers_init. */
mu_throttle *peers_login_throttle(void);
mu_throttle *peers_register_throttle(void);

#endif
