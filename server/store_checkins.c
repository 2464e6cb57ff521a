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

static int latest(sqlite3_stmt *st, int64_t user, int32_t *day, int *tz)
{
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, user);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        *day = sqlite3_column_int(st, 0);
        if (tz)
            *tz = sqlite3_column_int(st, 1);
        found = 1;
    }
    return store_read_done(st, rc, found);
}

#define LATEST_SQL "SELECT day, tz FROM checkins WHERE user_id = ? ORDER BY day DESC LIMIT 1"

int store_checkins_latest(mu_store *s, int64_t user, int32_t *day, int *tz)
{
    return latest(store_read(s, LATEST_SQL), user, day, tz);
}

int store_checkins_latest_w(mu_wtx *w, int64_t user, int32_t *day, int *tz)
{
    return latest(store_wstmt(w, LATEST_SQL), user, day, tz);
}

int store_checkins_days(mu_store *s, int64_t user, int32_t **days, size_t *n)
{
    sqlite3_stmt *st = store_read(s, "SELECT day FROM checkins WHERE user_id = ? ORDER BY day");
    *days = NULL;
    *n = 0;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, user);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            int32_t *v = xrealloc(*days, cap * sizeof(**days));
            *days = v;
        }
        (*days)[(*n)++] = sqlite3_column_int(st, 0);
    }
    return store_read_done(st, rc, 0);
}

static int col_int(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int(st, i);
}

static const void *col_blob(sqlite3_stmt *st, int i, size_t *len)
{
    *len = (size_t)sqlite3_column_bytes(st, i);
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : sqlite3_column_blob(st, i);
}

#define RANGE_SQL                                                                    \
    "SELECT day, tz, ts, mood, craving, sleep, use, stage, who5, who5_pct, barc10, " \
    "barc10_total, triggers, note, flags FROM checkins "                             \
    "WHERE user_id = ? AND day >= ? AND day <= ? ORDER BY day"

static int range(sqlite3_stmt *st, int64_t user, int32_t from, int32_t to, checkin_fn fn, void *ud)
{
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, user);
    sqlite3_bind_int(st, 2, from);
    sqlite3_bind_int(st, 3, to);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        checkin_row r;
        r.day = sqlite3_column_int(st, 0);
        r.tz = sqlite3_column_int(st, 1);
        r.ts = sqlite3_column_int64(st, 2);
        r.mood = sqlite3_column_int(st, 3);
        r.craving = col_int(st, 4);
        r.sleep = col_int(st, 5);
        r.use = (const char *)sqlite3_column_text(st, 6);
        r.stage = (const char *)sqlite3_column_text(st, 7);
        r.who5 = col_blob(st, 8, &r.who5_len);
        r.who5_pct = col_int(st, 9);
        r.barc10 = col_blob(st, 10, &r.barc10_len);
        r.barc10_total = col_int(st, 11);
        r.triggers = col_blob(st, 12, &r.triggers_len);
        r.note = (const char *)sqlite3_column_text(st, 13);
        r.note_len = (size_t)sqlite3_column_bytes(st, 13);
        r.flags = (unsigned)sqlite3_column_int(st, 14);
        fn(&r, ud);
        n++;
    }
    return store_read_done(st, rc, n);
}

int store_checkins_range(mu_store *s, int64_t user, int32_t from, int32_t to, checkin_fn fn,
                         void *ud)
{
    return range(store_read(s, RANGE_SQL), user, from, to, fn, ud);
}

int store_checkins_range_w(mu_wtx *w, int64_t user, int32_t from, int32_t to, checkin_fn fn,
                           void *ud)
{
    return range(store_wstmt(w, RANGE_SQL), user, from, to, fn, ud);
}

static share_level consent_from(sqlite3_stmt *st, int64_t user)
{
    if (!st)
        return SHARE_NONE;
    sqlite3_bind_int64(st, 1, user);
    share_level s = SHARE_NONE;
    if (sqlite3_step(st) == SQLITE_ROW)
        s = share_parse((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return s;
}

share_level store_checkins_consent(mu_store *s, int64_t user)
{
    return consent_from(store_read(s, "SELECT share FROM consent WHERE user_id = ?"), user);
}

share_level store_checkins_consent_w(mu_wtx *w, int64_t user)
{
    return consent_from(store_wstmt(w, "SELECT share FROM consent WHERE user_id = ?"), user);
}

/* ---- writer ------------------------------------------------------------------------------ */

static void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    if (p)
        sqlite3_bind_blob(st, i, p, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_opt_int(sqlite3_stmt *st, int i, int v)
{
    if (v >= 0)
        sqlite3_bind_int(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* The running streak after a check-in on `day`, which is never before the latest one. */
static mu_code streak_put(mu_wtx *w, int64_t user, int32_t day, int *streak)
{
    sqlite3_stmt *st =
        store_wstmt(w, "SELECT last_day, current, best FROM streaks WHERE user_id = ?");
    if (!st)
        return MU_E_INTERNAL;
    sqlite3_bind_int64(st, 1, user);
    int rc = sqlite3_step(st);
    int cur = 1, best = 1;
    if (rc == SQLITE_ROW) {
        int32_t last = sqlite3_column_int(st, 0);
        int was = sqlite3_column_int(st, 1);
        best = sqlite3_column_int(st, 2);
        cur = day == last ? was : day == last + 1 ? was + 1 : 1;
    }
    if (store_read_done(st, rc, 0) < 0)
        return MU_E_INTERNAL;
    if (cur > best)
        best = cur;
    st = store_wstmt(w, "INSERT OR REPLACE INTO streaks (user_id, last_day, current, best) "
                        "VALUES (?, ?, ?, ?)");
    if (st) {
        sqlite3_bind_int64(st, 1, user);
        sqlite3_bind_int(st, 2, day);
        sqlite3_bind_int(st, 3, cur);
        sqlite3_bind_int(st, 4, best);
    }
    *streak = cur;
    return store_step(st, store_wdb(w));
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
    sqlite3_stmt *st = store_wstmt(w, "SELECT alerted FROM checkins WHERE user_id = ? AND day = ?");
    if (!st)
        return MU_E_INTERNAL;
    sqlite3_bind_int64(st, 1, c->user);
    sqlite3_bind_int(st, 2, c->day);
    if (sqlite3_step(st) == SQLITE_ROW)
        *alerted = (unsigned)sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    st = store_wstmt(w, "INSERT OR REPLACE INTO checkins (user_id, day, tz, ts, mood, craving, "
                        "sleep, use, stage, who5, who5_pct, barc10, barc10_total, triggers, note, "
                        "flags, alerted) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return MU_E_INTERNAL;
    sqlite3_bind_int64(st, 1, c->user);
    sqlite3_bind_int(st, 2, c->day);
    sqlite3_bind_int(st, 3, c->tz);
    sqlite3_bind_int64(st, 4, c->ts);
    sqlite3_bind_int(st, 5, c->mood);
    bind_opt_int(st, 6, c->craving);
    bind_opt_int(st, 7, c->sleep);
    if (c->use)
        sqlite3_bind_text(st, 8, c->use, -1, SQLITE_STATIC);
    if (c->stage)
        sqlite3_bind_text(st, 9, c->stage, -1, SQLITE_STATIC);
    bind_blob(st, 10, c->who5, c->who5_len);
    bind_opt_int(st, 11, c->who5_pct);
    bind_blob(st, 12, c->barc10, c->barc10_len);
    bind_opt_int(st, 13, c->barc10_total);
    bind_blob(st, 14, c->triggers, c->triggers_len);
    if (c->note)
        sqlite3_bind_text(st, 15, c->note, (int)c->note_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 16, (int)c->flags);
    sqlite3_bind_int(st, 17, (int)*alerted);
    mu_code r = store_step(st, store_wdb(w));
    return r == MU_OK ? streak_put(w, c->user, c->day, streak) : r;
}

mu_code store_checkins_set_alerted(mu_wtx *w, int64_t user, int32_t day, unsigned alerted)
{
    sqlite3_stmt *st =
        store_wstmt(w, "UPDATE checkins SET alerted = ? WHERE user_id = ? AND day = ?");
    if (st) {
        sqlite3_bind_int(st, 1, (int)alerted);
        sqlite3_bind_int64(st, 2, user);
        sqlite3_bind_int(st, 3, day);
    }
    return store_step(st, store_wdb(w));
}

mu_code store_checkins_consent_put(mu_wtx *w, int64_t user, share_level s, int64_t ts)
{
    sqlite3_stmt *st = store_wstmt(w, "INSERT INTO consent (user_id, share, ts) VALUES (?, ?, ?) "
                                      "ON CONFLICT (user_id) DO UPDATE SET share = excluded.share, "
                                      "ts = excluded.ts");
    if (st) {
        sqlite3_bind_int64(st, 1, user);
        sqlite3_bind_text(st, 2, share_name(s), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, ts);
    }
    mu_code c = store_step(st, store_wdb(w));
    if (c != MU_OK)
        return c;
    st = store_wstmt(w, "INSERT INTO consent_history (user_id, share, ts) VALUES (?, ?, ?)");
    if (st) {
        sqlite3_bind_int64(st, 1, user);
        sqlite3_bind_text(st, 2, share_name(s), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, ts);
    }
    return store_step(st, store_wdb(w));
}
