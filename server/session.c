#include "session.h"

void session_signed_in(mu_conn *c)
{
    /* Nothing waits for a user yet; direct messages and alerts push from here. */
    (void)c;
}

void session_signed_out(mu_conn *c)
{
    conn_deauthenticate(c);
}
