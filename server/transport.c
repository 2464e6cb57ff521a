/* The libwebsockets glue and the send path (see transport.h). Layer: transport, over requests. */
#include "transport.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "metrics.h"
#include "origin.h"
#include "peers.h"
#include "www.h"
#include "xalloc.h"

/* Most bytes handed to one raw write. lws keeps whatever the kernel does not take and tells us
 * when it has gone, so the bound is on what lws holds per connection, not on a message. */
#define FLUSH_MAX 65536

static unsigned char *scratch; /* LWS_PRE + FLUSH_MAX, shared: lws copies what it keeps */

/* Once a second: connections that stayed unauthenticated past preauth_timeout_s, messages
 * whose fragments take longer than fragment_timeout_s, and closing connections past their
 * time. One sweep instead of a timer per connection keeps idle ones cheap. */
#define SWEEP_MS 1000
/* How long a peer has to answer our close frame once it has gone out. */
#define CLOSE_ANSWER_MS 2000
static uv_timer_t sweep_timer;
static bool sweep_on;

typedef struct {
    mu_conn *c;
    mu_netaddr addr; /* the source address, read while the upgrade's headers are there */
} pss_t;

/* The request's source address (PROTOCOL.md: the TCP peer's, or the trusted proxy's last
 * X-Forwarded-For). Only while the HTTP headers are still bound to the connection. */
static mu_netaddr source_of(struct lws *wsi)
{
    mu_netaddr peer;
    memset(&peer, 0, sizeof(peer));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = lws_get_socket_fd(wsi);
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        netaddr_from_sockaddr((struct sockaddr *)&ss, &peer);
    char xff[1024];
    int n = lws_hdr_copy(wsi, xff, sizeof(xff), WSI_TOKEN_X_FORWARDED_FOR);
    return peers_source(&peer, n > 0 ? xff : NULL);
}

/* Refuses an upgrade with an HTTP status of our own; lws ends the transaction. */
static int refuse_upgrade(struct lws *wsi, unsigned status, const char *body)
{
    unsigned char hdr[LWS_PRE + 512];
    unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
    size_t n = strlen(body);
    if (lws_add_http_common_headers(wsi, status, "text/plain", n, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    unsigned char buf[LWS_PRE + 256];
    if (n > sizeof(buf) - LWS_PRE)
        return -1;
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): an HTTP body, not a C string
    memcpy(buf + LWS_PRE, body, n);
    if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) < (int)n)
        return -1;
    return 1;
}

/* ---- HTTP: /healthz and /metrics -------------------------------------------------------- */

static int http_reply(struct lws *wsi, unsigned status, const char *ctype, const char *body,
                      size_t n)
{
    unsigned char hdr[LWS_PRE + 512];
    unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
    if (lws_add_http_common_headers(wsi, status, ctype, n, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    unsigned char *buf = xmalloc(LWS_PRE + n + 1);
    memcpy(buf + LWS_PRE, body, n);
    int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_FINAL);
    free(buf);
    if (w < (int)n)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* The request's path without its query; "" when there is none or it is too long to be ours. */
static void uri_path(struct lws *wsi, char *uri, size_t cap)
{
    if (lws_hdr_copy(wsi, uri, (int)cap, WSI_TOKEN_GET_URI) <= 0)
        uri[0] = 0;
    char *q = strchr(uri, '?');
    if (q)
        *q = 0;
}

static bool is_path(struct lws *wsi, const char *want)
{
    char uri[256];
    uri_path(wsi, uri, sizeof(uri));
    return strcmp(uri, want) == 0;
}

/* A header's value, or NULL when the request has none (or it is too long to be valid). */
static const char *header(struct lws *wsi, enum lws_token_indexes tok, char *buf, size_t cap)
{
    int n = lws_hdr_total_length(wsi, tok);
    if (n <= 0 || (size_t)n >= cap || lws_hdr_copy(wsi, buf, (int)cap, tok) < 0)
        return n <= 0 ? NULL : "";
    return buf;
}

/* PROTOCOL.md's Origin rule: a browser page of another site may not open a connection. */
static int confirm_upgrade(struct lws *wsi)
{
    char origin[320], host[320];
    const char *o = header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
    const char *h = header(wsi, WSI_TOKEN_HOST, host, sizeof(host));
    if (origin_allowed(&g_srv->cfg, o, h, lws_is_ssl(wsi) != 0)) {
        mu_netaddr a = source_of(wsi);
        if (peers_conn_allowed(&a))
            return 0;
        char text[NETADDR_TEXT];
        netaddr_format(&a, text, sizeof(text));
        log_info("%s: over max_conns_per_addr, upgrade refused with 429", text);
        return refuse_upgrade(wsi, 429, "too many connections from this address\n");
    }
    log_info("upgrade refused: Origin '%s' is not this server's (Host '%s') nor in "
             "allowed_origins",
             o, h ? h : "");
    /* >0: we answered; lws ends the transaction. */
    return lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, "origin not allowed") ? -1 : 1;
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* An upgrade with no subprotocol lands here; Mutual speaks only mutual.v1. */
        return -1;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: return confirm_upgrade(wsi);
    case LWS_CALLBACK_HTTP: {
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
            return http_reply(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "text/plain",
                              "method not allowed\n", 19);
        if (is_path(wsi, "/healthz")) {
            if (g_srv->stopping || store_failed(g_srv->store))
                return http_reply(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "text/plain", "unavailable",
                                  11);
            return http_reply(wsi, HTTP_STATUS_OK, "text/plain", "ok", 2);
        }
        if (is_path(wsi, "/metrics")) {
            size_t n;
            char *text = metrics_render(&n);
            int rc = http_reply(wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4", text, n);
            free(text);
            return rc;
        }
        /* only the mounts below lead here, and each of their paths is answered above */
        return http_reply(wsi, HTTP_STATUS_NOT_FOUND, "text/plain", "not found\n", 10);
    }
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- WebSocket ---------------------------------------------------------------------------- */

static void send_welcome(mu_conn *c)
{
    const mu_config *cfg = &g_srv->cfg;
    mu_enc e;
    frame_enc_init(&e);
    mu_enc_event(&e, MU_OP_EV_WELCOME, 3);
    mu_enc_kuint(&e, "proto", MU_PROTO_VERSION);
    mu_enc_kstr(&e, "server", "mutual/" MUTUAL_VERSION);
    mu_enc_key(&e, "limits");
    mu_enc_map(&e, 6);
    mu_enc_kuint(&e, "max_frame", cfg->max_frame);
    mu_enc_kuint(&e, "max_text", cfg->max_text);
    mu_enc_kuint(&e, "max_note", cfg->max_note);
    mu_enc_kuint(&e, "rate_per_s", cfg->rate_per_s);
    mu_enc_kuint(&e, "burst", cfg->burst);
    mu_enc_kuint(&e, "send_queue", cfg->send_queue);
    conn_send_enc(c, &e);
    mu_enc_free(&e);
}

static void rx_append(mu_conn *c, const void *in, size_t len)
{
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 1024;
        while (cap < c->rx_len + len)
            cap *= 2;
        c->rx = xrealloc(c->rx, cap);
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
}

static void rx_release(mu_conn *c)
{
    /* Most connections sit idle between messages: an idle one holds no receive buffer. */
    c->rx_len = 0;
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = 0;
}

static int write_some(mu_conn *c)
{
    size_t n = conn_take_output(c, scratch + LWS_PRE, FLUSH_MAX);
    if (!n)
        return 0;
    int w = lws_write(c->wsi, scratch + LWS_PRE, n, LWS_WRITE_RAW);
    if (w < (int)n) {
        log_info("connection %llu: write failed, dropping it", (unsigned long long)c->id);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        return -1;
    }
    return 0;
}

/* Writes what the connection has queued (from conn_flush_pending only). */
static void tp_flush(mu_conn *c)
{
    if (!c->wsi || lws_partial_buffered(c->wsi))
        return; /* lws is still sending an earlier write; WRITEABLE comes when it is out */
    if (c->sq_len && write_some(c) != 0)
        return;
    if (c->sq_len)
        lws_callback_on_writable(c->wsi);
}

/* A closing connection is dropped by the sweep: close_grace_s after the close while its
 * queue is not out, or CLOSE_ANSWER_MS after its close frame went out. lws's own timeout is
 * only a backstop. */
static void tp_close_soon(mu_conn *c)
{
    if (c->wsi && !c->close_armed) {
        c->close_armed = true;
        c->closing_since = uv_now(g_srv->loop);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, (int)g_srv->cfg.close_grace_s + 10);
    }
}

static void tp_pause_reading(mu_conn *c, bool pause)
{
    lws_rx_flow_control(c->wsi, pause ? 0 : 1);
}

static const mu_transport ws_transport = {tp_flush, tp_close_soon, tp_pause_reading};

static int on_writable(mu_conn *c)
{
    if (c->sq_len && write_some(c) == 0 && c->sq_len)
        lws_callback_on_writable(c->wsi);
    return 0;
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    pss_t *pss = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (!is_path(wsi, "/ws"))
            return -1;
        pss->addr = source_of(wsi);
        return 0;
    case LWS_CALLBACK_ESTABLISHED: {
        mu_conn *c = conn_new(wsi, &ws_transport);
        c->addr = pss->addr;
        c->unauth_since = uv_now(g_srv->loop);
        peers_conn_open(&c->addr);
        dispatch_conn_open(c);
        pss->c = c;
        send_welcome(c);
        if (g_srv->stopping)
            conn_close(c, CLOSE_GOING_AWAY);
        else if (conn_count() > g_srv->cfg.max_connections)
            conn_close(c, CLOSE_TRY_LATER);
        return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
        mu_conn *c = pss->c;
        if (!c)
            return -1;
        if (lws_is_first_fragment(wsi)) {
            c->rx_len = 0;
            c->rx_text = !lws_frame_is_binary(wsi);
            c->rx_since = uv_now(g_srv->loop);
        }
        size_t remaining = lws_remaining_packet_payload(wsi);
        /* Before sign-in the limit is 4 KiB (PROTOCOL.md), so that anyone who can connect
         * can make the server hold little. */
        size_t limit = c->state == CONN_AUTHENTICATED ? g_srv->cfg.max_frame : CONN_PREAUTH_FRAME;
        if (c->rx_len + len + remaining > limit) {
            log_info("connection %llu: message over %zu bytes, closing with 1009",
                     (unsigned long long)c->id, limit);
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
            return -1;
        }
        rx_append(c, in, len);
        if (lws_is_final_fragment(wsi)) {
            dispatch_on_message(c, c->rx, c->rx_len, c->rx_text);
            rx_release(c);
            c->rx_since = 0;
        }
        return 0;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        /* Our own close frame already went out: the peer's is the answer, nothing to echo. */
        return pss->c && pss->c->close_code && pss->c->sq_len == 0 ? -1 : 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: return pss->c ? on_writable(pss->c) : 0;
    case LWS_CALLBACK_CLOSED:
        if (pss->c) {
            peers_conn_close(&pss->c->addr);
            dispatch_conn_gone(pss->c);
            pss->c = NULL;
        }
        return 0;
    default: break;
    }
    return 0;
}

/* Ends the TCP connection at once: lws's own close of an established WebSocket would first
 * wait on a close handshake that this peer has shown it will not do. lws sees the socket end
 * and closes the connection from its own loop. */
static void drop_now(mu_conn *c)
{
    int fd = lws_get_socket_fd(c->wsi);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

static void sweep_conn(mu_conn *c, void *ud)
{
    const mu_config *cfg = &g_srv->cfg;
    uint64_t now = *(const uint64_t *)ud;
    if (!conn_alive(c))
        return;
    if (c->close_code) {
        bool out = c->sq_len == 0 && !lws_partial_buffered(c->wsi);
        if (out && !c->close_sent_at)
            c->close_sent_at = now;
        bool drop = out ? now - c->close_sent_at >= CLOSE_ANSWER_MS
                        : c->closing_since && now - c->closing_since >= cfg->close_grace_s * 1000;
        if (drop) {
            if (!out)
                log_info("connection %llu: did not read its queue within close_grace_s, "
                         "dropping it",
                         (unsigned long long)c->id);
            drop_now(c);
        }
        return;
    }
    if (c->state == CONN_AUTHENTICATED) {
        c->unauth_since = 0;
    } else if (!c->unauth_since) {
        c->unauth_since = now; /* signed out: a new preauth_timeout_s from here */
    } else if (now - c->unauth_since >= cfg->preauth_timeout_s * 1000) {
        log_info("connection %llu: not signed in within preauth_timeout_s, closing with 1008",
                 (unsigned long long)c->id);
        conn_close(c, CLOSE_POLICY);
        return;
    }
    if (c->rx_since && now - c->rx_since >= cfg->fragment_timeout_s * 1000) {
        log_info("connection %llu: a fragmented message took over fragment_timeout_s, "
                 "closing with 1008",
                 (unsigned long long)c->id);
        rx_release(c);
        c->rx_since = 0;
        conn_close(c, CLOSE_POLICY);
    }
}

static void on_sweep(uv_timer_t *t)
{
    uint64_t now = uv_now(g_srv->loop);
    conn_foreach(sweep_conn, &now);
    /* The closes above are queued; the send path runs from the uv_check handle. */
}

static struct lws_protocols protocols[] = {
    {"http", cb_http, 0, 0, 0, NULL, 0},
    /* A small rx buffer keeps idle connections cheap; tx_packet_size lets one send carry a
     * whole flush (with 0, lws caps a send near rx_buffer_size). */
    {MU_SUBPROTOCOL, cb_ws, sizeof(pss_t), 1024, 0, NULL, FLUSH_MAX},
    {WWW_PROTOCOL, www_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};
#define WWW_PROTOCOL_INDEX 2

/* HTTP goes through callback mounts: the server's own paths to cb_http, everything else to
 * the app's (www.c). lws takes the longest mountpoint that matches. */
static const struct lws_http_mount mount_metrics = {.mountpoint = "/metrics",
                                                    .origin = "http",
                                                    .origin_protocol = LWSMPRO_CALLBACK,
                                                    .mountpoint_len = 8};
static const struct lws_http_mount mount_healthz = {.mount_next = &mount_metrics,
                                                    .mountpoint = "/healthz",
                                                    .origin = "http",
                                                    .origin_protocol = LWSMPRO_CALLBACK,
                                                    .mountpoint_len = 8};
static const struct lws_http_mount mount_www = {.mount_next = &mount_healthz,
                                                .mountpoint = "/",
                                                .origin = WWW_PROTOCOL,
                                                .origin_protocol = LWSMPRO_CALLBACK,
                                                .mountpoint_len = 1};

static void lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    log_msg(level == LLL_ERR    ? LOG_ERROR
            : level == LLL_WARN ? LOG_WARN
                                : LOG_DEBUG,
            "lws: %.*s", (int)n, line);
}

static int split_listen(const char *listen, char *host, size_t hostcap, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return -1;
    size_t hl = (size_t)(colon - listen);
    if (listen[0] == '[' && hl >= 2 && listen[hl - 1] == ']') {
        listen++;
        hl -= 2;
    }
    if (hl >= hostcap)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535 || end == colon + 1)
        return -1;
    memcpy(host, listen, hl);
    host[hl] = 0;
    *port = (int)p;
    return 0;
}

int transport_start(mu_server *s, char *err, size_t errlen)
{
    int port;
    if (split_listen(s->cfg.listen, s->host, sizeof(s->host), &port) != 0) {
        snprintf(err, errlen, "listen address '%s' is not HOST:PORT", s->cfg.listen);
        return -1;
    }
    if (origin_check_config(&s->cfg, err, errlen) != 0)
        return -1;
    if (s->cfg.www[0])
        log_info("serving the browser app from %s", s->cfg.www);
    scratch = xmalloc(LWS_PRE + FLUSH_MAX);
    int levels = LLL_ERR | LLL_WARN;
    if (log_get_level() >= LOG_DEBUG)
        levels |= LLL_NOTICE;
    lws_set_log_level(levels, lws_log);

    /* lws sizes its tables from the descriptor limit. Raise the soft limit to what the
     * connection cap needs, and tell lws to stop accepting a little below it, since accept()
     * failing with EMFILE first makes it spin. */
    struct rlimit rl;
    unsigned fd_limit = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = (rlim_t)s->cfg.max_connections + 64;
        if (rl.rlim_cur < want) {
            rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
        }
        fd_limit = (unsigned)(rl.rlim_cur > 1u << 20 ? 1u << 20 : rl.rlim_cur);
    }

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    void *loops[1] = {s->loop};
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
                   LWS_SERVER_OPTION_DISABLE_IPV6 * (strchr(s->host, ':') == NULL);
    info.foreign_loops = loops;
    info.port = port;
    info.iface = s->host[0] ? s->host : NULL;
    protocols[WWW_PROTOCOL_INDEX].user = s->cfg.www[0] ? s->cfg.www : NULL;
    info.protocols = protocols;
    info.mounts = &mount_www;
    info.vhost_name = "default";
    info.fd_limit_per_thread = fd_limit > 32 ? fd_limit - 16 : fd_limit;
    info.count_threads = 1;
    info.timeout_secs = 10;
    if (s->cfg.tls_cert[0] || s->cfg.tls_key[0]) {
        if (!s->cfg.tls_cert[0] || !s->cfg.tls_key[0]) {
            snprintf(err, errlen, "TLS needs both tls_cert and tls_key");
            return -1;
        }
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = s->cfg.tls_cert;
        info.ssl_private_key_filepath = s->cfg.tls_key;
    }
    s->lws = lws_create_context(&info);
    if (!s->lws) {
        snprintf(err, errlen,
                 "cannot listen on %s (address in use, not permitted, or the libuv event "
                 "library of libwebsockets is missing: package libwebsockets-evlib-uv)",
                 s->cfg.listen);
        return -1;
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(s->lws, "default");
    s->port = vh ? lws_get_vhost_listen_port(vh) : -1;
    if (s->port <= 0) {
        snprintf(err, errlen, "cannot listen on %s", s->cfg.listen);
        return -1;
    }
    uv_timer_init(s->loop, &sweep_timer);
    uv_timer_start(&sweep_timer, on_sweep, SWEEP_MS, SWEEP_MS);
    uv_unref((uv_handle_t *)&sweep_timer); /* it never keeps the loop alive on its own */
    sweep_on = true;
    return 0;
}

void transport_stop(mu_server *s)
{
    if (sweep_on) {
        sweep_on = false;
        uv_close((uv_handle_t *)&sweep_timer, NULL);
    }
    if (s->lws)
        lws_context_destroy(s->lws);
}

void transport_destroy(mu_server *s)
{
    if (s->lws)
        lws_context_destroy(s->lws);
    s->lws = NULL;
    free(scratch);
    scratch = NULL;
}
