/* Every request handler, one file per concern. */
#ifndef MUTUAL_HANDLERS_H
#define MUTUAL_HANDLERS_H

#include "conn.h"

/* auth.c */
void auth_register(mu_conn *c, mu_request *r);
void auth_login(mu_conn *c, mu_request *r);
void auth_resume(mu_conn *c, mu_request *r);
void auth_logout(mu_conn *c, mu_request *r);
void auth_password_set(mu_conn *c, mu_request *r);
void auth_ping(mu_conn *c, mu_request *r);

/* dm.c */
void dm_mentor_assign(mu_conn *c, mu_request *r);
void dm_mentor_unassign(mu_conn *c, mu_request *r);
void dm_mentor_get(mu_conn *c, mu_request *r);
void dm_mentees_list(mu_conn *c, mu_request *r);
void dm_send(mu_conn *c, mu_request *r);
void dm_ack(mu_conn *c, mu_request *r);
void dm_history_request(mu_conn *c, mu_request *r);
void dm_inbox(mu_conn *c, mu_request *r);
/* Pushes every unread message of the signed-in user, in id order. */
void dm_push_unread(mu_conn *c);

/* checkins.c */
void checkin_submit(mu_conn *c, mu_request *r);
void checkin_list(mu_conn *c, mu_request *r);
void checkin_summary(mu_conn *c, mu_request *r);
void consent_set(mu_conn *c, mu_request *r);
void checkin_mentee(mu_conn *c, mu_request *r);

/* alerts.c */
void alerts_list(mu_conn *c, mu_request *r);
void alerts_ack(mu_conn *c, mu_request *r);

/* help.c */
void help_request(mu_conn *c, mu_request *r);

/* admin.c */
void admin_test_clock(mu_conn *c, mu_request *r);
void admin_me_export(mu_conn *c, mu_request *r);
void admin_me_delete(mu_conn *c, mu_request *r);
void admin_user_create(mu_conn *c, mu_request *r);
void admin_user_role(mu_conn *c, mu_request *r);
void admin_audit_list(mu_conn *c, mu_request *r);
void admin_stats(mu_conn *c, mu_request *r);

#endif
