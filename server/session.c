#include "session.h"

#include "alerts.h"
#include "handlers.h"

void session_signed_in(mu_conn *c)
{
    dm_push_unread(c);
    alerts_push_open(c);
}

void session_signed_out(mu_conn *c)
{
    conn_deauthenticate(c);
}
