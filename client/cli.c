/* mutual: the command-line client. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mutual/client.h"

#define DEFAULT_SERVER "ws://127.0.0.1:7681"
#define TIMEOUT_MS 15000

static const char usage[] =
    "usage: mutual [--server URL] COMMAND [ARGS]\n"
    "commands:\n"
    "  register HANDLE [--role member|family]   create an account and sign in\n"
    "  login HANDLE                              sign in; the session is saved\n"
    "  logout                                    end the saved session\n"
    "  whoami                                    show the saved session's account\n"
    "  ping                                      measure the round trip to the server\n"
    "  help                                      crisis and support resources (no sign-in)\n"
    "The password is asked for without echo, or read from standard input when it is not a\n"
    "terminal. The session lives in $XDG_CONFIG_HOME/mutual/session (mode 0600).\n";

typedef struct {
    char server[512];
    char token[128];
    char handle[64];
} session;

static int session_path(char *out, size_t cap, bool make_dir)
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
    snprintf(out, cap, "%s/session", dir);
    return 0;
}

static int session_load(session *s)
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
    }
    fclose(f);
    return s->token[0] ? 0 : -1;
}

static int session_save(const session *s)
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
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "mutual: cannot save the session: %s\n", strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void session_remove(void)
{
    char path[1100];
    if (session_path(path, sizeof(path), false) == 0)
        unlink(path);
}

static int read_password(const char *prompt, char *buf, size_t cap)
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

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct {
    mu_sync *sync;
    mu_client *c;
    char url[512];
} conn;

static int open_conn(conn *k, const char *url)
{
    char err[256];
    snprintf(k->url, sizeof(k->url), "%s", url);
    k->sync = mu_sync_new();
    if (!k->sync) {
        fprintf(stderr, "mutual: cannot start the client\n");
        return -1;
    }
    mu_client_opts o = {.url = k->url};
    k->c = mu_sync_connect(k->sync, &o, TIMEOUT_MS, err, sizeof(err));
    if (!k->c) {
        fprintf(stderr, "mutual: %s\n", err);
        mu_sync_free(k->sync);
        k->sync = NULL;
        return -1;
    }
    return 0;
}

static void close_conn(conn *k)
{
    if (k->sync)
        mu_sync_free(k->sync);
    k->sync = NULL;
}

/* Sends and returns the reply when it is a success; prints the server's sentence otherwise. */
static mu_msg *call(conn *k, mu_req *r)
{
    mu_msg *m = mu_sync_call(k->sync, k->c, r, TIMEOUT_MS);
    if (!m) {
        fprintf(stderr, "mutual: no reply from the server\n");
        return NULL;
    }
    if (!mu_msg_ok(m)) {
        fprintf(stderr, "mutual: %s (%s)\n", mu_msg_text(m) ? mu_msg_text(m) : "failed",
                mu_msg_code(m) ? mu_msg_code(m) : "?");
        mu_msg_free(m);
        return NULL;
    }
    return m;
}

/* Signs the connection in with the saved session. */
static int resume(conn *k, const session *s)
{
    mu_req *r = mu_req_new("resume");
    mu_req_str(r, "token", s->token);
    mu_msg *m = call(k, r);
    if (!m) {
        fprintf(stderr, "mutual: the saved session is no longer valid; log in again\n");
        return -1;
    }
    mu_msg_free(m);
    return 0;
}

static int signed_in(const char *server, mu_msg *m, const char *verb)
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
    if (session_save(&s) != 0)
        return 1;
    printf("%s as %s (%s)\n", verb, handle, role ? role : "?");
    return 0;
}

static int cmd_auth(const char *server, int argc, char **argv, bool is_register)
{
    const char *handle = NULL, *role = NULL;
    for (int i = 0; i < argc; i++) {
        if (is_register && !strcmp(argv[i], "--role") && i + 1 < argc)
            role = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "mutual: unknown option '%s'\n%s", argv[i], usage);
            return 2;
        } else if (!handle)
            handle = argv[i];
        else {
            fprintf(stderr, "%s", usage);
            return 2;
        }
    }
    if (!handle) {
        fprintf(stderr, "mutual: %s needs a HANDLE\n", is_register ? "register" : "login");
        return 2;
    }
    char pw[512];
    if (read_password("Password: ", pw, sizeof(pw)) != 0) {
        fprintf(stderr, "mutual: no password given\n");
        return 1;
    }
    if (is_register && isatty(STDIN_FILENO)) {
        char again[512];
        if (read_password("Password again: ", again, sizeof(again)) != 0 || strcmp(pw, again)) {
            fprintf(stderr, "mutual: the passwords differ\n");
            return 1;
        }
    }
    conn k = {0};
    if (open_conn(&k, server) != 0)
        return 1;
    mu_req *r = mu_req_new(is_register ? "register" : "login");
    mu_req_str(r, "handle", handle);
    mu_req_str(r, "password", pw);
    if (role)
        mu_req_str(r, "role", role);
    memset(pw, 0, sizeof(pw));
    mu_msg *m = call(&k, r);
    int rc = 1;
    if (m) {
        rc = signed_in(server, m, is_register ? "registered and signed in" : "signed in");
        mu_msg_free(m);
    }
    close_conn(&k);
    return rc;
}

static int cmd_logout(const char *server_opt)
{
    session s;
    if (session_load(&s) != 0) {
        fprintf(stderr, "mutual: not signed in\n");
        return 1;
    }
    conn k = {0};
    if (open_conn(&k, server_opt ? server_opt : s.server) != 0)
        return 1;
    int rc = 1;
    if (resume(&k, &s) == 0) {
        mu_msg *m = call(&k, mu_req_new("logout"));
        if (m) {
            rc = 0;
            mu_msg_free(m);
        }
    }
    close_conn(&k);
    session_remove(); /* a session the server no longer knows is of no use either */
    if (rc == 0)
        printf("signed out\n");
    return rc;
}

static int cmd_whoami(void)
{
    session s;
    if (session_load(&s) != 0) {
        fprintf(stderr, "mutual: not signed in\n");
        return 1;
    }
    printf("%s on %s\n", s.handle, s.server);
    return 0;
}

static int cmd_ping(const char *server)
{
    conn k = {0};
    if (open_conn(&k, server) != 0)
        return 1;
    const char *name = mu_value_get_str(mu_msg_root(mu_client_welcome(k.c)), "server");
    int rc = 1;
    double best = 1e9, sum = 0;
    const int n = 3;
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        mu_msg *m = call(&k, mu_req_new("ping"));
        if (!m)
            goto cleanup;
        double dt = now_ms() - t0;
        sum += dt;
        if (dt < best)
            best = dt;
        mu_msg_free(m);
    }
    printf("pong from %s at %s: round trip %.2f ms (best of %d; mean %.2f ms)\n",
           name ? name : "server", k.url, best, n, sum / n);
    rc = 0;
cleanup:
    close_conn(&k);
    return rc;
}

static int cmd_help(const char *server)
{
    conn k = {0};
    if (open_conn(&k, server) != 0) {
        fprintf(stderr, "If you are in danger now, call your local emergency number.\n");
        return 1;
    }
    int rc = 1;
    mu_msg *m = call(&k, mu_req_new("help"));
    if (m) {
        const mu_value *list = mu_msg_get(m, "resources");
        printf("If you are in danger now, call your local emergency number.\n\n");
        for (size_t i = 0; i < mu_value_len(list); i++) {
            const mu_value *res = mu_value_at(list, i);
            const char *f[5] = {"name", "phone", "url", "hours", "region"};
            printf("%s\n", mu_value_get_str(res, f[0]) ? mu_value_get_str(res, f[0]) : "?");
            for (int j = 1; j < 5; j++)
                if (mu_value_get_str(res, f[j]))
                    printf("  %-7s %s\n", f[j], mu_value_get_str(res, f[j]));
        }
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

int main(int argc, char **argv)
{
    const char *server_opt = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--server") && i + 1 < argc)
            server_opt = argv[++i];
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("%s", usage);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("mutual %s\n", MUTUAL_VERSION);
            return 0;
        } else {
            fprintf(stderr, "mutual: unknown option '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "%s", usage);
        return 2;
    }
    const char *cmd = argv[i++];
    session saved;
    bool have = session_load(&saved) == 0;
    const char *server = server_opt ? server_opt : have ? saved.server : DEFAULT_SERVER;
    if (!strcmp(cmd, "register"))
        return cmd_auth(server, argc - i, argv + i, true);
    if (!strcmp(cmd, "login"))
        return cmd_auth(server, argc - i, argv + i, false);
    if (!strcmp(cmd, "logout"))
        return cmd_logout(server_opt);
    if (!strcmp(cmd, "whoami"))
        return cmd_whoami();
    if (!strcmp(cmd, "ping"))
        return cmd_ping(server);
    if (!strcmp(cmd, "help"))
        return cmd_help(server);
    fprintf(stderr, "mutual: unknown command '%s'\n%s", cmd, usage);
    return 2;
}
