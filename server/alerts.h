/* Alerts to a peer mentor: raised by check-in flags (with consent), missed check-ins (with
 * consent) and help requests (always). Stored, sent live as `alert` events, pushed again at the
 * mentor's sign-in while open. Layer: concerns, over requests and storage. */
#ifndef MUTUAL_ALERTS_H
#define MUTUAL_ALERTS_H

#include "conn.h"
#include "context.h"
#include "store.h"

typedef struct {
    int64_t id, mentor, ts;
    char kind[24], handle[MU_HANDLE_MAX + 1], detail[200];
} alert_out;

/* Writer side: stores one open alert and fills `out` for delivery after the commit. */
mu_code alerts_raise(mu_wtx *w, int64_t user, const char *handle, int64_t mentor, const char *kind,
                     const char *detail, int64_t ts, alert_out *out);
/* Loop side, after the commit. */
void alerts_deliver(const alert_out *a);
void alerts_push_open(mu_conn *c);
/* The periodic scan for missed check-ins (and after every test-clock move). */
void alerts_start(mu_server *s);
void alerts_stop(void);

#endif
