/* Direct messages that other nodes store (events.h): each is read by id on the writer and
 * shown to this node's connections of its sender and recipient, as dm.c shows those stored
 * here; a catch-up after the listening connection was down reads what came meanwhile.
 * Layer: concerns, over requests and storage. */
#include <stdlib.h>

#include "context.h"
#include "dm.h"
#include "dm_int.h"
#include "events.h"
#include "frame.h"
#include "log.h"
#include "store_dm.h"
#include "xalloc.h"

#define REMOTE_BATCH 500

typedef struct {
    mu_job job;
    int64_t after, up_to; /* the ids read: (after, up_to] */
    bool catch_up;
    size_t n, cap;
    struct remote_dm {
        mu_enc e; /* the dm.msg, encoded on the writer thread */
        int64_t id, from, to;
    } * v;
} remote_op;

static void collect_remote(const dm_row *row, void *ud)
{
    remote_op *o = ud;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 4;
        o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
    }
    mu_enc *e = &o->v[o->n].e;
    frame_enc_init(e);
    mu_enc_event(e, MU_OP_EV_DM_MSG, 5);
    dm_enc(e, row->id, row->from, row->to, row->text, row->text_len, row->ts);
    o->v[o->n].id = row->id;
    o->v[o->n].from = row->from_id;
    o->v[o->n].to = row->to_id;
    o->n++;
}

static mu_code remote_run(mu_job *j, mu_wtx *w)
{
    remote_op *o = (remote_op *)j;
    return store_dm_range_w(w, o->after, o->up_to, REMOTE_BATCH, collect_remote, o) < 0
               ? MU_E_INTERNAL
               : MU_OK;
}

static void remote_read(int64_t after, int64_t up_to, bool catch_up);

static void remote_done(mu_job *j)
{
    remote_op *o = (remote_op *)j;
    for (size_t i = 0; i < o->n; i++) {
        if (events_shown_before(&dm_shown, o->v[i].id))
            mu_enc_free(&o->v[i].e);
        else
            dm_fan_out(&o->v[i].e, o->v[i].to, o->v[i].from, NULL, o->v[i].to, o->v[i].id);
    }
    if (j->result != MU_OK)
        log_warn("a message stored by another node could not be read; its recipient sees it "
                 "among their unread messages");
    else if (o->catch_up && o->n == REMOTE_BATCH)
        remote_read(o->v[o->n - 1].id, INT64_MAX, true);
    free(o->v);
    free(o);
}

static void remote_read(int64_t after, int64_t up_to, bool catch_up)
{
    remote_op *o = xcalloc(1, sizeof(*o));
    o->after = after;
    o->up_to = up_to;
    o->catch_up = catch_up;
    o->job.run = remote_run;
    o->job.done = remote_done;
    store_submit(g_srv->store, &o->job);
}

static void on_dm_event(int64_t id, int64_t b, int64_t c, const char *word)
{
    (void)word;
    (void)b;
    (void)c;
    if (id > 0)
        remote_read(id - 1, id, false);
}

/* Messages committed while this node was not listening. */
static void dm_catch_up(void)
{
    remote_read(events_catch_up_after(&dm_shown), INT64_MAX, true);
}

void dm_events_init(void)
{
    events_shown_init(&dm_shown, store_dm_max_id(loop_reader()));
    events_on("dm", on_dm_event, dm_catch_up);
}
