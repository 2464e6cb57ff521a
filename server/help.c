/* help: the crisis and support resources this server is configured with. It works before
 * sign-in, because the moment someone needs it is not the moment to ask for a password.
 * Layer: concerns, over requests and storage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "clock.h"
#include "context.h"
#include "handlers.h"
#include "store_alerts.h"
#include "store_dm.h"
#include "xalloc.h"

static void reply_resources(mu_conn *c)
{
    const mu_config *cfg = &g_srv->cfg;
    mu_enc e;
    reply_begin(c, &e, 1);
    mu_enc_key(&e, "resources");
    mu_enc_array(&e, (uint32_t)cfg->nhelp);
    for (size_t i = 0; i < cfg->nhelp; i++) {
        const mu_resource *res = &cfg->help[i];
        const char *keys[5] = {"name", "phone", "url", "hours", "region"};
        const char *vals[5] = {res->name, res->phone, res->url, res->hours, res->region};
        uint32_t n = 0;
        for (int k = 0; k < 5; k++)
            n += vals[k] != NULL;
        mu_enc_map(&e, n);
        for (int k = 0; k < 5; k++)
            if (vals[k])
                mu_enc_kstr(&e, keys[k], vals[k]);
    }
    reply_end(c, &e);
}

/* A help request tells the user's mentor, whatever the user shares: the user asked. From a
 * user with no mentor it goes to the admins at once (escalated as it is raised). What they
 * typed is not passed on. */
typedef struct {
    mu_job job;
    mu_conn *c;
    /* Copied at submit: the run function never reads the connection, which belongs to the
     * loop thread. */
    int64_t user, ts;
    char handle[MU_HANDLE_MAX + 1];
    alert_out out;
    bool raised;
} help_op;

static mu_code help_run(mu_job *j, mu_wtx *w)
{
    help_op *o = (help_op *)j;
    int64_t mentor = store_dm_mentor_of_w(w, o->user);
    if (mentor < 0)
        return MU_E_INTERNAL;
    /* One open help request at a time (for the person's current mentor, or for the admins
     * when there is none): asking again before anyone has acknowledged the last one leaves
     * that alert standing (it escalates on its own clock) instead of filling the mentor's and
     * the admins' lists with copies. The resources are answered every time. */
    int open = store_alerts_open_kind(w, o->user, mentor, "help_requested");
    if (open < 0)
        return MU_E_INTERNAL;
    if (open)
        return MU_OK;
    o->raised = true;
    return alerts_raise(w, o->user, o->handle, mentor, "help_requested", "Asked for help.", o->ts,
                        &o->out);
}

static void help_done(mu_job *j)
{
    help_op *o = (help_op *)j;
    /* The resources matter more than the alert: they are answered even if storage failed. */
    reply_resources(o->c);
    if (j->result == MU_OK && o->raised)
        alerts_deliver(&o->out);
    conn_unref(o->c);
    free(o);
}

void op_help(mu_conn *c, mu_request *r)
{
    if (c->state != CONN_AUTHENTICATED || c->role == ROLE_MENTOR || c->role == ROLE_ADMIN) {
        reply_resources(c);
        return;
    }
    help_op *o = xcalloc(1, sizeof(*o));
    o->c = conn_ref(c);
    o->user = c->user_id;
    o->ts = clock_now_ms();
    snprintf(o->handle, sizeof(o->handle), "%s", c->handle);
    o->job.run = help_run;
    o->job.done = help_done;
    store_submit(g_srv->store, &o->job);
}
