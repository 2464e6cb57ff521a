/* Accounts: register, login, resume, logout, password.set, ping.
 *
 * Password hashing runs on the libuv thread pool; every write goes through the writer and the
 * reply waits for its commit. One auth_op carries a request through those steps.
 * Layer: concerns, over requests and storage. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "context.h"
#include "events.h"
#include "handlers.h"
#include "log.h"
#include "reads.h"
#include "password.h"
#include "peers.h"
#include "pool.h"
#include "session.h"
#include "store_users.h"
#include "xalloc.h"

typedef struct auth_op auth_op;
typedef void (*auth_step)(auth_op *a);

struct auth_op {
    mu_job job; /* first: the writer hands the job back */
    mu_work work;
    mu_conn *c; /* a reference, dropped in op_free */
    auth_step after_work;
    char handle[MU_HANDLE_MAX + 1];
    mu_role role;
    int64_t user_id;
    char pw[129], pw_new[129];
    size_t pw_len, pw_new_len;
    char hash[crypto_pwhash_STRBYTES];
    char token[TOKEN_CHARS + 1];
    uint8_t token_hash[TOKEN_HASH_BYTES];
    int64_t now, expires;
    mu_netaddr addr; /* the connection's source address, for the throttles */
    int64_t started; /* when the throttled attempt began (session_attempt_begin) */
    bool counted;    /* a registration counted against its address */
    int work_kind;
    bool ok;
    bool aborted; /* the server is stopping: the work did not run */
};

static auth_op *op_new(mu_conn *c)
{
    auth_op *a = xcalloc(1, sizeof(*a));
    a->c = conn_ref(c);
    a->addr = c->addr;
    return a;
}

static void op_free(auth_op *a)
{
    if (a->counted) /* a registration that did not happen does not count */
        peers_register_failed(&a->addr, a->started);
    conn_unref(a->c);
    sodium_memzero(a, sizeof(*a)); /* passwords, hashes and the token */
    free(a);
}

static void copy_str(const mu_val *v, char *dst, size_t cap, size_t *len)
{
    size_t n = v->v.s.n < cap - 1 ? v->v.s.n : cap - 1;
    memcpy(dst, v->v.s.p, n);
    dst[n] = 0;
    if (len)
        *len = n;
}

static int64_t token_lifetime_ms(void)
{
    return (int64_t)g_srv->cfg.token_lifetime_days * 86400000;
}

/* ---- the thread-pool step --------------------------------------------------------------- */

enum { WORK_HASH, WORK_VERIFY, WORK_VERIFY_THEN_HASH };

/* Hashing is deliberately slow and uses a whole core for tens of milliseconds. Thread-pool
 * threads that hash run at a lower priority than the loop, so that on a small machine a
 * request that needs no hash (a ping, a message) is not kept waiting behind one. */
static void lower_thread_priority(void)
{
#ifdef __linux__
    static _Thread_local bool done;
    if (!done) {
        done = true;
        setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
    }
#endif
}

static void work_run(uv_work_t *w)
{
    auth_op *a = w->data;
    if (pool_stopping()) {
        a->aborted = true;
        return;
    }
    lower_thread_priority();
    switch (a->work_kind) {
    case WORK_HASH: a->ok = password_hash(a->pw, a->pw_len, a->hash) == 0; break;
    case WORK_VERIFY: a->ok = password_verify(a->hash, a->pw, a->pw_len); break;
    case WORK_VERIFY_THEN_HASH:
        a->ok = password_verify(a->hash, a->pw, a->pw_len) &&
                password_hash(a->pw_new, a->pw_new_len, a->hash) == 0;
        break;
    }
}

static void work_done(uv_work_t *w, int status)
{
    auth_op *a = w->data;
    if (status != 0 || a->aborted) {
        /* Neither a wrong password nor a failure of the person's: say so. */
        reply_err(a->c, MU_E_UNAVAILABLE, "The server is stopping; try again in a moment.");
        op_free(a);
        return;
    }
    a->after_work(a);
}

static void start_work(auth_op *a, int kind, auth_step next)
{
    a->work_kind = kind;
    a->after_work = next;
    a->work.req.data = a;
    if (pool_queue(g_srv->loop, &a->work, work_run, work_done) != 0) {
        reply_err(a->c, MU_E_INTERNAL, "Could not start password hashing.");
        op_free(a);
    }
}

static void submit(auth_op *a, job_run_fn run, job_done_fn done)
{
    a->job.run = run;
    a->job.done = done;
    store_submit(g_srv->store, &a->job);
}

/* After a password check: a new session token, stored by `run` with whatever else it writes.
 * A connection that went while the hash ran gets nothing. */
static void issue_token(auth_op *a, job_run_fn run, job_done_fn done)
{
    if (!conn_alive(a->c)) {
        reply_err(a->c, MU_E_UNAVAILABLE, "The connection closed.");
        op_free(a);
        return;
    }
    token_new(a->token, a->token_hash);
    a->now = clock_now_ms();
    a->expires = a->now + token_lifetime_ms();
    submit(a, run, done);
}

/* A success that signs the connection in: {user, token} or {user}. */
static void reply_signed_in(auth_op *a, bool with_token)
{
    mu_conn *c = a->c;
    conn_authenticate(c, a->user_id, a->handle, a->role, a->token_hash);
    mu_enc e;
    reply_begin(c, &e, with_token ? 2 : 1);
    mu_enc_key(&e, "user");
    role_enc_user(&e, a->handle, a->role);
    if (with_token)
        mu_enc_kstr(&e, "token", a->token);
    reply_end(c, &e);
    session_signed_in(c);
}

/* ---- register --------------------------------------------------------------------------- */

static mu_code register_run(mu_job *j, mu_wtx *w)
{
    auth_op *a = (auth_op *)j;
    mu_code c = store_users_insert(w, a->handle, a->role, a->hash, a->now, &a->user_id);
    if (c != MU_OK)
        return c;
    return store_users_token_insert(w, a->token_hash, a->user_id, a->now, a->expires);
}

static void register_done(mu_job *j)
{
    auth_op *a = (auth_op *)j;
    if (j->result == MU_E_CONFLICT)
        reply_err(a->c, MU_E_CONFLICT, "That handle is taken; choose another.");
    else if (j->result != MU_OK)
        reply_write_failed(a->c, j->result, "nothing was saved");
    else {
        a->counted = false; /* it happened: it stays counted */
        reply_signed_in(a, true);
    }
    op_free(a);
}

static void register_hashed(auth_op *a)
{
    if (!a->ok) {
        reply_err(a->c, MU_E_INTERNAL, "Password hashing failed.");
        op_free(a);
        return;
    }
    issue_token(a, register_run, register_done);
}

/* A taken handle is refused before a password is hashed for it. */
static bool register_free_run(read_call *rc, mu_reader *r)
{
    user_row u;
    int found = store_users_find_by_handle(r, mu_req_field(rc->req, "handle")->v.h, &u);
    sodium_memzero(&u, sizeof(u));
    if (found > 0)
        reads_refuse(rc, MU_E_CONFLICT, "That handle is taken; choose another.");
    return found >= 0;
}

/* The handle is free (as far as a read can tell: the insert decides). */
static void register_free(read_call *rc)
{
    mu_conn *c = rc->c;
    const mu_request *r = rc->req;
    const mu_val *role = mu_req_field(r, "role");
    const char *handle = mu_req_field(r, "handle")->v.h;
    int64_t now = clock_now_ms();
    int64_t wait = peers_register_wait(&c->addr, now);
    if (wait > 0) {
        reply_err_retry(c, wait, "Too many new accounts from this address; try again later.");
        return;
    }
    auth_op *a = op_new(c);
    /* Counted from the start, so that parallel registrations cannot pass the limit. */
    peers_register_started(&c->addr, now);
    a->started = now;
    a->counted = true;
    snprintf(a->handle, sizeof(a->handle), "%s", handle);
    a->role = role->present ? (mu_role)role_parse(role->v.s.p, role->v.s.n) : ROLE_MEMBER;
    copy_str(mu_req_field(r, "password"), a->pw, sizeof(a->pw), &a->pw_len);
    start_work(a, WORK_HASH, register_hashed);
}

void op_register(mu_conn *c, mu_request *r)
{
    (void)r;
    if (c->state == CONN_AUTHENTICATED) {
        reply_err(c, MU_E_CONFLICT, "This connection is already signed in.");
        return;
    }
    if (!g_srv->cfg.open_registration) {
        reply_err(c, MU_E_FORBIDDEN,
                  "Registration is closed on this server; ask its administrator.");
        return;
    }
    read_call *rc = reads_new(c, sizeof(*rc), register_free_run, "accounts");
    rc->then = register_free;
    reads_submit(rc);
}

/* ---- login ------------------------------------------------------------------------------ */

static mu_code login_run(mu_job *j, mu_wtx *w)
{
    auth_op *a = (auth_op *)j;
    return store_users_token_insert(w, a->token_hash, a->user_id, a->now, a->expires);
}

static void login_done(mu_job *j)
{
    auth_op *a = (auth_op *)j;
    if (j->result == MU_E_NOT_FOUND) /* the account went while the password was checked */
        reply_err(a->c, MU_E_UNAUTHENTICATED, "Wrong handle or password.");
    else if (j->result != MU_OK)
        reply_write_failed(a->c, j->result, "nothing was saved");
    else
        reply_signed_in(a, true);
    op_free(a);
}

static void login_verified(auth_op *a)
{
    if (!a->ok || a->user_id == 0) {
        /* Already counted as a failure when it started. */
        reply_err(a->c, MU_E_UNAUTHENTICATED, "Wrong handle or password.");
        op_free(a);
        return;
    }
    session_attempt_passed(a->handle, &a->addr, a->started, true);
    issue_token(a, login_run, login_done);
}

/* A login's account, read off the loop. */
typedef struct {
    read_call rc;
    int found;
    user_row u;
} account_call;

static bool account_by_handle_run(read_call *rc, mu_reader *r)
{
    account_call *k = (account_call *)rc;
    k->found = store_users_find_by_handle(r, mu_req_field(rc->req, "handle")->v.h, &k->u);
    return k->found >= 0;
}

static void account_wipe(read_call *rc)
{
    account_call *k = (account_call *)rc;
    sodium_memzero(&k->u, sizeof(k->u));
}

static void login_found(read_call *rc)
{
    account_call *k = (account_call *)rc;
    mu_conn *c = rc->c;
    const char *handle = mu_req_field(rc->req, "handle")->v.h;
    int64_t started;
    if (!session_attempt_begin(c, handle, &c->addr, &started))
        return;
    auth_op *a = op_new(c);
    a->started = started;
    snprintf(a->handle, sizeof(a->handle), "%s", handle);
    copy_str(mu_req_field(rc->req, "password"), a->pw, sizeof(a->pw), &a->pw_len);
    if (k->found) {
        a->user_id = k->u.id;
        a->role = k->u.role;
        memcpy(a->hash, k->u.pwhash, sizeof(a->hash));
    } else {
        /* An unknown handle costs the same hash as a known one, so timing tells nothing. */
        memcpy(a->hash, g_srv->dummy_hash, sizeof(a->hash));
    }
    start_work(a, WORK_VERIFY, login_verified);
}

void op_login(mu_conn *c, mu_request *r)
{
    (void)r;
    if (c->state == CONN_AUTHENTICATED) {
        reply_err(c, MU_E_CONFLICT, "This connection is already signed in.");
        return;
    }
    read_call *rc = reads_new(c, sizeof(account_call), account_by_handle_run, "accounts");
    rc->then = login_found;
    rc->release = account_wipe;
    reads_submit(rc);
}

/* ---- resume ----------------------------------------------------------------------------- */

typedef struct {
    read_call rc;
    uint8_t hash[TOKEN_HASH_BYTES];
    int found;
    user_row u;
    int64_t expires;
} resume_call;

static bool resume_run(read_call *rc, mu_reader *r)
{
    resume_call *k = (resume_call *)rc;
    k->found = store_users_token_find(r, k->hash, &k->u, &k->expires);
    return k->found >= 0;
}

static void resume_wipe(read_call *rc)
{
    resume_call *k = (resume_call *)rc;
    sodium_memzero(&k->u, sizeof(k->u));
    sodium_memzero(k->hash, sizeof(k->hash));
}

static void resume_found(read_call *rc)
{
    resume_call *k = (resume_call *)rc;
    mu_conn *c = rc->c;
    if (!k->found || k->expires <= clock_now_ms()) {
        reply_err(c, MU_E_UNAUTHENTICATED,
                  "That session has expired or was signed out; log in again.");
        return;
    }
    if (c->state == CONN_AUTHENTICATED)
        session_signed_out(c); /* a resume switches the connection to the token's session */
    conn_authenticate(c, k->u.id, k->u.handle, k->u.role, k->hash);
    mu_enc e;
    reply_begin(c, &e, 1);
    mu_enc_key(&e, "user");
    role_enc_user(&e, k->u.handle, k->u.role);
    reply_end(c, &e);
    session_signed_in(c);
}

void op_resume(mu_conn *c, mu_request *r)
{
    const mu_val *t = mu_req_field(r, "token");
    resume_call *k = (resume_call *)reads_new(c, sizeof(*k), resume_run, "sessions");
    token_hash(t->v.s.p, t->v.s.n, k->hash);
    k->rc.then = resume_found;
    k->rc.release = resume_wipe;
    reads_submit(&k->rc);
}

/* ---- logout ----------------------------------------------------------------------------- */

static mu_code logout_run(mu_job *j, mu_wtx *w)
{
    return store_users_token_delete(w, ((auth_op *)j)->token_hash);
}

static void logout_done(mu_job *j)
{
    auth_op *a = (auth_op *)j;
    if (j->result != MU_OK) {
        reply_write_failed(a->c, j->result, "nothing was saved");
    } else {
        session_signed_out(a->c);
        reply_empty(a->c);
    }
    op_free(a);
}

void op_logout(mu_conn *c, mu_request *r)
{
    auth_op *a = op_new(c);
    memcpy(a->token_hash, c->token_hash, sizeof(a->token_hash));
    submit(a, logout_run, logout_done);
}

/* ---- password.set ----------------------------------------------------------------------- */

static mu_code pwset_run(mu_job *j, mu_wtx *w)
{
    auth_op *a = (auth_op *)j;
    mu_code c = store_users_set_password(w, a->user_id, a->hash, a->token_hash);
    return c == MU_OK ? events_publish(w, "revoked", a->user_id, 0, 0) : c;
}

static void close_other(mu_conn *other, void *ud)
{
    if (other != ud)
        conn_close(other, CLOSE_POLICY);
}

static void pwset_done(mu_job *j)
{
    auth_op *a = (auth_op *)j;
    if (j->result != MU_OK) {
        reply_write_failed(a->c, j->result, "nothing was saved");
    } else {
        conn_foreach_user(a->user_id, close_other, a->c);
        reply_empty(a->c);
    }
    op_free(a);
}

static void pwset_hashed(auth_op *a)
{
    if (!a->ok) {
        /* Already counted as a failed login when it started. */
        reply_err(a->c, MU_E_FORBIDDEN, "The old password is wrong.");
        op_free(a);
        return;
    }
    session_attempt_passed(a->handle, &a->addr, a->started, false);
    submit(a, pwset_run, pwset_done);
}

static bool account_by_id_run(read_call *rc, mu_reader *r)
{
    account_call *k = (account_call *)rc;
    k->found = store_users_find_by_id(r, rc->user, &k->u);
    return k->found >= 0;
}

static void pwset_found(read_call *rc)
{
    account_call *k = (account_call *)rc;
    mu_conn *c = rc->c;
    if (!reads_same_account(rc, k->found))
        return;
    int64_t started;
    if (!session_attempt_begin(c, c->handle, &c->addr, &started))
        return;
    auth_op *a = op_new(c);
    a->started = started;
    snprintf(a->handle, sizeof(a->handle), "%s", c->handle);
    a->user_id = c->user_id;
    memcpy(a->token_hash, c->token_hash, sizeof(a->token_hash));
    memcpy(a->hash, k->u.pwhash, sizeof(a->hash));
    copy_str(mu_req_field(rc->req, "old"), a->pw, sizeof(a->pw), &a->pw_len);
    copy_str(mu_req_field(rc->req, "new"), a->pw_new, sizeof(a->pw_new), &a->pw_new_len);
    start_work(a, WORK_VERIFY_THEN_HASH, pwset_hashed);
}

void op_password_set(mu_conn *c, mu_request *r)
{
    (void)r;
    read_call *rc = reads_new(c, sizeof(account_call), account_by_id_run, "the account");
    rc->then = pwset_found;
    rc->release = account_wipe;
    reads_submit(rc);
}

/* ---- ping ------------------------------------------------------------------------------- */

void op_ping(mu_conn *c, mu_request *r)
{
    mu_enc e;
    reply_begin(c, &e, 1);
    mu_enc_kint(&e, "ts", clock_now_ms());
    reply_end(c, &e);
}
