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

/* help.c */
void help_request(mu_conn *c, mu_request *r);

/* admin.c */
void admin_test_clock(mu_conn *c, mu_request *r);

#endif
