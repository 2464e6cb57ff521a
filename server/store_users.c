/* The SQL of accounts and sessions (see store_users.h). Layer: storage, over the base. */
#include "store_users.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static void row_user(db_stmt *st, int col, user_row *out)
{
    out->id = db_col_i64(st, col);
    snprintf(out->handle, sizeof(out->handle), "%s", db_col_text(st, col + 1));
    const char *role = db_col_text(st, col + 2);
    int r = role ? role_parse(role, strlen(role)) : -1;
    out->role = r < 0 ? ROLE_MEMBER : (mu_role)r;
    const char *h = db_col_text(st, col + 3);
    snprintf(out->pwhash, sizeof(out->pwhash), "%s", h ? h : "");
}

static int step_user(db_stmt *st, user_row *out, int64_t *extra)
{
    if (!st)
        return -1;
    int rc = db_step(st);
    if (rc == DB_ROW) {
        row_user(st, 0, out);
        if (extra)
            *extra = db_col_i64(st, 4);
        db_reset(st);
        return 1;
    }
    db_reset(st);
    if (rc == DB_DONE)
        return 0;
    log_error("user lookup failed: %s", db_errmsg(db_stmt_conn(st)));
    return -1;
}

#define BY_HANDLE_SQL "SELECT id, handle, role, pwhash FROM users WHERE handle = ?"

static int find_by_handle(db_stmt *st, const char *handle, user_row *out)
{
    if (st)
        db_bind_text(st, 1, handle, -1);
    return step_user(st, out, NULL);
}

int store_users_find_by_handle(mu_reader *r, const char *handle, user_row *out)
{
    return find_by_handle(store_rstmt(r, BY_HANDLE_SQL), handle, out);
}

int store_users_find_by_handle_w(mu_wtx *w, const char *handle, user_row *out)
{
    return find_by_handle(store_wstmt(w, BY_HANDLE_SQL), handle, out);
}

int store_users_find_by_id(mu_reader *r, int64_t id, user_row *out)
{
    db_stmt *st = store_rstmt(r, "SELECT id, handle, role, pwhash FROM users WHERE id = ?");
    if (st)
        db_bind_i64(st, 1, id);
    return step_user(st, out, NULL);
}

int store_users_token_find(mu_reader *r, const uint8_t hash[32], user_row *out, int64_t *expires_ms)
{
    db_stmt *st = store_rstmt(r, "SELECT u.id, u.handle, u.role, u.pwhash, t.expires_ts "
                                 "FROM tokens t JOIN users u ON u.id = t.user_id "
                                 "WHERE t.hash = ?");
    if (st)
        db_bind_blob(st, 1, hash, 32);
    return step_user(st, out, expires_ms);
}

/* Steps a bound query whose first column is a role: 1 found, 0 none, -1 error. */
static int step_role(db_stmt *st, mu_role *role)
{
    if (!st)
        return -1;
    int rc = db_step(st), found = 0;
    if (rc == DB_ROW) {
        const char *r = db_col_text(st, 0);
        int parsed = role_parse(r, strlen(r));
        *role = parsed < 0 ? ROLE_MEMBER : (mu_role)parsed;
        found = 1;
    }
    return store_read_done(st, rc, found);
}

int store_users_session_w(mu_wtx *w, const uint8_t hash[32], mu_role *role)
{
    db_stmt *st = store_wstmt(w, "SELECT u.role FROM tokens t JOIN users u ON u.id = t.user_id "
                                 "WHERE t.hash = ?");
    if (st)
        db_bind_blob(st, 1, hash, 32);
    return step_role(st, role);
}

int store_users_role_w(mu_wtx *w, int64_t id, mu_role *role)
{
    db_stmt *st = store_wstmt(w, "SELECT role FROM users WHERE id = ?");
    if (st)
        db_bind_i64(st, 1, id);
    return step_role(st, role);
}

int store_users_handle_w(mu_wtx *w, int64_t id, char handle[MU_HANDLE_MAX + 1])
{
    db_stmt *st = store_wstmt(w, "SELECT handle FROM users WHERE id = ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, id);
    int rc = db_step(st), found = 0;
    if (rc == DB_ROW) {
        snprintf(handle, MU_HANDLE_MAX + 1, "%s", db_col_text(st, 0));
        found = 1;
    }
    return store_read_done(st, rc, found);
}

mu_code store_users_insert(mu_wtx *w, const char *handle, mu_role role, const char *pwhash,
                           int64_t now_ms, int64_t *id)
{
    db_stmt *st =
        store_wstmt(w, "INSERT INTO users (handle, role, pwhash, created_ts) VALUES (?, ?, ?, ?) "
                       "RETURNING id");
    if (st) {
        db_bind_text(st, 1, handle, -1);
        db_bind_text(st, 2, role_name(role), -1);
        db_bind_text(st, 3, pwhash, -1);
        db_bind_i64(st, 4, now_ms);
    }
    return store_step_id(st, id);
}

mu_code store_users_token_insert(mu_wtx *w, const uint8_t hash[32], int64_t user_id, int64_t now_ms,
                                 int64_t expires_ms)
{
    db_stmt *st = store_wstmt(
        w, "INSERT INTO tokens (hash, user_id, issued_ts, expires_ts) VALUES (?, ?, ?, ?)");
    if (st) {
        db_bind_blob(st, 1, hash, 32);
        db_bind_i64(st, 2, user_id);
        db_bind_i64(st, 3, now_ms);
        db_bind_i64(st, 4, expires_ms);
    }
    return store_step(st);
}

mu_code store_users_token_delete(mu_wtx *w, const uint8_t hash[32])
{
    db_stmt *st = store_wstmt(w, "DELETE FROM tokens WHERE hash = ?");
    if (st)
        db_bind_blob(st, 1, hash, 32);
    return store_step(st);
}

mu_code store_users_set_password(mu_wtx *w, int64_t user_id, const char *pwhash,
                                 const uint8_t keep[32])
{
    db_stmt *st = store_wstmt(w, "UPDATE users SET pwhash = ? WHERE id = ?");
    if (st) {
        db_bind_text(st, 1, pwhash, -1);
        db_bind_i64(st, 2, user_id);
    }
    mu_code c = store_step(st);
    if (c != MU_OK)
        return c;
    if (db_changes(store_wdb(w)) == 0)
        return MU_E_NOT_FOUND;
    st = store_wstmt(w, "DELETE FROM tokens WHERE user_id = ? AND hash <> ?");
    if (st) {
        db_bind_i64(st, 1, user_id);
        db_bind_blob(st, 2, keep, 32);
    }
    return store_step(st);
}

mu_code store_users_tokens_purge(mu_wtx *w, int64_t now_ms)
{
    db_stmt *st = store_wstmt(w, "DELETE FROM tokens WHERE expires_ts <= ?");
    if (st)
        db_bind_i64(st, 1, now_ms);
    return store_step(st);
}
