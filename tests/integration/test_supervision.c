/* mentors.overview over real WebSockets: admins only; caseload, open alerts, alerts and
 * escalations in the last 30 days and the median minutes to acknowledge, from stored alerts,
 * under a moved test clock; a mentor's own check-ins play no part. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static void checkin(world *w, mu_client *c, int mood, int craving)
{
    mu_req *r = mu_req_new("checkin.submit");
    mu_req_int(r, "tz", 0);
    mu_req_int(r, "mood", mood);
    mu_req_int(r, "craving", craving);
    call_expect(w->y, c, r, "ok");
}

static const mu_value *row(const mu_msg *m, const char *handle)
{
    const mu_value *ms = mu_msg_get(m, "mentors");
    for (size_t i = 0; i < mu_value_len(ms); i++)
        if (!strcmp(mu_value_get_str(mu_value_at(ms, i), "handle"), handle))
            return mu_value_at(ms, i);
    fail_msg("no row for %s", handle);
    return NULL;
}

static void expect_row(const mu_msg *m, const char *handle, int64_t caseload, int64_t open,
                       int64_t a30, int64_t e30, int64_t median)
{
    const mu_value *r = row(m, handle);
    assert_int_equal(mu_value_get_int(r, "caseload", -1), caseload);
    assert_int_equal(mu_value_get_int(r, "open_alerts", -1), open);
    assert_int_equal(mu_value_get_int(r, "alerts_30d", -1), a30);
    assert_int_equal(mu_value_get_int(r, "escalated_30d", -1), e30);
    if (median < 0)
        assert_int_equal(mu_value_type(mu_value_get(r, "median_ack_min_30d")), MU_V_NIL);
    else
        assert_int_equal(mu_value_get_int(r, "median_ack_min_30d", -1), median);
}

static mu_msg *overview(world *w)
{
    mu_msg *m = cl_call(w->y, w->admin, mu_req_new("mentors.overview"));
    expect_ok(m);
    return m;
}

static void test_overview(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 1, "mentor.sam", "riley");
    world_add(&w, "mentor.kim", "mentor");
    mu_client *kim = world_as(&w, "mentor.kim");
    mu_req *r = mu_req_new("consent.set");
    mu_req_str(r, "share", "alerts");
    call_expect(w.y, w.mem, r, "ok");

    mu_msg *m = overview(&w);
    assert_int_equal(mu_value_len(mu_msg_get(m, "mentors")), 2);
    assert_string_equal(mu_value_get_str(mu_value_at(mu_msg_get(m, "mentors"), 0), "handle"),
                        "mentor.kim");
    expect_row(m, "mentor.sam", 1, 0, 0, 0, -1);
    mu_msg_free(m);

    /* an alert acknowledged after 5 minutes */
    checkin(&w, w.mem, 5, 9);
    mu_msg *ev = world_event(&w, w.mentor, "alert");
    int64_t id = mu_value_get_int(mu_msg_root(ev), "id", 0);
    mu_msg_free(ev);
    world_advance(&w, 300);
    r = mu_req_new("alert.ack");
    mu_req_int(r, "id", id);
    call_expect(w.y, w.mentor, r, "ok");
    /* a mentor's own check-ins are not part of the figures */
    checkin(&w, kim, 1, 10);
    m = overview(&w);
    expect_row(m, "mentor.sam", 1, 0, 1, 0, 5);
    expect_row(m, "mentor.kim", 0, 0, 0, 0, -1);
    mu_msg_free(m);

    /* one left unacknowledged past the escalation time */
    checkin(&w, w.mem, 1, 9);
    mu_msg_free(world_event(&w, w.mentor, "alert"));
    m = overview(&w);
    expect_row(m, "mentor.sam", 1, 1, 2, 0, 5);
    mu_msg_free(m);
    world_advance(&w, 3601);
    m = overview(&w);
    expect_row(m, "mentor.sam", 1, 1, 2, 1, 5);
    mu_msg_free(m);

    /* only admins */
    call_expect(w.y, w.mentor, mu_req_new("mentors.overview"), "forbidden");
    call_expect(w.y, w.mem, mu_req_new("mentors.overview"), "forbidden");

    /* 31 days on, the acknowledged alert is out of the window; the open one stays open */
    world_advance(&w, 31 * (int64_t)86400);
    m = overview(&w);
    const mu_value *sam = row(m, "mentor.sam");
    assert_true(mu_value_get_int(sam, "open_alerts", 0) >= 1);
    assert_int_equal(mu_value_type(mu_value_get(sam, "median_ack_min_30d")), MU_V_NIL);
    mu_msg_free(m);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overview),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
