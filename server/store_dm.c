/* The SQL of mentoring and direct messages (see store_dm.h). Layer: storage, over the base. */
#include "store_dm.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static void order(int64_t a, int64_t b, int64_t *lo, int64_t *hi)
{
    *lo = a < b ? a : b;
    *hi = a < b ? b : a;
}

int store_dm_mentor_of(mu_reader *r, int64_t user_id, int64_t *mentor_id, char *handle)
{
    db_stmt *st = store_rstmt(r, "SELECT u.id, u.handle FROM assignments a "
                                 "JOIN users u ON u.id = a.mentor_id WHERE a.user_id = ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, user_id);
    int rc = db_step(st), found = 0;
    if (rc == DB_ROW) {
        *mentor_id = db_col_i64(st, 0);
        if (handle)
            snprintf(handle, MU_HANDLE_MAX + 1, "%s", db_col_text(st, 1));
        found = 1;
    }
    return store_read_done(st, rc, found);
}

int store_dm_thread_exists(store_from f, int64_t a, int64_t b)
{
    int64_t lo, hi;
    order(a, b, &lo, &hi);
    db_stmt *st = store_from_stmt(f, "SELECT 1 FROM dm_threads WHERE lo_id = ? AND hi_id = ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, lo);
    db_bind_i64(st, 2, hi);
    int rc = db_step(st);
    return store_read_done(st, rc, rc == DB_ROW);
}

int store_dm_find_cid(store_from f, int64_t from, int64_t to, const char *cid, size_t n,
                      int64_t *id, int64_t *ts)
{
    db_stmt *st = store_from_stmt(f, "SELECT id, ts FROM dms "
                                     "WHERE from_id = ? AND to_id = ? AND cid = ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, from);
    db_bind_i64(st, 2, to);
    db_bind_text(st, 3, cid, (int)n);
    int rc = db_step(st), found = 0;
    if (rc == DB_ROW) {
        *id = db_col_i64(st, 0);
        *ts = db_col_i64(st, 1);
        found = 1;
    }
    return store_read_done(st, rc, found);
}

#define DM_COLS                                                                     \
    "SELECT d.id, d.from_id, d.to_id, d.ts, d.text, f.handle, t.handle FROM dms d " \
    "JOIN users f ON f.id = d.from_id JOIN users t ON t.id = d.to_id "

static void read_row(db_stmt *st, dm_row *r)
{
    r->id = db_col_i64(st, 0);
    r->from_id = db_col_i64(st, 1);
    r->to_id = db_col_i64(st, 2);
    r->ts = db_col_i64(st, 3);
    r->text = db_col_text(st, 4);
    r->text_len = (size_t)db_col_bytes(st, 4);
    snprintf(r->from, sizeof(r->from), "%s", db_col_text(st, 5));
    snprintf(r->to, sizeof(r->to), "%s", db_col_text(st, 6));
}

static int each_row(db_stmt *st, dm_row_fn fn, void *ud)
{
    int rc, n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        dm_row r;
        read_row(st, &r);
        fn(&r, ud);
        n++;
    }
    return store_read_done(st, rc, n);
}

int store_dm_history(mu_reader *r, int64_t a, int64_t b, uint64_t before, unsigned limit,
                     dm_row_fn fn, void *ud)
{
    int64_t lo, hi;
    order(a, b, &lo, &hi);
    /* The newest `limit` below `before`, handed out oldest first. */
    db_stmt *st =
        store_rstmt(r, "SELECT * FROM (" DM_COLS "WHERE d.lo_id = ? AND d.hi_id = ? AND d.id < ? "
                       "ORDER BY d.id DESC LIMIT ?) AS page ORDER BY 1 ASC");
    if (!st)
        return -1;
    db_bind_i64(st, 1, lo);
    db_bind_i64(st, 2, hi);
    db_bind_i64(st, 3, before > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)before);
    db_bind_int(st, 4, (int)limit);
    return each_row(st, fn, ud);
}

int store_dm_unread_for(mu_reader *r, int64_t to, dm_row_fn fn, void *ud)
{
    db_stmt *st = store_rstmt(r, DM_COLS "WHERE d.to_id = ? AND d.read = 0 ORDER BY d.id");
    if (!st)
        return -1;
    db_bind_i64(st, 1, to);
    return each_row(st, fn, ud);
}

int store_dm_unread_after(mu_reader *r, int64_t to, int64_t after, unsigned limit, dm_row_fn fn,
                          void *ud)
{
    db_stmt *st = store_rstmt(r, DM_COLS "WHERE d.to_id = ? AND d.read = 0 AND d.id > ? "
                                         "ORDER BY d.id LIMIT ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, to);
    db_bind_i64(st, 2, after);
    db_bind_i64(st, 3, limit);
    return each_row(st, fn, ud);
}

int64_t store_dm_max_id(mu_reader *r)
{
    return store_count(store_rstmt(r, "SELECT coalesce(max(id), 0) FROM dms"));
}

int store_dm_range_w(mu_wtx *w, int64_t after, int64_t up_to, unsigned limit, dm_row_fn fn,
                     void *ud)
{
    db_stmt *st = store_wstmt(w, DM_COLS "WHERE d.id > ? AND d.id <= ? ORDER BY d.id LIMIT ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, after);
    db_bind_i64(st, 2, up_to);
    db_bind_i64(st, 3, limit);
    return each_row(st, fn, ud);
}

int store_dm_last(mu_reader *r, int64_t a, int64_t b, dm_row_fn fn, void *ud)
{
    int64_t lo, hi;
    order(a, b, &lo, &hi);
    db_stmt *st = store_rstmt(r, DM_COLS "WHERE d.lo_id = ? AND d.hi_id = ? "
                                         "ORDER BY d.id DESC LIMIT 1");
    if (!st)
        return -1;
    db_bind_i64(st, 1, lo);
    db_bind_i64(st, 2, hi);
    return each_row(st, fn, ud);
}

int64_t store_dm_unread_count(mu_reader *r, int64_t to, int64_t from)
{
    db_stmt *st = store_rstmt(r, "SELECT count(*) FROM dms "
                                 "WHERE to_id = ? AND from_id = ? AND read = 0");
    if (st) {
        db_bind_i64(st, 1, to);
        db_bind_i64(st, 2, from);
    }
    return store_count(st);
}

int store_dm_threads_of(mu_reader *r, int64_t user, thread_row_fn fn, void *ud)
{
    db_stmt *st = store_rstmt(r, "SELECT u.id, u.handle FROM dm_threads t "
                                 "JOIN users u ON u.id = t.hi_id WHERE t.lo_id = ?1 "
                                 "UNION ALL "
                                 "SELECT u.id, u.handle FROM dm_threads t "
                                 "JOIN users u ON u.id = t.lo_id WHERE t.hi_id = ?1 "
                                 "ORDER BY 2");
    if (!st)
        return -1;
    db_bind_i64(st, 1, user);
    int rc, n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        thread_row t;
        t.other_id = db_col_i64(st, 0);
        snprintf(t.other, sizeof(t.other), "%s", db_col_text(st, 1));
        fn(&t, ud);
        n++;
    }
    return store_read_done(st, rc, n);
}

int store_dm_mentees(mu_reader *r, int64_t mentor_id, mentee_row_fn fn, void *ud)
{
    db_stmt *st = store_rstmt(r, "SELECT u.id, u.handle, u.role FROM assignments a "
                                 "JOIN users u ON u.id = a.user_id WHERE a.mentor_id = ? "
                                 "ORDER BY u.handle");
    if (!st)
        return -1;
    db_bind_i64(st, 1, mentor_id);
    int rc, n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        mentee_row m;
        m.id = db_col_i64(st, 0);
        snprintf(m.handle, sizeof(m.handle), "%s", db_col_text(st, 1));
        const char *role = db_col_text(st, 2);
        int parsed = role_parse(role, strlen(role));
        m.role = parsed < 0 ? ROLE_MEMBER : (mu_role)parsed;
        fn(&m, ud);
        n++;
    }
    return store_read_done(st, rc, n);
}

/* ---- writer side ------------------------------------------------------------------------ */

mu_code store_dm_thread_ensure(mu_wtx *w, int64_t a, int64_t b)
{
    int64_t lo, hi;
    order(a, b, &lo, &hi);
    db_stmt *st = store_wstmt(w, "INSERT INTO dm_threads (lo_id, hi_id) VALUES (?, ?) "
                                 "ON CONFLICT DO NOTHING");
    if (st) {
        db_bind_i64(st, 1, lo);
        db_bind_i64(st, 2, hi);
    }
    return store_step(st);
}

int64_t store_dm_mentor_of_w(mu_wtx *w, int64_t user_id)
{
    db_stmt *st = store_wstmt(w, "SELECT mentor_id FROM assignments WHERE user_id = ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, user_id);
    int64_t m = db_step(st) == DB_ROW ? db_col_i64(st, 0) : 0;
    db_reset(st);
    return m;
}

mu_code store_dm_assign(mu_wtx *w, int64_t user_id, int64_t mentor_id, unsigned max, int64_t now,
                        int64_t *old_mentor)
{
    int64_t cur = store_dm_mentor_of_w(w, user_id);
    if (cur < 0)
        return MU_E_INTERNAL;
    *old_mentor = cur == mentor_id ? 0 : cur;
    if (cur == mentor_id)
        return MU_OK; /* already so: nothing changes */
    /* Counted inside the writer's transaction (and, across nodes, in turn), so two
     * assignments cannot both take the last place on a caseload. */
    mu_code c = store_serialize(w, STORE_LOCK_CASELOAD, mentor_id);
    if (c != MU_OK)
        return c;
    db_stmt *st = store_wstmt(w, "SELECT count(*) FROM assignments WHERE mentor_id = ?");
    if (st)
        db_bind_i64(st, 1, mentor_id);
    int64_t n = store_count(st);
    if (n < 0)
        return MU_E_INTERNAL;
    if (n >= (int64_t)max)
        return MU_E_CASELOAD_FULL;
    st = store_wstmt(w, "INSERT INTO assignments (user_id, mentor_id, since_ts) VALUES (?, ?, ?) "
                        "ON CONFLICT (user_id) DO UPDATE SET mentor_id = excluded.mentor_id, "
                        "since_ts = excluded.since_ts");
    if (st) {
        db_bind_i64(st, 1, user_id);
        db_bind_i64(st, 2, mentor_id);
        db_bind_i64(st, 3, now);
    }
    c = store_step(st);
    return c == MU_OK ? store_dm_thread_ensure(w, user_id, mentor_id) : c;
}

mu_code store_dm_unassign(mu_wtx *w, int64_t user_id, int64_t *old_mentor)
{
    int64_t cur = store_dm_mentor_of_w(w, user_id);
    if (cur < 0)
        return MU_E_INTERNAL;
    *old_mentor = cur;
    db_stmt *st = store_wstmt(w, "DELETE FROM assignments WHERE user_id = ?");
    if (st)
        db_bind_i64(st, 1, user_id);
    return store_step(st);
}

mu_code store_dm_insert(mu_wtx *w, int64_t from, int64_t to, int64_t ts, const char *text, size_t n,
                        const char *cid, size_t cid_len, int64_t *id)
{
    mu_code c = store_dm_thread_ensure(w, from, to);
    if (c != MU_OK)
        return c;
    int64_t lo, hi;
    order(from, to, &lo, &hi);
    db_stmt *st = store_wstmt(w, "INSERT INTO dms (lo_id, hi_id, from_id, to_id, ts, text, "
                                 "cid) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id");
    if (st) {
        db_bind_i64(st, 1, lo);
        db_bind_i64(st, 2, hi);
        db_bind_i64(st, 3, from);
        db_bind_i64(st, 4, to);
        db_bind_i64(st, 5, ts);
        db_bind_text(st, 6, text, (int)n);
        store_bind_text(st, 7, cid, (int)cid_len);
    }
    return store_step_id(st, id);
}

mu_code store_dm_mark_read(mu_wtx *w, int64_t reader, int64_t from, uint64_t up_to)
{
    db_stmt *st = store_wstmt(w, "UPDATE dms SET read = 1 WHERE to_id = ? AND from_id = ? "
                                 "AND id <= ? AND read = 0");
    if (st) {
        db_bind_i64(st, 1, reader);
        db_bind_i64(st, 2, from);
        db_bind_i64(st, 3, up_to > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)up_to);
    }
    return store_step(st);
}
