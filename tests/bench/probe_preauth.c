/* Probe: how much memory unauthenticated clients can make a running mutuald hold.
 *
 *   probe_preauth PORT PID pings [CONNS [PAD [SECONDS]]]
 *     CONNS connections (default 60) each start a login (slow: Argon2id) and then send padded
 *     pings of PAD bytes (default 60000) as fast as the server reads them, for SECONDS
 *     (default 10), never reading a reply. PAD 0 sends the logins only: the baseline (each
 *     Argon2id hash in flight holds 64 MiB, one per thread-pool thread).
 *   probe_preauth PORT PID frags [CONNS [BYTES [SECONDS]]]
 *     CONNS connections (default 5000) each send BYTES (default 65000) of a binary message in
 *     non-final fragments of at most 16 KiB and never finish it; watched for SECONDS
 *     (default 40).
 *
 * Prints the server's resident memory (VmRSS of PID) before, its peak during the attack, at
 * the end of it, and 3 s after every connection has been closed, plus how many connections
 * the server closed. Not a test: a tool for measuring (README, issue 11). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int pid;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atol(line + 6);
    fclose(f);
    return kb;
}

/* A masked client frame (mask 0: the payload goes as it is, which a server must accept). */
static size_t frame(unsigned char *out, int opcode, bool fin, const unsigned char *p, size_t n)
{
    size_t h = 0;
    out[h++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (n < 126) {
        out[h++] = (unsigned char)(0x80 | n);
    } else if (n <= 0xffff) {
        out[h++] = 0x80 | 126;
        out[h++] = (unsigned char)(n >> 8);
        out[h++] = (unsigned char)n;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    memset(out + h, 0, 4);
    h += 4;
    memcpy(out + h, p, n);
    return h + n;
}

/* msgpack of {op: "ping", rid: 1, pad: "xxx..."} of about `size` bytes in total. */
static size_t padded_ping(unsigned char *out, size_t size)
{
    size_t n = 0;
    out[n++] = 0x83;
    out[n++] = 0xa2, out[n++] = 'o', out[n++] = 'p';
    out[n++] = 0xa4, memcpy(out + n, "ping", sizeof("ping") - 1), n += 4;
    out[n++] = 0xa3, memcpy(out + n, "rid", sizeof("rid") - 1), n += 3;
    out[n++] = 0x01;
    out[n++] = 0xa3, memcpy(out + n, "pad", sizeof("pad") - 1), n += 3;
    size_t pad = size > n + 3 ? size - n - 3 : 1;
    out[n++] = 0xda, out[n++] = (unsigned char)(pad >> 8), out[n++] = (unsigned char)pad;
    memset(out + n, 'x', pad);
    return n + pad;
}

static size_t login_req(unsigned char *out, int i)
{
    char handle[32];
    int hl = snprintf(handle, sizeof(handle), "probe%d", i);
    size_t n = 0;
    out[n++] = 0x84;
    out[n++] = 0xa2, out[n++] = 'o', out[n++] = 'p';
    out[n++] = 0xa5, memcpy(out + n, "login", 5), n += 5;
    out[n++] = 0xa3, memcpy(out + n, "rid", sizeof("rid") - 1), n += 3;
    out[n++] = 0x00;
    out[n++] = 0xa6, memcpy(out + n, "handle", 6), n += 6;
    out[n++] = (unsigned char)(0xa0 | hl), memcpy(out + n, handle, (size_t)hl), n += (size_t)hl;
    out[n++] = 0xa8, memcpy(out + n, "password", 8), n += 8;
    out[n++] = 0xaa, memcpy(out + n, "wrong pass", 10), n += 10;
    return n;
}

/* Opens a WebSocket and returns the socket, non-blocking, or -1. */
static int ws_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mutual.v1\r\n\r\n",
                     port);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    /* The 101 and the welcome: read until the head is there; the rest is never read. */
    char buf[4096];
    size_t got = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (!memmem(buf, got, "\r\n\r\n", 4)) {
        if (poll(&p, 1, 5000) <= 0 || got == sizeof(buf)) {
            close(fd);
            return -1;
        }
        ssize_t r = read(fd, buf + got, sizeof(buf) - got);
        if (r <= 0) {
            close(fd);
            return -1;
        }
        got += (size_t)r;
    }
    if (strncmp(buf, "HTTP/1.1 101", 12) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* A small receive buffer: replies the probe never reads back up into the server. */
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    return fd;
}

static void set_nonblocking(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Whether the server has closed the connection (EOF or reset), without blocking. */
static bool server_closed(int fd)
{
    char b[4096];
    for (;;) {
        ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
        if (r == 0)
            return true;
        if (r < 0)
            return errno != EAGAIN && errno != EWOULDBLOCK;
        /* replies and a close frame: keep draining only to learn about EOF */
    }
}

typedef struct {
    int fd;
    size_t off; /* bytes of the current frame already sent */
    bool closed;
} peer;

static long peak;

static void sample(void)
{
    long r = rss_kb();
    if (r > peak)
        peak = r;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s PORT PID pings|frags [CONNS [SIZE [SECONDS]]]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    pid = atoi(argv[2]);
    bool pings = strcmp(argv[3], "pings") == 0;
    int conns = argc > 4 ? atoi(argv[4]) : pings ? 60 : 5000;
    size_t size = argc > 5 ? (size_t)atol(argv[5]) : pings ? 60000 : 65000;
    double secs = argc > 6 ? atof(argv[6]) : pings ? 10 : 40;

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    long before = rss_kb();
    peer *v = calloc((size_t)conns, sizeof(*v));
    unsigned char *msg = malloc(size + 64), *fr = malloc(size + 128);
    size_t frlen;
    int opened = 0;
    double t0 = now_s();
    for (int i = 0; i < conns; i++) {
        v[i].fd = ws_open(port);
        if (v[i].fd < 0) {
            v[i].closed = true;
            continue;
        }
        opened++;
        if (pings) {
            unsigned char lr[128], lf[160];
            size_t ln = login_req(lr, i);
            size_t lfn = frame(lf, 2, true, lr, ln);
            if (write(v[i].fd, lf, lfn) != (ssize_t)lfn)
                v[i].closed = true;
        }
        set_nonblocking(v[i].fd);
        if (i % 100 == 0)
            sample();
    }
    if (pings)
        frlen = frame(fr, 2, true, msg, padded_ping(msg, size));
    else
        memset(msg, 'x', size);

    size_t sent_total = 0;
    long at_end = 0;
    if (pings) {
        /* Stream the same padded ping on every connection as fast as the server takes it. */
        while (now_s() - t0 < secs) {
            for (int i = 0; i < conns; i++) {
                peer *p = &v[i];
                if (p->closed || size == 0) /* size 0: logins only, the baseline */
                    continue;
                for (int k = 0; k < 8; k++) {
                    ssize_t w = send(p->fd, fr + p->off, frlen - p->off, MSG_NOSIGNAL);
                    if (w <= 0) {
                        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                            p->closed = true;
                        break;
                    }
                    sent_total += (size_t)w;
                    p->off = (p->off + (size_t)w) % frlen;
                }
            }
            sample();
            usleep(2000);
        }
    } else {
        /* Each connection sends `size` bytes of one message in non-final fragments. */
        size_t chunk = size < 16384 ? size : 16384;
        for (int i = 0; i < conns; i++) {
            peer *p = &v[i];
            if (p->closed)
                continue;
            for (size_t done = 0; done < size && !p->closed; done += chunk) {
                size_t n = size - done < chunk ? size - done : chunk;
                size_t fl = frame(fr, done == 0 ? 2 : 0, false, msg, n);
                size_t o = 0;
                double give_up = now_s() + 2;
                while (o < fl && now_s() < give_up) {
                    ssize_t w = send(p->fd, fr + o, fl - o, MSG_NOSIGNAL);
                    if (w > 0) {
                        o += (size_t)w;
                        sent_total += (size_t)w;
                    } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                        p->closed = true;
                    } else {
                        usleep(1000);
                    }
                }
            }
            if (i % 100 == 0)
                sample();
        }
        double sent_at = now_s();
        printf("fragments sent to %d connections in %.1f s\n", opened, sent_at - t0);
        while (now_s() - t0 < secs) {
            sample();
            usleep(250000);
            int alive = 0;
            for (int i = 0; i < conns; i++)
                if (!v[i].closed && !server_closed(v[i].fd))
                    alive++;
                else
                    v[i].closed = true;
            static int last_report = -1;
            int t = (int)(now_s() - t0);
            if (t % 5 == 0 && t != last_report) {
                last_report = t;
                printf("  t=%2d s  rss %7.1f MB  open %d\n", t, (double)rss_kb() / 1024, alive);
            }
        }
    }
    at_end = rss_kb();
    int server_closed_n = 0;
    for (int i = 0; i < conns; i++) {
        if (v[i].fd < 0)
            continue;
        if (v[i].closed || server_closed(v[i].fd))
            server_closed_n++;
        close(v[i].fd);
    }
    sleep(3);
    long after = rss_kb();
    printf("%s: %d connections opened, %.1f MB sent, %d closed by the server\n",
           pings ? "padded pings behind a slow login" : "unfinished fragmented messages", opened,
           (double)sent_total / 1e6, server_closed_n);
    printf("server RSS: before %.1f MB, peak %.1f MB, at end %.1f MB, 3 s after closing %.1f MB\n",
           (double)before / 1024, (double)peak / 1024, (double)at_end / 1024, (double)after / 1024);
    free(v);
    free(msg);
    free(fr);
    return 0;
}
