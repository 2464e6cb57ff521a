/* Benchmark: room fan-out over real WebSockets. R rooms of M connections, S of them senders
 * sending N messages/s each for T seconds. Prints connections, messages sent, deliveries,
 * delivery ratio, deliveries/s, latency p50/p99/max (send to receipt of room.msg) and the
 * server's CPU use. With --idle C it instead joins C idle connections to one room and prints
 * the server's memory per connection.
 * Usage: bench_rooms [rooms members senders rate seconds] | --idle C */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define PW "benchmark password"

static double *lat;
static size_t nlat, caplat;
static long deliveries, sent;
static double t_start;
static bool measuring;

static void on_event(mu_client *c, const mu_msg *m, void *ud)
{
    if (!measuring || strcmp(mu_msg_op(m), "room.msg") != 0)
        return;
    const char *text = mu_value_get_str(mu_msg_root(m), "text");
    if (!text)
        return;
    double at = atof(text);
    deliveries++;
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 1 << 20;
        lat = grow(lat, caplat * sizeof(*lat));
    }
    lat[nlat++] = mono_ms() - at;
}

typedef struct {
    mu_client *c;
    const char *room;
    long due_sent;
} sender;

static double reply_sum;
static long replies;

static void on_said(mu_client *c, const mu_msg *m, void *ud)
{
    double *at = ud;
    if (m && mu_msg_ok(m)) {
        reply_sum += mono_ms() - *at;
        replies++;
    }
    free(at);
}

static sender *senders;
static int nsenders;
static double rate;
static char pad[200];

static void on_tick(uv_timer_t *t)
{
    if (!measuring)
        return;
    double now = mono_ms();
    for (int i = 0; i < nsenders; i++) {
        sender *s = &senders[i];
        /* Senders are spread over the period, as people typing are, not all on one tick. */
        long due = (long)((now - t_start) / 1000.0 * rate + (double)i / nsenders);
        while (s->due_sent < due) {
            char text[256];
            snprintf(text, sizeof(text), "%.3f %s", mono_ms(), pad);
            mu_req *r = mu_req_new("room.say");
            mu_req_str(r, "room", s->room);
            mu_req_str(r, "text", text);
            double *at = malloc(sizeof(*at));
            *at = mono_ms();
            mu_client_send(s->c, r, on_said, at);
            s->due_sent++;
            sent++;
        }
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double server_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double server_rss(int port)
{
    char *body;
    http_get(port, "/metrics", &body);
    const char *p = strstr(body, "\nmutual_process_resident_memory_bytes ");
    double v = p ? atof(p + 38) : 0;
    free(body);
    return v;
}

typedef struct {
    int pending;
} counter;

static void on_reply(mu_client *c, const mu_msg *m, void *ud)
{
    if (!m || !mu_msg_ok(m)) {
        fprintf(stderr, "setup request failed: %s\n", m ? mu_msg_text(m) : "no reply");
        exit(1);
    }
    ((counter *)ud)->pending--;
}

static void wait_all(mu_sync *y, counter *k)
{
    while (k->pending > 0)
        mu_sync_run(y, 5);
}

static mu_req *join_req(const char *room)
{
    mu_req *r = mu_req_new("room.join");
    mu_req_str(r, "room", room);
    return r;
}

static int idle_mode(int nconn)
{
    srv_t s;
    srv_start(&s, "max_connections = 20000", 0);
    srv_user_add(&s, "mentor", PW, "mentor");
    mu_sync *y = mu_sync_new();
    mu_client *m = cl_connect(y, &s);
    char *token = cl_login(y, m, "mentor", PW);
    mu_req *r = mu_req_new("room.create");
    mu_req_str(r, "room", "idle");
    mu_req_str(r, "name", "Idle room");
    mu_req_str(r, "audience", "open");
    mu_req_int(r, "capacity", 1000);
    call_expect(y, m, r, "ok");
    r = mu_req_new("room.open");
    mu_req_str(r, "room", "idle");
    call_expect(y, m, r, "ok");
    mu_sync_run(y, 300);
    double before = server_rss(s.port);
    counter k = {0};
    mu_client **cs = calloc((size_t)nconn, sizeof(mu_client *));
    char err[128];
    for (int i = 0; i < nconn; i++) {
        mu_client_opts o = {.url = s.url};
        cs[i] = mu_sync_connect(y, &o, 20000, err, sizeof(err));
        if (!cs[i]) {
            fprintf(stderr, "connection %d: %s\n", i, err);
            free(cs);
            return 1;
        }
        r = mu_req_new("resume");
        mu_req_str(r, "token", token);
        k.pending += 2;
        mu_client_send(cs[i], r, on_reply, &k);
        mu_client_send(cs[i], join_req("idle"), on_reply, &k);
        if (i % 200 == 199)
            wait_all(y, &k);
    }
    wait_all(y, &k);
    mu_sync_run(y, 1000);
    double after = server_rss(s.port);
    printf("bench_rooms --idle: %d idle connections joined to one room\n", nconn);
    printf("server RSS %.1f MiB before, %.1f MiB after: %.0f bytes per joined connection\n",
           before / 1048576, after / 1048576, (after - before) / nconn);
    free(token);
    free(cs);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "--idle"))
        return idle_mode(atoi(argv[2]));
    int nrooms = argc > 1 ? atoi(argv[1]) : 20, members = argc > 2 ? atoi(argv[2]) : 50;
    int per_room = argc > 3 ? atoi(argv[3]) : 2;
    rate = argc > 4 ? atof(argv[4]) : 20;
    int secs = argc > 5 ? atoi(argv[5]) : 10;
    memset(pad, 'x', 60);
    srv_t s;
    srv_start(&s,
              getenv("BENCH_SYNC_NORMAL")
                  ? "max_connections = 20000\nsend_queue = 4194304\nsynchronous = normal"
                  : "max_connections = 20000\nsend_queue = 4194304",
              0);
    srv_user_add(&s, "mentor", PW, "mentor");
    mu_sync *y = mu_sync_new();
    mu_client *m = cl_connect(y, &s);
    char *mtoken = cl_login(y, m, "mentor", PW);
    char(*slugs)[16] = calloc((size_t)nrooms, 16);
    for (int i = 0; i < nrooms; i++) {
        snprintf(slugs[i], 16, "room%d", i);
        mu_req *r = mu_req_new("room.create");
        mu_req_str(r, "room", slugs[i]);
        mu_req_str(r, "name", "Benchmark room");
        mu_req_str(r, "audience", "open");
        call_expect(y, m, r, "ok");
        r = mu_req_new("room.open");
        mu_req_str(r, "room", slugs[i]);
        call_expect(y, m, r, "ok");
    }
    /* Senders are users of their own; the other members of a room are connections of one
     * listener user per room (presence is per user, delivery per connection). */
    nsenders = nrooms * per_room;
    senders = calloc((size_t)nsenders, sizeof(*senders));
    char **tokens = calloc((size_t)nsenders + (size_t)nrooms, sizeof(char *));
    counter k = {0};
    mu_client **reg = calloc((size_t)nsenders + (size_t)nrooms, sizeof(mu_client *));
    for (int i = 0; i < nsenders + nrooms; i++) {
        char h[32];
        snprintf(h, sizeof(h), i < nsenders ? "sender%d" : "listener%d", i);
        reg[i] = cl_connect(y, &s);
        tokens[i] = cl_register(y, reg[i], h, PW, NULL);
    }
    mu_ctx *x = mu_ctx_new(mu_sync_loop(y));
    int nconn = 0;
    for (int rm = 0; rm < nrooms; rm++)
        for (int j = 0; j < members; j++) {
            bool is_sender = j < per_room;
            int ti = is_sender ? rm * per_room + j : nsenders + rm;
            mu_client_opts o = {.url = s.url, .on_event = on_event};
            mu_client *c = mu_client_new(x, &o);
            while (!mu_client_is_open(c))
                mu_sync_run(y, 2);
            mu_req *r = mu_req_new("resume");
            mu_req_str(r, "token", tokens[ti]);
            k.pending += 2;
            mu_client_send(c, r, on_reply, &k);
            mu_client_send(c, join_req(slugs[rm]), on_reply, &k);
            if (is_sender)
                senders[rm * per_room + j] = (sender){c, slugs[rm], 0};
            nconn++;
            if (nconn % 100 == 0)
                wait_all(y, &k);
        }
    wait_all(y, &k);
    mu_sync_run(y, 500);
    uv_timer_t tick;
    uv_timer_init(mu_sync_loop(y), &tick);
    uv_timer_start(&tick, on_tick, 1, 1);
    double cpu0 = server_cpu_s(s.pid);
    t_start = mono_ms();
    measuring = true;
    mu_sync_run(y, secs * 1000);
    long sent_at_end = sent;
    measuring = false;
    double cpu1 = server_cpu_s(s.pid);
    double elapsed = (mono_ms() - t_start) / 1000.0;
    /* late deliveries of what was sent in time still count */
    measuring = true;
    long expected = sent_at_end * members;
    double drain_start = mono_ms();
    uv_timer_stop(&tick);
    while (deliveries < expected && mono_ms() - drain_start < 5000)
        mu_sync_run(y, 10);
    measuring = false;
    qsort(lat, nlat, sizeof(*lat), cmp);
    printf("bench_rooms: %d rooms x %d members, %d senders each at %.0f msg/s, %d s\n", nrooms,
           members, per_room, rate, secs);
    printf("connections %d, messages sent %ld, deliveries %ld of %ld (ratio %.4f), "
           "%.0f deliveries/s\n",
           nconn + 1 + nsenders + nrooms, sent_at_end, deliveries, expected,
           expected ? (double)deliveries / (double)expected : 0, (double)deliveries / elapsed);
    if (nlat)
        printf("latency send->room.msg: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", lat[nlat / 2],
               lat[nlat * 99 / 100], lat[nlat - 1]);
    printf("server CPU %.2f cores over the run; mean reply to room.say %.2f ms\n",
           (cpu1 - cpu0) / elapsed, replies ? reply_sum / (double)replies : 0);
    {
        char *body;
        http_get(s.port, "/metrics", &body);
        const char *a = strstr(body, "mutual_writer_commit_seconds_sum ");
        const char *b = strstr(body, "mutual_writer_commit_seconds_count ");
        const char *j = strstr(body, "mutual_writer_batch_jobs_sum ");
        if (a && b && j)
            printf("writer: %.0f batches, %.2f jobs each, %.3f ms per commit\n", atof(b + 35),
                   atof(j + 29) / atof(b + 35), atof(a + 33) * 1000 / atof(b + 35));
        free(body);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    mu_ctx_stop(x);
    mu_sync_run(y, 200);
    mu_ctx_free(x);
    free(mtoken);
    for (int i = 0; i < nsenders + nrooms; i++)
        free(tokens[i]);
    free(tokens);
    free(reg);
    free(senders);
    free(slugs);
    free(lat);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
    return 0;
}
