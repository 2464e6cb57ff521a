/* mutuald: the Mutual server and its administration commands. Layer: top. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "password.h"
#include "server.h"
#include "store_users.h"
#include "clock.h"
#include "store_admin.h"
#include "store_schema.h"
#include <sys/stat.h>
#include "services_import.h"
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: mutuald [serve] [--listen HOST:PORT] [--db PATH] [--config FILE] [--test-clock]\n"
    "                     [--www DIR]\n"
    "       mutuald user add HANDLE --role ROLE [--db PATH] [--config FILE]\n"
    "       mutuald audit [--db PATH] [--since YYYY-MM-DD]\n"
    "       mutuald backup [--db PATH] OUT\n"
    "       mutuald check [--db PATH]\n"
    "       mutuald services import FILE [--db PATH] [--config FILE]\n"
    "       mutuald --help | --version\n";

static const char help_text[] =
    "Mutual: peer support for addiction recovery, over WebSockets.\n\n"
    "Commands:\n"
    "  serve              run the server (the default)\n"
    "  user add HANDLE    create an account; the password is read from standard input\n"
    "  audit              print the moderation and access audit log\n"
    "  backup OUT         copy the database to OUT while the server runs (online backup)\n"
    "  check              check the database's integrity and report its schema version\n"
    "  services import FILE  add the services of a CSV file to the directory, all or nothing\n\n"
    "Options:\n"
    "  --listen HOST:PORT address to listen on (default 127.0.0.1:7681; port 0 picks one)\n"
    "  --db PATH          SQLite database, created when missing (default ./mutual.db)\n"
    "  --config FILE      settings file (see deploy/mutual.conf)\n"
    "  --role ROLE        member, family, mentor or admin (user add)\n"
    "  --www DIR          serve the browser app from DIR instead of the built-in copy\n"
    "  --test-clock       enable the admin op test.clock (testing only, never production)\n"
    "  --help, --version\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "mutuald: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage);
    return 2;
}

typedef struct {
    const char *listen, *db, *config, *role, *since, *www;
    bool test_clock;
    const char *pos[4];
    int npos;
} args;

static int parse_args(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char **dst = NULL;
        if (!strcmp(s, "--listen"))
            dst = &a->listen;
        else if (!strcmp(s, "--db"))
            dst = &a->db;
        else if (!strcmp(s, "--config"))
            dst = &a->config;
        else if (!strcmp(s, "--role"))
            dst = &a->role;
        else if (!strcmp(s, "--since"))
            dst = &a->since;
        else if (!strcmp(s, "--www"))
            dst = &a->www;
        else if (!strcmp(s, "--test-clock")) {
            a->test_clock = true;
            continue;
        } else if (s[0] == '-' && s[1]) {
            return usage_error("unknown option '%s'", s);
        } else {
            if (a->npos == 4)
                return usage_error("too many arguments at '%s'", s);
            a->pos[a->npos++] = s;
            continue;
        }
        if (i + 1 >= argc)
            return usage_error("option '%s' needs a value", s);
        *dst = argv[++i];
    }
    return 0;
}

static int load_config(mu_config *cfg, const args *a)
{
    char err[512];
    config_defaults(cfg);
    if (a->config && config_load(cfg, a->config, err, sizeof(err)) != 0) {
        fprintf(stderr, "mutuald: %s\n", err);
        return -1;
    }
    if ((a->listen && config_set(cfg, "listen", a->listen, err, sizeof(err)) != 0) ||
        (a->db && config_set(cfg, "db", a->db, err, sizeof(err)) != 0) ||
        (a->www && config_set(cfg, "www", a->www, err, sizeof(err)) != 0)) {
        fprintf(stderr, "mutuald: %s\n", err);
        return -1;
    }
    log_set_level((log_level)log_level_parse(cfg->log_level));
    return 0;
}

static int read_password(char *buf, size_t cap, size_t *len)
{
    if (!fgets(buf, (int)cap, stdin))
        return -1;
    size_t n = strlen(buf);
    if (n == cap - 1 && buf[n - 1] != '\n')
        return -2; /* longer than any valid password */
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    *len = n;
    return 0;
}

static int cmd_user_add(const args *a)
{
    if (a->npos != 3)
        return usage_error("%s", "user add needs exactly one HANDLE");
    if (!a->role)
        return usage_error("%s", "user add needs --role member|family|mentor|admin");
    char handle[MU_HANDLE_MAX + 1];
    if (!mu_handle_fold(a->pos[2], strlen(a->pos[2]), handle)) {
        fprintf(stderr,
                "mutuald: handle '%s' must be 3 to 32 characters of a-z, 0-9, "
                "'_', '.' and '-'\n",
                a->pos[2]);
        return 1;
    }
    int role = role_parse(a->role, strlen(a->role));
    if (role < 0) {
        fprintf(stderr, "mutuald: role '%s' must be member, family, mentor or admin\n", a->role);
        return 1;
    }
    mu_config cfg;
    if (load_config(&cfg, a) != 0) {
        config_free(&cfg);
        return 1;
    }
    int rc = 1;
    char pw[256], hash[crypto_pwhash_STRBYTES], err[512];
    size_t pwlen = 0;
    db_conn *db = NULL;
    mu_wtx *w = NULL;
    int pr = read_password(pw, sizeof(pw), &pwlen);
    if (pr != 0 || pwlen < 8 || pwlen > 128 || !mu_utf8_valid(pw, pwlen)) {
        fprintf(stderr, "mutuald: give the password (8 to 128 bytes of UTF-8) on standard "
                        "input, one line\n");
        goto cleanup;
    }
    if (password_hash(pw, pwlen, hash) != 0) {
        fprintf(stderr, "mutuald: password hashing failed (out of memory?)\n");
        goto cleanup;
    }
    db = store_open_direct(cfg.db, true, err, sizeof(err));
    if (!db) {
        fprintf(stderr, "mutuald: %s\n", err);
        goto cleanup;
    }
    w = store_wtx_direct(db);
    int64_t id = 0;
    mu_code c = store_users_insert(w, handle, (mu_role)role, hash, clock_now_ms(), &id);
    if (c == MU_E_CONFLICT) {
        fprintf(stderr, "mutuald: handle '%s' is taken\n", handle);
        goto cleanup;
    }
    if (c != MU_OK) {
        fprintf(stderr, "mutuald: could not create the user: %s\n", db_errmsg(db));
        goto cleanup;
    }
    printf("created %s '%s'\n", role_name((mu_role)role), handle);
    rc = 0;
cleanup:
    sodium_memzero(pw, sizeof(pw));
    store_wtx_free(w);
    if (db)
        db_close(db);
    config_free(&cfg);
    return rc;
}

static int cmd_services_import(const args *a)
{
    mu_config cfg;
    char err[512];
    int rc = 1;
    db_conn *db = NULL;
    if (load_config(&cfg, a) != 0)
        goto cleanup;
    db = store_open_direct(cfg.db, true, err, sizeof(err));
    if (!db) {
        fprintf(stderr, "mutuald: %s\n", err);
        goto cleanup;
    }
    long n = services_import(db, a->pos[2], err, sizeof(err));
    if (n < 0) {
        fprintf(stderr, "mutuald: %s: %s; nothing was imported\n", a->pos[2], err);
        goto cleanup;
    }
    printf("imported %ld services from %s\n", n, a->pos[2]);
    rc = 0;
cleanup:
    if (db)
        db_close(db);
    config_free(&cfg);
    return rc;
}

static void print_audit(const audit_row *a, void *ud)
{
    (void)ud;
    time_t t = (time_t)(a->ts / 1000);
    struct tm tm;
    char when[32];
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%s  %-16s %-14s %-16s %-16s %s", when, a->actor, a->action, a->target ? a->target : "-",
           a->room ? a->room : "-", a->detail ? a->detail : "");
    if (a->seq)
        printf("%s(message %lld)", a->detail ? " " : "", (long long)a->seq);
    if (a->reason)
        printf(" reason: %s", a->reason);
    printf("\n");
}

static db_conn *open_existing(const args *a, mu_config *cfg)
{
    char err[512];
    if (load_config(cfg, a) != 0)
        return NULL;
    if (!db_is_url(cfg->db) && access(cfg->db, F_OK) != 0) {
        fprintf(stderr, "mutuald: no database at %s\n", cfg->db);
        return NULL;
    }
    db_conn *db = store_open_direct(cfg->db, false, err, sizeof(err));
    if (!db)
        fprintf(stderr, "mutuald: %s\n", err);
    return db;
}

static int cmd_audit(const args *a)
{
    mu_config cfg;
    db_conn *db = open_existing(a, &cfg);
    int rc = 1;
    int32_t since_day = 0;
    if (!db)
        goto cleanup;
    if (a->since && !mu_date_parse(a->since, strlen(a->since), &since_day)) {
        fprintf(stderr, "mutuald: --since takes a date as YYYY-MM-DD\n");
        goto cleanup;
    }
    printf("%-20s  %-16s %-14s %-16s %s\n", "WHEN (UTC)", "WHO", "WHAT", "WHOM", "ROOM");
    if (store_admin_audit_read(db, (int64_t)since_day * 86400000, NULL, 1000000, false, print_audit,
                               NULL) < 0) {
        fprintf(stderr, "mutuald: cannot read the audit log: %s\n", db_errmsg(db));
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (db)
        db_close(db);
    config_free(&cfg);
    return rc;
}

static int cmd_backup(const args *a)
{
    if (a->npos != 2)
        return usage_error("%s", "backup needs the OUT path");
    mu_config cfg;
    db_conn *db = open_existing(a, &cfg);
    int rc = 1;
    if (!db)
        goto cleanup;
    /* A backup holds the same health data: its owner's alone, like the database. */
    store_restrict_file(a->pos[1]);
    mode_t old_mask = umask(077);
    char err[512];
    int brc = db_backup(db, a->pos[1], err, sizeof(err));
    umask(old_mask);
    if (brc != 0) {
        fprintf(stderr, "mutuald: backup failed: %s\n", err);
        goto cleanup;
    }
    printf("backed up %s to %s\n", cfg.db, a->pos[1]);
    rc = 0;
cleanup:
    if (db)
        db_close(db);
    config_free(&cfg);
    return rc;
}

/* Warns about each of the database's files that group or others may read or write: they
 * hold health data. Looked at before the database is opened, which would tighten nothing
 * (check never changes the files) but could create a -wal or -shm. */
static void warn_file_modes(const char *db)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[4096];
    struct stat sb;
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        if ((size_t)snprintf(p, sizeof(p), "%s%s", db, suffix[i]) >= sizeof(p) ||
            stat(p, &sb) != 0 || !(sb.st_mode & 077))
            continue;
        printf("warning: %s has mode %04o: other local users can %s it; run chmod 600 %s (a "
               "running mutuald does this at its next start)\n",
               p, (unsigned)(sb.st_mode & 07777), (sb.st_mode & 044) ? "read" : "change", p);
    }
}

static int cmd_check(const args *a)
{
    mu_config cfg;
    if (load_config(&cfg, a) != 0) {
        config_free(&cfg);
        return 1;
    }
    warn_file_modes(cfg.db);
    config_free(&cfg);
    db_conn *db = open_existing(a, &cfg);
    int rc = 1;
    if (!db)
        goto cleanup;
    bool ok = true, pg = db_engine_of(db) == DB_POSTGRESQL;
    /* PostgreSQL checks its own pages as it reads them; a deeper check (amcheck) needs rights
     * the service's role should not have, so it is the database administrator's. */
    db_stmt *st = db_prepare(db, pg ? "SELECT 'ok' FROM users LIMIT 1" : "PRAGMA integrity_check");
    if (!st)
        goto cleanup;
    db_rc step;
    while ((step = db_step(st)) == DB_ROW) {
        const char *line = db_col_text(st, 0);
        if (strcmp(line, "ok") != 0) {
            ok = false;
            printf("%s\n", line);
        }
    }
    db_finalize(st);
    if (step != DB_DONE) {
        ok = false;
        printf("%s\n", db_errmsg(db));
    }
    char where[512];
    printf("%s: %s %s, schema version %d (this mutuald knows up to %d)\n",
           db_display(cfg.db, where, sizeof(where)), pg ? "readable" : "integrity",
           ok ? "ok" : "FAILED", store_schema_version_of(db),
           store_schema_version(db_engine_of(db)));
    rc = ok ? 0 : 1;
cleanup:
    if (db)
        db_close(db);
    config_free(&cfg);
    return rc;
}

static int cmd_serve(const args *a)
{
    if (a->npos > 1)
        return usage_error("unexpected argument '%s'", a->pos[1]);
    static mu_server srv;
    uv_loop_t loop;
    if (load_config(&srv.cfg, a) != 0) {
        config_free(&srv.cfg);
        return 1;
    }
    srv.test_clock = a->test_clock;
    /* Before the database is touched: a taken port must leave it alone. */
    if (server_probe_listen(srv.cfg.listen) != 0) {
        config_free(&srv.cfg);
        return 1;
    }
    if (uv_loop_init(&loop) != 0) {
        fprintf(stderr, "mutuald: cannot create the event loop\n");
        config_free(&srv.cfg);
        return 1;
    }
    srv.loop = &loop;
    int rc = server_run(&srv);
    config_free(&srv.cfg);
    return rc;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("%s\n%s", help_text, usage);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("mutuald %s\n", MUTUAL_VERSION);
            return 0;
        }
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "mutuald: libsodium failed to initialise\n");
        return 1;
    }
    args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.npos == 0 || !strcmp(a.pos[0], "serve"))
        return cmd_serve(&a);
    if (!strcmp(a.pos[0], "audit"))
        return cmd_audit(&a);
    if (!strcmp(a.pos[0], "backup"))
        return cmd_backup(&a);
    if (!strcmp(a.pos[0], "check"))
        return cmd_check(&a);
    if (!strcmp(a.pos[0], "services")) {
        if (a.npos != 3 || strcmp(a.pos[1], "import") != 0)
            return usage_error("%s", "services takes the subcommand import FILE");
        return cmd_services_import(&a);
    }
    if (!strcmp(a.pos[0], "user")) {
        if (a.npos < 2 || strcmp(a.pos[1], "add") != 0)
            return usage_error("%s", "user takes the subcommand add");
        return cmd_user_add(&a);
    }
    return usage_error("unknown command '%s'", a.pos[0]);
}
