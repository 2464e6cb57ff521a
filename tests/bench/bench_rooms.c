/* Benchmark: room fan-out over real WebSockets. R rooms of M connections, S of them senders
 * sending N messages/s each for T seconds. Prints connections, messages sent, deliveries,
 * delivery ratio, deliveries/s, latency p50/p99/max (send to receipt of room.msg) and the
 * server's CPU use. With --idle C it instead joins C idle connections to one room and prints
 * the server's memory per connection.
 *
 * The load generator shares the machine with the server, so it must cost little per delivery,
 * or its own backlog is what the latency figures measure. Senders are libmutual clients; the
 * other members are plain sockets read by one thread of their own (rx_*), which parses frame
 * headers and picks out a room.msg's send time without building a message. BENCH_LIBMUTUAL=1
 * makes every member a libmutual client instead, as a real client would be.
 * With --nodes N (PostgreSQL: MUTUAL_TEST_PG), N nodes share one database and every room's
 * members and senders are spread over them; the latency of deliveries that crossed from one
 * node to another is printed apart.
 * With --poll the listeners' thread polls its sockets without ever sleeping. At a light load
 * it otherwise sleeps between messages, and on a VM whose idle vCPUs halt at once (here
 * guest_halt_poll_ns is 0) waking it takes about 0.1 ms: the load generator's own cost, which
 * a server cannot change and a real recipient on another machine does not add. Polling costs
 * this process a whole core, so it is for light loads only.
 * Usage: bench_rooms [--poll] [--nodes N] [rooms members senders rate seconds] | --idle C */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "rawws.h"

#define PW "benchmark password"

/* Latencies seen by one thread (the loop's clients, or the raw reader). */
typedef struct {
    double *v;
    size_t n, cap;
} lat_list;

/* Deliveries from a sender on another node, apart (--nodes). */
static lat_list lat_loop, lat_rx, cross_loop, cross_rx;
static long sent;
static atomic_long deliveries;
static double t_start;
static atomic_bool measuring;

static void lat_add(lat_list *l, double ms)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1 << 20;
        l->v = grow(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = ms;
    atomic_fetch_add(&deliveries, 1);
}

/* A room.msg's text: "SEND_MS NODE pad": when it was sent and through which node. */
static void lat_text(lat_list *same, lat_list *cross, const char *text, int node)
{
    char *end;
    double at = strtod(text, &end);
    int from = (int)strtol(end, NULL, 10);
    lat_add(from == node ? same : cross, mono_ms() - at);
}

static void on_event(mu_client *c, const mu_msg *m, void *ud)
{
    if (!measuring || strcmp(mu_msg_op(m), "room.msg") != 0)
        return;
    const char *text = mu_value_get_str(mu_msg_root(m), "text");
    if (text)
        lat_text(&lat_loop, &cross_loop, text, (int)(intptr_t)ud);
}

/* ---- the raw reader: members that only listen ----------------------------------------- */

typedef struct {
    raw_ws w;
    int node;
} rx_conn;

static rx_conn *rxs;
static int nrx;
static atomic_bool rx_stop;
static bool rx_poll; /* --poll: epoll_wait never sleeps */
static atomic_int rx_closed;

static void pk_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* Sends {op, rid, key: value} and waits for the reply to it, skipping events. */
static void rx_call(raw_ws *w, const char *op, const char *key, const char *value, uint64_t rid)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    pk_str(&pk, "op");
    pk_str(&pk, op);
    pk_str(&pk, "rid");
    msgpack_pack_uint64(&pk, rid);
    pk_str(&pk, key);
    pk_str(&pk, value);
    if (raw_send(w, 2, sb.data, sb.size, true) != 0) {
        fprintf(stderr, "raw member: cannot send %s\n", op);
        exit(1);
    }
    msgpack_sbuffer_destroy(&sb);
    for (;;) {
        int opcode;
        char *p;
        size_t n;
        if (raw_recv(w, &opcode, &p, &n, 20000) != 0) {
            fprintf(stderr, "raw member: no reply to %s\n", op);
            exit(1);
        }
        mu_msg *m = opcode == 2 ? mu_msg_decode(p, n) : NULL;
        free(p);
        int64_t got = -1;
        bool mine = m && mu_value_int(mu_msg_get(m, "rid"), &got) && got == (int64_t)rid;
        if (mine && !mu_msg_ok(m)) {
            fprintf(stderr, "raw member: %s failed: %s\n", op, mu_msg_text(m));
            exit(1);
        }
        mu_msg_free(m);
        if (mine)
            return;
    }
}

static void rx_open(rx_conn *r, int port, const char *token, const char *room)
{
    if (raw_connect(&r->w, port, "/ws", "mutual.v1") != 101) {
        fprintf(stderr, "raw member: upgrade failed\n");
        exit(1);
    }
    rx_call(&r->w, "resume", "token", token, 1);
    rx_call(&r->w, "room.join", "room", room, 2);
}

/* One frame's payload: a room.msg's "text" starts with its send time. */
static void rx_frame(const char *p, size_t n, int node)
{
    static const char op[] = "\xa8room.msg", key[] = "\xa4text";
    if (!memmem(p, n, op, sizeof(op) - 1))
        return;
    const char *k = memmem(p, n, key, sizeof(key) - 1);
    if (!k)
        return;
    const unsigned char *v = (const unsigned char *)k + sizeof(key) - 1,
                        *end = (const unsigned char *)p + n;
    size_t len, h;
    if (v < end && (*v & 0xe0) == 0xa0) {
        len = *v & 0x1f;
        h = 1;
    } else if (v + 1 < end && *v == 0xd9) {
        len = v[1];
        h = 2;
    } else {
        return;
    }
    char num[32];
    size_t m = len < sizeof(num) - 1 ? len : sizeof(num) - 1;
    if (v + h + m > end)
        return;
    memcpy(num, v + h, m);
    num[m] = 0;
    lat_text(&lat_rx, &cross_rx, num, node);
}

/* Parses whole frames from the front of the buffer; keeps a partial one. */
static void rx_parse(rx_conn *x)
{
    raw_ws *w = &x->w;
    size_t off = 0;
    while (w->len - off >= 2) {
        const unsigned char *b = (const unsigned char *)w->buf + off;
        size_t avail = w->len - off, h = 2;
        uint64_t len = b[1] & 0x7f;
        if (len == 126) {
            if (avail < 4)
                break;
            len = ((uint64_t)b[2] << 8) | b[3];
            h = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | b[2 + i];
            h = 10;
        }
        if (avail < h + len)
            break;
        if ((b[0] & 0x0f) == 2 && measuring)
            rx_frame((const char *)b + h, (size_t)len, x->node);
        off += h + (size_t)len;
    }
    memmove(w->buf, w->buf + off, w->len - off);
    w->len -= off;
}

static void *rx_run(void *arg)
{
    (void)arg;
    int ep = epoll_create1(0);
    for (int i = 0; i < nrx; i++) {
        raw_ws *w = &rxs[i].w;
        fcntl(w->fd, F_SETFL, fcntl(w->fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &rxs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev);
        rx_parse(&rxs[i]); /* what came with the set-up's replies */
    }
    struct epoll_event evs[256];
    while (!rx_stop) {
        int n = epoll_wait(ep, evs, 256, rx_poll ? 0 : 10);
        for (int i = 0; i < n; i++) {
            rx_conn *x = evs[i].data.ptr;
            raw_ws *w = &x->w;
            for (;;) {
                if (w->cap - w->len < 65536) {
                    w->cap = w->cap * 2 + 65536;
                    w->buf = grow(w->buf, w->cap);
                }
                ssize_t r = read(w->fd, w->buf + w->len, w->cap - w->len);
                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                    /* Cut off by the server (a slow consumer): counted, never read again. */
                    epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL);
                    atomic_fetch_add(&rx_closed, 1);
                    break;
                }
                if (r < 0)
                    break;
                w->len += (size_t)r;
                rx_parse(x);
            }
        }
    }
    close(ep);
    return NULL;
}

typedef struct {
    mu_client *c;
    const char *room;
    long due_sent;
    int node;
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

static bool sending; /* the loop's only */

static void on_tick(uv_timer_t *t)
{
    if (!sending)
        return;
    double now = mono_ms();
    for (int i = 0; i < nsenders; i++) {
        sender *s = &senders[i];
        /* Senders are spread over the period, as people typing are, not all on one tick. */
        long due = (long)((now - t_start) / 1000.0 * rate + (double)i / nsenders);
        while (s->due_sent < due) {
            char text[256];
            snprintf(text, sizeof(text), "%.3f %d %s", mono_ms(), s->node, pad);
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

/* This process's CPU time (every thread), in seconds. */
static double self_cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) / 1e6;
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
    if (argc > 1 && !strcmp(argv[1], "--poll")) {
        rx_poll = true;
        argc--;
        argv++;
    }
    int nnodes = 1;
    if (argc > 2 && !strcmp(argv[1], "--nodes")) {
        nnodes = atoi(argv[2]);
        argc -= 2;
        argv += 2;
        if (nnodes < 1 || nnodes > 4 || !harness_on_pg()) {
            fprintf(stderr, "--nodes takes 1 to 4 and a PostgreSQL (MUTUAL_TEST_PG)\n");
            return 2;
        }
    }
    int nrooms = argc > 1 ? atoi(argv[1]) : 20, members = argc > 2 ? atoi(argv[2]) : 50;
    int per_room = argc > 3 ? atoi(argv[3]) : 2;
    rate = argc > 4 ? atof(argv[4]) : 20;
    int secs = argc > 5 ? atoi(argv[5]) : 10;
    memset(pad, 'x', 60);
    srv_t nodes[4];
    const char *config = getenv("BENCH_SYNC_NORMAL")
                             ? "max_connections = 20000\nsend_queue = 4194304\nsynchronous = normal"
                             : "max_connections = 20000\nsend_queue = 4194304";
    srv_start(&nodes[0], config, 0);
    for (int i = 1; i < nnodes; i++)
        srv_start_node(&nodes[i], &nodes[0], config);
    srv_t s = nodes[0]; /* a copy: set-up goes through the first node */
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
    mu_sync_run(y, 500); /* the other nodes learn of the rooms */
    mu_ctx *x = mu_ctx_new(mu_sync_loop(y));
    int nconn = 0;
    bool raw = !getenv("BENCH_LIBMUTUAL");
    if (raw)
        rxs = calloc((size_t)nrooms * (size_t)members, sizeof(*rxs));
    for (int rm = 0; rm < nrooms; rm++)
        for (int j = 0; j < members; j++) {
            bool is_sender = j < per_room;
            int ti = is_sender ? rm * per_room + j : nsenders + rm, node = j % nnodes;
            if (raw && !is_sender) {
                rxs[nrx].node = node;
                rx_open(&rxs[nrx++], nodes[node].port, tokens[ti], slugs[rm]);
                nconn++;
                continue;
            }
            mu_client_opts o = {
                .url = nodes[node].url, .on_event = on_event, .ud = (void *)(intptr_t)node};
            mu_client *c = mu_client_new(x, &o);
            while (!mu_client_is_open(c))
                mu_sync_run(y, 2);
            mu_req *r = mu_req_new("resume");
            mu_req_str(r, "token", tokens[ti]);
            k.pending += 2;
            mu_client_send(c, r, on_reply, &k);
            mu_client_send(c, join_req(slugs[rm]), on_reply, &k);
            if (is_sender)
                senders[rm * per_room + j] = (sender){c, slugs[rm], 0, node};
            nconn++;
            if (nconn % 100 == 0)
                wait_all(y, &k);
        }
    wait_all(y, &k);
    mu_sync_run(y, 500);
    pthread_t rx_thread;
    if (raw && pthread_create(&rx_thread, NULL, rx_run, NULL) != 0) {
        fprintf(stderr, "cannot start the reader thread\n");
        exit(1);
    }
    uv_timer_t tick;
    uv_timer_init(mu_sync_loop(y), &tick);
    uv_timer_start(&tick, on_tick, 1, 1);
    double cpu0 = 0, self0 = self_cpu_s();
    for (int i = 0; i < nnodes; i++)
        cpu0 += server_cpu_s(nodes[i].pid);
    t_start = mono_ms();
    measuring = sending = true;
    mu_sync_run(y, secs * 1000);
    long sent_at_end = sent;
    sending = false;
    double cpu1 = 0, self1 = self_cpu_s();
    for (int i = 0; i < nnodes; i++)
        cpu1 += server_cpu_s(nodes[i].pid);
    double elapsed = (mono_ms() - t_start) / 1000.0;
    /* late deliveries of what was sent in time still count */
    long expected = sent_at_end * members;
    double drain_start = mono_ms();
    uv_timer_stop(&tick);
    while (deliveries < expected && mono_ms() - drain_start < 5000)
        mu_sync_run(y, 10);
    measuring = false;
    if (raw) {
        rx_stop = true;
        pthread_join(rx_thread, NULL);
    }
    /* every delivery, and those that crossed nodes */
    lat_list all = {0}, cross = {0};
    const lat_list *parts[4] = {&lat_loop, &lat_rx, &cross_loop, &cross_rx};
    for (int i = 0; i < 4; i++)
        for (size_t q = 0; q < parts[i]->n; q++) {
            if (all.n == all.cap) {
                all.cap = all.cap ? all.cap * 2 : 1 << 20;
                all.v = grow(all.v, all.cap * sizeof(double));
            }
            all.v[all.n++] = parts[i]->v[q];
            if (i >= 2) {
                if (cross.n == cross.cap) {
                    cross.cap = cross.cap ? cross.cap * 2 : 1 << 20;
                    cross.v = grow(cross.v, cross.cap * sizeof(double));
                }
                cross.v[cross.n++] = parts[i]->v[q];
            }
        }
    size_t nlat = all.n;
    double *lat = all.v;
    qsort(lat, nlat, sizeof(*lat), cmp);
    qsort(cross.v, cross.n, sizeof(double), cmp);
    printf("bench_rooms: %d rooms x %d members, %d senders each at %.0f msg/s, %d s, %d node%s "
           "on %s\n",
           nrooms, members, per_room, rate, secs, nnodes, nnodes > 1 ? "s" : "",
           srv_is_pg(&s) ? "PostgreSQL" : "SQLite");
    printf("members: %s%s\n",
           raw ? "senders on libmutual, listeners read raw by one thread"
               : "all on libmutual (BENCH_LIBMUTUAL)",
           raw && rx_poll ? " that polls (--poll)" : "");
    if (raw && rx_closed)
        printf("listeners cut off by the server: %d\n", (int)rx_closed);
    long got = atomic_load(&deliveries);
    printf("connections %d, messages sent %ld, deliveries %ld of %ld (ratio %.4f), "
           "%.0f deliveries/s\n",
           nconn + 1 + nsenders + nrooms, sent_at_end, got, expected,
           expected ? (double)got / (double)expected : 0, (double)got / elapsed);
    if (nlat)
        printf("latency send->room.msg: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", lat[nlat / 2],
               lat[nlat * 99 / 100], lat[nlat - 1]);
    if (cross.n)
        printf("across nodes (%zu deliveries): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", cross.n,
               cross.v[cross.n / 2], cross.v[cross.n * 99 / 100], cross.v[cross.n - 1]);
    printf("server CPU %.2f cores over the run (this load generator %.2f); mean reply to "
           "room.say %.2f ms\n",
           (cpu1 - cpu0) / elapsed, (self1 - self0) / elapsed,
           replies ? reply_sum / (double)replies : 0);
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
    free(cross.v);
    free(lat_loop.v);
    free(lat_rx.v);
    free(cross_loop.v);
    free(cross_rx.v);
    for (int i = 0; i < nrx; i++)
        raw_close(&rxs[i].w);
    free(rxs);
    mu_sync_free(y);
    for (int i = nnodes; i-- > 0;) {
        srv_stop(&nodes[i]);
        srv_cleanup(&nodes[i]);
    }
    return 0;
}
