/* Group rooms: standing meeting places whose meetings facilitators open and close, with
 * presence, ordered durable messages, lobby, floor and raised hands. The registry of rooms
 * and the live state of each meeting live here, on the loop. */
#ifndef MUTUAL_ROOMS_H
#define MUTUAL_ROOMS_H

#include "conn.h"

/* Loads every stored room (startup). -1 on error. */
int rooms_init(mu_server *s);
void rooms_shutdown(void);
/* The connection leaves every room it joined or waited at. */
void rooms_leave_all(mu_conn *c);
/* An erased user: out of every ban, mute and hand. */
void rooms_forget_user(int64_t user);
/* A user's role changed: their membership entries follow. */
void rooms_role_changed(int64_t user);
int64_t rooms_open_count(void);
/* The slugs of the rooms a user is in now, as a MessagePack array. */
void rooms_enc_joined(mu_enc *e, int64_t user);

void rooms_list(mu_conn *c, mu_request *r);
void room_create(mu_conn *c, mu_request *r);
void room_update(mu_conn *c, mu_request *r);
void room_delete(mu_conn *c, mu_request *r);
void room_open(mu_conn *c, mu_request *r);
void room_close(mu_conn *c, mu_request *r);
void room_join(mu_conn *c, mu_request *r);
void room_leave(mu_conn *c, mu_request *r);
void room_say(mu_conn *c, mu_request *r);
void room_history(mu_conn *c, mu_request *r);
void room_mute(mu_conn *c, mu_request *r);
void room_unmute(mu_conn *c, mu_request *r);
void room_remove(mu_conn *c, mu_request *r);
void room_unban(mu_conn *c, mu_request *r);
void room_lock(mu_conn *c, mu_request *r);
void room_lobby(mu_conn *c, mu_request *r);
void room_admit(mu_conn *c, mu_request *r);
void room_deny(mu_conn *c, mu_request *r);
void room_floor(mu_conn *c, mu_request *r);
void room_give(mu_conn *c, mu_request *r);
void hand_raise(mu_conn *c, mu_request *r);
void hand_lower(mu_conn *c, mu_request *r);

/* Schedules: a list of up to 14 weekly slots {day, time, end_time?, timezone?}. Returns false
 * with a sentence in err when one is out of shape. */
bool rooms_schedule_valid(const msgpack_object *list, char *err, size_t cap);

#endif
