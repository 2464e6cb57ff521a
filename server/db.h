/* One statement interface over the database engines: SQLite, embedded, for one node. The store
 * (store*.c) speaks only this, so that a second engine can sit behind it without the SQL of
 * each concern knowing which one runs. A connection and its statements belong to one thread at
 * a time; only db_interrupt may be called from another.
 * Layer: storage, over the base. */
#ifndef MUTUAL_DB_H
#define MUTUAL_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct db_conn db_conn;
typedef struct db_stmt db_stmt;

/* What db_step and db_exec return. Errors are negative and say what a caller can act on. */
typedef enum {
    DB_DONE = 0,           /* the statement ran to its end */
    DB_ROW = 1,            /* a row is ready to read */
    DB_E_CONSTRAINT = -1,  /* a unique or check constraint refused the write */
    DB_E_FOREIGN_KEY = -2, /* a referenced row does not exist */
    DB_E_UNAVAILABLE = -3, /* the disk or the connection failed: try again later */
    DB_E_INTERRUPTED = -4, /* db_interrupt, or the stop flag, ended it */
    DB_E_BUSY = -5,        /* another writer held the database past the timeout */
    DB_E_OTHER = -6        /* a mistake in the SQL or a corrupt database (logged) */
} db_rc;

enum {
    DB_OPEN_READONLY = 1, /* refuses writes */
    DB_OPEN_CREATE = 2,   /* makes the database when it does not exist */
};

/* Opens `target`, a file path. On failure returns NULL with the reason in err. The caller owns
 * the connection and closes it with db_close, which finalizes statements it still has. */
db_conn *db_open(const char *target, int flags, char *err, size_t errlen);
void db_close(db_conn *c);
/* Runs one or more statements without results. DB_DONE or an error; the error is logged with
 * the SQL unless `quiet`. */
db_rc db_exec(db_conn *c, const char *sql);
db_rc db_exec_quiet(db_conn *c, const char *sql);
/* Transactions this connection has committed, for metrics and tests. */
uint64_t db_commits(db_conn *c);
/* The last error's message on this connection (owned by the connection). */
const char *db_errmsg(db_conn *c);
/* Rows changed by the last write statement. */
int64_t db_changes(db_conn *c);
/* How long a writer waits for another to finish before DB_E_BUSY. */
void db_busy_timeout(db_conn *c, int ms);
/* Ends the statement running on c as soon as possible (DB_E_INTERRUPTED). Any thread. */
void db_interrupt(db_conn *c);
/* Long statements check *stop now and then and end with DB_E_INTERRUPTED once it is true, so
 * that a stop that lands between statements is not missed. NULL turns it off. */
void db_stop_flag(db_conn *c, const _Atomic bool *stop);
/* Folds the write-ahead log into the database file and empties it, so that erased data does
 * not linger there. */
db_rc db_checkpoint(db_conn *c);
/* Copies the database, consistent as of one moment, to a new file at `path`. */
int db_backup(db_conn *c, const char *path, char *err, size_t errlen);

/* A prepared statement, owned by the caller (db_finalize). NULL on failure: db_errmsg says. */
db_stmt *db_prepare(db_conn *c, const char *sql);
void db_finalize(db_stmt *st);
db_conn *db_stmt_conn(db_stmt *st);
/* Runs the statement, or moves to its next row. */
db_rc db_step(db_stmt *st);
/* Makes the statement ready to run again; bindings stay. */
void db_reset(db_stmt *st);
/* Sets every parameter back to NULL. */
void db_clear(db_stmt *st);

/* Parameters count from 1. Text and blobs are bound in place: they must stay alive and
 * unchanged until the statement is reset. `n` is the length in bytes, or -1 for a C string. */
void db_bind_i64(db_stmt *st, int i, int64_t v);
void db_bind_int(db_stmt *st, int i, int v);
void db_bind_null(db_stmt *st, int i);
void db_bind_text(db_stmt *st, int i, const char *s, int n);
void db_bind_blob(db_stmt *st, int i, const void *p, int n);

/* Columns count from 0 and are read while the statement is on a row; what a text or blob
 * column returns is valid until the next step or reset. NULL reads as 0 or as a NULL pointer. */
int64_t db_col_i64(db_stmt *st, int i);
int db_col_int(db_stmt *st, int i);
double db_col_double(db_stmt *st, int i);
const char *db_col_text(db_stmt *st, int i);
const void *db_col_blob(db_stmt *st, int i);
int db_col_bytes(db_stmt *st, int i); /* of a text or blob column */
bool db_col_null(db_stmt *st, int i);
/* For a column of no fixed type (a report's cells): which of these it holds. */
typedef enum { DB_T_NULL, DB_T_INT, DB_T_REAL, DB_T_TEXT, DB_T_BLOB } db_type;
db_type db_col_type(db_stmt *st, int i);
int db_col_count(db_stmt *st);
const char *db_col_name(db_stmt *st, int i);

#endif
