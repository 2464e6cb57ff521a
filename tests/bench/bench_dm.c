/* Benchmark: durable direct messages. N mentor-mentee pairs (default 200) exchange messages
 * for T seconds (default 10); every message is committed before its reply, which is when the
 * next one goes. Prints durable DMs/s and the reply latency p50/p99/max.
 * Usage: bench_dm [pairs] [seconds] */
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
#define CASELOAD 30
#define MENTOR_DEPTH 8

typedef struct sender {
    mu_client *c;
    const char **to; /* peers it writes to, round robin */
    int nto, next;
    double sent_at[MENTOR_DEPTH];
    int head, inflight, depth;
} sender;

static double *lat;
static size_t nlat, caplat;
static long done, failed;
static bool running = true;

static void on_reply(mu_client *c, const mu_msg *m, void *ud);

static void send_one(sender *s)
{
    mu_req *r = mu_req_new("dm.send");
    mu_req_str(r, "to", s->to[s->next]);
    s->next = (s->next + 1) % s->nto;
    mu_req_str(r, "text", "How are you doing today? Remember the group is at seven.");
    s->sent_at[(s->head + s->inflight) % MENTOR_DEPTH] = mono_ms();
    s->inflight++;
    mu_client_send(s->c, r, on_reply, s);
}

static void on_reply(mu_client *c, const mu_msg *m, void *ud)
{
    sender *s = ud;
    double t = mono_ms() - s->sent_at[s->head];
    s->head = (s->head + 1) % MENTOR_DEPTH;
    s->inflight--;
    if (!m || !mu_msg_ok(m)) {
        failed++;
    } else if (running) {
        done++;
        if (nlat == caplat) {
            caplat = caplat ? caplat * 2 : 65536;
            lat = grow(lat, caplat * sizeof(*lat));
        }
        lat[nlat++] = t;
    }
    if (running)
        send_one(s);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Registrations in parallel, one connection each. */
typedef struct {
    int pending;
} reg_state;

static void on_registered(mu_client *c, const mu_msg *m, void *ud)
{
    reg_state *st = ud;
    if (!m || !mu_msg_ok(m)) {
        fprintf(stderr, "registration failed: %s\n", m ? mu_msg_text(m) : "no reply");
        exit(1);
    }
    st->pending--;
}

int main(int argc, char **argv)
{
    int pairs = argc > 1 ? atoi(argv[1]) : 200;
    int secs = argc > 2 ? atoi(argv[2]) : 10;
    int nmentors = (pairs + CASELOAD - 1) / CASELOAD;
    srv_t s;
    srv_start(&s, NULL, 0);
    srv_user_add(&s, "admin", PW, "admin");
    char(*mentor_names)[32] = calloc((size_t)nmentors, 32);
    char(*mentee_names)[32] = calloc((size_t)pairs, 32);
    for (int i = 0; i < nmentors; i++) {
        snprintf(mentor_names[i], 32, "mentor%d", i);
        srv_user_add(&s, mentor_names[i], PW, "mentor");
    }
    mu_sync *y = mu_sync_new();
    mu_client *admin = cl_connect(y, &s);
    free(cl_login(y, admin, "admin", PW));

    sender *mentees = calloc((size_t)pairs, sizeof(*mentees));
    const char **mentee_peer = calloc((size_t)pairs, sizeof(char *));
    reg_state rs = {pairs};
    for (int i = 0; i < pairs; i++) {
        snprintf(mentee_names[i], 32, "mentee%d", i);
        mentees[i].c = cl_connect(y, &s);
        mu_req *r = mu_req_new("register");
        mu_req_str(r, "handle", mentee_names[i]);
        mu_req_str(r, "password", PW);
        mu_client_send(mentees[i].c, r, on_registered, &rs);
    }
    while (rs.pending)
        mu_sync_run(y, 10);
    for (int i = 0; i < pairs; i++) {
        mu_req *r = mu_req_new("mentor.assign");
        mu_req_str(r, "mentor", mentor_names[i / CASELOAD]);
        mu_req_str(r, "user", mentee_names[i]);
        call_expect(y, admin, r, "ok");
        mentee_peer[i] = mentor_names[i / CASELOAD];
        mentees[i].to = &mentee_peer[i];
        mentees[i].nto = 1;
    }
    /* Each mentor writes to its mentees round robin, a few messages in flight at a time. */
    sender *mentors = calloc((size_t)nmentors, sizeof(*mentors));
    const char **all_mentees = calloc((size_t)pairs, sizeof(char *));
    for (int i = 0; i < pairs; i++)
        all_mentees[i] = mentee_names[i];
    for (int i = 0; i < nmentors; i++) {
        mentors[i].c = cl_connect(y, &s);
        free(cl_login(y, mentors[i].c, mentor_names[i], PW));
        mentors[i].to = &all_mentees[(size_t)i * CASELOAD];
        mentors[i].nto = (i + 1) * CASELOAD <= pairs ? CASELOAD : pairs - i * CASELOAD;
    }

    double t0 = mono_ms();
    for (int i = 0; i < pairs; i++)
        send_one(&mentees[i]);
    for (int i = 0; i < nmentors; i++)
        for (int k = 0; k < MENTOR_DEPTH; k++)
            send_one(&mentors[i]);
    mu_sync_run(y, secs * 1000);
    running = false;
    double elapsed = (mono_ms() - t0) / 1000.0;
    mu_sync_run(y, 500); /* let what is in flight land */

    char *body;
    http_get(s.port, "/metrics", &body);
    const char *b = strstr(body, "mutual_writer_batch_jobs_sum ");
    const char *c = strstr(body, "mutual_writer_batch_jobs_count ");
    double jobs = b ? atof(b + 29) : 0, batches = c ? atof(c + 31) : 0;
    free(body);

    qsort(lat, nlat, sizeof(*lat), cmp);
    printf("bench_dm: %d pairs (%d mentors), %.1f s, synchronous=full\n", pairs, nmentors, elapsed);
    printf("durable DMs: %ld committed and acknowledged, %.0f/s, %ld failed\n", done,
           (double)done / elapsed, failed);
    if (nlat)
        printf("reply latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", lat[nlat / 2],
               lat[nlat * 99 / 100], lat[nlat - 1]);
    printf("writer: %.1f jobs per commit on average\n", batches ? jobs / batches : 0);
    free(lat);
    free(mentees);
    free(mentors);
    free(mentee_peer);
    free(all_mentees);
    free(mentor_names);
    free(mentee_names);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
    return 0;
}
