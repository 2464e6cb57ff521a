/* The server's one clock. Every time-dependent rule reads it, so that `test.clock` can move
 * all of them together. Wall-clock milliseconds since the Unix epoch, plus a test offset.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_CLOCK_H
#define MUTUAL_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);
/* Moves the clock forward (test mode only) and tells every observer. */
void clock_advance(int64_t ms);

/* Called after each advance, in registration order, to run what fell due. */
typedef void (*clock_observer)(void *ud);
void clock_observe(clock_observer fn, void *ud);
void clock_reset(void); /* drops observers and the offset (tests, shutdown) */

#endif
