/* Data rights and administration over real WebSockets: export, erasure from every viewpoint,
 * admin-only ops, the audit log, online backup and retention. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

static void dm(world *w, mu_client *c, const char *to, const char *text)
{
    mu_req *r = mu_req_new("dm.send");
    mu_req_str(r, "to", to);
    mu_req_str(r, "text", text);
    call_expect(w->y, c, r, "ok");
}

static mu_req *rreq(const char *op, const char *room)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "room", room);
    return r;
}

/* Fills the world with one of every kind of data about riley. */
static void populate(world *w)
{
    mu_req *r = mu_req_new("consent.set");
    mu_req_str(r, "share", "scores");
    call_expect(w->y, w->mem, r, "ok");
    r = mu_req_new("checkin.submit");
    mu_req_int(r, "tz", 0);
    mu_req_int(r, "mood", 3);
    mu_req_int(r, "craving", 9);
    mu_req_str(r, "note", "riley's private words");
    call_expect(w->y, w->mem, r, "ok");
    dm(w, w->mem, "mentor.ana", "riley to mentor");
    dm(w, w->mentor, "riley", "mentor to riley");
    r = rreq("room.create", "grp");
    mu_req_str(r, "name", "Group");
    mu_req_str(r, "audience", "open");
    mu_req_bool(r, "persistent", true);
    call_expect(w->y, w->mentor, r, "ok");
    call_expect(w->y, w->mentor, rreq("room.open", "grp"), "ok");
    call_expect(w->y, w->mem, rreq("room.join", "grp"), "ok");
    r = rreq("room.say", "grp");
    mu_req_str(r, "text", "riley in the room");
    call_expect(w->y, w->mem, r, "ok");
    r = rreq("room.mute", "grp");
    mu_req_str(r, "handle", "riley");
    call_expect(w->y, w->mentor, r, "ok");
    r = mu_req_new("mentee.checkins");
    mu_req_str(r, "handle", "riley");
    mu_req_int(r, "days", 7);
    call_expect(w->y, w->mentor, r, "ok");
}

static void test_export(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", "riley");
    populate(&w);
    mu_msg *m = cl_call(w.y, w.mem, mu_req_new("me.export"));
    expect_ok(m);
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "user"), "handle"), "riley");
    const char *kinds[] = {"checkins", "dms",    "alerts", "rooms",
                           "consent",  "mentor", "mutes",  "joined"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (mu_value_len(mu_msg_get(m, kinds[i])) == 0)
            fail_msg("export has no %s", kinds[i]);
    assert_int_equal(mu_value_len(mu_msg_get(m, "dms")), 2); /* both ways */
    assert_string_equal(mu_value_get_str(mu_value_at(mu_msg_get(m, "checkins"), 0), "note"),
                        "riley's private words");
    assert_string_equal(mu_value_get_str(mu_value_at(mu_msg_get(m, "rooms"), 0), "text"),
                        "riley in the room");
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 1); /* high craving */
    mu_msg_free(m);
    /* the CLI writes it as JSON */
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "export XDG_CONFIG_HOME=%s/x; printf '%s\\n' | %s --server ws://127.0.0.1:%d login "
             "riley >/dev/null && %s export > %s/mydata.json && grep -q \"riley's private words\" "
             "%s/mydata.json",
             w.s.dir, WORLD_PW, MUTUAL_CLI_PATH, w.s.port, MUTUAL_CLI_PATH, w.s.dir, w.s.dir);
    assert_int_equal(system(cmd), 0);
    world_down(&w);
}

/* Whether `needle` occurs in the database file or its -wal file, byte for byte. */
/* Whether the words are still in the SQLite database's files. On PostgreSQL erased rows leave
 * the tables at once but their bytes stay in dead tuples and the server's WAL until vacuum and
 * recycling (the README says so), so there is nothing to look at: false. */
static bool on_disk_sqlite(const world *w, const char *needle)
{
    if (srv_is_pg(&w->s))
        return false;
    char path[400];
    bool found = false;
    for (int i = 0; i < 2 && !found; i++) {
        snprintf(path, sizeof(path), "%s%s", w->s.db, i ? "-wal" : "");
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc(n > 0 ? (size_t)n : 1);
        size_t got = fread(buf, 1, n > 0 ? (size_t)n : 0, f);
        fclose(f);
        found = memmem(buf, got, needle, strlen(needle)) != NULL;
        free(buf);
    }
    return found;
}

static void test_erasure(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", "riley");
    populate(&w);
    mu_req *r = mu_req_new("me.delete");
    mu_req_str(r, "password", "not the password");
    call_expect(w.y, w.mem, r, "forbidden");
    mu_client *second = world_as(&w, "riley");
    r = mu_req_new("me.delete");
    mu_req_str(r, "password", WORLD_PW);
    call_expect(w.y, w.mem, r, "ok");
    assert_int_equal(mu_sync_wait_closed(w.y, w.mem, 5000), 1000);
    assert_int_equal(mu_sync_wait_closed(w.y, second, 5000), 1000);
    /* with the server running, the erased words are in neither the database nor its WAL */
    assert_false(on_disk_sqlite(&w, "riley's private words"));
    assert_false(on_disk_sqlite(&w, "riley to mentor"));
    assert_false(on_disk_sqlite(&w, "mentor to riley"));
    assert_false(on_disk_sqlite(&w, "riley in the room"));
    /* nothing about riley is readable by anyone */
    mu_client *c = cl_connect(w.y, &w.s);
    r = mu_req_new("login");
    mu_req_str(r, "handle", "riley");
    mu_req_str(r, "password", WORLD_PW);
    call_expect(w.y, c, r, "unauthenticated");
    mu_msg *m = cl_call(w.y, w.mentor, mu_req_new("mentees.list"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "mentees")), 0);
    mu_msg_free(m);
    m = cl_call(w.y, w.mentor, mu_req_new("dm.inbox"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "threads")), 0);
    mu_msg_free(m);
    r = mu_req_new("alerts.list");
    mu_req_bool(r, "open", false);
    m = cl_call(w.y, w.mentor, r);
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 0);
    mu_msg_free(m);
    m = cl_call(w.y, w.mentor, rreq("room.history", "grp"));
    expect_err(m, "forbidden"); /* the mentor is not joined: join, then look */
    mu_msg_free(m);
    call_expect(w.y, w.mentor, rreq("room.join", "grp"), "ok");
    m = cl_call(w.y, w.mentor, rreq("room.history", "grp"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "messages")), 0);
    mu_msg_free(m);
    m = cl_call(w.y, w.mentor, mu_req_new("me.export"));
    char *json = mu_value_to_json(mu_msg_root(m), 0);
    assert_null(strstr(json, "riley"));
    free(json);
    mu_msg_free(m);
    /* the audit keeps the facts, not the person */
    m = cl_call(w.y, w.admin, mu_req_new("audit.list"));
    json = mu_value_to_json(mu_msg_root(m), 0);
    assert_null(strstr(json, "riley"));
    assert_non_null(strstr(json, "\"target\":\"(erased)\""));
    assert_non_null(strstr(json, "\"action\":\"mute\""));
    assert_non_null(strstr(json, "\"action\":\"read_checkins\""));
    free(json);
    mu_msg_free(m);
    /* and the handle is free again */
    free(cl_register(w.y, c, "riley", WORLD_PW, NULL));
    m = cl_call(w.y, c, mu_req_new("me.export"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "dms")), 0);
    assert_int_equal(mu_value_len(mu_msg_get(m, "checkins")), 0);
    mu_msg_free(m);
    /* the last admin cannot erase themselves */
    r = mu_req_new("me.delete");
    mu_req_str(r, "password", WORLD_PW);
    call_expect(w.y, w.admin, r, "conflict");
    world_down(&w);
}

static void test_admin_ops(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", "riley");
    const char *ops[] = {"stats", "audit.list"};
    for (int i = 0; i < 2; i++) {
        call_expect(w.y, w.mem, mu_req_new(ops[i]), "forbidden");
        call_expect(w.y, w.mentor, mu_req_new(ops[i]), "forbidden");
    }
    mu_req *r = mu_req_new("user.create");
    mu_req_str(r, "handle", "new.mentor");
    mu_req_str(r, "password", WORLD_PW);
    mu_req_str(r, "role", "mentor");
    call_expect(w.y, w.mem, r, "forbidden");
    r = mu_req_new("user.create");
    mu_req_str(r, "handle", "new.mentor");
    mu_req_str(r, "password", WORLD_PW);
    mu_req_str(r, "role", "mentor");
    mu_msg *m = cl_call(w.y, w.admin, r);
    expect_ok(m);
    assert_string_equal(mu_value_get_str(mu_msg_get(m, "user"), "role"), "mentor");
    mu_msg_free(m);
    r = mu_req_new("user.create");
    mu_req_str(r, "handle", "new.mentor");
    mu_req_str(r, "password", WORLD_PW);
    mu_req_str(r, "role", "member");
    call_expect(w.y, w.admin, r, "conflict");
    free(cl_login(w.y, cl_connect(w.y, &w.s), "new.mentor", WORLD_PW));
    /* user.role: a demoted mentor loses the caseload, and its open alerts, at once */
    r = mu_req_new("consent.set");
    mu_req_str(r, "share", "alerts");
    call_expect(w.y, w.mem, r, "ok");
    r = mu_req_new("checkin.submit");
    mu_req_int(r, "tz", 0);
    mu_req_int(r, "mood", 5);
    mu_req_int(r, "craving", 9);
    call_expect(w.y, w.mem, r, "ok");
    m = cl_call(w.y, w.mentor, mu_req_new("alerts.list"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 1);
    mu_msg_free(m);
    r = mu_req_new("user.role");
    mu_req_str(r, "handle", "mentor.ana");
    mu_req_str(r, "role", "member");
    call_expect(w.y, w.mem, r, "forbidden");
    r = mu_req_new("user.role");
    mu_req_str(r, "handle", "mentor.ana");
    mu_req_str(r, "role", "member");
    call_expect(w.y, w.admin, r, "ok");
    m = cl_call(w.y, w.mem, mu_req_new("mentor.get"));
    assert_int_equal(mu_value_type(mu_msg_get(m, "mentor")), MU_V_NIL);
    mu_msg_free(m);
    call_expect(w.y, w.mentor, mu_req_new("mentees.list"), "forbidden"); /* live connection */
    r = mu_req_new("user.role");
    mu_req_str(r, "handle", "mentor.ana");
    mu_req_str(r, "role", "mentor");
    call_expect(w.y, w.admin, r, "ok");
    m = cl_call(w.y, w.mentor, mu_req_new("alerts.list"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 0);
    mu_msg_free(m);
    /* a member who becomes a mentor leaves their own mentor */
    r = mu_req_new("mentor.assign");
    mu_req_str(r, "mentor", "new.mentor");
    mu_req_str(r, "user", "riley");
    call_expect(w.y, w.admin, r, "ok");
    r = mu_req_new("user.role");
    mu_req_str(r, "handle", "riley");
    mu_req_str(r, "role", "mentor");
    call_expect(w.y, w.admin, r, "ok");
    m = cl_call(w.y, w.mem, mu_req_new("mentor.get"));
    assert_int_equal(mu_value_type(mu_msg_get(m, "mentor")), MU_V_NIL);
    mu_msg_free(m);
    r = mu_req_new("user.role");
    mu_req_str(r, "handle", "nobody-at-all");
    mu_req_str(r, "role", "mentor");
    call_expect(w.y, w.admin, r, "not_found");
    r = mu_req_new("user.role");
    mu_req_str(r, "handle", "admin");
    mu_req_str(r, "role", "member");
    call_expect(w.y, w.admin, r, "conflict"); /* the last admin */
    /* stats */
    m = cl_call(w.y, w.admin, mu_req_new("stats"));
    expect_ok(m);
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "users", 0), 4);
    assert_true(mu_value_get_int(mu_msg_root(m), "connections", 0) >= 4);
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "checkins_today", 0), 1);
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "rooms_open", -1), 0);
    mu_msg_free(m);
    world_down(&w);
}

static void test_audit(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", "riley");
    populate(&w);
    mu_req *r = rreq("room.lock", "grp");
    mu_req_bool(r, "locked", true);
    call_expect(w.y, w.mentor, r, "ok");
    r = rreq("room.remove", "grp");
    mu_req_str(r, "handle", "riley");
    mu_req_bool(r, "ban", true);
    call_expect(w.y, w.mentor, r, "ok");
    r = mu_req_new("audit.list");
    mu_req_int(r, "limit", 2);
    mu_msg *m = cl_call(w.y, w.admin, r);
    const mu_value *e = mu_msg_get(m, "entries");
    assert_int_equal(mu_value_len(e), 2);
    assert_string_equal(mu_value_get_str(mu_value_at(e, 0), "action"), "ban"); /* newest first */
    assert_string_equal(mu_value_get_str(mu_value_at(e, 0), "target"), "riley");
    assert_string_equal(mu_value_get_str(mu_value_at(e, 0), "actor"), "mentor.ana");
    assert_string_equal(mu_value_get_str(mu_value_at(e, 0), "room"), "grp");
    assert_string_equal(mu_value_get_str(mu_value_at(e, 1), "action"), "lock");
    mu_msg_free(m);
    /* By action (extension): only that action's entries, however many others are newer. */
    r = mu_req_new("audit.list");
    mu_req_str(r, "action", "open");
    m = cl_call(w.y, w.admin, r);
    e = mu_msg_get(m, "entries");
    assert_int_equal(mu_value_len(e), 1);
    assert_string_equal(mu_value_get_str(mu_value_at(e, 0), "action"), "open");
    mu_msg_free(m);
    r = mu_req_new("audit.list");
    mu_req_str(r, "action", "report");
    m = cl_call(w.y, w.admin, r);
    assert_int_equal(mu_value_len(mu_msg_get(m, "entries")), 0);
    mu_msg_free(m);
    r = mu_req_new("audit.list");
    mu_req_str(r, "action", "delete_everything");
    call_expect(w.y, w.admin, r, "bad_request");
    char cmd[800], out[8192];
    snprintf(cmd, sizeof(cmd), "%s audit --db %s 2>&1", MUTUALD_PATH, w.s.db);
    FILE *f = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = 0;
    assert_int_equal(pclose(f), 0);
    const char *want[] = {"open", "mute", "read_checkins", "lock", "ban", "mentor.ana"};
    for (int i = 0; i < 6; i++)
        if (!strstr(out, want[i]))
            fail_msg("mutuald audit lacks %s", want[i]);
    world_down(&w);
}

typedef struct {
    int acked;
    int64_t ids[4096];
} acks;

static void on_sent(mu_client *c, const mu_msg *m, void *ud)
{
    acks *a = ud;
    if (m && mu_msg_ok(m) && a->acked < 4096)
        a->ids[a->acked++] = mu_value_get_int(mu_msg_root(m), "id", 0);
}

static void test_backup_while_writing(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", "riley");
    if (srv_is_pg(&w.s)) {
        /* PostgreSQL has its own online backup: the command says so and fails. */
        char cmd[800];
        snprintf(cmd, sizeof(cmd), "%s backup --db %s %s/b.db 2>&1 | grep -q pg_dump", MUTUALD_PATH,
                 w.s.db, w.s.dir);
        assert_int_equal(system(cmd), 0);
        world_down(&w);
        return;
    }
    static acks a;
    memset(&a, 0, sizeof(a));
    for (int i = 0; i < 1500; i++) {
        mu_req *r = mu_req_new("dm.send");
        mu_req_str(r, "to", "mentor.ana");
        mu_req_str(r, "text", "a message written while the backup runs");
        mu_client_send(w.mem, r, on_sent, &a);
    }
    while (a.acked < 300)
        mu_sync_run(w.y, 2);
    int acked_before = a.acked;
    int64_t last_before = a.ids[acked_before - 1];
    char cmd[800], backup[400];
    snprintf(backup, sizeof(backup), "%s/backup.db", w.s.dir);
    snprintf(cmd, sizeof(cmd), "%s backup --db %s %s > /dev/null 2>&1 &", MUTUALD_PATH, w.s.db,
             backup);
    assert_int_equal(system(cmd), 0);
    while (a.acked < 1500)
        mu_sync_run(w.y, 5);
    mu_sync_run(w.y, 500);
    snprintf(cmd, sizeof(cmd), "%s check --db %s > /dev/null 2>&1", MUTUALD_PATH, backup);
    for (int i = 0; i < 50 && system(cmd) != 0; i++)
        mu_sync_run(w.y, 100);
    assert_int_equal(system(cmd), 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(backup, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM dms WHERE id <= ?", -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(q, 1, last_before);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), acked_before); /* every write acked before it */
    sqlite3_finalize(q);
    sqlite3_close(db);
    world_down(&w);
}

static void test_retention(void **st)
{
    world w;
    world_up(&w, "retain_read_dms_days = 2\nretain_notes_days = 3\nretain_closed_alerts_days = 2",
             1, "mentor.ana", "riley");
    mu_req *r = mu_req_new("consent.set");
    mu_req_str(r, "share", "alerts");
    call_expect(w.y, w.mem, r, "ok");
    r = mu_req_new("checkin.submit");
    mu_req_int(r, "tz", 0);
    mu_req_int(r, "mood", 1);
    mu_req_str(r, "note", "short-lived words");
    call_expect(w.y, w.mem, r, "ok");
    dm(&w, w.mem, "mentor.ana", "read soon");
    dm(&w, w.mem, "mentor.ana", "never read");
    r = mu_req_new("dm.history");
    mu_req_str(r, "with", "riley");
    mu_msg *m = cl_call(w.y, w.mentor, r);
    int64_t first = mu_value_get_int(mu_value_at(mu_msg_get(m, "messages"), 0), "id", 0);
    mu_msg_free(m);
    r = mu_req_new("dm.ack");
    mu_req_str(r, "with", "riley");
    mu_req_int(r, "up_to", first);
    call_expect(w.y, w.mentor, r, "ok");
    m = cl_call(w.y, w.mentor, mu_req_new("alerts.list"));
    int64_t alert = mu_value_get_int(mu_value_at(mu_msg_get(m, "alerts"), 0), "id", 0);
    mu_msg_free(m);
    r = mu_req_new("alert.ack");
    mu_req_int(r, "id", alert);
    call_expect(w.y, w.mentor, r, "ok");
    r = mu_req_new("test.clock");
    mu_req_int(r, "advance", 2 * 86400 + 60);
    call_expect(w.y, w.admin, r, "ok");
    mu_sync_run(w.y, 300);
    r = mu_req_new("dm.history");
    mu_req_str(r, "with", "riley");
    m = cl_call(w.y, w.mentor, r);
    assert_int_equal(mu_value_len(mu_msg_get(m, "messages")), 1); /* the unread one stays */
    assert_string_equal(mu_value_get_str(mu_value_at(mu_msg_get(m, "messages"), 0), "text"),
                        "never read");
    mu_msg_free(m);
    r = mu_req_new("alerts.list");
    mu_req_bool(r, "open", false);
    m = cl_call(w.y, w.mentor, r);
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 0);
    mu_msg_free(m);
    m = cl_call(w.y, w.mem, mu_req_new("checkin.list"));
    assert_string_equal(mu_value_get_str(mu_value_at(mu_msg_get(m, "checkins"), 0), "note"),
                        "short-lived words"); /* 3 days for notes */
    mu_msg_free(m);
    r = mu_req_new("test.clock");
    mu_req_int(r, "advance", 86400);
    call_expect(w.y, w.admin, r, "ok");
    mu_sync_run(w.y, 300);
    m = cl_call(w.y, w.mem, mu_req_new("checkin.list"));
    const mu_value *c = mu_value_at(mu_msg_get(m, "checkins"), 0);
    assert_int_equal(mu_value_type(mu_value_get(c, "note")), MU_V_NIL);
    assert_int_equal(mu_value_get_int(c, "mood", -1), 1); /* the check-in itself stays */
    mu_msg_free(m);
    assert_false(on_disk_sqlite(&w, "short-lived words"));
    assert_false(on_disk_sqlite(&w, "read soon"));
    assert_true(srv_is_pg(&w.s) ||
                on_disk_sqlite(&w, "never read")); /* the check sees what is kept */
    /* a meeting's words go when it closes, from the WAL too */
    r = mu_req_new("room.create");
    mu_req_str(r, "room", "tue");
    mu_req_str(r, "name", "Tuesday");
    mu_req_str(r, "audience", "open");
    call_expect(w.y, w.mentor, r, "ok");
    call_expect(w.y, w.mentor, rreq("room.open", "tue"), "ok");
    call_expect(w.y, w.mem, rreq("room.join", "tue"), "ok");
    r = rreq("room.say", "tue");
    mu_req_str(r, "text", "said in the meeting only");
    call_expect(w.y, w.mem, r, "ok");
    assert_true(srv_is_pg(&w.s) || on_disk_sqlite(&w, "said in the meeting only"));
    call_expect(w.y, w.mentor, rreq("room.close", "tue"), "ok");
    assert_false(on_disk_sqlite(&w, "said in the meeting only"));
    world_down(&w);
}

/* ---- the last admin, decided inside the write ------------------------------------------- */

typedef struct {
    int ok, conflict, other;
    char other_code[32], other_text[160]; /* the last unexpected answer, for the failure */
} tally;

static void on_tally(mu_client *c, const mu_msg *m, void *ud)
{
    tally *t = ud;
    if (!m)
        return;
    if (mu_msg_ok(m))
        t->ok++;
    else if (mu_msg_code(m) && !strcmp(mu_msg_code(m), "conflict"))
        t->conflict++;
    else {
        snprintf(t->other_code, sizeof(t->other_code), "%s", mu_msg_code(m) ? mu_msg_code(m) : "?");
        snprintf(t->other_text, sizeof(t->other_text), "%s", mu_msg_text(m) ? mu_msg_text(m) : "");
        t->other++;
    }
}

static void wait_tally(world *w, const tally *t, int n)
{
    double t0 = mono_ms();
    while (t->ok + t->conflict + t->other < n && mono_ms() - t0 < 30000)
        mu_sync_run(w->y, 5);
    assert_int_equal(t->ok + t->conflict + t->other, n);
}

static void send_role(mu_client *c, const char *handle, const char *role, tally *t)
{
    mu_req *r = mu_req_new("user.role");
    mu_req_str(r, "handle", handle);
    mu_req_str(r, "role", role);
    assert_true(mu_client_send(c, r, on_tally, t) > 0);
}

static void test_last_admin(void **st)
{
    world w;
    world_up(&w, NULL, 1, NULL, NULL);
    world_add(&w, "admin2", "admin");
    mu_client *a2 = world_as(&w, "admin2");
    /* two admins demote each other at once: one of them stays admin */
    for (int i = 0; i < 6; i++) {
        tally t1 = {0}, t2 = {0};
        send_role(w.admin, "admin2", "member", &t1);
        send_role(a2, "admin", "member", &t2);
        wait_tally(&w, &t1, 1);
        wait_tally(&w, &t2, 1);
        /* The loser is refused either inside the write (conflict: they were the last admin
         * then) or, when the winner's demotion had already landed before the loser's request
         * was looked at, as someone who is no longer an admin (forbidden). */
        for (int k = 0; k < 2; k++) {
            const tally *t = k ? &t2 : &t1;
            if (t->other && strcmp(t->other_code, "forbidden") != 0)
                fail_msg("an answer was neither ok, conflict nor forbidden: %s %s", t->other_code,
                         t->other_text);
        }
        assert_int_equal(t1.ok + t2.ok, 1);
        assert_int_equal(t1.conflict + t2.conflict + t1.other + t2.other, 1);
        /* the one left admin makes the other admin again */
        tally t3 = {0};
        if (t1.ok)
            send_role(w.admin, "admin2", "admin", &t3);
        else
            send_role(a2, "admin", "admin", &t3);
        wait_tally(&w, &t3, 1);
        assert_int_equal(t3.ok, 1);
    }
    /* both erase their accounts at once: one is left */
    tally d = {0};
    mu_req *r = mu_req_new("me.delete");
    mu_req_str(r, "password", WORLD_PW);
    assert_true(mu_client_send(w.admin, r, on_tally, &d) > 0);
    r = mu_req_new("me.delete");
    mu_req_str(r, "password", WORLD_PW);
    assert_true(mu_client_send(a2, r, on_tally, &d) > 0);
    wait_tally(&w, &d, 2);
    assert_int_equal(d.ok, 1);
    assert_int_equal(d.conflict, 1);
    assert_int_equal(srv_sql_int(&w.s, "SELECT count(*) FROM users WHERE role = 'admin'"), 1);
    world_down(&w);
}

/* ---- a role change and the rooms ---------------------------------------------------------- */

static void make_room(world *w, const char *slug, const char *audience)
{
    mu_req *r = rreq("room.create", slug);
    mu_req_str(r, "name", slug);
    mu_req_str(r, "audience", audience);
    call_expect(w->y, w->mentor, r, "ok");
    call_expect(w->y, w->mentor, rreq("room.open", slug), "ok");
}

static void set_role(world *w, const char *handle, const char *role)
{
    mu_req *r = mu_req_new("user.role");
    mu_req_str(r, "handle", handle);
    mu_req_str(r, "role", role);
    call_expect(w->y, w->admin, r, "ok");
}

/* The next event of `c` with that op, skipping others (presence, state). */
static mu_msg *next_op(world *w, mu_client *c, const char *op)
{
    for (;;) {
        mu_msg *m = mu_sync_event(w->y, c, 5000);
        if (!m)
            fail_msg("no %s event", op);
        if (!strcmp(mu_msg_op(m), op))
            return m;
        mu_msg_free(m);
    }
}

static void test_role_change_and_rooms(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.ana", NULL);
    make_room(&w, "carers1", "carers");
    make_room(&w, "mentors1", "mentors");
    make_room(&w, "open1", "open");
    mu_client *fam = world_newcomer(&w, "fam", "family");
    call_expect(w.y, fam, rreq("room.join", "carers1"), "ok");
    call_expect(w.y, fam, rreq("room.join", "open1"), "ok");
    /* a family member made member leaves the carers room, not the open one */
    set_role(&w, "fam", "member");
    mu_msg *m = next_op(&w, fam, "room.removed");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "room"), "carers1");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "by"), "admin");
    bool ban = true;
    assert_true(mu_value_bool(mu_msg_get(m, "ban"), &ban));
    assert_false(ban);
    mu_msg_free(m);
    mu_req *r = rreq("room.say", "carers1");
    mu_req_str(r, "text", "still here?");
    call_expect(w.y, fam, r, "forbidden");
    r = rreq("room.say", "open1");
    mu_req_str(r, "text", "still in the open room");
    call_expect(w.y, fam, r, "ok");
    /* a demoted mentor leaves the mentors room and stops facilitating the open one */
    call_expect(w.y, w.mentor, rreq("room.join", "mentors1"), "ok");
    call_expect(w.y, w.mentor, rreq("room.join", "open1"), "ok");
    set_role(&w, "mentor.ana", "member");
    m = next_op(&w, w.mentor, "room.removed");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "room"), "mentors1");
    mu_msg_free(m);
    r = rreq("room.mute", "open1");
    mu_req_str(r, "handle", "fam");
    call_expect(w.y, w.mentor, r, "forbidden");
    m = cl_call(w.y, fam, rreq("room.join", "open1"));
    expect_ok(m);
    const mu_value *members = mu_msg_get(m, "members");
    int seen = 0;
    for (size_t i = 0; i < mu_value_len(members); i++) {
        const mu_value *e = mu_value_at(members, i);
        if (!strcmp(mu_value_get_str(e, "handle"), "mentor.ana")) {
            bool fac = true;
            assert_true(mu_value_bool(mu_value_get(e, "facilitator"), &fac));
            assert_false(fac);
            assert_string_equal(mu_value_get_str(e, "role"), "member");
            seen++;
        }
    }
    assert_int_equal(seen, 1);
    mu_msg_free(m);
    /* made mentor again: facilitates at once */
    set_role(&w, "mentor.ana", "mentor");
    r = rreq("room.mute", "open1");
    mu_req_str(r, "handle", "fam");
    call_expect(w.y, w.mentor, r, "ok");
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_erasure),
        cmocka_unit_test(test_admin_ops),
        cmocka_unit_test(test_audit),
        cmocka_unit_test(test_backup_while_writing),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_last_admin),
        cmocka_unit_test(test_role_change_and_rooms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
