/* Shared limits (see throttle_share.h). An event is `throttle KEY WHICH*4+CHANGE MS`. */
#include "throttle_share.h"

#include <stdint.h>
#include <stdlib.h>

#include "context.h"
#include "events.h"
#include "peers.h"
#include "throttle.h"
#include "xalloc.h"

enum { SHARE_HANDLE, SHARE_LOGIN_ADDR, SHARE_REGISTER, SHARE_N };

static mu_throttle *shared[SHARE_N];

typedef struct {
    mu_job job;
    int64_t key, what, ms;
} share_op;

static mu_code share_run(mu_job *j, mu_wtx *w)
{
    share_op *o = (share_op *)j;
    return events_publish(w, "throttle", o->key, o->what, o->ms);
}

static void share_done(mu_job *j)
{
    free(j); /* a change that could not be told stays this node's alone */
}

static void tap(void *ud, uint64_t key, throttle_change what, int64_t ms)
{
    if (!events_shared())
        return;
    share_op *o = xcalloc(1, sizeof(*o));
    o->key = (int64_t)key;
    o->what = (int64_t)(intptr_t)ud * 4 + what;
    o->ms = ms;
    o->job.run = share_run;
    o->job.done = share_done;
    store_submit(g_srv->store, &o->job);
}

static void on_change(int64_t key, int64_t what, int64_t ms, const char *word)
{
    (void)word;
    int64_t which = what / 4, change = what % 4;
    if (which < 0 || which >= SHARE_N || change < THROTTLE_FAIL || change > THROTTLE_CLEAR ||
        !shared[which])
        return;
    throttle_apply(shared[which], (uint64_t)key, (throttle_change)change, ms);
}

void throttle_share_init(void)
{
    shared[SHARE_HANDLE] = g_srv->throttle;
    shared[SHARE_LOGIN_ADDR] = peers_login_throttle();
    shared[SHARE_REGISTER] = peers_register_throttle();
    for (intptr_t i = 0; i < SHARE_N; i++)
        if (shared[i])
            throttle_set_tap(shared[i], tap, (void *)i);
    events_on("throttle", on_change, NULL);
}
