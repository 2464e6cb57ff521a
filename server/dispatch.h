/* The op dispatcher: reads a queued frame as a request, applies the envelope's rules in the
 * protocol's order (rate limit, malformed, unknown op, authentication, fields) and hands it to
 * the handler its op has in the one handler table. */
#ifndef MUTUAL_DISPATCH_H
#define MUTUAL_DISPATCH_H

#include "conn.h"

/* A handler replies exactly once through conn_reply*, now or after asynchronous work. */
typedef void (*handler_fn)(mu_conn *c, mu_request *r);

void dispatch_request(mu_conn *c, mu_inmsg *m);
/* Calls in progress on any connection; shutdown waits for them. */
unsigned dispatch_inflight(void);
void dispatch_call_started(void);
void dispatch_call_ended(void);

#endif
