/* The recovery plan over real WebSockets: the empty plan, a round trip, every limit, the
 * sharing rule (a mentor sees it only at share `scores`, never `people`, and each read is
 * audited), me.export and me.delete. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"
#include "proto.h"

#define FRIEND "Jo from the Tuesday group"
#define FRIEND_PHONE "07700 900123"

/* Limits the caller may push past, to test each one. */
typedef struct {
    int goals, steps, triggers, people;
    size_t text_len, name_len, phone_len, note_len;
    bool bad_done, empty_text, bad_utf8;
} shape;

static void enc_text(mu_enc *e, size_t n, bool bad_utf8)
{
    char *s = malloc(n + 1);
    memset(s, 'a', n);
    if (bad_utf8 && n > 0)
        s[0] = (char)0xff;
    mu_enc_strn(e, s, n);
    free(s);
}

static mu_req *plan_req(const shape *sh)
{
    mu_enc e;
    mu_enc_init(&e, 0);
    mu_enc_map(&e, 5);
    mu_enc_key(&e, "goals");
    mu_enc_array(&e, (uint32_t)sh->goals);
    for (int g = 0; g < sh->goals; g++) {
        mu_enc_map(&e, 3);
        mu_enc_key(&e, "text");
        if (g == 0)
            enc_text(&e, sh->empty_text ? 0 : sh->text_len, sh->bad_utf8);
        else
            mu_enc_str(&e, "keep well");
        mu_enc_key(&e, "done");
        if (sh->bad_done)
            mu_enc_int(&e, 1);
        else
            mu_enc_bool(&e, g == 1);
        mu_enc_key(&e, "steps");
        mu_enc_array(&e, (uint32_t)sh->steps);
        for (int s = 0; s < sh->steps; s++) {
            mu_enc_map(&e, 2);
            mu_enc_kstr(&e, "text", s == 0 ? "call my GP about a methadone review" : "walk");
            mu_enc_kbool(&e, "done", s == 1);
        }
    }
    mu_enc_key(&e, "triggers");
    mu_enc_array(&e, (uint32_t)sh->triggers);
    for (int i = 0; i < sh->triggers; i++)
        mu_enc_str(&e, i == 0 ? "payday" : "old friends");
    mu_enc_key(&e, "warning_signs");
    mu_enc_array(&e, 1);
    mu_enc_str(&e, "skipping meals");
    mu_enc_key(&e, "coping");
    mu_enc_array(&e, 2);
    mu_enc_str(&e, "ring my sponsor");
    mu_enc_str(&e, "go for a run");
    mu_enc_key(&e, "people");
    mu_enc_array(&e, (uint32_t)sh->people);
    for (int i = 0; i < sh->people; i++) {
        mu_enc_map(&e, i == 0 ? 3 : 1);
        mu_enc_key(&e, "name");
        if (i == 0 && sh->name_len)
            enc_text(&e, sh->name_len, false);
        else
            mu_enc_str(&e, FRIEND);
        if (i == 0) {
            mu_enc_key(&e, "phone");
            if (sh->phone_len)
                enc_text(&e, sh->phone_len, false);
            else
                mu_enc_str(&e, FRIEND_PHONE);
            mu_enc_key(&e, "note");
            enc_text(&e, sh->note_len, false);
        }
    }
    size_t n;
    const char *p = mu_enc_payload(&e, &n);
    mu_req *r = mu_req_new("plan.set");
    mu_req_raw(r, "plan", p, n);
    mu_enc_free(&e);
    return r;
}

static const shape good = {2, 2, 2, 2, 40, 0, 0, 20, false, false, false};

static void set_expect(world *w, shape sh, const char *code, const char *field)
{
    mu_msg *m = cl_call(w->y, w->mem, plan_req(&sh));
    if (!strcmp(code, "ok")) {
        expect_ok(m);
    } else {
        expect_err(m, code);
        if (field && !strstr(mu_msg_text(m), field))
            fail_msg("the message '%s' does not name %s", mu_msg_text(m), field);
    }
    mu_msg_free(m);
}

static void share(world *w, const char *level)
{
    mu_req *r = mu_req_new("consent.set");
    mu_req_str(r, "share", level);
    call_expect(w->y, w->mem, r, "ok");
}

static mu_msg *mentee_plan(world *w, mu_client *c, const char *handle)
{
    mu_req *r = mu_req_new("mentee.plan");
    mu_req_str(r, "handle", handle);
    return cl_call(w->y, c, r);
}

static void test_round_trip(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 0, NULL, "riley");
    mu_msg *m = cl_call(w.y, w.mem, mu_req_new("plan.get"));
    expect_ok(m);
    const mu_value *p = mu_msg_get(m, "plan");
    assert_int_equal(mu_value_len(mu_value_get(p, "goals")), 0);
    assert_int_equal(mu_value_len(mu_value_get(p, "triggers")), 0);
    assert_int_equal(mu_value_len(mu_value_get(p, "people")), 0);
    assert_int_equal(mu_value_type(mu_value_get(p, "updated")), MU_V_NIL);
    mu_msg_free(m);

    m = cl_call(w.y, w.mem, plan_req(&good));
    expect_ok(m);
    int64_t updated = mu_value_get_int(mu_msg_root(m), "updated", 0);
    assert_true(updated > 0);
    mu_msg_free(m);
    m = cl_call(w.y, w.mem, mu_req_new("plan.get"));
    p = mu_msg_get(m, "plan");
    assert_int_equal(mu_value_get_int(p, "updated", 0), updated);
    const mu_value *goals = mu_value_get(p, "goals");
    assert_int_equal(mu_value_len(goals), 2);
    bool done = true;
    assert_true(mu_value_bool(mu_value_get(mu_value_at(goals, 0), "done"), &done));
    assert_false(done);
    assert_true(mu_value_bool(mu_value_get(mu_value_at(goals, 1), "done"), &done));
    assert_true(done);
    const mu_value *steps = mu_value_get(mu_value_at(goals, 0), "steps");
    assert_int_equal(mu_value_len(steps), 2);
    assert_string_equal(mu_value_get_str(mu_value_at(steps, 0), "text"),
                        "call my GP about a methadone review");
    assert_true(mu_value_bool(mu_value_get(mu_value_at(steps, 1), "done"), &done));
    assert_true(done);
    assert_string_equal(mu_value_str(mu_value_at(mu_value_get(p, "triggers"), 0)), "payday");
    assert_string_equal(mu_value_str(mu_value_at(mu_value_get(p, "coping"), 1)), "go for a run");
    assert_int_equal(mu_value_len(mu_value_get(p, "warning_signs")), 1);
    const mu_value *people = mu_value_get(p, "people");
    assert_int_equal(mu_value_len(people), 2);
    assert_string_equal(mu_value_get_str(mu_value_at(people, 0), "name"), FRIEND);
    assert_string_equal(mu_value_get_str(mu_value_at(people, 0), "phone"), FRIEND_PHONE);
    assert_null(mu_value_get(mu_value_at(people, 1), "phone")); /* absent stays absent */
    mu_msg_free(m);

    /* a save replaces the whole plan */
    shape small = good;
    small.goals = 0;
    small.people = 0;
    set_expect(&w, small, "ok", NULL);
    m = cl_call(w.y, w.mem, mu_req_new("plan.get"));
    assert_int_equal(mu_value_len(mu_value_get(mu_msg_get(m, "plan"), "goals")), 0);
    assert_int_equal(mu_value_len(mu_value_get(mu_msg_get(m, "plan"), "people")), 0);
    mu_msg_free(m);
    world_down(&w);
}

static void test_limits(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 0, NULL, "riley");
    shape sh = {10, 10, 20, 10, 200, 60, 30, 200, false, false, false};
    set_expect(&w, sh, "ok", NULL); /* every limit exactly */
    sh = good;
    sh.goals = 11;
    set_expect(&w, sh, "bad_request", "plan.goals");
    sh = good;
    sh.steps = 11;
    set_expect(&w, sh, "bad_request", "plan.goals[0].steps");
    sh = good;
    sh.triggers = 21;
    set_expect(&w, sh, "bad_request", "plan.triggers");
    sh = good;
    sh.people = 11;
    set_expect(&w, sh, "bad_request", "plan.people");
    sh = good;
    sh.text_len = 201;
    set_expect(&w, sh, "too_large", "plan.goals[0].text");
    sh = good;
    sh.empty_text = true;
    set_expect(&w, sh, "bad_request", "plan.goals[0].text");
    sh = good;
    sh.bad_utf8 = true;
    set_expect(&w, sh, "bad_request", "plan.goals[0].text");
    sh = good;
    sh.name_len = 61;
    set_expect(&w, sh, "bad_request", "plan.people[0].name");
    sh = good;
    sh.phone_len = 31;
    set_expect(&w, sh, "bad_request", "plan.people[0].phone");
    sh = good;
    sh.note_len = 201;
    set_expect(&w, sh, "too_large", "plan.people[0].note");
    sh = good;
    sh.bad_done = true;
    set_expect(&w, sh, "bad_request", "plan.goals[0].done");
    mu_req *r = mu_req_new("plan.set");
    mu_req_str(r, "plan", "not a map");
    call_expect(w.y, w.mem, r, "bad_request");
    call_expect(w.y, w.mem, mu_req_new("plan.set"), "bad_request");
    /* nothing refused was saved: the plan is still the one at every limit */
    mu_msg *m = cl_call(w.y, w.mem, mu_req_new("plan.get"));
    assert_int_equal(mu_value_len(mu_value_get(mu_msg_get(m, "plan"), "goals")), 10);
    mu_msg_free(m);
    world_down(&w);
}

static bool json_has(const mu_value *v, const char *needle)
{
    char *j = mu_value_to_json(v, 0);
    bool has = strstr(j, needle) != NULL;
    free(j);
    return has;
}

static void test_sharing(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 0, "mentor.sam", "riley");
    world_add(&w, "mentor.kim", "mentor");
    mu_client *other = world_as(&w, "mentor.kim");
    set_expect(&w, good, "ok", NULL);
    /* share none, then alerts: refused */
    mu_msg *m = mentee_plan(&w, w.mentor, "riley");
    expect_err(m, "forbidden");
    mu_msg_free(m);
    share(&w, "alerts");
    m = mentee_plan(&w, w.mentor, "riley");
    expect_err(m, "forbidden");
    mu_msg_free(m);
    share(&w, "scores");
    m = mentee_plan(&w, w.mentor, "riley");
    expect_ok(m);
    const mu_value *p = mu_msg_get(m, "plan");
    assert_int_equal(mu_value_len(mu_value_get(p, "goals")), 2);
    assert_int_equal(mu_value_len(mu_value_get(p, "triggers")), 2);
    assert_null(mu_value_get(p, "people"));
    assert_false(json_has(mu_msg_root(m), FRIEND));
    assert_false(json_has(mu_msg_root(m), FRIEND_PHONE));
    mu_msg_free(m);
    /* not their mentor, not a mentor, unknown: the same refusal */
    m = mentee_plan(&w, other, "riley");
    expect_err(m, "forbidden");
    mu_msg_free(m);
    m = mentee_plan(&w, w.mentor, "nobody.here");
    expect_err(m, "forbidden");
    mu_msg_free(m);
    m = mentee_plan(&w, w.admin, "riley");
    expect_err(m, "forbidden");
    mu_msg_free(m);
    /* the one read is on the record */
    m = cl_call(w.y, w.admin, mu_req_new("audit.list"));
    const mu_value *en = mu_msg_get(m, "entries");
    int reads = 0;
    for (size_t i = 0; i < mu_value_len(en); i++) {
        const mu_value *x = mu_value_at(en, i);
        if (!strcmp(mu_value_get_str(x, "action"), "read_plan")) {
            reads++;
            assert_string_equal(mu_value_get_str(x, "actor"), "mentor.sam");
            assert_string_equal(mu_value_get_str(x, "target"), "riley");
        }
    }
    assert_int_equal(reads, 1);
    mu_msg_free(m);
    /* after unassignment the old mentor no longer sees it */
    mu_req *r = mu_req_new("mentor.unassign");
    mu_req_str(r, "user", "riley");
    call_expect(w.y, w.admin, r, "ok");
    m = mentee_plan(&w, w.mentor, "riley");
    expect_err(m, "forbidden");
    mu_msg_free(m);
    world_down(&w);
}

static int64_t plan_rows(const srv_t *s)
{
    return srv_sql_int(s, "SELECT (SELECT count(*) FROM plans) + (SELECT count(*) FROM plan_goals) "
                          "+ (SELECT count(*) FROM plan_steps) + (SELECT count(*) FROM "
                          "plan_entries) + (SELECT count(*) FROM plan_people)");
}

static void test_export_and_erase(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 0, NULL, "riley");
    set_expect(&w, good, "ok", NULL);
    mu_msg *m = cl_call(w.y, w.mem, mu_req_new("me.export"));
    expect_ok(m);
    const mu_value *p = mu_msg_get(m, "plan");
    assert_int_equal(mu_value_len(mu_value_get(p, "goals")), 2);
    assert_string_equal(mu_value_get_str(mu_value_at(mu_value_get(p, "people"), 0), "name"),
                        FRIEND);
    mu_msg_free(m);
    assert_true(plan_rows(&w.s) > 0);
    mu_req *r = mu_req_new("me.delete");
    mu_req_str(r, "password", WORLD_PW);
    call_expect(w.y, w.mem, r, "ok");
    assert_int_equal(mu_sync_wait_closed(w.y, w.mem, 5000), 1000);
    assert_int_equal(plan_rows(&w.s), 0);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_sharing),
        cmocka_unit_test(test_export_and_erase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
