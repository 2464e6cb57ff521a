/* Safety and reach over real WebSockets: room.report (who hears of it, what it refuses, the
 * audit entry and the copy of the text that goes with the meeting's messages) and the
 * escalation of alerts nobody acknowledged (under the test clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static mu_req *rreq(const char *op, const char *room)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "room", room);
    return r;
}

static void rcall(world *w, mu_client *c, const char *op, const char *room, const char *code)
{
    call_expect(w->y, c, rreq(op, room), code);
}

static int64_t say(world *w, mu_client *c, const char *room, const char *text)
{
    mu_req *r = rreq("room.say", room);
    mu_req_str(r, "text", text);
    mu_msg *m = cl_call(w->y, c, r);
    expect_ok(m);
    int64_t seq = mu_value_get_int(mu_msg_root(m), "seq", 0);
    mu_msg_free(m);
    return seq;
}

static void report(world *w, mu_client *c, const char *room, int64_t seq, const char *reason,
                   const char *code)
{
    mu_req *r = rreq("room.report", room);
    mu_req_int(r, "seq", seq);
    if (reason)
        mu_req_str(r, "reason", reason);
    call_expect(w->y, c, r, code);
}

static void create_open(world *w, const char *slug, bool persistent)
{
    mu_req *r = rreq("room.create", slug);
    mu_req_str(r, "name", "Evening meeting");
    mu_req_str(r, "audience", "open");
    mu_req_bool(r, "persistent", persistent);
    call_expect(w->y, w->mentor, r, "ok");
    rcall(w, w->mentor, "room.open", slug, "ok");
}

/* Skips other events until one with op `op` arrives (fails after a few seconds). */
static mu_msg *wait_for(world *w, mu_client *c, const char *op)
{
    for (int i = 0; i < 200; i++) {
        mu_msg *m = mu_sync_event(w->y, c, 5000);
        if (!m)
            break;
        if (!strcmp(mu_msg_op(m), op))
            return m;
        mu_msg_free(m);
    }
    fail_msg("no %s event", op);
    return NULL;
}

/* Nothing with op `op` arrives within a short while (other events are skipped). */
static void none_of(world *w, mu_client *c, const char *op)
{
    mu_msg *m;
    while ((m = mu_sync_event(w->y, c, 300))) {
        if (!strcmp(mu_msg_op(m), op))
            fail_msg("unexpected %s event", op);
        mu_msg_free(m);
    }
}

static void expect_report(world *w, mu_client *c, const char *room, int64_t seq, const char *from,
                          const char *text, const char *by, const char *reason)
{
    mu_msg *m = wait_for(w, c, "room.report");
    const mu_value *v = mu_msg_root(m);
    assert_string_equal(mu_value_get_str(v, "room"), room);
    assert_int_equal(mu_value_get_int(v, "seq", 0), seq);
    assert_string_equal(mu_value_get_str(v, "from"), from);
    assert_string_equal(mu_value_get_str(v, "text"), text);
    assert_string_equal(mu_value_get_str(v, "by"), by);
    if (reason)
        assert_string_equal(mu_value_get_str(v, "reason"), reason);
    else
        assert_int_equal(mu_value_type(mu_value_get(v, "reason")), MU_V_NIL);
    assert_true(mu_value_get_int(v, "ts", 0) > 0);
    mu_msg_free(m);
}

/* The newest audit entry with `action`, as a message the caller frees, its entry in *e. */
static mu_msg *audit_newest(world *w, const char *action, const mu_value **e)
{
    mu_msg *m = cl_call(w->y, w->admin, mu_req_new("audit.list"));
    expect_ok(m);
    const mu_value *list = mu_msg_get(m, "entries");
    for (size_t i = 0; i < mu_value_len(list); i++)
        if (!strcmp(mu_value_get_str(mu_value_at(list, i), "action"), action)) {
            *e = mu_value_at(list, i);
            return m;
        }
    fail_msg("no %s entry in the audit log", action);
    return NULL;
}

static void test_report(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 0, "mentor.sam", NULL);
    world_add(&w, "mentor.kim", "mentor");
    mu_client *kim = world_as(&w, "mentor.kim");        /* a facilitator not in the room */
    mu_client *sam2 = world_as(&w, "mentor.sam");       /* the joined one's other connection */
    mu_client *alex = world_newcomer(&w, "alex", NULL); /* says the harmful thing */
    mu_client *blair = world_newcomer(&w, "blair", NULL);
    mu_client *carol = world_newcomer(&w, "carol", NULL); /* never joins */
    create_open(&w, "evening", false);
    rcall(&w, w.mentor, "room.join", "evening", "ok");
    rcall(&w, alex, "room.join", "evening", "ok");
    rcall(&w, blair, "room.join", "evening", "ok");
    int64_t seq = say(&w, alex, "evening", "something harmful");

    /* someone else's message: the joined facilitator (on another connection than the
     * reporter's) and the admin hear of it, with the text; nobody else does */
    report(&w, blair, "evening", seq, "It was hurtful.", "ok");
    expect_report(&w, w.mentor, "evening", seq, "alex", "something harmful", "blair",
                  "It was hurtful.");
    expect_report(&w, w.admin, "evening", seq, "alex", "something harmful", "blair",
                  "It was hurtful.");
    none_of(&w, kim, "room.report");
    none_of(&w, sam2, "room.report");
    none_of(&w, alex, "room.report");
    none_of(&w, blair, "room.report");

    /* refusals */
    report(&w, alex, "evening", seq, NULL, "bad_request"); /* one's own */
    report(&w, blair, "evening", seq + 50, NULL, "not_found");
    report(&w, blair, "evening", 0, NULL, "bad_request");
    report(&w, carol, "evening", seq, NULL, "forbidden"); /* not joined */
    report(&w, blair, "no-such-room", seq, NULL, "not_found");
    char longer[202];
    memset(longer, 'x', 201);
    longer[201] = 0;
    report(&w, blair, "evening", seq, longer, "bad_request");
    longer[200] = 0;
    mu_req *r = rreq("room.report", "evening");
    mu_req_int(r, "seq", seq);
    mu_req_strn(r, "reason", "bad \xff byte", 10);
    call_expect(w.y, blair, r, "bad_request");
    /* a message said before a late joiner's first join is not theirs to report */
    mu_client *dana = world_newcomer(&w, "dana", NULL);
    rcall(&w, dana, "room.join", "evening", "ok");
    report(&w, dana, "evening", seq, NULL, "not_found");

    /* a repeat by the same reporter is answered but tells nobody again; a 200-byte reason
     * is within the limit, from another reporter, with no reason at all from the mentor */
    report(&w, blair, "evening", seq, NULL, "ok");
    none_of(&w, w.mentor, "room.report");
    int64_t seq2 = say(&w, alex, "evening", "more of it");
    report(&w, dana, "evening", seq2, longer, "ok");
    expect_report(&w, w.admin, "evening", seq2, "alex", "more of it", "dana", longer);
    report(&w, w.mentor, "evening", seq2, NULL, "ok");
    expect_report(&w, w.admin, "evening", seq2, "alex", "more of it", "mentor.sam", NULL);

    /* the audit entry keeps the text while the message is held */
    const mu_value *e = NULL;
    mu_msg *m = audit_newest(&w, "report", &e);
    assert_string_equal(mu_value_get_str(e, "actor"), "mentor.sam");
    assert_string_equal(mu_value_get_str(e, "target"), "alex");
    assert_string_equal(mu_value_get_str(e, "room"), "evening");
    assert_string_equal(mu_value_get_str(e, "detail"), "more of it");
    assert_int_equal(mu_value_get_int(e, "seq", 0), seq2);
    mu_msg_free(m);

    /* the meeting closes: its messages go, and with them every report's copy; the entries
     * (who reported whom, when, why) stay */
    rcall(&w, w.mentor, "room.close", "evening", "ok");
    m = cl_call(w.y, w.admin, mu_req_new("audit.list"));
    expect_ok(m);
    const mu_value *list = mu_msg_get(m, "entries");
    int reports = 0;
    for (size_t i = 0; i < mu_value_len(list); i++) {
        e = mu_value_at(list, i);
        if (strcmp(mu_value_get_str(e, "action"), "report") != 0)
            continue;
        reports++;
        assert_null(mu_value_get(e, "detail"));
        assert_string_equal(mu_value_get_str(e, "target"), "alex");
        if (!strcmp(mu_value_get_str(e, "actor"), "blair"))
            assert_string_equal(mu_value_get_str(e, "reason"), "It was hurtful.");
    }
    assert_int_equal(reports, 3);
    mu_msg_free(m);
    /* out of the room now */
    report(&w, blair, "evening", seq, NULL, "forbidden");

    /* a persistent room keeps its messages across a close, and the copy with them, until the
     * author erases their account */
    create_open(&w, "daily", true);
    rcall(&w, alex, "room.join", "daily", "ok");
    rcall(&w, blair, "room.join", "daily", "ok");
    int64_t seq3 = say(&w, alex, "daily", "kept words");
    report(&w, blair, "daily", seq3, "Not okay.", "ok");
    expect_report(&w, w.admin, "daily", seq3, "alex", "kept words", "blair", "Not okay.");
    rcall(&w, w.mentor, "room.close", "daily", "ok");
    m = audit_newest(&w, "report", &e);
    assert_string_equal(mu_value_get_str(e, "detail"), "kept words");
    mu_msg_free(m);
    r = mu_req_new("me.delete");
    mu_req_str(r, "password", WORLD_PW);
    call_expect(w.y, alex, r, "ok");
    m = audit_newest(&w, "report", &e);
    assert_null(mu_value_get(e, "detail"));
    assert_string_equal(mu_value_get_str(e, "target"), "(erased)");
    assert_string_equal(mu_value_get_str(e, "reason"), "Not okay.");
    mu_msg_free(m);
    /* the reporter's erasure takes their reason */
    r = mu_req_new("me.delete");
    mu_req_str(r, "password", WORLD_PW);
    call_expect(w.y, blair, r, "ok");
    m = audit_newest(&w, "report", &e);
    assert_string_equal(mu_value_get_str(e, "actor"), "(erased)");
    assert_null(mu_value_get(e, "reason"));
    mu_msg_free(m);
    world_down(&w);
}

static int64_t alert_id(world *w, mu_client *c, const char *kind, bool escalated)
{
    mu_msg *m = wait_for(w, c, "alert");
    const mu_value *v = mu_msg_root(m);
    assert_string_equal(mu_value_get_str(v, "kind"), kind);
    bool esc = false;
    mu_value_bool(mu_value_get(v, "escalated"), &esc);
    assert_int_equal(esc, escalated);
    int64_t id = mu_value_get_int(v, "id", 0);
    assert_true(id > 0);
    mu_msg_free(m);
    return id;
}

static void ack(world *w, mu_client *c, int64_t id, const char *code)
{
    mu_req *r = mu_req_new("alert.ack");
    mu_req_int(r, "id", id);
    call_expect(w->y, c, r, code);
}

/* alerts.list (open ones, or all): how many, and whether `id` is among them escalated. */
static size_t list_alerts(world *w, mu_client *c, bool open_only, int64_t id, bool *escalated)
{
    mu_req *r = mu_req_new("alerts.list");
    if (!open_only)
        mu_req_bool(r, "open", false);
    mu_msg *m = cl_call(w->y, c, r);
    expect_ok(m);
    const mu_value *list = mu_msg_get(m, "alerts");
    size_t n = mu_value_len(list);
    *escalated = false;
    for (size_t i = 0; i < n; i++)
        if (mu_value_get_int(mu_value_at(list, i), "id", 0) == id)
            mu_value_bool(mu_value_get(mu_value_at(list, i), "escalated"), escalated);
    mu_msg_free(m);
    return n;
}

static int count_audit(world *w, const char *action, const char *target)
{
    mu_msg *m = cl_call(w->y, w->admin, mu_req_new("audit.list"));
    expect_ok(m);
    const mu_value *list = mu_msg_get(m, "entries");
    int n = 0;
    for (size_t i = 0; i < mu_value_len(list); i++) {
        const mu_value *e = mu_value_at(list, i);
        if (!strcmp(mu_value_get_str(e, "action"), action) &&
            !strcmp(mu_value_get_str(e, "target"), target))
            n++;
    }
    mu_msg_free(m);
    return n;
}

static void test_escalation(void **st)
{
    (void)st;
    world w;
    world_up(&w, "escalate_after_min = 30\n", 1, "mentor.sam", "riley");
    world_add(&w, "mentor.kim", "mentor");
    world_add(&w, "boss", "admin");
    mu_client *kim = world_as(&w, "mentor.kim");
    mu_client *admin2 = world_as(&w, "admin");
    mu_req *r = mu_req_new("consent.set");
    mu_req_str(r, "share", "alerts");
    call_expect(w.y, w.mem, r, "ok");
    r = mu_req_new("checkin.submit");
    mu_req_int(r, "tz", 0);
    mu_req_int(r, "mood", 5);
    mu_req_int(r, "craving", 9);
    call_expect(w.y, w.mem, r, "ok");
    int64_t id = alert_id(&w, w.mentor, "high_craving", false);

    /* before it falls due: the mentor's alone */
    bool esc;
    assert_int_equal(list_alerts(&w, w.admin, true, id, &esc), 0);
    ack(&w, w.admin, id, "not_found");
    ack(&w, kim, id, "not_found");
    call_expect(w.y, w.mem, mu_req_new("alerts.list"), "forbidden");
    world_advance(&w, 29 * 60LL);
    none_of(&w, w.admin, "alert");

    /* past escalate_after_min: every admin connection hears of it, once */
    world_advance(&w, 61);
    assert_int_equal(alert_id(&w, w.admin, "high_craving", true), id);
    assert_int_equal(alert_id(&w, admin2, "high_craving", true), id);
    none_of(&w, kim, "alert");
    world_advance(&w, 3600);
    none_of(&w, w.admin, "alert");
    assert_int_equal(count_audit(&w, "escalate", "riley"), 1);
    assert_int_equal(list_alerts(&w, w.admin, true, id, &esc), 1);
    assert_true(esc);
    assert_int_equal(list_alerts(&w, w.mentor, true, id, &esc), 1);
    assert_true(esc);
    /* an admin who signs in later is told of it */
    mu_client *boss = world_as(&w, "boss");
    assert_int_equal(alert_id(&w, boss, "high_craving", true), id);

    /* any admin may acknowledge it now; another mentor still may not */
    ack(&w, kim, id, "not_found");
    ack(&w, boss, id, "ok");
    assert_int_equal(list_alerts(&w, w.admin, true, id, &esc), 0);
    assert_int_equal(list_alerts(&w, w.admin, false, id, &esc), 1);
    assert_int_equal(list_alerts(&w, w.mentor, true, id, &esc), 0);
    /* closed: no admin is told of it at sign-in any more */
    mu_client *boss2 = world_as(&w, "boss");
    none_of(&w, boss2, "alert");

    /* a help request escalates sooner: escalate_help_after_min, 10 by default */
    mu_msg_free(cl_call(w.y, w.mem, mu_req_new("help")));
    int64_t help = alert_id(&w, w.mentor, "help_requested", false);
    world_advance(&w, 9 * 60LL);
    none_of(&w, w.admin, "alert");
    world_advance(&w, 61);
    assert_int_equal(alert_id(&w, w.admin, "help_requested", true), help);
    assert_int_equal(alert_id(&w, boss, "help_requested", true), help);
    ack(&w, w.mentor, help, "ok"); /* the mentor may still close it */
    assert_int_equal(list_alerts(&w, w.admin, true, help, &esc), 0);

    /* someone with no mentor who asks for help reaches the admins at once */
    mu_client *dana = world_newcomer(&w, "dana", NULL);
    mu_msg *m = cl_call(w.y, dana, mu_req_new("help"));
    expect_ok(m);
    assert_true(mu_value_len(mu_msg_get(m, "resources")) > 0);
    mu_msg_free(m);
    int64_t alone = alert_id(&w, w.admin, "help_requested", true);
    assert_int_equal(alert_id(&w, boss, "help_requested", true), alone);
    none_of(&w, w.mentor, "alert");
    assert_int_equal(count_audit(&w, "escalate", "dana"), 1);
    assert_int_equal(list_alerts(&w, w.admin, true, alone, &esc), 1);
    assert_true(esc);
    ack(&w, w.mentor, alone, "not_found");
    ack(&w, w.admin, alone, "ok");
    /* it was escalated already: the scan does not escalate it again */
    world_advance(&w, 3600);
    none_of(&w, w.admin, "alert");
    assert_int_equal(count_audit(&w, "escalate", "dana"), 1);
    /* it is the user's: part of their export */
    m = cl_call(w.y, dana, mu_req_new("me.export"));
    expect_ok(m);
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 1);
    mu_msg_free(m);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_escalation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
