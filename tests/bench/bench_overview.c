/* Benchmark: mentors.overview over a year of alerts. Builds a database with M mentors
 * (default 100), each with a caseload of 30, and A alerts (default 50,000) spread over the
 * last 365 days, most acknowledged; then times the op end to end over a real WebSocket.
 * Usage: bench_overview [mentors] [alerts] */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

#define PW "benchmark password"
#define CASELOAD 30

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_overview: %s\n", msg);
        exit(1);
    }
}

static void populate(const char *path, int mentors, int alerts)
{
    sqlite3 *db;
    sqlite3_stmt *u, *a, *al;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        exit(1);
    exec(db, "BEGIN");
    sqlite3_prepare_v2(db,
                       "INSERT INTO users (id, handle, role, pwhash, created_ts) "
                       "VALUES (?, ?, ?, 'x', 0)",
                       -1, &u, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO assignments (user_id, mentor_id, since_ts) "
                       "VALUES (?, ?, 0)",
                       -1, &a, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO alerts (user_id, mentor_id, kind, ts, detail, open, "
                       "closed_ts, acked) VALUES (?, ?, 'high_craving', ?, 'd', ?, ?, ?)",
                       -1, &al, NULL);
    int64_t now = (int64_t)time(NULL) * 1000, year = 365LL * 86400000;
    char h[40];
    int first_user = 1000, first_mentor = 100000;
    for (int m = 0; m < mentors; m++) {
        snprintf(h, sizeof(h), "mentor.%03d", m);
        sqlite3_bind_int(u, 1, first_mentor + m);
        sqlite3_bind_text(u, 2, h, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(u, 3, "mentor", -1, SQLITE_STATIC);
        sqlite3_step(u);
        sqlite3_reset(u);
        for (int i = 0; i < CASELOAD; i++) {
            int id = first_user + m * CASELOAD + i;
            snprintf(h, sizeof(h), "member.%05d", id);
            sqlite3_bind_int(u, 1, id);
            sqlite3_bind_text(u, 2, h, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(u, 3, "member", -1, SQLITE_STATIC);
            sqlite3_step(u);
            sqlite3_reset(u);
            sqlite3_bind_int(a, 1, id);
            sqlite3_bind_int(a, 2, first_mentor + m);
            sqlite3_step(a);
            sqlite3_reset(a);
        }
    }
    srand(15);
    for (int i = 0; i < alerts; i++) {
        int m = rand() % mentors;
        int64_t ts = now - (int64_t)((double)rand() / RAND_MAX * (double)year);
        bool acked = rand() % 10 < 8;
        sqlite3_bind_int(al, 1, first_user + m * CASELOAD + rand() % CASELOAD);
        sqlite3_bind_int(al, 2, first_mentor + m);
        sqlite3_bind_int64(al, 3, ts);
        sqlite3_bind_int(al, 4, !acked);
        if (acked)
            sqlite3_bind_int64(al, 5, ts + (1 + rand() % 180) * 60000LL);
        else
            sqlite3_bind_null(al, 5);
        sqlite3_bind_int(al, 6, acked);
        sqlite3_step(al);
        sqlite3_reset(al);
    }
    sqlite3_finalize(u);
    sqlite3_finalize(a);
    sqlite3_finalize(al);
    exec(db, "COMMIT");
    exec(db, "ANALYZE");
    sqlite3_close(db);
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static int mentors_n = 100, alerts_n = 50000;

static void bench(void **st)
{
    (void)st;
    srv_t s;
    srv_start(&s, NULL, 0); /* creates and migrates the database */
    srv_stop(&s);
    populate(s.db, mentors_n, alerts_n);
    srv_user_add(&s, "admin", PW, "admin");
    srv_restart(&s);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_signed_in(y, &s, "admin", PW);
    enum { RUNS = 21 };
    double t[RUNS];
    for (int i = 0; i < RUNS; i++) {
        double t0 = mono_ms();
        mu_msg *m = cl_call(y, c, mu_req_new("mentors.overview"));
        t[i] = mono_ms() - t0;
        expect_ok(m);
        assert_int_equal(mu_value_len(mu_msg_get(m, "mentors")), mentors_n);
        mu_msg_free(m);
    }
    qsort(t, RUNS, sizeof(t[0]), cmp_d);
    printf("mentors.overview, %d mentors, %d alerts over 365 days: median %.2f ms, "
           "max %.2f ms (%d runs, end to end over a WebSocket)\n",
           mentors_n, alerts_n, t[RUNS / 2], t[RUNS - 1], RUNS);
    mu_client_free(c);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        mentors_n = atoi(argv[1]);
    if (argc > 2)
        alerts_n = atoi(argv[2]);
    const struct CMUnitTest tests[] = {cmocka_unit_test(bench)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
