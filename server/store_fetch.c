/* The fetcher (see store_fetch.h): one thread, one live read connection opened again when it
 * was lost, a queue in, and a queue of finished jobs that a uv_async hands back to the loop.
 * Layer: storage, over store.h. */
#include "store_fetch.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "xalloc.h"

struct mu_fetcher {
    mu_store *store;
    uv_async_t async;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mu_fetch *q_head, *q_tail; /* waiting for the thread, under mu */
    mu_fetch *d_head, *d_tail; /* read, waiting for the loop, under mu */
    bool stopping;             /* under mu */
    mu_reader *r;              /* the thread's */
    uint64_t retry_ns;         /* the thread's: no new connection tried before (uv_hrtime) */
};

/* How long a failed connection waits before the next try: jobs meanwhile fail at once, rather
 * than each waiting out a connect timeout. */
#define RETRY_NS (1000ull * 1000 * 1000)

static void push(mu_fetch **head, mu_fetch **tail, mu_fetch *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

/* A connection that is there: opened again after a loss, NULL while it cannot be. */
static mu_reader *reader(mu_fetcher *f)
{
    if (f->r && db_lost(store_reader_db(f->r))) {
        store_reader_close(f->r);
        f->r = NULL;
    }
    if (!f->r && uv_hrtime() >= f->retry_ns) {
        f->r = store_reader_open_live(f->store);
        if (!f->r)
            f->retry_ns = uv_hrtime() + RETRY_NS;
    }
    return f->r;
}

/* The job on the connection; once more on a new one when the first failed because the
 * connection was lost (a restarted PostgreSQL shows only when a statement fails on it). */
static bool run_job(mu_fetcher *f, mu_fetch *j)
{
    mu_reader *r = reader(f);
    if (j->run(j, r))
        return true;
    if (!r || !db_lost(store_reader_db(r)))
        return false;
    return j->run(j, reader(f));
}

static void *run_thread(void *arg)
{
    mu_fetcher *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->q_head && !f->stopping)
            pthread_cond_wait(&f->cv, &f->mu);
        if (f->stopping)
            break;
        mu_fetch *j = f->q_head;
        f->q_head = j->next;
        if (!f->q_head)
            f->q_tail = NULL;
        pthread_mutex_unlock(&f->mu);
        j->ok = run_job(f, j);
        pthread_mutex_lock(&f->mu);
        push(&f->d_head, &f->d_tail, j);
        uv_async_send(&f->async);
    }
    pthread_mutex_unlock(&f->mu);
    store_reader_close(f->r);
    f->r = NULL;
    return NULL;
}

static void on_async(uv_async_t *a)
{
    mu_fetcher *f = a->data;
    pthread_mutex_lock(&f->mu);
    mu_fetch *j = f->d_head;
    f->d_head = f->d_tail = NULL;
    pthread_mutex_unlock(&f->mu);
    while (j) {
        mu_fetch *next = j->next;
        j->done(j, j->ok);
        j = next;
    }
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

mu_fetcher *store_fetcher_start(mu_store *s, uv_loop_t *loop)
{
    mu_fetcher *f = xcalloc(1, sizeof(*f));
    f->store = s;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    uv_async_init(loop, &f->async, on_async);
    f->async.data = f;
    if (pthread_create(&f->thread, NULL, run_thread, f) != 0) {
        log_error("cannot start the reading thread");
        pthread_mutex_destroy(&f->mu);
        pthread_cond_destroy(&f->cv);
        uv_close((uv_handle_t *)&f->async, on_closed);
        return NULL;
    }
    return f;
}

void store_fetch(mu_fetcher *f, mu_fetch *job)
{
    pthread_mutex_lock(&f->mu);
    push(&f->q_head, &f->q_tail, job);
    pthread_mutex_unlock(&f->mu);
    pthread_cond_signal(&f->cv); /* after unlocking, as store_submit does */
}

void store_fetcher_stop(mu_fetcher *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stopping = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    on_async(&f->async); /* what was read */
    /* What was not: a done may queue another job, which is handed back the same way. */
    while (f->q_head) {
        mu_fetch *j = f->q_head;
        f->q_head = j->next;
        if (!f->q_head)
            f->q_tail = NULL;
        j->done(j, false);
    }
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    uv_close((uv_handle_t *)&f->async, on_closed);
}
