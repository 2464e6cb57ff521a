#define _GNU_SOURCE
#include "rawws.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fill(raw_ws *w, int timeout_ms)
{
    struct pollfd p = {.fd = w->fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0)
        return -1;
    if (w->len + 65536 > w->cap) {
        w->cap = (w->cap + 65536) * 2;
        w->buf = realloc(w->buf, w->cap);
    }
    ssize_t r = read(w->fd, w->buf + w->len, w->cap - w->len);
    if (r <= 0)
        return -1;
    w->len += (size_t)r;
    return 0;
}

int raw_connect(raw_ws *w, int port, const char *path, const char *subprotocol)
{
    return raw_connect_from(w, port, path, subprotocol, NULL, NULL);
}

int raw_connect_from(raw_ws *w, int port, const char *path, const char *subprotocol,
                     const char *from, const char *headers)
{
    memset(w, 0, sizeof(*w));
    w->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (from) {
        struct sockaddr_in b = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, from, &b.sin_addr) != 1 ||
            bind(w->fd, (struct sockaddr *)&b, sizeof(b)) != 0)
            return -1;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(w->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        return -1;
    char req[2048], proto[128] = "";
    if (subprotocol)
        snprintf(proto, sizeof(proto), "Sec-WebSocket-Protocol: %s\r\n", subprotocol);
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n%s%s\r\n",
                     path, port, proto, headers ? headers : "");
    if (write(w->fd, req, (size_t)n) != n)
        return -1;
    /* Read the response head; anything after it is the first frames. */
    for (;;) {
        char *end = w->len ? memmem(w->buf, w->len, "\r\n\r\n", 4) : NULL;
        if (end) {
            int status = 0;
            sscanf(w->buf, "HTTP/1.%*d %d", &status);
            size_t head = (size_t)(end + 4 - w->buf);
            memmove(w->buf, w->buf + head, w->len - head);
            w->len -= head;
            return status;
        }
        if (fill(w, 5000) != 0)
            return 0; /* closed without an answer: refused */
    }
}

int raw_send(raw_ws *w, int opcode, const void *p, size_t n, bool fin)
{
    unsigned char hdr[14];
    size_t h = 0;
    hdr[h++] = (unsigned char)((fin ? 0x80 : 0) | (opcode & 0x0f));
    if (n < 126) {
        hdr[h++] = (unsigned char)(0x80 | n);
    } else if (n <= 0xffff) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(n >> 8);
        hdr[h++] = (unsigned char)n;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    memcpy(hdr + h, mask, 4);
    h += 4;
    unsigned char *buf = malloc(h + n);
    memcpy(buf, hdr, h);
    for (size_t i = 0; i < n; i++)
        buf[h + i] = ((const unsigned char *)p)[i] ^ mask[i % 4];
    size_t off = 0;
    while (off < h + n) {
        ssize_t r = write(w->fd, buf + off, h + n - off);
        if (r <= 0) {
            free(buf);
            return -1;
        }
        off += (size_t)r;
    }
    free(buf);
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int raw_recv(raw_ws *w, int *opcode, char **payload, size_t *n, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (w->len >= 2) {
            const unsigned char *b = (const unsigned char *)w->buf;
            size_t h = 2;
            uint64_t len = b[1] & 0x7f;
            if (len == 126 && w->len >= 4) {
                len = ((uint64_t)b[2] << 8) | b[3];
                h = 4;
            } else if (len == 127 && w->len >= 10) {
                len = 0;
                for (int i = 0; i < 8; i++)
                    len = (len << 8) | b[2 + i];
                h = 10;
            } else if (len >= 126) {
                h = 0;
            }
            if (h && w->len >= h + len) {
                *opcode = b[0] & 0x0f;
                *payload = malloc(len + 1);
                memcpy(*payload, w->buf + h, len);
                (*payload)[len] = 0;
                *n = len;
                memmove(w->buf, w->buf + h + len, w->len - h - len);
                w->len -= h + len;
                return 0;
            }
        }
        long long left = deadline - now_ms();
        if (left <= 0 || fill(w, (int)left) != 0)
            return -1;
    }
}

int raw_wait_close(raw_ws *w, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        int op;
        char *p;
        size_t n;
        long long left = deadline - now_ms();
        if (left <= 0 || raw_recv(w, &op, &p, &n, (int)left) != 0)
            return -1;
        int code = -1;
        if (op == 8)
            code = n >= 2 ? ((unsigned char)p[0] << 8) | (unsigned char)p[1] : 1005;
        free(p);
        if (op == 8)
            return code;
    }
}

void raw_close(raw_ws *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    free(w->buf);
    w->buf = NULL;
}
