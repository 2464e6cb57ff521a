/* The SQL of rooms (see store_rooms.h). Layer: storage, over the base. */
#include "store_rooms.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

int store_rooms_load(sqlite3 *db, room_def_fn fn, void *ud)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT slug, name, audience, format, schedule, capacity, persistent, "
                           "is_open, max(seq_floor, coalesce((SELECT max(seq) FROM room_messages "
                           "m WHERE m.room = r.slug), 0)) + 1, backlog, listed, locked, lobby, "
                           "floor_mode, created_ts FROM rooms r",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        room_def d = {(const char *)sqlite3_column_text(st, 0),
                      (const char *)sqlite3_column_text(st, 1),
                      (const char *)sqlite3_column_text(st, 2),
                      (const char *)sqlite3_column_text(st, 3),
                      sqlite3_column_blob(st, 4),
                      (size_t)sqlite3_column_bytes(st, 4),
                      sqlite3_column_int(st, 5),
                      sqlite3_column_int(st, 6) != 0,
                      sqlite3_column_int(st, 7) != 0,
                      sqlite3_column_int64(st, 8),
                      (const char *)sqlite3_column_text(st, 9),
                      sqlite3_column_int(st, 10) != 0,
                      sqlite3_column_int(st, 11) != 0,
                      sqlite3_column_int(st, 12) != 0,
                      sqlite3_column_int(st, 13) != 0,
                      sqlite3_column_int64(st, 14)};
        fn(&d, ud);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int load_pairs(sqlite3 *db, const char *sql, room_user_fn fn, void *ud)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1), ud);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_rooms_load_bans(sqlite3 *db, room_user_fn fn, void *ud)
{
    return load_pairs(db, "SELECT room, user_id FROM room_bans", fn, ud);
}

int store_rooms_load_mutes(sqlite3 *db, room_user_fn fn, void *ud)
{
    return load_pairs(db, "SELECT room, user_id FROM room_mutes", fn, ud);
}

int store_rooms_load_joins(sqlite3 *db, room_point_fn fn, void *ud)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT room, user_id, after_seq FROM room_joins", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
           sqlite3_column_int64(st, 2), ud);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_rooms_msgs(mu_store *s, const char *room, int64_t after, int64_t before, int limit,
                     room_msg_fn fn, void *ud)
{
    sqlite3_stmt *st = store_read(s, "SELECT * FROM (SELECT seq, ts, from_handle, text "
                                     "FROM room_messages WHERE room = ? AND seq > ? AND seq < ? "
                                     "ORDER BY seq DESC LIMIT ?) ORDER BY seq");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, before);
    sqlite3_bind_int(st, 4, limit);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        room_msg_row m = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                          (const char *)sqlite3_column_text(st, 2),
                          (const char *)sqlite3_column_text(st, 3),
                          (size_t)sqlite3_column_bytes(st, 3)};
        fn(&m, ud);
        n++;
    }
    return store_read_done(st, rc, n);
}

int64_t store_rooms_msgs_count_after(mu_store *s, const char *room, int64_t after, int64_t *min_seq)
{
    sqlite3_stmt *st = store_read(s, "SELECT count(*), min(seq) FROM room_messages "
                                     "WHERE room = ? AND seq > ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    int64_t n = -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        *min_seq = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 1);
    }
    return store_read_done(st, rc, 0) < 0 ? -1 : n;
}

int store_rooms_find_cid(mu_store *s, const char *room, int64_t user, const char *cid, size_t n,
                         int64_t *seq, int64_t *ts)
{
    sqlite3_stmt *st = store_read(s, "SELECT seq, ts FROM room_messages "
                                     "WHERE room = ? AND user_id = ? AND cid = ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, user);
    sqlite3_bind_text(st, 3, cid, (int)n, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        *ts = sqlite3_column_int64(st, 1);
        found = 1;
    }
    return store_read_done(st, rc, found);
}

static void bind_def(sqlite3_stmt *st, const room_def *d)
{
    sqlite3_bind_text(st, 1, d->slug, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->audience, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->format, -1, SQLITE_STATIC);
    if (d->schedule)
        sqlite3_bind_blob(st, 5, d->schedule, (int)d->schedule_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int(st, 6, d->capacity);
    sqlite3_bind_int(st, 7, d->persistent);
    store_bind_text(st, 8, d->backlog, -1);
    sqlite3_bind_int(st, 9, d->listed);
}

mu_code store_rooms_insert(mu_wtx *w, const room_def *d, int64_t now)
{
    sqlite3_stmt *st = store_wstmt(w, "INSERT INTO rooms (slug, name, audience, format, schedule, "
                                      "capacity, persistent, backlog, listed, created_ts) "
                                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (st) {
        bind_def(st, d);
        sqlite3_bind_int64(st, 10, now);
    }
    return store_step(st, store_wdb(w));
}

mu_code store_rooms_update(mu_wtx *w, const room_def *d)
{
    sqlite3_stmt *st = store_wstmt(w, "UPDATE rooms SET slug = ?1, name = ?2, audience = ?3, "
                                      "format = ?4, schedule = ?5, capacity = ?6, persistent = ?7, "
                                      "backlog = ?8, listed = ?9 WHERE slug = ?1");
    if (st)
        bind_def(st, d);
    return store_step(st, store_wdb(w));
}

mu_code store_rooms_remove(mu_wtx *w, const char *slug)
{
    sqlite3_stmt *st = store_wstmt(w, "DELETE FROM rooms WHERE slug = ?");
    if (st)
        sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    store_checkpoint_after(w); /* its messages (and reports' copies of them) leave the WAL too */
    return store_step(st, store_wdb(w));
}

mu_code store_rooms_set_open(mu_wtx *w, const char *slug, bool open)
{
    sqlite3_stmt *st = store_wstmt(w, "UPDATE rooms SET is_open = ? WHERE slug = ?");
    if (st) {
        sqlite3_bind_int(st, 1, open);
        sqlite3_bind_text(st, 2, slug, -1, SQLITE_STATIC);
    }
    return store_step(st, store_wdb(w));
}

mu_code store_rooms_end_meeting(mu_wtx *w, const char *slug, bool erase, int64_t last_seq)
{
    /* The live state of a meeting goes with it: mutes, flags and first-join points. */
    static const char *const per_meeting[] = {
        "DELETE FROM room_mutes WHERE room = ?",
        "DELETE FROM room_joins WHERE room = ?",
        "UPDATE rooms SET locked = 0, lobby = 0, floor_mode = 0 WHERE slug = ?",
    };
    mu_code c = MU_OK;
    for (size_t i = 0; c == MU_OK && i < sizeof(per_meeting) / sizeof(per_meeting[0]); i++) {
        sqlite3_stmt *st = store_wstmt(w, per_meeting[i]);
        if (st)
            sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
        c = store_step(st, store_wdb(w));
    }
    if (c != MU_OK || !erase)
        return c;
    sqlite3_stmt *st =
        store_wstmt(w, "UPDATE rooms SET seq_floor = max(seq_floor, ?) WHERE slug = ?");
    if (st) {
        sqlite3_bind_int64(st, 1, last_seq);
        sqlite3_bind_text(st, 2, slug, -1, SQLITE_STATIC);
    }
    if ((c = store_step(st, store_wdb(w))) != MU_OK)
        return c;
    st = store_wstmt(w, "DELETE FROM room_messages WHERE room = ?");
    if (st)
        sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    store_checkpoint_after(w); /* what was said leaves the WAL too */
    return store_step(st, store_wdb(w));
}

mu_code store_rooms_set_flag(mu_wtx *w, const char *slug, room_flag flag, bool on)
{
    /* Three literals: the statement cache is keyed by the text's address. */
    const char *sql = flag == ROOM_LOCKED  ? "UPDATE rooms SET locked = ? WHERE slug = ?"
                      : flag == ROOM_LOBBY ? "UPDATE rooms SET lobby = ? WHERE slug = ?"
                                           : "UPDATE rooms SET floor_mode = ? WHERE slug = ?";
    sqlite3_stmt *st = store_wstmt(w, sql);
    if (st) {
        sqlite3_bind_int(st, 1, on);
        sqlite3_bind_text(st, 2, slug, -1, SQLITE_STATIC);
    }
    return store_step(st, store_wdb(w));
}

mu_code store_rooms_set_joins(mu_wtx *w, const char *slug, bool reset, const int64_t *users,
                              size_t n, int64_t after_seq)
{
    mu_code c = MU_OK;
    if (reset) {
        sqlite3_stmt *st = store_wstmt(w, "DELETE FROM room_joins WHERE room = ?");
        if (st)
            sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
        c = store_step(st, store_wdb(w));
    }
    for (size_t i = 0; c == MU_OK && i < n; i++) {
        sqlite3_stmt *st = store_wstmt(w, "INSERT OR REPLACE INTO room_joins (room, user_id, "
                                          "after_seq) VALUES (?, ?, ?)");
        if (st) {
            sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, users[i]);
            sqlite3_bind_int64(st, 3, after_seq);
        }
        c = store_step(st, store_wdb(w));
    }
    return c;
}

mu_code store_rooms_msg_insert(mu_wtx *w, const char *room, int64_t seq, int64_t ts, int64_t user,
                               const char *from, const char *text, size_t n, const char *cid,
                               size_t cid_len)
{
    sqlite3_stmt *st = store_wstmt(w, "INSERT INTO room_messages (room, seq, ts, user_id, "
                                      "from_handle, text, cid) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (st) {
        sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, seq);
        sqlite3_bind_int64(st, 3, ts);
        sqlite3_bind_int64(st, 4, user);
        sqlite3_bind_text(st, 5, from, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, text, (int)n, SQLITE_STATIC);
        store_bind_text(st, 7, cid, (int)cid_len);
    }
    return store_step(st, store_wdb(w));
}

mu_code store_rooms_user_set(mu_wtx *w, room_user_list list, const char *room, int64_t user,
                             bool on)
{
    bool bans = list == ROOM_BANS;
    /* Four literals: the statement cache is keyed by the text's address. */
    const char *sql = on ? (bans ? "INSERT OR IGNORE INTO room_bans (room, user_id) VALUES (?, ?)"
                                 : "INSERT OR IGNORE INTO room_mutes (room, user_id) VALUES (?, ?)")
                         : (bans ? "DELETE FROM room_bans WHERE room = ? AND user_id = ?"
                                 : "DELETE FROM room_mutes WHERE room = ? AND user_id = ?");
    sqlite3_stmt *st = store_wstmt(w, sql);
    if (st) {
        sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, user);
    }
    return store_step(st, store_wdb(w));
}
