/* The SQL of several nodes on one PostgreSQL database (see store_rooms.h): presence in rooms
 * and at their lobbies per node, the nodes' heartbeats, and the floor and raised hands of each
 * meeting. Layer: storage, over the base. */
#include "store_rooms.h"

#include <stdio.h>
#include <string.h>

#include "roles.h"

/* Whoever is in a room through no node (`user` in `room`, or anyone anywhere with NULL) has no
 * raised hand and no floor there: they would come back with them otherwise. */
#define NOWHERE(ROOM, USER)                                                                   \
    "NOT EXISTS (SELECT 1 FROM room_presence p WHERE p.room = " ROOM " AND p.user_id = " USER \
    " AND NOT p.waiting)"

/* The node that raised a hand or gave the floor has gone (stopped, died, or restarted under a
 * new name): a restart starts them empty, as on one node. */
#define GONE(NODE) "NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = " NODE ")"

static mu_code live_forget(mu_wtx *w, const char *room, int64_t user)
{
    db_stmt *st = store_wstmt(
        w, room ? "DELETE FROM room_hands WHERE room = ? AND user_id = ? AND " NOWHERE(
                      "room_hands.room", "room_hands.user_id")
                : "DELETE FROM room_hands WHERE " NOWHERE(
                      "room_hands.room", "room_hands.user_id") " OR " GONE("room_hands.node"));
    if (st && room) {
        db_bind_text(st, 1, room, -1);
        db_bind_i64(st, 2, user);
    }
    mu_code c = store_step(st);
    if (c != MU_OK)
        return c;
    st = store_wstmt(
        w, room ? "UPDATE rooms SET floor_user = NULL, floor_ends = 0 "
                  "WHERE slug = ? AND floor_user = ? AND " NOWHERE("rooms.slug", "rooms.floor_user")
                : "UPDATE rooms SET floor_user = NULL, floor_ends = 0 WHERE floor_user IS NOT NULL "
                  "AND (" NOWHERE("rooms.slug",
                                  "rooms.floor_user") " OR " GONE("rooms.floor_node") ")");
    if (st && room) {
        db_bind_text(st, 1, room, -1);
        db_bind_i64(st, 2, user);
    }
    return store_step(st);
}

mu_code store_rooms_presence_set(mu_wtx *w, const char *room, int64_t user, int64_t node,
                                 presence_state state)
{
    db_stmt *st = store_wstmt(w, state == PRESENCE_OUT
                                     ? "DELETE FROM room_presence "
                                       "WHERE room = ? AND user_id = ? AND node = ?"
                                     : "INSERT INTO room_presence (room, user_id, node, waiting) "
                                       "VALUES (?, ?, ?, ?) "
                                       "ON CONFLICT (room, user_id, node) "
                                       "DO UPDATE SET waiting = excluded.waiting");
    if (st) {
        db_bind_text(st, 1, room, -1);
        db_bind_i64(st, 2, user);
        db_bind_i64(st, 3, node);
        if (state != PRESENCE_OUT)
            db_bind_i64(st, 4, state == PRESENCE_WAITING);
    }
    mu_code c = store_step(st);
    return c == MU_OK && state == PRESENCE_OUT ? live_forget(w, room, user) : c;
}

mu_code store_rooms_lobby_take(mu_wtx *w, const char *room, int64_t user, bool *was)
{
    db_stmt *st =
        store_wstmt(w, "DELETE FROM room_presence WHERE room = ? AND user_id = ? AND waiting");
    if (st) {
        db_bind_text(st, 1, room, -1);
        db_bind_i64(st, 2, user);
    }
    mu_code c = store_step(st);
    *was = c == MU_OK && db_changes(store_wdb(w)) > 0;
    return c;
}

mu_code store_rooms_presence_put(mu_wtx *w, int64_t node, const char *const *rooms,
                                 const int64_t *users, const bool *waiting, size_t n)
{
    db_stmt *st = store_wstmt(w, "DELETE FROM room_presence WHERE node = ?");
    if (st)
        db_bind_i64(st, 1, node);
    mu_code c = store_step(st);
    for (size_t i = 0; c == MU_OK && i < n; i++)
        c = store_rooms_presence_set(w, rooms[i], users[i], node,
                                     waiting[i] ? PRESENCE_WAITING : PRESENCE_IN);
    return c == MU_E_NOT_FOUND ? MU_OK : c;
}

mu_code store_rooms_heartbeat(mu_wtx *w, int64_t node, int64_t stale_ms)
{
    /* The database's clock, so that nodes whose clocks differ (or run a test clock) agree. */
#define DB_NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"
    db_stmt *st = store_wstmt(w, "INSERT INTO nodes (id, seen_ts) VALUES (?, " DB_NOW_MS ") "
                                 "ON CONFLICT (id) DO UPDATE SET seen_ts = excluded.seen_ts");
    if (st)
        db_bind_i64(st, 1, node);
    mu_code c = store_step(st);
    if (c != MU_OK)
        return c;
    st = store_wstmt(w, "DELETE FROM nodes WHERE seen_ts < " DB_NOW_MS " - ?");
    if (st)
        db_bind_i64(st, 1, stale_ms);
    if ((c = store_step(st)) != MU_OK)
        return c;
#undef DB_NOW_MS
    if ((c = store_step(store_wstmt(w, "DELETE FROM room_presence WHERE NOT EXISTS "
                                       "(SELECT 1 FROM nodes n WHERE n.id = node)"))) != MU_OK)
        return c;
    return live_forget(w, NULL, 0);
}

int store_rooms_presence_load(mu_reader *r, int64_t self, room_presence_fn fn, void *ud)
{
    db_stmt *st =
        store_rstmt(r, "SELECT p.room, p.user_id, p.node, u.handle, u.role, p.waiting, "
                       "COALESCE(j.after_seq, -1) "
                       "FROM room_presence p JOIN users u ON u.id = p.user_id "
                       "LEFT JOIN room_joins j ON j.room = p.room AND j.user_id = p.user_id "
                       "WHERE p.node <> ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, self);
    int rc, n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *name = db_col_text(st, 4);
        int role = role_parse(name, strlen(name));
        if (role < 0)
            continue;
        fn(db_col_text(st, 0), db_col_i64(st, 1), db_col_i64(st, 2), db_col_i64(st, 5) != 0,
           db_col_text(st, 3), (mu_role)role, db_col_i64(st, 6), ud);
        n++;
    }
    return store_read_done(st, rc, n);
}

mu_code store_rooms_hand_set(mu_wtx *w, const char *room, int64_t user, bool up, int64_t node)
{
    db_stmt *st = store_wstmt(w, up ? "INSERT INTO room_hands (room, user_id, node) "
                                      "VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
                                    : "DELETE FROM room_hands WHERE room = ? AND user_id = ?");
    if (st) {
        db_bind_text(st, 1, room, -1);
        db_bind_i64(st, 2, user);
        if (up)
            db_bind_i64(st, 3, node);
    }
    return store_step(st);
}

mu_code store_rooms_floor_set(mu_wtx *w, const char *room, int64_t user, int64_t ends, int64_t node)
{
    db_stmt *st = store_wstmt(
        w, "UPDATE rooms SET floor_user = ?, floor_ends = ?, floor_node = ? WHERE slug = ?");
    if (st) {
        if (user)
            db_bind_i64(st, 1, user);
        else
            db_bind_null(st, 1);
        db_bind_i64(st, 2, user ? ends : 0);
        db_bind_i64(st, 3, node);
        db_bind_text(st, 4, room, -1);
    }
    mu_code c = store_step(st);
    return c == MU_OK && user ? store_rooms_hand_set(w, room, user, false, node) : c;
}

mu_code store_rooms_live_clear(mu_wtx *w, const char *room)
{
    mu_code c = store_rooms_floor_set(w, room, 0, 0, 0);
    if (c != MU_OK)
        return c;
    db_stmt *st = store_wstmt(w, "DELETE FROM room_hands WHERE room = ?");
    if (st)
        db_bind_text(st, 1, room, -1);
    return store_step(st);
}

int store_rooms_live_load(mu_reader *r, const char *room, room_live_fn fn, void *ud)
{
    /* One statement, so that the floor and the hands are of the same moment. */
    db_stmt *st = store_rstmt(
        r, room ? "SELECT slug, 0, floor_user, floor_ends, 0 FROM rooms "
                  "WHERE slug = ?1 AND floor_user IS NOT NULL "
                  "UNION ALL SELECT room, 1, user_id, 0, ord FROM room_hands WHERE room = ?1 "
                  "ORDER BY 1, 2, 5"
                : "SELECT slug, 0, floor_user, floor_ends, 0 FROM rooms "
                  "WHERE floor_user IS NOT NULL "
                  "UNION ALL SELECT room, 1, user_id, 0, ord FROM room_hands ORDER BY 1, 2, 5");
    if (!st)
        return -1;
    if (room)
        db_bind_text(st, 1, room, -1);
    int rc, n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        fn(db_col_text(st, 0), db_col_i64(st, 1) != 0, db_col_i64(st, 2), db_col_i64(st, 3), ud);
        n++;
    }
    return store_read_done(st, rc, n);
}
