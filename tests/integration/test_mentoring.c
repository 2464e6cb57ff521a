/* A mentor and a mentee over real WebSockets: what the caseload view may say about someone
 * who shares nothing, the share carried by mentor.get, one alert per flag per local day after
 * an acknowledgement, and the audit trail of assignments and role changes (through audit.list
 * and through `mutuald audit`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static void share(world *w, mu_client *c, const char *level)
{
    mu_req *r = mu_req_new("consent.set");
    mu_req_str(r, "share", level);
    call_expect(w->y, c, r, "ok");
}

static void checkin(world *w, mu_client *c, int mood, int craving)
{
    mu_req *r = mu_req_new("checkin.submit");
    mu_req_int(r, "tz", 0);
    mu_req_int(r, "mood", mood);
    mu_req_int(r, "craving", craving);
    call_expect(w->y, c, r, "ok");
}

/* mentees.list: the one mentee's entry's last_checkin is nil (or not). */
static bool last_checkin_nil(world *w)
{
    mu_msg *m = cl_call(w->y, w->mentor, mu_req_new("mentees.list"));
    expect_ok(m);
    const mu_value *list = mu_msg_get(m, "mentees");
    assert_int_equal(mu_value_len(list), 1);
    bool nil = mu_value_type(mu_value_get(mu_value_at(list, 0), "last_checkin")) == MU_V_NIL;
    mu_msg_free(m);
    return nil;
}

static void expect_mentor_get(world *w, const char *mentor, const char *level)
{
    mu_msg *m = cl_call(w->y, w->mem, mu_req_new("mentor.get"));
    expect_ok(m);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "mentor"), mentor);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "share"), level);
    mu_msg_free(m);
}

static void test_caseload_view_and_share(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", "riley");
    expect_mentor_get(&w, "mentor.ana", "none");
    checkin(&w, w.mem, 6, 2);
    /* riley shares nothing: not even whether they checked in */
    assert_true(last_checkin_nil(&w));
    share(&w, w.mem, "alerts");
    expect_mentor_get(&w, "mentor.ana", "alerts");
    assert_false(last_checkin_nil(&w));
    share(&w, w.mem, "none");
    assert_true(last_checkin_nil(&w));
    share(&w, w.mem, "scores");
    expect_mentor_get(&w, "mentor.ana", "scores");
    world_down(&w);
}

static void test_one_alert_per_flag_per_day_after_ack(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", "riley");
    share(&w, w.mem, "alerts");
    checkin(&w, w.mem, 6, 9);
    mu_msg *m = world_event(&w, w.mentor, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "kind"), "high_craving");
    int64_t id = mu_value_get_int(mu_msg_root(m), "id", 0);
    mu_msg_free(m);
    mu_req *r = mu_req_new("alert.ack");
    mu_req_int(r, "id", id);
    call_expect(w.y, w.mentor, r, "ok");
    /* the same local day, a high craving again: nothing more is raised */
    checkin(&w, w.mem, 6, 10);
    world_no_event(&w, w.mentor);
    m = cl_call(w.y, w.mentor, mu_req_new("alerts.list"));
    expect_ok(m);
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 0);
    mu_msg_free(m);
    /* a flag not raised yet today still is */
    checkin(&w, w.mem, 1, 10);
    m = world_event(&w, w.mentor, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "kind"), "low_mood");
    mu_msg_free(m);
    world_no_event(&w, w.mentor);
    /* the next local day, a high craving alerts again */
    world_advance(&w, 86400);
    checkin(&w, w.mem, 6, 9);
    m = world_event(&w, w.mentor, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "kind"), "high_craving");
    mu_msg_free(m);
    world_down(&w);
}

static void admin_call(world *w, const char *op, const char *k1, const char *v1, const char *k2,
                       const char *v2)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, k1, v1);
    if (k2)
        mu_req_str(r, k2, v2);
    call_expect(w->y, w->admin, r, "ok");
}

/* Whether audit.list holds an entry with this action, target and detail (NULL: none). */
static bool audited(const mu_value *entries, const char *action, const char *target,
                    const char *detail)
{
    for (size_t i = 0; i < mu_value_len(entries); i++) {
        const mu_value *e = mu_value_at(entries, i);
        const char *d = mu_value_get_str(e, "detail");
        if (!strcmp(mu_value_get_str(e, "action"), action) &&
            !strcmp(mu_value_get_str(e, "target"), target) &&
            !strcmp(mu_value_get_str(e, "actor"), "admin") &&
            (detail ? (d != NULL && strcmp(d, detail) == 0) : d == NULL))
            return true;
    }
    return false;
}

static void test_audit_of_assignments_and_roles(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", "riley"); /* riley is assigned to mentor.ana */
    world_add(&w, "mentor.ben", "mentor");
    admin_call(&w, "mentor.assign", "mentor", "mentor.ben", "user", "riley");
    admin_call(&w, "mentor.assign", "mentor", "mentor.ben", "user", "riley"); /* no change */
    admin_call(&w, "mentor.unassign", "user", "riley", NULL, NULL);
    admin_call(&w, "user.role", "handle", "riley", "role", "family");
    mu_msg *m = cl_call(w.y, w.admin, mu_req_new("audit.list"));
    expect_ok(m);
    const mu_value *e = mu_msg_get(m, "entries");
    assert_int_equal(mu_value_len(e), 4);
    assert_true(audited(e, "assign", "riley", "mentor.ana"));
    assert_true(audited(e, "assign", "riley", "mentor.ben"));
    assert_true(audited(e, "unassign", "riley", NULL));
    assert_true(audited(e, "role", "riley", "family"));
    assert_string_equal(mu_value_get_str(mu_value_at(e, 0), "action"), "role"); /* newest first */
    mu_msg_free(m);
    /* the operator's view of the same log */
    char cmd[512], line[256], out[4096] = "";
    snprintf(cmd, sizeof(cmd), "%s audit --db %s", MUTUALD_PATH, w.s.db);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof(line), p))
        strncat(out, line, sizeof(out) - strlen(out) - 1);
    assert_int_equal(pclose(p), 0);
    assert_non_null(strstr(out, "assign"));
    assert_non_null(strstr(out, "mentor.ben"));
    assert_non_null(strstr(out, "unassign"));
    assert_non_null(strstr(out, "role"));
    assert_non_null(strstr(out, "family"));
    world_down(&w);
}

typedef struct {
    int replies;
    char code[32];
} tally;

static void on_reply(mu_client *c, const mu_msg *m, void *ud)
{
    (void)c;
    tally *t = ud;
    t->replies++;
    snprintf(t->code, sizeof(t->code), "%s",
             m && mu_msg_ok(m) ? "ok"
             : m               ? mu_msg_code(m)
                               : "none");
}

/* A mentor demoted by one admin while another assigns them a mentee at the same moment: the
 * assignment is refused, whichever request was checked first, because the write itself reads
 * the roles as they are in the writer's order; nobody ends up with a mentor who is not one. */
static void test_assign_races_demotion(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 0, "mentor.ana", NULL);
    mu_client *sam = world_newcomer(&w, "sam", NULL);
    (void)sam;
    mu_client *admin2 = world_as(&w, "admin");
    tally demote = {0}, assign = {0};
    mu_req *r = mu_req_new("user.role");
    mu_req_str(r, "handle", "mentor.ana");
    mu_req_str(r, "role", "member");
    assert_true(mu_client_send(w.admin, r, on_reply, &demote) > 0);
    r = mu_req_new("mentor.assign");
    mu_req_str(r, "mentor", "mentor.ana");
    mu_req_str(r, "user", "sam");
    assert_true(mu_client_send(admin2, r, on_reply, &assign) > 0);
    for (int i = 0; i < 200 && (demote.replies == 0 || assign.replies == 0); i++)
        mu_sync_run(w.y, 20);
    assert_string_equal(demote.code, "ok");
    if (strcmp(assign.code, "ok") == 0) {
        /* the assignment went first: then the demotion unassigned it */
        assert_int_equal(srv_sql_int(&w.s, "SELECT count(*) FROM assignments"), 0);
    } else {
        assert_string_equal(assign.code, "bad_request");
    }
    assert_int_equal(srv_sql_int(&w.s, "SELECT count(*) FROM assignments a JOIN users u ON "
                                       "u.id = a.mentor_id WHERE u.role <> 'mentor'"),
                     0);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caseload_view_and_share),
        cmocka_unit_test(test_one_alert_per_flag_per_day_after_ack),
        cmocka_unit_test(test_audit_of_assignments_and_roles),
        cmocka_unit_test(test_assign_races_demotion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
