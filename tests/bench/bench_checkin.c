/* Benchmark: durable check-ins. U users (default 300) each keep one check-in in flight for T
 * seconds (default 10); the reply comes after the commit. Prints check-ins/s and reply latency,
 * then the checkin.summary latency for a user with 365 days of history (built with the test
 * clock). Usage: bench_checkin [users] [seconds] */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define PW "benchmark password"

static double *lat;
static size_t nlat, caplat;
static long done, failed;
static bool running = true;

typedef struct {
    mu_client *c;
    double sent;
    int n;
} user;

static void on_reply(mu_client *c, const mu_msg *m, void *ud);

static void submit(user *u)
{
    mu_req *r = mu_req_new("checkin.submit");
    mu_req_int(r, "tz", 60);
    mu_req_int(r, "mood", u->n % 11);
    mu_req_int(r, "craving", (u->n * 3) % 11);
    mu_req_int(r, "sleep", 6);
    mu_req_str(r, "use", "as_planned");
    int64_t who5[5] = {3, 4, 3, 2, 4};
    mu_req_ints(r, "who5", who5, 5);
    mu_req_str(r, "note", "a private note of a realistic length, kept for its author only");
    u->n++;
    u->sent = mono_ms();
    mu_client_send(u->c, r, on_reply, u);
}

static void on_reply(mu_client *c, const mu_msg *m, void *ud)
{
    user *u = ud;
    if (!m || !mu_msg_ok(m)) {
        failed++;
    } else if (running) {
        done++;
        if (nlat == caplat) {
            caplat = caplat ? caplat * 2 : 65536;
            lat = grow(lat, caplat * sizeof(*lat));
        }
        lat[nlat++] = mono_ms() - u->sent;
    }
    if (running)
        submit(u);
}

static void on_reg(mu_client *c, const mu_msg *m, void *ud)
{
    if (!m || !mu_msg_ok(m)) {
        fprintf(stderr, "registration failed\n");
        exit(1);
    }
    (*(int *)ud)--;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int nusers = argc > 1 ? atoi(argv[1]) : 300;
    int secs = argc > 2 ? atoi(argv[2]) : 10;
    srv_t s;
    srv_start(&s, NULL, 1);
    srv_user_add(&s, "admin", PW, "admin");
    mu_sync *y = mu_sync_new();
    user *users = calloc((size_t)nusers, sizeof(*users));
    int pending = nusers;
    for (int i = 0; i < nusers; i++) {
        char h[32];
        snprintf(h, sizeof(h), "user%d", i);
        users[i].c = cl_connect(y, &s);
        mu_req *r = mu_req_new("register");
        mu_req_str(r, "handle", h);
        mu_req_str(r, "password", PW);
        mu_client_send(users[i].c, r, on_reg, &pending);
    }
    while (pending)
        mu_sync_run(y, 10);
    double t0 = mono_ms();
    for (int i = 0; i < nusers; i++)
        submit(&users[i]);
    mu_sync_run(y, secs * 1000);
    running = false;
    double elapsed = (mono_ms() - t0) / 1000.0;
    mu_sync_run(y, 500);
    qsort(lat, nlat, sizeof(*lat), cmp);
    printf("bench_checkin: %d users, %.1f s, synchronous=full\n", nusers, elapsed);
    printf("durable check-ins: %ld, %.0f/s, %ld failed\n", done, (double)done / elapsed, failed);
    if (nlat)
        printf("reply latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", lat[nlat / 2],
               lat[nlat * 99 / 100], lat[nlat - 1]);

    /* One user with a year of history, a day at a time on the test clock. */
    mu_client *admin = cl_connect(y, &s);
    free(cl_login(y, admin, "admin", PW));
    mu_client *c = cl_connect(y, &s);
    free(cl_register(y, c, "yearlong", PW, NULL));
    for (int d = 0; d < 365; d++) {
        mu_req *r = mu_req_new("checkin.submit");
        mu_req_int(r, "tz", 0);
        mu_req_int(r, "mood", d % 11);
        mu_req_int(r, "craving", (d * 7) % 11);
        call_expect(y, c, r, "ok");
        r = mu_req_new("test.clock");
        mu_req_int(r, "advance", 86400);
        call_expect(y, admin, r, "ok");
    }
    double sl[200];
    for (int i = 0; i < 200; i++) {
        mu_req *r = mu_req_new("checkin.summary");
        mu_req_int(r, "days", 365);
        double t = mono_ms();
        mu_msg *m = cl_call(y, c, r);
        sl[i] = mono_ms() - t;
        if (i == 0 && mu_value_get_int(mu_msg_root(m), "count", 0) != 364)
            printf("(summary count %lld)\n",
                   (long long)mu_value_get_int(mu_msg_root(m), "count", 0));
        mu_msg_free(m);
    }
    qsort(sl, 200, sizeof(sl[0]), cmp);
    printf("checkin.summary over 365 days of history: p50 %.3f ms, p99 %.3f ms (round trip)\n",
           sl[100], sl[198]);
    free(lat);
    free(users);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
    return 0;
}
