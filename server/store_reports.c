/* The SQL of room.report (see store_reports.h). Layer: storage, over the base. */
#include "store_reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

int store_reports_msg(mu_reader *r, const char *room, int64_t seq, report_msg *out)
{
    memset(out, 0, sizeof(*out));
    db_stmt *st = store_rstmt(r, "SELECT user_id, ts, from_handle, text FROM room_messages "
                                 "WHERE room = ? AND seq = ?");
    if (!st)
        return -1;
    db_bind_text(st, 1, room, -1);
    db_bind_i64(st, 2, seq);
    int rc = db_step(st), found = 0;
    if (rc == DB_ROW) {
        out->user = db_col_i64(st, 0);
        out->ts = db_col_i64(st, 1);
        snprintf(out->from, sizeof(out->from), "%s", db_col_text(st, 2));
        const char *t = db_col_text(st, 3);
        out->text_len = (size_t)db_col_bytes(st, 3);
        out->text = xmalloc(out->text_len + 1);
        memcpy(out->text, t, out->text_len);
        out->text[out->text_len] = '\0';
        found = 1;
    }
    return store_read_done(st, rc, found);
}

void store_reports_msg_free(report_msg *m)
{
    free(m->text);
    m->text = NULL;
}

mu_code store_reports_add(mu_wtx *w, const report_in *in, bool *repeat)
{
    *repeat = false;
    db_stmt *st = store_wstmt(w, "SELECT count(*) FROM room_messages "
                                 "WHERE room = ? AND seq = ?");
    if (st) {
        db_bind_text(st, 1, in->room, -1);
        db_bind_i64(st, 2, in->seq);
    }
    int64_t held = store_count(st);
    if (held < 0)
        return MU_E_INTERNAL;
    if (held == 0) /* erased since the loop read it (the meeting closed meanwhile) */
        return MU_E_NOT_FOUND;
    st = store_wstmt(w, "SELECT count(*) FROM audit WHERE room = ? AND seq = ? "
                        "AND action = 'report' AND actor_id = ? AND detail IS NOT NULL");
    if (st) {
        db_bind_text(st, 1, in->room, -1);
        db_bind_i64(st, 2, in->seq);
        db_bind_i64(st, 3, in->actor_id);
    }
    int64_t before = store_count(st);
    if (before < 0)
        return MU_E_INTERNAL;
    if (before > 0) {
        *repeat = true;
        return MU_OK;
    }
    st = store_wstmt(w, "INSERT INTO audit (ts, actor_id, actor, action, target_id, target, room, "
                        "detail, seq, reason) "
                        "SELECT ?, ?, ?, 'report', user_id, from_handle, room, text, seq, ? "
                        "FROM room_messages WHERE room = ? AND seq = ?");
    if (st) {
        db_bind_i64(st, 1, in->ts);
        db_bind_i64(st, 2, in->actor_id);
        db_bind_text(st, 3, in->actor, -1);
        store_bind_text(st, 4, in->reason, -1);
        db_bind_text(st, 5, in->room, -1);
        db_bind_i64(st, 6, in->seq);
    }
    return store_step(st);
}
