/* The server's life (see server.h). Layer: top. */
#include "server.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alerts.h"
#include "clock.h"
#include "conn.h"
#include "dispatch.h"
#include "dm.h"
#include "events.h"
#include "handlers.h"
#include "log.h"
#include "password.h"
#include "peers.h"
#include "reads.h"
#include "throttle_share.h"
#include "pool.h"
#include "rooms.h"
#include "session.h"
#include "store_admin.h"
#include "store_users.h"
#include "tls_files.h"
#include "transport.h"
#include "xalloc.h"

#define PURGE_INTERVAL_MS ((uint64_t)3600 * 1000)
#define STOP_TICK_MS 20
#define STOP_CALLS_MAX_MS 10000

/* ---- periodic work ---------------------------------------------------------------------- */

typedef struct {
    mu_job job;
    int64_t now;
} purge_job;

static mu_code purge_run(mu_job *j, mu_wtx *w)
{
    purge_job *p = (purge_job *)j;
    mu_code c = store_users_tokens_purge(w, p->now);
    const mu_config *cfg = &g_srv->cfg;
    retention r = {(int64_t)cfg->retain_read_dms_days * 86400000,
                   (int64_t)cfg->retain_closed_alerts_days * 86400000,
                   (int64_t)cfg->retain_notes_days * 86400000};
    return c == MU_OK ? store_admin_retention(w, p->now, &r) : c;
}

static void purge_done(mu_job *j)
{
    free(j);
}

static void purge_tokens(void *ud)
{
    mu_server *s = ud;
    if (!s->store || s->stopping)
        return;
    purge_job *p = xcalloc(1, sizeof(*p));
    p->job.run = purge_run;
    p->job.done = purge_done;
    p->now = clock_now_ms();
    store_submit(s->store, &p->job);
}

static uv_timer_t purge_timer;

static void on_purge_timer(uv_timer_t *t)
{
    purge_tokens(t->data);
}

/* ---- the per-iteration check ------------------------------------------------------------- */

/* Wakes the loop when output held back for coalescing (conn.c) may go, in case nothing else
 * does first. */
static uv_timer_t flush_timer;
static void on_flush_timer(uv_timer_t *t);

static void run_pending(void)
{
    dispatch_run_pending();
    uint64_t held = conn_flush_held_us();
    if (held && !uv_is_active((uv_handle_t *)&flush_timer))
        uv_timer_start(&flush_timer, on_flush_timer, (held + 999) / 1000, 0);
}

static void on_flush_timer(uv_timer_t *t)
{
    (void)t;
    run_pending();
}

static void on_check(uv_check_t *h)
{
    (void)h;
    run_pending();
}

static uint64_t loop_idle_us(void)
{
    return uv_metrics_idle_time(g_srv->loop) / 1000;
}

static bool reads_lost(void)
{
    return g_srv->store && store_reads_lost(g_srv->store);
}

static uint64_t loop_now_ms(void)
{
    return uv_now(g_srv->loop);
}

/* ---- shutdown ---------------------------------------------------------------------------- */

static uint64_t stop_started, stop_phase_started;

static void close_going_away(mu_conn *c, void *ud)
{
    (void)ud;
    conn_close(c, CLOSE_GOING_AWAY);
}

static void finalize(mu_server *s)
{
    uv_timer_stop(&s->stop_timer);
    uv_close((uv_handle_t *)&s->stop_timer, NULL);
    uv_close((uv_handle_t *)&purge_timer, NULL);
    alerts_stop();
    alerts_escalate_stop();
    events_stop();
    room_presence_stop();
    room_deliver_stop();
    reads_stop();
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->check, NULL);
    uv_close((uv_handle_t *)&flush_timer, NULL);
    conn_flush_release();
    dispatch_run_pending();
    store_close(s->store); /* every queued write is committed before this returns */
    s->store = NULL;
    transport_stop(s);
    log_info("stopped");
}

static void on_stop_tick(uv_timer_t *t)
{
    mu_server *s = t->data;
    uint64_t now = uv_now(s->loop);
    if (s->stop_phase == STOP_CALLS) {
        /* Let calls in progress finish and send their replies first. */
        if (dispatch_inflight() == 0 || now - stop_started > STOP_CALLS_MAX_MS) {
            conn_foreach(close_going_away, NULL);
            s->stop_phase = STOP_CONNECTIONS;
            stop_phase_started = now;
        }
    } else if (s->stop_phase == STOP_CONNECTIONS) {
        if ((conn_count() == 0 && dispatch_inflight() == 0) ||
            now - stop_phase_started > s->cfg.shutdown_grace_ms) {
            /* Work on the pool uses the store, so the store outlives it: it is told to give
             * up (long reads are interrupted) and waited for; none of it runs for long. */
            s->stop_phase = STOP_WORK;
            pool_stop();
            store_stop_readers(s->store);
        }
    }
    if (s->stop_phase == STOP_WORK && pool_pending() == 0) {
        s->stop_phase = STOP_DONE;
        finalize(s);
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    mu_server *s = h->data;
    if (s->stopping)
        return;
    log_info("signal %d: shutting down", signum);
    s->stopping = true;
    s->stop_phase = STOP_CALLS;
    dispatch_refuse_requests();
    stop_started = uv_now(s->loop);
    uv_timer_start(&s->stop_timer, on_stop_tick, 0, STOP_TICK_MS);
}

/* See server.h. The real bind comes later in transport_start and still reports its own
 * failure (another program may take the port in between). */
int server_probe_listen(const char *const full)
{
    const char *listen = full, *colon = listen ? strrchr(listen, ':') : NULL;
    if (!colon || colon == listen || !colon[1])
        return 0;
    char host[256];
    size_t hl = (size_t)(colon - listen);
    if (listen[0] == '[' && hl >= 2 && listen[hl - 1] == ']') { /* [::1]:7681 */
        listen++;
        hl -= 2;
    }
    if (hl >= sizeof(host))
        return 0;
    memcpy(host, listen, hl);
    host[hl] = 0;
    if (!strcmp(colon + 1, "0"))
        return 0; /* any free port */
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai) != 0 || !ai)
        return 0;
    int rc = 0, fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* as lws does */
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            int e = errno;
            fprintf(stderr, "mutuald: cannot listen on %s: %s%s\n", full, strerror(e),
                    e == EADDRINUSE ? " (is another mutuald or program using that port?)" : "");
            rc = -1;
        }
        close(fd);
    }
    freeaddrinfo(ai);
    return rc;
}

int server_run(mu_server *s)
{
    char err[512];
    int rc = 1;
    g_srv = s;
    /* Before anything is opened: a bad certificate or key stops the server with one line. */
    if (tls_files_check(s->cfg.tls_cert, s->cfg.tls_key, err, sizeof(err)) != 0) {
        log_error("%s", err);
        uv_loop_close(s->loop); /* nothing is on it yet */
        return 1;
    }
    if (s->test_clock)
        clock_freeze();
    s->limits.max_text = (uint32_t)s->cfg.max_text;
    s->limits.max_note = (uint32_t)s->cfg.max_note;
    /* The loop's idle time tells the send path whether it is saturated (conn.c). */
    uv_loop_configure(s->loop, UV_METRICS_IDLE_TIME);
    conn_init(&(conn_limits){.send_queue = s->cfg.send_queue, .idle_us = loop_idle_us});
    pool_reset();
    /* Two whole messages may wait; with one being reassembled and lws's own buffers, a client
     * makes the server hold at most about max_frame x 4 of its input (PROTOCOL.md). */
    conn_set_input_bound(2 * s->cfg.max_frame);
    dispatch_init(&(dispatch_config){handlers_table, session_conn_gone, loop_now_ms,
                                     (double)s->cfg.rate_per_s, (double)s->cfg.burst, s->limits,
                                     s->test_clock, reads_lost});

    mu_store_opts so = {.path = s->cfg.db,
                        .sync_full = strcmp(s->cfg.synchronous, "full") == 0,
                        .batch_max = (unsigned)s->cfg.writer_batch_max};
    s->store = store_open(s->loop, &so, err, sizeof(err));
    if (!s->store) {
        log_error("%s", err);
        uv_run(s->loop, UV_RUN_NOWAIT); /* frees what store_open left on the loop */
        uv_loop_close(s->loop);
        return 1;
    }
    s->throttle = throttle_new((unsigned)s->cfg.login_max_failures,
                               (int64_t)s->cfg.login_window_s * 1000, 100000);
    if (peers_init(&(peers_config){s->cfg.limit_exempt, s->cfg.trusted_proxy,
                                   (unsigned)s->cfg.max_conns_per_addr,
                                   (unsigned)s->cfg.login_max_failures_per_addr,
                                   (int64_t)s->cfg.login_window_s * 1000,
                                   (unsigned)s->cfg.register_per_addr_hour, 100000},
                   err, sizeof(err)) != 0) {
        log_error("%s", err);
        goto fail_store;
    }
    {
        /* One real hash to verify unknown handles against (see op_login). */
        char pw[32];
        randombytes_buf(pw, sizeof(pw));
        if (password_hash(pw, sizeof(pw), s->dummy_hash) != 0) {
            log_error("cannot compute a password hash (out of memory?)");
            goto fail_store;
        }
    }
    if (rooms_init(s) != 0) {
        log_error("cannot load the rooms from %s", db_display(s->cfg.db, err, sizeof(err)));
        goto fail_store;
    }
    /* With PostgreSQL, what other nodes write reaches this node's connections. */
    dm_events_init();
    alerts_events_init();
    session_events_init();
    throttle_share_init();
    rooms_events_init();
    room_presence_start(s);
    room_deliver_start(s);
    reads_start(s);
    events_start(s);
    if (transport_start(s, err, sizeof(err)) != 0) {
        log_error("%s", err);
        /* A context that failed to create can leave handles on the loop whose callbacks live
         * in the lws event-library plugin it has already unloaded: running the loop again to
         * tidy up would jump into unmapped code. Exit without touching the loop. */
        room_deliver_stop();
        reads_stop();
        store_close(s->store);
        s->store = NULL;
        throttle_free(s->throttle);
        s->throttle = NULL;
        return 1;
    }
    uv_signal_init(s->loop, &s->sigint);
    uv_signal_init(s->loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_check_init(s->loop, &s->check);
    uv_check_start(&s->check, on_check);
    uv_timer_init(s->loop, &flush_timer);
    uv_timer_init(s->loop, &s->stop_timer);
    s->stop_timer.data = s;
    uv_timer_init(s->loop, &purge_timer);
    purge_timer.data = s;
    uv_timer_start(&purge_timer, on_purge_timer, PURGE_INTERVAL_MS, PURGE_INTERVAL_MS);
    clock_observe(purge_tokens, s);
    alerts_start(s);
    alerts_escalate_start(s);
    signal(SIGPIPE, SIG_IGN);

    printf("listening on %s:%d\n", s->host[0] ? s->host : "0.0.0.0", s->port);
    fflush(stdout);
    log_info("mutuald %s listening on %s:%d, database %s%s", MUTUAL_VERSION,
             s->host[0] ? s->host : "0.0.0.0", s->port, db_display(s->cfg.db, err, sizeof(err)),
             s->test_clock ? " (test clock on: not for production)" : "");

    uv_run(s->loop, UV_RUN_DEFAULT);
    rc = 0;
    transport_destroy(s);
    goto done;

fail_store:
    store_close(s->store);
    s->store = NULL;
    transport_destroy(s);
done:
    rooms_shutdown();
    dispatch_shutdown();
    conn_shutdown();
    throttle_free(s->throttle);
    s->throttle = NULL;
    peers_shutdown();
    clock_reset();
    /* Let closed handles finish, then make sure none is left behind. */
    uv_run(s->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(s->loop) != 0) {
        log_error("the event loop still has open handles at exit");
        rc = rc ? rc : 1;
    }
    return rc;
}
