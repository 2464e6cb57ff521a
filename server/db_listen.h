/* Notifications between nodes that share a PostgreSQL database: one connection per node that
 * LISTENs on a channel, driven by the loop (libpq's non-blocking calls on a uv_poll of its
 * socket), so that waiting for a notification never blocks. Writers send with pg_notify inside
 * their own transaction (store_notify), so a rolled-back write notifies nobody.
 * NOTIFY has no replay: when the connection drops, it is made again (once a second, without
 * blocking) and `up` is called each time it listens again, so that the caller can re-read
 * what it may have missed. Loop thread only. Layer: storage, over the base. */
#ifndef MUTUAL_DB_LISTEN_H
#define MUTUAL_DB_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct db_listener db_listener;
typedef void (*db_notify_fn)(const char *payload, void *ud);
/* Listening began (first time, or after a drop): `again` is false the first time. */
typedef void (*db_listen_up_fn)(bool again, void *ud);

/* Starts connecting to `url` and listening on `channel` (a plain identifier). Returns at once;
 * NULL only when the arguments are unusable. The caller owns the listener (db_listener_close). */
db_listener *db_listen(uv_loop_t *loop, const char *url, const char *channel, db_notify_fn fn,
                       db_listen_up_fn up, void *ud);
bool db_listener_up(const db_listener *l);
/* Stops and frees (the loop finishes closing its handles). */
void db_listener_close(db_listener *l);

#endif
