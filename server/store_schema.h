/* The database schema, as an ordered list of migrations for each engine: SQLite's PRAGMA
 * user_version, or PostgreSQL's mutual_schema table, records how many ran.
 * Layer: storage, below store.c, which migrates every database it opens. */
#ifndef MUTUAL_STORE_SCHEMA_H
#define MUTUAL_STORE_SCHEMA_H

#include <stddef.h>

#include "db.h"

/* Brings a database to the current schema; -1 with a reason when it is newer than this build. */
int store_migrate(db_conn *db, char *err, size_t errlen);
/* The version this build migrates to, on each engine. */
int store_schema_version(db_engine e);
/* The version a database has now; -1 when it cannot be read. */
int store_schema_version_of(db_conn *db);

/* PostgreSQL's migrations (store_schema_pg.c). */
extern const char *const store_schema_pg[];
extern const int store_schema_pg_count;

#endif
