/* Benchmark: does password hashing ever hold up the loop? One connection keeps 20 register
 * calls in flight (each an Argon2id hash and a commit); another pings every 10 ms. Prints the
 * ping round trip p50/p99/max. Usage: bench_ping [seconds] */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define IN_FLIGHT 20

static mu_client *reg_conn, *ping_conn;
static int next_handle, registered, reg_failed, outstanding;
static double *rtts;
static size_t nrtt, caprtt;
static double ping_sent_at;
static bool ping_waiting;

static void on_register(mu_client *c, const mu_msg *m, void *ud);

static void send_register(void)
{
    char h[32];
    snprintf(h, sizeof(h), "bench%d", next_handle++);
    mu_req *r = mu_req_new("register");
    mu_req_str(r, "handle", h);
    mu_req_str(r, "password", "benchmark password");
    mu_client_send(reg_conn, r, on_register, NULL);
    /* signed in by the register: sign out so that the next one is a real registration */
    mu_client_send(reg_conn, mu_req_new("logout"), NULL, NULL);
    outstanding++;
}

static void on_register(mu_client *c, const mu_msg *m, void *ud)
{
    outstanding--;
    if (m && mu_msg_ok(m))
        registered++;
    else
        reg_failed++;
    while (outstanding < IN_FLIGHT)
        send_register();
}

static void on_pong(mu_client *c, const mu_msg *m, void *ud)
{
    ping_waiting = false;
    if (!m || !mu_msg_ok(m))
        return;
    if (nrtt == caprtt) {
        caprtt = caprtt ? caprtt * 2 : 1024;
        rtts = grow(rtts, caprtt * sizeof(*rtts));
    }
    rtts[nrtt++] = mono_ms() - ping_sent_at;
}

static void on_tick(uv_timer_t *t)
{
    if (ping_waiting)
        return; /* a ping still out counts when it returns; do not stack them */
    ping_waiting = true;
    ping_sent_at = mono_ms();
    mu_client_send(ping_conn, mu_req_new("ping"), on_pong, NULL);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 10;
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    reg_conn = cl_connect(y, &s);
    ping_conn = cl_connect(y, &s);
    for (int i = 0; i < IN_FLIGHT; i++)
        send_register();
    uv_timer_t tick;
    uv_timer_init(mu_sync_loop(y), &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    mu_sync_run(y, secs * 1000);
    uv_timer_stop(&tick);
    uv_close((uv_handle_t *)&tick, NULL);
    qsort(rtts, nrtt, sizeof(*rtts), cmp);
    double p50 = nrtt ? rtts[nrtt / 2] : 0, p99 = nrtt ? rtts[nrtt * 99 / 100] : 0;
    double max = nrtt ? rtts[nrtt - 1] : 0;
    printf("bench_ping: %d s, %d registrations done (%d failed), %d in flight throughout\n", secs,
           registered, reg_failed, IN_FLIGHT);
    printf("ping round trip over %zu pings: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", nrtt, p50,
           p99, max);
    free(rtts);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
    return 0;
}
