/* Escalation: an alert nobody acknowledged `escalate_after_min` minutes after it was raised
 * (`escalate_help_after_min` for a help request) goes to the admins, once: it is marked
 * escalated, audited, and sent to every admin connected (the others get it at sign-in). A scan
 * on an unref'd timer finds what fell due, and runs after every test-clock move too. Layer:
 * concerns, over requests and storage (see alerts.h). */
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "events.h"
#include "clock.h"
#include "log.h"
#include "store_alerts.h"
#include "xalloc.h"

typedef struct {
    mu_job job;
    int64_t now, due, help_due;
    alert_out *out; /* owned: what escalated, for delivery after the commit */
    size_t n, cap;
} escalate_job;

static void collect(const alert_row *a, void *ud)
{
    escalate_job *s = ud;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->out = xrealloc(s->out, s->cap * sizeof(*s->out));
    }
    alert_out *o = &s->out[s->n++];
    memset(o, 0, sizeof(*o));
    o->id = a->id;
    o->user = a->user_id;
    o->ts = a->ts;
    o->escalated = true;
    memcpy(o->kind, a->kind, sizeof(o->kind));
    memcpy(o->handle, a->handle, sizeof(o->handle));
    memcpy(o->detail, a->detail, sizeof(o->detail));
}

static mu_code escalate_run(mu_job *j, mu_wtx *w)
{
    escalate_job *s = (escalate_job *)j;
    /* Read first, then write: the rows are marked once the query is done with the table. */
    if (store_alerts_due(w, s->due, s->help_due, collect, s) < 0)
        return MU_E_INTERNAL;
    for (size_t i = 0; i < s->n; i++) {
        mu_code c = store_alerts_mark_escalated(w, s->out[i].id, s->now);
        if (c == MU_E_CONFLICT) {
            s->out[i].id = 0; /* another node's scan escalated it first: theirs to deliver */
            continue;
        }
        if (c == MU_OK)
            c = alerts_audit_escalation(w, &s->out[i], s->now);
        if (c == MU_OK)
            c = events_publish(w, "alert", s->out[i].id, 0, 0);
        if (c != MU_OK)
            return c;
    }
    return MU_OK;
}

static void escalate_done(mu_job *j)
{
    escalate_job *s = (escalate_job *)j;
    if (j->result == MU_OK) {
        size_t n = 0;
        for (size_t i = 0; i < s->n; i++)
            if (s->out[i].id) {
                alerts_deliver(&s->out[i]);
                n++;
            }
        if (n)
            log_info("%zu alert%s escalated to the admins", n, n == 1 ? "" : "s");
    } else {
        log_error("the escalation scan failed; it runs again at the next interval");
    }
    free(s->out);
    free(s);
}

static uv_timer_t scan_timer;
static bool scan_started;
/* One scan at a time: a test-clock move during a scan waits for the next (it would only find
 * what the running one is about to mark). */
static bool scanning, again;

static void scan_now(void *ud);

static void scan_finished(mu_job *j)
{
    escalate_done(j);
    scanning = false;
    if (again) {
        again = false;
        scan_now(g_srv);
    }
}

static void scan_now(void *ud)
{
    mu_server *srv = ud;
    if (!srv->store || srv->stopping)
        return;
    if (scanning) {
        again = true;
        return;
    }
    escalate_job *s = xcalloc(1, sizeof(*s));
    s->now = clock_now_ms();
    s->due = s->now - (int64_t)srv->cfg.escalate_after_min * 60000;
    s->help_due = s->now - (int64_t)srv->cfg.escalate_help_after_min * 60000;
    s->job.run = escalate_run;
    s->job.done = scan_finished;
    scanning = true;
    store_submit(srv->store, &s->job);
}

static void on_scan_timer(uv_timer_t *t)
{
    scan_now(t->data);
}

void alerts_escalate_start(mu_server *s)
{
    uv_timer_init(s->loop, &scan_timer);
    scan_timer.data = s;
    uint64_t every = s->cfg.escalate_scan_s * 1000;
    uv_timer_start(&scan_timer, on_scan_timer, every, every);
    uv_unref((uv_handle_t *)&scan_timer); /* a scan never keeps the loop alive */
    clock_observe(scan_now, s);
    scanning = again = false;
    scan_started = true;
}

void alerts_escalate_stop(void)
{
    if (scan_started) {
        uv_timer_stop(&scan_timer);
        uv_close((uv_handle_t *)&scan_timer, NULL);
        scan_started = false;
    }
}
