/* Work on libuv's thread pool (password hashing, exports) that the server's shutdown knows
 * about: the store is closed only once no such work is queued or running, because the work
 * and its completion use the store. Layer: base. Loop thread only, except pool_stopping. */
#ifndef MUTUAL_POOL_H
#define MUTUAL_POOL_H

#include <stdbool.h>
#include <uv.h>

/* Embedded by the caller, who owns it until `done` has run. `req.data` is the caller's. */
typedef struct mu_work {
    uv_work_t req;
    uv_work_cb run;        /* on a pool thread */
    uv_after_work_cb done; /* on the loop, always once (status UV_ECANCELED if cancelled) */
} mu_work;

/* Queues `run` then `done`. Returns 0, or a libuv error (nothing will be called). */
int pool_queue(uv_loop_t *loop, mu_work *w, uv_work_cb run, uv_after_work_cb done);

/* Work queued or running whose `done` has not yet run. */
unsigned pool_pending(void);

/* From now on work should give up at once: shutdown waits for it. Any thread may ask. */
void pool_stop(void);
bool pool_stopping(void);

/* Clears the stop (a server started again in the same process, as tests do). */
void pool_reset(void);

#endif
