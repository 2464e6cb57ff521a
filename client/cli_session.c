/* The CLI's connection to its server: the saved session file, the password prompt, connect,
 * call and resume. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int session_dir(char *out, size_t cap, bool make_dir)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char dir[1024];
    if (xdg && *xdg)
        snprintf(dir, sizeof(dir), "%s/mutual", xdg);
    else if (home && *home)
        snprintf(dir, sizeof(dir), "%s/.config/mutual", home);
    else
        return -1;
    if (make_dir) {
        char parent[1024];
        snprintf(parent, sizeof(parent), "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash) {
            *slash = 0;
            mkdir(parent, 0700);
        }
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return -1;
    }
    snprintf(out, cap, "%s", dir);
    return 0;
}

static int session_path(char *out, size_t cap, bool make_dir)
{
    char dir[1024];
    if (session_dir(dir, sizeof(dir), make_dir) != 0)
        return -1;
    snprintf(out, cap, "%s/session", dir);
    return 0;
}
int session_load(session *s)
{
    char path[1100];
    memset(s, 0, sizeof(*s));
    if (session_path(path, sizeof(path), false) != 0)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[700];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!strncmp(line, "server=", 7))
            snprintf(s->server, sizeof(s->server), "%s", line + 7);
        else if (!strncmp(line, "token=", 6))
            snprintf(s->token, sizeof(s->token), "%s", line + 6);
        else if (!strncmp(line, "handle=", 7))
            snprintf(s->handle, sizeof(s->handle), "%s", line + 7);
        else if (!strncmp(line, "ca_file=", 8))
            snprintf(s->ca_file, sizeof(s->ca_file), "%s", line + 8);
    }
    fclose(f);
    return s->token[0] ? 0 : -1;
}

int session_save(const session *s)
{
    char path[1100], tmp[1200];
    if (session_path(path, sizeof(path), true) != 0) {
        fprintf(stderr, "mutual: cannot find a configuration directory (set HOME)\n");
        return -1;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    umask(077);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "mutual: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    chmod(tmp, 0600);
    fprintf(f, "server=%s\nhandle=%s\ntoken=%s\n", s->server, s->handle, s->token);
    if (s->ca_file[0])
        fprintf(f, "ca_file=%s\n", s->ca_file);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "mutual: cannot save the session: %s\n", strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

void session_remove(void)
{
    char path[1100];
    if (session_path(path, sizeof(path), false) == 0)
        unlink(path);
}

bool cli_ask(const char *question, char *buf, size_t cap)
{
    printf("%s ", question);
    fflush(stdout);
    if (!fgets(buf, (int)cap, stdin)) {
        printf("\n");
        return false;
    }
    buf[strcspn(buf, "\r\n")] = 0;
    if (!isatty(STDIN_FILENO))
        printf("%s\n", buf);
    return true;
}

bool cli_blank(const char *s)
{
    return s[strspn(s, " \t")] == 0;
}

int read_password(const char *prompt, char *buf, size_t cap)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(buf, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (!got)
        return -1;
    buf[strcspn(buf, "\r\n")] = 0;
    return 0;
}

double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char ca_file[512]; /* cli_set_ca_file; "" for the system's */

int cli_set_ca_file(const char *path)
{
    char abs[PATH_MAX];
    if (access(path, R_OK) != 0 || !realpath(path, abs)) {
        fprintf(stderr, "mutual: cannot read the CA file %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (strlen(abs) >= sizeof(ca_file)) {
        fprintf(stderr, "mutual: the CA file's path is too long: %s\n", abs);
        return -1;
    }
    snprintf(ca_file, sizeof(ca_file), "%s", abs);
    return 0;
}

int open_conn(conn *k, const char *url)
{
    char err[256];
    snprintf(k->url, sizeof(k->url), "%s", url);
    k->sync = mu_sync_new();
    if (!k->sync) {
        fprintf(stderr, "mutual: cannot start the client\n");
        return -1;
    }
    mu_client_opts o = {.url = k->url, .ca_file = ca_file[0] ? ca_file : NULL};
    k->c = mu_sync_connect(k->sync, &o, CLI_TIMEOUT_MS, err, sizeof(err));
    if (!k->c) {
        fprintf(stderr, "mutual: %s\n", err);
        if (!ca_file[0] && !strncmp(url, "wss://", 6) && strstr(err, "TLS handshake failed"))
            fprintf(stderr, "mutual: if the server's certificate comes from a private "
                            "authority, pass it with --ca-file PEM\n");
        mu_sync_free(k->sync);
        k->sync = NULL;
        return -1;
    }
    return 0;
}

void close_conn(conn *k)
{
    if (k->sync)
        mu_sync_free(k->sync);
    k->sync = NULL;
}

void error_text(const mu_msg *m, char *out, size_t cap)
{
    const char *code = mu_msg_code(m) ? mu_msg_code(m) : "?";
    int64_t after = mu_value_get_int(mu_msg_root(m), "retry_after", -1);
    int n = snprintf(out, cap, "%s (%s)", mu_msg_text(m) ? mu_msg_text(m) : "failed", code);
    if (!strcmp(code, "rate_limited") && after >= 0 && n >= 0 && (size_t)n < cap) {
        long long s = after > 0 ? after : 1;
        /* a long wait in whole minutes, rounded up: "15 minutes", not "896 s" */
        if (s < 90)
            snprintf(out + n, cap - (size_t)n, "; try again in %lld s", s);
        else
            snprintf(out + n, cap - (size_t)n, "; try again in %lld minutes", (s + 59) / 60);
    }
}

void cli_print_error(const mu_msg *m)
{
    char text[600];
    error_text(m, text, sizeof(text));
    fprintf(stderr, "mutual: %s\n", text);
}

/* Sends and returns the reply when it is a success; prints the server's sentence otherwise. */
mu_msg *call(conn *k, mu_req *r)
{
    mu_msg *m = mu_sync_call(k->sync, k->c, r, CLI_TIMEOUT_MS);
    if (!m) {
        fprintf(stderr, "mutual: no reply from the server\n");
        return NULL;
    }
    if (!mu_msg_ok(m)) {
        cli_print_error(m);
        mu_msg_free(m);
        return NULL;
    }
    return m;
}

/* Signs the connection in with the saved session. */
int resume(conn *k, session *s)
{
    mu_req *r = mu_req_new(MU_OPNAME_RESUME);
    mu_req_str(r, "token", s->token);
    mu_msg *m = call(k, r);
    if (!m) {
        fprintf(stderr, "mutual: the saved session is no longer valid; log in again\n");
        return -1;
    }
    const char *role = mu_value_get_str(mu_msg_get(m, "user"), "role");
    snprintf(s->role, sizeof(s->role), "%s", role ? role : "");
    mu_msg_free(m);
    return 0;
}

int signed_in(const char *server, mu_msg *m, const char *verb)
{
    session s;
    memset(&s, 0, sizeof(s));
    const mu_value *user = mu_msg_get(m, "user");
    const char *handle = mu_value_get_str(user, "handle");
    const char *role = mu_value_get_str(user, "role");
    const char *token = mu_value_get_str(mu_msg_root(m), "token");
    if (!handle || !token) {
        fprintf(stderr, "mutual: the server's reply has no session\n");
        return 1;
    }
    snprintf(s.server, sizeof(s.server), "%s", server);
    snprintf(s.handle, sizeof(s.handle), "%s", handle);
    snprintf(s.token, sizeof(s.token), "%s", token);
    snprintf(s.ca_file, sizeof(s.ca_file), "%s", ca_file);
    if (session_save(&s) != 0)
        return 1;
    printf("%s as %s (%s)\n", verb, handle, role ? role : "?");
    return 0;
}
int open_session(conn *k, const char *server_opt, session *s)
{
    if (session_load(s) != 0) {
        fprintf(stderr, "mutual: not signed in; use 'mutual login HANDLE' first\n");
        return -1;
    }
    if (open_conn(k, server_opt ? server_opt : s->server) != 0)
        return -1;
    if (resume(k, s) != 0) {
        close_conn(k);
        return -1;
    }
    return 0;
}

void print_time(int64_t ts_ms)
{
    time_t t = (time_t)(ts_ms / 1000);
    struct tm tm;
    char buf[32];
    localtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
    printf("%s", buf);
}

int simple_call(const char *server_opt, mu_req *r, const char *ok_text)
{
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0) {
        mu_req_free(r);
        return 1;
    }
    mu_msg *m = call(&k, r);
    if (m)
        printf("%s\n", ok_text);
    int rc = m ? 0 : 1;
    mu_msg_free(m);
    close_conn(&k);
    return rc;
}
