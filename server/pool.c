/* Counting pool work so that shutdown can wait for it (see pool.h). Layer: base. */
#include "pool.h"

#include <stdatomic.h>
#include <stddef.h>

static unsigned pending;     /* loop thread only */
static atomic_bool stopping; /* read by pool threads */

static void pool_run(uv_work_t *req)
{
    mu_work *w = (mu_work *)((char *)req - offsetof(mu_work, req));
    w->run(req);
}

static void pool_done(uv_work_t *req, int status)
{
    mu_work *w = (mu_work *)((char *)req - offsetof(mu_work, req));
    /* Counted down after `done`, which may still hand a job to the store. */
    w->done(req, status);
    pending--;
}

int pool_queue(uv_loop_t *loop, mu_work *w, uv_work_cb run, uv_after_work_cb done)
{
    w->run = run;
    w->done = done;
    int rc = uv_queue_work(loop, &w->req, pool_run, pool_done);
    if (rc == 0)
        pending++;
    return rc;
}

unsigned pool_pending(void)
{
    return pending;
}

void pool_stop(void)
{
    atomic_store(&stopping, true);
}

bool pool_stopping(void)
{
    return atomic_load(&stopping);
}

void pool_reset(void)
{
    atomic_store(&stopping, false);
}
