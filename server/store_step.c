/* Stepping and binding statements, shared by every concern's SQL (store_*.c): a statement's
 * outcome as a protocol code, rows into an encoder, a count. Layer: storage, over the base. */
#include "store.h"

#include "log.h"

void store_bind_id(db_stmt *st, int i, int64_t id)
{
    if (id)
        db_bind_i64(st, i, id);
    else
        db_bind_null(st, i);
}

void store_bind_text(db_stmt *st, int i, const char *s, int n)
{
    if (s)
        db_bind_text(st, i, s, n);
    else
        db_bind_null(st, i);
}

static mu_code step_code(db_stmt *st, db_rc rc)
{
    switch (rc) {
    case DB_DONE:
    case DB_ROW: return MU_OK;
    case DB_E_CONSTRAINT: return MU_E_CONFLICT;
    case DB_E_FOREIGN_KEY: return MU_E_NOT_FOUND;
    case DB_E_BUSY: /* a lock held too long, or a deadlock another node won: try again */
        log_warn("a write waited too long for a lock: %s", db_errmsg(db_stmt_conn(st)));
        return MU_E_UNAVAILABLE;
    default:
        log_error("write failed: %s", db_errmsg(db_stmt_conn(st)));
        return rc == DB_E_UNAVAILABLE ? MU_E_UNAVAILABLE : MU_E_INTERNAL;
    }
}

mu_code store_step(db_stmt *st)
{
    if (!st)
        return MU_E_INTERNAL;
    db_rc rc = db_step(st);
    db_reset(st);
    return step_code(st, rc);
}

mu_code store_step_id(db_stmt *st, int64_t *id)
{
    if (!st)
        return MU_E_INTERNAL;
    db_rc rc = db_step(st);
    if (rc == DB_ROW) {
        *id = db_col_i64(st, 0);
        rc = db_step(st); /* to the end, so that the write is complete */
    } else if (rc == DB_DONE) {
        db_reset(st);
        return MU_E_NOT_FOUND; /* no row was written (an UPDATE that matched none) */
    }
    db_reset(st);
    return step_code(st, rc);
}

int store_read_done(db_stmt *st, int rc, int result)
{
    db_reset(st);
    if (rc != DB_DONE && rc != DB_ROW) {
        log_error("read failed: %s", db_errmsg(db_stmt_conn(st)));
        return -1;
    }
    return result;
}

int store_enc_rows(db_stmt *st, mu_enc *e, store_row_fn row)
{
    if (!st)
        return -1;
    mu_enc body;
    mu_enc_init(&body, 0);
    uint32_t n = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        row(&body, st);
        n++;
    }
    if (store_read_done(st, rc, 0) != 0) {
        mu_enc_free(&body);
        return -1;
    }
    mu_enc_array(e, n);
    mu_enc_append(e, &body);
    return 0;
}

int64_t store_count(db_stmt *st)
{
    if (!st)
        return -1;
    int rc = db_step(st);
    int64_t v = rc == DB_ROW ? db_col_i64(st, 0) : -1;
    return store_read_done(st, rc, 0) < 0 ? -1 : v;
}
