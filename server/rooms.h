/* Group rooms: standing meeting places whose meetings facilitators open and close, with
 * presence, ordered durable messages, lobby, floor and raised hands. The registry of rooms
 * and the live state of each meeting live on the loop. This header is what the rest of the
 * server may call; the room ops are in handlers.h, and what the four room files share is in
 * room_int.h. Layer: concerns. */
#ifndef MUTUAL_ROOMS_H
#define MUTUAL_ROOMS_H

#include "conn.h"
#include "context.h"

/* Loads every stored room (startup). -1 on error. */
int rooms_init(mu_server *s);
void rooms_shutdown(void);
/* With PostgreSQL: what other nodes do in rooms (room_remote.c): messages, definitions, the
 * meeting's life, its flags and moderation. */
void rooms_events_init(void);
/* With PostgreSQL: before events_start, this node's heartbeat and the reconciliation of who is
 * in rooms through other nodes (room_presence.c); stopped before the loop ends. */
void room_presence_start(mu_server *s);
void room_presence_stop(void);
/* room_deliver.c: with several nodes, the thread that reads other nodes' messages for
 * delivery; started before events_start, stopped before store_close. */
void room_deliver_start(mu_server *s);
void room_deliver_stop(void);
/* The connection leaves every room it joined or waited at. */
void rooms_leave_all(mu_conn *c);
/* An erased user: out of every ban, mute and hand. */
void rooms_forget_user(int64_t user);
/* A user's role changed: they leave (room.removed, by `by`) every room and lobby whose
 * audience does not admit the new role, and their entries elsewhere take the new role. */
void rooms_role_changed(int64_t user, mu_role role, const char *by);
int64_t rooms_open_count(void);
/* The slugs of the rooms a user is in now, as a MessagePack array. */
void rooms_enc_joined(mu_enc *e, int64_t user);

#endif
