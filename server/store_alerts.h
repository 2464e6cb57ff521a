/* The SQL of alerts to peer mentors and of the missed check-in scan. Reads run on the loop's
 * read connection; the rest inside writer jobs. Layer: storage. */
#ifndef MUTUAL_STORE_ALERTS_H
#define MUTUAL_STORE_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "store.h"

typedef struct {
    int64_t id, user_id, ts, mentor_id; /* mentor_id 0: none */
    char kind[24], handle[MU_HANDLE_MAX + 1], detail[200];
    bool open, escalated;
} alert_row;
typedef void (*alert_fn)(const alert_row *a, void *ud);

/* A mentor's alerts in id order, open ones only or all: rows seen, -1 on error. */
int store_alerts_of_mentor(mu_reader *r, int64_t mentor, bool open_only, alert_fn fn, void *ud);
/* Open alerts of one mentor about one user; -1 on error. */
int store_alerts_open_count(mu_reader *r, int64_t mentor, int64_t user);
/* Escalated alerts (what admins see) in id order, open ones only or all: rows seen, -1 on
 * error. */
int store_alerts_escalated(mu_reader *r, bool open_only, alert_fn fn, void *ud);
/* 1 found (its mentor in *mentor, 0 when it has none; whether it was escalated in
 * *escalated), 0 none, -1 error. */
int store_alerts_owner_w(mu_wtx *w, int64_t id, int64_t *mentor, bool *escalated);

/* Writer. `mentor` 0: none, and the alert is escalated as it is raised. */
mu_code store_alerts_insert(mu_wtx *w, int64_t user, int64_t mentor, const char *kind, int64_t ts,
                            const char *detail, int64_t *id);
/* Open alerts not yet escalated and raised at or before `due` (`help_due` for help requests),
 * each handed to fn (rows seen, -1 on error); then store_alerts_mark_escalated for each. */
int store_alerts_due(mu_wtx *w, int64_t due, int64_t help_due, alert_fn fn, void *ud);
/* MU_E_CONFLICT when it was escalated already (by another node's scan). */
mu_code store_alerts_mark_escalated(mu_wtx *w, int64_t id, int64_t ts);
/* On the writer: one alert (1 found, 0 none, -1 error); and the alerts with ids above
 * `after`, oldest first, at most `limit` (rows seen, -1 on error). */
int store_alerts_get_w(mu_wtx *w, int64_t id, alert_row *out);
int store_alerts_after_w(mu_wtx *w, int64_t after, unsigned limit, alert_fn fn, void *ud);
/* The highest alert id so far (0 for none), -1 on error. */
int64_t store_alerts_max_id(mu_reader *r);
mu_code store_alerts_close(mu_wtx *w, int64_t id, int64_t ts);
/* Every open alert of `mentor` about `user` (the mentor no longer has the user). */
/* Whether the user has an open alert of this kind for this mentor (0: the admins'): 1, 0, or
 * -1 on failure. */
int store_alerts_open_kind(mu_wtx *w, int64_t user, int64_t mentor, const char *kind);
mu_code store_alerts_close_about(mu_wtx *w, int64_t user, int64_t mentor, int64_t ts);

/* Users with a mentor, consent and a latest check-in, not yet alerted for that gap. */
typedef struct {
    int64_t user, mentor;
    int32_t last_day;
    int tz;
    char handle[MU_HANDLE_MAX + 1];
} missed_candidate;
typedef void (*missed_fn)(const missed_candidate *m, void *ud);
mu_code store_alerts_missed_candidates(mu_wtx *w, missed_fn fn, void *ud);
/* Records that the gap after `day` has raised its alert. */
mu_code store_alerts_missed_mark(mu_wtx *w, int64_t user, int32_t day);

#endif
