/* SQLite behind db.h: each operation is the SQLite call it names, with SQLite's result codes
 * folded into the few that the store acts on. Layer: storage, over the base. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "log.h"
#include "xalloc.h"

/* The writer runs these around every job: compiled once per connection, not at each batch
 * (compiling them was a third of a one-message batch's time outside its commit). */
static const char *const tx_sql[] = {"BEGIN IMMEDIATE", "BEGIN",       "COMMIT",         "ROLLBACK",
                                     "SAVEPOINT job",   "RELEASE job", "ROLLBACK TO job"};
#define TX_SQL_N (sizeof(tx_sql) / sizeof(tx_sql[0]))

typedef struct {
    db_conn head;
    sqlite3 *lite;
    sqlite3_stmt *tx[TX_SQL_N]; /* owned; NULL until first used */
} lite_conn;

typedef struct {
    db_stmt head;
    sqlite3_stmt *lite;
} lite_stmt;

static sqlite3 *L(db_conn *c)
{
    return ((lite_conn *)c)->lite;
}

static sqlite3_stmt *S(db_stmt *st)
{
    return ((lite_stmt *)st)->lite;
}

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

static void lite_close(db_conn *c)
{
    for (size_t i = 0; i < TX_SQL_N; i++)
        sqlite3_finalize(((lite_conn *)c)->tx[i]);
    sqlite3_close_v2(L(c)); /* v2: statements a caller forgot do not keep it open */
    free(c);
}

/* One of tx_sql, from the connection's own compiled copy; NULL when sql is not one. */
static sqlite3_stmt *tx_stmt(db_conn *c, const char *sql)
{
    lite_conn *lc = (lite_conn *)c;
    for (size_t i = 0; i < TX_SQL_N; i++) {
        if (strcmp(sql, tx_sql[i]) != 0)
            continue;
        if (!lc->tx[i] && sqlite3_prepare_v3(lc->lite, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                             &lc->tx[i], NULL) != SQLITE_OK)
            return NULL; /* sqlite3_exec below says why */
        return lc->tx[i];
    }
    return NULL;
}

static db_rc lite_exec(db_conn *c, const char *sql, bool quiet)
{
    sqlite3_stmt *tx = tx_stmt(c, sql);
    if (tx) {
        int rc = sqlite3_step(tx);
        sqlite3_reset(tx);
        if (rc != SQLITE_DONE && !quiet)
            log_error("sql '%s' failed: %s", sql, sqlite3_errmsg(L(c)));
        return fold(L(c), rc);
    }
    char *msg = NULL;
    int rc = sqlite3_exec(L(c), sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK && !quiet)
        log_error("sql '%s' failed: %s", sql, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return fold(L(c), rc);
}

static const char *lite_errmsg(db_conn *c)
{
    return sqlite3_errmsg(L(c));
}

static int64_t lite_changes(db_conn *c)
{
    return sqlite3_changes64(L(c));
}

static void lite_busy_timeout(db_conn *c, int ms)
{
    sqlite3_busy_timeout(L(c), ms);
}

static void lite_interrupt(db_conn *c)
{
    sqlite3_interrupt(L(c));
}

static int on_progress(void *arg)
{
    const db_conn *c = arg;
    return *c->stop; /* non-zero interrupts the statement */
}

static void lite_stop_flag(db_conn *c)
{
    sqlite3_progress_handler(L(c), c->stop ? 1000 : 0, c->stop ? on_progress : NULL, c);
}

static db_rc lite_checkpoint(db_conn *c)
{
    int rc = sqlite3_wal_checkpoint_v2(L(c), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc != SQLITE_OK)
        log_error("checkpoint failed: %s", sqlite3_errmsg(L(c)));
    return fold(L(c), rc);
}

static int on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    db_conn *c = arg;
    c->commit_fn(c->commit_ud, frames);
    return SQLITE_OK;
}

static void lite_on_commit(db_conn *c)
{
    if (c->commit_fn)
        sqlite3_wal_hook(L(c), on_wal, c); /* replaces the automatic checkpoint */
    else
        sqlite3_wal_autocheckpoint(L(c), 1000); /* SQLite's default */
}

static db_rc lite_checkpoint_passive(db_conn *c)
{
    int rc = sqlite3_wal_checkpoint_v2(L(c), NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        log_error("checkpoint failed: %s", sqlite3_errmsg(L(c)));
    return fold(L(c), rc);
}

static int lite_backup(db_conn *c, const char *path, char *err, size_t errlen)
{
    sqlite3 *out = NULL;
    int rc = -1;
    if (sqlite3_open(path, &out) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create %s: %s", path, sqlite3_errmsg(out));
        goto cleanup;
    }
    /* The online backup API copies a consistent snapshot while the server keeps writing;
     * steps of 256 pages let the writer in between. */
    sqlite3_backup *b = sqlite3_backup_init(out, "main", L(c), "main");
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

static bool lite_lost(db_conn *c)
{
    (void)c;
    return false; /* a file, not a server */
}

/* SQLite takes the next statement after a failed one; what it may do instead is roll the
 * whole transaction back, which lite_in_tx tells. */
static bool lite_tx_failed(db_conn *c)
{
    (void)c;
    return false;
}

static bool lite_in_tx(db_conn *c)
{
    return !sqlite3_get_autocommit(L(c));
}

static db_rc lite_begin(db_conn *c, bool write)
{
    /* IMMEDIATE: the write lock now, not at the first write, so that a busy database shows at
     * BEGIN rather than halfway through a batch. */
    return lite_exec(c, write ? "BEGIN IMMEDIATE" : "BEGIN", false);
}

static db_stmt *lite_prepare(db_conn *c, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(L(c), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        log_error("sql prepare failed: %s: %s", sqlite3_errmsg(L(c)), sql);
        return NULL;
    }
    lite_stmt *st = xcalloc(1, sizeof(*st));
    st->head.conn = c;
    st->lite = s;
    return &st->head;
}

static void lite_finalize(db_stmt *st)
{
    sqlite3_finalize(S(st));
    free(st);
}

static db_rc lite_step(db_stmt *st)
{
    return fold(L(st->conn), sqlite3_step(S(st)));
}

static void lite_reset(db_stmt *st)
{
    sqlite3_reset(S(st));
}

static void lite_clear(db_stmt *st)
{
    sqlite3_clear_bindings(S(st));
}

static void lite_bind_i64(db_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(S(st), i, v);
}

static void lite_bind_null(db_stmt *st, int i)
{
    sqlite3_bind_null(S(st), i);
}

static void lite_bind_text(db_stmt *st, int i, const char *s, int n)
{
    sqlite3_bind_text(S(st), i, s, n, SQLITE_STATIC);
}

static void lite_bind_blob(db_stmt *st, int i, const void *p, int n)
{
    sqlite3_bind_blob(S(st), i, p, n, SQLITE_STATIC);
}

static int64_t lite_col_i64(db_stmt *st, int i)
{
    return sqlite3_column_int64(S(st), i);
}

static double lite_col_double(db_stmt *st, int i)
{
    return sqlite3_column_double(S(st), i);
}

static const char *lite_col_text(db_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(S(st), i);
}

static const void *lite_col_blob(db_stmt *st, int i)
{
    return sqlite3_column_blob(S(st), i);
}

static int lite_col_bytes(db_stmt *st, int i)
{
    return sqlite3_column_bytes(S(st), i);
}

static db_type lite_col_type(db_stmt *st, int i)
{
    switch (sqlite3_column_type(S(st), i)) {
    case SQLITE_INTEGER: return DB_T_INT;
    case SQLITE_FLOAT: return DB_T_REAL;
    case SQLITE_TEXT: return DB_T_TEXT;
    case SQLITE_BLOB: return DB_T_BLOB;
    default: return DB_T_NULL;
    }
}

static int lite_col_count(db_stmt *st)
{
    return sqlite3_column_count(S(st));
}

static const char *lite_col_name(db_stmt *st, int i)
{
    return sqlite3_column_name(S(st), i);
}

static const db_ops lite_ops = {
    .name = "sqlite",
    .close = lite_close,
    .exec = lite_exec,
    .errmsg = lite_errmsg,
    .changes = lite_changes,
    .busy_timeout = lite_busy_timeout,
    .interrupt = lite_interrupt,
    .stop_flag = lite_stop_flag,
    .checkpoint = lite_checkpoint,
    .on_commit = lite_on_commit,
    .checkpoint_passive = lite_checkpoint_passive,
    .backup = lite_backup,
    .begin = lite_begin,
    .lost = lite_lost,
    .tx_failed = lite_tx_failed,
    .in_tx = lite_in_tx,
    .prepare = lite_prepare,
    .finalize = lite_finalize,
    .step = lite_step,
    .reset = lite_reset,
    .clear = lite_clear,
    .bind_i64 = lite_bind_i64,
    .bind_null = lite_bind_null,
    .bind_text = lite_bind_text,
    .bind_blob = lite_bind_blob,
    .col_i64 = lite_col_i64,
    .col_double = lite_col_double,
    .col_text = lite_col_text,
    .col_blob = lite_col_blob,
    .col_bytes = lite_col_bytes,
    .col_type = lite_col_type,
    .col_count = lite_col_count,
    .col_name = lite_col_name,
};

static int on_commit(void *arg)
{
    db_conn *c = arg;
    c->commits++;
    return 0; /* let it commit */
}

db_conn *db_sqlite_open(const char *path, int flags, char *err, size_t errlen)
{
    sqlite3 *lite = NULL;
    int f = SQLITE_OPEN_NOMUTEX;
    if (flags & DB_OPEN_READONLY)
        f |= SQLITE_OPEN_READONLY;
    else
        f |= SQLITE_OPEN_READWRITE | ((flags & DB_OPEN_CREATE) ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &lite, f, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 lite ? sqlite3_errmsg(lite) : sqlite3_errstr(rc));
        sqlite3_close(lite);
        return NULL;
    }
    sqlite3_extended_result_codes(lite, 1);
    lite_conn *c = xcalloc(1, sizeof(*c));
    c->head.ops = &lite_ops;
    c->lite = lite;
    sqlite3_commit_hook(lite, on_commit, &c->head);
    return &c->head;
}
