/* Connections: libwebsockets client on a libuv loop, requests matched to replies by rid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "client_int.h"

static void fail_pending(mu_client *c)
{
    pending *p = c->p_head;
    c->p_head = c->p_tail = NULL;
    while (p) {
        pending *n = p->next;
        if (p->cb && !c->freed)
            p->cb(c, NULL, p->ud);
        free(p);
        p = n;
    }
}

static void free_out(mu_client *c)
{
    for (outmsg *m = c->o_head, *n; m; m = n) {
        n = m->next;
        free(m->buf);
        free(m);
    }
    c->o_head = c->o_tail = NULL;
}

static void client_destroy(mu_client *c)
{
    mu_ctx *x = c->x;
    if (x->clients == c)
        x->clients = c->next;
    else if (c->prev)
        c->prev->next = c->next;
    if (c->next)
        c->next->prev = c->prev;
    fail_pending(c);
    free_out(c);
    for (size_t i = 0; i < c->evq_len; i++)
        mu_msg_free(c->evq[(c->evq_head + i) % c->evq_cap]);
    free(c->evq);
    mu_msg_free(c->welcome);
    free(c->rx);
    free(c->url);
    free(c->subprotocol);
    free(c);
}

static void set_ended(mu_client *c, mu_state st)
{
    if (c->ended)
        return;
    c->ended = true;
    fail_pending(c);
    if (c->on_state && !c->freed)
        c->on_state(c, st, c->close_code, c->ud);
}

mu_msg *client_steal(mu_client *c)
{
    c->stolen = true;
    return c->delivering;
}

static void evq_push(mu_client *c, mu_msg *m)
{
    if (c->evq_len == c->evq_cap) {
        size_t cap = c->evq_cap ? c->evq_cap * 2 : 16;
        mu_msg **v = malloc(cap * sizeof(mu_msg *));
        if (!v)
            abort();
        for (size_t i = 0; i < c->evq_len; i++)
            v[i] = c->evq[(c->evq_head + i) % c->evq_cap];
        free(c->evq);
        c->evq = v;
        c->evq_cap = cap;
        c->evq_head = 0;
    }
    c->evq[(c->evq_head + c->evq_len++) % c->evq_cap] = m;
}

static void deliver(mu_client *c, mu_msg *m)
{
    c->delivering = m;
    c->stolen = false;
    const char *op = mu_msg_op(m);
    int64_t rid = -1;
    bool is_reply = strcmp(op, "reply") == 0 && mu_value_int(mu_msg_get(m, "rid"), &rid);
    pending *p = NULL, **pp = &c->p_head, *prev = NULL;
    if (is_reply)
        for (; *pp; prev = *pp, pp = &(*pp)->next)
            if ((*pp)->rid == (uint64_t)rid) {
                p = *pp;
                *pp = p->next;
                if (c->p_tail == p)
                    c->p_tail = prev;
                break;
            }
    if (p && p->cb) {
        if (!c->freed)
            p->cb(c, m, p->ud);
    } else if (!c->welcome && strcmp(op, "welcome") == 0) {
        c->welcome = m;
        c->stolen = true;
        if (c->on_state && !c->freed)
            c->on_state(c, MU_STATE_OPEN, 0, c->ud);
    } else if (c->on_event && !c->freed) {
        c->on_event(c, m, c->ud); /* events, and replies nobody asked to be called for */
    } else if (c->sync) {
        evq_push(c, m);
        c->stolen = true;
    }
    free(p);
    c->delivering = NULL;
    if (!c->stolen)
        mu_msg_free(m);
}

/* The largest message the client reassembles: far above any reply (an export of years of
 * data is a few MB), and a bound on what a broken or hostile server can make it hold. */
#define RX_MAX ((size_t)256 << 20)

static int rx_add(mu_client *c, const void *in, size_t len)
{
    if (len == 0)
        return 0; /* an empty frame: nothing to copy, and maybe no buffer yet */
    if (len > RX_MAX - c->rx_len)
        return -1; /* closes the connection */
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < c->rx_len + len)
            cap *= 2;
        char *n = realloc(c->rx, cap);
        if (!n)
            return -1;
        c->rx = n;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    return 0;
}

static int cb_client(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    mu_client *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!c)
            return -1;
        c->established = true;
        if (c->o_head || c->closing)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!c)
            return -1;
        if (lws_is_first_fragment(wsi))
            c->rx_len = 0;
        if (rx_add(c, in, len) != 0)
            return -1;
        if (lws_is_final_fragment(wsi)) {
            mu_msg *m = mu_msg_decode(c->rx, c->rx_len);
            c->rx_len = 0;
            if (m)
                deliver(c, m);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (!c)
            return -1;
        if (c->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        outmsg *m = c->o_head;
        if (!m)
            return 0;
        c->o_head = m->next;
        if (!c->o_head)
            c->o_tail = NULL;
        int w =
            lws_write(wsi, m->buf + LWS_PRE, m->len, m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
        free(m->buf);
        free(m);
        if (w < 0)
            return -1;
        if (c->o_head)
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c && len >= 2) {
            const unsigned char *p = in;
            c->close_code = (p[0] << 8) | p[1];
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c) {
            if (in && len)
                snprintf(c->fail, sizeof(c->fail), "%.*s", (int)(len < 159 ? len : 159),
                         (const char *)in);
            else if (in)
                snprintf(c->fail, sizeof(c->fail), "%s", (const char *)in);
            c->wsi = NULL;
            set_ended(c, MU_STATE_FAILED);
            if (c->freed)
                client_destroy(c);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c) {
            if (!c->close_code)
                c->close_code = 1006; /* no close frame: abnormal closure */
            set_ended(c, MU_STATE_CLOSED);
        }
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (c && c->wsi == wsi) {
            /* A handshake that timed out ends here without a connection error. */
            c->wsi = NULL;
            set_ended(c, c->established ? MU_STATE_CLOSED : MU_STATE_FAILED);
            if (c->freed)
                client_destroy(c);
        }
        return 0;
    default: break;
    }
    return 0;
}

static const struct lws_protocols client_protocols[] = {
    {"mutual-client", cb_client, 0, 4096, 0, NULL, 0}, {NULL, NULL, 0, 0, 0, NULL, 0}};

static void quiet_log(int level, const char *line)
{
    (void)level;
    (void)line;
}

mu_ctx *mu_ctx_new(uv_loop_t *loop)
{
    mu_ctx *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->loop = loop;
    /* Many connections from one process (load tools) need descriptors. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    lws_set_log_level(getenv("MUTUAL_LWS_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE : 0,
                      getenv("MUTUAL_LWS_DEBUG") ? NULL : quiet_log);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    void *loops[1] = {loop};
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = client_protocols;
    info.timeout_secs = 10;
    info.connect_timeout_secs = 10;
    x->lws = lws_create_context(&info);
    if (!x->lws) {
        free(x);
        return NULL;
    }
    uv_timer_init(loop, &x->stop_timer);
    x->stop_timer.data = x;
    return x;
}

/* The vhost that trusts `path` (created on first use), or NULL when lws refuses the file. */
static struct lws_vhost *ca_vhost_get(mu_ctx *x, const char *path)
{
    for (ca_vhost *v = x->cas; v; v = v->next)
        if (strcmp(v->path, path) == 0)
            return v->vh;
    ca_vhost *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    char name[32];
    snprintf(name, sizeof(name), "mutual-ca-%u", x->ncas++);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = client_protocols;
    info.vhost_name = name;
    info.client_ssl_ca_filepath = path;
    v->path = strdup(path);
    v->vh = v->path ? lws_create_vhost(x->lws, &info) : NULL;
    if (!v->vh) {
        free(v->path);
        free(v);
        return NULL;
    }
    v->next = x->cas;
    x->cas = v;
    return v->vh;
}

static int parse_url(mu_client *c, const char *url)
{
    const char *p;
    if (!strncmp(url, "ws://", 5)) {
        p = url + 5;
        c->tls = false;
        c->port = 80;
    } else if (!strncmp(url, "wss://", 6)) {
        p = url + 6;
        c->tls = true;
        c->port = 443;
    } else {
        return -1;
    }
    const char *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    char hostport[300];
    if (hl == 0 || hl >= sizeof(hostport))
        return -1;
    memcpy(hostport, p, hl);
    hostport[hl] = 0;
    char *colon = strrchr(hostport, ':');
    if (colon && !strchr(colon, ']')) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (*end || port <= 0 || port > 65535)
            return -1;
        c->port = (int)port;
        *colon = 0;
    }
    char *h = hostport;
    if (h[0] == '[') {
        h++;
        size_t n = strlen(h);
        if (n && h[n - 1] == ']')
            h[n - 1] = 0;
    }
    snprintf(c->host, sizeof(c->host), "%s", h);
    snprintf(c->path, sizeof(c->path), "%s", slash && slash[1] ? slash : "/ws");
    return 0;
}

mu_client *mu_client_new(mu_ctx *x, const mu_client_opts *o)
{
    mu_client *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->x = x;
    c->url = strdup(o->url ? o->url : "");
    c->subprotocol = o->subprotocol ? strdup(o->subprotocol) : strdup(MU_SUBPROTOCOL);
    c->on_event = o->on_event;
    c->on_state = o->on_state;
    c->ud = o->ud;
    c->insecure = o->insecure_tls;
    c->next_rid = 1;
    c->next = x->clients;
    if (x->clients)
        x->clients->prev = c;
    x->clients = c;
    if (!c->url || !c->subprotocol || parse_url(c, c->url) != 0 || x->stopping) {
        c->ended = true;
        return c; /* a client that failed at once: mu_client_is_open says so */
    }
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = x->lws;
    ci.address = c->host;
    ci.port = c->port;
    ci.path = c->path;
    ci.host = c->host;
    /* No Origin: it is what marks a browser page, and the server's Origin rule is for those. */
    ci.origin = NULL;
    ci.protocol = c->subprotocol[0] ? c->subprotocol : NULL;
    ci.local_protocol_name = "mutual-client";
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    if (c->tls && o->ca_file) {
        ci.vhost = ca_vhost_get(x, o->ca_file);
        if (!ci.vhost) {
            c->ended = true;
            return c; /* an unreadable CA file fails the connection, never falls back */
        }
    }
    if (c->tls) {
        ci.ssl_connection = LCCSCF_USE_SSL;
        if (c->insecure)
            ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                 LCCSCF_ALLOW_INSECURE | LCCSCF_ALLOW_EXPIRED;
    }
    if (!lws_client_connect_via_info(&ci)) {
        c->wsi = NULL;
        c->ended = true;
    }
    return c;
}

static void queue_out(mu_client *c, unsigned char *buf, size_t len, bool binary)
{
    outmsg *m = malloc(sizeof(*m));
    if (!m)
        abort();
    m->next = NULL;
    m->buf = buf;
    m->len = len;
    m->binary = binary;
    if (c->o_tail)
        c->o_tail->next = m;
    else
        c->o_head = m;
    c->o_tail = m;
    if (c->wsi && c->established)
        lws_callback_on_writable(c->wsi);
}

uint64_t mu_client_send(mu_client *c, mu_req *r, mu_reply_fn cb, void *ud)
{
    if (!c || c->ended || c->freed || c->closing) {
        mu_req_free(r);
        return 0;
    }
    uint64_t rid = c->next_rid++;
    size_t len;
    unsigned char *buf = (unsigned char *)req_encode(r, rid, LWS_PRE, &len);
    mu_req_free(r);
    pending *p = malloc(sizeof(*p));
    if (!p)
        abort();
    *p = (pending){NULL, rid, cb, ud};
    if (c->p_tail)
        c->p_tail->next = p;
    else
        c->p_head = p;
    c->p_tail = p;
    queue_out(c, buf, len, true);
    return rid;
}

int mu_client_send_raw(mu_client *c, const void *bytes, size_t n, bool binary)
{
    if (!c || c->ended || c->freed)
        return -1;
    unsigned char *buf = malloc(LWS_PRE + n + 1);
    if (!buf)
        return -1;
    memcpy(buf + LWS_PRE, bytes, n);
    queue_out(c, buf, n, binary);
    return 0;
}

const mu_msg *mu_client_welcome(const mu_client *c)
{
    return c->welcome;
}
bool mu_client_is_open(const mu_client *c)
{
    return c->welcome && !c->ended;
}
int mu_client_close_code(const mu_client *c)
{
    return c->close_code;
}
void *mu_client_userdata(const mu_client *c)
{
    return c->ud;
}

void mu_client_free(mu_client *c)
{
    if (!c || c->freed)
        return;
    c->freed = true;
    if (c->wsi && !c->ended) {
        c->closing = true;
        if (c->established)
            lws_callback_on_writable(c->wsi);
        else
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        return; /* freed when lws lets go of the connection */
    }
    if (c->wsi)
        return; /* ended, and lws is about to destroy it */
    client_destroy(c);
}

static void on_stop_timer(uv_timer_t *t)
{
    mu_ctx *x = t->data;
    uv_close((uv_handle_t *)&x->stop_timer, NULL);
    lws_context_destroy(x->lws);
    x->destroyed_once = true;
}

void mu_ctx_stop(mu_ctx *x)
{
    if (x->stopping)
        return;
    x->stopping = true;
    for (mu_client *c = x->clients, *n; c; c = n) {
        n = c->next;
        mu_client_free(c);
    }
    /* Destroying a context from inside one of its callbacks is unsafe: do it from a timer. */
    uv_timer_start(&x->stop_timer, on_stop_timer, 0, 0);
}

void mu_ctx_free(mu_ctx *x)
{
    if (!x)
        return;
    lws_context_destroy(x->lws); /* the second half of the foreign-loop teardown */
    /* client_destroy unlinks c from c->x, which is x (the analyzer cannot see that) */
    while (x->clients)
        client_destroy(x->clients); // NOLINT(clang-analyzer-unix.Malloc)
    for (ca_vhost *v = x->cas, *n; v; v = n) {
        n = v->next;
        free(v->path);
        free(v);
    }
    free(x);
}
