/* The server's one clock (see clock.h). Layer: base (calls nothing of the server's above it). */
#include "clock.h"

#include <stdlib.h>
#include <time.h>

static int64_t offset_ms;

struct observer {
    clock_observer fn;
    void *ud;
};
static struct observer observers[16];
static int nobservers;

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms;
}

void clock_advance(int64_t ms)
{
    offset_ms += ms;
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
    offset_ms = 0;
    nobservers = 0;
}
