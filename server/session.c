/* Sign-in and sign-out hooks (see session.h). Layer: concerns, over requests and storage. */
#include "session.h"

#include "alerts.h"
#include "dm.h"
#include "rooms.h"

void session_signed_in(mu_conn *c)
{
    dm_push_unread(c);
    alerts_push_open(c);
}

void session_signed_out(mu_conn *c)
{
    rooms_leave_all(c);
    conn_deauthenticate(c);
}

void session_conn_gone(mu_conn *c)
{
    rooms_leave_all(c);
}
