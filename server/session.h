/* What happens around a connection's sign-in and sign-out, beyond the account itself: the
 * concerns that keep per-user state on a connection hook in here.
 * Layer: concerns, over requests and storage. */
#ifndef MUTUAL_SESSION_H
#define MUTUAL_SESSION_H

#include "conn.h"

/* After the reply to register, login or resume. */
void session_signed_in(mu_conn *c);
/* logout, a resume into another session: the connection leaves what it had joined and is
 * unauthenticated again. */
void session_signed_out(mu_conn *c);
/* The socket is gone: before the connection forgets who it was. */
void session_conn_gone(mu_conn *c);

#endif
