/* The libwebsockets glue: the context on our libuv loop, the WebSocket and HTTP callbacks,
 * and the send path. Queued frames go out in one raw write per connection per loop iteration
 * (from conn_run_pending, which a uv_check handle calls); only when the kernel does not take
 * everything do we wait for lws to say the socket is writable again. */
#ifndef MUTUAL_TRANSPORT_H
#define MUTUAL_TRANSPORT_H

#include <stddef.h>

#include "server.h"

struct mu_conn;

int transport_start(mu_server *s, char *err, size_t errlen);
/* First half of the foreign-loop teardown: from inside the running loop. */
void transport_stop(mu_server *s);
/* Second half: after uv_run has returned. */
void transport_destroy(mu_server *s);

/* Writes what the connection has queued (from conn_run_pending only). */
void transport_flush(struct mu_conn *c);
/* A closing connection whose peer does not read is dropped after a few seconds. */
void transport_close_soon(struct mu_conn *c);

#endif
