/* The mutual CLI as people use it: the real binary against the real server, its output read
 * as a person would read it. Each test names the first-try defect it guards against. */
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

static int count(const char *text)
{
    int n = 0;
    for (const char *p = strstr(out, text); p; p = strstr(p + 1, text))
        n++;
    return n;
}

/* The command line for one person: their own session directory, the server without a scheme
 * (so every test also covers "--server HOST:PORT"). */
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

static void test_checkin_answers_are_strict(void **st)
{
    world w;
    world_up(&w, NULL, 0, NULL, "jodie");
    char m[700];
    as(m, sizeof(m), &w, "jodie");
    login(&w, "jodie");
    /* a bad answer by flag is refused with the flag named, and nothing is sent */
    assert_int_equal(sh("%s checkin --mood five", m), 2);
    expect_out("--mood: 'five' is not a whole number from 0 to 10");
    assert_int_equal(sh("%s checkin --mood 5 --craving abc", m), 2);
    expect_out("--craving: 'abc'");
    assert_int_equal(sh("%s checkin --mood 5 --sleep lots", m), 2);
    expect_out("--sleep: 'lots'");
    assert_int_equal(sh("%s checkin --mood 5 --craving 11", m), 2);
    assert_int_equal(sh("%s checkin --mood 5 --tz abc", m), 2);
    expect_out("--tz: 'abc'");
    assert_int_equal(sh("%s checkin --mood 5 --use sometimes", m), 2);
    expect_out("--use");
    assert_int_equal(sh("%s checkin --mood 5 --who5 1,2,3", m), 2);
    expect_out("--who5");
    assert_int_equal(sh("%s checkin --bogus", m), 2);
    expect_out("unknown option '--bogus'");
    /* Ctrl-D part way through cancels: nothing is submitted, and it says so */
    assert_int_equal(sh("printf '5\\n3\\n' | %s checkin", m), 1);
    expect_out("nothing was submitted");
    assert_int_equal(sh("%s checkins", m), 0);
    expect_out("0 check-ins in the last 14 days");
    assert_int_equal(sh("%s summary", m), 0);
    expect_out("no check-ins in this window");
    expect_not("null");
    /* interactively a bad answer is asked again and the good ones are kept: mood 5, craving
     * abc then 3, sleep lots then 7, use maybe then "as planned", stage skipped, WHO-5 with a
     * 9 asked again, BARC-10 skipped, a trigger, a note */
    assert_int_equal(sh("printf '5\\nabc\\n3\\nlots\\n7\\nmaybe\\nas planned\\n\\n"
                        "4\\n9\\n4\\n3\\n4\\n4\\n\\nwork\\nmy own words\\n' | %s checkin --tz 0",
                        m),
                     0);
    assert_int_equal(count("Please answer with a whole number from 0 to 10"), 2);
    expect_out("Please answer with a whole number from 0 to 5");
    expect_out("Please answer none, as planned, or more than planned");
    /* the questions are plain words, WHO-5 and BARC-10 written out */
    expect_out("How strong are your cravings today");
    expect_out("I have felt cheerful and in good spirits.");
    expect_out("My daily life has been filled with things that interest me.");
    expect_out("There are more important things to me in life than using substances.");
    expect_out("checked in for");
    expect_out("WHO-5 76%");
    assert_int_equal(sh("%s checkins --days 7", m), 0);
    expect_out("1 check-in in the last 7 days");
    expect_out("      3     7  as_planned");
    /* the same day again shows today's answers and says they are replaced */
    assert_int_equal(sh("%s checkin --tz 0 --mood 6 --craving 2", m), 0);
    expect_out("this check-in replaces it");
    expect_out("      3     7  as_planned");
    assert_int_equal(sh("%s summary --days 7", m), 0);
    expect_out("mood average 6.0 of 10");
    expect_out("craving average 2.0 of 10");
    expect_not("null");
    /* --days is a whole number in range */
    assert_int_equal(sh("%s checkins --days -3", m), 2);
    expect_out("--days must be a whole number from 1 to 365");
    assert_int_equal(sh("%s checkins --days many", m), 2);
    assert_int_equal(sh("%s summary --days 3", m), 2);
    world_down(&w);
}

static void test_family_is_asked_about_their_own_wellbeing(void **st)
{
    world w;
    world_up(&w, NULL, 0, NULL, NULL);
    char f[700];
    as(f, sizeof(f), &w, "sam");
    assert_int_equal(sh("printf 'family password\\n' | %s register sam --role family", f), 0);
    /* mood, sleep, WHO-5 skipped, stress, note */
    assert_int_equal(sh("printf '4\\n6\\n\\nmy son\\n\\n' | %s checkin --tz 0", f), 0);
    expect_out("How is your mood today");
    expect_out("How well did you sleep");
    expect_out("I have felt cheerful and in good spirits.");
    expect_out("stress");
    expect_not("craving");
    expect_not("Did you use");
    expect_not("BARC-10");
    expect_out("checked in for");
    world_down(&w);
}

static void test_mentor_views_and_alerts(void **st)
{
    world w;
    world_up(&w, NULL, 0, "kim", "jodie");
    world_add(&w, "lee", "member");
    char k[700], m[700], l[700];
    as(k, sizeof(k), &w, "kim");
    as(m, sizeof(m), &w, "jodie");
    as(l, sizeof(l), &w, "lee");
    login(&w, "kim");
    login(&w, "jodie");
    login(&w, "lee");
    /* whoami names the mentor, or says how to get one */
    assert_int_equal(sh("%s whoami", m), 0);
    expect_out("mentor: kim");
    assert_int_equal(sh("%s whoami", l), 0);
    expect_out("mentor: none yet: ask an admin");
    /* consent with no argument shows the share when the server says it */
    int rc = sh("%s consent", m);
    if (rc == 0)
        expect_out("sees: none");
    else
        expect_out("does not say what you share");
    assert_int_equal(sh("%s checkin --tz 0 --mood 5 --craving 4", m), 0);
    /* a mentor reading a mentee who shares nothing is told so plainly */
    assert_int_equal(sh("%s checkins jodie", k), 1);
    expect_out("jodie does not share check-ins with you");
    assert_int_equal(sh("%s consent scores", m), 0);
    if (sh("%s consent", m) == 0)
        expect_out("sees: scores");
    assert_int_equal(sh("%s checkins jodie --days 7", k), 0);
    expect_out("jodie's check-ins");
    expect_out("      4");
    /* an acknowledged high craving: the CLI says the rest of the day stays quiet, and it does */
    assert_int_equal(sh("%s checkin --tz 0 --mood 5 --craving 9", m), 0);
    assert_int_equal(sh("%s alerts", k), 0);
    expect_out("high_craving");
    char *hash = strchr(out, '#');
    assert_non_null(hash);
    int id = atoi(hash + 1);
    assert_int_equal(sh("%s ack %d", k, id), 0);
    expect_out("further high cravings today will not alert again");
    assert_int_equal(sh("%s checkin --tz 0 --mood 5 --craving 10", m), 0);
    assert_int_equal(sh("%s alerts", k), 0);
    expect_out("no open alerts");
    assert_int_equal(sh("%s ack abc", k), 2);
    /* a mentor with a conversation open sees an alert the moment it is raised */
    char path[600];
    snprintf(path, sizeof(path), "%s/dm-out", w.s.dir);
    assert_int_equal(sh("(sleep 4 | %s dm jodie > %s 2>&1 &) ; sleep 1.5; "
                        "%s checkin --tz 0 --mood 1; sleep 4",
                        k, path, m),
                     0);
    assert_int_equal(sh("cat %s", path), 0);
    expect_out("ALERT");
    expect_out("low_mood");
    world_down(&w);
}

static void test_meeting_join_mode(void **st)
{
    world w;
    world_up(&w, NULL, 0, "kim", "jodie");
    char a[700], k[700], m[700];
    as(a, sizeof(a), &w, "admin");
    as(k, sizeof(k), &w, "kim");
    as(m, sizeof(m), &w, "jodie");
    login(&w, "admin");
    login(&w, "kim");
    login(&w, "jodie");
    assert_int_equal(sh("%s room create group-1 --name 'Tuesday group' --audience recovery "
                        "--capacity 20 --backlog join --slot 'tue 19:00-20:00 Europe/London'",
                        k),
                     0);
    assert_int_equal(sh("%s room create bad --name B --audience everyone", k), 2);
    expect_out("--audience");
    assert_int_equal(sh("%s room update group-1 --capacity 12 --listed", k), 0);
    expect_out("room group-1 updated");
    assert_int_equal(sh("%s room open group-1", k), 0);
    /* rooms has column headers and the capacity */
    assert_int_equal(sh("%s rooms", m), 0);
    expect_out("ROOM");
    expect_out("HERE/CAP");
    expect_out("0/12");
    expect_out("Europe/London]  (listed)"); /* --listed took */
    /* a slot that ends before it starts runs past midnight, and says so */
    assert_int_equal(sh("%s room create late-1 --name 'Late group' --audience recovery "
                        "--slot 'sat 23:00-00:30 Europe/London'",
                        k),
                     0);
    assert_int_equal(sh("%s rooms", m), 0);
    expect_out("Sat 23:00-00:30 (next day) Europe/London");
    /* every facilitator command confirms or shows the error; an unknown command says so;
     * a whitespace-only line is not sent; floor mode with nobody holding it says so */
    assert_int_equal(
        sh("printf '/floor on\\n/bogus\\n   \\n/deny nobody\\n/mute\\n/floor off\\n' | "
           "%s join group-1",
           k),
        0);
    expect_out("done: floor mode is on");
    expect_out("nobody has the floor");
    expect_out("unknown command /bogus");
    expect_out("turned nobody away: ");
    expect_out("not_found");
    expect_out("usage: /mute HANDLE");
    expect_out("done: floor mode is off");
    expect_not("kim:    ");
    /* piped lines are all sent before join exits: more than the server's burst */
    char lines[8192] = "";
    for (int i = 1; i <= 90; i++)
        snprintf(lines + strlen(lines), sizeof(lines) - strlen(lines), "line %d\\n", i);
    assert_int_equal(sh("printf '%s' | %s join group-1", lines, m), 0);
    assert_int_equal(count("] jodie: line "), 90);
    expect_out("jodie: line 90");
    expect_not("rate_limited");
    /* DMs while in a meeting: from the mentor as "from kim", one's own as "to kim" */
    char path[600];
    snprintf(path, sizeof(path), "%s/join-out", w.s.dir);
    assert_int_equal(sh("(sleep 4 | %s join group-1 > %s 2>&1 &) ; sleep 1.5; "
                        "%s dm jodie 'how was it'; %s dm kim 'good, thanks'; sleep 4",
                        m, path, k, m),
                     0);
    assert_int_equal(sh("cat %s", path), 0);
    expect_out("direct message from kim: how was it");
    expect_out("direct message to kim: good, thanks");
    /* a user waiting in the lobby is told so, and what they type is not lost silently */
    assert_int_equal(sh("printf '/lobby on\\n' | %s join group-1", k), 0);
    expect_out("done: the lobby is on");
    assert_int_equal(sh("printf 'hello\\n' | %s join group-1", m), 0);
    expect_out("waiting in the lobby");
    expect_out("not sent: hello");
    expect_not("type to speak");
    /* unban by command */
    assert_int_equal(sh("%s unban group-1 jodie", k), 0);
    expect_out("jodie may join group-1 again");
    world_down(&w);
}

/* /seq numbers the messages, /report sends one to the facilitators (a reason is the rest of the
 * line), and a facilitator in join mode sees the report as it arrives. */
static void test_report_in_join_mode(void **st)
{
    world w;
    world_up(&w, NULL, 0, "kim", "jodie");
    char k[700], m[700];
    as(k, sizeof(k), &w, "kim");
    as(m, sizeof(m), &w, "jodie");
    login(&w, "kim");
    login(&w, "jodie");
    mu_req *r = mu_req_new("room.create");
    mu_req_str(r, "room", "group-2");
    mu_req_str(r, "name", "Thursday group");
    mu_req_str(r, "audience", "recovery");
    call_expect(w.y, w.mentor, r, "ok");
    r = mu_req_new("room.open");
    mu_req_str(r, "room", "group-2");
    call_expect(w.y, w.mentor, r, "ok");
    /* jodie's first join of the meeting comes before what lee says, so it is hers to report */
    assert_int_equal(sh("printf '' | %s join group-2", m), 0);
    mu_client *lee = world_newcomer(&w, "lee", NULL);
    r = mu_req_new("room.join");
    mu_req_str(r, "room", "group-2");
    call_expect(w.y, lee, r, "ok");
    r = mu_req_new("room.say");
    mu_req_str(r, "room", "group-2");
    mu_req_str(r, "text", "harsh words");
    call_expect(w.y, lee, r, "ok");
    /* kim is in the meeting in join mode (input held open on a fifo) while jodie reports */
    char dir[400];
    snprintf(dir, sizeof(dir), "%s", w.s.dir);
    assert_int_equal(
        sh("mkfifo %s/kin; (%s join group-2 < %s/kin > %s/kout 2>&1 &); exec 3>%s/kin; "
           "for i in $(seq 100); do grep -q 'in group-2' %s/kout && break; sleep 0.1; done; "
           "printf '/seq\nhello\n/report 1   too harsh  \n/report x\n/report 2\n' | "
           "%s join group-2 > %s/jout 2>&1; "
           "for i in $(seq 100); do grep -q 'REPORT' %s/kout && break; sleep 0.1; done; "
           "exec 3>&-; cat %s/jout",
           dir, k, dir, dir, dir, dir, m, dir, dir, dir),
        0);
    expect_out("message numbers shown");
    expect_out("#2 jodie: hello");
    expect_out("done: reported message #1 to the facilitators");
    expect_out("usage: /report SEQ");
    expect_out("You cannot report your own message.");
    assert_int_equal(sh("cat %s/kout", dir), 0);
    expect_out("REPORT in group-2: jodie reported message #1 from lee: \"harsh words\" "
               "(reason: too harsh)");
    /* /help lists both */
    assert_int_equal(sh("printf '/help\n' | %s join group-2", m), 0);
    expect_out("/seq");
    expect_out("/report SEQ [REASON]");
    world_down(&w);
}

/* An admin lists the alerts that escalated and closes one, by the same two commands a mentor
 * uses for their own. */
static void test_admin_escalated_alerts(void **st)
{
    world w;
    world_up(&w, NULL, 1, "kim", "jodie");
    char a[700];
    as(a, sizeof(a), &w, "admin");
    login(&w, "admin");
    mu_req *r = mu_req_new("consent.set");
    mu_req_str(r, "share", "alerts");
    call_expect(w.y, w.mem, r, "ok");
    r = mu_req_new("checkin.submit");
    mu_req_int(r, "tz", 0);
    mu_req_int(r, "mood", 5);
    mu_req_int(r, "craving", 9);
    call_expect(w.y, w.mem, r, "ok");
    mu_msg_free(world_event(&w, w.mentor, "alert"));
    assert_int_equal(sh("%s alerts", a), 0);
    expect_out("no open escalated alerts");
    world_advance(&w, 3601);
    mu_msg *ev = world_event(&w, w.admin, "alert"); /* escalated: in the store now */
    int id = (int)mu_value_get_int(mu_msg_root(ev), "id", 0);
    mu_msg_free(ev);
    assert_int_equal(sh("%s alerts", a), 0);
    expect_out("escalated alerts");
    expect_out("jodie");
    expect_out("high_craving");
    expect_out("(escalated)");
    assert_int_equal(sh("%s ack %d", a, id), 0);
    expect_out("closed");
    assert_int_equal(sh("%s alerts", a), 0);
    expect_out("no open escalated alerts");
    assert_int_equal(sh("%s alerts --all", a), 0);
    expect_out("(closed)");
    world_down(&w);
}

static void test_account_and_admin_commands(void **st)
{
    world w;
    world_up(&w, NULL, 0, "kim", "jodie");
    char a[700], k[700], m[700], s[700];
    as(a, sizeof(a), &w, "admin");
    as(k, sizeof(k), &w, "kim");
    as(m, sizeof(m), &w, "jodie");
    as(s, sizeof(s), &w, "sam");
    login(&w, "admin");
    login(&w, "kim");
    login(&w, "jodie");
    /* admins: user create and role, stats */
    assert_int_equal(sh("printf 'sam password\\n' | %s user create sam --role member", a), 0);
    expect_out("created sam (member)");
    assert_int_equal(sh("%s user role sam family", a), 0);
    expect_out("sam is now family");
    assert_int_equal(sh("%s user role sam boss", a), 2);
    assert_int_equal(sh("%s user role sam family", m), 1);
    expect_out("forbidden");
    assert_int_equal(sh("%s stats", a), 0);
    expect_out("accounts");
    expect_out("4");
    /* password: the new one works, the old one no longer does */
    assert_int_equal(sh("printf 'sam password\\n' | %s login sam", s), 0);
    assert_int_equal(sh("printf 'sam password\\nsam new password\\n' | %s password", s), 0);
    expect_out("password changed");
    assert_int_equal(sh("printf 'sam password\\n' | %s login sam", s), 1);
    assert_int_equal(sh("printf 'sam new password\\n' | %s login sam", s), 0);
    /* delete asks for the password, says what is erased, and the account is gone */
    assert_int_equal(sh("printf 'wrong password\\n' | %s delete", s), 1);
    expect_out("nothing was erased");
    assert_int_equal(sh("printf 'sam new password\\n' | %s delete", s), 0);
    expect_out("check-ins");
    expect_out("direct messages");
    expect_out("erased: the account sam");
    assert_int_equal(sh("printf 'sam new password\\n' | %s login sam", s), 1);
    /* a DM over the limit says so with the sizes, not "no reply" */
    char big[6000];
    memset(big, 'a', 5000);
    big[5000] = 0;
    assert_int_equal(sh("%s dm kim '%s'", m, big), 1);
    expect_out("too large (5000 bytes, limit 4000)");
    expect_not("no reply");
    /* throttled sign-ins say when to try again */
    for (int i = 0; i < 5; i++)
        assert_int_equal(sh("printf 'not the password\\n' | %s login jodie", s), 1);
    assert_int_equal(sh("printf 'not the password\\n' | %s login jodie", s), 1);
    expect_out("rate_limited");
    expect_out("try again in ");
    /* help: the server's list, then the same list when the server is gone */
    assert_int_equal(sh("%s help", m), 0);
    expect_out("116 123");
    srv_stop(&w.s);
    assert_int_equal(sh("%s help", m), 0);
    expect_out("116 123");
    expect_out("may be out of date");
    expect_out("emergency");
    /* and the built-in list before any was received */
    assert_int_equal(sh("%s help", s), 0);
    expect_out("built into this program");
    expect_out("116 123");
    mu_sync_free(w.y);
    srv_cleanup(&w.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkin_answers_are_strict),
        cmocka_unit_test(test_family_is_asked_about_their_own_wellbeing),
        cmocka_unit_test(test_mentor_views_and_alerts),
        cmocka_unit_test(test_meeting_join_mode),
        cmocka_unit_test(test_report_in_join_mode),
        cmocka_unit_test(test_admin_escalated_alerts),
        cmocka_unit_test(test_account_and_admin_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
