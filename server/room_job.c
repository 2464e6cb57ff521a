/* The room job: one write of a room op, with its audit entry, and the check that the room is
 * still there when it lands (see room_int.h). Layer: concerns (rooms), beside rooms.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "events.h"
#include "handlers.h"
#include "room_int.h"
#include "store_admin.h"
#include "xalloc.h"

void *room_job_new(size_t size, mu_conn *c, const char *slug, const char *audit_action)
{
    room_job *o = xcalloc(1, size);
    o->c = conn_ref(c);
    snprintf(o->slug, sizeof(o->slug), "%s", slug);
    o->actor_id = c->user_id;
    snprintf(o->actor, sizeof(o->actor), "%s", c->handle);
    o->ts = clock_now_ms();
    o->audit_action = audit_action;
    o->job.lock_key = store_key_of(o->slug);
    return o;
}

void room_job_free(room_job *o)
{
    conn_unref(o->c);
    free(o);
}

void room_job_submit(room_job *o, job_run_fn run, job_done_fn done)
{
    o->job.run = run;
    o->job.done = done;
    store_submit(g_srv->store, &o->job);
}

mu_code room_job_audit(room_job *o, mu_wtx *w)
{
    if (!o->audit_action)
        return MU_OK;
    return store_admin_audit_add(w, o->ts, o->actor_id, o->actor, o->audit_action, o->target_id,
                                 o->target[0] ? o->target : NULL, o->slug);
}

mu_code room_job_run_audit(mu_job *j, mu_wtx *w)
{
    return room_job_audit((room_job *)j, w);
}

mu_code room_job_tell(room_job *o, mu_wtx *w, room_change what)
{
    return events_publish_word(w, "room", o->slug, what, o->target_id, o->actor_id);
}

room *room_job_landed(room_job *o)
{
    if (o->job.result != MU_OK) {
        reply_write_failed(o->c, o->job.result, "nothing was changed");
        return NULL;
    }
    room *r = rooms_find(o->slug, strlen(o->slug));
    if (!r)
        reply_err(o->c, MU_E_NOT_FOUND, "The room is gone.");
    return r;
}
