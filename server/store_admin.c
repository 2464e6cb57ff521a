/* The SQL of data rights and administration (see store_admin.h). Layer: storage, over the base. */
#include "store_admin.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "scoring.h"
#include "store_rooms.h"

int64_t store_admin_count_admins(mu_reader *r)
{
    return store_count(store_rstmt(r, "SELECT count(*) FROM users WHERE role = 'admin'"));
}

int64_t store_admin_count_users(mu_reader *r)
{
    return store_count(store_rstmt(r, "SELECT count(*) FROM users"));
}

int64_t store_admin_count_checkins_since(mu_reader *r, int64_t ts)
{
    db_stmt *st = store_rstmt(r, "SELECT count(*) FROM checkins WHERE ts >= ?");
    if (st)
        db_bind_i64(st, 1, ts);
    return store_count(st);
}

/* A write whose one parameter is an id (or a time). */
static mu_code exec_id(mu_wtx *w, const char *sql, int64_t id)
{
    db_stmt *st = store_wstmt(w, sql);
    if (st)
        db_bind_i64(st, 1, id);
    return store_step(st);
}

/* MU_E_CONFLICT when `user` is an admin and no other admin exists. Counted inside the
 * writer's transaction, so two admins demoting or erasing each other at once leave one. */
static mu_code keep_an_admin(mu_wtx *w, int64_t user)
{
    mu_code c = store_serialize(w, STORE_LOCK_ADMINS, 0);
    if (c != MU_OK)
        return c;
    db_stmt *st = store_wstmt(w, "SELECT count(*) FROM users WHERE role = 'admin' AND id <> ?");
    if (st)
        db_bind_i64(st, 1, user);
    int64_t others = store_count(st);
    db_stmt *is = store_wstmt(w, "SELECT count(*) FROM users WHERE id = ? AND role = 'admin'");
    if (is)
        db_bind_i64(is, 1, user);
    int64_t admin = store_count(is);
    if (others < 0 || admin < 0)
        return MU_E_INTERNAL;
    return admin && !others ? MU_E_CONFLICT : MU_OK;
}

mu_code store_admin_erase_user(mu_wtx *w, int64_t user)
{
    mu_code k = keep_an_admin(w, user);
    if (k != MU_OK)
        return k;
    /* A report's reason is its reporter's words: they go with the reporter. (The copy of a
     * reported message goes with its author's messages, by the schema's trigger.) */
    mu_code c =
        exec_id(w, "UPDATE audit SET reason = NULL WHERE actor_id = ? AND action = 'report'", user);
    /* The audit log has no foreign keys: replace the person before the row goes. */
    if (c == MU_OK)
        c = exec_id(w,
                    "UPDATE audit SET actor = '(erased)', actor_id = NULL "
                    "WHERE actor_id = ?",
                    user);
    if (c == MU_OK)
        c = exec_id(w,
                    "UPDATE audit SET target = '(erased)', target_id = NULL "
                    "WHERE target_id = ?",
                    user);
    /* Everything else goes with the account through ON DELETE CASCADE: tokens, assignments
     * either way, threads and their messages, check-ins, consent, alerts, bans, mutes and
     * messages in stored room history. */
    if (c == MU_OK)
        c = store_rooms_keep_seqs(w, user);
    if (c == MU_OK)
        c = exec_id(w, "DELETE FROM users WHERE id = ?", user);
    store_checkpoint_after(w);
    return c;
}

mu_code store_admin_set_role(mu_wtx *w, int64_t user, mu_role role, int64_t *unassigned)
{
    *unassigned = 0;
    /* In turn with assignments to this user as a mentor (store_dm_assign), across nodes. */
    mu_code l = store_serialize(w, STORE_LOCK_CASELOAD, user);
    if (l != MU_OK)
        return l;
    if (role != ROLE_ADMIN) {
        mu_code k = keep_an_admin(w, user);
        if (k != MU_OK)
            return k;
    }
    db_stmt *st = store_wstmt(w, "UPDATE users SET role = ? WHERE id = ?");
    if (st) {
        db_bind_text(st, 1, role_name(role), -1);
        db_bind_i64(st, 2, user);
    }
    db_conn *db = store_wdb(w);
    mu_code c = store_step(st);
    *unassigned = 0;
    if (c == MU_OK && role != ROLE_MENTOR) {
        /* no longer a mentor: the caseload is unassigned and its open alerts close */
        c = exec_id(w, "DELETE FROM assignments WHERE mentor_id = ?", user);
        *unassigned += db_changes(db);
        if (c == MU_OK)
            c = exec_id(w, "UPDATE alerts SET open = 0 WHERE mentor_id = ? AND open = 1", user);
    }
    if (c == MU_OK && (role == ROLE_MENTOR || role == ROLE_ADMIN)) {
        /* mentors and admins have no mentor */
        c = exec_id(w, "DELETE FROM assignments WHERE user_id = ?", user);
        *unassigned += db_changes(db);
    }
    return c;
}

int store_admin_audit_read(db_conn *db, int64_t since, const char *action, int limit,
                           bool newest_first, audit_fn fn, void *ud)
{
    db_stmt *st;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT ts, actor, action, target, room, detail, seq, reason FROM audit "
             "WHERE ts >= ?1%s ORDER BY %s LIMIT ?2",
             action ? " AND action = ?3" : "", newest_first ? "ts DESC, id DESC" : "ts, id");
    if (!(st = db_prepare(db, sql)))
        return -1;
    db_bind_i64(st, 1, since);
    db_bind_int(st, 2, limit);
    if (action)
        db_bind_text(st, 3, action, -1);
    int rc, n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        audit_row a = {db_col_i64(st, 0),  db_col_i64(st, 6),  db_col_text(st, 1),
                       db_col_text(st, 2), db_col_text(st, 3), db_col_text(st, 4),
                       db_col_text(st, 5), db_col_text(st, 7)};
        fn(&a, ud);
        n++;
    }
    db_finalize(st);
    return rc == DB_DONE ? n : -1;
}

mu_code store_admin_retention(mu_wtx *w, int64_t now, const retention *r)
{
    mu_code c = MU_OK;
    if (r->read_dms_ms)
        c = exec_id(w, "DELETE FROM dms WHERE read = 1 AND ts < ?", now - r->read_dms_ms);
    if (c == MU_OK && r->closed_alerts_ms)
        c = exec_id(w, "DELETE FROM alerts WHERE open = 0 AND closed_ts < ?",
                    now - r->closed_alerts_ms);
    if (c == MU_OK && r->notes_ms)
        c = exec_id(w, "UPDATE checkins SET note = NULL WHERE note IS NOT NULL AND ts < ?",
                    now - r->notes_ms);
    store_checkpoint_after(w);
    return c;
}

/* ---- export ------------------------------------------------------------------------------ */

/* A row as a map with the column names as keys; blobs are MessagePack values written as they
 * are. */
static void enc_column_map(mu_enc *e, db_stmt *st)
{
    int cols = db_col_count(st);
    mu_enc_map(e, (uint32_t)cols);
    for (int i = 0; i < cols; i++) {
        mu_enc_key(e, db_col_name(st, i));
        switch (db_col_type(st, i)) {
        case DB_T_INT: mu_enc_int(e, db_col_i64(st, i)); break;
        case DB_T_TEXT: mu_enc_strn(e, db_col_text(st, i), (size_t)db_col_bytes(st, i)); break;
        case DB_T_BLOB: mu_enc_raw(e, db_col_blob(st, i), (size_t)db_col_bytes(st, i)); break;
        default: mu_enc_nil(e); break;
        }
    }
}

/* Runs a query with the user id bound to ?1 and writes its rows as an array of maps. */
static int rows(mu_reader *r, const char *sql, int64_t user, mu_enc *e)
{
    db_stmt *st = store_rstmt(r, sql);
    if (!st)
        return -1;
    db_bind_i64(st, 1, user);
    return store_enc_rows(st, e, enc_column_map);
}

int store_admin_export(mu_reader *r, int64_t user, mu_enc *e)
{
    /* `pg`: the same for PostgreSQL, where the two differ. */
    static const struct {
        const char *key, *sql, *pg;
    } parts[] = {
        {"checkins",
         "SELECT date(day * 86400, 'unixepoch') AS date, tz, ts, mood, craving, sleep, "
         "use, stage, who5, who5_pct, barc10, barc10_total, triggers, note, flags "
         "FROM checkins WHERE user_id = ?1 ORDER BY day",
         "SELECT to_char(date '1970-01-01' + day::integer, 'YYYY-MM-DD') AS date, tz, ts, mood, "
         "craving, sleep, use, stage, who5, who5_pct, barc10, barc10_total, triggers, note, flags "
         "FROM checkins WHERE user_id = ?1 ORDER BY day"},
        {"dms",
         "SELECT d.id, f.handle AS \"from\", t.handle AS \"to\", d.text, d.ts, "
         "d.read FROM dms d JOIN users f ON f.id = d.from_id JOIN users t ON t.id = d.to_id "
         "WHERE d.from_id = ?1 OR d.to_id = ?1 ORDER BY d.id",
         NULL},
        {"alerts",
         "SELECT a.id, a.kind, u.handle AS mentor, a.ts, a.detail, a.open FROM alerts a "
         "LEFT JOIN users u ON u.id = a.mentor_id WHERE a.user_id = ?1 ORDER BY a.id",
         NULL},
        {"rooms",
         "SELECT room, seq, ts, text FROM room_messages WHERE user_id = ?1 "
         "ORDER BY room, seq",
         NULL},
        {"consent", "SELECT share, ts FROM consent_history WHERE user_id = ?1 ORDER BY id", NULL},
        {"mentor",
         "SELECT u.handle, a.since_ts FROM assignments a JOIN users u ON "
         "u.id = a.mentor_id WHERE a.user_id = ?1",
         NULL},
        {"mentees",
         "SELECT u.handle, a.since_ts FROM assignments a JOIN users u ON "
         "u.id = a.user_id WHERE a.mentor_id = ?1",
         NULL},
        {"bans", "SELECT room FROM room_bans WHERE user_id = ?1", NULL},
        {"mutes", "SELECT room FROM room_mutes WHERE user_id = ?1", NULL},
    };
    _Static_assert(sizeof(parts) / sizeof(parts[0]) == EXPORT_PARTS, "EXPORT_PARTS is wrong");
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        mu_enc_key(e, parts[i].key);
        bool pg = parts[i].pg && db_engine_of(store_reader_db(r)) == DB_POSTGRESQL;
        if (rows(r, pg ? parts[i].pg : parts[i].sql, user, e) != 0)
            return -1;
    }
    return 0;
}

mu_code store_admin_audit_add(mu_wtx *w, int64_t ts, int64_t actor_id, const char *actor,
                              const char *action, int64_t target_id, const char *target,
                              const char *room)
{
    return store_admin_audit_add_detail(w, ts, actor_id, actor, action, target_id, target, room,
                                        NULL);
}

mu_code store_admin_audit_add_detail(mu_wtx *w, int64_t ts, int64_t actor_id, const char *actor,
                                     const char *action, int64_t target_id, const char *target,
                                     const char *room, const char *detail)
{
    db_stmt *st = store_wstmt(w, "INSERT INTO audit (ts, actor_id, actor, action, "
                                 "target_id, target, room, detail) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (st) {
        db_bind_i64(st, 1, ts);
        store_bind_id(st, 2, actor_id);
        db_bind_text(st, 3, actor, -1);
        db_bind_text(st, 4, action, -1);
        store_bind_id(st, 5, target_id);
        store_bind_text(st, 6, target, -1);
        store_bind_text(st, 7, room, -1);
        store_bind_text(st, 8, detail, -1);
    }
    return store_step(st);
}
