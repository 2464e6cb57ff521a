/* A facilitator's tools: mute, remove and ban, lock, the lobby with admit and deny, the floor
 * (with its timer) and raised hands. Each op's writer job has its run and done beside its
 * handler; every moderation action is in the audit log before anyone is told. Layer:
 * concerns (rooms), over room_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "events.h"
#include "handlers.h"
#include "reads.h"
#include "room_int.h"
#include "store_users.h"
#include "xalloc.h"

/* ---- mute, unmute, remove, unban ----------------------------------------------------------- */

typedef struct {
    room_job base;
    bool on;        /* mute (true) or unmute; remove with a ban (true) or without; a flag */
    room_flag flag; /* for lock, lobby and floor: the stored flag it sets */
} flag_job;

/* Lock, lobby and floor mode are stored, so that a restart keeps them. */
static mu_code flag_run(mu_job *j, mu_wtx *w)
{
    flag_job *o = (flag_job *)j;
    mu_code c = store_rooms_set_flag(w, o->base.slug, o->flag, o->on);
    if (c == MU_OK)
        c = room_job_tell(&o->base, w, ROOM_CH_FLAGS);
    return c == MU_OK ? room_job_audit(&o->base, w) : c;
}

/* A flag job on the room for a state flag; the audit action may be NULL. */
static void submit_flag(mu_conn *c, const room *r, room_flag flag, bool on, const char *action,
                        job_done_fn done)
{
    flag_job *o = room_job_new(sizeof(*o), c, r->slug, action);
    o->on = on;
    o->flag = flag;
    room_job_submit(&o->base, flag_run, done);
}

/* The request's `handle` as a moderation target (an account that is no facilitator), read
 * off the loop; `go` goes on with it on the loop, the room checked again (it may have gone
 * meanwhile). */
typedef void (*target_go_fn)(mu_conn *c, mu_request *req, room *r, const user_row *u);

typedef struct {
    read_call rc;
    target_go_fn go;
    user_row u;
} target_call;

static bool target_run(read_call *rc, mu_reader *r)
{
    target_call *k = (target_call *)rc;
    int f = store_users_find_by_handle(r, mu_req_field(rc->req, "handle")->v.h, &k->u);
    sodium_memzero(k->u.pwhash, sizeof(k->u.pwhash));
    if (f == 0)
        return reads_refuse(rc, MU_E_NOT_FOUND, "No account has that handle.");
    if (f > 0 && room_is_facilitator(k->u.role))
        return reads_refuse(rc, MU_E_FORBIDDEN, "Facilitators cannot be muted, removed or banned.");
    return f > 0;
}

static void target_found(read_call *rc)
{
    target_call *k = (target_call *)rc;
    room *r = room_facilitated(rc->c, rc->req);
    if (r)
        k->go(rc->c, rc->req, r, &k->u);
}

static void with_target(mu_conn *c, target_go_fn go)
{
    target_call *k = (target_call *)reads_new(c, sizeof(*k), target_run, "accounts");
    k->go = go;
    k->rc.then = target_found;
    reads_submit(&k->rc);
}

/* A flag job aimed at the target. */
static flag_job *target_job(mu_conn *c, const room *r, const user_row *u, const char *action)
{
    flag_job *o = room_job_new(sizeof(*o), c, r->slug, action);
    o->base.target_id = u->id;
    snprintf(o->base.target, sizeof(o->base.target), "%s", u->handle);
    return o;
}

static mu_code mute_run(mu_job *j, mu_wtx *w)
{
    flag_job *o = (flag_job *)j;
    mu_code c = store_rooms_user_set(w, ROOM_MUTES, o->base.slug, o->base.target_id, o->on);
    if (c == MU_OK)
        c = room_job_tell(&o->base, w, o->on ? ROOM_CH_MUTE : ROOM_CH_UNMUTE);
    return c == MU_OK ? room_job_audit(&o->base, w) : c;
}

static void mute_done(mu_job *j)
{
    flag_job *o = (flag_job *)j;
    room *r = room_job_landed(&o->base);
    if (r) {
        if (o->on)
            ids_add(&r->mutes, o->base.target_id);
        else
            ids_del(&r->mutes, o->base.target_id);
        reply_empty(o->base.c);
        room_send_moderation(r, o->base.audit_action, o->base.target, o->base.actor);
        room_recheck(r->slug); /* a catch-up read made before this does not undo it */
    }
    room_job_free(&o->base);
}

static void mute_go(mu_conn *c, const room *r, const user_row *u, bool on)
{
    flag_job *o = target_job(c, r, u, on ? "mute" : "unmute");
    o->on = on;
    room_job_submit(&o->base, mute_run, mute_done);
}
static void mute_go_on(mu_conn *c, mu_request *req, room *r, const user_row *u)
{
    (void)req;
    mute_go(c, r, u, true);
}
static void mute_go_off(mu_conn *c, mu_request *req, room *r, const user_row *u)
{
    (void)req;
    mute_go(c, r, u, false);
}

void op_room_mute(mu_conn *c, mu_request *r)
{
    if (room_facilitated(c, r))
        with_target(c, mute_go_on);
}
void op_room_unmute(mu_conn *c, mu_request *r)
{
    if (room_facilitated(c, r))
        with_target(c, mute_go_off);
}

static mu_code remove_run(mu_job *j, mu_wtx *w)
{
    flag_job *o = (flag_job *)j;
    mu_code c = MU_OK;
    if (o->on)
        c = store_rooms_user_set(w, ROOM_BANS, o->base.slug, o->base.target_id, true);
    if (c == MU_OK)
        c = room_job_tell(&o->base, w, o->on ? ROOM_CH_BAN : ROOM_CH_REMOVE);
    return c == MU_OK ? room_job_audit(&o->base, w) : c;
}

static void remove_done(mu_job *j)
{
    flag_job *o = (flag_job *)j;
    room *r = room_job_landed(&o->base);
    if (r) {
        reply_empty(o->base.c);
        room_remove_user(r, o->base.target_id, o->base.target, o->base.actor, o->on);
        room_recheck(r->slug);
    }
    room_job_free(&o->base);
}

void room_remove_user(room *r, int64_t user, const char *handle, const char *by, bool ban)
{
    if (ban)
        ids_add(&r->bans, user);
    room_send_moderation(r, ban ? "ban" : "remove", handle, by);
    member *t = room_member(r, user);
    if (t) {
        room_send_removed(r, t, by, ban);
        room_member_out(r, t, true);
    }
    if ((t = room_waiter(r, user)))
        room_turn_away(r, t);
}

static void remove_go(mu_conn *c, mu_request *req, room *r, const user_row *u)
{
    const mu_val *ban = mu_req_field(req, "ban");
    bool banning = ban->present && ban->v.b;
    if (!banning && !room_member(r, u->id) && !room_waiter(r, u->id)) {
        reply_err(c, MU_E_CONFLICT, "'%s' is not in the room.", u->handle);
        return;
    }
    flag_job *o = target_job(c, r, u, banning ? "ban" : "remove");
    o->on = banning;
    room_job_submit(&o->base, remove_run, remove_done);
}

void op_room_remove(mu_conn *c, mu_request *req)
{
    if (room_facilitated(c, req))
        with_target(c, remove_go);
}

static mu_code unban_run(mu_job *j, mu_wtx *w)
{
    room_job *o = (room_job *)j;
    mu_code c = store_rooms_user_set(w, ROOM_BANS, o->slug, o->target_id, false);
    if (c == MU_OK)
        c = room_job_tell(o, w, ROOM_CH_UNBAN);
    return c == MU_OK ? room_job_audit(o, w) : c;
}

static void unban_done(mu_job *j)
{
    room_job *o = (room_job *)j;
    room *r = room_job_landed(o);
    if (r) {
        ids_del(&r->bans, o->target_id);
        reply_empty(o->c);
        room_send_moderation(r, "unban", o->target, o->actor);
        room_recheck(r->slug);
    }
    room_job_free(o);
}

static void unban_go(mu_conn *c, mu_request *req, room *r, const user_row *u)
{
    (void)req;
    flag_job *o = target_job(c, r, u, "unban");
    room_job_submit(&o->base, unban_run, unban_done);
}

void op_room_unban(mu_conn *c, mu_request *req)
{
    if (room_facilitated(c, req))
        with_target(c, unban_go);
}

/* ---- lock, lobby -------------------------------------------------------------------------- */

static void lock_done(mu_job *j)
{
    flag_job *o = (flag_job *)j;
    room *r = room_job_landed(&o->base);
    if (r) {
        r->locked = o->on;
        reply_empty(o->base.c);
        room_send_state(r);
        room_recheck(r->slug);
    }
    room_job_free(&o->base);
}

void op_room_lock(mu_conn *c, mu_request *req)
{
    room *r = room_facilitated(c, req);
    if (!r)
        return;
    bool on = mu_req_field(req, "locked")->v.b;
    submit_flag(c, r, ROOM_LOCKED, on, on ? "lock" : "unlock", lock_done);
}

static void lobby_done(mu_job *j)
{
    flag_job *o = (flag_job *)j;
    room *r = room_job_landed(&o->base);
    if (r) {
        r->lobby = o->on;
        reply_empty(o->base.c);
        room_send_state(r);
        /* Turning the lobby off lets everyone waiting in. */
        while (!r->lobby && r->waiting.n)
            room_admit(r, &r->waiting.v[0]);
        room_recheck(r->slug);
    }
    room_job_free(&o->base);
}

void op_room_lobby(mu_conn *c, mu_request *req)
{
    room *r = room_facilitated(c, req);
    if (!r)
        return;
    bool on = mu_req_field(req, "on")->v.b;
    submit_flag(c, r, ROOM_LOBBY, on, on ? "lobby_on" : "lobby_off", lobby_done);
}

/* ---- admit, deny -------------------------------------------------------------------------- */

void room_admit(room *r, member *w)
{
    member in = room_take_waiter(r, w);
    for (size_t i = 0; i < in.nconns; i++)
        room_join_conn(r, in.conns[i], in.user, in.handle, in.role);
    member *m = room_member(r, in.user);
    if (m)
        room_send_admitted(r, m, in.conns, in.nconns);
    free(in.conns);
}

/* Admit or deny: aimed at the user waiting under the request's handle, through this node or
 * another. With several nodes the write decides it: it takes the user's waiting rows, and when
 * there were none (they left, or another facilitator's answer landed first) nobody is waiting.
 * A wait through this node was written before (one writer, in order). */
typedef struct {
    room_job base;
    room_change change; /* ROOM_CH_ADMIT or ROOM_CH_DENY, for the other nodes */
} waiter_job;

static mu_code waiter_run(mu_job *j, mu_wtx *w)
{
    waiter_job *o = (waiter_job *)j;
    if (events_shared()) {
        bool was;
        mu_code c = store_rooms_lobby_take(w, o->base.slug, o->base.target_id, &was);
        if (c == MU_OK && !was)
            c = MU_E_NOT_FOUND; /* gone, or another facilitator's answer landed first */
        if (c == MU_OK)
            c = room_job_tell(&o->base, w, o->change);
        if (c != MU_OK)
            return c;
    }
    return room_job_audit(&o->base, w);
}

static void submit_waiter(mu_conn *c, mu_request *req, room_change change, job_done_fn done)
{
    room *r = room_facilitated(c, req);
    if (!r)
        return;
    const char *h = mu_req_field(req, "handle")->v.h;
    member *w = room_waiter_by_handle(r, h);
    if (!w) {
        reply_err(c, MU_E_NOT_FOUND, "Nobody called '%s' is waiting.", h);
        return;
    }
    waiter_job *o =
        room_job_new(sizeof(*o), c, r->slug, change == ROOM_CH_ADMIT ? "admit" : "deny");
    o->base.target_id = w->user;
    snprintf(o->base.target, sizeof(o->base.target), "%s", w->handle);
    o->change = change;
    room_job_submit(&o->base, waiter_run, done);
}

/* The waiting user, or NULL once the failure is answered. */
static member *waiter_landed(waiter_job *o, room **r)
{
    if (o->base.job.result == MU_E_NOT_FOUND) {
        reply_err(o->base.c, MU_E_NOT_FOUND, "Nobody called '%s' is waiting.", o->base.target);
        return NULL;
    }
    *r = room_job_landed(&o->base);
    if (!*r)
        return NULL;
    reply_empty(o->base.c);
    return room_waiter(*r, o->base.target_id); /* may have left meanwhile */
}

static void admit_done(mu_job *j)
{
    room *r;
    member *w = waiter_landed((waiter_job *)j, &r);
    if (w)
        room_admit(r, w);
    room_job_free((room_job *)j);
}

void op_room_admit(mu_conn *c, mu_request *req)
{
    submit_waiter(c, req, ROOM_CH_ADMIT, admit_done);
}

static void deny_done(mu_job *j)
{
    room *r;
    member *w = waiter_landed((waiter_job *)j, &r);
    if (w)
        room_turn_away(r, w);
    room_job_free((room_job *)j);
}

void op_room_deny(mu_conn *c, mu_request *req)
{
    submit_waiter(c, req, ROOM_CH_DENY, deny_done);
}

/* ---- the floor and hands ------------------------------------------------------------------ */

static void floor_done(mu_job *j)
{
    flag_job *o = (flag_job *)j;
    room *r = room_job_landed(&o->base);
    if (r) {
        reply_empty(o->base.c);
        if (r->floor_mode != o->on) {
            r->floor_mode = o->on;
            room_send_state(r);
        }
        room_recheck(r->slug);
    }
    room_job_free(&o->base);
}

void op_room_floor(mu_conn *c, mu_request *req)
{
    room *r = room_facilitated(c, req);
    if (r)
        submit_flag(c, r, ROOM_FLOOR_MODE, mu_req_field(req, "on")->v.b, NULL, floor_done);
}

static void on_floor_timer(uv_timer_t *t)
{
    room *r = t->data;
    room_floor_expire(r);
    if (r->floor_user && r->floor_ends) /* the clock was moved back to real time: wait again */
        uv_timer_start(t, on_floor_timer, (uint64_t)(r->floor_ends - clock_now_ms()), 0);
}

void room_give_floor(room *r, const member *m, uint64_t secs)
{
    if (!m) {
        r->floor_user = 0;
        r->floor_ends = 0;
        if (r->floor_timer)
            uv_timer_stop(r->floor_timer);
        return;
    }
    r->floor_user = m->user;
    snprintf(r->floor_handle, sizeof(r->floor_handle), "%s", m->handle);
    ids_del(&r->hands, m->user);
    r->floor_ends = secs ? clock_now_ms() + (int64_t)secs * 1000 : 0;
    if (secs) {
        if (!r->floor_timer) {
            /* Closed by the room when it goes (room_free). Unreferenced: a share still running
             * must not keep the loop alive once shutdown has closed everything else. */
            r->floor_timer = xmalloc(sizeof(uv_timer_t));
            uv_timer_init(g_srv->loop, r->floor_timer);
            uv_unref((uv_handle_t *)r->floor_timer);
            r->floor_timer->data = r;
        }
        uv_timer_start(r->floor_timer, on_floor_timer, secs * 1000, 0);
    } else if (r->floor_timer) {
        uv_timer_stop(r->floor_timer); /* an untimed share has nothing to end */
    }
}

void op_room_give(mu_conn *c, mu_request *req)
{
    room *r = room_facilitated(c, req);
    if (!r)
        return;
    const mu_val *h = mu_req_field(req, "handle"), *secs = mu_req_field(req, "secs");
    member *m = NULL;
    if (h->present && !(m = room_member_by_handle(r, h->v.h))) {
        reply_err(c, MU_E_CONFLICT, "'%s' is not in the room.", h->v.h);
        return;
    }
    room_give_floor(r, m, m && secs->present ? secs->v.u : 0);
    reply_empty(c);
    room_send_state(r);
    room_live_floor(r);
}

bool room_set_hand(room *r, int64_t user, bool up)
{
    return up ? ids_add(&r->hands, user) : ids_del(&r->hands, user);
}

static void hand(mu_conn *c, mu_request *req, bool up)
{
    room *r = room_joined(c, req);
    if (!r)
        return;
    bool changed = room_set_hand(r, c->user_id, up);
    reply_empty(c);
    if (changed) {
        room_send_state(r);
        room_live_hand(r, c->user_id, up);
    }
}

void op_hand_raise(mu_conn *c, mu_request *r)
{
    hand(c, r, true);
}
void op_hand_lower(mu_conn *c, mu_request *r)
{
    hand(c, r, false);
}
