/* The server's one clock. Every time-dependent rule reads it, so that `test.clock` can move
 * all of them together. Wall-clock milliseconds since the Unix epoch, plus a test offset; or,
 * in test mode, a frozen time that only test.clock moves.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_CLOCK_H
#define MUTUAL_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);
/* Stops the clock at the present (test mode): from then on it moves only when advanced, so
 * that tests do not depend on how long the machine takes to run them. */
void clock_freeze(void);
/* Moves the clock forward (test mode only) and tells every observer. */
void clock_advance(int64_t ms);

/* Called after each advance, in registration order, to run what fell due. */
typedef void (*clock_observer)(void *ud);
void clock_observe(clock_observer fn, void *ud);
void clock_reset(void); /* drops observers, the offset and a freeze (tests, shutdown) */

#endif
