/* Process-wide counters, rendered for `/metrics` in the Prometheus text format. The writer
 * thread updates some of them, so all are atomics.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_METRICS_H
#define MUTUAL_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define METRICS_LAT_BUCKETS 12

typedef struct {
    atomic_uint_fast64_t connections; /* open WebSockets (gauge) */
    atomic_uint_fast64_t connections_total;
    atomic_uint_fast64_t frames_in, frames_out, bytes_in, bytes_out;
    atomic_uint_fast64_t malformed_frames, slow_consumers, rate_limited;
    atomic_uint_fast64_t replies[MU_E__COUNT]; /* [MU_OK] counts successes */
    atomic_uint_fast64_t writer_batches, writer_jobs, writer_failures;
    atomic_uint_fast64_t wal_checkpoints, wal_checkpoints_writer;
    atomic_uint_fast64_t commit_us_sum;
    atomic_uint_fast64_t commit_le[METRICS_LAT_BUCKETS]; /* cumulative at render time */
    atomic_uint_fast64_t batch_le[METRICS_LAT_BUCKETS];
} mu_metrics;

extern mu_metrics g_metrics;

#define METRIC_INC(f) atomic_fetch_add_explicit(&g_metrics.f, 1, memory_order_relaxed)
#define METRIC_ADD(f, n) atomic_fetch_add_explicit(&g_metrics.f, (n), memory_order_relaxed)
#define METRIC_DEC(f) atomic_fetch_sub_explicit(&g_metrics.f, 1, memory_order_relaxed)

void metrics_commit(uint64_t micros, uint64_t jobs);
/* Returns a malloc'd text the caller frees, its length in *len. */
char *metrics_render(size_t *len);
/* Resident set size of the process in bytes, 0 when unknown. */
uint64_t metrics_rss_bytes(void);

#endif
