/* Fuzz target: the client library as a hostile server sees it. A stand-in server on the same
 * libuv loop accepts the library's WebSocket handshake, answers it properly, and then sends
 * frames built from the input (any opcode, fragmented or not, masked or not, or raw bytes),
 * and closes. The library's whole receive path runs: libwebsockets' frame parser, the
 * client's reassembly of fragments, decoding, the welcome, and matching replies to the
 * request it sends once it is open.
 *
 * Input: chunks of [flags][16-bit big-endian length][payload]. flags bits 0-3: the opcode
 * (0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong, others as they are); bit 4: not
 * final; bit 5: masked (a server must not mask); bit 6: the payload goes out as raw bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "fuzz.h"
#include "mutual/client.h"

static uv_loop_t loop;
static uv_tcp_t listener;
static mu_ctx *ctx;
static int port;

/* The current input, and the stand-in server's one connection. */
static const uint8_t *in_data;
static size_t in_size;
static uv_tcp_t *peer;
static char hs[8192];
static size_t hs_len;
static bool answered, ended, peer_closed;

static void on_peer_closed(uv_handle_t *h)
{
    free(h);
    peer_closed = true;
}

static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *b)
{
    (void)h;
    (void)want;
    static char scratch[16384];
    if (!answered) {
        *b = uv_buf_init(hs + hs_len, (unsigned)(sizeof(hs) - 1 - hs_len));
    } else {
        *b = uv_buf_init(scratch, sizeof(scratch)); /* requests from the client: dropped */
    }
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w->data);
    free(w);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    (void)status;
    free(s);
}

/* Appends one frame of the input to out. */
static size_t frame(unsigned char *out, unsigned flags, const uint8_t *p, size_t n)
{
    if (flags & 0x40) {
        memcpy(out, p, n);
        return n;
    }
    size_t at = 0;
    out[at++] = (unsigned char)((flags & 0x10 ? 0 : 0x80) | (flags & 0x0f));
    unsigned char mask = flags & 0x20 ? 0x80 : 0;
    if (n < 126) {
        out[at++] = (unsigned char)(mask | n);
    } else {
        out[at++] = mask | 126;
        out[at++] = (unsigned char)(n >> 8);
        out[at++] = (unsigned char)n;
    }
    if (mask) {
        static const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
        memcpy(out + at, key, 4);
        at += 4;
        for (size_t i = 0; i < n; i++)
            out[at + i] = p[i] ^ key[i % 4];
    } else {
        memcpy(out + at, p, n);
    }
    return at + n;
}

static void answer(void)
{
    answered = true;
    hs[hs_len] = 0;
    const char *k = strstr(hs, "Sec-WebSocket-Key:");
    if (!k)
        k = strstr(hs, "sec-websocket-key:");
    if (!k)
        abort(); /* the library always sends one */
    k += 18;
    while (*k == ' ')
        k++;
    char key[128];
    size_t kl = strcspn(k, "\r\n");
    if (kl > 64)
        abort();
    snprintf(key, sizeof(key), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)kl, k);
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)key, strlen(key), sha);
    char accept[64];
    EVP_EncodeBlock((unsigned char *)accept, sha, sizeof(sha));

    /* The handshake, then every frame of the input. */
    unsigned char *out = malloc(512 + in_size * 2 + 16);
    int at = snprintf((char *)out, 512,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                      "Sec-WebSocket-Protocol: mutual.v1\r\n\r\n",
                      accept);
    size_t len = (size_t)at;
    for (size_t i = 0; i + 3 <= in_size;) {
        unsigned flags = in_data[i];
        size_t n = (size_t)in_data[i + 1] << 8 | in_data[i + 2];
        i += 3;
        if (n > in_size - i)
            n = in_size - i;
        len += frame(out + len, flags, in_data + i, n);
        i += n;
    }
    uv_write_t *w = malloc(sizeof(*w));
    w->data = out;
    uv_buf_t b = uv_buf_init((char *)out, (unsigned)len);
    uv_write(w, (uv_stream_t *)peer, &b, 1, on_written);
    uv_shutdown_t *s = malloc(sizeof(*s));
    uv_shutdown(s, (uv_stream_t *)peer, on_shutdown);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    if (n < 0) {
        uv_close((uv_handle_t *)st, on_peer_closed);
        peer = NULL;
        return;
    }
    if (answered)
        return;
    hs_len += (size_t)n;
    hs[hs_len] = 0;
    if (strstr(hs, "\r\n\r\n"))
        answer();
    else if (hs_len >= sizeof(hs) - 1)
        abort(); /* a handshake request of 8 KiB: not the library's */
}

static void on_connection(uv_stream_t *l, int status)
{
    if (status < 0)
        return;
    uv_tcp_t *t = malloc(sizeof(*t));
    uv_tcp_init(&loop, t);
    if (uv_accept(l, (uv_stream_t *)t) != 0 || peer) {
        uv_close((uv_handle_t *)t, on_peer_closed);
        return;
    }
    peer = t;
    uv_read_start((uv_stream_t *)t, on_alloc, on_read);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (uv_loop_init(&loop) != 0)
        abort();
    uv_tcp_init(&loop, &listener);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    if (uv_tcp_bind(&listener, (const struct sockaddr *)&a, 0) != 0 ||
        uv_listen((uv_stream_t *)&listener, 16, on_connection) != 0)
        abort();
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    uv_tcp_getsockname(&listener, (struct sockaddr *)&ss, &sl);
    port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    ctx = mu_ctx_new(&loop);
    if (!ctx)
        abort();
    return 0;
}

static void on_reply(mu_client *c, const mu_msg *reply, void *ud)
{
    (void)c;
    (void)ud;
    if (!reply)
        return; /* the connection ended first */
    if (strcmp(mu_msg_op(reply), "reply") != 0)
        abort(); /* only a reply is matched to a request */
    if (getenv("MUTUAL_FUZZ_VERBOSE"))
        fprintf(stderr, "reply to the ping\n");
    free(mu_value_to_json(mu_msg_root(reply), 0));
}

static void on_event(mu_client *c, const mu_msg *ev, void *ud)
{
    (void)c;
    (void)ud;
    if (getenv("MUTUAL_FUZZ_VERBOSE"))
        fprintf(stderr, "event %s\n", mu_msg_op(ev));
    free(mu_value_to_json(mu_msg_root(ev), 0));
}

static void on_state(mu_client *c, mu_state st, int code, void *ud)
{
    (void)ud;
    if (st == MU_STATE_OPEN) {
        if (!mu_client_welcome(c))
            abort();
        mu_client_send(c, mu_req_new("ping"), on_reply, NULL);
    } else {
        ended = true;
    }
    if (getenv("MUTUAL_FUZZ_VERBOSE"))
        fprintf(stderr, "state %d, close code %d\n", (int)st, code);
}

static void on_deadline(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in_data = data;
    in_size = size;
    hs_len = 0;
    answered = ended = peer_closed = false;
    char url[64];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws", port);
    mu_client_opts o = {.url = url, .on_event = on_event, .on_state = on_state};
    mu_client *c = mu_client_new(ctx, &o);
    bool late = false;
    uv_timer_t deadline;
    uv_timer_init(&loop, &deadline);
    deadline.data = &late;
    uv_timer_start(&deadline, on_deadline, 5000, 0);
    /* The server closes after the input: the client must see the end of it. */
    while (!(ended && (peer_closed || !peer)) && !late)
        uv_run(&loop, UV_RUN_ONCE);
    if (late)
        abort(); /* the library hung on this input */
    mu_client_free(c);
    uv_close((uv_handle_t *)&deadline, NULL);
    for (int i = 0; i < 4; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    return 0;
}
