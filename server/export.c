/* me.export: everything a person has, years of it, read on a pool thread with a read
 * connection of its own (one snapshot), so that the loop goes on serving everyone else.
 * Exports run one at a time: the pool's few threads also hash passwords, and several
 * multi-second exports at once would hold sign-ins back. The rest wait here, on the loop, in
 * the order they came. The reply is begun and ended on the loop; the pool thread writes only
 * the fields between. Layer: concerns. */
#include <stdlib.h>

#include "context.h"
#include "handlers.h"
#include "pool.h"
#include "roles.h"
#include "rooms.h"
#include "store_admin.h"
#include "store_plan.h"
#include "xalloc.h"

typedef struct export_op {
    mu_work work;
    struct export_op *next; /* waiting behind the running one */
    mu_conn *c;             /* a reference, dropped when the reply is out */
    int64_t user;
    mu_enc e;
    int rc;
} export_op;

static export_op *running, *wait_head, *wait_tail; /* loop thread only */

static void export_run(uv_work_t *w)
{
    export_op *o = w->data;
    o->rc = -1;
    if (pool_stopping())
        return;
    mu_reader *r = store_reader_open(g_srv->store);
    if (!r)
        return;
    mu_enc_key(&o->e, "plan");
    o->rc = store_plan_enc((store_from){.r = r}, o->user, true, &o->e) != 0 ||
                    store_admin_export(r, o->user, &o->e) != 0
                ? -1
                : 0;
    store_reader_close(r);
}

static void export_finish(export_op *o, bool ok)
{
    if (ok) {
        reply_end(o->c, &o->e);
    } else {
        mu_enc_free(&o->e);
        /* Every call ends with a reply, even to a connection that has gone (it is dropped). */
        if (pool_stopping() || !conn_alive(o->c))
            reply_err(o->c, MU_E_UNAVAILABLE,
                      "The server is stopping; ask for your data again in a moment.");
        else
            reply_read_failed(o->c, "your data");
    }
    conn_unref(o->c);
    free(o);
}

static void export_done(uv_work_t *w, int status);

/* Starts the next waiting export, skipping any whose connection has gone. */
static void start_next(void)
{
    while (!running && wait_head) {
        export_op *o = wait_head;
        wait_head = o->next;
        if (!wait_head)
            wait_tail = NULL;
        if (!conn_alive(o->c)) {
            export_finish(o, false); /* nobody to send it to: the reply is dropped */
            continue;
        }
        o->work.req.data = o;
        if (pool_queue(g_srv->loop, &o->work, export_run, export_done) != 0) {
            export_finish(o, false);
            continue;
        }
        running = o;
    }
}

static void export_done(uv_work_t *w, int status)
{
    export_op *o = w->data;
    running = NULL;
    export_finish(o, status == 0 && o->rc == 0);
    start_next();
}

/* Whether this person already has an export running or waiting. */
static bool exporting(int64_t user)
{
    if (running && running->user == user)
        return true;
    for (const export_op *o = wait_head; o; o = o->next)
        if (o->user == user)
            return true;
    return false;
}

void op_me_export(mu_conn *c, mu_request *r)
{
    (void)r;
    /* One at a time per person, so that nobody's many connections queue ahead of everyone. */
    if (exporting(c->user_id)) {
        reply_err(c, MU_E_CONFLICT,
                  "An export of your data is already being prepared; it comes on the connection "
                  "that asked for it.");
        return;
    }
    export_op *o = xcalloc(1, sizeof(*o));
    o->c = conn_ref(c);
    o->user = c->user_id;
    reply_begin(c, &o->e, 3 + EXPORT_PARTS);
    mu_enc_key(&o->e, "user");
    role_enc_user(&o->e, c->handle, c->role);
    mu_enc_key(&o->e, "joined");
    rooms_enc_joined(&o->e, c->user_id); /* the live registry: the loop's to read */
    if (wait_tail)
        wait_tail->next = o;
    else
        wait_head = o;
    wait_tail = o;
    start_next();
}
