/* Data rights and administration: me.delete, user.create, user.role, audit.list,
 * stats, and test.clock. Layer: concerns, over requests and storage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "context.h"
#include "reads.h"
#include "events.h"
#include "handlers.h"
#include "log.h"
#include "password.h"
#include "pool.h"
#include "rooms.h"
#include "session.h"
#include "store_admin.h"
#include "store_users.h"
#include "xalloc.h"

void op_test_clock(mu_conn *c, mu_request *r)
{
    if (c->role != ROLE_ADMIN) {
        reply_err(c, MU_E_FORBIDDEN, "Only an admin may move the test clock.");
        return;
    }
    uint64_t secs = mu_req_field(r, "advance")->v.u;
    log_info("test clock moved forward %llu s by %s", (unsigned long long)secs, c->handle);
    clock_advance((int64_t)secs * 1000);
    mu_enc e;
    reply_begin(c, &e, 1);
    mu_enc_kint(&e, "ts", clock_now_ms());
    reply_end(c, &e);
}

/* ---- data rights --------------------------------------------------------------------------- */

typedef struct {
    mu_job job;
    mu_work work;
    mu_conn *c;
    int64_t user;
    char handle[MU_HANDLE_MAX + 1];
    mu_role role;
    char pw[129];
    size_t pw_len;
    char hash[crypto_pwhash_STRBYTES];
    bool ok;
    bool aborted;    /* the server is stopping: the work did not run */
    mu_netaddr addr; /* me.delete: where the password came from, for the login throttle */
    int64_t started;
    int64_t unassigned;
    int64_t actor_id, ts; /* who asked and when, taken on the loop for the audit entry */
    char actor[MU_HANDLE_MAX + 1];
} admin_op;

static admin_op *aop_new(mu_conn *c)
{
    admin_op *o = xcalloc(1, sizeof(*o));
    o->c = conn_ref(c);
    return o;
}

static void aop_free(admin_op *o)
{
    conn_unref(o->c);
    sodium_memzero(o, sizeof(*o));
    free(o);
}

static const char *const last_admin_erase =
    "You are the last admin; make another admin before erasing this account.";

static void close_erased(mu_conn *c, void *ud)
{
    (void)ud;
    conn_close(c, CLOSE_NORMAL);
}

static mu_code erase_run(mu_job *j, mu_wtx *w)
{
    admin_op *o = (admin_op *)j;
    mu_code c = store_admin_erase_user(w, o->user);
    return c == MU_OK ? events_publish(w, "erased", o->user, 0, 0) : c;
}

static void erase_done(mu_job *j)
{
    admin_op *o = (admin_op *)j;
    if (j->result == MU_E_CONFLICT) {
        reply_err(o->c, MU_E_CONFLICT, "%s", last_admin_erase);
    } else if (j->result != MU_OK) {
        reply_write_failed(o->c, j->result, "the account was not erased");
    } else {
        log_info("an account was erased at its owner's request");
        reply_empty(o->c);
        rooms_forget_user(o->user);
        conn_foreach_user(o->user, close_erased, NULL);
        conn_close(o->c, CLOSE_NORMAL);
    }
    aop_free(o);
}

static void verify_run(uv_work_t *w)
{
    admin_op *o = w->data;
    o->aborted = pool_stopping();
    o->ok = !o->aborted && password_verify(o->hash, o->pw, o->pw_len);
}

static void verify_done(uv_work_t *w, int status)
{
    admin_op *o = w->data;
    if (status != 0 || o->aborted) {
        reply_err(o->c, MU_E_UNAVAILABLE, "The server is stopping; nothing was erased.");
        aop_free(o);
        return;
    }
    if (!o->ok) {
        /* Counted as a failed login when it started. */
        reply_err(o->c, MU_E_FORBIDDEN, "That password is not right; nothing was erased.");
        aop_free(o);
        return;
    }
    session_attempt_passed(o->handle, &o->addr, o->started, false);
    o->job.run = erase_run;
    o->job.done = erase_done;
    store_submit(g_srv->store, &o->job);
}

typedef struct {
    read_call rc;
    int found;
    user_row u;
} delete_call;

/* The account's password hash, and a quick refusal for the last admin (the erase decides it
 * again in the write). */
static bool delete_run(read_call *rc, mu_reader *r)
{
    delete_call *k = (delete_call *)rc;
    if (rc->role == ROLE_ADMIN) {
        int64_t admins = store_admin_count_admins(r);
        if (admins < 0)
            return false;
        if (admins <= 1)
            return reads_refuse(rc, MU_E_CONFLICT, "%s", last_admin_erase);
    }
    k->found = store_users_find_by_id(r, rc->user, &k->u);
    return k->found >= 0;
}

static void delete_wipe(read_call *rc)
{
    delete_call *k = (delete_call *)rc;
    sodium_memzero(&k->u, sizeof(k->u));
}

static void delete_found(read_call *rc)
{
    delete_call *k = (delete_call *)rc;
    mu_conn *c = rc->c;
    if (!reads_same_account(rc, k->found))
        return;
    int64_t started;
    if (!session_attempt_begin(c, c->handle, &c->addr, &started))
        return;
    admin_op *o = aop_new(c);
    o->user = c->user_id;
    o->addr = c->addr;
    o->started = started;
    snprintf(o->handle, sizeof(o->handle), "%s", c->handle);
    memcpy(o->hash, k->u.pwhash, sizeof(o->hash));
    const mu_val *pw = mu_req_field(rc->req, "password");
    o->pw_len = pw->v.s.n < 128 ? pw->v.s.n : 128;
    memcpy(o->pw, pw->v.s.p, o->pw_len);
    o->work.req.data = o;
    if (pool_queue(g_srv->loop, &o->work, verify_run, verify_done) != 0) {
        reply_err(c, MU_E_INTERNAL, "Could not check the password.");
        aop_free(o);
    }
}

void op_me_delete(mu_conn *c, mu_request *r)
{
    (void)r;
    read_call *rc = reads_new(c, sizeof(delete_call), delete_run, "the account");
    rc->then = delete_found;
    rc->release = delete_wipe;
    reads_submit(rc);
}

/* ---- administration ------------------------------------------------------------------------ */

static bool admin_only(mu_conn *c)
{
    if (c->role != ROLE_ADMIN) {
        reply_err(c, MU_E_FORBIDDEN, "Only an admin may do that.");
        return false;
    }
    return true;
}

static mu_code create_run(mu_job *j, mu_wtx *w)
{
    admin_op *o = (admin_op *)j;
    return store_users_insert(w, o->handle, o->role, o->hash, clock_now_ms(), &o->user);
}

static void create_done(mu_job *j)
{
    admin_op *o = (admin_op *)j;
    if (j->result == MU_E_CONFLICT) {
        reply_err(o->c, MU_E_CONFLICT, "That handle is taken.");
    } else if (j->result != MU_OK) {
        reply_write_failed(o->c, j->result, "the account was not created");
    } else {
        mu_enc e;
        reply_begin(o->c, &e, 1);
        mu_enc_key(&e, "user");
        role_enc_user(&e, o->handle, o->role);
        reply_end(o->c, &e);
    }
    aop_free(o);
}

static void hash_run(uv_work_t *w)
{
    admin_op *o = w->data;
    o->aborted = pool_stopping();
    o->ok = !o->aborted && password_hash(o->pw, o->pw_len, o->hash) == 0;
}

static void hash_done(uv_work_t *w, int status)
{
    admin_op *o = w->data;
    if (status != 0 || o->aborted) {
        reply_err(o->c, MU_E_UNAVAILABLE, "The server is stopping; nothing was created.");
        aop_free(o);
        return;
    }
    if (!o->ok) {
        reply_err(o->c, MU_E_INTERNAL, "Password hashing failed.");
        aop_free(o);
        return;
    }
    o->job.run = create_run;
    o->job.done = create_done;
    store_submit(g_srv->store, &o->job);
}

/* A taken handle is refused before a password is hashed for it (the insert decides). */
static bool handle_free_run(read_call *rc, mu_reader *r)
{
    user_row u;
    int f = store_users_find_by_handle(r, mu_req_field(rc->req, "handle")->v.h, &u);
    sodium_memzero(&u, sizeof(u));
    if (f > 0)
        reads_refuse(rc, MU_E_CONFLICT, "That handle is taken.");
    return f >= 0;
}

static void create_handle_free(read_call *rc)
{
    mu_conn *c = rc->c;
    admin_op *o = aop_new(c);
    snprintf(o->handle, sizeof(o->handle), "%s", mu_req_field(rc->req, "handle")->v.h);
    const mu_val *role = mu_req_field(rc->req, "role"), *pw = mu_req_field(rc->req, "password");
    o->role = (mu_role)role_parse(role->v.s.p, role->v.s.n); /* the op table checked it */
    o->pw_len = pw->v.s.n;
    memcpy(o->pw, pw->v.s.p, o->pw_len);
    o->work.req.data = o;
    if (pool_queue(g_srv->loop, &o->work, hash_run, hash_done) != 0) {
        reply_err(c, MU_E_INTERNAL, "Could not start password hashing.");
        aop_free(o);
    }
}

void op_user_create(mu_conn *c, mu_request *r)
{
    (void)r;
    if (!admin_only(c))
        return;
    read_call *rc = reads_new(c, sizeof(*rc), handle_free_run, "accounts");
    rc->then = create_handle_free;
    reads_submit(rc);
}

static mu_code role_run(mu_job *j, mu_wtx *w)
{
    admin_op *o = (admin_op *)j;
    user_row u;
    int f = store_users_find_by_handle_w(w, o->handle, &u);
    sodium_memzero(u.pwhash, sizeof(u.pwhash));
    if (f <= 0)
        return f < 0 ? MU_E_INTERNAL : MU_E_NOT_FOUND;
    o->user = u.id;
    mu_code c = store_admin_set_role(w, o->user, o->role, &o->unassigned);
    if (c == MU_OK)
        c = store_admin_audit_add_detail(w, o->ts, o->actor_id, o->actor, "role", o->user,
                                         o->handle, NULL, role_name(o->role));
    if (c == MU_OK)
        c = events_publish(w, "role", o->user, o->role, o->actor_id);
    return c;
}

static void set_live_role(mu_conn *c, void *ud)
{
    c->role = *(mu_role *)ud;
}

static void role_done(mu_job *j)
{
    admin_op *o = (admin_op *)j;
    if (j->result == MU_E_CONFLICT) {
        reply_err(o->c, MU_E_CONFLICT, "That is the last admin; make another admin first.");
    } else if (j->result == MU_E_NOT_FOUND) {
        reply_err(o->c, MU_E_NOT_FOUND, "No account has that handle.");
    } else if (j->result != MU_OK) {
        reply_write_failed(o->c, j->result, "the role was not changed");
    } else {
        /* At once: the user's open connections act with the new role from now on. */
        conn_foreach_user(o->user, set_live_role, &o->role);
        rooms_role_changed(o->user, o->role, o->actor);
        reply_empty(o->c);
    }
    aop_free(o);
}

void op_user_role(mu_conn *c, mu_request *r)
{
    if (!admin_only(c))
        return;
    admin_op *o = aop_new(c);
    /* Whose role, and whether it leaves no admin, are decided in the write. */
    snprintf(o->handle, sizeof(o->handle), "%s", mu_req_field(r, "handle")->v.h);
    const mu_val *rv = mu_req_field(r, "role");
    o->role = (mu_role)role_parse(rv->v.s.p, rv->v.s.n); /* the op table checked it */
    o->actor_id = c->user_id;
    snprintf(o->actor, sizeof(o->actor), "%s", c->handle); /* who changed it */
    o->ts = clock_now_ms();
    o->job.run = role_run;
    o->job.done = role_done;
    store_submit(g_srv->store, &o->job);
}

typedef struct {
    mu_enc body;
    uint32_t n;
} audit_out;

static void put_audit(const audit_row *a, void *ud)
{
    audit_out *o = ud;
    mu_enc_map(&o->body,
               4 + (a->room != NULL) + (a->detail != NULL) + (a->seq != 0) + (a->reason != NULL));
    mu_enc_kint(&o->body, "ts", a->ts);
    mu_enc_kstr(&o->body, "actor", a->actor);
    mu_enc_kstr(&o->body, "action", a->action);
    mu_enc_kstr(&o->body, "target", a->target);
    if (a->room)
        mu_enc_kstr(&o->body, "room", a->room);
    if (a->detail)
        mu_enc_kstr(&o->body, "detail", a->detail);
    /* a report's message and its reporter's reason (an extension: protocol/README.md) */
    if (a->seq)
        mu_enc_kint(&o->body, "seq", a->seq);
    if (a->reason)
        mu_enc_kstr(&o->body, "reason", a->reason);
    o->n++;
}

typedef struct {
    read_call rc;
    char action[32]; /* one of the op table's actions, all short; "" for any */
    int64_t since;
    int limit;
} audit_call;

static bool audit_run(read_call *rc, mu_reader *r)
{
    audit_call *k = (audit_call *)rc;
    audit_out o = {0};
    mu_enc_init(&o.body, 0);
    if (store_admin_audit_read(store_reader_db(r), k->since, k->action[0] ? k->action : NULL,
                               k->limit, true, put_audit, &o) < 0) {
        mu_enc_free(&o.body);
        return false;
    }
    return reads_list(rc, "entries", o.n, &o.body);
}

void op_audit_list(mu_conn *c, mu_request *r)
{
    if (!admin_only(c))
        return;
    const mu_val *since = mu_req_field(r, "since"), *limit = mu_req_field(r, "limit"),
                 *action = mu_req_field(r, "action");
    audit_call *k = (audit_call *)reads_new(c, sizeof(*k), audit_run, "the audit log");
    if (action->present)
        snprintf(k->action, sizeof(k->action), "%.*s", (int)action->v.s.n, action->v.s.p);
    k->since = since->present ? (int64_t)since->v.u : 0;
    k->limit = limit->present ? (int)limit->v.u : 100;
    reads_submit(&k->rc);
}

typedef struct {
    read_call rc;
    int64_t now, connections, rooms_open; /* this node's, known on the loop */
} stats_call;

static bool stats_run(read_call *rc, mu_reader *r)
{
    stats_call *k = (stats_call *)rc;
    int64_t users = store_admin_count_users(r);
    int64_t today = store_admin_count_checkins_since(r, k->now - k->now % 86400000);
    if (users < 0 || today < 0)
        return false;
    mu_enc_kint(&rc->body, "connections", k->connections);
    mu_enc_kint(&rc->body, "users", users);
    mu_enc_kint(&rc->body, "rooms_open", k->rooms_open);
    mu_enc_kint(&rc->body, "checkins_today", today);
    return reads_ok(rc, 4);
}

void op_stats(mu_conn *c, mu_request *r)
{
    (void)r;
    if (!admin_only(c))
        return;
    stats_call *k = (stats_call *)reads_new(c, sizeof(*k), stats_run, "the figures");
    k->now = clock_now_ms();
    k->connections = (int64_t)conn_count();
    k->rooms_open = rooms_open_count();
    reads_submit(&k->rc);
}
