/* Who may act on a room (see room_int.h): the room named by a request, when it exists and its
 * audience admits the caller; joined; a facilitator. Each answers a refusal itself. Layer:
 * concerns (rooms), beside rooms.c. */
#include "handlers.h"
#include "room_int.h"

room *room_access(mu_conn *c, mu_request *req)
{
    const mu_val *v = mu_req_field(req, "room");
    room *r = rooms_find(v->v.s.p, v->v.s.n);
    if (!r) {
        reply_err(c, MU_E_NOT_FOUND, "There is no room '%.*s'.", (int)v->v.s.n, v->v.s.p);
        return NULL;
    }
    if (!room_admits(r, c->role)) {
        reply_err(c, MU_E_FORBIDDEN, "That room is not open to your role.");
        return NULL;
    }
    return r;
}

room *room_joined(mu_conn *c, mu_request *req)
{
    room *r = room_access(c, req);
    if (r && !room_member(r, c->user_id)) {
        reply_err(c, MU_E_FORBIDDEN, "Join the room first.");
        return NULL;
    }
    return r;
}

room *room_facilitated(mu_conn *c, mu_request *req)
{
    room *r = room_access(c, req);
    if (r && !room_is_facilitator(c->role)) {
        reply_err(c, MU_E_FORBIDDEN, "Only the room's facilitators may do that.");
        return NULL;
    }
    return r;
}
