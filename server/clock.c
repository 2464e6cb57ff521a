/* The server's one clock (see clock.h). Layer: base (calls nothing of the server's above it). */
#include "clock.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

/* Atomics: writer-thread jobs read the clock while the loop thread moves it. */
static _Atomic int64_t offset_ms;
/* Non-zero while the clock is frozen (test mode): the time it reads. */
static _Atomic int64_t frozen_ms;

struct observer {
    clock_observer fn;
    void *ud;
};
static struct observer observers[16];
static int nobservers;

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_now_ms(void)
{
    int64_t f = atomic_load(&frozen_ms);
    return f ? f : real_ms() + atomic_load(&offset_ms);
}

void clock_freeze(void)
{
    atomic_store(&frozen_ms, real_ms() + atomic_load(&offset_ms));
}

void clock_advance(int64_t ms)
{
    if (atomic_load(&frozen_ms))
        atomic_fetch_add(&frozen_ms, ms);
    else
        atomic_fetch_add(&offset_ms, ms);
    for (int i = 0; i < nobservers; i++)
        observers[i].fn(observers[i].ud);
}

void clock_observe(clock_observer fn, void *ud)
{
    if (nobservers == (int)(sizeof(observers) / sizeof(observers[0])))
        abort(); /* a fixed set of subsystems registers; more is a bug */
    observers[nobservers++] = (struct observer){fn, ud};
}

void clock_reset(void)
{
    atomic_store(&offset_ms, 0);
    atomic_store(&frozen_ms, 0);
    nobservers = 0;
}
