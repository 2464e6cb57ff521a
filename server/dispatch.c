#include "dispatch.h"

#include "handlers.h"
#include "rooms.h"
#include "log.h"

/* The handler of each op. An op of the protocol with no handler here is not served by this
 * build and answers unknown_op. */
static const handler_fn handlers[MU_OP__COUNT] = {
    [MU_OP_REGISTER] = auth_register,
    [MU_OP_LOGIN] = auth_login,
    [MU_OP_RESUME] = auth_resume,
    [MU_OP_LOGOUT] = auth_logout,
    [MU_OP_PASSWORD_SET] = auth_password_set,
    [MU_OP_PING] = auth_ping,
    [MU_OP_ROOMS_LIST] = rooms_list,
    [MU_OP_ROOM_CREATE] = room_create,
    [MU_OP_ROOM_UPDATE] = room_update,
    [MU_OP_ROOM_DELETE] = room_delete,
    [MU_OP_ROOM_OPEN] = room_open,
    [MU_OP_ROOM_CLOSE] = room_close,
    [MU_OP_ROOM_JOIN] = room_join,
    [MU_OP_ROOM_LEAVE] = room_leave,
    [MU_OP_ROOM_SAY] = room_say,
    [MU_OP_ROOM_HISTORY] = room_history,
    [MU_OP_ROOM_MUTE] = room_mute,
    [MU_OP_ROOM_UNMUTE] = room_unmute,
    [MU_OP_ROOM_REMOVE] = room_remove,
    [MU_OP_ROOM_UNBAN] = room_unban,
    [MU_OP_ROOM_LOCK] = room_lock,
    [MU_OP_ROOM_LOBBY] = room_lobby,
    [MU_OP_ROOM_ADMIT] = room_admit,
    [MU_OP_ROOM_DENY] = room_deny,
    [MU_OP_ROOM_FLOOR] = room_floor,
    [MU_OP_ROOM_GIVE] = room_give,
    [MU_OP_HAND_RAISE] = hand_raise,
    [MU_OP_HAND_LOWER] = hand_lower,
    [MU_OP_MENTOR_ASSIGN] = dm_mentor_assign,
    [MU_OP_MENTOR_UNASSIGN] = dm_mentor_unassign,
    [MU_OP_MENTOR_GET] = dm_mentor_get,
    [MU_OP_MENTEES_LIST] = dm_mentees_list,
    [MU_OP_DM_SEND] = dm_send,
    [MU_OP_DM_ACK] = dm_ack,
    [MU_OP_DM_HISTORY] = dm_history_request,
    [MU_OP_DM_INBOX] = dm_inbox,
    [MU_OP_CHECKIN_SUBMIT] = checkin_submit,
    [MU_OP_CHECKIN_LIST] = checkin_list,
    [MU_OP_CHECKIN_SUMMARY] = checkin_summary,
    [MU_OP_CONSENT_SET] = consent_set,
    [MU_OP_MENTEE_CHECKINS] = checkin_mentee,
    [MU_OP_ALERTS_LIST] = alerts_list,
    [MU_OP_ALERT_ACK] = alerts_ack,
    [MU_OP_HELP] = help_request,
    [MU_OP_ME_EXPORT] = admin_me_export,
    [MU_OP_ME_DELETE] = admin_me_delete,
    [MU_OP_USER_CREATE] = admin_user_create,
    [MU_OP_USER_ROLE] = admin_user_role,
    [MU_OP_AUDIT_LIST] = admin_audit_list,
    [MU_OP_STATS] = admin_stats,
    [MU_OP_TEST_CLOCK] = admin_test_clock,
};

static unsigned inflight;

unsigned dispatch_inflight(void) { return inflight; }
void dispatch_call_started(void) { inflight++; }
void dispatch_call_ended(void) { inflight--; }

void conn_malformed(mu_conn *c, const mu_error *err);

void dispatch_request(mu_conn *c, mu_inmsg *m)
{
    mu_request *r = c->req;
    mu_error err = {0};

    if (m->text) {
        /* Text is never a request: malformed, and counted as such. */
        mu_request_free(r);
        mu_request_init(r);
        mu_error_set(&err, MU_E_BAD_REQUEST, "Frames must be binary MessagePack, not text.");
        if (m->limited) {
            conn_reply_err(c, MU_E_RATE_LIMITED, "Too many requests; slow down.");
            return;
        }
        conn_malformed(c, &err);
        return;
    }
    mu_parse_result pr = mu_request_parse(r, m->data, m->len, &err);
    if (m->limited) {
        conn_reply_err(c, MU_E_RATE_LIMITED, "Too many requests; slow down.");
        return;
    }
    if (pr == MU_PARSE_MALFORMED) {
        conn_malformed(c, &err);
        return;
    }
    const mu_op *op = r->op;
    handler_fn h = op ? handlers[mu_op_index(op)] : NULL;
    if (op && (op->flags & MU_OPF_TESTCLOCK) && !g_srv->test_clock)
        op = NULL; /* test.clock exists only under --test-clock */
    if (!op) {
        if (r->op_len <= 64 && mu_utf8_valid(r->op_name, r->op_len))
            conn_reply_err(c, MU_E_UNKNOWN_OP, "Unknown op '%.*s'.", (int)r->op_len, r->op_name);
        else
            conn_reply_err(c, MU_E_UNKNOWN_OP, "Unknown op.");
        return;
    }
    if (!(op->flags & MU_OPF_PREAUTH) && c->state != CONN_AUTHENTICATED) {
        conn_reply_err(c, MU_E_UNAUTHENTICATED, "Sign in first (register, login or resume).");
        return;
    }
    if (g_srv->stopping) {
        conn_reply_err(c, MU_E_UNAVAILABLE, "The server is shutting down; try again shortly.");
        return;
    }
    if (mu_request_validate(r, &g_srv->limits, &err) != MU_OK) {
        conn_reply_err(c, err.code, "%s", err.msg);
        return;
    }
    if (!h) {
        conn_reply_err(c, MU_E_UNKNOWN_OP, "This server does not serve '%s' yet.", op->name);
        return;
    }
    h(c, r);
}
