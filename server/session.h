/* What happens around a connection's sign-in and sign-out, beyond the account itself: the
 * concerns that keep per-user state on a connection hook in here.
 * Layer: concerns, over requests and storage. */
#ifndef MUTUAL_SESSION_H
#define MUTUAL_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"

/* After the reply to register, login or resume. */
void session_signed_in(mu_conn *c);
/* logout, a resume into another session: the connection leaves what it had joined and is
 * unauthenticated again. */
void session_signed_out(mu_conn *c);
/* The socket is gone: before the connection forgets who it was. */
void session_conn_gone(mu_conn *c);

/* Acts on what other nodes do to sessions (events.h): revocations, erasures, role changes. */
void session_events_init(void);

/* Login throttling (PROTOCOL.md, Accounts) for an attempt to prove `handle`'s password from
 * `a`: while throttled it replies rate_limited (with retry_after) and returns false. Otherwise
 * the attempt counts as a failure from now on, so parallel guesses get no more tries than
 * sequential ones, and *started is set for session_attempt_passed. */
bool session_attempt_begin(mu_conn *c, const char *handle, const mu_netaddr *a, int64_t *started);
/* The password was right: the attempt no longer counts. With `clear` (a login), the
 * address's earlier failures for the handle are forgotten too. */
void session_attempt_passed(const char *handle, const mu_netaddr *a, int64_t started, bool clear);

#endif
