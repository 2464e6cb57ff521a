/* The libwebsockets glue: the context on our libuv loop, the WebSocket and HTTP callbacks,
 * and the send path. Queued frames go out in one raw write per connection per loop iteration
 * (from dispatch_run_pending, which a uv_check handle calls); only when the kernel does not
 * take everything do we wait for lws to say the socket is writable again. It gives each
 * connection its mu_transport and hands whole messages and closed sockets to dispatch.c.
 * Layer: transport, above the request layer; only server.c calls it. */
#ifndef MUTUAL_TRANSPORT_H
#define MUTUAL_TRANSPORT_H

#include <stddef.h>

#include "context.h"

int transport_start(mu_server *s, char *err, size_t errlen);
/* First half of the foreign-loop teardown: from inside the running loop. */
void transport_stop(mu_server *s);
/* Second half: after uv_run has returned. */
void transport_destroy(mu_server *s);

#endif
