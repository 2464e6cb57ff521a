/* The SQL of accounts and sessions (see store_users.h). Layer: storage, over the base. */
#include "store_users.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static void row_user(sqlite3_stmt *st, int col, user_row *out)
{
    out->id = sqlite3_column_int64(st, col);
    snprintf(out->handle, sizeof(out->handle), "%s",
             (const char *)sqlite3_column_text(st, col + 1));
    const char *role = (const char *)sqlite3_column_text(st, col + 2);
    int r = role ? role_parse(role, strlen(role)) : -1;
    out->role = r < 0 ? ROLE_MEMBER : (mu_role)r;
    const char *h = (const char *)sqlite3_column_text(st, col + 3);
    snprintf(out->pwhash, sizeof(out->pwhash), "%s", h ? h : "");
}

static int step_user(sqlite3_stmt *st, user_row *out, int64_t *extra)
{
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row_user(st, 0, out);
        if (extra)
            *extra = sqlite3_column_int64(st, 4);
        sqlite3_reset(st);
        return 1;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    log_error("user lookup failed: %s", sqlite3_errstr(rc));
    return -1;
}

int store_users_find_by_handle(mu_store *s, const char *handle, user_row *out)
{
    sqlite3_stmt *st = store_read(s, "SELECT id, handle, role, pwhash FROM users WHERE handle = ?");
    if (st)
        sqlite3_bind_text(st, 1, handle, -1, SQLITE_STATIC);
    return step_user(st, out, NULL);
}

int store_users_find_by_id(mu_store *s, int64_t id, user_row *out)
{
    sqlite3_stmt *st = store_read(s, "SELECT id, handle, role, pwhash FROM users WHERE id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, id);
    return step_user(st, out, NULL);
}

int store_users_token_find(mu_store *s, const uint8_t hash[32], user_row *out, int64_t *expires_ms)
{
    sqlite3_stmt *st = store_read(s, "SELECT u.id, u.handle, u.role, u.pwhash, t.expires_ts "
                                     "FROM tokens t JOIN users u ON u.id = t.user_id "
                                     "WHERE t.hash = ?");
    if (st)
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    return step_user(st, out, expires_ms);
}

mu_code store_users_insert(mu_wtx *w, const char *handle, mu_role role, const char *pwhash,
                           int64_t now_ms, int64_t *id)
{
    sqlite3_stmt *st =
        store_wstmt(w, "INSERT INTO users (handle, role, pwhash, created_ts) VALUES (?, ?, ?, ?)");
    if (st) {
        sqlite3_bind_text(st, 1, handle, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, role_name(role), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, pwhash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now_ms);
    }
    mu_code c = store_step(st, store_wdb(w));
    if (c == MU_OK)
        *id = sqlite3_last_insert_rowid(store_wdb(w));
    return c;
}

mu_code store_users_token_insert(mu_wtx *w, const uint8_t hash[32], int64_t user_id, int64_t now_ms,
                                 int64_t expires_ms)
{
    sqlite3_stmt *st = store_wstmt(
        w, "INSERT INTO tokens (hash, user_id, issued_ts, expires_ts) VALUES (?, ?, ?, ?)");
    if (st) {
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, user_id);
        sqlite3_bind_int64(st, 3, now_ms);
        sqlite3_bind_int64(st, 4, expires_ms);
    }
    return store_step(st, store_wdb(w));
}

mu_code store_users_token_delete(mu_wtx *w, const uint8_t hash[32])
{
    sqlite3_stmt *st = store_wstmt(w, "DELETE FROM tokens WHERE hash = ?");
    if (st)
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    return store_step(st, store_wdb(w));
}

mu_code store_users_set_password(mu_wtx *w, int64_t user_id, const char *pwhash,
                                 const uint8_t keep[32])
{
    sqlite3_stmt *st = store_wstmt(w, "UPDATE users SET pwhash = ? WHERE id = ?");
    if (st) {
        sqlite3_bind_text(st, 1, pwhash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, user_id);
    }
    mu_code c = store_step(st, store_wdb(w));
    if (c != MU_OK)
        return c;
    if (sqlite3_changes(store_wdb(w)) == 0)
        return MU_E_NOT_FOUND;
    st = store_wstmt(w, "DELETE FROM tokens WHERE user_id = ? AND hash <> ?");
    if (st) {
        sqlite3_bind_int64(st, 1, user_id);
        sqlite3_bind_blob(st, 2, keep, 32, SQLITE_STATIC);
    }
    return store_step(st, store_wdb(w));
}

mu_code store_users_tokens_purge(mu_wtx *w, int64_t now_ms)
{
    sqlite3_stmt *st = store_wstmt(w, "DELETE FROM tokens WHERE expires_ts <= ?");
    if (st)
        sqlite3_bind_int64(st, 1, now_ms);
    return store_step(st, store_wdb(w));
}
