/* mentors.overview: each mentor's load for the admins who supervise them (PROTOCOL.md,
 * "Recovery plan, local services, supervision"). Computed from assignments and stored alerts
 * on the loop's read connection; a mentor's own check-ins are never part of it.
 * Layer: concerns, over requests and storage. */
#include "clock.h"
#include "context.h"
#include "reads.h"
#include "handlers.h"
#include "store_supervision.h"

typedef struct {
    mu_enc items;
    uint32_t n;
} overview_acc;

static void put_mentor(const mentor_load *m, void *ud)
{
    overview_acc *a = ud;
    mu_enc_map(&a->items, 6);
    mu_enc_kstr(&a->items, "handle", m->handle);
    mu_enc_kint(&a->items, "caseload", m->caseload);
    mu_enc_kint(&a->items, "open_alerts", m->open_alerts);
    mu_enc_kint(&a->items, "alerts_30d", m->alerts_30d);
    mu_enc_kint(&a->items, "escalated_30d", m->escalated_30d);
    /* whole minutes, rounded to the nearest */
    if (m->has_median)
        mu_enc_kint(&a->items, "median_ack_min_30d", (m->median_ack_ms_30d + 30000) / 60000);
    else
        mu_enc_knil(&a->items, "median_ack_min_30d");
    a->n++;
}

typedef struct {
    read_call rc;
    escalation_rule rule;
    int64_t now;
} overview_call;

static bool overview_run(read_call *rc, mu_reader *r)
{
    overview_call *k = (overview_call *)rc;
    overview_acc a = {.n = 0};
    mu_enc_init(&a.items, 0);
    if (store_supervision_overview(store_reader_db(r), k->now, &k->rule, put_mentor, &a) < 0) {
        mu_enc_free(&a.items);
        return false;
    }
    return reads_list(rc, "mentors", a.n, &a.items);
}

void op_mentors_overview(mu_conn *c, mu_request *r)
{
    (void)r;
    if (c->role != ROLE_ADMIN) {
        reply_err(c, MU_E_FORBIDDEN, "Only an admin sees the supervision figures.");
        return;
    }
    overview_call *k =
        (overview_call *)reads_new(c, sizeof(*k), overview_run, "the supervision figures");
    k->rule = (escalation_rule){(int64_t)g_srv->cfg.escalate_after_min * 60000,
                                (int64_t)g_srv->cfg.escalate_help_after_min * 60000};
    k->now = clock_now_ms();
    reads_submit(&k->rc);
}
