/* The plan commands of `mutual plan edit`: what each typed line means, and that every limit
 * and number is checked before the plan changes (a refused command leaves it as it was). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan_model.h"

static plan_cmd cmd;

static const plan_cmd *parse(const char *line)
{
    plan_parse(line, &cmd);
    return &cmd;
}

static void test_parse_words(void **st)
{
    (void)st;
    assert_int_equal(parse("")->verb, PLAN_CMD_NONE);
    assert_int_equal(parse("   ")->verb, PLAN_CMD_NONE);
    const plan_cmd *c = parse("add goal Get back to work ");
    assert_int_equal(c->verb, PLAN_CMD_ADD);
    assert_int_equal(c->kind, PLAN_KIND_GOAL);
    assert_string_equal(c->text, "Get back to work");
    c = parse("Add Step 2 Call the job centre");
    assert_int_equal(c->kind, PLAN_KIND_STEP);
    assert_int_equal(c->goal, 2);
    assert_string_equal(c->text, "Call the job centre");
    /* a number right after "step" is always the goal's, never the start of the words */
    c = parse("add step 10 minutes of quiet");
    assert_int_equal(c->goal, 10);
    assert_string_equal(c->text, "minutes of quiet");
    c = parse("add warning sign Skipping meals");
    assert_int_equal(c->kind, PLAN_KIND_WARNING_SIGN);
    assert_string_equal(c->text, "Skipping meals");
    c = parse("add a coping strategy Walk the dog");
    assert_int_equal(c->kind, PLAN_KIND_COPING);
    assert_string_equal(c->text, "Walk the dog");
    c = parse("add person Sam , 07700 900123, my sister, who lives nearby");
    assert_int_equal(c->kind, PLAN_KIND_PERSON);
    assert_string_equal(c->text, "Sam");
    assert_string_equal(c->phone, "07700 900123");
    assert_string_equal(c->note, "my sister, who lives nearby");
    c = parse("add person Dr Lee");
    assert_string_equal(c->text, "Dr Lee");
    assert_string_equal(c->phone, "");
    c = parse("add");
    assert_int_equal(c->verb, PLAN_CMD_ADD);
    assert_int_equal(c->kind, PLAN_KIND_NONE);
    assert_int_equal(parse("add a holiday")->verb, PLAN_CMD_BAD);
    c = parse("tick off 1.2");
    assert_int_equal(c->verb, PLAN_CMD_TICK);
    assert_int_equal(c->kind, PLAN_KIND_STEP);
    assert_int_equal(c->goal, 1);
    assert_int_equal(c->step, 2);
    c = parse("tick 3");
    assert_int_equal(c->kind, PLAN_KIND_GOAL);
    assert_int_equal(c->goal, 3);
    c = parse("remove trigger 4");
    assert_int_equal(c->verb, PLAN_CMD_REMOVE);
    assert_int_equal(c->kind, PLAN_KIND_TRIGGER);
    assert_int_equal(c->item, 4);
    c = parse("delete 2.3");
    assert_int_equal(c->kind, PLAN_KIND_STEP);
    c = parse("remove person");
    assert_int_equal(c->verb, PLAN_CMD_REMOVE);
    assert_int_equal(c->item, 0);
    /* refused with a sentence, never guessed */
    const char *bad[] = {"remove 4",
                         "remove trigger four",
                         "tick trigger 2",
                         "remove step 3",
                         "remove trigger 1.2",
                         "tick 1.2 now",
                         "tick 0",
                         "remove goal 100",
                         "make a goal",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        c = parse(bad[i]);
        if (c->verb != PLAN_CMD_BAD)
            fail_msg("'%s' was not refused", bad[i]);
        assert_true(strlen(c->err) > 10);
    }
    assert_int_equal(parse("show")->verb, PLAN_CMD_SHOW);
    assert_int_equal(parse("Done")->verb, PLAN_CMD_DONE);
    assert_int_equal(parse("help")->verb, PLAN_CMD_HELP);
}

static bool apply(plan *p, const char *line, char *err, size_t cap)
{
    char done[200];
    plan_parse(line, &cmd);
    assert_int_not_equal(cmd.verb, PLAN_CMD_BAD);
    return plan_apply(p, &cmd, done, sizeof(done), err, cap);
}

static void test_apply_limits(void **st)
{
    (void)st;
    plan *p = calloc(1, sizeof(*p)), *before = malloc(sizeof(*p));
    assert_non_null(p);
    assert_non_null(before);
    char err[300], line[400];
    assert_true(plan_is_empty(p));
    assert_false(apply(p, "add step 1 x", err, sizeof(err)));
    assert_non_null(strstr(err, "There is no goal yet"));
    for (int i = 1; i <= PLAN_GOALS_MAX; i++) {
        snprintf(line, sizeof(line), "add goal g%d", i);
        assert_true(apply(p, line, err, sizeof(err)));
    }
    memcpy(before, p, sizeof(*p));
    assert_false(apply(p, "add goal one too many", err, sizeof(err)));
    assert_non_null(strstr(err, "10 goal entries"));
    for (int i = 1; i <= PLAN_STEPS_MAX; i++)
        assert_true(apply(p, "add step 2 s", err, sizeof(err)));
    assert_false(apply(p, "add step 2 s", err, sizeof(err)));
    assert_non_null(strstr(err, "Goal 2 already has 10 steps"));
    for (int i = 1; i <= PLAN_LIST_MAX; i++)
        assert_true(apply(p, "add coping breathe", err, sizeof(err)));
    assert_false(apply(p, "add coping breathe", err, sizeof(err)));
    for (int i = 1; i <= PLAN_PEOPLE_MAX; i++)
        assert_true(apply(p, "add person Sam, 1", err, sizeof(err)));
    assert_false(apply(p, "add person Sam", err, sizeof(err)));
    /* lengths in bytes: 200 fits, 201 does not; a name 60; a phone 30 */
    plan_cmd c = {.verb = PLAN_CMD_ADD, .kind = PLAN_KIND_TRIGGER};
    memset(c.text, 'x', 200);
    assert_true(plan_apply(p, &c, NULL, 0, err, sizeof(err)));
    c.text[200] = 'x';
    assert_false(plan_apply(p, &c, NULL, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "201 bytes"));
    assert_true(apply(p, "remove person 1", err, sizeof(err)));
    c = (plan_cmd){.verb = PLAN_CMD_ADD, .kind = PLAN_KIND_PERSON};
    memset(c.text, 'n', 61);
    assert_false(plan_apply(p, &c, NULL, 0, err, sizeof(err)));
    c.text[60] = 0;
    memset(c.phone, '1', 31);
    assert_false(plan_apply(p, &c, NULL, 0, err, sizeof(err)));
    c.phone[30] = 0;
    assert_true(plan_apply(p, &c, NULL, 0, err, sizeof(err)));
    c = (plan_cmd){.verb = PLAN_CMD_ADD, .kind = PLAN_KIND_GOAL};
    assert_false(plan_apply(before, &c, NULL, 0, err, sizeof(err))); /* no words */
    /* numbers that do not exist change nothing */
    memcpy(before, p, sizeof(*p));
    assert_false(apply(p, "remove goal 11", err, sizeof(err)));
    assert_false(apply(p, "tick 2.11", err, sizeof(err)));
    assert_false(apply(p, "remove trigger 2", err, sizeof(err)));
    /* before is a byte copy of p, padding included, and a refused command writes nothing */
    // NOLINTNEXTLINE(bugprone-suspicious-memory-comparison,cert-exp42-c,cert-flp37-c)
    assert_int_equal(memcmp(before, p, sizeof(*p)), 0);
    /* ticking, unticking and removing move the right entries */
    assert_true(apply(p, "tick 2.3", err, sizeof(err)));
    assert_true(p->goals[1].steps[2].done);
    assert_true(apply(p, "untick 2.3", err, sizeof(err)));
    assert_false(p->goals[1].steps[2].done);
    assert_true(apply(p, "remove goal 1", err, sizeof(err)));
    assert_int_equal(p->ngoals, 9);
    assert_string_equal(p->goals[0].text, "g2");
    assert_int_equal(p->goals[0].nsteps, 10);
    assert_true(apply(p, "remove step 1.1", err, sizeof(err)));
    assert_int_equal(p->goals[0].nsteps, 9);
    free(p);
    free(before);
}

/* What plan_pack writes reads back as the same plan. */
static void test_pack_round_trip(void **st)
{
    (void)st;
    plan *p = calloc(1, sizeof(*p)), *q = malloc(sizeof(*q));
    char err[300];
    assert_true(apply(p, "add goal Work", err, sizeof(err)));
    assert_true(apply(p, "add step 1 CV", err, sizeof(err)));
    assert_true(apply(p, "tick 1.1", err, sizeof(err)));
    assert_true(apply(p, "add warning sign Skipping meals", err, sizeof(err)));
    assert_true(apply(p, "add person Sam, , my sister", err, sizeof(err)));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    plan_pack(p, &pk);
    mu_msg *m = mu_msg_decode(sb.data, sb.size);
    assert_non_null(m);
    assert_null(mu_value_get(mu_msg_root(m), "updated"));
    assert_null(mu_value_get(mu_value_at(mu_value_get(mu_msg_root(m), "people"), 0), "phone"));
    plan_from_value(q, mu_msg_root(m));
    /* p was calloc'd and q zeroed whole by plan_from_value; both set fields only */
    // NOLINTNEXTLINE(bugprone-suspicious-memory-comparison,cert-exp42-c,cert-flp37-c)
    assert_int_equal(memcmp(p, q, sizeof(*p)), 0);
    mu_msg_free(m);
    msgpack_sbuffer_destroy(&sb);
    free(p);
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_words),
        cmocka_unit_test(test_apply_limits),
        cmocka_unit_test(test_pack_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
