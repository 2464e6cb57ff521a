/* The SQL of check-ins and consent (see store_checkins.h). Layer: storage, over the base. */
#include "store_checkins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

static const char *const shares[] = {"none", "alerts", "scores"};

const char *share_name(share_level s)
{
    return (unsigned)s < 3 ? shares[s] : "none";
}

static share_level share_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (s && !strcmp(s, shares[i]))
            return (share_level)i;
    return SHARE_NONE;
}

static int latest(db_stmt *st, int64_t user, int32_t *day, int *tz)
{
    if (!st)
        return -1;
    db_bind_i64(st, 1, user);
    int rc = db_step(st), found = 0;
    if (rc == DB_ROW) {
        *day = db_col_int(st, 0);
        if (tz)
            *tz = db_col_int(st, 1);
        found = 1;
    }
    return store_read_done(st, rc, found);
}

#define LATEST_SQL "SELECT day, tz FROM checkins WHERE user_id = ? ORDER BY day DESC LIMIT 1"

int store_checkins_latest(mu_reader *r, int64_t user, int32_t *day, int *tz)
{
    return latest(store_rstmt(r, LATEST_SQL), user, day, tz);
}

int store_checkins_latest_w(mu_wtx *w, int64_t user, int32_t *day, int *tz)
{
    return latest(store_wstmt(w, LATEST_SQL), user, day, tz);
}

int store_checkins_days(mu_reader *r, int64_t user, int32_t **days, size_t *n)
{
    db_stmt *st = store_rstmt(r, "SELECT day FROM checkins WHERE user_id = ? ORDER BY day");
    *days = NULL;
    *n = 0;
    if (!st)
        return -1;
    db_bind_i64(st, 1, user);
    size_t cap = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            int32_t *v = xrealloc(*days, cap * sizeof(**days));
            *days = v;
        }
        (*days)[(*n)++] = db_col_int(st, 0);
    }
    return store_read_done(st, rc, 0);
}

static int col_int(db_stmt *st, int i)
{
    return db_col_null(st, i) ? -1 : db_col_int(st, i);
}

static const void *col_blob(db_stmt *st, int i, size_t *len)
{
    *len = (size_t)db_col_bytes(st, i);
    return db_col_null(st, i) ? NULL : db_col_blob(st, i);
}

#define RANGE_SQL                                                                    \
    "SELECT day, tz, ts, mood, craving, sleep, use, stage, who5, who5_pct, barc10, " \
    "barc10_total, triggers, note, flags FROM checkins "                             \
    "WHERE user_id = ? AND day >= ? AND day <= ? ORDER BY day"

static int range(db_stmt *st, int64_t user, int32_t from, int32_t to, checkin_fn fn, void *ud)
{
    if (!st)
        return -1;
    db_bind_i64(st, 1, user);
    db_bind_int(st, 2, from);
    db_bind_int(st, 3, to);
    int rc, n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        checkin_row r;
        r.day = db_col_int(st, 0);
        r.tz = db_col_int(st, 1);
        r.ts = db_col_i64(st, 2);
        r.mood = db_col_int(st, 3);
        r.craving = col_int(st, 4);
        r.sleep = col_int(st, 5);
        r.use = db_col_text(st, 6);
        r.stage = db_col_text(st, 7);
        r.who5 = col_blob(st, 8, &r.who5_len);
        r.who5_pct = col_int(st, 9);
        r.barc10 = col_blob(st, 10, &r.barc10_len);
        r.barc10_total = col_int(st, 11);
        r.triggers = col_blob(st, 12, &r.triggers_len);
        r.note = db_col_text(st, 13);
        r.note_len = (size_t)db_col_bytes(st, 13);
        r.flags = (unsigned)db_col_int(st, 14);
        fn(&r, ud);
        n++;
    }
    return store_read_done(st, rc, n);
}

int store_checkins_range(mu_reader *r, int64_t user, int32_t from, int32_t to, checkin_fn fn,
                         void *ud)
{
    return range(store_rstmt(r, RANGE_SQL), user, from, to, fn, ud);
}

int store_checkins_range_w(mu_wtx *w, int64_t user, int32_t from, int32_t to, checkin_fn fn,
                           void *ud)
{
    return range(store_wstmt(w, RANGE_SQL), user, from, to, fn, ud);
}

static share_level consent_from(db_stmt *st, int64_t user)
{
    if (!st)
        return SHARE_NONE;
    db_bind_i64(st, 1, user);
    share_level s = SHARE_NONE;
    if (db_step(st) == DB_ROW)
        s = share_parse(db_col_text(st, 0));
    db_reset(st);
    return s;
}

share_level store_checkins_consent(mu_reader *r, int64_t user)
{
    return consent_from(store_rstmt(r, "SELECT share FROM consent WHERE user_id = ?"), user);
}

share_level store_checkins_consent_w(mu_wtx *w, int64_t user)
{
    return consent_from(store_wstmt(w, "SELECT share FROM consent WHERE user_id = ?"), user);
}

/* ---- writer ------------------------------------------------------------------------------ */

static void bind_blob(db_stmt *st, int i, const void *p, size_t n)
{
    if (p)
        db_bind_blob(st, i, p, (int)n);
    else
        db_bind_null(st, i);
}

static void bind_opt_int(db_stmt *st, int i, int v)
{
    if (v >= 0)
        db_bind_int(st, i, v);
    else
        db_bind_null(st, i);
}

/* The running streak after a check-in on `day`, which is never before the latest one. */
static mu_code streak_put(mu_wtx *w, int64_t user, int32_t day, int *streak)
{
    db_stmt *st = store_wstmt(w, "SELECT last_day, current, best FROM streaks WHERE user_id = ?");
    if (!st)
        return MU_E_INTERNAL;
    db_bind_i64(st, 1, user);
    int rc = db_step(st);
    int cur = 1, best = 1;
    if (rc == DB_ROW) {
        int32_t last = db_col_int(st, 0);
        int was = db_col_int(st, 1);
        best = db_col_int(st, 2);
        cur = day == last ? was : day == last + 1 ? was + 1 : 1;
    }
    if (store_read_done(st, rc, 0) < 0)
        return MU_E_INTERNAL;
    if (cur > best)
        best = cur;
    st =
        store_wstmt(w, "INSERT INTO streaks (user_id, last_day, current, best) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (user_id) DO UPDATE SET last_day = excluded.last_day, "
                       "current = excluded.current, best = excluded.best");
    if (st) {
        db_bind_i64(st, 1, user);
        db_bind_int(st, 2, day);
        db_bind_int(st, 3, cur);
        db_bind_int(st, 4, best);
    }
    *streak = cur;
    return store_step(st);
}

mu_code store_checkins_put(mu_wtx *w, const checkin_in *c, unsigned *alerted, int *streak)
{
    int32_t last = 0;
    int f = latest(store_wstmt(w, LATEST_SQL), c->user, &last, NULL);
    if (f < 0)
        return MU_E_INTERNAL;
    if (f && c->day < last)
        return MU_E_CONFLICT;
    *alerted = 0;
    db_stmt *st = store_wstmt(w, "SELECT alerted FROM checkins WHERE user_id = ? AND day = ?");
    if (!st)
        return MU_E_INTERNAL;
    db_bind_i64(st, 1, c->user);
    db_bind_int(st, 2, c->day);
    if (db_step(st) == DB_ROW)
        *alerted = (unsigned)db_col_int(st, 0);
    db_reset(st);
    st = store_wstmt(w, "INSERT INTO checkins (user_id, day, tz, ts, mood, craving, sleep, use, "
                        "stage, who5, who5_pct, barc10, barc10_total, triggers, note, flags, "
                        "alerted) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                        "ON CONFLICT (user_id, day) DO UPDATE SET tz = excluded.tz, "
                        "ts = excluded.ts, mood = excluded.mood, craving = excluded.craving, "
                        "sleep = excluded.sleep, use = excluded.use, stage = excluded.stage, "
                        "who5 = excluded.who5, who5_pct = excluded.who5_pct, "
                        "barc10 = excluded.barc10, barc10_total = excluded.barc10_total, "
                        "triggers = excluded.triggers, note = excluded.note, "
                        "flags = excluded.flags, alerted = excluded.alerted");
    if (!st)
        return MU_E_INTERNAL;
    db_bind_i64(st, 1, c->user);
    db_bind_int(st, 2, c->day);
    db_bind_int(st, 3, c->tz);
    db_bind_i64(st, 4, c->ts);
    db_bind_int(st, 5, c->mood);
    bind_opt_int(st, 6, c->craving);
    bind_opt_int(st, 7, c->sleep);
    if (c->use)
        db_bind_text(st, 8, c->use, -1);
    if (c->stage)
        db_bind_text(st, 9, c->stage, -1);
    bind_blob(st, 10, c->who5, c->who5_len);
    bind_opt_int(st, 11, c->who5_pct);
    bind_blob(st, 12, c->barc10, c->barc10_len);
    bind_opt_int(st, 13, c->barc10_total);
    bind_blob(st, 14, c->triggers, c->triggers_len);
    if (c->note)
        db_bind_text(st, 15, c->note, (int)c->note_len);
    db_bind_int(st, 16, (int)c->flags);
    db_bind_int(st, 17, (int)*alerted);
    mu_code r = store_step(st);
    return r == MU_OK ? streak_put(w, c->user, c->day, streak) : r;
}

mu_code store_checkins_set_alerted(mu_wtx *w, int64_t user, int32_t day, unsigned alerted)
{
    db_stmt *st = store_wstmt(w, "UPDATE checkins SET alerted = ? WHERE user_id = ? AND day = ?");
    if (st) {
        db_bind_int(st, 1, (int)alerted);
        db_bind_i64(st, 2, user);
        db_bind_int(st, 3, day);
    }
    return store_step(st);
}

mu_code store_checkins_consent_put(mu_wtx *w, int64_t user, share_level s, int64_t ts)
{
    db_stmt *st = store_wstmt(w, "INSERT INTO consent (user_id, share, ts) VALUES (?, ?, ?) "
                                 "ON CONFLICT (user_id) DO UPDATE SET share = excluded.share, "
                                 "ts = excluded.ts");
    if (st) {
        db_bind_i64(st, 1, user);
        db_bind_text(st, 2, share_name(s), -1);
        db_bind_i64(st, 3, ts);
    }
    mu_code c = store_step(st);
    if (c != MU_OK)
        return c;
    st = store_wstmt(w, "INSERT INTO consent_history (user_id, share, ts) VALUES (?, ?, ?)");
    if (st) {
        db_bind_i64(st, 1, user);
        db_bind_text(st, 2, share_name(s), -1);
        db_bind_i64(st, 3, ts);
    }
    return store_step(st);
}
