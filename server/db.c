/* The statement interface (see db.h): each call goes to the engine the connection was opened
 * on, through its table of operations (db_int.h). Layer: storage, over the base. */
#include "db.h"

#include <stdio.h>
#include <string.h>

#include "db_int.h"

bool db_is_url(const char *target)
{
    return strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0;
}

/* Copies s to out (at most n bytes with its NUL) with the value of every password in it
 * (user:PASSWORD@ and password=PASSWORD) as "***". */
const char *db_display(const char *target, char *buf, size_t n)
{
    if (!n)
        return buf;
    size_t o = 0;
    const char *p = target, *auth = NULL, *auth_end = NULL;
    if (db_is_url(target)) {
        auth = strstr(target, "://") + 3;
        const char *at = strchr(auth, '@'), *slash = strchr(auth, '/');
        if (at && (!slash || at < slash))
            auth_end = at;
    }
    while (*p && o + 1 < n) {
        bool in_auth = auth_end && p >= auth && p < auth_end;
        if (in_auth && *p == ':') {
            o += (size_t)snprintf(buf + o, n - o, ":***");
            p = auth_end; /* on to the @ */
        } else if (!in_auth && db_is_url(target) && strncmp(p, "password=", 9) == 0 &&
                   (p[-1] == '?' || p[-1] == '&')) {
            o += (size_t)snprintf(buf + o, n - o, "password=***");
            p += 9 + strcspn(p + 9, "&");
        } else {
            buf[o++] = *p++;
        }
        if (o >= n)
            o = n - 1;
    }
    buf[o] = '\0';
    return buf;
}

db_conn *db_open(const char *target, int flags, char *err, size_t errlen)
{
    return db_is_url(target) ? db_pg_open(target, flags, err, errlen)
                             : db_sqlite_open(target, flags, err, errlen);
}

db_engine db_engine_of(const db_conn *c)
{
    return strcmp(c->ops->name, "postgresql") == 0 ? DB_POSTGRESQL : DB_SQLITE;
}

void db_close(db_conn *c)
{
    if (c)
        c->ops->close(c);
}

db_rc db_exec(db_conn *c, const char *sql)
{
    return c->ops->exec(c, sql, false);
}

db_rc db_exec_quiet(db_conn *c, const char *sql)
{
    return c->ops->exec(c, sql, true);
}

uint64_t db_commits(db_conn *c)
{
    return c->commits;
}

bool db_lost(db_conn *c)
{
    return c->ops->lost(c);
}

bool db_tx_failed(db_conn *c)
{
    return c->ops->tx_failed(c);
}

bool db_in_tx(db_conn *c)
{
    return c->ops->in_tx(c);
}

const char *db_errmsg(db_conn *c)
{
    return c->ops->errmsg(c);
}

int64_t db_changes(db_conn *c)
{
    return c->ops->changes(c);
}

void db_busy_timeout(db_conn *c, int ms)
{
    c->ops->busy_timeout(c, ms);
}

void db_interrupt(db_conn *c)
{
    c->ops->interrupt(c);
}

void db_stop_flag(db_conn *c, const _Atomic bool *stop)
{
    c->stop = stop;
    c->ops->stop_flag(c);
}

db_rc db_checkpoint(db_conn *c)
{
    return c->ops->checkpoint(c);
}

void db_on_commit(db_conn *c, db_commit_fn fn, void *ud)
{
    c->commit_fn = fn;
    c->commit_ud = ud;
    if (c->ops->on_commit)
        c->ops->on_commit(c);
}

db_rc db_checkpoint_passive(db_conn *c)
{
    return c->ops->checkpoint_passive ? c->ops->checkpoint_passive(c) : DB_DONE;
}

int db_backup(db_conn *c, const char *path, char *err, size_t errlen)
{
    return c->ops->backup(c, path, err, errlen);
}

db_rc db_begin(db_conn *c, bool write)
{
    return c->ops->begin(c, write);
}

db_stmt *db_prepare(db_conn *c, const char *sql)
{
    return c->ops->prepare(c, sql);
}

void db_finalize(db_stmt *st)
{
    if (st)
        st->conn->ops->finalize(st);
}

db_conn *db_stmt_conn(db_stmt *st)
{
    return st->conn;
}

db_rc db_step(db_stmt *st)
{
    return st->conn->ops->step(st);
}

void db_reset(db_stmt *st)
{
    st->conn->ops->reset(st);
}

void db_clear(db_stmt *st)
{
    st->conn->ops->clear(st);
}

void db_bind_i64(db_stmt *st, int i, int64_t v)
{
    st->conn->ops->bind_i64(st, i, v);
}

void db_bind_int(db_stmt *st, int i, int v)
{
    st->conn->ops->bind_i64(st, i, v);
}

void db_bind_null(db_stmt *st, int i)
{
    st->conn->ops->bind_null(st, i);
}

void db_bind_text(db_stmt *st, int i, const char *s, int n)
{
    st->conn->ops->bind_text(st, i, s, n);
}

void db_bind_blob(db_stmt *st, int i, const void *p, int n)
{
    st->conn->ops->bind_blob(st, i, p, n);
}

int64_t db_col_i64(db_stmt *st, int i)
{
    return st->conn->ops->col_i64(st, i);
}

int db_col_int(db_stmt *st, int i)
{
    return (int)st->conn->ops->col_i64(st, i);
}

double db_col_double(db_stmt *st, int i)
{
    return st->conn->ops->col_double(st, i);
}

const char *db_col_text(db_stmt *st, int i)
{
    return st->conn->ops->col_text(st, i);
}

const void *db_col_blob(db_stmt *st, int i)
{
    return st->conn->ops->col_blob(st, i);
}

int db_col_bytes(db_stmt *st, int i)
{
    return st->conn->ops->col_bytes(st, i);
}

bool db_col_null(db_stmt *st, int i)
{
    return st->conn->ops->col_type(st, i) == DB_T_NULL;
}

db_type db_col_type(db_stmt *st, int i)
{
    return st->conn->ops->col_type(st, i);
}

int db_col_count(db_stmt *st)
{
    return st->conn->ops->col_count(st);
}

const char *db_col_name(db_stmt *st, int i)
{
    return st->conn->ops->col_name(st, i);
}
