/* Pool work that shutdown waits for: counted from queueing until its completion has run, and
 * told to give up once the server stops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "pool.h"

typedef struct {
    mu_work work;
    atomic_bool release; /* the test lets the work end */
    bool saw_stop;       /* pool_stopping() as the work ended */
    unsigned pending_in_done;
    int done;
} held_work;

static void run_held(uv_work_t *req)
{
    held_work *h = req->data;
    while (!atomic_load(&h->release))
        usleep(1000);
    h->saw_stop = pool_stopping();
}

static void done_held(uv_work_t *req, int status)
{
    held_work *h = req->data;
    assert_int_equal(status, 0);
    h->pending_in_done = pool_pending();
    h->done++;
}

static void test_counts_until_done(void **st)
{
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    pool_reset();
    held_work a = {0}, b = {0};
    a.work.req.data = &a;
    b.work.req.data = &b;
    assert_int_equal(pool_queue(&loop, &a.work, run_held, done_held), 0);
    assert_int_equal(pool_queue(&loop, &b.work, run_held, done_held), 0);
    assert_int_equal(pool_pending(), 2);
    atomic_store(&a.release, true);
    while (!a.done)
        uv_run(&loop, UV_RUN_ONCE);
    assert_false(a.saw_stop);
    /* Still counted while its completion runs: that may hand a job to the store. */
    assert_int_equal(a.pending_in_done, 2);
    assert_int_equal(pool_pending(), 1);
    pool_stop();
    assert_true(pool_stopping());
    atomic_store(&b.release, true);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(b.done, 1);
    assert_true(b.saw_stop);
    assert_int_equal(pool_pending(), 0);
    pool_reset();
    assert_false(pool_stopping());
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_until_done),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
