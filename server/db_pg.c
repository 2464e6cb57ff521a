/* PostgreSQL behind db.h, over libpq's blocking calls (a connection is used by one thread,
 * never the loop's). A statement is prepared on the server under a name of its own; the first
 * step runs it with the bound parameters and holds the whole result, which later steps walk.
 * Parameters go as text (numbers) or as bytes (text and blobs, which need no copy); results
 * come back as text, so a number is parsed and a bytea is decoded when it is read.
 * Layer: storage, over the base. */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_int.h"
#include "db_pg.h"
#include "log.h"
#include "xalloc.h"

enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700
};

typedef struct {
    db_conn head;
    PGconn *pg;
    PGcancel *cancel; /* db_interrupt's way in from another thread */
    unsigned gen;     /* bumped by each reconnection: statements prepared before are gone */
    unsigned names;   /* statements prepared so far, for their names */
    int64_t changes;
    uint64_t retry_after_ms;   /* no new attempt to connect before (monotonic) */
    bool in_tx;                /* a transaction was open at the last statement's end */
    int lock_ms;               /* db_busy_timeout's, set again on a new connection */
    pthread_mutex_t cancel_mu; /* db_interrupt (any thread) against a reconnection */
    char err[512];
} pg_conn;

typedef struct {
    const void *p; /* NULL for SQL NULL */
    int len;
    int binary;
    char num[24]; /* a number's text, which p points at */
} pg_param;

typedef struct {
    db_stmt head;
    char *sql;     /* translated to $N parameters */
    char name[16]; /* on the server, while gen is the connection's */
    unsigned gen;
    bool prepared, ran;
    int nparams;
    pg_param *params;
    PGresult *res;
    int row, nrows;
    unsigned char **bytea; /* decoded bytea columns of the current row, by column */
    size_t *bytea_len;
    int ncols;
} pg_stmt;

static pg_conn *C(db_conn *c)
{
    return (pg_conn *)c;
}

static pg_stmt *S(db_stmt *st)
{
    return (pg_stmt *)st;
}

static void set_err(pg_conn *c, const char *msg)
{
    snprintf(c->err, sizeof(c->err), "%s", msg ? msg : "unknown error");
    size_t n = strlen(c->err); /* libpq's messages end in a newline */
    while (n && (c->err[n - 1] == '\n' || c->err[n - 1] == ' '))
        c->err[--n] = '\0';
}

/* SQLSTATE classes and codes (PostgreSQL's appendix A) folded into what the store acts on. */
static db_rc fold(pg_conn *c, const PGresult *res)
{
    if (PQstatus(c->pg) == CONNECTION_BAD)
        return DB_E_UNAVAILABLE;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return DB_E_UNAVAILABLE; /* no answer at all: the connection failed */
    if (strcmp(state, "23503") == 0)
        return DB_E_FOREIGN_KEY;
    if (strncmp(state, "23", 2) == 0)
        return DB_E_CONSTRAINT;
    if (strcmp(state, "57014") == 0)
        return DB_E_INTERRUPTED; /* query_canceled */
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return DB_E_BUSY; /* serialization failure, deadlock, lock timeout */
    if ((strncmp(state, "08", 2) == 0 && strcmp(state, "08P01") != 0) ||
        strncmp(state, "53", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
        strncmp(state, "58", 2) == 0)
        return DB_E_UNAVAILABLE; /* connection, resources (disk full), shutdown, system */
    return DB_E_OTHER;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A connection that failed is made again before the next statement, so that a restarted
 * server costs the statements in flight (which fail) and nothing after. Attempts are at least
 * a second apart: while the server is away, statements fail at once instead of each waiting
 * for a connection (connect_timeout bounds the wait of the one that tries). */
static bool ensure_connected(pg_conn *c)
{
    if (PQstatus(c->pg) == CONNECTION_OK)
        return true;
    /* A transaction lost with its connection stays lost until the caller rolls it back:
     * what ran in it is gone, and nothing may run, and above all commit, on a new session
     * as if it were the same transaction. */
    if (c->in_tx) {
        set_err(c, "the connection to PostgreSQL was lost in a transaction; it was rolled back");
        return false;
    }
    if (mono_ms() < c->retry_after_ms)
        return false;
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        set_err(c, PQerrorMessage(c->pg));
        c->retry_after_ms = mono_ms() + 1000;
        return false;
    }
    c->gen++;
    pthread_mutex_lock(&c->cancel_mu);
    PQfreeCancel(c->cancel);
    c->cancel = PQgetCancel(c->pg);
    pthread_mutex_unlock(&c->cancel_mu);
    if (c->lock_ms) {
        char sql[64];
        snprintf(sql, sizeof(sql), "SET lock_timeout = %d", c->lock_ms);
        PQclear(PQexec(c->pg, sql));
    }
    log_info("reconnected to PostgreSQL");
    return true;
}

static bool pg_tx_failed(db_conn *dc)
{
    return PQtransactionStatus(C(dc)->pg) == PQTRANS_INERROR;
}

static bool pg_in_tx(db_conn *dc)
{
    return C(dc)->in_tx;
}

static bool pg_lost(db_conn *dc)
{
    return PQstatus(C(dc)->pg) != CONNECTION_OK;
}

/* Whether a transaction is open now; a lost connection leaves what was known before it. */
static void note_tx(pg_conn *c)
{
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    if (ts != PQTRANS_UNKNOWN)
        c->in_tx = ts != PQTRANS_IDLE;
}

static bool stopped(const db_conn *c)
{
    return c->stop && *c->stop;
}

static void pg_close(db_conn *dc)
{
    pg_conn *c = C(dc);
    PQfreeCancel(c->cancel);
    PQfinish(c->pg);
    pthread_mutex_destroy(&c->cancel_mu);
    free(c);
}

static db_rc pg_exec(db_conn *dc, const char *sql, bool quiet)
{
    pg_conn *c = C(dc);
    if (stopped(dc))
        return DB_E_INTERRUPTED;
    if (c->in_tx && PQstatus(c->pg) != CONNECTION_OK && strcmp(sql, "ROLLBACK") == 0) {
        c->in_tx = false; /* the server rolled it back when the connection went */
        return DB_DONE;
    }
    if (!ensure_connected(c))
        return DB_E_UNAVAILABLE;
    PGresult *res = PQexec(c->pg, sql);
    note_tx(c);
    ExecStatusType s = PQresultStatus(res);
    db_rc rc = DB_DONE;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        set_err(c, res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
        rc = fold(c, res);
        if (!quiet)
            log_error("sql '%s' failed: %s", sql, c->err);
    } else if (strcmp(sql, "COMMIT") != 0) {
        const char *n = PQcmdTuples(res);
        c->changes = *n ? strtoll(n, NULL, 10) : 0;
    } else {
        /* A transaction that an error left aborted answers COMMIT with ROLLBACK. */
        if (strcmp(PQcmdStatus(res), "COMMIT") == 0) {
            dc->commits++;
        } else {
            set_err(c, "the transaction was rolled back");
            rc = DB_E_OTHER;
            if (!quiet)
                log_error("sql 'COMMIT' failed: %s", c->err);
        }
    }
    PQclear(res);
    return rc;
}

static const char *pg_errmsg(db_conn *dc)
{
    return C(dc)->err;
}

static int64_t pg_changes(db_conn *dc)
{
    return C(dc)->changes;
}

static void pg_busy_timeout(db_conn *dc, int ms)
{
    C(dc)->lock_ms = ms;
    char sql[64];
    snprintf(sql, sizeof(sql), "SET lock_timeout = %d", ms);
    pg_exec(dc, sql, false);
}

static void pg_interrupt(db_conn *dc)
{
    char buf[256];
    pg_conn *c = C(dc);
    pthread_mutex_lock(&c->cancel_mu);
    if (c->cancel)
        PQcancel(c->cancel, buf, sizeof(buf));
    pthread_mutex_unlock(&c->cancel_mu);
}

static void pg_stop_flag(db_conn *dc)
{
    (void)dc; /* looked at before each statement (stopped) */
}

/* PostgreSQL recycles its write-ahead log by itself; forcing a CHECKPOINT takes a privilege
 * the service's role should not have. */
static db_rc pg_checkpoint(db_conn *dc)
{
    (void)dc;
    return DB_DONE;
}

static int pg_backup(db_conn *dc, const char *path, char *err, size_t errlen)
{
    (void)dc;
    (void)path;
    snprintf(err, errlen, "a PostgreSQL database is backed up with pg_dump (see the README)");
    return -1;
}

static db_rc pg_begin(db_conn *dc, bool write)
{
    return pg_exec(dc, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", false);
}

/* SQLite's parameters as PostgreSQL's: `?N` becomes `$N`, and a bare `?` takes the number one
 * past the largest so far, as SQLite numbers it. Quoted text, quoted names and comments are
 * copied as they are. */
static char *translate(const char *sql, int *nparams)
{
    size_t n = strlen(sql);
    char *out = xmalloc(n * 6 + 1); /* "?" -> "$10000" at most */
    size_t o = 0;
    int max = 0;
    for (size_t i = 0; i < n;) {
        char ch = sql[i];
        if (ch == '\'' || ch == '"') {
            size_t j = i + 1;
            while (j < n && sql[j] != ch)
                j++;
            j = j < n ? j + 1 : n;
            memcpy(out + o, sql + i, j - i);
            o += j - i;
            i = j;
        } else if (ch == '/' && i + 1 < n && sql[i + 1] == '*') {
            const char *end = strstr(sql + i + 2, "*/");
            size_t j = end ? (size_t)(end - sql) + 2 : n;
            memcpy(out + o, sql + i, j - i);
            o += j - i;
            i = j;
        } else if (ch == '-' && i + 1 < n && sql[i + 1] == '-') {
            size_t j = i;
            while (j < n && sql[j] != '\n')
                j++;
            memcpy(out + o, sql + i, j - i);
            o += j - i;
            i = j;
        } else if (ch == '?') {
            int num = 0;
            size_t j = i + 1;
            while (j < n && sql[j] >= '0' && sql[j] <= '9' && num < 10000)
                num = num * 10 + (sql[j++] - '0');
            if (j == i + 1)
                num = max + 1;
            if (num > max)
                max = num;
            o += (size_t)sprintf(out + o, "$%d", num);
            i = j;
        } else {
            out[o++] = ch;
            i++;
        }
    }
    out[o] = '\0';
    *nparams = max;
    return out;
}

static db_stmt *pg_prepare(db_conn *dc, const char *sql)
{
    pg_stmt *st = xcalloc(1, sizeof(*st));
    st->head.conn = dc;
    st->sql = translate(sql, &st->nparams);
    st->params = xcalloc((size_t)(st->nparams ? st->nparams : 1), sizeof(*st->params));
    st->row = -1;
    return &st->head;
}

static void free_row(pg_stmt *st)
{
    for (int i = 0; i < st->ncols && st->bytea; i++) {
        PQfreemem(st->bytea[i]);
        st->bytea[i] = NULL;
    }
}

static void pg_reset(db_stmt *dst)
{
    pg_stmt *st = S(dst);
    free_row(st);
    free(st->bytea);
    free(st->bytea_len);
    st->bytea = NULL;
    st->bytea_len = NULL;
    st->ncols = 0;
    PQclear(st->res);
    st->res = NULL;
    st->ran = false;
    st->row = -1;
    st->nrows = 0;
}

static void pg_finalize(db_stmt *dst)
{
    pg_stmt *st = S(dst);
    pg_conn *c = C(dst->conn);
    pg_reset(dst);
    if (st->prepared && st->gen == c->gen && PQstatus(c->pg) == CONNECTION_OK) {
        char sql[40];
        snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
        PQclear(PQexec(c->pg, sql));
    }
    free(st->sql);
    free(st->params);
    free(st);
}

static db_rc run(pg_stmt *st)
{
    pg_conn *c = C(st->head.conn);
    if (stopped(st->head.conn))
        return DB_E_INTERRUPTED;
    if (!ensure_connected(c))
        return DB_E_UNAVAILABLE;
    if (!st->prepared || st->gen != c->gen) {
        snprintf(st->name, sizeof(st->name), "m%u", c->names++);
        PGresult *res = PQprepare(c->pg, st->name, st->sql, 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            set_err(c, res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
            db_rc rc = fold(c, res);
            log_error("sql prepare failed: %s: %s", c->err, st->sql);
            PQclear(res);
            return rc;
        }
        PQclear(res);
        st->prepared = true;
        st->gen = c->gen;
    }
    const char *values[st->nparams ? st->nparams : 1];
    int lengths[st->nparams ? st->nparams : 1], formats[st->nparams ? st->nparams : 1];
    for (int i = 0; i < st->nparams; i++) {
        values[i] = st->params[i].p;
        lengths[i] = st->params[i].len;
        formats[i] = st->params[i].binary;
    }
    st->res = PQexecPrepared(c->pg, st->name, st->nparams, values, lengths, formats, 0);
    note_tx(c);
    ExecStatusType s = PQresultStatus(st->res);
    if (s == PGRES_TUPLES_OK) {
        st->nrows = PQntuples(st->res);
        st->ncols = PQnfields(st->res);
        st->bytea = xcalloc((size_t)(st->ncols ? st->ncols : 1), sizeof(*st->bytea));
        st->bytea_len = xcalloc((size_t)(st->ncols ? st->ncols : 1), sizeof(*st->bytea_len));
        const char *n = PQcmdTuples(st->res);
        c->changes = *n ? strtoll(n, NULL, 10) : 0; /* INSERT ... RETURNING counts too */
        return DB_DONE;
    }
    if (s == PGRES_COMMAND_OK) {
        const char *n = PQcmdTuples(st->res);
        c->changes = *n ? strtoll(n, NULL, 10) : 0;
        return DB_DONE;
    }
    set_err(c, st->res ? PQresultErrorMessage(st->res) : PQerrorMessage(c->pg));
    return fold(c, st->res);
}

static db_rc pg_step(db_stmt *dst)
{
    pg_stmt *st = S(dst);
    if (!st->ran) {
        st->ran = true;
        db_rc rc = run(st);
        if (rc != DB_DONE) {
            PQclear(st->res);
            st->res = NULL;
            return rc;
        }
    }
    free_row(st);
    if (st->row + 1 < st->nrows) {
        st->row++;
        return DB_ROW;
    }
    st->row = st->nrows;
    return DB_DONE;
}

static void pg_clear(db_stmt *dst)
{
    pg_stmt *st = S(dst);
    memset(st->params, 0, (size_t)st->nparams * sizeof(*st->params));
}

static pg_param *param(db_stmt *dst, int i)
{
    pg_stmt *st = S(dst);
    return i >= 1 && i <= st->nparams ? &st->params[i - 1] : NULL;
}

static void pg_bind_i64(db_stmt *st, int i, int64_t v)
{
    pg_param *p = param(st, i);
    if (!p)
        return;
    p->len = snprintf(p->num, sizeof(p->num), "%lld", (long long)v);
    p->p = p->num;
    p->binary = 0;
}

static void pg_bind_null(db_stmt *st, int i)
{
    pg_param *p = param(st, i);
    if (p)
        memset(p, 0, sizeof(*p));
}

/* Text as bytes ("binary" format): a text value's binary form is its UTF-8, so the caller's
 * buffer goes as it is, with its length, and need not end in a NUL. */
static void pg_bind_text(db_stmt *st, int i, const char *s, int n)
{
    pg_param *p = param(st, i);
    if (!p)
        return;
    if (!s) { /* as SQLite binds it */
        memset(p, 0, sizeof(*p));
        return;
    }
    p->p = s;
    p->len = n < 0 ? (int)strlen(s) : n;
    p->binary = 1;
}

static void pg_bind_blob(db_stmt *st, int i, const void *v, int n)
{
    pg_param *p = param(st, i);
    if (!p)
        return;
    if (!v) {
        memset(p, 0, sizeof(*p));
        return;
    }
    p->p = v;
    p->len = n;
    p->binary = 1;
}

static bool on_row(const pg_stmt *st, int i)
{
    return st->res && st->row >= 0 && st->row < st->nrows && i >= 0 && i < st->ncols;
}

static int64_t pg_col_i64(db_stmt *dst, int i)
{
    pg_stmt *st = S(dst);
    if (!on_row(st, i) || PQgetisnull(st->res, st->row, i))
        return 0;
    const char *v = PQgetvalue(st->res, st->row, i);
    if (PQftype(st->res, i) == OID_BOOL)
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

static double pg_col_double(db_stmt *dst, int i)
{
    pg_stmt *st = S(dst);
    if (!on_row(st, i) || PQgetisnull(st->res, st->row, i))
        return 0;
    return strtod(PQgetvalue(st->res, st->row, i), NULL);
}

static const unsigned char *decoded(pg_stmt *st, int i, size_t *len)
{
    if (!st->bytea[i])
        st->bytea[i] = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, i),
                                       &st->bytea_len[i]);
    *len = st->bytea[i] ? st->bytea_len[i] : 0;
    return st->bytea[i];
}

static const char *pg_col_text(db_stmt *dst, int i)
{
    pg_stmt *st = S(dst);
    if (!on_row(st, i) || PQgetisnull(st->res, st->row, i))
        return NULL;
    return PQgetvalue(st->res, st->row, i);
}

static const void *pg_col_blob(db_stmt *dst, int i)
{
    pg_stmt *st = S(dst);
    if (!on_row(st, i) || PQgetisnull(st->res, st->row, i))
        return NULL;
    if (PQftype(st->res, i) != OID_BYTEA)
        return PQgetvalue(st->res, st->row, i);
    size_t n;
    return decoded(st, i, &n);
}

static int pg_col_bytes(db_stmt *dst, int i)
{
    pg_stmt *st = S(dst);
    if (!on_row(st, i) || PQgetisnull(st->res, st->row, i))
        return 0;
    if (PQftype(st->res, i) != OID_BYTEA)
        return PQgetlength(st->res, st->row, i);
    size_t n;
    decoded(st, i, &n);
    return (int)n;
}

static db_type pg_col_type(db_stmt *dst, int i)
{
    pg_stmt *st = S(dst);
    if (!on_row(st, i) || PQgetisnull(st->res, st->row, i))
        return DB_T_NULL;
    switch (PQftype(st->res, i)) {
    case OID_BOOL:
    case OID_INT2:
    case OID_INT4:
    case OID_INT8: return DB_T_INT;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC: return DB_T_REAL;
    case OID_BYTEA: return DB_T_BLOB;
    default: return DB_T_TEXT;
    }
}

static int pg_col_count(db_stmt *dst)
{
    pg_stmt *st = S(dst);
    return st->res ? PQnfields(st->res) : 0;
}

static const char *pg_col_name(db_stmt *dst, int i)
{
    pg_stmt *st = S(dst);
    return st->res ? PQfname(st->res, i) : NULL;
}

static const db_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .exec = pg_exec,
    .errmsg = pg_errmsg,
    .changes = pg_changes,
    .busy_timeout = pg_busy_timeout,
    .interrupt = pg_interrupt,
    .stop_flag = pg_stop_flag,
    .checkpoint = pg_checkpoint,
    .backup = pg_backup,
    .begin = pg_begin,
    .lost = pg_lost,
    .tx_failed = pg_tx_failed,
    .in_tx = pg_in_tx,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .step = pg_step,
    .reset = pg_reset,
    .clear = pg_clear,
    .bind_i64 = pg_bind_i64,
    .bind_null = pg_bind_null,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .col_i64 = pg_col_i64,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .col_bytes = pg_col_bytes,
    .col_type = pg_col_type,
    .col_count = pg_col_count,
    .col_name = pg_col_name,
};

/* Notices (a table that already exists, and the like) would go to stderr unasked. */
static void on_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

PGconn *db_pg_connect(const char *url, int flags, bool start_only)
{
    /* What the session needs is part of the connection's parameters, so that a reconnection
     * (PQreset) sets it again. Before the URL, what it may change: a bounded wait to connect,
     * TCP keepalives and a user timeout so that a dead peer is noticed in about 30 s rather
     * than hours, and a name. After it, what it may not: UTF-8 whatever the database's locale, and
     * read-only for a read connection (an empty value leaves the URL's). */
    static const char *const keys[] = {"connect_timeout",
                                       "keepalives_idle",
                                       "keepalives_interval",
                                       "keepalives_count",
                                       "tcp_user_timeout",
                                       "application_name",
                                       "dbname",
                                       "client_encoding",
                                       "options",
                                       NULL};
    /* What each connection is for shows in pg_stat_activity (the URL may name it otherwise). */
    const char *app = start_only                   ? "mutuald (listens)"
                      : (flags & DB_OPEN_READONLY) ? "mutuald (reads)"
                                                   : "mutuald (writes)";
    const char *values[] = {"5",
                            "15",
                            "5",
                            "3",
                            "30000",
                            app,
                            url,
                            "UTF8",
                            (flags & DB_OPEN_READONLY)
                                ? "-c default_transaction_read_only=on -c lock_timeout=2000"
                                : "",
                            NULL};
    return start_only ? PQconnectStartParams(keys, values, 1) : PQconnectdbParams(keys, values, 1);
}

db_conn *db_pg_open(const char *url, int flags, char *err, size_t errlen)
{
    PGconn *pg = db_pg_connect(url, flags, false);
    if (PQstatus(pg) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(pg));
        msg[strcspn(msg, "\n")] = '\0';
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", msg);
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, on_notice, NULL);
    pg_conn *c = xcalloc(1, sizeof(*c));
    c->head.ops = &pg_ops;
    c->pg = pg;
    c->cancel = PQgetCancel(pg);
    pthread_mutex_init(&c->cancel_mu, NULL);
    return &c->head;
}
