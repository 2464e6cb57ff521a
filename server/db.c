/* The statement interface on SQLite (see db.h). A thin layer: each call is the SQLite call it
 * names, with SQLite's result codes folded into the few that the store acts on.
 * Layer: storage, over the base. */
#include "db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

struct db_conn {
    sqlite3 *lite;
    const _Atomic bool *stop; /* db_stop_flag */
    uint64_t commits;
};

struct db_stmt {
    db_conn *conn;
    sqlite3_stmt *lite;
};

static db_rc fold(sqlite3 *db, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE: return DB_DONE;
    case SQLITE_ROW: return DB_ROW;
    case SQLITE_CONSTRAINT:
        return sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_FOREIGNKEY ? DB_E_FOREIGN_KEY
                                                                            : DB_E_CONSTRAINT;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN: return DB_E_UNAVAILABLE;
    case SQLITE_INTERRUPT: return DB_E_INTERRUPTED;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return DB_E_BUSY;
    default: return DB_E_OTHER;
    }
}

static int on_commit(void *arg)
{
    db_conn *c = arg;
    c->commits++;
    return 0; /* let it commit */
}

db_conn *db_open(const char *target, int flags, char *err, size_t errlen)
{
    sqlite3 *lite = NULL;
    int f = SQLITE_OPEN_NOMUTEX;
    if (flags & DB_OPEN_READONLY)
        f |= SQLITE_OPEN_READONLY;
    else
        f |= SQLITE_OPEN_READWRITE | ((flags & DB_OPEN_CREATE) ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(target, &lite, f, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", target,
                 lite ? sqlite3_errmsg(lite) : sqlite3_errstr(rc));
        sqlite3_close(lite);
        return NULL;
    }
    sqlite3_extended_result_codes(lite, 1);
    db_conn *c = xcalloc(1, sizeof(*c));
    c->lite = lite;
    sqlite3_commit_hook(lite, on_commit, c);
    return c;
}

void db_close(db_conn *c)
{
    if (!c)
        return;
    sqlite3_close_v2(c->lite); /* v2: statements a caller forgot do not keep it open */
    free(c);
}

static db_rc exec(db_conn *c, const char *sql, bool quiet)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->lite, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK && !quiet)
        log_error("sql '%s' failed: %s", sql, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return fold(c->lite, rc);
}

db_rc db_exec(db_conn *c, const char *sql)
{
    return exec(c, sql, false);
}

db_rc db_exec_quiet(db_conn *c, const char *sql)
{
    return exec(c, sql, true);
}

uint64_t db_commits(db_conn *c)
{
    return c->commits;
}

const char *db_errmsg(db_conn *c)
{
    return sqlite3_errmsg(c->lite);
}

int64_t db_changes(db_conn *c)
{
    return sqlite3_changes64(c->lite);
}

void db_busy_timeout(db_conn *c, int ms)
{
    sqlite3_busy_timeout(c->lite, ms);
}

void db_interrupt(db_conn *c)
{
    sqlite3_interrupt(c->lite);
}

static int on_progress(void *arg)
{
    const db_conn *c = arg;
    return *c->stop; /* non-zero interrupts the statement */
}

void db_stop_flag(db_conn *c, const _Atomic bool *stop)
{
    c->stop = stop;
    sqlite3_progress_handler(c->lite, stop ? 1000 : 0, stop ? on_progress : NULL, c);
}

db_rc db_checkpoint(db_conn *c)
{
    int rc = sqlite3_wal_checkpoint_v2(c->lite, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc != SQLITE_OK)
        log_error("checkpoint failed: %s", sqlite3_errmsg(c->lite));
    return fold(c->lite, rc);
}

int db_backup(db_conn *c, const char *path, char *err, size_t errlen)
{
    sqlite3 *out = NULL;
    int rc = -1;
    if (sqlite3_open(path, &out) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create %s: %s", path, sqlite3_errmsg(out));
        goto cleanup;
    }
    /* The online backup API copies a consistent snapshot while the server keeps writing;
     * steps of 256 pages let the writer in between. */
    sqlite3_backup *b = sqlite3_backup_init(out, "main", c->lite, "main");
    if (!b) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(out));
        goto cleanup;
    }
    int step;
    while ((step = sqlite3_backup_step(b, 256)) == SQLITE_OK || step == SQLITE_BUSY ||
           step == SQLITE_LOCKED)
        sqlite3_sleep(5);
    sqlite3_backup_finish(b);
    if (step != SQLITE_DONE) {
        snprintf(err, errlen, "%s", sqlite3_errstr(step));
        goto cleanup;
    }
    rc = 0;
cleanup:
    sqlite3_close(out);
    return rc;
}

db_stmt *db_prepare(db_conn *c, const char *sql)
{
    sqlite3_stmt *lite = NULL;
    if (sqlite3_prepare_v3(c->lite, sql, -1, SQLITE_PREPARE_PERSISTENT, &lite, NULL) != SQLITE_OK) {
        log_error("sql prepare failed: %s: %s", sqlite3_errmsg(c->lite), sql);
        return NULL;
    }
    db_stmt *st = xcalloc(1, sizeof(*st));
    st->conn = c;
    st->lite = lite;
    return st;
}

void db_finalize(db_stmt *st)
{
    if (!st)
        return;
    sqlite3_finalize(st->lite);
    free(st);
}

db_conn *db_stmt_conn(db_stmt *st)
{
    return st->conn;
}

db_rc db_step(db_stmt *st)
{
    return fold(st->conn->lite, sqlite3_step(st->lite));
}

void db_reset(db_stmt *st)
{
    sqlite3_reset(st->lite);
}

void db_clear(db_stmt *st)
{
    sqlite3_clear_bindings(st->lite);
}

void db_bind_i64(db_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(st->lite, i, v);
}

void db_bind_int(db_stmt *st, int i, int v)
{
    sqlite3_bind_int(st->lite, i, v);
}

void db_bind_null(db_stmt *st, int i)
{
    sqlite3_bind_null(st->lite, i);
}

void db_bind_text(db_stmt *st, int i, const char *s, int n)
{
    sqlite3_bind_text(st->lite, i, s, n, SQLITE_STATIC);
}

void db_bind_blob(db_stmt *st, int i, const void *p, int n)
{
    sqlite3_bind_blob(st->lite, i, p, n, SQLITE_STATIC);
}

int64_t db_col_i64(db_stmt *st, int i)
{
    return sqlite3_column_int64(st->lite, i);
}

int db_col_int(db_stmt *st, int i)
{
    return sqlite3_column_int(st->lite, i);
}

double db_col_double(db_stmt *st, int i)
{
    return sqlite3_column_double(st->lite, i);
}

const char *db_col_text(db_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st->lite, i);
}

const void *db_col_blob(db_stmt *st, int i)
{
    return sqlite3_column_blob(st->lite, i);
}

int db_col_bytes(db_stmt *st, int i)
{
    return sqlite3_column_bytes(st->lite, i);
}

bool db_col_null(db_stmt *st, int i)
{
    return sqlite3_column_type(st->lite, i) == SQLITE_NULL;
}

db_type db_col_type(db_stmt *st, int i)
{
    switch (sqlite3_column_type(st->lite, i)) {
    case SQLITE_INTEGER: return DB_T_INT;
    case SQLITE_FLOAT: return DB_T_REAL;
    case SQLITE_TEXT: return DB_T_TEXT;
    case SQLITE_BLOB: return DB_T_BLOB;
    default: return DB_T_NULL;
    }
}

int db_col_count(db_stmt *st)
{
    return sqlite3_column_count(st->lite);
}

const char *db_col_name(db_stmt *st, int i)
{
    return sqlite3_column_name(st->lite, i);
}
