/* Failure counting in a sliding window, per (name, source address): `max` or more failures
 * within the last `window_ms` block the pair until the oldest of them ages out. The login
 * throttle counts per (handle, address), so that failures from one address never lock the
 * handle out from another; with an empty name it counts per address alone (the per-address
 * login ceiling, the registration limit). Kept in memory, bounded in size; a pair is known by
 * its key (throttle_key), so that nodes can share their counts by key alone.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_THROTTLE_H
#define MUTUAL_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

typedef struct mu_throttle mu_throttle;

typedef enum { THROTTLE_FAIL, THROTTLE_UNFAIL, THROTTLE_CLEAR } throttle_change;
/* Told of every change made through throttle_fail/unfail/clear (not throttle_apply): `ms` is
 * the failure's time (0 for a clear). */
typedef void (*throttle_tap_fn)(void *ud, uint64_t key, throttle_change what, int64_t ms);

/* At most `capacity` pairs are kept: past it, pairs with nothing left in the window go first,
 * then the one whose last failure is oldest. */
mu_throttle *throttle_new(unsigned max, int64_t window_ms, size_t capacity);
void throttle_free(mu_throttle *t);
/* Milliseconds until the pair may try again; 0 when it may now. */
int64_t throttle_wait(mu_throttle *t, const char *name, const mu_netaddr *a, int64_t now_ms);
bool throttle_blocked(mu_throttle *t, const char *name, const mu_netaddr *a, int64_t now_ms);
void throttle_fail(mu_throttle *t, const char *name, const mu_netaddr *a, int64_t now_ms);
/* Takes back one failure recorded at `at_ms` (an attempt counted while in flight that
 * succeeded). */
void throttle_unfail(mu_throttle *t, const char *name, const mu_netaddr *a, int64_t at_ms);
/* Forgets the pair's failures (a success). */
void throttle_clear(mu_throttle *t, const char *name, const mu_netaddr *a);
size_t throttle_size(const mu_throttle *t);

/* The same on every node: a 64-bit cryptographic hash of the pair. */
uint64_t throttle_key(const char *name, const mu_netaddr *a);
void throttle_set_tap(mu_throttle *t, throttle_tap_fn fn, void *ud);
/* A change made elsewhere (another node's), by key; the tap is not told. */
void throttle_apply(mu_throttle *t, uint64_t key, throttle_change what, int64_t ms);

#endif
