/* Counters and the /metrics text (see metrics.h).
 * Layer: base (calls nothing of the server's above it). */
#include "metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

mu_metrics g_metrics;

/* Commit latency buckets in microseconds, batch size buckets in jobs. */
static const uint64_t commit_bounds[METRICS_LAT_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000};
static const uint64_t batch_bounds[METRICS_LAT_BUCKETS] = {1,  2,   4,   8,   16,   32,
                                                           64, 128, 256, 512, 1024, 4096};

void metrics_commit(uint64_t micros, uint64_t jobs)
{
    METRIC_INC(writer_batches);
    METRIC_ADD(writer_jobs, jobs);
    METRIC_ADD(commit_us_sum, micros);
    for (int i = 0; i < METRICS_LAT_BUCKETS; i++)
        if (micros <= commit_bounds[i]) {
            METRIC_INC(commit_le[i]);
            break;
        }
    for (int i = 0; i < METRICS_LAT_BUCKETS; i++)
        if (jobs <= batch_bounds[i]) {
            METRIC_INC(batch_le[i]);
            break;
        }
}

uint64_t metrics_rss_bytes(void)
{
    /* statm is "size resident shared ...", in pages; strtoul, because fscanf cannot say
     * whether a number overflowed. */
    FILE *f = fopen("/proc/self/statm", "r");
    char line[128];
    if (!f)
        return 0;
    bool ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    if (!ok)
        return 0;
    char *end;
    (void)strtoul(line, &end, 10);
    if (end == line)
        return 0;
    const char *at = end;
    unsigned long rss = strtoul(at, &end, 10);
    if (end == at)
        return 0;
    return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *nb = xrealloc(b->buf, cap);
        b->buf = nb;
        b->cap = cap;
    }
}

#define LOAD(f) ((unsigned long long)atomic_load_explicit(&g_metrics.f, memory_order_relaxed))

static void counter(sbuf *b, const char *name, const char *help, unsigned long long v)
{
    put(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

static void histogram(sbuf *b, const char *name, const char *help, atomic_uint_fast64_t *le,
                      const uint64_t *bounds, double scale, unsigned long long count, double sum)
{
    put(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cum = 0;
    for (int i = 0; i < METRICS_LAT_BUCKETS; i++) {
        cum += (unsigned long long)atomic_load_explicit(&le[i], memory_order_relaxed);
        put(b, "%s_bucket{le=\"%g\"} %llu\n", name, (double)bounds[i] * scale, cum);
    }
    put(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %g\n%s_count %llu\n", name, count, name, sum, name,
        count);
}

char *metrics_render(size_t *len)
{
    sbuf b = {xmalloc(4096), 0, 4096};
    b.buf[0] = 0;
    put(&b,
        "# HELP mutual_connections Open WebSocket connections.\n"
        "# TYPE mutual_connections gauge\nmutual_connections %llu\n",
        LOAD(connections));
    counter(&b, "mutual_connections_total", "WebSocket connections accepted.",
            LOAD(connections_total));
    counter(&b, "mutual_frames_in_total", "WebSocket messages received.", LOAD(frames_in));
    counter(&b, "mutual_frames_out_total", "WebSocket messages queued for sending.",
            LOAD(frames_out));
    counter(&b, "mutual_bytes_in_total", "Payload bytes received.", LOAD(bytes_in));
    counter(&b, "mutual_bytes_out_total", "Bytes queued for sending, framing included.",
            LOAD(bytes_out));
    counter(&b, "mutual_malformed_frames_total", "Frames that could not be read as a request.",
            LOAD(malformed_frames));
    counter(&b, "mutual_slow_consumers_total",
            "Connections closed because their send queue passed its bound.", LOAD(slow_consumers));
    put(&b, "# HELP mutual_replies_total Replies sent, by result code.\n"
            "# TYPE mutual_replies_total counter\n");
    for (int i = 0; i < MU_E__COUNT; i++)
        put(&b, "mutual_replies_total{code=\"%s\"} %llu\n", mu_code_name((mu_code)i),
            (unsigned long long)atomic_load_explicit(&g_metrics.replies[i], memory_order_relaxed));
    counter(&b, "mutual_writer_failures_total", "Write batches that failed to commit.",
            LOAD(writer_failures));
    counter(&b, "mutual_wal_checkpoints_total",
            "Checkpoints of the SQLite write-ahead log by the checkpointer thread.",
            LOAD(wal_checkpoints));
    counter(&b, "mutual_wal_checkpoints_writer_total",
            "Checkpoints the writer ran itself, the checkpointer having fallen behind.",
            LOAD(wal_checkpoints_writer));
    unsigned long long batches = LOAD(writer_batches);
    histogram(&b, "mutual_writer_batch_jobs", "Jobs committed per writer batch.",
              g_metrics.batch_le, batch_bounds, 1.0, batches, (double)LOAD(writer_jobs));
    histogram(&b, "mutual_writer_commit_seconds", "Time to run and commit one writer batch.",
              g_metrics.commit_le, commit_bounds, 1e-6, batches, (double)LOAD(commit_us_sum) / 1e6);
    put(&b,
        "# HELP mutual_process_resident_memory_bytes Resident memory of the server.\n"
        "# TYPE mutual_process_resident_memory_bytes gauge\n"
        "mutual_process_resident_memory_bytes %llu\n",
        (unsigned long long)metrics_rss_bytes());
    *len = b.len;
    return b.buf;
}
