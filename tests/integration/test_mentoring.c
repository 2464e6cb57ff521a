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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caseload_view_and_share),
        cmocka_unit_test(test_one_alert_per_flag_per_day_after_ack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
