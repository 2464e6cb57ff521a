/* The checkpointer thread (see store_checkpoint.h). Layer: storage, over the base. */
#include "store_checkpoint.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "metrics.h"
#include "xalloc.h"

/* The log's length, in thresholds, past which the writer stops waiting for the thread. */
#define CKPT_BEHIND 4

struct store_ckpt {
    db_conn *writer; /* not owned: the store's */
    db_conn *db;     /* owned: the thread's own connection */
    int frames;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv, idle;        /* the thread waits on cv, the writer on idle */
    bool wanted, running, stopping; /* under mu */
};

/* The writer's thread, after each commit. */
static void on_commit(void *ud, int frames)
{
    store_ckpt *k = ud;
    if (frames < k->frames)
        return;
    if (frames >= CKPT_BEHIND * k->frames) {
        /* Nothing is added to the log while the writer itself copies it, so this one reaches
         * its end and the next write starts the log over. The thread's checkpoint under way
         * is waited for, and mu is held to the end of the writer's, so that the thread starts
         * none meanwhile: two cannot run at once. A thread woken meanwhile waits for mu and
         * then runs, so no request for a checkpoint is lost. */
        pthread_mutex_lock(&k->mu);
        while (k->running)
            pthread_cond_wait(&k->idle, &k->mu);
        if (db_checkpoint_passive(k->writer) == DB_DONE)
            METRIC_INC(wal_checkpoints_writer);
        pthread_mutex_unlock(&k->mu);
        return;
    }
    pthread_mutex_lock(&k->mu);
    if (!k->wanted) {
        k->wanted = true;
        pthread_cond_signal(&k->cv);
    }
    pthread_mutex_unlock(&k->mu);
}

static void *ckpt_main(void *arg)
{
    store_ckpt *k = arg;
    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->wanted && !k->stopping)
            pthread_cond_wait(&k->cv, &k->mu);
        if (k->stopping)
            break;
        k->wanted = false;
        k->running = true;
        pthread_mutex_unlock(&k->mu);
        /* A passive checkpoint takes no lock a commit needs: the writer goes on meanwhile. */
        if (db_checkpoint_passive(k->db) == DB_DONE)
            METRIC_INC(wal_checkpoints);
        pthread_mutex_lock(&k->mu);
        k->running = false;
        pthread_cond_signal(&k->idle);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

store_ckpt *store_ckpt_start(const char *path, db_conn *writer, int frames)
{
    if (db_engine_of(writer) != DB_SQLITE)
        return NULL;
    char err[512];
    db_conn *db = db_open(path, 0, err, sizeof(err));
    if (!db) {
        log_warn("no checkpointer (%s): commits checkpoint the log themselves", err);
        return NULL;
    }
    /* A first read opens the connection's view of the log, which a checkpoint needs. */
    if (db_exec(db, "SELECT 1 FROM sqlite_schema LIMIT 1") != DB_DONE) {
        log_warn("no checkpointer (%s): commits checkpoint the log themselves", db_errmsg(db));
        db_close(db);
        return NULL;
    }
    store_ckpt *k = xcalloc(1, sizeof(*k));
    k->writer = writer;
    k->db = db;
    k->frames = frames > 0 ? frames : 1000;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    pthread_cond_init(&k->idle, NULL);
    if (pthread_create(&k->thread, NULL, ckpt_main, k) != 0) {
        log_warn("no checkpointer thread: commits checkpoint the log themselves");
        pthread_mutex_destroy(&k->mu);
        pthread_cond_destroy(&k->cv);
        pthread_cond_destroy(&k->idle);
        db_close(db);
        free(k);
        return NULL;
    }
    db_on_commit(writer, on_commit, k);
    return k;
}

void store_ckpt_stop(store_ckpt *k)
{
    if (!k)
        return;
    db_on_commit(k->writer, NULL, NULL);
    pthread_mutex_lock(&k->mu);
    k->stopping = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    db_close(k->db);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    pthread_cond_destroy(&k->idle);
    free(k);
}
