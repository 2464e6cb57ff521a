/* Alerts to a peer mentor: raised by check-in flags (with consent), missed check-ins (with
 * consent) and help requests (always). Stored, sent live as `alert` events, pushed again at the
 * mentor's sign-in while open. Layer: concerns, over requests and storage. */
#ifndef MUTUAL_ALERTS_H
#define MUTUAL_ALERTS_H

#include "conn.h"
#include "context.h"
#include "store.h"

typedef struct {
    int64_t id, mentor, user, ts; /* mentor 0: none */
    char kind[24], handle[MU_HANDLE_MAX + 1], detail[200];
    bool escalated; /* goes to the admins */
} alert_out;

/* Writer side: stores one open alert and fills `out` for delivery after the commit. With no
 * mentor (0) the alert is escalated as it is raised (and audited so). */
mu_code alerts_raise(mu_wtx *w, int64_t user, const char *handle, int64_t mentor, const char *kind,
                     const char *detail, int64_t ts, alert_out *out);
/* Writer side: the audit entry of an escalation (the server is its actor). */
mu_code alerts_audit_escalation(mu_wtx *w, const alert_out *a, int64_t ts);
/* Loop side, after the commit: to the mentor's connections, or when escalated to every
 * admin's, with `escalated: true`. */
void alerts_deliver(const alert_out *a);
/* Shows this node's mentors and admins the alerts other nodes raise or escalate (events.h). */
void alerts_events_init(void);
/* At sign-in, before the unread messages: a mentor's open alerts; for an admin, the open
 * escalated ones. Read off the loop; a new alert meanwhile waits for it (c->alerts_busy), so
 * that none is shown twice or missed. */
void alerts_push_open(mu_conn *c);
/* The periodic scan for missed check-ins (and after every test-clock move). */
void alerts_start(mu_server *s);
void alerts_stop(void);
/* alerts_escalate.c: the periodic scan for alerts nobody acknowledged in time (and after
 * every test-clock move). */
void alerts_escalate_start(mu_server *s);
void alerts_escalate_stop(void);

#endif
