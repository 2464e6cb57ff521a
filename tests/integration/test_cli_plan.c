/* The CLI of the recovery plan, the services directory and supervision: the real `mutual`
 * binary against the real server, its output read as a person would read it, and what it
 * stored checked through the client library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static char out[65536];

/* Runs a shell command built from fmt; returns its exit status, output (both streams) in out. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sh_vcapture(out, sizeof(out), fmt, ap);
    va_end(ap);
    return rc;
}

static void expect_out(const char *text)
{
    if (!strstr(out, text))
        fail_msg("expected '%s' in:\n%s", text, out);
}

static void expect_not(const char *text)
{
    if (strstr(out, text))
        fail_msg("did not expect '%s' in:\n%s", text, out);
}

static void as(char *buf, size_t cap, const world *w, const char *who)
{
    snprintf(buf, cap, "XDG_CONFIG_HOME=%s/x-%s %s --server 127.0.0.1:%d", w->s.dir, who,
             MUTUAL_CLI_PATH, w->s.port);
}

static void login(const world *w, const char *who)
{
    char p[700];
    as(p, sizeof(p), w, who);
    assert_int_equal(sh("printf '%s\\n' | %s login %s", WORLD_PW, p, who), 0);
}

static mu_msg *plan_get(world *w, mu_client *c)
{
    mu_msg *m = cl_call(w->y, c, mu_req_new("plan.get"));
    expect_ok(m);
    return m;
}

static void test_plan_edit_in_plain_words(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 0, "kim", "jodie");
    char j[700], k[700];
    as(j, sizeof(j), &w, "jodie");
    as(k, sizeof(k), &w, "kim");
    login(&w, "jodie");
    login(&w, "kim");
    assert_int_equal(sh("%s plan", j), 0);
    expect_out("You have no recovery plan yet");
    /* typed commands, walk-throughs that ask for what was left out, and refusals that change
     * nothing: a step before any goal, a number that does not exist, words not understood */
    assert_int_equal(sh("printf '"
                        "add step Too early\\n"
                        "add goal Get back to work\\n"
                        "add step Call the job centre\\n"
                        "add\\nstep\\nUpdate my CV\\n"
                        "add goal Sleep better\\n"
                        "add step\\n2\\nNo screens after 11\\n"
                        "tick 1.1\\n"
                        "add trigger Payday\\n"
                        "add warning sign Skipping meals\\n"
                        "add coping strategy Walk the dog\\n"
                        "add person Sam, 07700 900123, my sister\\n"
                        "add person\\nDr Lee\\n\\n\\n"
                        "add trigger Friday nights\\n"
                        "remove\\ntrigger\\n1\\n"
                        "remove trigger 5\\n"
                        "tick 3.1\\n"
                        "sing a song\\n"
                        "tick 2\\nuntick 2\\n"
                        "done\\n' | %s plan edit",
                        j),
                     0);
    expect_out("A step belongs to a goal: add a goal first.");
    expect_out("Goal 1 added (1 of 10). Saved.");
    expect_out("What would you like to add: a goal, a step");
    expect_out("Step 1.2 added (2 of 10 for this goal). Saved.");
    expect_out("Which goal is the step for? (1 to 2)");
    expect_out("Step 1.1 ticked off");
    expect_out("Their phone number (up to 30 characters; blank for none)");
    expect_out("Which trigger? (1 to 2)");
    expect_out("There is no trigger 5: the numbers go from 1 to 1. Nothing changed.");
    expect_out("There is no goal 3: the numbers go from 1 to 2. Nothing changed.");
    expect_out("Start with add, remove, tick, untick, show or done");
    expect_out("Goal 2 is open again.");
    expect_out("Your plan is saved (15 changes)");
    /* what was stored is the plan as typed, each entry a row of its own */
    mu_msg *m = plan_get(&w, w.mem);
    const mu_value *p = mu_msg_get(m, "plan"), *goals = mu_value_get(p, "goals");
    assert_int_equal(mu_value_len(goals), 2);
    const mu_value *g1 = mu_value_at(goals, 0);
    assert_string_equal(mu_value_get_str(g1, "text"), "Get back to work");
    const mu_value *steps = mu_value_get(g1, "steps");
    assert_int_equal(mu_value_len(steps), 2);
    bool done = false;
    assert_true(mu_value_bool(mu_value_get(mu_value_at(steps, 0), "done"), &done) && done);
    assert_true(mu_value_bool(mu_value_get(mu_value_at(steps, 1), "done"), &done) && !done);
    assert_string_equal(mu_value_get_str(mu_value_at(steps, 1), "text"), "Update my CV");
    assert_true(mu_value_bool(mu_value_get(mu_value_at(goals, 1), "done"), &done) && !done);
    const mu_value *trig = mu_value_get(p, "triggers");
    assert_int_equal(mu_value_len(trig), 1);
    assert_string_equal(mu_value_str(mu_value_at(trig, 0)), "Friday nights");
    const mu_value *people = mu_value_get(p, "people");
    assert_int_equal(mu_value_len(people), 2);
    assert_string_equal(mu_value_get_str(mu_value_at(people, 0), "phone"), "07700 900123");
    assert_string_equal(mu_value_get_str(mu_value_at(people, 0), "note"), "my sister");
    assert_null(mu_value_get_str(mu_value_at(people, 1), "phone"));
    mu_msg_free(m);
    assert_int_equal(sh("%s plan", j), 0);
    expect_out("1.1 [x] Call the job centre");
    expect_out("Sam  07700 900123  (my sister)");
    expect_out("only you ever see these");

    /* the mentor: refused while the share is not scores, then the plan without its people */
    assert_int_equal(sh("%s plan jodie", k), 1);
    expect_out("you cannot see jodie's plan");
    assert_int_equal(sh("%s consent alerts", j), 0);
    assert_int_equal(sh("%s plan jodie", k), 1);
    assert_int_equal(sh("%s consent scores", j), 0);
    assert_int_equal(sh("%s plan jodie", k), 0);
    expect_out("jodie's recovery plan");
    expect_out("2.1 [ ] No screens after 11");
    expect_out("Friday nights");
    expect_not("Sam");
    expect_not("07700");
    expect_not("Dr Lee");
    expect_not("People I can call");

    /* limits, said before words are asked for; an over-long text refused with its size */
    char script[4096] = "";
    for (int i = 3; i <= 11; i++)
        snprintf(script + strlen(script), sizeof(script) - strlen(script), "add goal Goal %d\\n",
                 i);
    char longtext[202];
    memset(longtext, 'x', 201);
    longtext[201] = 0;
    assert_int_equal(
        sh("printf '%sadd goal\\nadd step 1 %s\\n' | %s plan edit", script, longtext, j), 0);
    expect_out("Goal 10 added (10 of 10)");
    expect_out("Your plan already has 10 goal entries, the most it holds; remove one first.");
    expect_out("That step is 201 bytes long; it can be up to 200");
    expect_out("Your plan is saved (8 changes)");
    /* input that ends part way through a walk-through keeps what was saved before it */
    assert_int_equal(sh("printf 'remove goal 10\\nadd\\ntrigger\\n' | %s plan edit", j), 0);
    expect_out("Goal 10 removed");
    expect_out("Your plan is saved (1 change)");
    m = plan_get(&w, w.mem);
    assert_int_equal(mu_value_len(mu_value_get(mu_msg_get(m, "plan"), "goals")), 9);
    mu_msg_free(m);
    assert_int_equal(sh("%s plan a b", j), 2);
    world_down(&w);
}

static void test_services_and_supervision(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 0, "kim", "jodie");
    char a[700], j[700], k[700], nobody[700];
    as(a, sizeof(a), &w, "admin");
    as(j, sizeof(j), &w, "jodie");
    as(k, sizeof(k), &w, "kim");
    as(nobody, sizeof(nobody), &w, "nobody");
    login(&w, "admin");
    login(&w, "jodie");
    login(&w, "kim");
    /* the directory is read without signing in (no session saved for "nobody") */
    assert_int_equal(sh("%s services", nobody), 0);
    expect_out("No local services are listed yet");
    assert_int_equal(sh("%s service add --name 'Anytown needle exchange' --category 'harm "
                        "reduction' --url https://example.org/nsp --region Anytown --referral "
                        "'drop in, no appointment' --hours 'Mon-Fri 10-4'",
                        a),
                     0);
    expect_out("added to the directory");
    expect_out("(#1)");
    assert_int_equal(sh("%s service add --name 'SMART Recovery' --category mutual_aid --url "
                        "https://example.org/smart",
                        a),
                     0);
    /* refusals: a member adding, a url that is not http(s), a category that is none */
    assert_int_equal(sh("%s service add --name X --category crisis", j), 1);
    expect_out("forbidden");
    assert_int_equal(sh("%s service add --name X --category crisis --url ftp://x", a), 1);
    expect_out("http");
    assert_int_equal(sh("%s service add --name X --category snacks", a), 2);
    expect_out("'snacks' is not a category");
    assert_int_equal(sh("%s services --category snacks", nobody), 2);
    assert_int_equal(sh("%s service update 1", j), 1);
    /* update keeps what is not typed; an empty value takes a field away */
    assert_int_equal(sh("%s service update 1 --hours 'Mon-Sat 10-4' --referral ''", a), 0);
    expect_out("Mon-Sat 10-4");
    expect_out("https://example.org/nsp");
    expect_not("drop in");
    assert_int_equal(sh("%s service update 9 --hours x", a), 1);
    expect_out("there is no service #9");
    assert_int_equal(sh("%s services", nobody), 0);
    expect_out("Mutual aid (meetings and peer groups)");
    expect_out("Harm reduction (needle and syringe programmes, naloxone, drug checking)");
    expect_out("2 services.");
    assert_int_equal(sh("%s services --category harm_reduction --region Anytown", nobody), 0);
    expect_out("Anytown needle exchange");
    expect_not("SMART");
    assert_int_equal(sh("%s services --region Elsewhere", nobody), 0);
    expect_out("SMART Recovery"); /* no region: listed everywhere */
    expect_not("needle");
    assert_int_equal(sh("%s service remove 2", a), 0);
    assert_int_equal(sh("%s services", nobody), 0);
    expect_out("1 service.");
    expect_not("SMART");
    assert_int_equal(sh("%s service remove 2", a), 1);
    expect_out("not_found");
    /* help's last line points to the directory */
    assert_int_equal(sh("%s help", nobody), 0);
    const char *last = out + strlen(out);
    while (last > out && last[-1] == '\n')
        last--;
    while (last > out && last[-1] != '\n')
        last--;
    assert_non_null(strstr(last, "mutual services"));

    /* supervision: the mentor's load as a table, with an alert raised and acknowledged */
    assert_int_equal(sh("%s mentors", a), 0);
    expect_out("MENTOR");
    expect_out(
        "kim                         1           0          0             0                -");
    assert_int_equal(sh("%s consent alerts", j), 0);
    assert_int_equal(sh("%s checkin --tz 0 --mood 5 --craving 9", j), 0);
    assert_int_equal(sh("%s mentors", a), 0);
    expect_out(
        "kim                         1           1          1             0                -");
    assert_int_equal(sh("%s alerts", k), 0);
    char *hash = strchr(out, '#');
    assert_non_null(hash);
    assert_int_equal(sh("%s ack %d", k, atoi(hash + 1)), 0);
    assert_int_equal(sh("%s mentors", a), 0);
    expect_out(
        "kim                         1           0          1             0            0 min");
    assert_int_equal(sh("%s mentors", k), 1);
    expect_out("forbidden");
    assert_int_equal(sh("%s mentors", j), 1);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_edit_in_plain_words),
        cmocka_unit_test(test_services_and_supervision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
