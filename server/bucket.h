/* A token bucket: `rate` tokens a second, at most `burst` saved up. Each request takes one.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_BUCKET_H
#define MUTUAL_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    double tokens;
    double rate, burst;
    uint64_t last_ms; /* monotonic */
} mu_bucket;

void bucket_init(mu_bucket *b, double rate, double burst, uint64_t now_ms);
bool bucket_take(mu_bucket *b, uint64_t now_ms);

#endif
