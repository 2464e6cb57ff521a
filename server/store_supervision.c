/* Supervision figures (see store_supervision.h). Each figure is one index seek per mentor
 * (alerts_mentor, alerts_raised, alerts_acked), so the cost grows with the mentors and the
 * last 30 days' alerts, not with a year of history. Layer: storage. */
#include "db.h"

#include "store_supervision.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

#define DAYS_30_MS (30 * 86400000LL)

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A prepared statement's single integer result for one mentor; -1 on error. */
static int64_t one(db_stmt *st, int64_t mentor)
{
    db_reset(st);
    db_bind_i64(st, 1, mentor);
    int64_t v = db_step(st) == DB_ROW ? db_col_i64(st, 0) : -1;
    db_reset(st);
    return v;
}

int store_supervision_overview(db_conn *db, int64_t now, const escalation_rule *rule,
                               mentor_load_fn fn, void *ud)
{
    static const char *const sql[] = {
        "SELECT id, handle FROM users WHERE role = 'mentor' ORDER BY handle",
        "SELECT count(*) FROM assignments WHERE mentor_id = ?1",
        "SELECT count(*) FROM alerts WHERE mentor_id = ?1 AND open = 1",
        /* Parenthesised: one string each, written over several lines (not a lost comma). */
        ("SELECT count(*), coalesce(sum(CASE WHEN coalesce(closed_ts, ?2) - ts >= CASE kind WHEN "
         "'help_requested' THEN CAST(?4 AS BIGINT) ELSE CAST(?3 AS BIGINT) END THEN 1 ELSE 0 END), "
         "0) FROM alerts WHERE mentor_id = ?1 AND ts >= ?5"),
        ("SELECT closed_ts - ts FROM alerts WHERE mentor_id = ?1 AND acked = 1 AND "
         "closed_ts >= ?2"),
    };
    enum { N = sizeof(sql) / sizeof(sql[0]) };
    db_stmt *st[N] = {NULL};
    int result = -1, count = 0;
    int64_t *spans = NULL;
    size_t cap = 0;
    for (int i = 0; i < N; i++) {
        if (!(st[i] = db_prepare(db, sql[i]))) {
            log_error("supervision query failed to prepare: %s", db_errmsg(db));
            goto cleanup;
        }
    }
    db_bind_i64(st[3], 2, now);
    db_bind_i64(st[3], 3, rule->after_ms);
    db_bind_i64(st[3], 4, rule->help_after_ms);
    db_bind_i64(st[3], 5, now - DAYS_30_MS);
    db_bind_i64(st[4], 2, now - DAYS_30_MS);
    int rc;
    while ((rc = db_step(st[0])) == DB_ROW) {
        mentor_load m;
        memset(&m, 0, sizeof(m));
        int64_t id = db_col_i64(st[0], 0);
        const char *h = db_col_text(st[0], 1);
        strncpy(m.handle, h ? h : "", MU_HANDLE_MAX);
        m.caseload = one(st[1], id);
        m.open_alerts = one(st[2], id);
        db_reset(st[3]);
        db_bind_i64(st[3], 1, id);
        if (m.caseload < 0 || m.open_alerts < 0 || db_step(st[3]) != DB_ROW)
            goto failed;
        m.alerts_30d = db_col_i64(st[3], 0);
        m.escalated_30d = db_col_i64(st[3], 1);
        db_reset(st[3]);
        db_reset(st[4]);
        db_bind_i64(st[4], 1, id);
        size_t n = 0;
        int r4;
        while ((r4 = db_step(st[4])) == DB_ROW) {
            if (n == cap)
                spans = xrealloc(spans, (cap = cap ? cap * 2 : 256) * sizeof(*spans));
            spans[n++] = db_col_i64(st[4], 0);
        }
        if (r4 != DB_DONE)
            goto failed;
        if (n) {
            qsort(spans, n, sizeof(*spans), cmp_i64);
            m.has_median = true;
            m.median_ack_ms_30d = n % 2 ? spans[n / 2] : (spans[n / 2 - 1] + spans[n / 2]) / 2;
        }
        fn(&m, ud);
        count++;
    }
    if (rc != DB_DONE)
        goto failed;
    result = count;
    goto cleanup;
failed:
    log_error("supervision figures could not be read: %s", db_errmsg(db));
cleanup:
    for (int i = 0; i < N; i++)
        db_finalize(st[i]);
    free(spans);
    return result;
}
