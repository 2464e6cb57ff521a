#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#define CALL_TIMEOUT_MS 20000

double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void spawn(srv_t *s)
{
    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* A test that dies must not leave its server behind. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(out[1], STDOUT_FILENO);
        int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (logfd >= 0)
            dup2(logfd, STDERR_FILENO);
        close(out[0]);
        close(out[1]);
        const char *argv[10];
        int n = 0;
        argv[n++] = MUTUALD_PATH;
        argv[n++] = "serve";
        argv[n++] = "--listen";
        char listen[64];
        snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
        argv[n++] = listen;
        argv[n++] = "--db";
        argv[n++] = s->db;
        argv[n++] = "--config";
        argv[n++] = s->conf;
        if (s->test_clock)
            argv[n++] = "--test-clock";
        argv[n] = NULL;
        execv(MUTUALD_PATH, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    s->pid = pid;
    /* Wait for "listening on HOST:PORT". */
    FILE *f = fdopen(out[0], "r");
    char line[256] = "";
    if (!fgets(line, sizeof(line), f)) {
        fprintf(stderr, "mutuald did not start; its log is %s\n", s->log);
        fail();
    }
    fclose(f);
    char *colon = strrchr(line, ':');
    assert_non_null(colon);
    assert_true(strncmp(line, "listening on ", 13) == 0);
    s->port = atoi(colon + 1);
    assert_true(s->port > 0);
    snprintf(s->url, sizeof(s->url), "ws://127.0.0.1:%d/ws", s->port);
}

/* With MUTUAL_TEST_PG set to a PostgreSQL URL (tests/pg/pgtmp.sh makes one), every server
 * gets a new database of its own there instead of a SQLite file. */
static void pg_admin(const char *sql)
{
    PGconn *pg = PQconnectdb(getenv("MUTUAL_TEST_PG"));
    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("MUTUAL_TEST_PG: %s", PQerrorMessage(pg));
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(pg);
}

int harness_on_pg(void)
{
    const char *url = getenv("MUTUAL_TEST_PG");
    return url && *url;
}

int srv_is_pg(const srv_t *s)
{
    return strncmp(s->db, "postgresql://", 13) == 0;
}

static void pg_database(srv_t *s)
{
    static unsigned n;
    const char *base = getenv("MUTUAL_TEST_PG");
    const char *slash = base ? strrchr(base, '/') : NULL;
    if (!slash)
        fail_msg("MUTUAL_TEST_PG is not a URL");
    snprintf(s->pg_name, sizeof(s->pg_name), "mt_%d_%u", (int)getpid(), n++);
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", s->pg_name);
    pg_admin(sql);
    snprintf(s->db, sizeof(s->db), "%.*s/%s", (int)(slash - base), base, s->pg_name);
}

/* The server's settings file and log in its directory. */
static void write_conf(srv_t *s, const char *config)
{
    snprintf(s->conf, sizeof(s->conf), "%s/mutual.conf", s->dir);
    snprintf(s->log, sizeof(s->log), "%s/mutuald.log", s->dir);
    FILE *f = fopen(s->conf, "w");
    assert_non_null(f);
    /* Tests talk fast; the rate limit has tests of its own with their own settings. */
    fprintf(f, "log_level = info\nrate_per_s = 100000\nburst = 100000\n%s\n", config ? config : "");
    fclose(f);
}

void srv_start(srv_t *s, const char *config, int test_clock)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/mutual-test-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    if (harness_on_pg())
        pg_database(s);
    else
        snprintf(s->db, sizeof(s->db), "%s/mutual.db", s->dir);
    write_conf(s, config);
    s->test_clock = test_clock;
    s->port = 0;
    spawn(s);
}

void srv_start_node(srv_t *s, const srv_t *first, const char *config)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/mutual-test-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->db, sizeof(s->db), "%s", first->db); /* pg_name stays empty: not its to drop */
    write_conf(s, config);
    s->test_clock = first->test_clock;
    spawn(s);
}

void srv_restart(srv_t *s)
{
    s->port = 0;
    spawn(s);
}

void srv_restart_same_port(srv_t *s)
{
    spawn(s);
}

static void dump_log(const srv_t *s)
{
    FILE *f = fopen(s->log, "r");
    if (!f)
        return;
    char line[1024];
    fprintf(stderr, "---- %s ----\n", s->log);
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fclose(f);
}

void srv_stop(srv_t *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    int status = 0;
    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
    s->pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        dump_log(s);
        fprintf(stderr, "mutuald exited with status %d\n", status);
        fail();
    }
}

void srv_kill9(srv_t *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

void srv_cleanup(srv_t *s)
{
    if (s->pid > 0)
        srv_kill9(s);
    char cmd[400];
    if (getenv("MUTUAL_KEEP_TEST_DIRS"))
        return;
    if (s->pg_name[0]) {
        snprintf(cmd, sizeof(cmd), "DROP DATABASE IF EXISTS %s WITH (FORCE)", s->pg_name);
        pg_admin(cmd);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
}

mu_client *cl_connect(mu_sync *y, const srv_t *s)
{
    char err[256];
    mu_client_opts o = {.url = s->url};
    mu_client *c = mu_sync_connect(y, &o, CALL_TIMEOUT_MS, err, sizeof(err));
    if (!c) {
        fprintf(stderr, "connect failed: %s\n", err);
        fail();
    }
    return c;
}

mu_msg *cl_call(mu_sync *y, mu_client *c, mu_req *r)
{
    mu_msg *m = mu_sync_call(y, c, r, CALL_TIMEOUT_MS);
    if (!m) {
        fprintf(stderr, "no reply\n");
        fail();
    }
    return m;
}

void expect_ok(const mu_msg *m)
{
    if (!mu_msg_ok(m)) {
        fprintf(stderr, "expected ok, got %s: %s\n", mu_msg_code(m) ? mu_msg_code(m) : "?",
                mu_msg_text(m) ? mu_msg_text(m) : "?");
        fail();
    }
}

void expect_err(const mu_msg *m, const char *code)
{
    assert_string_equal(mu_msg_op(m), "reply");
    assert_false(mu_msg_ok(m));
    const char *got = mu_msg_code(m);
    if (!got || strcmp(got, code) != 0) {
        fprintf(stderr, "expected %s, got %s (%s)\n", code, got ? got : "none",
                mu_msg_text(m) ? mu_msg_text(m) : "");
        fail();
    }
    /* Every error carries a human sentence. */
    assert_non_null(mu_msg_text(m));
    assert_true(strlen(mu_msg_text(m)) > 5);
}

void call_expect(mu_sync *y, mu_client *c, mu_req *r, const char *code)
{
    mu_msg *m = cl_call(y, c, r);
    if (!strcmp(code, "ok"))
        expect_ok(m);
    else
        expect_err(m, code);
    mu_msg_free(m);
}

static char *signed_in_token(mu_msg *m)
{
    expect_ok(m);
    const char *t = mu_value_get_str(mu_msg_root(m), "token");
    assert_non_null(t);
    char *tok = strdup(t);
    mu_msg_free(m);
    return tok;
}

char *cl_register(mu_sync *y, mu_client *c, const char *handle, const char *pw, const char *role)
{
    mu_req *r = mu_req_new("register");
    mu_req_str(r, "handle", handle);
    mu_req_str(r, "password", pw);
    if (role)
        mu_req_str(r, "role", role);
    return signed_in_token(cl_call(y, c, r));
}

char *cl_login(mu_sync *y, mu_client *c, const char *handle, const char *pw)
{
    mu_req *r = mu_req_new("login");
    mu_req_str(r, "handle", handle);
    mu_req_str(r, "password", pw);
    return signed_in_token(cl_call(y, c, r));
}

mu_client *cl_signed_in(mu_sync *y, const srv_t *s, const char *handle, const char *pw)
{
    mu_client *c = cl_connect(y, s);
    free(cl_login(y, c, handle, pw));
    return c;
}

mu_msg *cl_event(mu_sync *y, mu_client *c, const char *op)
{
    mu_msg *m = mu_sync_event(y, c, 5000);
    if (!m)
        fail_msg("no %s event", op);
    if (strcmp(mu_msg_op(m), op) != 0)
        fail_msg("expected %s, got %s", op, mu_msg_op(m));
    return m;
}

void cl_no_event(mu_sync *y, mu_client *c)
{
    mu_msg *m = mu_sync_event(y, c, 200);
    if (m)
        fail_msg("unexpected event %s", mu_msg_op(m));
}

void srv_user_add(const srv_t *s, const char *handle, const char *pw, const char *role)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "printf '%%s\\n' '%s' | '%s' user add '%s' --role %s --db '%s' "
             ">/dev/null 2>>'%s'",
             pw, MUTUALD_PATH, handle, role, s->db, s->log);
    assert_int_equal(system(cmd), 0);
}

void *grow(void *p, size_t size)
{
    void *n = realloc(p, size);
    if (!n) {
        fprintf(stderr, "harness: out of memory (%zu bytes)\n", size);
        abort();
    }
    return n;
}

int http_get(int port, const char *path, char **body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1 >= cap)
            buf = grow(buf, cap *= 2);
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r <= 0)
            break;
        len += (size_t)r;
        /* lws may keep the connection open: stop once the declared body is in. */
        buf[len] = 0;
        char *hdr_end = strstr(buf, "\r\n\r\n");
        char *cl = strcasestr(buf, "content-length:");
        if (hdr_end && cl && cl < hdr_end) {
            size_t want = (size_t)atol(cl + 15);
            if (len >= (size_t)(hdr_end + 4 - buf) + want)
                break;
        }
    }
    close(fd);
    buf[len] = 0;
    int status = 0;
    sscanf(buf, "HTTP/1.%*d %d", &status);
    char *b = strstr(buf, "\r\n\r\n");
    *body = strdup(b ? b + 4 : "");
    free(buf);
    return status;
}

/* ---- a world ------------------------------------------------------------------------------ */

void world_up(world *w, const char *config, int test_clock, const char *mentor, const char *member)
{
    memset(w, 0, sizeof(*w));
    srv_start(&w->s, config, test_clock);
    world_add(w, "admin", "admin");
    if (mentor)
        world_add(w, mentor, "mentor");
    w->y = mu_sync_new();
    w->admin = world_as(w, "admin");
    if (mentor)
        w->mentor = world_as(w, mentor);
    if (member) {
        w->mem = world_newcomer(w, member, NULL);
        if (mentor) {
            mu_req *r = mu_req_new("mentor.assign");
            mu_req_str(r, "mentor", mentor);
            mu_req_str(r, "user", member);
            call_expect(w->y, w->admin, r, "ok");
        }
    }
}

void world_down(world *w)
{
    mu_sync_free(w->y);
    srv_stop(&w->s);
    srv_cleanup(&w->s);
}

void world_add(world *w, const char *handle, const char *role)
{
    srv_user_add(&w->s, handle, WORLD_PW, role);
}

mu_client *world_as(world *w, const char *handle)
{
    return cl_signed_in(w->y, &w->s, handle, WORLD_PW);
}

mu_client *world_newcomer(world *w, const char *handle, const char *role)
{
    mu_client *c = cl_connect(w->y, &w->s);
    free(cl_register(w->y, c, handle, WORLD_PW, role));
    return c;
}

mu_msg *world_event(world *w, mu_client *c, const char *op)
{
    return cl_event(w->y, c, op);
}

void world_no_event(world *w, mu_client *c)
{
    cl_no_event(w->y, c);
}

void world_advance(world *w, int64_t secs)
{
    mu_req *r = mu_req_new("test.clock");
    mu_req_int(r, "advance", secs);
    call_expect(w->y, w->admin, r, "ok");
}

int sh_vcapture(char *out, size_t cap, const char *fmt, va_list ap)
{
    char cmd[16384], full[16500];
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    snprintf(full, sizeof(full), "(%s) 2>&1", cmd);
    FILE *f = popen(full, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int sh_capture(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sh_vcapture(out, cap, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- looking into a server's database ------------------------------------------------- */

static PGconn *pg_open(const srv_t *s)
{
    PGconn *pg = PQconnectdb(s->db);
    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("%s: %s", s->db, PQerrorMessage(pg));
    return pg;
}

int64_t srv_sql_int(const srv_t *s, const char *sql)
{
    int64_t v = 0;
    if (srv_is_pg(s)) {
        PGconn *pg = pg_open(s);
        PGresult *r = PQexec(pg, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        PQfinish(pg);
        return v;
    }
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(s->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

void srv_sql_exec(const srv_t *s, const char *sql)
{
    if (srv_is_pg(s)) {
        PGconn *pg = pg_open(s);
        PGresult *r = PQexec(pg, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(pg);
        return;
    }
    sqlite3 *db;
    assert_int_equal(sqlite3_open(s->db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
    sqlite3_close(db);
}

void srv_integrity_ok(const srv_t *s)
{
    if (srv_is_pg(s)) {
        /* amcheck: every B-tree index agrees with itself and holds every row of its table,
         * and every table's pages and tuples are well formed. */
        srv_sql_exec(s, "CREATE EXTENSION IF NOT EXISTS amcheck");
        assert_true(
            srv_sql_int(s,
                        "SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_index i "
                        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                        "WHERE a.amname = 'btree' AND c.relnamespace = 'public'::regnamespace) x") >
            10); /* an error above fails the test; every index was looked at */
        assert_int_equal(
            srv_sql_int(s, "SELECT count(*) FROM pg_class c, verify_heapam(c.oid) "
                           "WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace"),
            0);
        return;
    }
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(s->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_close(db);
}
