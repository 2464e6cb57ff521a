/* The operator's side, by running the real binaries: the database, its -wal and -shm files
 * and backups are their owner's alone; `mutuald check` warns about files others may read;
 * `mutuald serve` on a port already taken stops with one line before touching a database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static unsigned mode_of(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (unsigned)(sb.st_mode & 0777);
}

/* Runs a shell command; its exit status, and its stdout and stderr together in out. */
static int run(const char *cmd, char *out, size_t cap)
{
    return sh_capture(out, cap, "%s", cmd);
}

static void test_file_modes(void **st)
{
    if (harness_on_pg())
        skip(); /* the files of a SQLite database */
    umask(022); /* the usual default, under which files used to come out 0644 */
    world w;
    world_up(&w, NULL, 0, NULL, NULL);
    char p[512], cmd[1024], out[4096];
    mu_client *a = world_newcomer(&w, "alex", NULL); /* a write, so the -wal has content */
    (void)a;
    assert_int_equal(mode_of(w.s.db), 0600);
    snprintf(p, sizeof(p), "%s-wal", w.s.db);
    assert_int_equal(mode_of(p), 0600);
    snprintf(p, sizeof(p), "%s-shm", w.s.db);
    assert_int_equal(mode_of(p), 0600);
    /* a backup, also over a file that was there already */
    char bak[512];
    snprintf(bak, sizeof(bak), "%s/backup.db", w.s.dir);
    snprintf(cmd, sizeof(cmd), "%s backup --db %s %s", MUTUALD_PATH, w.s.db, bak);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_int_equal(mode_of(bak), 0600);
    assert_int_equal(chmod(bak, 0644), 0);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_int_equal(mode_of(bak), 0600);

    /* files an older build left readable: check warns (and changes nothing), serve fixes */
    mu_sync_free(w.y);
    srv_stop(&w.s);
    snprintf(cmd, sizeof(cmd), "%s check --db %s", MUTUALD_PATH, w.s.db);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_null(strstr(out, "warning"));
    assert_int_equal(chmod(w.s.db, 0644), 0);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "warning"));
    assert_non_null(strstr(out, "0644"));
    assert_non_null(strstr(out, "read"));
    assert_int_equal(mode_of(w.s.db), 0644);
    srv_restart(&w.s);
    assert_int_equal(mode_of(w.s.db), 0600);
    srv_stop(&w.s);
    srv_cleanup(&w.s);
}

static void test_port_taken(void **st)
{
    world w;
    world_up(&w, NULL, 0, NULL, NULL);
    char other[512], cmd[1024], out[4096];
    snprintf(other, sizeof(other), "%s/other.db", w.s.dir);
    snprintf(cmd, sizeof(cmd), "timeout 20 %s serve --db %s --listen 127.0.0.1:%d", MUTUALD_PATH,
             other, w.s.port);
    double t0 = mono_ms();
    int rc = run(cmd, out, sizeof(out));
    assert_true(mono_ms() - t0 < 5000);
    assert_int_equal(rc, 1);
    /* one line that says what is wrong, and no database made */
    assert_non_null(strstr(out, "in use"));
    assert_non_null(strchr(out, '\n'));
    assert_string_equal(strchr(out, '\n'), "\n");
    assert_int_not_equal(access(other, F_OK), 0);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_modes),
        cmocka_unit_test(test_port_taken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
