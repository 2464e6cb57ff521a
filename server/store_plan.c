/* The SQL of the recovery plan (see store_plan.h). Layer: storage. */
#include "store_plan.h"

#include <stdlib.h>

const char *const plan_list_keys[PLAN__LISTS] = {"triggers", "warning_signs", "coping"};
const char *const plan_list_kinds[PLAN__LISTS] = {"trigger", "warning_sign", "coping"};

void plan_free(plan_t *p)
{
    for (int g = 0; g < p->ngoals; g++) {
        free(p->goals[g].text);
        for (int s = 0; s < p->goals[g].nsteps; s++)
            free(p->goals[g].steps[s].text);
    }
    for (int l = 0; l < PLAN__LISTS; l++)
        for (int i = 0; i < p->nlist[l]; i++)
            free(p->lists[l][i]);
    for (int i = 0; i < p->npeople; i++) {
        free(p->people[i].name);
        free(p->people[i].phone);
        free(p->people[i].note);
    }
    p->ngoals = p->npeople = 0;
    for (int l = 0; l < PLAN__LISTS; l++)
        p->nlist[l] = 0;
}

mu_code store_plan_put(mu_wtx *w, int64_t user, const plan_t *p, int64_t updated)
{
    /* The old rows go with the plans row (ON DELETE CASCADE down to the steps). */
    db_stmt *st = store_wstmt(w, "DELETE FROM plans WHERE user_id = ?");
    if (st)
        db_bind_i64(st, 1, user);
    mu_code c = store_step(st);
    if (c != MU_OK)
        return c;
    st = store_wstmt(w, "INSERT INTO plans (user_id, updated_ts) VALUES (?, ?)");
    if (st) {
        db_bind_i64(st, 1, user);
        db_bind_i64(st, 2, updated);
    }
    if ((c = store_step(st)) != MU_OK)
        return c;
    for (int g = 0; g < p->ngoals && c == MU_OK; g++) {
        st = store_wstmt(w, "INSERT INTO plan_goals (user_id, pos, text, done) VALUES (?,?,?,?)");
        if (st) {
            db_bind_i64(st, 1, user);
            db_bind_int(st, 2, g);
            db_bind_text(st, 3, p->goals[g].text, -1);
            db_bind_int(st, 4, p->goals[g].done);
        }
        c = store_step(st);
        for (int s = 0; s < p->goals[g].nsteps && c == MU_OK; s++) {
            st = store_wstmt(w, "INSERT INTO plan_steps (user_id, goal_pos, pos, text, done) "
                                "VALUES (?,?,?,?,?)");
            if (st) {
                db_bind_i64(st, 1, user);
                db_bind_int(st, 2, g);
                db_bind_int(st, 3, s);
                db_bind_text(st, 4, p->goals[g].steps[s].text, -1);
                db_bind_int(st, 5, p->goals[g].steps[s].done);
            }
            c = store_step(st);
        }
    }
    for (int l = 0; l < PLAN__LISTS && c == MU_OK; l++) {
        for (int i = 0; i < p->nlist[l] && c == MU_OK; i++) {
            st = store_wstmt(w, "INSERT INTO plan_entries (user_id, kind, pos, text) "
                                "VALUES (?,?,?,?)");
            if (st) {
                db_bind_i64(st, 1, user);
                db_bind_text(st, 2, plan_list_kinds[l], -1);
                db_bind_int(st, 3, i);
                db_bind_text(st, 4, p->lists[l][i], -1);
            }
            c = store_step(st);
        }
    }
    for (int i = 0; i < p->npeople && c == MU_OK; i++) {
        st = store_wstmt(w, "INSERT INTO plan_people (user_id, pos, name, phone, note) "
                            "VALUES (?,?,?,?,?)");
        if (st) {
            db_bind_i64(st, 1, user);
            db_bind_int(st, 2, i);
            db_bind_text(st, 3, p->people[i].name, -1);
            store_bind_text(st, 4, p->people[i].phone, -1);
            store_bind_text(st, 5, p->people[i].note, -1);
        }
        c = store_step(st);
    }
    return c;
}

static void enc_col_text(mu_enc *e, db_stmt *st, int i)
{
    mu_enc_strn(e, db_col_text(st, i), (size_t)db_col_bytes(st, i));
}

static void enc_step_row(mu_enc *e, db_stmt *st)
{
    mu_enc_map(e, 2);
    mu_enc_key(e, "text");
    enc_col_text(e, st, 0);
    mu_enc_kbool(e, "done", db_col_int(st, 1) != 0);
}

/* A goal's steps as an array. */
static int enc_steps(store_from f, int64_t user, int goal, mu_enc *e)
{
    db_stmt *st = store_from_stmt(f, "SELECT text, done FROM plan_steps WHERE user_id = ? AND "
                                     "goal_pos = ? ORDER BY pos");
    if (!st)
        return -1;
    db_bind_i64(st, 1, user);
    db_bind_int(st, 2, goal);
    return store_enc_rows(st, e, enc_step_row);
}

static int enc_goals(store_from f, int64_t user, mu_enc *e)
{
    /* Steps are read per goal after the goals, since one cached statement cannot serve a
     * nested read of itself. */
    int pos[PLAN_GOALS_MAX];
    bool done[PLAN_GOALS_MAX];
    mu_enc texts[PLAN_GOALS_MAX];
    int n = 0, rc;
    db_stmt *st = store_from_stmt(f, "SELECT pos, text, done FROM plan_goals WHERE user_id = ? "
                                     "ORDER BY pos");
    if (!st)
        return -1;
    db_bind_i64(st, 1, user);
    while ((rc = db_step(st)) == DB_ROW && n < PLAN_GOALS_MAX) {
        pos[n] = db_col_int(st, 0);
        done[n] = db_col_int(st, 2) != 0;
        mu_enc_init(&texts[n], 0);
        enc_col_text(&texts[n], st, 1);
        n++;
    }
    if (rc == DB_ROW)
        rc = DB_DONE; /* more rows than a plan may hold cannot be stored; ignore */
    int result = store_read_done(st, rc, 0);
    mu_enc_array(e, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        mu_enc_map(e, 3);
        mu_enc_key(e, "text");
        mu_enc_append(e, &texts[i]);
        if (result == 0) {
            mu_enc_key(e, "steps");
            if (enc_steps(f, user, pos[i], e) != 0) {
                result = -1;
                mu_enc_nil(e);
            }
        } else {
            mu_enc_knil(e, "steps");
        }
        mu_enc_kbool(e, "done", done[i]);
    }
    return result;
}

static void enc_text_row(mu_enc *e, db_stmt *st)
{
    enc_col_text(e, st, 0);
}

static int enc_list(store_from f, int64_t user, const char *kind, mu_enc *e)
{
    db_stmt *st = store_from_stmt(f, "SELECT text FROM plan_entries WHERE user_id = ? AND "
                                     "kind = ? ORDER BY pos");
    if (!st)
        return -1;
    db_bind_i64(st, 1, user);
    db_bind_text(st, 2, kind, -1);
    return store_enc_rows(st, e, enc_text_row);
}

/* A person as a map; phone and note only when set. */
static void enc_person_row(mu_enc *e, db_stmt *st)
{
    bool phone = !db_col_null(st, 1);
    bool note = !db_col_null(st, 2);
    mu_enc_map(e, 1u + phone + note);
    mu_enc_key(e, "name");
    enc_col_text(e, st, 0);
    if (phone) {
        mu_enc_key(e, "phone");
        enc_col_text(e, st, 1);
    }
    if (note) {
        mu_enc_key(e, "note");
        enc_col_text(e, st, 2);
    }
}

static int enc_people(store_from f, int64_t user, mu_enc *e)
{
    db_stmt *st = store_from_stmt(f, "SELECT name, phone, note FROM plan_people WHERE "
                                     "user_id = ? ORDER BY pos");
    if (!st)
        return -1;
    db_bind_i64(st, 1, user);
    return store_enc_rows(st, e, enc_person_row);
}

int store_plan_enc(store_from f, int64_t user, bool with_people, mu_enc *e)
{
    db_stmt *st = store_from_stmt(f, "SELECT updated_ts FROM plans WHERE user_id = ?");
    if (!st)
        return -1;
    db_bind_i64(st, 1, user);
    int64_t updated = 0;
    int rc = db_step(st);
    bool have = rc == DB_ROW;
    if (have) {
        updated = db_col_i64(st, 0);
        rc = DB_DONE;
    }
    if (store_read_done(st, rc, 0) != 0)
        return -1;
    mu_enc_map(e, 5u + with_people);
    mu_enc_key(e, "goals");
    int result = enc_goals(f, user, e);
    for (int l = 0; l < PLAN__LISTS; l++) {
        mu_enc_key(e, plan_list_keys[l]);
        if (result != 0 || enc_list(f, user, plan_list_kinds[l], e) != 0) {
            result = -1;
            mu_enc_nil(e);
        }
    }
    if (with_people) {
        mu_enc_key(e, "people");
        if (result != 0 || enc_people(f, user, e) != 0) {
            result = -1;
            mu_enc_nil(e);
        }
    }
    if (have)
        mu_enc_kint(e, "updated", updated);
    else
        mu_enc_knil(e, "updated");
    return result;
}
