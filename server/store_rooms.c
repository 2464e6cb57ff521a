/* The SQL of rooms (see store_rooms.h). Layer: storage, over the base. */
#include "store_rooms.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

/* The last seq a room has given: its newest message, or its floor when that is higher (the
 * floor keeps the count when messages are erased). Inside a statement on `rooms`. */
#define SEQ_LAST                                                                        \
    "(SELECT CASE WHEN coalesce(max(m.seq), 0) > rooms.seq_floor THEN max(m.seq) ELSE " \
    "rooms.seq_floor END FROM room_messages m WHERE m.room = rooms.slug)"

/* A room's definition and stored state, with its next seq. */
#define ROOM_SELECT                                                                          \
    "SELECT slug, name, audience, format, schedule, capacity, persistent, is_open, (SELECT " \
    "coalesce(max(seq), 0) FROM (SELECT seq_floor AS seq UNION ALL SELECT max(seq) FROM "    \
    "room_messages m WHERE m.room = r.slug) AS s) + 1, backlog, listed, locked, lobby, "     \
    "floor_mode, created_ts, meeting FROM rooms r"

static void room_row(db_stmt *st, room_def_fn fn, void *ud)
{
    room_def d = {db_col_text(st, 0),      db_col_text(st, 1),      db_col_text(st, 2),
                  db_col_text(st, 3),      db_col_blob(st, 4),      (size_t)db_col_bytes(st, 4),
                  db_col_int(st, 5),       db_col_int(st, 6) != 0,  db_col_int(st, 7) != 0,
                  db_col_i64(st, 8),       db_col_text(st, 9),      db_col_int(st, 10) != 0,
                  db_col_int(st, 11) != 0, db_col_int(st, 12) != 0, db_col_int(st, 13) != 0,
                  db_col_i64(st, 14),      db_col_i64(st, 15)};
    fn(&d, ud);
}

int store_rooms_get(mu_reader *r, const char *slug, room_def_fn fn, void *ud)
{
    db_stmt *st = store_rstmt(r, ROOM_SELECT " WHERE slug = ?");
    if (!st)
        return -1;
    db_bind_text(st, 1, slug, -1);
    int rc = db_step(st), found = rc == DB_ROW;
    if (found)
        room_row(st, fn, ud);
    return store_read_done(st, rc, found);
}

int store_rooms_load(db_conn *db, room_def_fn fn, void *ud)
{
    db_stmt *st;
    if (!(st = db_prepare(db, ROOM_SELECT)))
        return -1;
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        room_row(st, fn, ud);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

static int load_pairs(db_conn *db, const char *sql, room_user_fn fn, void *ud)
{
    db_stmt *st;
    if (!(st = db_prepare(db, sql)))
        return -1;
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        fn(db_col_text(st, 0), db_col_i64(st, 1), ud);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

int store_rooms_load_bans(db_conn *db, room_user_fn fn, void *ud)
{
    return load_pairs(db, "SELECT room, user_id FROM room_bans", fn, ud);
}

int store_rooms_load_mutes(db_conn *db, room_user_fn fn, void *ud)
{
    return load_pairs(db, "SELECT room, user_id FROM room_mutes", fn, ud);
}

int store_rooms_load_joins(db_conn *db, room_point_fn fn, void *ud)
{
    db_stmt *st;
    if (!(st = db_prepare(db, "SELECT room, user_id, after_seq FROM room_joins")))
        return -1;
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        fn(db_col_text(st, 0), db_col_i64(st, 1), db_col_i64(st, 2), ud);
    db_finalize(st);
    return rc == DB_DONE ? 0 : -1;
}

int store_rooms_join_point(mu_reader *r, const char *room, int64_t user, int64_t *after)
{
    db_stmt *st = store_rstmt(r, "SELECT after_seq FROM room_joins WHERE room = ? AND user_id = ?");
    if (!st)
        return -1;
    db_bind_text(st, 1, room, -1);
    db_bind_i64(st, 2, user);
    int rc = db_step(st), found = rc == DB_ROW;
    if (found)
        *after = db_col_i64(st, 0);
    return store_read_done(st, rc, found);
}

int store_rooms_msgs(mu_reader *r, const char *room, int64_t after, int64_t before, int limit,
                     room_msg_fn fn, void *ud)
{
    db_stmt *st = store_rstmt(r, "SELECT * FROM (SELECT seq, ts, from_handle, text "
                                 "FROM room_messages WHERE room = ? AND seq > ? AND seq < ? "
                                 "ORDER BY seq DESC LIMIT ?) AS page ORDER BY seq");
    if (!st)
        return -1;
    db_bind_text(st, 1, room, -1);
    db_bind_i64(st, 2, after);
    db_bind_i64(st, 3, before);
    db_bind_int(st, 4, limit);
    int rc, n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        room_msg_row m = {db_col_i64(st, 0), db_col_i64(st, 1), db_col_text(st, 2),
                          db_col_text(st, 3), (size_t)db_col_bytes(st, 3)};
        fn(&m, ud);
        n++;
    }
    return store_read_done(st, rc, n);
}

int64_t store_rooms_msgs_count_after(mu_reader *r, const char *room, int64_t after,
                                     int64_t *min_seq)
{
    db_stmt *st = store_rstmt(r, "SELECT count(*), min(seq) FROM room_messages "
                                 "WHERE room = ? AND seq > ?");
    if (!st)
        return -1;
    db_bind_text(st, 1, room, -1);
    db_bind_i64(st, 2, after);
    int64_t n = -1;
    int rc = db_step(st);
    if (rc == DB_ROW) {
        n = db_col_i64(st, 0);
        *min_seq = db_col_null(st, 1) ? 0 : db_col_i64(st, 1);
    }
    return store_read_done(st, rc, 0) < 0 ? -1 : n;
}

int store_rooms_find_cid_w(mu_wtx *w, const char *room, int64_t user, const char *cid, size_t n,
                           int64_t *seq, int64_t *ts)
{
    db_stmt *st = store_wstmt(w, "SELECT seq, ts FROM room_messages "
                                 "WHERE room = ? AND user_id = ? AND cid = ?");
    if (!st)
        return -1;
    db_bind_text(st, 1, room, -1);
    db_bind_i64(st, 2, user);
    db_bind_text(st, 3, cid, (int)n);
    db_rc rc = db_step(st);
    int found = 0;
    if (rc == DB_ROW) {
        *seq = db_col_i64(st, 0);
        *ts = db_col_i64(st, 1);
        found = 1;
    }
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? found : -1;
}

static void bind_def(db_stmt *st, const room_def *d)
{
    db_bind_text(st, 1, d->slug, -1);
    db_bind_text(st, 2, d->name, -1);
    db_bind_text(st, 3, d->audience, -1);
    db_bind_text(st, 4, d->format, -1);
    if (d->schedule)
        db_bind_blob(st, 5, d->schedule, (int)d->schedule_len);
    else
        db_bind_null(st, 5);
    db_bind_int(st, 6, d->capacity);
    db_bind_int(st, 7, d->persistent);
    store_bind_text(st, 8, d->backlog, -1);
    db_bind_int(st, 9, d->listed);
}

mu_code store_rooms_insert(mu_wtx *w, const room_def *d, int64_t now)
{
    db_stmt *st = store_wstmt(w, "INSERT INTO rooms (slug, name, audience, format, schedule, "
                                 "capacity, persistent, backlog, listed, created_ts) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (st) {
        bind_def(st, d);
        db_bind_i64(st, 10, now);
    }
    return store_step(st);
}

mu_code store_rooms_update(mu_wtx *w, const room_def *d)
{
    db_stmt *st = store_wstmt(w, "UPDATE rooms SET slug = ?1, name = ?2, audience = ?3, "
                                 "format = ?4, schedule = ?5, capacity = ?6, persistent = ?7, "
                                 "backlog = ?8, listed = ?9 WHERE slug = ?1");
    if (st)
        bind_def(st, d);
    return store_step(st);
}

mu_code store_rooms_remove(mu_wtx *w, const char *slug)
{
    db_stmt *st = store_wstmt(w, "DELETE FROM rooms WHERE slug = ?");
    if (st)
        db_bind_text(st, 1, slug, -1);
    store_checkpoint_after(w); /* its messages (and reports' copies of them) leave the WAL too */
    return store_step(st);
}

mu_code store_rooms_set_open(mu_wtx *w, const char *slug, bool open, int64_t *meeting)
{
    db_stmt *st = store_wstmt(
        /* An open of an open room (two facilitators at once) is the same meeting. */
        w, "UPDATE rooms SET meeting = meeting + CASE WHEN ?1 = 1 AND is_open = 0 THEN 1 ELSE 0 "
           "END, is_open = ?1 WHERE slug = ?2 RETURNING meeting");
    if (st) {
        db_bind_int(st, 1, open);
        db_bind_text(st, 2, slug, -1);
    }
    mu_code c = store_step_id(st, meeting);
    /* A meeting starts and ends with nobody on the floor and no hand raised (stored only with
     * several nodes: one node keeps them in memory). */
    if (c == MU_OK && db_engine_of(store_wdb(w)) == DB_POSTGRESQL)
        c = store_rooms_live_clear(w, slug);
    return c;
}

mu_code store_rooms_end_meeting(mu_wtx *w, const char *slug, bool erase)
{
    /* The live state of a meeting goes with it: mutes, flags and first-join points. */
    static const char *const per_meeting[] = {
        "DELETE FROM room_mutes WHERE room = ?",
        "DELETE FROM room_joins WHERE room = ?",
        "UPDATE rooms SET locked = 0, lobby = 0, floor_mode = 0 WHERE slug = ?",
    };
    mu_code c = MU_OK;
    for (size_t i = 0; c == MU_OK && i < sizeof(per_meeting) / sizeof(per_meeting[0]); i++) {
        db_stmt *st = store_wstmt(w, per_meeting[i]);
        if (st)
            db_bind_text(st, 1, slug, -1);
        c = store_step(st);
    }
    if (c != MU_OK || !erase)
        return c;
    /* The floor already holds the last seq given (rooms written before it did are brought
     * up to their newest message here), so the count goes on after the erasure. */
    db_stmt *st = store_wstmt(w, "UPDATE rooms SET seq_floor = " SEQ_LAST " WHERE slug = ?");
    if (st)
        db_bind_text(st, 1, slug, -1);
    if ((c = store_step(st)) != MU_OK)
        return c;
    st = store_wstmt(w, "DELETE FROM room_messages WHERE room = ?");
    if (st)
        db_bind_text(st, 1, slug, -1);
    store_checkpoint_after(w); /* what was said leaves the WAL too */
    return store_step(st);
}

mu_code store_rooms_set_flag(mu_wtx *w, const char *slug, room_flag flag, bool on)
{
    /* Three literals: the statement cache is keyed by the text's address. */
    const char *sql = flag == ROOM_LOCKED  ? "UPDATE rooms SET locked = ? WHERE slug = ?"
                      : flag == ROOM_LOBBY ? "UPDATE rooms SET lobby = ? WHERE slug = ?"
                                           : "UPDATE rooms SET floor_mode = ? WHERE slug = ?";
    db_stmt *st = store_wstmt(w, sql);
    if (st) {
        db_bind_int(st, 1, on);
        db_bind_text(st, 2, slug, -1);
    }
    return store_step(st);
}

mu_code store_rooms_set_joins(mu_wtx *w, const char *slug, bool reset, const int64_t *users,
                              size_t n, int64_t after_seq)
{
    mu_code c = MU_OK;
    if (reset) {
        db_stmt *st = store_wstmt(w, "DELETE FROM room_joins WHERE room = ?");
        if (st)
            db_bind_text(st, 1, slug, -1);
        c = store_step(st);
    }
    for (size_t i = 0; c == MU_OK && i < n; i++) {
        db_stmt *st = store_wstmt(w, "INSERT INTO room_joins (room, user_id, after_seq) "
                                     "VALUES (?, ?, ?) ON CONFLICT (room, user_id) "
                                     "DO UPDATE SET after_seq = excluded.after_seq");
        if (st) {
            db_bind_text(st, 1, slug, -1);
            db_bind_i64(st, 2, users[i]);
            db_bind_i64(st, 3, after_seq);
        }
        c = store_step(st);
    }
    return c;
}

mu_code store_rooms_msg_insert(mu_wtx *w, const char *room, int64_t ts, int64_t user,
                               const char *from, const char *text, size_t n, const char *cid,
                               size_t cid_len, int64_t *seq)
{
    /* Given in the write: the room's lock (the job's key, held to commit on PostgreSQL; the one
     * writer on SQLite) keeps any other write of the room's messages out until this commits. */
    db_stmt *st = store_wstmt(
        w, "INSERT INTO room_messages (room, seq, ts, user_id, from_handle, text, cid) "
           "SELECT slug, " SEQ_LAST " + 1, ?, ?, ?, ?, ? FROM rooms WHERE slug = ? RETURNING seq");
    if (st) {
        db_bind_i64(st, 1, ts);
        db_bind_i64(st, 2, user);
        db_bind_text(st, 3, from, -1);
        db_bind_text(st, 4, text, (int)n);
        store_bind_text(st, 5, cid, (int)cid_len);
        db_bind_text(st, 6, room, -1);
    }
    return store_step_id(st, seq); /* MU_E_NOT_FOUND: the room was deleted meanwhile */
}

mu_code store_rooms_user_set(mu_wtx *w, room_user_list list, const char *room, int64_t user,
                             bool on)
{
    bool bans = list == ROOM_BANS;
    /* Four literals: the statement cache is keyed by the text's address. */
    const char *sql = on ? (bans ? "INSERT INTO room_bans (room, user_id) VALUES (?, ?) "
                                   "ON CONFLICT DO NOTHING"
                                 : "INSERT INTO room_mutes (room, user_id) VALUES (?, ?) "
                                   "ON CONFLICT DO NOTHING")
                         : (bans ? "DELETE FROM room_bans WHERE room = ? AND user_id = ?"
                                 : "DELETE FROM room_mutes WHERE room = ? AND user_id = ?");
    db_stmt *st = store_wstmt(w, sql);
    if (st) {
        db_bind_text(st, 1, room, -1);
        db_bind_i64(st, 2, user);
    }
    return store_step(st);
}

mu_code store_rooms_keep_seqs(mu_wtx *w, int64_t user)
{
    if (db_engine_of(store_wdb(w)) == DB_POSTGRESQL) {
        /* A message of theirs being stored through another node commits first (its insert
         * holds their row), so that its seq is counted below. */
        db_stmt *lk = store_wstmt(w, "SELECT 1 FROM users WHERE id = ? FOR UPDATE");
        if (lk)
            db_bind_i64(lk, 1, user);
        mu_code c = store_step(lk);
        if (c != MU_OK)
            return c;
    }
    db_stmt *st = store_wstmt(w, "UPDATE rooms SET seq_floor = " SEQ_LAST " WHERE slug IN "
                                 "(SELECT room FROM room_messages WHERE user_id = ?)");
    if (st)
        db_bind_i64(st, 1, user);
    return store_step(st);
}
