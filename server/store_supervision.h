/* The SQL of supervision figures: each mentor's load, from assignments and stored alerts
 * only (never a mentor's own check-ins). Layer: storage. */
#ifndef MUTUAL_STORE_SUPERVISION_H
#define MUTUAL_STORE_SUPERVISION_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

typedef struct {
    char handle[MU_HANDLE_MAX + 1];
    int64_t caseload, open_alerts, alerts_30d, escalated_30d;
    bool has_median;
    int64_t median_ack_ms_30d;
} mentor_load;
typedef void (*mentor_load_fn)(const mentor_load *m, void *ud);

/* When an alert counts as escalated: nobody acknowledged it this long after it was raised
 * (the settings escalate_after_min and, for help_requested, escalate_help_after_min). Counted
 * by the rule rather than by the stored escalation, so that the figure does not wait on the
 * scan and covers alerts from before escalation was stored. */
typedef struct {
    int64_t after_ms, help_after_ms;
} escalation_rule;

/* Every mentor by handle, with the figures over the 30 days before `now`: the number of
 * mentors, or -1 on a read error (logged). */
int store_supervision_overview(db_conn *db, int64_t now, const escalation_rule *rule,
                               mentor_load_fn fn, void *ud);

#endif
