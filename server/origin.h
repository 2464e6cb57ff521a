/* The Origin rule for WebSocket upgrades (PROTOCOL.md, Transport): a browser page from another
 * site must not be able to act with a visitor's connection, while programs that send no Origin
 * are not affected. Pure string work, so it is tested without sockets.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_ORIGIN_H
#define MUTUAL_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Writes the canonical form of an origin: lower-case `http` or `https` scheme, lower-case host,
 * the port only when it is not the scheme's default. With allow_path, a path, query or fragment
 * after the host is dropped (for public_url); without, anything after the host is an error.
 * Returns 0, or -1 when `in` is not an http(s) origin. */
int origin_normalize(const char *in, bool allow_path, char *out, size_t cap);

/* Checks public_url and allowed_origins; on failure -1 with the reason in err. */
int origin_check_config(const mu_config *cfg, char *err, size_t errlen);

/* Decides an upgrade: `origin` the request's Origin header (NULL when it had none), `host` its
 * Host header (NULL when none), `tls` whether the request came over TLS. True when it may go on:
 * no Origin, or the server's own origin (public_url's when set, else the request's scheme and
 * Host), or one listed in allowed_origins. */
bool origin_allowed(const mu_config *cfg, const char *origin, const char *host, bool tls);

#endif
