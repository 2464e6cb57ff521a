/* The SQL of alerts (see store_alerts.h). Layer: storage, over the base. */
#include "store_alerts.h"

#include <stdio.h>

/* The columns every alert query selects, in the order read_row reads them. */
#define ALERT_COLS                                                                            \
    "a.id, a.user_id, a.ts, a.kind, u.handle, a.detail, a.open, a.escalated_ts IS NOT NULL, " \
    "coalesce(a.mentor_id, 0) FROM alerts a JOIN users u ON u.id = a.user_id "

static void read_row(db_stmt *st, alert_row *a)
{
    a->id = db_col_i64(st, 0);
    a->user_id = db_col_i64(st, 1);
    a->ts = db_col_i64(st, 2);
    snprintf(a->kind, sizeof(a->kind), "%s", db_col_text(st, 3));
    snprintf(a->handle, sizeof(a->handle), "%s", db_col_text(st, 4));
    snprintf(a->detail, sizeof(a->detail), "%s", db_col_text(st, 5));
    a->open = db_col_int(st, 6) != 0;
    a->escalated = db_col_int(st, 7) != 0;
    a->mentor_id = db_col_i64(st, 8);
}

/* Steps a bound query of ALERT_COLS to its end, each row to fn: rows seen, -1 on error. */
static int each_row(db_stmt *st, alert_fn fn, void *ud)
{
    int rc, n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        alert_row a;
        read_row(st, &a);
        fn(&a, ud);
        n++;
    }
    return store_read_done(st, rc, n);
}

int store_alerts_of_mentor(mu_reader *r, int64_t mentor, bool open_only, alert_fn fn, void *ud)
{
    db_stmt *st = store_rstmt(r, "SELECT " ALERT_COLS "WHERE a.mentor_id = ? AND "
                                 "(a.open = 1 OR ? = 0) ORDER BY a.id");
    if (!st)
        return -1;
    db_bind_i64(st, 1, mentor);
    db_bind_int(st, 2, open_only ? 1 : 0);
    return each_row(st, fn, ud);
}

int store_alerts_escalated(mu_reader *r, bool open_only, alert_fn fn, void *ud)
{
    db_stmt *st = store_rstmt(r, "SELECT " ALERT_COLS "WHERE a.escalated_ts IS NOT NULL AND "
                                 "(a.open = 1 OR ? = 0) ORDER BY a.id");
    if (!st)
        return -1;
    db_bind_int(st, 1, open_only ? 1 : 0);
    return each_row(st, fn, ud);
}

int store_alerts_open_count(mu_reader *r, int64_t mentor, int64_t user)
{
    db_stmt *st = store_rstmt(r, "SELECT count(*) FROM alerts "
                                 "WHERE user_id = ? AND mentor_id = ? AND open = 1");
    if (st) {
        db_bind_i64(st, 1, user);
        db_bind_i64(st, 2, mentor);
    }
    return (int)store_count(st);
}

int store_alerts_owner_w(mu_wtx *w, int64_t id, int64_t *mentor, bool *escalated)
{
    db_stmt *st = store_wstmt(w, "SELECT coalesce(mentor_id, 0), escalated_ts IS NOT NULL "
                                 "FROM alerts WHERE id = ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, id);
    int rc = db_step(st), found = 0;
    if (rc == DB_ROW) {
        *mentor = db_col_i64(st, 0);
        *escalated = db_col_int(st, 1) != 0;
        found = 1;
    }
    return store_read_done(st, rc, found);
}

/* ---- writer ------------------------------------------------------------------------------ */

mu_code store_alerts_insert(mu_wtx *w, int64_t user, int64_t mentor, const char *kind, int64_t ts,
                            const char *detail, int64_t *id)
{
    db_stmt *st = store_wstmt(w, "INSERT INTO alerts (user_id, mentor_id, kind, ts, detail, "
                                 "escalated_ts) VALUES (?, ?, ?, ?, ?, ?) RETURNING id");
    if (st) {
        db_bind_i64(st, 1, user);
        if (mentor) {
            db_bind_i64(st, 2, mentor);
            db_bind_null(st, 6);
        } else {
            db_bind_null(st, 2);
            db_bind_i64(st, 6, ts);
        }
        db_bind_text(st, 3, kind, -1);
        db_bind_i64(st, 4, ts);
        db_bind_text(st, 5, detail, -1);
    }
    return store_step_id(st, id);
}

int store_alerts_due(mu_wtx *w, int64_t due, int64_t help_due, alert_fn fn, void *ud)
{
    /* The first bound lets the partial index alerts_due narrow the scan to the oldest. */
    db_stmt *st = store_wstmt(
        w, "SELECT " ALERT_COLS "WHERE a.open = 1 AND a.escalated_ts IS NULL AND a.ts <= ?3 "
           "AND a.ts <= CASE a.kind WHEN 'help_requested' THEN CAST(?2 AS BIGINT) "
           "ELSE CAST(?1 AS BIGINT) END ORDER BY a.id");
    if (!st)
        return -1;
    db_bind_i64(st, 1, due);
    db_bind_i64(st, 2, help_due);
    db_bind_i64(st, 3, due > help_due ? due : help_due);
    return each_row(st, fn, ud);
}

mu_code store_alerts_mark_escalated(mu_wtx *w, int64_t id, int64_t ts)
{
    db_stmt *st = store_wstmt(w, "UPDATE alerts SET escalated_ts = ? "
                                 "WHERE id = ? AND escalated_ts IS NULL AND open = 1");
    if (st) {
        db_bind_i64(st, 1, ts);
        db_bind_i64(st, 2, id);
    }
    mu_code c = store_step(st);
    return c == MU_OK && db_changes(store_wdb(w)) == 0 ? MU_E_CONFLICT : c;
}

static void copy_row(const alert_row *a, void *ud)
{
    *(alert_row *)ud = *a;
}

int store_alerts_get_w(mu_wtx *w, int64_t id, alert_row *out)
{
    db_stmt *st = store_wstmt(w, "SELECT " ALERT_COLS "WHERE a.id = ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, id);
    return each_row(st, copy_row, out);
}

int store_alerts_after_w(mu_wtx *w, int64_t after, unsigned limit, alert_fn fn, void *ud)
{
    db_stmt *st = store_wstmt(w, "SELECT " ALERT_COLS "WHERE a.id > ? ORDER BY a.id LIMIT ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, after);
    db_bind_i64(st, 2, limit);
    return each_row(st, fn, ud);
}

int64_t store_alerts_max_id(mu_reader *r)
{
    return store_count(store_rstmt(r, "SELECT coalesce(max(id), 0) FROM alerts"));
}

mu_code store_alerts_close(mu_wtx *w, int64_t id, int64_t ts)
{
    db_stmt *st = store_wstmt(w, "UPDATE alerts SET open = 0, closed_ts = ?, "
                                 "acked = 1 WHERE id = ? AND open = 1");
    if (st) {
        db_bind_i64(st, 1, ts);
        db_bind_i64(st, 2, id);
    }
    return store_step(st);
}

int store_alerts_open_kind(mu_wtx *w, int64_t user, int64_t mentor, const char *kind)
{
    /* Asked before raising one: in turn across nodes, so two at once raise one alert. */
    if (store_serialize(w, STORE_LOCK_HELP, user) != MU_OK)
        return -1;
    db_stmt *st = store_wstmt(
        w, "SELECT 1 FROM alerts WHERE user_id = ? AND mentor_id IS NOT DISTINCT FROM ? "
           "AND kind = ? AND open = 1 LIMIT 1");
    if (!st)
        return -1;
    db_bind_i64(st, 1, user);
    store_bind_id(st, 2, mentor);
    db_bind_text(st, 3, kind, -1);
    int rc = db_step(st);
    db_reset(st);
    return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

mu_code store_alerts_close_about(mu_wtx *w, int64_t user, int64_t mentor, int64_t ts)
{
    db_stmt *st = store_wstmt(w, "UPDATE alerts SET open = 0, closed_ts = ? "
                                 "WHERE user_id = ? AND mentor_id = ? AND open = 1");
    if (st) {
        db_bind_i64(st, 1, ts);
        db_bind_i64(st, 2, user);
        db_bind_i64(st, 3, mentor);
    }
    return store_step(st);
}

mu_code store_alerts_missed_candidates(mu_wtx *w, missed_fn fn, void *ud)
{
    db_stmt *st = store_wstmt(
        w, "SELECT a.user_id, a.mentor_id, "
           "  (SELECT day FROM checkins c WHERE c.user_id = a.user_id ORDER BY day DESC LIMIT 1),"
           "  (SELECT tz FROM checkins c WHERE c.user_id = a.user_id ORDER BY day DESC LIMIT 1), "
           "  u.handle "
           "FROM assignments a JOIN consent k ON k.user_id = a.user_id AND k.share <> 'none' "
           "JOIN users u ON u.id = a.user_id "
           "WHERE EXISTS (SELECT 1 FROM checkins c WHERE c.user_id = a.user_id)");
    if (!st)
        return MU_E_INTERNAL;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        missed_candidate m = {db_col_i64(st, 0), db_col_i64(st, 1), db_col_int(st, 2),
                              db_col_int(st, 3), ""};
        snprintf(m.handle, sizeof(m.handle), "%s", db_col_text(st, 4));
        /* already alerted for this gap? */
        db_stmt *q = store_wstmt(w, "SELECT for_day FROM missed_alerts WHERE user_id = ?");
        bool done = false;
        if (q) {
            db_bind_i64(q, 1, m.user);
            done = db_step(q) == DB_ROW && db_col_int(q, 0) == m.last_day;
            db_reset(q);
        }
        if (!done)
            fn(&m, ud);
    }
    db_reset(st);
    return rc == DB_DONE ? MU_OK : MU_E_INTERNAL;
}

mu_code store_alerts_missed_mark(mu_wtx *w, int64_t user, int32_t day)
{
    db_stmt *st = store_wstmt(w, "INSERT INTO missed_alerts (user_id, for_day) VALUES (?, ?) "
                                 "ON CONFLICT (user_id) DO UPDATE SET for_day = excluded.for_day");
    if (st) {
        db_bind_i64(st, 1, user);
        db_bind_int(st, 2, day);
    }
    return store_step(st);
}
