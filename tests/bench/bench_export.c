/* Benchmark: me.export of a user with a long history. Builds, straight into the database of a
 * running server, D days (default 1095: three years) of daily check-ins with notes, DMS_PER_DAY
 * messages a day each way with the user's mentor, and one alert a day; then asks for the export
 * and prints its size, the time to the reply and the server's peak and current resident
 * memory before and after, and the longest ping round trip another connection saw while the
 * export was being built (the loop must go on serving others meanwhile).
 * Usage: bench_export [days]; BENCH_EXPORT_CONFIG adds settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

#define PW "benchmark password"
#define DMS_PER_DAY 4
#define DM_BYTES 400
#define NOTE_BYTES 600

/* A field of /proc/PID/status in kB ("VmHWM:" the peak resident set, "VmRSS:" the current). */
static long status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, field, strlen(field)))
            kb = atol(line + strlen(field));
    fclose(f);
    return kb;
}

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
        exit(1);
    }
}

static void fill(const char *path, int days)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        exit(1);
    sqlite3_busy_timeout(db, 10000);
    exec_sql(db, "BEGIN IMMEDIATE");
    exec_sql(db,
             "INSERT INTO assignments (user_id, mentor_id, since_ts) SELECT u.id, m.id, 0 "
             "FROM users u, users m WHERE u.handle = 'longtimer' AND m.handle = 'mentor.bench'");
    exec_sql(db, "INSERT OR IGNORE INTO dm_threads (lo_id, hi_id) SELECT min(u.id, m.id), "
                 "max(u.id, m.id) FROM users u, users m WHERE u.handle = 'longtimer' AND "
                 "m.handle = 'mentor.bench'");
    char note[NOTE_BYTES + 1], text[DM_BYTES + 1];
    memset(note, 'n', NOTE_BYTES);
    note[NOTE_BYTES] = 0;
    memset(text, 't', DM_BYTES);
    text[DM_BYTES] = 0;
    sqlite3_stmt *ci, *dm, *al;
    sqlite3_prepare_v2(db,
                       "INSERT INTO checkins (user_id, day, tz, ts, mood, craving, sleep, "
                       "use, stage, note, flags) SELECT id, ?, 0, ?, 5, 8, 6, 'none', "
                       "'action', ?, 1 FROM users WHERE handle = 'longtimer'",
                       -1, &ci, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO dms (lo_id, hi_id, from_id, to_id, ts, text, read) "
                       "SELECT min(u.id, m.id), max(u.id, m.id), CASE ?1 WHEN 0 THEN u.id "
                       "ELSE m.id END, CASE ?1 WHEN 0 THEN m.id ELSE u.id END, ?2, ?3, 1 "
                       "FROM users u, users m WHERE u.handle = 'longtimer' AND "
                       "m.handle = 'mentor.bench'",
                       -1, &dm, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO alerts (user_id, mentor_id, kind, ts, detail, open, "
                       "closed_ts) SELECT u.id, m.id, 'high_craving', ?, 'Craving at 8 of 10 "
                       "in today''s check-in.', 0, ? FROM users u, users m WHERE "
                       "u.handle = 'longtimer' AND m.handle = 'mentor.bench'",
                       -1, &al, NULL);
    int32_t first = 20000; /* 2024-10-04 */
    for (int d = 0; d < days; d++) {
        int64_t ts = (int64_t)(first + d) * 86400000 + 9 * (int64_t)3600000;
        sqlite3_bind_int(ci, 1, first + d);
        sqlite3_bind_int64(ci, 2, ts);
        sqlite3_bind_text(ci, 3, note, -1, SQLITE_STATIC);
        sqlite3_step(ci);
        sqlite3_reset(ci);
        for (int k = 0; k < 2 * DMS_PER_DAY; k++) {
            sqlite3_bind_int(dm, 1, k % 2);
            sqlite3_bind_int64(dm, 2, ts + k * (int64_t)60000);
            sqlite3_bind_text(dm, 3, text, -1, SQLITE_STATIC);
            sqlite3_step(dm);
            sqlite3_reset(dm);
        }
        sqlite3_bind_int64(al, 1, ts);
        sqlite3_bind_int64(al, 2, ts + 3600000);
        sqlite3_step(al);
        sqlite3_reset(al);
    }
    sqlite3_finalize(ci);
    sqlite3_finalize(dm);
    sqlite3_finalize(al);
    exec_sql(db, "COMMIT");
    sqlite3_close(db);
}

typedef struct {
    bool done, ok;
    double done_ms, mb;
    size_t checkins, dms, alerts;
    char err[256];
} export_result;

/* The reply is the callback's to read only: what is printed is taken from it here. */
static void on_export(mu_client *c, const mu_msg *m, void *ud)
{
    export_result *x = ud;
    x->done = true;
    x->done_ms = mono_ms();
    x->ok = m && mu_msg_ok(m);
    if (!x->ok) {
        snprintf(x->err, sizeof(x->err), "%s", m && mu_msg_text(m) ? mu_msg_text(m) : "no reply");
        return;
    }
    char *json = mu_value_to_json(mu_msg_root(m), 0);
    x->mb = (double)strlen(json) / 1e6;
    free(json);
    x->checkins = mu_value_len(mu_msg_get(m, "checkins"));
    x->dms = mu_value_len(mu_msg_get(m, "dms"));
    x->alerts = mu_value_len(mu_msg_get(m, "alerts"));
}

int main(int argc, char **argv)
{
    int days = argc > 1 ? atoi(argv[1]) : 1095;
    srv_t s;
    srv_start(&s, getenv("BENCH_EXPORT_CONFIG"), 0);
    srv_user_add(&s, "longtimer", PW, "member");
    srv_user_add(&s, "mentor.bench", PW, "mentor");
    fill(s.db, days);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_signed_in(y, &s, "longtimer", PW);
    mu_client *pinger = cl_signed_in(y, &s, "mentor.bench", PW);
    long before = status_kb(s.pid, "VmHWM:"), rss_before = status_kb(s.pid, "VmRSS:");
    double t0 = mono_ms();
    export_result x = {0};
    if (mu_client_send(c, mu_req_new("me.export"), on_export, &x) == 0)
        return 1;
    double worst = 0;
    int pings = 0;
    while (!x.done && mono_ms() - t0 < 120000) {
        double p0 = mono_ms();
        mu_msg *pong = mu_sync_call(y, pinger, mu_req_new("ping"), 10000);
        double rtt = mono_ms() - p0;
        if (!x.done) { /* only pings answered while the export was under way count */
            worst = rtt > worst ? rtt : worst;
            pings++;
        }
        mu_msg_free(pong);
    }
    long after = status_kb(s.pid, "VmHWM:"), rss_after = status_kb(s.pid, "VmRSS:");
    if (!x.ok) {
        fprintf(stderr, "me.export failed: %s\n", x.done ? x.err : "no reply in 120 s");
        srv_cleanup(&s);
        return 1;
    }
    printf("me.export of %d days: %zu check-ins, %zu DMs, %zu alerts; %.1f MB as JSON; "
           "%.0f ms to the reply; server peak RSS %.1f MB before, %.1f MB after "
           "(current RSS %.1f MB before, %.1f MB after; the peak before is Argon2id's); "
           "meanwhile %d pings on another connection, the slowest %.2f ms\n",
           days, x.checkins, x.dms, x.alerts, x.mb, x.done_ms - t0, (double)before / 1024,
           (double)after / 1024, (double)rss_before / 1024, (double)rss_after / 1024, pings, worst);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
    return 0;
}
