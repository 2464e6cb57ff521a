/* What a joiner may see: the backlog in force and each member's first-join point in the
 * current meeting, in memory and in the store (see room_int.h). Layer: concerns (rooms), over
 * room_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "room_int.h"
#include "xalloc.h"

const char *room_backlog_name(const room *r)
{
    bool recent = r->backlog == BACKLOG_RECENT || (r->backlog == BACKLOG_DEFAULT && r->persistent);
    return recent ? "recent" : "join";
}

/* A write of first-join points that nobody waits for: the point is already in force in
 * memory. Should it not reach the disk (a crash within the batch), the member's next join
 * after the restart sets a later point, which shows them less, never more. */
typedef struct {
    mu_job job; /* first: the writer hands the job back */
    char slug[ROOM_SLUG_MAX + 1];
    int64_t after;
    size_t n;
    int64_t users[]; /* n of them */
} joins_job;

static mu_code joins_run(mu_job *j, mu_wtx *w)
{
    joins_job *o = (joins_job *)j;
    return store_rooms_set_joins(w, o->slug, false, o->users, o->n, o->after);
}

static void joins_done(mu_job *j)
{
    joins_job *o = (joins_job *)j;
    if (j->result != MU_OK)
        log_warn("room %s: first-join points not stored (%s)", o->slug, mu_code_name(j->result));
    free(o);
}

static void joins_submit(const room *r, const int64_t *users, size_t n, int64_t after)
{
    joins_job *o = xcalloc(1, sizeof(*o) + n * sizeof(int64_t)); /* freed by joins_done */
    snprintf(o->slug, sizeof(o->slug), "%s", r->slug);
    o->after = after;
    o->n = n;
    if (n)
        memcpy(o->users, users, n * sizeof(int64_t));
    o->job.run = joins_run;
    o->job.done = joins_done;
    store_submit(g_srv->store, &o->job);
}

static join_point *point_find(const room *r, int64_t user)
{
    for (size_t i = 0; i < r->joins.n; i++)
        if (r->joins.v[i].user == user)
            return &r->joins.v[i];
    return NULL;
}

void room_put_join(room *r, int64_t user, int64_t after)
{
    join_point *p = point_find(r, user);
    if (!p) {
        if (r->joins.n == r->joins.cap) {
            r->joins.cap = r->joins.cap ? r->joins.cap * 2 : 8;
            r->joins.v = xreallocarray(r->joins.v, r->joins.cap, sizeof(*r->joins.v));
        }
        p = &r->joins.v[r->joins.n++];
        p->user = user;
    }
    p->after = after;
}

int64_t room_visible_after(const room *r, int64_t user)
{
    if (!strcmp(room_backlog_name(r), "recent"))
        return 0;
    const join_point *p = point_find(r, user);
    return p ? p->after : r->done_seq;
}

void room_mark_join(room *r, int64_t user)
{
    if (point_find(r, user))
        return;
    room_put_join(r, user, r->done_seq);
    joins_submit(r, &user, 1, r->done_seq);
}

void room_restart_joins(room *r)
{
    r->joins.n = 0;
    int64_t *users = xcalloc(r->members.n + 1, sizeof(int64_t));
    size_t n = 0;
    for (size_t i = 0; i < r->members.n; i++) {
        room_put_join(r, r->members.v[i].user, r->done_seq);
        if (r->members.v[i].nconns) /* people in through another node: their node stores it */
            users[n++] = r->members.v[i].user;
    }
    if (n)
        joins_submit(r, users, n, r->done_seq);
    free(users);
}

void room_forget_join(room *r, int64_t user)
{
    join_point *p = point_find(r, user);
    if (p)
        *p = r->joins.v[--r->joins.n];
}
