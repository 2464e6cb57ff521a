/* The command lines: mutuald's subcommands and refusals, and the mutual CLI end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

/* Runs a shell command; returns its exit status and its output (stdout and stderr). */
static int run(const char *cmd, char *out, size_t cap)
{
    return sh_capture(out, cap, "%s", cmd);
}

static void test_mutuald_flags(void **st)
{
    char out[8192];
    assert_int_equal(run(MUTUALD_PATH " --version", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "mutuald " MUTUAL_VERSION));
    assert_int_equal(run(MUTUALD_PATH " --help", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "user add"));
    assert_int_equal(run(MUTUALD_PATH " --frobnicate", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "usage:"));
    assert_int_equal(run(MUTUALD_PATH " serve --listen", out, sizeof(out)), 2);
    assert_int_equal(run(MUTUALD_PATH " dance", out, sizeof(out)), 2);
}

static void test_user_add(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    srv_stop(&s);
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof(cmd), "printf 'pw-long-enough\\n' | %s user add Root --role admin --db %s",
             MUTUALD_PATH, s.db);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "root"));
    assert_int_not_equal(run(cmd, out, sizeof(out)), 0); /* taken */
    assert_non_null(strstr(out, "taken"));
    snprintf(cmd, sizeof(cmd), "printf 'pw-long-enough\\n' | %s user add sam --role boss --db %s",
             MUTUALD_PATH, s.db);
    assert_int_not_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "role"));
    snprintf(cmd, sizeof(cmd), "printf 'short\\n' | %s user add sam --role mentor --db %s",
             MUTUALD_PATH, s.db);
    assert_int_not_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "password"));
    snprintf(cmd, sizeof(cmd), "printf 'pw-long-enough\\n' | %s user add sam --db %s", MUTUALD_PATH,
             s.db);
    assert_int_equal(run(cmd, out, sizeof(out)), 2);
    /* the mentor made here signs in over the protocol */
    snprintf(cmd, sizeof(cmd),
             "printf 'mentor password\\n' | %s user add Mentor.Kim --role mentor "
             "--db %s",
             MUTUALD_PATH, s.db);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    srv_restart(&s);
    mu_sync *y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    mu_req *r = mu_req_new("login");
    mu_req_str(r, "handle", "mentor.kim");
    mu_req_str(r, "password", "mentor password");
    mu_msg *m = cl_call(y, c, r);
    expect_ok(m);
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "user"), "role"), "mentor");
    mu_msg_free(m);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_refuses_to_start(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    srv_stop(&s);
    char cmd[1024], out[8192];
    /* a bad configuration names file, line and reason */
    char conf[400];
    snprintf(conf, sizeof(conf), "%s/bad.conf", s.dir);
    FILE *f = fopen(conf, "w");
    fprintf(f, "# fine\nlisten = 127.0.0.1:0\nmax_txet = 10\n");
    fclose(f);
    snprintf(cmd, sizeof(cmd), "timeout 10 %s serve --config %s --db %s", MUTUALD_PATH, conf, s.db);
    assert_int_equal(run(cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "bad.conf:3: unknown setting 'max_txet'"));
    snprintf(cmd, sizeof(cmd), "timeout 10 %s serve --config /no/such/file --db %s", MUTUALD_PATH,
             s.db);
    assert_int_equal(run(cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "/no/such/file"));
    /* a port in use is a clean error, not a hang */
    srv_restart(&s);
    /* lws leaves its half-made context behind when it cannot bind; that is not ours to free */
    snprintf(
        cmd, sizeof(cmd),
        "ASAN_OPTIONS=detect_leaks=0 timeout 10 %s serve --listen 127.0.0.1:%d --db %s/other.db",
        MUTUALD_PATH, s.port, s.dir);
    int rc = run(cmd, out, sizeof(out));
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "cannot listen"));
    srv_stop(&s);
    /* a database from a newer mutuald is refused */
    srv_sql_exec(&s, srv_is_pg(&s) ? "UPDATE mutual_schema SET version = 999"
                                   : "PRAGMA user_version = 999");
    snprintf(cmd, sizeof(cmd), "timeout 10 %s serve --listen 127.0.0.1:0 --db %s", MUTUALD_PATH,
             s.db);
    assert_int_equal(run(cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "schema version 999"));
    srv_cleanup(&s);
}

static void test_cli(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    srv_user_add(&s, "root", "pw-long-enough", "admin");
    char cmd[2048], out[8192], env[512];
    snprintf(env, sizeof(env), "XDG_CONFIG_HOME=%s/xdg", s.dir);
    snprintf(cmd, sizeof(cmd),
             "printf 'pw-long-enough\\n' | %s %s --server ws://127.0.0.1:%d "
             "login root",
             env, MUTUAL_CLI_PATH, s.port);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "signed in as root (admin)"));
    /* the session is saved, private to its owner */
    char path[600];
    snprintf(path, sizeof(path), "%s/xdg/mutual/session", s.dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* ping uses the saved server */
    snprintf(cmd, sizeof(cmd), "%s %s ping", env, MUTUAL_CLI_PATH);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "round trip"));
    assert_non_null(strstr(out, " ms"));
    snprintf(cmd, sizeof(cmd), "%s %s whoami", env, MUTUAL_CLI_PATH);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "root"));
    /* help works without signing in, and says what to do in an emergency */
    snprintf(cmd, sizeof(cmd), "%s %s --server ws://127.0.0.1:%d help",
             "XDG_CONFIG_HOME=/nonexistent", MUTUAL_CLI_PATH, s.port);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "116 123"));
    assert_non_null(strstr(out, "emergency"));
    /* a wrong password fails with the server's sentence */
    snprintf(cmd, sizeof(cmd),
             "printf 'wrong-password\\n' | %s %s --server ws://127.0.0.1:%d "
             "login root",
             env, MUTUAL_CLI_PATH, s.port);
    assert_int_equal(run(cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "Wrong handle or password"));
    /* register, then logout ends the session on the server and locally */
    snprintf(cmd, sizeof(cmd),
             "printf 'member password\\n' | %s %s --server ws://127.0.0.1:%d "
             "register Newcomer --role family",
             env, MUTUAL_CLI_PATH, s.port);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "newcomer (family)"));
    snprintf(cmd, sizeof(cmd), "%s %s logout", env, MUTUAL_CLI_PATH);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_int_not_equal(stat(path, &sb), 0);
    snprintf(cmd, sizeof(cmd), "%s %s logout", env, MUTUAL_CLI_PATH);
    assert_int_equal(run(cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "not signed in"));
    /* no server: a clear error */
    srv_stop(&s);
    snprintf(cmd, sizeof(cmd), "%s %s --server ws://127.0.0.1:%d ping", env, MUTUAL_CLI_PATH,
             s.port);
    assert_int_equal(run(cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "cannot connect"));
    assert_non_null(strstr(out, "nothing answered there (is the server running"));
    srv_cleanup(&s);
}

static void test_cli_messaging(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    srv_user_add(&s, "root", "pw-long-enough", "admin");
    srv_user_add(&s, "kim", "mentor password", "mentor");
    char cmd[2048], out[16384], admin[600], mentor[600], memb[600];
    snprintf(admin, sizeof(admin), "XDG_CONFIG_HOME=%s/xa %s --server ws://127.0.0.1:%d", s.dir,
             MUTUAL_CLI_PATH, s.port);
    snprintf(mentor, sizeof(mentor), "XDG_CONFIG_HOME=%s/xk %s --server ws://127.0.0.1:%d", s.dir,
             MUTUAL_CLI_PATH, s.port);
    snprintf(memb, sizeof(memb), "XDG_CONFIG_HOME=%s/xm %s --server ws://127.0.0.1:%d", s.dir,
             MUTUAL_CLI_PATH, s.port);
    snprintf(cmd, sizeof(cmd), "printf 'pw-long-enough\\n' | %s login root", admin);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "printf 'mentor password\\n' | %s login kim", mentor);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "printf 'member password\\n' | %s register alex", memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    /* assign is for admins */
    snprintf(cmd, sizeof(cmd), "%s assign kim alex", memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "forbidden"));
    snprintf(cmd, sizeof(cmd), "%s assign kim alex", admin);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "kim now mentors alex"));
    /* one-shot send, then the conversation from a pipe */
    snprintf(cmd, sizeof(cmd), "%s dm kim 'checking in before group'", memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "sent to kim"));
    snprintf(cmd, sizeof(cmd), "%s inbox", mentor);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "alex"));
    assert_non_null(strstr(out, "1 unread"));
    snprintf(cmd, sizeof(cmd), "printf 'glad you did\\nsee you there\\n' | %s dm alex", mentor);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "alex: checking in before group")); /* the history it showed */
    /* what the conversation showed was acknowledged, and its lines were sent */
    snprintf(cmd, sizeof(cmd), "%s inbox", mentor);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "0 unread"));
    snprintf(cmd, sizeof(cmd), "%s inbox", memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "2 unread"));
    assert_non_null(strstr(out, "see you there"));
    snprintf(cmd, sizeof(cmd), "%s mentees", mentor);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "alex"));
    assert_non_null(strstr(out, "1 on the caseload"));
    snprintf(cmd, sizeof(cmd), "%s dm someone-else hello", memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "forbidden"));
    srv_stop(&s);
    srv_cleanup(&s);
}

static void test_cli_checkins(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    srv_user_add(&s, "root", "pw-long-enough", "admin");
    srv_user_add(&s, "kim", "mentor password", "mentor");
    char cmd[2048], out[16384], admin[600], mentor[600], memb[600];
    snprintf(admin, sizeof(admin), "XDG_CONFIG_HOME=%s/xa %s --server ws://127.0.0.1:%d", s.dir,
             MUTUAL_CLI_PATH, s.port);
    snprintf(mentor, sizeof(mentor), "XDG_CONFIG_HOME=%s/xk %s --server ws://127.0.0.1:%d", s.dir,
             MUTUAL_CLI_PATH, s.port);
    snprintf(memb, sizeof(memb), "XDG_CONFIG_HOME=%s/xm %s --server ws://127.0.0.1:%d", s.dir,
             MUTUAL_CLI_PATH, s.port);
    snprintf(cmd, sizeof(cmd), "printf 'pw-long-enough\\n' | %s login root", admin);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "printf 'mentor password\\n' | %s login kim", mentor);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "printf 'member password\\n' | %s register jodie", memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "%s assign kim jodie", admin);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "%s consent alerts", memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "alerts"));
    /* answers to the plain-words questions, from a pipe: mood, craving, sleep, use, stage,
     * the five WHO-5 statements, BARC-10 skipped, triggers, note */
    snprintf(cmd, sizeof(cmd),
             "printf '6\\n9\\n7\\nas_planned\\n\\n4\\n4\\n3\\n4\\n4\\n\\n"
             "payday\\nprivate words\\n' | %s checkin --tz 0",
             memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "streak 1 day"));
    assert_non_null(strstr(out, "WHO-5 76%"));
    assert_non_null(strstr(out, "high_craving"));
    snprintf(cmd, sizeof(cmd), "%s checkin --tz 0 --mood 7 --craving 2 --use none", memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "%s checkins --days 7", memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "1 check-in in the last 7 days"));
    assert_non_null(strstr(out, "mood    \u2585"));
    snprintf(cmd, sizeof(cmd), "%s summary --days 7", memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "streak 1 day (best 1)"));
    snprintf(cmd, sizeof(cmd), "%s alerts", mentor);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "high_craving"));
    assert_null(strstr(out, "private words"));
    char *hash = strchr(out, '#');
    assert_non_null(hash);
    int id = atoi(hash + 1);
    snprintf(cmd, sizeof(cmd), "%s ack %d", mentor, id);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "%s alerts", mentor);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "no open alerts"));
    snprintf(cmd, sizeof(cmd), "%s consent everything", memb);
    assert_int_equal(run(cmd, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "consent [none|alerts|scores]"));
    srv_stop(&s);
    srv_cleanup(&s);
}

/* Whether the file comes to hold `needle` within `ms` milliseconds. */
static bool file_has(const char *path, const char *needle, int ms)
{
    for (double t0 = mono_ms(); mono_ms() - t0 < ms; usleep(50000)) {
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        static char buf[65536];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        if (strstr(buf, needle))
            return true;
    }
    return false;
}

static void test_cli_rooms(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    srv_user_add(&s, "kim", "mentor password", "mentor");
    char cmd[3000], out[16384], mentor[600], a[600], b[600];
    snprintf(mentor, sizeof(mentor), "XDG_CONFIG_HOME=%s/xk %s --server ws://127.0.0.1:%d", s.dir,
             MUTUAL_CLI_PATH, s.port);
    snprintf(a, sizeof(a), "XDG_CONFIG_HOME=%s/xa %s --server ws://127.0.0.1:%d", s.dir,
             MUTUAL_CLI_PATH, s.port);
    snprintf(b, sizeof(b), "XDG_CONFIG_HOME=%s/xb %s --server ws://127.0.0.1:%d", s.dir,
             MUTUAL_CLI_PATH, s.port);
    snprintf(cmd, sizeof(cmd), "printf 'mentor password\\n' | %s login kim", mentor);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "printf 'member password\\n' | %s register alex", a);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "printf 'member password\\n' | %s register blair", b);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd),
             "%s room create smart-tue --name 'SMART Tuesday' --audience "
             "recovery --format SMART --slot 'Tue 19:00-20:30 Europe/London'",
             mentor);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "%s room open smart-tue", mentor);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    snprintf(cmd, sizeof(cmd), "%s rooms", a);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "smart-tue"));
    assert_non_null(strstr(out, "OPEN"));
    assert_non_null(strstr(out, "[Tue 19:00-20:30 Europe/London]"));
    /* typed lines are said; the next person sees them in the history */
    snprintf(cmd, sizeof(cmd), "(printf 'hello everyone\\n/hand\\n'; sleep 1) | %s join smart-tue",
             a);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "alex: hello everyone"));
    assert_non_null(strstr(out, "hands: alex"));
    /* a facilitator mutes from the line mode; the muted person, in the room by then, is told
     * (the margins leave a sanitizer build on a loaded machine time to sign in and join) */
    snprintf(cmd, sizeof(cmd),
             "(sleep 1.5; printf '/mute blair\\n'; sleep 1.5) | %s join smart-tue", mentor);
    char bg[3100];
    snprintf(bg, sizeof(bg), "%s > %s/mentor.out 2>&1 &", cmd, s.dir);
    assert_int_equal(system(bg), 0);
    snprintf(cmd, sizeof(cmd),
             "(sleep 2.5; printf 'can I speak\\n'; sleep 0.5) | %s join smart-tue", b);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_null(strstr(out, "alex: hello everyone")); /* said before blair joined (backlog) */
    assert_non_null(strstr(out, "mute: blair (by kim)"));
    assert_non_null(strstr(out, "muted"));
    /* the connection drops and comes back, saying whether anything was missed (waiting on
     * what the client prints, not on time: a sanitizer build is slow to start) */
    snprintf(bg, sizeof(bg),
             "(sleep 20) | %s join smart-tue > %s/alex.out 2>&1 & echo $! > %s/alex.pid", a, s.dir,
             s.dir);
    assert_int_equal(system(bg), 0);
    char alex_out[1100];
    snprintf(alex_out, sizeof(alex_out), "%s/alex.out", s.dir);
    assert_true(file_has(alex_out, "   -- open", 20000));
    srv_kill9(&s);
    srv_restart_same_port(&s);
    assert_true(file_has(alex_out, "back; nothing was missed", 30000));
    snprintf(cmd, sizeof(cmd), "cat %s", alex_out);
    run(cmd, out, sizeof(out));
    assert_non_null(strstr(out, "connection lost"));
    assert_non_null(strstr(out, "back; nothing was missed"));
    /* the join would otherwise outlive the test, reconnecting until its input ends */
    snprintf(cmd, sizeof(cmd), "kill $(cat %s/alex.pid)", s.dir);
    run(cmd, out, sizeof(out));
    /* The server goes and stays gone: input goes on being read between attempts; once a pipe
     * has ended, a couple more tries and it gives up, saying what was typed but not sent (it
     * used to retry for ever). */
    snprintf(bg, sizeof(bg),
             "( (while [ ! -e %s/go ]; do sleep 0.05; done; printf 'are you there\\n') | %s join "
             "smart-tue > %s/gone.out 2>&1; echo \"rc=$?\" > %s/gone.rc ) &",
             s.dir, a, s.dir, s.dir);
    assert_int_equal(system(bg), 0);
    char gone_out[1100], gone_rc[1100];
    snprintf(gone_out, sizeof(gone_out), "%s/gone.out", s.dir);
    snprintf(gone_rc, sizeof(gone_rc), "%s/gone.rc", s.dir);
    assert_true(file_has(gone_out, "-- in smart-tue", 20000));
    srv_kill9(&s);
    assert_true(file_has(gone_out, "connection lost; trying again in 1 s --", 20000));
    snprintf(cmd, sizeof(cmd), "touch %s/go", s.dir);
    run(cmd, out, sizeof(out));
    assert_true(file_has(gone_rc, "rc=1", 40000));
    assert_true(file_has(gone_out, "the connection was lost; 1 line was not sent", 1000));
    srv_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutuald_flags),    cmocka_unit_test(test_user_add),
        cmocka_unit_test(test_refuses_to_start), cmocka_unit_test(test_cli),
        cmocka_unit_test(test_cli_messaging),    cmocka_unit_test(test_cli_checkins),
        cmocka_unit_test(test_cli_rooms)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
