/* What db_pg.c shares with db_listen.c: how a connection to PostgreSQL is made.
 * Layer: storage, over the base. */
#ifndef MUTUAL_DB_PG_H
#define MUTUAL_DB_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

/* A connection to `url` with the session settings the store needs (db.h flags), made at once,
 * or only started (PQconnectPoll goes on) with `start_only`. */
PGconn *db_pg_connect(const char *url, int flags, bool start_only);

#endif
