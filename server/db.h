/* One statement interface over the database engines: SQLite, embedded, for one node, and
 * PostgreSQL (libpq), shared by several. The store (store*.c) speaks only this. SQL is written
 * once where both engines understand it: `?` and `?N` parameters (PostgreSQL's side numbers
 * them), ON CONFLICT, RETURNING; where they differ, the caller picks by db_engine_of. A connection and its statements belong to one thread at
 * a time; only db_interrupt may be called from another.
 * Layer: storage, over the base. */
#ifndef MUTUAL_DB_H
#define MUTUAL_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db_types.h"

/* True for a postgresql:// (or postgres://) URL, as opposed to a file path. */
bool db_is_url(const char *target);
/* `target` as it may be shown or logged: a URL without its password. Returns buf. */
const char *db_display(const char *target, char *buf, size_t n);
/* Opens `target`, a file path or a PostgreSQL URL. On failure returns NULL with the reason in err. The caller owns
 * the connection and closes it with db_close, which finalizes statements it still has. */
db_conn *db_open(const char *target, int flags, char *err, size_t errlen);
void db_close(db_conn *c);
db_engine db_engine_of(const db_conn *c);
/* Starts a transaction: for writing (SQLite takes the write lock at once), or for reading,
 * when every read until the end of it sees one snapshot. */
db_rc db_begin(db_conn *c, bool write);
/* Runs one or more statements without results. DB_DONE or an error; the error is logged with
 * the SQL unless `quiet`. */
db_rc db_exec(db_conn *c, const char *sql);
db_rc db_exec_quiet(db_conn *c, const char *sql);
/* Transactions this connection has committed, for metrics and tests. */
uint64_t db_commits(db_conn *c);
/* True while the connection to a database server is lost (made again at the next statement,
 * at most once a second); always false for a file. */
bool db_lost(db_conn *c);
/* True when a statement failed in the open transaction and the engine will take no other
 * until a rollback (PostgreSQL; SQLite never refuses so). */
bool db_tx_failed(db_conn *c);
/* True while a transaction is open (a lost PostgreSQL connection counts as open until the
 * caller's ROLLBACK). */
bool db_in_tx(db_conn *c);
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
/* SQLite: after each commit on c, fn(ud, frames) runs on the committing thread, with the
 * write-ahead log's length in pages; SQLite's own checkpoint at commit is off from then on.
 * NULL puts that back. Elsewhere it does nothing. */
void db_on_commit(db_conn *c, db_commit_fn fn, void *ud);
/* SQLite: copies into the database file what of the write-ahead log it can without waiting
 * for anyone (DB_E_BUSY while another checkpoint runs); the log starts over at the next write
 * once all of it is copied. Elsewhere DB_DONE. */
db_rc db_checkpoint_passive(db_conn *c);
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
db_type db_col_type(db_stmt *st, int i);
int db_col_count(db_stmt *st);
const char *db_col_name(db_stmt *st, int i);

#endif
