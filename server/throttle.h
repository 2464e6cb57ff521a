/* Login throttling per handle (existing or not): a handle with `max` or more failed logins
 * within the last `window_ms` (a sliding window) is blocked until the oldest of them ages out.
 * Kept in memory, bounded in size. Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_THROTTLE_H
#define MUTUAL_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mu_throttle mu_throttle;

mu_throttle *throttle_new(unsigned max, int64_t window_ms, size_t capacity);
void throttle_free(mu_throttle *t);
bool throttle_blocked(mu_throttle *t, const char *handle, int64_t now_ms);
void throttle_fail(mu_throttle *t, const char *handle, int64_t now_ms);
void throttle_clear(mu_throttle *t, const char *handle);
size_t throttle_size(const mu_throttle *t);

#endif
