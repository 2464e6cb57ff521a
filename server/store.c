/* The writer thread and the read connection (see store.h). Layer: storage, over the base. */
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "store_checkpoint.h"
#include "store_schema.h"
#include "xalloc.h"

#define STMT_CACHE 96

typedef struct {
    const char *sql[STMT_CACHE];
    db_stmt *st[STMT_CACHE];
    unsigned n;
} stmt_cache;

struct mu_reader {
    db_conn *db;
    stmt_cache cache;
    mu_store *store;        /* for one from store_reader_open: its list */
    mu_reader *prev, *next; /* in store->readers, under store->mu */
};

struct mu_wtx {
    db_conn *db;
    stmt_cache cache;
    bool checkpoint; /* a job of this batch erased data */
    bool batched;    /* run_batch's: notifications wait for the batch's end */
    char *notes;     /* the batch's notifications so far, as SQL (store_notify) */
    size_t notes_len, notes_cap;
};

struct mu_store {
    uv_loop_t *loop;
    uv_async_t async;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mu_job *q_head, *q_tail; /* waiting for the writer */
    mu_job *d_head, *d_tail; /* committed, waiting for the loop */
    bool stopping, thread_started;
    _Atomic bool failed;
    unsigned batch_max;
    mu_wtx w;           /* writer thread only */
    store_ckpt *ckpt;   /* NULL: commits checkpoint the log themselves (and on PostgreSQL) */
    mu_reader r;        /* loop thread only */
    char *path;         /* for workers' own read connections (store_reader_open) */
    mu_reader *readers; /* open ones of those, under mu: store_stop_readers reaches them */
    _Atomic bool readers_stopping; /* set under mu; read by their progress handlers */
};

static db_stmt *cache_get(stmt_cache *c, db_conn *db, const char *sql)
{
    for (unsigned i = 0; i < c->n; i++)
        if (c->sql[i] == sql) {
            db_reset(c->st[i]);
            db_clear(c->st[i]);
            return c->st[i];
        }
    db_stmt *st = db_prepare(db, sql); /* logs a failure */
    if (!st)
        return NULL;
    if (c->n < STMT_CACHE) {
        c->sql[c->n] = sql;
        c->st[c->n++] = st;
    } else {
        abort(); /* more distinct statements than the cache holds: raise STMT_CACHE */
    }
    return st;
}

static void cache_free(stmt_cache *c)
{
    for (unsigned i = 0; i < c->n; i++)
        db_finalize(c->st[i]);
    c->n = 0;
}

db_stmt *store_read(mu_store *s, const char *sql)
{
    return cache_get(&s->r.cache, s->r.db, sql);
}
mu_reader *store_reader(mu_store *s)
{
    return &s->r;
}
db_conn *store_reader_db(mu_reader *r)
{
    return r->db;
}
db_stmt *store_rstmt(mu_reader *r, const char *sql)
{
    return cache_get(&r->cache, r->db, sql);
}
db_stmt *store_wstmt(mu_wtx *w, const char *sql)
{
    return cache_get(&w->cache, w->db, sql);
}
db_stmt *store_from_stmt(store_from f, const char *sql)
{
    return f.w ? store_wstmt(f.w, sql) : store_rstmt(f.r, sql);
}
db_conn *store_wdb(mu_wtx *w)
{
    return w->db;
}
/* Safe to write into SQL as a quoted literal. */
static bool plain_text(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == ' ' || *s == '_' ||
              *s == '-'))
            return false;
    return true;
}

mu_code store_notify(mu_wtx *w, const char *channel, const char *payload)
{
    if (db_engine_of(w->db) != DB_POSTGRESQL)
        return MU_OK;
    /* In a batch, every job's notifications go in one statement just before COMMIT: a round
     * trip per batch, not per job. A job that fails takes its own back (run_batch). */
    if (w->batched && plain_text(channel) && plain_text(payload)) {
        size_t need = strlen(channel) + strlen(payload) + 32;
        if (w->notes_len + need > w->notes_cap) {
            w->notes_cap = (w->notes_len + need) * 2;
            w->notes = xrealloc(w->notes, w->notes_cap);
        }
        w->notes_len += (size_t)snprintf(w->notes + w->notes_len, w->notes_cap - w->notes_len,
                                         "SELECT pg_notify('%s', '%s');", channel, payload);
        return MU_OK;
    }
    db_stmt *st = store_wstmt(w, "SELECT pg_notify(?, ?)");
    if (st) {
        db_bind_text(st, 1, channel, -1);
        db_bind_text(st, 2, payload, -1);
    }
    return store_step(st);
}

void store_checkpoint_after(mu_wtx *w)
{
    w->checkpoint = true;
}
bool store_reads_lost(mu_store *s)
{
    return db_lost(s->r.db);
}
db_conn *store_rdb(mu_store *s)
{
    return s->r.db;
}

/* A read-only connection with the loop's settings: a WAL reader waits on nothing in normal
 * running; a short timeout covers recovery. */
static db_conn *open_reader(const char *path, char *err, size_t errlen)
{
    db_conn *db = db_open(path, DB_OPEN_READONLY, err, errlen);
    if (!db || db_engine_of(db) != DB_SQLITE)
        return db;
    db_busy_timeout(db, 50);
    db_exec(db, "PRAGMA foreign_keys=ON");
    return db;
}

static mu_reader *reader_open(mu_store *s, bool snapshot)
{
    char err[512];
    mu_reader *r = xcalloc(1, sizeof(*r));
    r->db = open_reader(s->path, err, sizeof(err));
    if (!r->db) {
        log_error("cannot open a read connection: %s", err);
        free(r);
        return NULL;
    }
    /* A long read checks now and then whether the server is stopping, so that it ends soon
     * even between statements, where db_interrupt alone would be missed. */
    db_stop_flag(r->db, &s->readers_stopping);
    pthread_mutex_lock(&s->mu);
    bool refused = s->readers_stopping;
    if (!refused) {
        r->store = s;
        r->next = s->readers;
        if (s->readers)
            s->readers->prev = r;
        s->readers = r;
    }
    pthread_mutex_unlock(&s->mu);
    if (refused) {
        db_close(r->db);
        free(r);
        return NULL;
    }
    /* One snapshot for everything read through it: an export is consistent across its
     * parts even while the writer commits. */
    if (snapshot && db_begin(r->db, false) != DB_DONE) {
        store_reader_close(r);
        return NULL;
    }
    return r;
}

mu_reader *store_reader_open(mu_store *s)
{
    return reader_open(s, true);
}

mu_reader *store_reader_open_live(mu_store *s)
{
    return reader_open(s, false);
}

void store_reader_close(mu_reader *r)
{
    if (!r)
        return;
    mu_store *s = r->store;
    if (s) {
        /* Unlinked first, so that store_stop_readers never interrupts a closed connection. */
        pthread_mutex_lock(&s->mu);
        if (r->prev)
            r->prev->next = r->next;
        else
            s->readers = r->next;
        if (r->next)
            r->next->prev = r->prev;
        pthread_mutex_unlock(&s->mu);
    }
    cache_free(&r->cache);
    db_close(r->db); /* an open read transaction ends with the connection */
    free(r);
}

void store_stop_readers(mu_store *s)
{
    pthread_mutex_lock(&s->mu);
    s->readers_stopping = true;
    for (mu_reader *r = s->readers; r; r = r->next)
        db_interrupt(r->db);
    pthread_mutex_unlock(&s->mu);
}

mu_wtx *store_wtx_direct(db_conn *db)
{
    mu_wtx *w = xcalloc(1, sizeof(*w));
    w->db = db;
    return w;
}

void store_wtx_free(mu_wtx *w)
{
    if (w) {
        cache_free(&w->cache);
        free(w);
    }
}
bool store_failed(const mu_store *s)
{
    return s->failed;
}

void store_restrict_file(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 077) != 0 &&
        chmod(path, sb.st_mode & 0700) != 0)
        log_warn("cannot make %s private to its owner", path);
}

void store_restrict_files(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[4096];
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++)
        if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffix[i]) < sizeof(p))
            store_restrict_file(p);
}

db_conn *store_open_direct(const char *path, bool create, char *err, size_t errlen)
{
    if (db_is_url(path)) {
        db_conn *db = db_open(path, 0, err, errlen);
        if (!db)
            return NULL;
        db_busy_timeout(db, 5000); /* another node's lock, or an operator's, is waited for */
        if (store_migrate(db, err, errlen) != 0) {
            db_close(db);
            return NULL;
        }
        return db;
    }
    /* Health data: a new database is its owner's alone, and SQLite gives its -wal and -shm
     * files the database file's mode. Files an older build left readable are tightened. The
     * umask is the process's, so this runs only where no other thread creates files (startup
     * and the command-line tools). */
    mode_t old_mask = 0;
    if (create) {
        store_restrict_files(path);
        old_mask = umask(077);
    }
    db_conn *db = db_open(path, create ? DB_OPEN_CREATE : 0, err, errlen);
    if (create)
        umask(old_mask);
    if (!db)
        return NULL;
    db_busy_timeout(db, 5000);
    /* secure_delete: erased rows are overwritten in the file, not just unlinked (Debian's
     * build defaults it on; others do not). */
    if (db_exec_quiet(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; "
                          "PRAGMA secure_delete=ON;") != DB_DONE) {
        snprintf(err, errlen, "cannot set up database %s: %s", path, db_errmsg(db));
        db_close(db);
        return NULL;
    }
    if (store_migrate(db, err, errlen) != 0) {
        db_close(db);
        return NULL;
    }
    return db;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Runs one batch: each job in a savepoint so that a job's own error undoes only that job. */
static void run_batch(mu_store *s, mu_job *batch, unsigned n)
{
    uint64_t t0 = mono_us();
    db_conn *db = s->w.db;
    /* On PostgreSQL each statement is a round trip: a job's RELEASE and the next job's
     * SAVEPOINT go as one. A failed commit there is the connection's, which is made again
     * for the next batch, so it does not stop the writes for good as a disk's does. */
    bool pg = db_engine_of(db) == DB_POSTGRESQL;
    bool ok = pg || !s->failed, in_savepoint = false, skip_locked = false;
    /* A lone job needs no savepoint: its error rolls the whole transaction back (at light
     * load most batches are one job, and the savepoint cost a tenth of its write). */
    bool alone = n == 1, rolled_back = false;
    if (ok) {
        db_rc b = db_begin(db, true);
        /* An idle connection the server dropped fails its first statement: nothing ran yet,
         * so BEGIN once more on a connection made again. */
        if (b == DB_E_UNAVAILABLE && pg)
            b = db_begin(db, true);
        ok = b == DB_DONE;
        if (ok && pg && !store_lock_batch(db, batch, n, &skip_locked)) {
            db_exec(db, "ROLLBACK");
            ok = false;
        }
    }
    for (mu_job *j = batch; j; j = j->next) {
        if (!ok || (skip_locked && j->lock_key)) {
            j->result = MU_E_UNAVAILABLE;
            continue;
        }
        if (!alone && !in_savepoint && db_exec(db, "SAVEPOINT job") != DB_DONE) {
            j->result = MU_E_UNAVAILABLE;
            continue;
        }
        size_t notes_mark = s->w.notes_len;
        j->result = j->run(j, &s->w);
        if (j->result == MU_OK && db_tx_failed(db)) {
            /* The job went on past a failed statement: its part cannot be kept. */
            log_error("a write went on after a failed statement: %s", db_errmsg(db));
            j->result = MU_E_INTERNAL;
        }
        bool failed = j->result != MU_OK;
        if (failed)
            s->w.notes_len = notes_mark; /* what it would have told other nodes, it did not do */
        if (alone) {
            if (failed && db_in_tx(db)) {
                db_exec(db, "ROLLBACK");
                rolled_back = true;
            }
        } else if (pg && j->next) {
            in_savepoint = db_exec(db, failed ? "ROLLBACK TO job; RELEASE job; SAVEPOINT job"
                                              : "RELEASE job; SAVEPOINT job") == DB_DONE;
        } else {
            if (failed)
                db_exec(db, "ROLLBACK TO job");
            db_exec(db, "RELEASE job");
            in_savepoint = false;
        }
        if (!rolled_back && !db_in_tx(db)) {
            /* The engine rolled the whole transaction back (SQLite does on a full disk or an
             * I/O error): what the jobs before wrote is gone too, and nothing more may run
             * outside the batch's transaction. */
            for (mu_job *k = batch; k; k = k->next)
                k->result = MU_E_UNAVAILABLE;
            ok = false;
            break;
        }
    }
    if (rolled_back) {
        /* The lone job failed and took its transaction with it: nothing to tell or commit,
         * and nothing wrong with the database. */
        s->w.notes_len = 0;
        s->w.checkpoint = false;
        if (pg && batch->result == MU_E_UNAVAILABLE) {
            log_error("a write failed (%s); its request was told, the next batch tries again",
                      db_errmsg(db));
            METRIC_INC(writer_failures);
        }
        metrics_commit(mono_us() - t0, n);
        return;
    }
    if (ok && s->w.notes_len) {
        s->w.notes[s->w.notes_len] = '\0';
        ok = db_exec(db, s->w.notes) == DB_DONE;
        if (!ok) {
            db_exec(db, "ROLLBACK");
            for (mu_job *j = batch; j; j = j->next)
                j->result = MU_E_UNAVAILABLE;
        }
    }
    s->w.notes_len = 0;
    if (ok && db_exec(db, "COMMIT") != DB_DONE) {
        /* Nothing in this batch is durable: every job fails. */
        db_exec(db, "ROLLBACK");
        for (mu_job *j = batch; j; j = j->next)
            j->result = MU_E_UNAVAILABLE;
        ok = false;
    }
    if (s->w.checkpoint) {
        s->w.checkpoint = false;
        if (ok)
            db_checkpoint(db); /* logs a failure */
    }
    if (!ok && pg) {
        log_error("a batch of writes failed (%s); its requests were told, the next batch tries "
                  "again",
                  db_errmsg(db));
        METRIC_INC(writer_failures);
    } else if (!ok) {
        /* A disk that refused a commit cannot be trusted with the next. */
        if (!s->failed)
            log_error("the database refused a commit; writes are off until restart");
        s->failed = true;
        METRIC_INC(writer_failures);
    }
    metrics_commit(mono_us() - t0, n);
}

static void *writer_main(void *arg)
{
    mu_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->q_head && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!s->q_head && s->stopping)
            break;
        /* Take up to batch_max jobs: everything that queued while the last commit ran. */
        mu_job *batch = s->q_head, *last = batch;
        unsigned n = 1;
        while (last->next && n < s->batch_max) {
            last = last->next;
            n++;
        }
        s->q_head = last->next;
        if (!s->q_head)
            s->q_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->mu);

        run_batch(s, batch, n);

        pthread_mutex_lock(&s->mu);
        if (s->d_tail)
            s->d_tail->next = batch;
        else
            s->d_head = batch;
        s->d_tail = last;
        pthread_mutex_unlock(&s->mu);
        uv_async_send(&s->async);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void drain_done(mu_store *s)
{
    pthread_mutex_lock(&s->mu);
    mu_job *j = s->d_head;
    s->d_head = s->d_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (j) {
        mu_job *next = j->next;
        j->next = NULL;
        j->done(j); /* may free j */
        j = next;
    }
}

static void on_async(uv_async_t *a)
{
    drain_done(a->data);
}

static void on_async_closed(uv_handle_t *h)
{
    mu_store *s = h->data;
    free(s->path);
    free(s);
}

static void close_dbs(mu_store *s)
{
    db_close(s->r.db);
    db_close(s->w.db);
    s->r.db = s->w.db = NULL;
}

mu_store *store_open(uv_loop_t *loop, const mu_store_opts *o, char *err, size_t errlen)
{
    mu_store *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->batch_max = o->batch_max ? o->batch_max : 512;
    s->w.db = store_open_direct(o->path, true, err, errlen);
    s->w.batched = true;
    if (!s->w.db)
        goto fail;
    if (db_engine_of(s->w.db) == DB_SQLITE &&
        db_exec(s->w.db, o->sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") !=
            DB_DONE) {
        snprintf(err, errlen, "cannot set synchronous mode on %s", o->path);
        goto fail;
    }
    s->r.db = open_reader(o->path, err, errlen);
    if (!s->r.db)
        goto fail;
    s->path = xstrdup(o->path);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (uv_async_init(loop, &s->async, on_async) != 0) {
        snprintf(err, errlen, "cannot create the writer's wake-up handle");
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        goto fail;
    }
    s->async.data = s;
    s->ckpt = store_ckpt_start(o->path, s->w.db, o->checkpoint_frames);
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        store_ckpt_stop(s->ckpt);
        close_dbs(s);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        /* The loop holds the handle until its close callback has run: s is freed there, when
         * the caller next runs the loop, and not a moment before. */
        uv_close((uv_handle_t *)&s->async, on_async_closed);
        return NULL;
    }
    s->thread_started = true;
    return s;
fail:
    close_dbs(s);
    free(s->path);
    free(s);
    return NULL;
}

void store_submit(mu_store *s, mu_job *j)
{
    j->next = NULL;
    j->result = MU_OK;
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        j->result = MU_E_UNAVAILABLE;
        j->done(j);
        return;
    }
    if (s->q_tail)
        s->q_tail->next = j;
    else
        s->q_head = j;
    s->q_tail = j;
    pthread_mutex_unlock(&s->mu);
    /* Signalled after unlocking: a writer woken under the lock would wake only to block on
     * it again, two context switches instead of one on the path of every write. */
    pthread_cond_signal(&s->cv);
}

void store_close(mu_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    store_ckpt_stop(s->ckpt);
    drain_done(s); /* the writer finished every queued job; tell their owners */
    cache_free(&s->w.cache);
    free(s->w.notes);
    cache_free(&s->r.cache);
    /* A final checkpoint leaves a self-contained database file behind. */
    db_checkpoint(s->w.db);
    db_close(s->r.db);
    db_close(s->w.db);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    uv_close((uv_handle_t *)&s->async, on_async_closed);
}
