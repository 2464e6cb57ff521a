/* Sign-in and sign-out hooks (see session.h). Layer: concerns, over requests and storage. */
#include "session.h"

#include "alerts.h"
#include "clock.h"
#include "context.h"
#include "dm.h"
#include "dispatch.h"
#include "peers.h"
#include "rooms.h"

/* The pushes after sign-in go out as the send queue drains, never past its bound: a backlog
 * of thousands of messages must not cut off the connection it is meant for. */
static void push_more(mu_conn *c)
{
    c->refill = NULL;
    if (c->state != CONN_AUTHENTICATED)
        return;
    int rc = dm_push_unread_some(c);
    if (rc == 0) {
        c->refill = push_more; /* conn_has_room said no: called again when it drains */
        return;
    }
    alerts_push_open(c);
}

void session_signed_in(mu_conn *c)
{
    c->push_after = 0;
    push_more(c);
}

void session_signed_out(mu_conn *c)
{
    c->refill = NULL;
    rooms_leave_all(c);
    conn_deauthenticate(c);
}

void session_conn_gone(mu_conn *c)
{
    rooms_leave_all(c);
}

bool session_attempt_begin(mu_conn *c, const char *handle, const mu_netaddr *a, int64_t *started)
{
    int64_t now = clock_now_ms();
    int64_t wait = throttle_wait(g_srv->throttle, handle, a, now);
    if (wait > 0) {
        reply_err_retry(c, wait,
                        "Too many failed sign-ins for this handle from here; wait and try again.");
        return false;
    }
    wait = peers_login_wait(a, now);
    if (wait > 0) {
        reply_err_retry(c, wait, "Too many failed sign-ins from this address; wait and try again.");
        return false;
    }
    throttle_fail(g_srv->throttle, handle, a, now);
    peers_login_started(a, now);
    *started = now;
    return true;
}

void session_attempt_passed(const char *handle, const mu_netaddr *a, int64_t started, bool clear)
{
    if (clear)
        throttle_clear(g_srv->throttle, handle, a);
    else
        throttle_unfail(g_srv->throttle, handle, a, started);
    peers_login_succeeded(a, started);
}
