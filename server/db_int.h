/* What an engine behind db.h provides: a table of operations, and the head that its
 * connection and statement structs begin with. Only db.c and the engines include this.
 * Layer: storage, over the base. */
#ifndef MUTUAL_DB_INT_H
#define MUTUAL_DB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db_types.h"

typedef struct db_ops {
    const char *name;
    void (*close)(db_conn *c);
    db_rc (*exec)(db_conn *c, const char *sql, bool quiet);
    const char *(*errmsg)(db_conn *c);
    int64_t (*changes)(db_conn *c);
    void (*busy_timeout)(db_conn *c, int ms);
    void (*interrupt)(db_conn *c);
    void (*stop_flag)(db_conn *c);
    db_rc (*checkpoint)(db_conn *c);
    /* SQLite only (NULL elsewhere): see db_on_commit and db_checkpoint_passive. */
    void (*on_commit)(db_conn *c);
    db_rc (*checkpoint_passive)(db_conn *c);
    int (*backup)(db_conn *c, const char *path, char *err, size_t errlen);
    db_rc (*begin)(db_conn *c, bool write);
    bool (*lost)(db_conn *c);
    bool (*tx_failed)(db_conn *c);
    bool (*in_tx)(db_conn *c);
    db_stmt *(*prepare)(db_conn *c, const char *sql);
    void (*finalize)(db_stmt *st);
    db_rc (*step)(db_stmt *st);
    void (*reset)(db_stmt *st);
    void (*clear)(db_stmt *st);
    void (*bind_i64)(db_stmt *st, int i, int64_t v);
    void (*bind_null)(db_stmt *st, int i);
    void (*bind_text)(db_stmt *st, int i, const char *s, int n);
    void (*bind_blob)(db_stmt *st, int i, const void *p, int n);
    int64_t (*col_i64)(db_stmt *st, int i);
    double (*col_double)(db_stmt *st, int i);
    const char *(*col_text)(db_stmt *st, int i);
    const void *(*col_blob)(db_stmt *st, int i);
    int (*col_bytes)(db_stmt *st, int i);
    db_type (*col_type)(db_stmt *st, int i);
    int (*col_count)(db_stmt *st);
    const char *(*col_name)(db_stmt *st, int i);
} db_ops;

/* The first member of each engine's connection. */
struct db_conn {
    const db_ops *ops;
    const _Atomic bool *stop; /* db_stop_flag */
    uint64_t commits;         /* the engine counts what it committed */
    db_commit_fn commit_fn;   /* db_on_commit */
    void *commit_ud;
};

/* The first member of each engine's statement. */
struct db_stmt {
    db_conn *conn;
};

db_conn *db_sqlite_open(const char *path, int flags, char *err, size_t errlen);
db_conn *db_pg_open(const char *url, int flags, char *err, size_t errlen);

#endif
