/* Storage: migrations, the writer's batches and savepoints, draining on close. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "store.h"
#include "store_schema.h"
#include "store_admin.h"
#include "store_alerts.h"
#include "store_checkins.h"
#include "store_reports.h"
#include "store_rooms.h"
#include "store_users.h"

static char dir[64], db[128];

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define STILL_ALLOCATED(p) (!__asan_address_is_poisoned(p))
#else
#define STILL_ALLOCATED(p) true /* only the sanitizer build can tell */
#endif

/* test_store links with --wrap=pthread_create and --wrap=uv_close, so a test can make the
 * writer thread fail to start and see which handle the store closed. */
void __real_uv_close(uv_handle_t *h, uv_close_cb cb);
static uv_handle_t *last_closed;

void __wrap_uv_close(uv_handle_t *h, uv_close_cb cb)
{
    last_closed = h;
    __real_uv_close(h, cb);
}

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
static bool fail_thread_start;

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    if (fail_thread_start)
        return EAGAIN;
    return __real_pthread_create(t, a, fn, arg);
}

static int setup(void **st)
{
    snprintf(dir, sizeof(dir), "/tmp/mutual-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/t.db", dir);
    return 0;
}

static int teardown(void **st)
{
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static int scalar(db_conn *d, const char *sql)
{
    db_stmt *s = db_prepare(d, sql);
    assert_non_null(s);
    int v = db_step(s) == DB_ROW ? db_col_int(s, 0) : -1;
    db_finalize(s);
    return v;
}

static void test_migrations(void **st)
{
    char err[256];
    db_conn *d = store_open_direct(db, true, err, sizeof(err));
    assert_non_null(d);
    assert_int_equal(scalar(d, "PRAGMA user_version"), store_schema_version(DB_SQLITE));
    assert_int_equal(scalar(d, "SELECT count(*) FROM sqlite_master WHERE name='users'"), 1);
    assert_int_equal(scalar(d, "SELECT count(*) FROM sqlite_master WHERE name='tokens'"), 1);
    assert_int_equal(scalar(d, "PRAGMA foreign_keys"), 1);
    assert_int_equal(scalar(d, "PRAGMA secure_delete"), 1);
    db_stmt *s = db_prepare(d, "PRAGMA journal_mode");
    assert_non_null(s);
    assert_int_equal(db_step(s), DB_ROW);
    assert_string_equal(db_col_text(s, 0), "wal");
    db_finalize(s);
    /* migrating again changes nothing */
    assert_int_equal(store_migrate(d, err, sizeof(err)), 0);
    assert_int_equal(scalar(d, "PRAGMA user_version"), store_schema_version(DB_SQLITE));
    /* a database from a newer build is refused, with a reason */
    db_exec(d, "PRAGMA user_version = 99");
    db_close(d);
    d = store_open_direct(db, false, err, sizeof(err));
    assert_null(d);
    assert_non_null(strstr(err, "schema version 99"));
}

typedef struct {
    mu_job job;
    int n;
    bool fail_after_insert;
    mu_code result;
    int *done_count;
} test_job;

static mu_code job_run(mu_job *j, mu_wtx *w)
{
    test_job *t = (test_job *)j;
    char handle[40];
    snprintf(handle, sizeof(handle), "user%d", t->n);
    int64_t id;
    mu_code c = store_users_insert(w, handle, ROLE_MEMBER, "$argon2id$x", 1, &id);
    if (c != MU_OK)
        return c;
    return t->fail_after_insert ? MU_E_CONFLICT : MU_OK;
}

static void job_done(mu_job *j)
{
    test_job *t = (test_job *)j;
    t->result = j->result;
    (*t->done_count)++;
}

/* The first job holds the writer until every other job is queued, so the rest must go in
 * full batches of batch_max: the connection counts real COMMITs (a probe job reads the count
 * after the rest), so a writer that committed each job alone (or ignored batch_max) fails
 * here. */
typedef struct {
    test_job t;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, released;
} gate_job;

static uint64_t commits0, commits1; /* the writer thread only; read after it joined */

static mu_code probe_run(mu_job *j, mu_wtx *w)
{
    (void)j;
    commits1 = db_commits(store_wdb(w));
    return MU_OK;
}

static mu_code gate_run(mu_job *j, mu_wtx *w)
{
    gate_job *g = (gate_job *)j;
    commits0 = db_commits(store_wdb(w));
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_signal(&g->cv);
    while (!g->released)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return job_run(j, w);
}

/* A new loop and the test database's store on it. */
static mu_store *open_on(uv_loop_t *loop, bool sync_full, unsigned batch)
{
    uv_loop_init(loop);
    char err[256];
    mu_store_opts o = {.path = db, .sync_full = sync_full, .batch_max = batch};
    mu_store *s = store_open(loop, &o, err, sizeof(err));
    if (!s)
        fail_msg("store_open: %s", err);
    return s;
}

static void test_writer_batches(void **st)
{
    uv_loop_t loop;
    enum { N = 300, BATCH = 16 };
    mu_store *s = open_on(&loop, true, BATCH);
    int done = 0;
    gate_job gate = {.t = {.n = 100001, .done_count = &done}};
    pthread_mutex_init(&gate.mu, NULL);
    pthread_cond_init(&gate.cv, NULL);
    gate.t.job.run = gate_run;
    gate.t.job.done = job_done;
    store_submit(s, &gate.t.job);
    pthread_mutex_lock(&gate.mu);
    while (!gate.entered) /* the writer took the gate alone */
        pthread_cond_wait(&gate.cv, &gate.mu);
    pthread_mutex_unlock(&gate.mu);
    test_job *jobs = calloc(N + 2, sizeof(*jobs));
    uint64_t batches0 = atomic_load(&g_metrics.writer_batches);
    for (int i = 0; i < N + 2; i++) {
        jobs[i].n = i < N ? i : (i == N ? 100000 : 5); /* the last duplicates user5 */
        jobs[i].fail_after_insert = i == N;            /* inserts, then fails: rolled back */
        jobs[i].done_count = &done;
        jobs[i].job.run = job_run;
        jobs[i].job.done = job_done;
        store_submit(s, &jobs[i].job);
    }
    pthread_mutex_lock(&gate.mu);
    gate.released = true;
    pthread_cond_signal(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
    while (done < N + 3)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(gate.t.result, MU_OK);
    for (int i = 0; i < N; i++)
        assert_int_equal(jobs[i].result, MU_OK);
    assert_int_equal(jobs[N].result, MU_E_CONFLICT);
    assert_int_equal(jobs[N + 1].result, MU_E_CONFLICT); /* UNIQUE(handle) */
    /* committed rows are visible to the loop's read connection; the failed job left none */
    user_row u;
    assert_int_equal(store_users_find_by_handle(store_reader(s), "user299", &u), 1);
    assert_int_equal(store_users_find_by_handle(store_reader(s), "user100000", &u), 0);
    uint64_t batches = atomic_load(&g_metrics.writer_batches) - batches0;
    test_job probe = {.done_count = &done};
    probe.job.run = probe_run;
    probe.job.done = job_done;
    store_submit(s, &probe.job); /* alone, after every batch above committed */
    store_close(s);
    /* the gate alone, then the N + 2 queued behind it in full batches */
    int want = 1 + (N + 2 + BATCH - 1) / BATCH;
    assert_int_equal(commits1 - commits0, want);
    assert_int_equal(batches, want);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    pthread_mutex_destroy(&gate.mu);
    pthread_cond_destroy(&gate.cv);
    free(jobs);
}

/* A batch of one job runs without a savepoint: when that job fails, its whole transaction is
 * rolled back, what it wrote is gone, and the writer goes on (it is the job's error, not the
 * database's). */
static void run_alone(uv_loop_t *loop, mu_store *s, test_job *t, int *done)
{
    int want = *done + 1;
    t->done_count = done;
    t->job.run = job_run;
    t->job.done = job_done;
    store_submit(s, &t->job);
    while (*done < want)
        uv_run(loop, UV_RUN_ONCE);
}

static void test_lone_job_fails(void **st)
{
    uv_loop_t loop;
    mu_store *s = open_on(&loop, true, 512);
    int done = 0;
    uint64_t failures0 = atomic_load(&g_metrics.writer_failures);
    test_job bad = {.n = 7, .fail_after_insert = true}, good = {.n = 8}, dup = {.n = 8};
    run_alone(&loop, s, &bad, &done);
    run_alone(&loop, s, &good, &done);
    run_alone(&loop, s, &dup, &done); /* fails in its own statement: UNIQUE(handle) */
    assert_int_equal(bad.result, MU_E_CONFLICT);
    assert_int_equal(good.result, MU_OK);
    assert_int_equal(dup.result, MU_E_CONFLICT);
    user_row u;
    assert_int_equal(store_users_find_by_handle(store_reader(s), "user7", &u), 0);
    assert_int_equal(store_users_find_by_handle(store_reader(s), "user8", &u), 1);
    assert_int_equal(atomic_load(&g_metrics.writer_failures), failures0);
    test_job after = {.n = 9};
    run_alone(&loop, s, &after, &done); /* the writer still writes */
    assert_int_equal(after.result, MU_OK);
    store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    char err[256];
    db_conn *d = store_open_direct(db, false, err, sizeof(err));
    assert_non_null(d);
    assert_int_equal(scalar(d, "SELECT count(*) FROM users WHERE handle IN ('user7', 'user8', "
                               "'user9')"),
                     2);
    db_close(d);
}

/* The checkpointer: commits leave the log's copy to a thread of its own, and the log stays
 * bounded. Without the thread (or with SQLite's automatic checkpoint every 1000 pages) the
 * log holds every commit here, several times the bound. */
static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void test_checkpointer(void **st)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    enum { FRAMES = 32, N = 400, PAGE = 4096 + 24, CKPT_MORE = 4 * FRAMES };
    char err[256];
    mu_store_opts o = {.path = db, .batch_max = 512, .checkpoint_frames = FRAMES};
    mu_store *s = store_open(&loop, &o, err, sizeof(err));
    assert_non_null(s);
    uint64_t by_thread0 = atomic_load(&g_metrics.wal_checkpoints);
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", db);
    long before = file_size(wal); /* the migrations' pages: the file never shrinks */
    int done = 0;
    test_job *jobs = calloc(N, sizeof(*jobs));
    for (int i = 0; i < N; i++) {
        jobs[i].n = 2000 + i;
        run_alone(&loop, s, &jobs[i], &done); /* a commit each: each adds pages to the log */
        assert_int_equal(jobs[i].result, MU_OK);
    }
    long size = file_size(wal), bound = (4L * FRAMES + 8) * PAGE;
    /* The thread ran, and the log never grew past four thresholds and a commit's pages. */
    assert_true(atomic_load(&g_metrics.wal_checkpoints) > by_thread0);
    assert_true(size > 0);
    print_message("log: %ld bytes after set-up, %ld after %d commits\n", before, size, N);
    assert_true(size <= (before > bound ? before : bound));
    /* The thread still answers after all that: commits with pauses between them get a
     * checkpoint of its own before the writer's fallback would, even if the writer checkpointed
     * itself while the thread was being woken (a wake-up lost there stopped it for good). */
    uint64_t by_thread1 = atomic_load(&g_metrics.wal_checkpoints);
    test_job *more = calloc(CKPT_MORE, sizeof(*more));
    for (int i = 0; i < CKPT_MORE && atomic_load(&g_metrics.wal_checkpoints) == by_thread1; i++) {
        more[i].n = 3000 + i;
        run_alone(&loop, s, &more[i], &done);
        assert_int_equal(more[i].result, MU_OK);
        for (int t = 0; t < 200 && atomic_load(&g_metrics.wal_checkpoints) == by_thread1; t++)
            usleep(1000);
    }
    assert_true(atomic_load(&g_metrics.wal_checkpoints) > by_thread1);
    free(more);
    store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    db_conn *d = store_open_direct(db, false, err, sizeof(err));
    assert_non_null(d);
    assert_int_equal(scalar(d, "SELECT count(*) FROM users WHERE handle LIKE 'user2___'"), N);
    assert_true(scalar(d, "SELECT count(*) FROM users WHERE handle LIKE 'user3___'") > 0);
    db_stmt *q = db_prepare(d, "PRAGMA integrity_check");
    assert_int_equal(db_step(q), DB_ROW);
    assert_string_equal(db_col_text(q, 0), "ok");
    db_finalize(q);
    db_close(d);
    free(jobs);
}

static void test_close_drains(void **st)
{
    uv_loop_t loop;
    mu_store *s = open_on(&loop, false, 512);
    enum { N = 50 };
    test_job jobs[N];
    memset(jobs, 0, sizeof(jobs));
    int done = 0;
    for (int i = 0; i < N; i++) {
        jobs[i].n = 1000 + i;
        jobs[i].done_count = &done;
        jobs[i].job.run = job_run;
        jobs[i].job.done = job_done;
        store_submit(s, &jobs[i].job);
    }
    store_close(s); /* without running the loop: close itself finishes every job */
    assert_int_equal(done, N);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    char err[256];
    db_conn *d = store_open_direct(db, false, err, sizeof(err));
    assert_non_null(d);
    assert_int_equal(scalar(d, "SELECT count(*) FROM users WHERE handle LIKE 'user10__'"), N);
    db_close(d);
}

/* Shutdown and long reads: store_stop_readers interrupts a read connection in the middle of
 * a long query on another thread, and no new one opens after it (an export queued behind
 * the stop must not open the database the store is about to close). */
typedef struct {
    mu_reader *r;
    int rc;
    _Atomic bool started;
} long_read;

static void *run_long_read(void *arg)
{
    long_read *l = arg;
    db_stmt *q = store_rstmt(l->r, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                   "FROM n WHERE i < 2000000000) SELECT count(*) FROM n");
    l->started = true;
    l->rc = q ? db_step(q) : -1;
    return NULL;
}

static void test_stop_readers(void **st)
{
    uv_loop_t loop;
    mu_store *s = open_on(&loop, false, 512);
    long_read l = {.r = store_reader_open(s)};
    assert_non_null(l.r);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_long_read, &l), 0);
    while (!l.started)
        usleep(1000);
    /* Once is enough, even if it lands before the step begins (where db_interrupt alone
     * would be lost): the reader's progress handler sees the stop too. */
    store_stop_readers(s);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(l.rc, DB_E_INTERRUPTED);
    assert_null(store_reader_open(s));
    store_reader_close(l.r);
    store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A writer thread that cannot start: store_open fails cleanly, and what it had set up on the
 * loop is released by the loop (under ASan, a store freed before its handle's close callback
 * ran is a use after free here). */
static void test_open_thread_fails(void **st)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[256] = "";
    mu_store_opts o = {.path = db, .batch_max = 16};
    fail_thread_start = true;
    last_closed = NULL;
    mu_store *s = store_open(&loop, &o, err, sizeof(err));
    fail_thread_start = false;
    assert_null(s);
    assert_non_null(strstr(err, "writer thread"));
    /* libuv is not instrumented, so its read of a freed handle would pass unseen: check that
     * the handle it still holds is alive */
    assert_non_null(last_closed);
    assert_true(STILL_ALLOCATED(last_closed));
    assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    /* the database was closed: a new store opens it */
    uv_loop_init(&loop);
    s = store_open(&loop, &o, err, sizeof(err));
    assert_non_null(s);
    store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* What migrations 8 to 10 added, taken away again, so that a later test can stand a
 * database at an older version and migrate it forward (the nullable mentor stays: nothing
 * depends on it). */
#define UNDO_8                                                                 \
    "ALTER TABLE rooms DROP COLUMN meeting;"                                   \
    "DROP INDEX audit_action;"                                                 \
    "DROP TRIGGER room_messages_erase_reports; DROP INDEX audit_report;"       \
    "ALTER TABLE audit DROP COLUMN seq; ALTER TABLE audit DROP COLUMN reason;" \
    "DROP INDEX alerts_due; DROP INDEX alerts_escalated;"                      \
    "ALTER TABLE alerts DROP COLUMN escalated_ts;"

/* The running streak: computed for existing data by the migration, then kept by each
 * check-in without reading the history. */
static void test_streaks(void **st)
{
    char err[256];
    db_conn *d = store_open_direct(db, true, err, sizeof(err));
    assert_non_null(d);
    /* a database from before the streaks table, with history */
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "DROP TABLE streaks; PRAGMA user_version = %d;" UNDO_8
             "INSERT INTO users (id, handle, role, pwhash, created_ts) VALUES "
             "(1, 'a', 'member', 'x', 0), (2, 'b', 'member', 'x', 0), (3, 'c', 'member', 'x', 0);"
             "INSERT INTO checkins (user_id, day, tz, ts, mood, flags) VALUES "
             "(1, 10, 0, 0, 5, 0), (1, 11, 0, 0, 5, 0), (1, 12, 0, 0, 5, 0),"
             "(1, 20, 0, 0, 5, 0), (1, 21, 0, 0, 5, 0), (2, 5, 0, 0, 5, 0);",
             6 /* the version before streaks */);
    assert_int_equal(db_exec(d, sql), DB_DONE);
    assert_int_equal(store_migrate(d, err, sizeof(err)), 0);
    assert_int_equal(scalar(d, "SELECT current FROM streaks WHERE user_id = 1"), 2);
    assert_int_equal(scalar(d, "SELECT best FROM streaks WHERE user_id = 1"), 3);
    assert_int_equal(scalar(d, "SELECT last_day FROM streaks WHERE user_id = 1"), 21);
    assert_int_equal(scalar(d, "SELECT current FROM streaks WHERE user_id = 2"), 1);
    assert_int_equal(scalar(d, "SELECT count(*) FROM streaks WHERE user_id = 3"), 0);
    /* each check-in keeps it */
    mu_wtx *w = store_wtx_direct(d);
    struct {
        int64_t user;
        int32_t day;
        int want, best;
    } steps[] = {
        {1, 21, 2, 3},                               /* the same day again */
        {1, 22, 3, 3}, {1, 23, 4, 4}, {1, 25, 1, 4}, /* a gap starts again */
        {3, 7, 1, 1},  {3, 8, 2, 2},                 /* a first check-in */
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        checkin_in in = {.user = steps[i].user,
                         .day = steps[i].day,
                         .mood = 5,
                         .craving = -1,
                         .sleep = -1,
                         .who5_pct = -1,
                         .barc10_total = -1};
        unsigned alerted;
        int streak = -1;
        assert_int_equal(store_checkins_put(w, &in, &alerted, &streak), MU_OK);
        assert_int_equal(streak, steps[i].want);
        snprintf(sql, sizeof(sql), "SELECT best FROM streaks WHERE user_id = %lld",
                 (long long)steps[i].user);
        assert_int_equal(scalar(d, sql), steps[i].best);
    }
    /* an earlier day is refused and changes nothing */
    checkin_in old = {.user = 1,
                      .day = 24,
                      .mood = 5,
                      .craving = -1,
                      .sleep = -1,
                      .who5_pct = -1,
                      .barc10_total = -1};
    unsigned alerted;
    int streak = -1;
    assert_int_equal(store_checkins_put(w, &old, &alerted, &streak), MU_E_CONFLICT);
    assert_int_equal(scalar(d, "SELECT current FROM streaks WHERE user_id = 1"), 1);
    store_wtx_free(w);
    db_close(d);
}

/* Migration 8 on a database with alerts and a reported message: the alerts keep their rows
 * and mentor, a new one may have none; a report keeps a copy of the text only while the
 * message is held, whichever way the message goes. */
static void test_reports_and_escalation_schema(void **st)
{
    char err[256];
    db_conn *d = store_open_direct(db, true, err, sizeof(err));
    assert_non_null(d);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "PRAGMA user_version = 7;" UNDO_8
             "INSERT INTO users (id, handle, role, pwhash, created_ts) VALUES "
             "(1, 'a', 'member', 'x', 0), (2, 'm', 'mentor', 'x', 0), (3, 'b', 'member', 'x', 0);"
             "INSERT INTO alerts (id, user_id, mentor_id, kind, ts, detail) VALUES "
             "(7, 1, 2, 'low_mood', 100, 'Mood 1.');"
             "INSERT INTO rooms (slug, name, audience, format, capacity, persistent, created_ts) "
             "VALUES ('r', 'R', 'open', '', 10, 0, 0);"
             "INSERT INTO room_messages (room, seq, ts, user_id, from_handle, text) VALUES "
             "('r', 1, 5, 1, 'a', 'one'), ('r', 2, 6, 3, 'b', 'two');");
    assert_int_equal(db_exec(d, sql), DB_DONE);
    assert_int_equal(store_migrate(d, err, sizeof(err)), 0);
    assert_int_equal(scalar(d, "SELECT mentor_id FROM alerts WHERE id = 7"), 2);
    assert_int_equal(scalar(d, "SELECT count(*) FROM alerts WHERE escalated_ts IS NULL"), 1);

    mu_wtx *w = store_wtx_direct(d);
    int64_t id = 0;
    assert_int_equal(store_alerts_insert(w, 1, 0, "help_requested", 200, "Asked for help.", &id),
                     MU_OK);
    char q[160];
    snprintf(q, sizeof(q), "SELECT escalated_ts FROM alerts WHERE id = %lld AND mentor_id IS NULL",
             (long long)id);
    assert_int_equal(scalar(d, q), 200);
    bool repeat = true;
    report_in in = {1000, 3, 1, "b", "r", "why"};
    assert_int_equal(store_reports_add(w, &in, &repeat), MU_OK);
    assert_false(repeat);
    assert_int_equal(store_reports_add(w, &in, &repeat), MU_OK);
    assert_true(repeat);
    report_in in2 = {1001, 1, 2, "a", "r", NULL};
    assert_int_equal(store_reports_add(w, &in2, &repeat), MU_OK);
    report_in gone = {1002, 1, 9, "a", "r", NULL};
    assert_int_equal(store_reports_add(w, &gone, &repeat), MU_E_NOT_FOUND);
    assert_int_equal(scalar(d, "SELECT count(*) FROM audit WHERE action = 'report' AND "
                               "detail IS NOT NULL"),
                     2);
    /* the author's erasure takes the copy of their message; the other stays */
    assert_int_equal(store_admin_erase_user(w, 1), MU_OK);
    assert_int_equal(scalar(d, "SELECT count(*) FROM audit WHERE seq = 1 AND detail IS NULL AND "
                               "target = '(erased)' AND reason = 'why'"),
                     1);
    assert_int_equal(scalar(d, "SELECT count(*) FROM audit WHERE seq = 2 AND detail = 'two' AND "
                               "actor = '(erased)'"),
                     1);
    /* the room's deletion takes the rest */
    assert_int_equal(store_rooms_remove(w, "r"), MU_OK);
    assert_int_equal(scalar(d, "SELECT count(*) FROM audit WHERE detail IS NOT NULL"), 0);
    assert_int_equal(scalar(d, "SELECT count(*) FROM audit WHERE action = 'report'"), 2);
    store_wtx_free(w);
    db_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lone_job_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpointer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_thread_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_streaks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_and_escalation_schema, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
