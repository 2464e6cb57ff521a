/* The recovery plan: plan.get, plan.set, mentee.plan (PROTOCOL.md, "Recovery plan, local
 * services, supervision").
 *
 * `people` holds third parties' details: it is returned to the plan's author only. A mentor
 * sees the rest when the mentee shares `scores`, and every such read is audited (read_plan)
 * before the plan goes out. Layer: concerns, over requests and storage. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "context.h"
#include "handlers.h"
#include "reads.h"
#include "store_admin.h"
#include "store_checkins.h"
#include "store_dm.h"
#include "store_plan.h"
#include "store_users.h"
#include "xalloc.h"

#define PLAN_TEXT_MAX 200
#define PLAN_NAME_MAX 60
#define PLAN_PHONE_MAX 30
#define PLAN_NOTE_MAX 200

/* ---- reading the plan object from a request ------------------------------------------- */

typedef struct {
    mu_code code;
    char msg[160];
} plan_err;

static bool fail(plan_err *e, mu_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(plan_err *e, mu_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->code = code;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return false;
}

static const msgpack_object *get(const msgpack_object *map, const char *key)
{
    const msgpack_object *v = mu_map_get(map, key);
    return v && v->type == MSGPACK_OBJECT_NIL ? NULL : v; /* nil means absent */
}

/* A string of lo..hi bytes of UTF-8, copied into *out (NULL when absent and optional, or
 * when empty and lo is 0). Over `hi` is too_large when `big`, else bad_request. */
static bool read_str(const msgpack_object *v, const char *field, size_t lo, size_t hi, bool big,
                     char **out, plan_err *e)
{
    *out = NULL;
    if (!v)
        return lo == 0 || fail(e, MU_E_BAD_REQUEST, "%s is missing.", field);
    if (v->type != MSGPACK_OBJECT_STR)
        return fail(e, MU_E_BAD_REQUEST, "%s must be a string.", field);
    size_t n = v->via.str.size;
    if (!mu_utf8_valid(v->via.str.ptr, n))
        return fail(e, MU_E_BAD_REQUEST, "%s is not valid UTF-8.", field);
    if (n && memchr(v->via.str.ptr, 0, n))
        return fail(e, MU_E_BAD_REQUEST, "%s must not contain the character U+0000.", field);
    if (n > hi)
        return fail(e, big ? MU_E_TOO_LARGE : MU_E_BAD_REQUEST, "%s is longer than %zu bytes.",
                    field, hi);
    if (n < lo)
        return fail(e, MU_E_BAD_REQUEST, "%s must not be empty.", field);
    if (n == 0)
        return true;
    *out = xmalloc(n + 1);
    memcpy(*out, v->via.str.ptr, n);
    (*out)[n] = '\0';
    return true;
}

static bool read_done(const msgpack_object *m, const char *field, bool *out, plan_err *e)
{
    const msgpack_object *v = get(m, "done");
    *out = false;
    if (!v)
        return true;
    if (v->type != MSGPACK_OBJECT_BOOLEAN)
        return fail(e, MU_E_BAD_REQUEST, "%s.done must be true or false.", field);
    *out = v->via.boolean;
    return true;
}

/* An optional array of at most `max` elements: its elements in *items, count in *n. */
static bool read_array(const msgpack_object *m, const char *key, const char *field, int max,
                       const msgpack_object **items, int *n, plan_err *e)
{
    const msgpack_object *v = get(m, key);
    *n = 0;
    *items = NULL;
    if (!v)
        return true;
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return fail(e, MU_E_BAD_REQUEST, "%s must be a list.", field);
    if (v->via.array.size > (uint32_t)max)
        return fail(e, MU_E_BAD_REQUEST, "%s has more than %d entries.", field, max);
    *items = v->via.array.ptr;
    *n = (int)v->via.array.size;
    return true;
}

static bool read_goal(const msgpack_object *g, int gi, plan_goal *out, plan_err *e)
{
    char f[64];
    snprintf(f, sizeof(f), "plan.goals[%d]", gi);
    if (g->type != MSGPACK_OBJECT_MAP)
        return fail(e, MU_E_BAD_REQUEST, "%s must be a map.", f);
    char ft[80];
    snprintf(ft, sizeof(ft), "%s.text", f);
    if (!read_str(get(g, "text"), ft, 1, PLAN_TEXT_MAX, true, &out->text, e) ||
        !read_done(g, f, &out->done, e))
        return false;
    const msgpack_object *steps;
    int n;
    char fs[80];
    snprintf(fs, sizeof(fs), "%s.steps", f);
    if (!read_array(g, "steps", fs, PLAN_STEPS_MAX, &steps, &n, e))
        return false;
    for (int i = 0; i < n; i++) {
        char fi[96];
        snprintf(fi, sizeof(fi), "%s[%d]", fs, i);
        if (steps[i].type != MSGPACK_OBJECT_MAP)
            return fail(e, MU_E_BAD_REQUEST, "%s must be a map.", fi);
        char fit[112];
        snprintf(fit, sizeof(fit), "%s.text", fi);
        plan_step *s = &out->steps[out->nsteps];
        if (!read_str(get(&steps[i], "text"), fit, 1, PLAN_TEXT_MAX, true, &s->text, e))
            return false;
        out->nsteps++;
        if (!read_done(&steps[i], fi, &s->done, e))
            return false;
    }
    return true;
}

/* Fills `p` (the caller frees it with plan_free, whatever the result). */
static bool plan_read(const msgpack_object *o, plan_t *p, plan_err *e)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return fail(e, MU_E_BAD_REQUEST, "plan must be a map.");
    const msgpack_object *items;
    int n;
    if (!read_array(o, "goals", "plan.goals", PLAN_GOALS_MAX, &items, &n, e))
        return false;
    for (int i = 0; i < n; i++) {
        plan_goal *g = &p->goals[p->ngoals++];
        if (!read_goal(&items[i], i, g, e))
            return false;
    }
    for (int l = 0; l < PLAN__LISTS; l++) {
        char f[48];
        snprintf(f, sizeof(f), "plan.%s", plan_list_keys[l]);
        if (!read_array(o, plan_list_keys[l], f, PLAN_LIST_MAX, &items, &n, e))
            return false;
        for (int i = 0; i < n; i++) {
            char fi[64];
            snprintf(fi, sizeof(fi), "%s[%d]", f, i);
            if (!read_str(&items[i], fi, 1, PLAN_TEXT_MAX, true, &p->lists[l][p->nlist[l]], e))
                return false;
            p->nlist[l]++;
        }
    }
    if (!read_array(o, "people", "plan.people", PLAN_PEOPLE_MAX, &items, &n, e))
        return false;
    for (int i = 0; i < n; i++) {
        char f[48], fk[64];
        snprintf(f, sizeof(f), "plan.people[%d]", i);
        if (items[i].type != MSGPACK_OBJECT_MAP)
            return fail(e, MU_E_BAD_REQUEST, "%s must be a map.", f);
        plan_person *pp = &p->people[p->npeople++];
        snprintf(fk, sizeof(fk), "%s.name", f);
        if (!read_str(get(&items[i], "name"), fk, 1, PLAN_NAME_MAX, false, &pp->name, e))
            return false;
        snprintf(fk, sizeof(fk), "%s.phone", f);
        if (!read_str(get(&items[i], "phone"), fk, 0, PLAN_PHONE_MAX, false, &pp->phone, e))
            return false;
        snprintf(fk, sizeof(fk), "%s.note", f);
        if (!read_str(get(&items[i], "note"), fk, 0, PLAN_NOTE_MAX, true, &pp->note, e))
            return false;
    }
    return true;
}

/* ---- plan.get, plan.set ---------------------------------------------------------------- */

static bool get_run(read_call *rc, mu_reader *r)
{
    mu_enc_key(&rc->body, "plan");
    return store_plan_enc((store_from){.r = r}, rc->user, true, &rc->body) == 0 && reads_ok(rc, 1);
}

void op_plan_get(mu_conn *c, mu_request *r)
{
    (void)r;
    reads_submit(reads_new(c, sizeof(read_call), get_run, "the plan"));
}

typedef struct {
    mu_job job;
    mu_conn *c;
    int64_t user; /* the connection is the loop's: the writer reads only the job */
    plan_t plan;
    int64_t ts;
} set_op;

static mu_code set_run(mu_job *j, mu_wtx *w)
{
    set_op *o = (set_op *)j;
    return store_plan_put(w, o->user, &o->plan, o->ts);
}

static void set_done(mu_job *j)
{
    set_op *o = (set_op *)j;
    if (j->result != MU_OK) {
        reply_write_failed(o->c, j->result, "the plan was not saved");
    } else {
        mu_enc e;
        reply_begin(o->c, &e, 1);
        mu_enc_kint(&e, "updated", o->ts);
        reply_end(o->c, &e);
    }
    conn_unref(o->c);
    plan_free(&o->plan);
    free(o);
}

void op_plan_set(mu_conn *c, mu_request *r)
{
    set_op *o = xcalloc(1, sizeof(*o)); /* owned by the job until set_done */
    plan_err e;
    if (!plan_read(mu_req_field(r, "plan")->v.o, &o->plan, &e)) {
        plan_free(&o->plan);
        free(o);
        reply_err(c, e.code, "%s", e.msg);
        return;
    }
    o->c = conn_ref(c);
    o->user = c->user_id;
    o->ts = clock_now_ms();
    o->job.run = set_run;
    o->job.done = set_done;
    store_submit(g_srv->store, &o->job);
}

/* ---- mentee.plan ----------------------------------------------------------------------- */

/* Decided, recorded and read in one writer job, in the writers' order: a reply that carries
 * the plan was decided before any consent withdrawal acknowledged ahead of it, and no read
 * goes unrecorded. */
typedef struct {
    mu_job job;
    mu_conn *c;
    int64_t reader, ts;
    char reader_handle[MU_HANDLE_MAX + 1], asked[MU_HANDLE_MAX + 1];
    mu_enc plan; /* filled on the writer thread, sent from the loop */
} read_op;

static const char *const plan_not_shared =
    "Only a mentee's own mentor sees their plan, and only when they share their scores.";

static mu_code read_run(mu_job *j, mu_wtx *w)
{
    read_op *o = (read_op *)j;
    user_row u;
    mu_code c = mentee_shared_w(w, o->asked, o->reader, &u);
    if (c == MU_OK)
        c = store_admin_audit_add(w, o->ts, o->reader, o->reader_handle, "read_plan", u.id,
                                  u.handle, NULL);
    if (c != MU_OK)
        return c;
    /* Run again from the start if its batch is retried: the encoder starts empty. */
    mu_enc_free(&o->plan);
    mu_enc_init(&o->plan, 0);
    return store_plan_enc((store_from){.w = w}, u.id, false, &o->plan) == 0 ? MU_OK : MU_E_INTERNAL;
}

static void read_done_cb(mu_job *j)
{
    read_op *o = (read_op *)j;
    if (j->result == MU_E_FORBIDDEN) {
        reply_err(o->c, MU_E_FORBIDDEN, "%s", plan_not_shared);
    } else if (j->result != MU_OK) {
        reply_write_failed(o->c, j->result, "the plan was not shown");
    } else {
        mu_enc e;
        reply_begin(o->c, &e, 1);
        mu_enc_key(&e, "plan");
        mu_enc_append(&e, &o->plan); /* frees it */
        mu_enc_init(&o->plan, 0);
        reply_end(o->c, &e);
    }
    mu_enc_free(&o->plan);
    conn_unref(o->c);
    free(o);
}

void op_mentee_plan(mu_conn *c, mu_request *r)
{
    read_op *o = xcalloc(1, sizeof(*o)); /* owned by the job until read_done_cb */
    o->c = conn_ref(c);
    o->reader = c->user_id;
    snprintf(o->reader_handle, sizeof(o->reader_handle), "%s", c->handle);
    snprintf(o->asked, sizeof(o->asked), "%s", mu_req_field(r, "handle")->v.h);
    o->ts = clock_now_ms();
    mu_enc_init(&o->plan, 0);
    o->job.run = read_run;
    o->job.done = read_done_cb;
    store_submit(g_srv->store, &o->job);
}
