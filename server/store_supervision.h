/* The SQL of supervision figures: each mentor's load, from assignments and stored alerts
 * only (never a mentor's own check-ins). Layer: storage. */
#ifndef MUTUAL_STORE_SUPERVISION_H
#define MUTUAL_STORE_SUPERVISION_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

/* An alert counts as escalated when nobody acknowledged it this long after it was raised
 * (PROTOCOL.md, Escalation: escalate_after_min, 60 minutes; help_requested 10). */
#define SUPERVISION_ESCALATE_MS (60 * 60000LL)
#define SUPERVISION_ESCALATE_HELP_MS (10 * 60000LL)

typedef struct {
    char handle[MU_HANDLE_MAX + 1];
    int64_t caseload, open_alerts, alerts_30d, escalated_30d;
    bool has_median;
    int64_t median_ack_ms_30d;
} mentor_load;
typedef void (*mentor_load_fn)(const mentor_load *m, void *ud);

/* Every mentor by handle, with the figures over the 30 days before `now`: the number of
 * mentors, or -1 on a read error (logged). */
int store_supervision_overview(sqlite3 *db, int64_t now, mentor_load_fn fn, void *ud);

#endif
