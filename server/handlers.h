/* Every request handler, named after its op (room.join -> op_room_join), and the table that
 * maps each op to its handler. Layer: concerns (each handler lives in its concern's file);
 * the table in handlers.c sits on top of them and is handed to dispatch_init. */
#ifndef MUTUAL_HANDLERS_H
#define MUTUAL_HANDLERS_H

#include "dispatch.h"
#include "store_users.h"

/* MU_OP__COUNT entries; events and ops this build does not serve are NULL. */
extern const handler_fn handlers_table[MU_OP__COUNT];

/* auth.c: accounts */
void op_register(mu_conn *c, mu_request *r);
void op_login(mu_conn *c, mu_request *r);
void op_resume(mu_conn *c, mu_request *r);
void op_logout(mu_conn *c, mu_request *r);
void op_password_set(mu_conn *c, mu_request *r);
void op_ping(mu_conn *c, mu_request *r);

/* rooms.c, room_meeting.c, room_moderation.c: group rooms */
void op_rooms_list(mu_conn *c, mu_request *r);
void op_room_create(mu_conn *c, mu_request *r);
void op_room_update(mu_conn *c, mu_request *r);
void op_room_delete(mu_conn *c, mu_request *r);
void op_room_open(mu_conn *c, mu_request *r);
void op_room_close(mu_conn *c, mu_request *r);
void op_room_join(mu_conn *c, mu_request *r);
void op_room_leave(mu_conn *c, mu_request *r);
void op_room_say(mu_conn *c, mu_request *r);
void op_room_history(mu_conn *c, mu_request *r);
void op_room_mute(mu_conn *c, mu_request *r);
void op_room_unmute(mu_conn *c, mu_request *r);
void op_room_remove(mu_conn *c, mu_request *r);
void op_room_unban(mu_conn *c, mu_request *r);
void op_room_lock(mu_conn *c, mu_request *r);
void op_room_lobby(mu_conn *c, mu_request *r);
void op_room_admit(mu_conn *c, mu_request *r);
void op_room_deny(mu_conn *c, mu_request *r);
void op_room_floor(mu_conn *c, mu_request *r);
void op_room_give(mu_conn *c, mu_request *r);
void op_hand_raise(mu_conn *c, mu_request *r);
void op_hand_lower(mu_conn *c, mu_request *r);
/* room_report.c */
void op_room_report(mu_conn *c, mu_request *r);

/* dm.c: peer-mentor messaging */
void op_mentor_assign(mu_conn *c, mu_request *r);
void op_mentor_unassign(mu_conn *c, mu_request *r);
void op_mentor_get(mu_conn *c, mu_request *r);
void op_mentees_list(mu_conn *c, mu_request *r);
void op_dm_send(mu_conn *c, mu_request *r);
void op_dm_ack(mu_conn *c, mu_request *r);
void op_dm_history(mu_conn *c, mu_request *r);
void op_dm_inbox(mu_conn *c, mu_request *r);

/* checkins.c: daily check-ins and consent */
void op_checkin_submit(mu_conn *c, mu_request *r);
void op_checkin_list(mu_conn *c, mu_request *r);
void op_checkin_summary(mu_conn *c, mu_request *r);
void op_consent_set(mu_conn *c, mu_request *r);
void op_mentee_checkins(mu_conn *c, mu_request *r);
/* In a writer job (so that the decision is in the writers' order, after every consent.set
 * acknowledged before it): MU_OK with *u filled when `handle` names a mentee of `mentor` who
 * shares their scores; MU_E_FORBIDDEN otherwise (an unknown handle too, so that no handle's
 * existence shows); MU_E_INTERNAL when a read failed. Shared by mentee.checkins and
 * mentee.plan. */
mu_code mentee_shared_w(mu_wtx *w, const char *handle, int64_t mentor, user_row *u);

/* alerts.c */
void op_alerts_list(mu_conn *c, mu_request *r);
void op_alert_ack(mu_conn *c, mu_request *r);

/* help.c */
void op_help(mu_conn *c, mu_request *r);

/* admin.c: data rights and administration */
void op_me_export(mu_conn *c, mu_request *r);
void op_me_delete(mu_conn *c, mu_request *r);
void op_user_create(mu_conn *c, mu_request *r);
void op_user_role(mu_conn *c, mu_request *r);
void op_audit_list(mu_conn *c, mu_request *r);
void op_stats(mu_conn *c, mu_request *r);
void op_test_clock(mu_conn *c, mu_request *r);

/* plan.c: the recovery plan */
void op_plan_get(mu_conn *c, mu_request *r);
void op_plan_set(mu_conn *c, mu_request *r);
void op_mentee_plan(mu_conn *c, mu_request *r);

/* services.c: the local services directory */
void op_services_list(mu_conn *c, mu_request *r);
void op_service_add(mu_conn *c, mu_request *r);
void op_service_update(mu_conn *c, mu_request *r);
void op_service_remove(mu_conn *c, mu_request *r);

/* supervision.c */
void op_mentors_overview(mu_conn *c, mu_request *r);

#endif
