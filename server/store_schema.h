/* The database schema, as an ordered list of migrations; PRAGMA user_version records how many
 * ran. Layer: storage, below store.c, which migrates every database it opens. */
#ifndef MUTUAL_STORE_SCHEMA_H
#define MUTUAL_STORE_SCHEMA_H

#include "db.h"
#include <stddef.h>

/* Brings a database to the current schema; -1 with a reason when it is newer than this build. */
int store_migrate(db_conn *db, char *err, size_t errlen);
int store_schema_version(void);

#endif
