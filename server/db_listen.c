/* LISTEN on the loop (see db_listen.h). The connection goes through libpq's non-blocking
 * states, each waiting on the socket in the direction libpq asks for: connecting, the LISTEN
 * sent and its answer awaited, then listening. Any failure drops to "down" and a timer starts
 * again from connecting. Layer: storage, over the base. */
#include "db_listen.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_pg.h"
#include "log.h"
#include "xalloc.h"

#define RETRY_MS 1000

typedef enum { L_DOWN, L_CONNECTING, L_LISTEN_SENT, L_UP } l_state;

struct db_listener {
    uv_loop_t *loop;
    char *url, *listen_sql;
    db_notify_fn fn;
    db_listen_up_fn up;
    void *ud;
    PGconn *pg;
    uv_poll_t *poll; /* on pg's socket; its own allocation, freed when its close completes */
    int poll_fd;
    uv_timer_t retry;
    l_state state;
    bool ever_up, warned;
};

static void connect_start(db_listener *l);

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void unwatch(db_listener *l)
{
    if (l->poll) {
        uv_close((uv_handle_t *)l->poll, free_handle); /* stops watching at once */
        l->poll = NULL;
    }
}

static void on_poll(uv_poll_t *h, int status, int events);
static void fail(db_listener *l, const char *why);

/* False when the socket cannot be watched: the listener is then down and retrying. */
static bool watch(db_listener *l, int events)
{
    int fd = PQsocket(l->pg);
    if (l->poll && l->poll_fd != fd)
        unwatch(l); /* libpq moved to another socket (another address of the host) */
    if (!l->poll) {
        l->poll = xmalloc(sizeof(*l->poll));
        if (fd < 0 || uv_poll_init(l->loop, l->poll, fd) != 0) {
            free(l->poll);
            l->poll = NULL;
            fail(l, "cannot watch its socket");
            return false;
        }
        l->poll->data = l;
        l->poll_fd = fd;
    }
    if (uv_poll_start(l->poll, events, on_poll) != 0) {
        fail(l, "cannot watch its socket");
        return false;
    }
    return true;
}

static void on_retry(uv_timer_t *t)
{
    connect_start(t->data);
}

static void fail(db_listener *l, const char *why)
{
    if (!l->warned)
        log_warn("listening for other nodes stopped (%s); connecting again every %d ms", why,
                 RETRY_MS);
    l->warned = true;
    unwatch(l);
    PQfinish(l->pg);
    l->pg = NULL;
    l->state = L_DOWN;
    uv_timer_start(&l->retry, on_retry, RETRY_MS, 0);
}

static void pg_fail(db_listener *l)
{
    char why[256];
    snprintf(why, sizeof(why), "%s", l->pg ? PQerrorMessage(l->pg) : "out of memory");
    why[strcspn(why, "\n")] = '\0';
    fail(l, why);
}

static void connect_start(db_listener *l)
{
    l->pg = db_pg_connect(l->url, 0, true); /* keepalives: a dead peer is noticed */
    if (!l->pg || PQstatus(l->pg) == CONNECTION_BAD) {
        pg_fail(l);
        return;
    }
    l->state = L_CONNECTING;
    watch(l, UV_WRITABLE); /* PQconnectPoll starts as if it had asked to write */
}

static void connected(db_listener *l)
{
    PQsetnonblocking(l->pg, 1);
    if (!PQsendQuery(l->pg, l->listen_sql)) {
        pg_fail(l);
        return;
    }
    l->state = L_LISTEN_SENT;
    watch(l, PQflush(l->pg) == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE);
}

/* Reads the LISTEN's answer; true once it has come (and was a success). */
static bool listen_answered(db_listener *l)
{
    while (!PQisBusy(l->pg)) {
        PGresult *r = PQgetResult(l->pg);
        if (!r)
            return true;
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
            pg_fail(l);
            return false;
        }
    }
    return false;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    db_listener *l = h->data;
    if (status < 0) {
        fail(l, uv_strerror(status));
        return;
    }
    if (l->state == L_CONNECTING) {
        switch (PQconnectPoll(l->pg)) {
        case PGRES_POLLING_READING: watch(l, UV_READABLE); return;
        case PGRES_POLLING_WRITING: watch(l, UV_WRITABLE); return;
        case PGRES_POLLING_OK: connected(l); return;
        default: pg_fail(l); return;
        }
    }
    if ((events & UV_WRITABLE) && PQflush(l->pg) == 0 && !watch(l, UV_READABLE))
        return;
    if (!(events & UV_READABLE))
        return;
    if (!PQconsumeInput(l->pg)) {
        pg_fail(l);
        return;
    }
    if (l->state == L_LISTEN_SENT) {
        if (!listen_answered(l))
            return;
        l->state = L_UP;
        if (l->warned)
            log_info("listening for other nodes again");
        l->warned = false;
        bool again = l->ever_up;
        l->ever_up = true;
        l->up(again, l->ud);
        if (l->state != L_UP)
            return;
    }
    PGnotify *n;
    while (l->pg && (n = PQnotifies(l->pg))) {
        l->fn(n->extra, l->ud);
        PQfreemem(n);
    }
}

db_listener *db_listen(uv_loop_t *loop, const char *url, const char *channel, db_notify_fn fn,
                       db_listen_up_fn up, void *ud)
{
    for (const char *p = channel; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
            return NULL; /* goes into the SQL as it is */
    db_listener *l = xcalloc(1, sizeof(*l));
    l->loop = loop;
    l->url = xstrdup(url);
    size_t n = strlen(channel) + 8;
    l->listen_sql = xmalloc(n);
    snprintf(l->listen_sql, n, "LISTEN %s", channel);
    l->fn = fn;
    l->up = up;
    l->ud = ud;
    uv_timer_init(loop, &l->retry);
    l->retry.data = l;
    connect_start(l);
    return l;
}

bool db_listener_up(const db_listener *l)
{
    return l && l->state == L_UP;
}

static void on_retry_closed(uv_handle_t *h)
{
    db_listener *l = h->data;
    free(l->url);
    free(l->listen_sql);
    free(l);
}

void db_listener_close(db_listener *l)
{
    if (!l)
        return;
    unwatch(l);
    PQfinish(l->pg);
    l->pg = NULL;
    uv_timer_stop(&l->retry);
    uv_close((uv_handle_t *)&l->retry, on_retry_closed);
}
