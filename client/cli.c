/* mutual: the command-line client. */
#include <errno.h>
#include <msgpack.h>
#include <strings.h>
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
    "  dm HANDLE [TEXT]                          send TEXT, or open the conversation\n"
    "  inbox                                     your conversations and what is unread\n"
    "  mentees                                   your caseload (mentors)\n"
    "  assign MENTOR USER | unassign USER        change who mentors whom (admins)\n"
    "  checkin [--mood N --craving N --sleep N --use U --stage S --who5 a,b,c,d,e\n"
    "          --barc10 a,..,j --trigger T --note TEXT --tz MINUTES]\n"
    "                                            today's check-in; asks in plain words\n"
    "                                            when --mood is not given\n"
    "  checkins [--days N]                       your check-ins, with mood/craving trends\n"
    "  summary [--days N]                        streaks, averages, missed days\n"
    "  consent none|alerts|scores                what your mentor may see\n"
    "  alerts [--all] | ack ID                   alerts about your mentees (mentors)\n"
    "  rooms                                     meetings you may join\n"
    "  room create SLUG --name N --audience open|recovery|carers|mentors [--format F]\n"
    "       [--capacity N] [--persistent] [--slot 'DAY HH:MM[-HH:MM] [Area/City]']...\n"
    "  room open|close|delete SLUG               facilitators (delete: admins)\n"
    "  join ROOM                                 take part; type to speak, /help for more\n"
    "  export                                    everything stored about you, as JSON\n"
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

/* Connects to the saved session's server (or --server) and signs in with its token. */
static int open_session(conn *k, const char *server_opt, session *s)
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

static void print_time(int64_t ts_ms)
{
    time_t t = (time_t)(ts_ms / 1000);
    struct tm tm;
    char buf[32];
    localtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
    printf("%s", buf);
}

static void print_dm(const mu_value *m)
{
    printf("[");
    print_time(mu_value_get_int(m, "ts", 0));
    printf("] %s: %s\n", mu_value_get_str(m, "from") ? mu_value_get_str(m, "from") : "?",
           mu_value_get_str(m, "text") ? mu_value_get_str(m, "text") : "");
}

/* Marks what was shown as read. */
static void ack_upto(conn *k, const char *with, int64_t up_to)
{
    if (up_to <= 0)
        return;
    mu_req *r = mu_req_new("dm.ack");
    mu_req_str(r, "with", with);
    mu_req_int(r, "up_to", up_to);
    mu_msg *m = call(k, r);
    mu_msg_free(m);
}

/* Standard input as lines, on the loop, for the interactive modes: a terminal or a pipe is
 * read as it comes; a file is read whole at the start. */
typedef void (*line_fn)(void *ud, char *line);

typedef struct {
    union {
        uv_handle_t h;
        uv_stream_t s;
        uv_tty_t tty;
        uv_pipe_t pipe;
    } in;
    char line[8192];
    size_t len;
    bool eof, reading;
    line_fn on_line;
    void *ud;
} line_reader;

static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *buf)
{
    static char chunk[4096];
    (void)h;
    (void)want;
    *buf = uv_buf_init(chunk, sizeof(chunk));
}

static void reader_line(line_reader *lr)
{
    lr->line[lr->len] = 0;
    lr->len = 0;
    if (lr->line[0])
        lr->on_line(lr->ud, lr->line);
}

static void on_stdin(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    line_reader *lr = st->data;
    if (n < 0) {
        if (lr->len)
            reader_line(lr);
        lr->eof = true;
        uv_read_stop(st);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        char ch = buf->base[i];
        if (ch == '\n')
            reader_line(lr);
        else if (ch != '\r' && lr->len < sizeof(lr->line) - 1)
            lr->line[lr->len++] = ch;
    }
}

static void reader_start(line_reader *lr, uv_loop_t *loop, line_fn fn, void *ud)
{
    lr->on_line = fn;
    lr->ud = ud;
    lr->len = 0;
    uv_handle_type kind = uv_guess_handle(0);
    if (kind == UV_TTY) {
        uv_tty_init(loop, &lr->in.tty, 0, 1);
    } else if (kind == UV_NAMED_PIPE || kind == UV_TCP) {
        uv_pipe_init(loop, &lr->in.pipe, 0);
        uv_pipe_open(&lr->in.pipe, 0);
    } else {
        uv_pipe_init(loop, &lr->in.pipe, 0);
        while (!lr->eof && fgets(lr->line, sizeof(lr->line), stdin)) {
            lr->line[strcspn(lr->line, "\r\n")] = 0;
            lr->len = strlen(lr->line);
            reader_line(lr);
        }
        lr->eof = true;
    }
    lr->in.h.data = lr;
    lr->reading = !lr->eof;
    if (lr->reading)
        uv_read_start(&lr->in.s, on_alloc, on_stdin);
}

static void reader_stop(line_reader *lr)
{
    if (lr->reading && !lr->eof)
        uv_read_stop(&lr->in.s);
    uv_close(&lr->in.h, NULL);
}

typedef struct {
    conn *k;
    const char *with;
} dm_session;

static void send_line(void *ud, char *line)
{
    dm_session *d = ud;
    mu_req *r = mu_req_new("dm.send");
    mu_req_str(r, "to", d->with);
    mu_req_str(r, "text", line);
    mu_client_send(d->k->c, r, NULL, NULL); /* replies and errors arrive as events below */
}

static int dm_interactive(conn *k, const char *with)
{
    mu_req *r = mu_req_new("dm.history");
    mu_req_str(r, "with", with);
    mu_req_int(r, "limit", 20);
    mu_msg *m = call(k, r);
    if (!m)
        return 1;
    const mu_value *msgs = mu_msg_get(m, "messages");
    int64_t last_in = 0;
    for (size_t i = 0; i < mu_value_len(msgs); i++) {
        const mu_value *one = mu_value_at(msgs, i);
        print_dm(one);
        if (mu_value_get_str(one, "from") && !strcmp(mu_value_get_str(one, "from"), with))
            last_in = mu_value_get_int(one, "id", 0);
    }
    mu_msg_free(m);
    ack_upto(k, with, last_in);
    printf("-- talking with %s; type a line to send it, Ctrl-D to leave --\n", with);
    fflush(stdout);

    dm_session d = {.k = k, .with = with};
    line_reader lr = {0};
    reader_start(&lr, mu_sync_loop(k->sync), send_line, &d);
    int rc = 0;
    while (!lr.eof || mu_sync_pending(k->c)) {
        mu_msg *ev = mu_sync_event(k->sync, k->c, 200);
        if (!ev) {
            if (!mu_client_is_open(k->c)) {
                fprintf(stderr, "mutual: the connection closed\n");
                rc = 1;
                break;
            }
            continue;
        }
        const char *op = mu_msg_op(ev);
        if (!strcmp(op, "dm.msg")) {
            const char *from = mu_value_get_str(mu_msg_root(ev), "from");
            const char *to = mu_value_get_str(mu_msg_root(ev), "to");
            bool in_thread = (from && !strcmp(from, with)) || (to && !strcmp(to, with));
            if (in_thread) {
                print_dm(mu_msg_root(ev));
                if (from && !strcmp(from, with))
                    ack_upto(k, with, mu_value_get_int(mu_msg_root(ev), "id", 0));
            }
        } else if (!strcmp(op, "dm.read")) {
            if (mu_value_get_str(mu_msg_root(ev), "with") &&
                !strcmp(mu_value_get_str(mu_msg_root(ev), "with"), with))
                printf("   (%s has read up to here)\n", with);
        } else if (!strcmp(op, "reply") && !mu_msg_ok(ev)) {
            fprintf(stderr, "mutual: %s (%s)\n", mu_msg_text(ev) ? mu_msg_text(ev) : "failed",
                    mu_msg_code(ev) ? mu_msg_code(ev) : "?");
        }
        fflush(stdout);
        mu_msg_free(ev);
    }
    reader_stop(&lr);
    mu_sync_run(k->sync, 50); /* let the last sends get their replies */
    return rc;
}

static int cmd_dm(const char *server_opt, int argc, char **argv)
{
    if (argc < 1 || argc > 2) {
        fprintf(stderr, "mutual: usage: mutual dm HANDLE [TEXT]\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0)
        return 1;
    int rc = 1;
    if (argc == 2) {
        mu_req *r = mu_req_new("dm.send");
        mu_req_str(r, "to", argv[0]);
        mu_req_str(r, "text", argv[1]);
        mu_msg *m = call(&k, r);
        if (m) {
            printf("sent to %s (message %lld)\n", argv[0],
                   (long long)mu_value_get_int(mu_msg_root(m), "id", 0));
            mu_msg_free(m);
            rc = 0;
        }
    } else {
        rc = dm_interactive(&k, argv[0]);
    }
    close_conn(&k);
    return rc;
}

static int cmd_inbox(const char *server_opt)
{
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0)
        return 1;
    int rc = 1;
    mu_msg *m = call(&k, mu_req_new("dm.inbox"));
    if (m) {
        const mu_value *th = mu_msg_get(m, "threads");
        if (!mu_value_len(th))
            printf("no conversations yet\n");
        for (size_t i = 0; i < mu_value_len(th); i++) {
            const mu_value *t = mu_value_at(th, i), *last = mu_value_get(t, "last");
            printf("%-20s %3lld unread", mu_value_get_str(t, "with"),
                   (long long)mu_value_get_int(t, "unread", 0));
            if (mu_value_type(last) == MU_V_MAP) {
                printf("   last: ");
                print_time(mu_value_get_int(last, "ts", 0));
                printf(" %s: %.60s", mu_value_get_str(last, "from"),
                       mu_value_get_str(last, "text"));
            }
            printf("\n");
        }
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

static int cmd_mentees(const char *server_opt)
{
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0)
        return 1;
    int rc = 1;
    mu_msg *m = call(&k, mu_req_new("mentees.list"));
    if (m) {
        const mu_value *list = mu_msg_get(m, "mentees");
        printf("%-20s %-7s %-7s %-12s %s\n", "HANDLE", "ROLE", "SHARES", "LAST CHECK-IN",
               "OPEN ALERTS");
        for (size_t i = 0; i < mu_value_len(list); i++) {
            const mu_value *e = mu_value_at(list, i);
            const char *last = mu_value_get_str(e, "last_checkin");
            printf("%-20s %-7s %-7s %-12s %lld\n", mu_value_get_str(e, "handle"),
                   mu_value_get_str(e, "role"), mu_value_get_str(e, "share"), last ? last : "-",
                   (long long)mu_value_get_int(e, "open_alerts", 0));
        }
        printf("%zu on the caseload\n", mu_value_len(list));
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

static int cmd_assign(const char *server_opt, int argc, char **argv, bool unassign)
{
    if (argc != (unassign ? 1 : 2)) {
        fprintf(stderr, "mutual: usage: mutual %s\n",
                unassign ? "unassign USER" : "assign MENTOR USER");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0)
        return 1;
    mu_req *r = mu_req_new(unassign ? "mentor.unassign" : "mentor.assign");
    if (unassign) {
        mu_req_str(r, "user", argv[0]);
    } else {
        mu_req_str(r, "mentor", argv[0]);
        mu_req_str(r, "user", argv[1]);
    }
    mu_msg *m = call(&k, r);
    int rc = m ? 0 : 1;
    if (m) {
        if (unassign)
            printf("%s has no mentor now\n", argv[0]);
        else
            printf("%s now mentors %s\n", argv[0], argv[1]);
    }
    mu_msg_free(m);
    close_conn(&k);
    return rc;
}

static int local_tz_minutes(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return (int)(tm.tm_gmtoff / 60);
}

static int parse_list(const char *s, int64_t *out, int max)
{
    int n = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    for (char *tok = strtok(buf, ", "); tok && n < max + 1; tok = strtok(NULL, ", "))
        out[n++] = strtoll(tok, NULL, 10);
    return n;
}

/* One question in plain words; an empty answer skips an optional one. */
static bool ask(const char *question, char *answer, size_t cap)
{
    if (isatty(STDIN_FILENO)) {
        printf("%s ", question);
        fflush(stdout);
    }
    if (!fgets(answer, (int)cap, stdin))
        return false;
    answer[strcspn(answer, "\r\n")] = 0;
    return answer[0] != 0;
}

static int cmd_checkin(const char *server_opt, int argc, char **argv)
{
    mu_req *r = mu_req_new("checkin.submit");
    int tz = local_tz_minutes();
    bool have_mood = false;
    const char *triggers[10];
    char trigger_text[10][64]; /* answers typed at the prompt */
    int ntrig = 0;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "mutual: %s needs a value\n", o);
            mu_req_free(r);
            return 2;
        }
        i++;
        if (!strcmp(o, "--tz"))
            tz = atoi(v);
        else if (!strcmp(o, "--mood")) {
            mu_req_int(r, "mood", atoi(v));
            have_mood = true;
        } else if (!strcmp(o, "--craving") || !strcmp(o, "--sleep"))
            mu_req_int(r, o + 2, atoi(v));
        else if (!strcmp(o, "--use") || !strcmp(o, "--stage") || !strcmp(o, "--note"))
            mu_req_str(r, o + 2, v);
        else if (!strcmp(o, "--who5") || !strcmp(o, "--barc10")) {
            int64_t items[12];
            int n = parse_list(v, items, 10);
            mu_req_ints(r, o + 2, items, (size_t)n);
        } else if (!strcmp(o, "--trigger") && ntrig < 10)
            triggers[ntrig++] = v;
        else {
            fprintf(stderr, "mutual: unknown option '%s'\n", o);
            mu_req_free(r);
            return 2;
        }
    }
    char a[2100];
    if (!have_mood) {
        printf("Daily check-in. Leave a question blank to skip it (all but mood).\n");
        while (!ask("How is your mood today, from 0 (very low) to 10 (very good)?", a, sizeof(a))) {
            if (feof(stdin)) {
                mu_req_free(r);
                return 1;
            }
        }
        mu_req_int(r, "mood", atoi(a));
        if (ask("How strong are cravings today, 0 (none) to 10 (overwhelming)?", a, sizeof(a)))
            mu_req_int(r, "craving", atoi(a));
        if (ask("How well did you sleep, 0 (not at all) to 10 (very well)?", a, sizeof(a)))
            mu_req_int(r, "sleep", atoi(a));
        if (ask("Any use today? none, as_planned, or more_than_planned:", a, sizeof(a)))
            mu_req_str(r, "use", a);
        if (ask("Where are you on your path (precontemplation, contemplation, preparation, "
                "action, maintenance, relapse)?", a, sizeof(a)))
            mu_req_str(r, "stage", a);
        if (ask("WHO-5: five scores 0-5, separated by commas (blank to skip):", a, sizeof(a))) {
            int64_t items[12];
            int n = parse_list(a, items, 10);
            mu_req_ints(r, "who5", items, (size_t)n);
        }
        if (ask("Anything that set you off today? (comma separated, blank for none)", a,
                sizeof(a))) {
            char *save = NULL;
            for (char *t = strtok_r(a, ",", &save); t && ntrig < 10; t = strtok_r(NULL, ",", &save)) {
                while (*t == ' ')
                    t++;
                if (*t) {
                    snprintf(trigger_text[ntrig], sizeof(trigger_text[0]), "%s", t);
                    triggers[ntrig] = trigger_text[ntrig];
                    ntrig++;
                }
            }
        }
        char note[2100];
        if (ask("A private note, only ever shown to you (blank for none):", note, sizeof(note)))
            mu_req_str(r, "note", note);
    }
    if (ntrig)
        mu_req_strs(r, "triggers", triggers, (size_t)ntrig);
    mu_req_int(r, "tz", tz);
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0) {
        mu_req_free(r);
        return 1;
    }
    mu_msg *m = call(&k, r);
    int rc = 1;
    if (m) {
        const mu_value *v = mu_msg_root(m);
        printf("checked in for %s; streak %lld day%s", mu_value_get_str(v, "date"),
               (long long)mu_value_get_int(v, "streak", 0),
               mu_value_get_int(v, "streak", 0) == 1 ? "" : "s");
        if (mu_value_get(v, "who5_pct"))
            printf("; WHO-5 %lld%%", (long long)mu_value_get_int(v, "who5_pct", 0));
        if (mu_value_get(v, "barc10_total"))
            printf("; BARC-10 %lld", (long long)mu_value_get_int(v, "barc10_total", 0));
        printf("\n");
        const mu_value *flags = mu_msg_get(m, "flags");
        if (mu_value_len(flags)) {
            printf("today looks hard (");
            for (size_t i = 0; i < mu_value_len(flags); i++)
                printf("%s%s", i ? ", " : "", mu_value_str(mu_value_at(flags, i)));
            printf("). You are not alone: 'mutual help' lists people to talk to now.\n");
        }
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

static int days_opt(int argc, char **argv, int def)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--days"))
            return atoi(argv[i + 1]);
    return def;
}

static const char *spark(int64_t v)
{
    static const char *const bars[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                       "\u2585", "\u2586", "\u2587", "\u2588"};
    if (v < 0)
        return " ";
    return bars[v * 7 / 10];
}

static int cmd_checkins(const char *server_opt, int argc, char **argv)
{
    int days = days_opt(argc, argv, 14);
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0)
        return 1;
    time_t now = time(NULL) - (time_t)(days - 1) * 86400;
    struct tm tm;
    localtime_r(&now, &tm);
    char from[16];
    strftime(from, sizeof(from), "%Y-%m-%d", &tm);
    mu_req *r = mu_req_new("checkin.list");
    mu_req_str(r, "from", from);
    mu_msg *m = call(&k, r);
    int rc = 1;
    if (m) {
        const mu_value *list = mu_msg_get(m, "checkins");
        printf("%-10s %4s %7s %5s  %-17s %s\n", "DATE", "MOOD", "CRAVING", "SLEEP", "USE",
               "FLAGS");
        char mood_line[512] = "", crav_line[512] = "";
        for (size_t i = 0; i < mu_value_len(list); i++) {
            const mu_value *c = mu_value_at(list, i);
            int64_t cr = mu_value_get_int(c, "craving", -1), sl = mu_value_get_int(c, "sleep", -1);
            char crs[8] = "-", sls[8] = "-";
            if (cr >= 0)
                snprintf(crs, sizeof(crs), "%lld", (long long)cr);
            if (sl >= 0)
                snprintf(sls, sizeof(sls), "%lld", (long long)sl);
            printf("%-10s %4lld %7s %5s  %-17s", mu_value_get_str(c, "date"),
                   (long long)mu_value_get_int(c, "mood", 0), crs, sls,
                   mu_value_get_str(c, "use") ? mu_value_get_str(c, "use") : "-");
            const mu_value *fl = mu_value_get(c, "flags");
            for (size_t j = 0; j < mu_value_len(fl); j++)
                printf(" %s", mu_value_str(mu_value_at(fl, j)));
            printf("\n");
            strncat(mood_line, spark(mu_value_get_int(c, "mood", -1)),
                    sizeof(mood_line) - strlen(mood_line) - 1);
            strncat(crav_line, spark(cr), sizeof(crav_line) - strlen(crav_line) - 1);
        }
        printf("mood    %s\ncraving %s\n%zu check-ins in the last %d days\n", mood_line,
               crav_line, mu_value_len(list), days);
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

static int cmd_summary(const char *server_opt, int argc, char **argv)
{
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0)
        return 1;
    mu_req *r = mu_req_new("checkin.summary");
    mu_req_int(r, "days", days_opt(argc, argv, 30));
    mu_msg *m = call(&k, r);
    int rc = 1;
    if (m) {
        char *json = mu_value_to_json(mu_msg_root(m), 0);
        const mu_value *v = mu_msg_root(m);
        printf("last %lld days: %lld check-ins, %lld missed\n", (long long)mu_value_get_int(v, "days", 0),
               (long long)mu_value_get_int(v, "count", 0), (long long)mu_value_get_int(v, "missed", 0));
        printf("streak %lld days (best %lld)\n", (long long)mu_value_get_int(v, "streak", 0),
               (long long)mu_value_get_int(v, "best_streak", 0));
        char *avg = strstr(json, "\"mood_avg\":");
        if (avg)
            printf("mood average %.4s\n", avg + 11);
        avg = strstr(json, "\"craving_avg\":");
        if (avg)
            printf("craving average %.4s\n", avg + 14);
        if (mu_value_get_int(v, "who5_last", -1) >= 0)
            printf("latest WHO-5 %lld%%\n", (long long)mu_value_get_int(v, "who5_last", 0));
        if (mu_value_get_int(v, "barc10_last", -1) >= 0)
            printf("latest BARC-10 %lld\n", (long long)mu_value_get_int(v, "barc10_last", 0));
        free(json);
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

static int simple_call(const char *server_opt, mu_req *r, const char *ok_text)
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

static int cmd_alerts(const char *server_opt, int argc, char **argv)
{
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0)
        return 1;
    mu_req *r = mu_req_new("alerts.list");
    if (argc > 0 && !strcmp(argv[0], "--all"))
        mu_req_bool(r, "open", false);
    mu_msg *m = call(&k, r);
    int rc = 1;
    if (m) {
        const mu_value *list = mu_msg_get(m, "alerts");
        if (!mu_value_len(list))
            printf("no open alerts\n");
        for (size_t i = 0; i < mu_value_len(list); i++) {
            const mu_value *a = mu_value_at(list, i);
            bool open = true;
            mu_value_bool(mu_value_get(a, "open"), &open);
            printf("#%-5lld ", (long long)mu_value_get_int(a, "id", 0));
            print_time(mu_value_get_int(a, "ts", 0));
            printf(" %-16s %-16s %s%s\n", mu_value_get_str(a, "handle"), mu_value_get_str(a, "kind"),
                   mu_value_get_str(a, "detail"), open ? "" : " (closed)");
        }
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

static void print_room_line(const mu_value *r)
{
    bool open = false;
    mu_value_bool(mu_value_get(r, "is_open"), &open);
    printf("%-20s %-8s %-9s %-4s %3lld here  %s", mu_value_get_str(r, "room"),
           mu_value_get_str(r, "format"), mu_value_get_str(r, "audience"), open ? "OPEN" : "-",
           (long long)mu_value_get_int(r, "present", 0), mu_value_get_str(r, "name"));
    const mu_value *sched = mu_value_get(r, "schedule");
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    for (size_t i = 0; i < mu_value_len(sched); i++) {
        const mu_value *slot = mu_value_at(sched, i);
        int64_t d = mu_value_get_int(slot, "day", 0);
        printf("%s%s %s", i ? ", " : "  [", days[d % 7], mu_value_get_str(slot, "time"));
        if (mu_value_get_str(slot, "end_time"))
            printf("-%s", mu_value_get_str(slot, "end_time"));
        if (mu_value_get_str(slot, "timezone"))
            printf(" %s", mu_value_get_str(slot, "timezone"));
    }
    printf("%s\n", mu_value_len(sched) ? "]" : "");
}

static int cmd_rooms(const char *server_opt)
{
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0)
        return 1;
    mu_msg *m = call(&k, mu_req_new("rooms.list"));
    int rc = 1;
    if (m) {
        const mu_value *list = mu_msg_get(m, "rooms");
        if (!mu_value_len(list))
            printf("no rooms yet\n");
        for (size_t i = 0; i < mu_value_len(list); i++)
            print_room_line(mu_value_at(list, i));
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

/* "Tue 19:00-20:30 Europe/London" as a schedule slot. */
static int pack_slot(msgpack_packer *pk, const char *text)
{
    static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    char day[8] = "", time_s[16] = "", tz[64] = "";
    if (sscanf(text, "%7s %15s %63s", day, time_s, tz) < 2)
        return -1;
    int d = -1;
    for (int i = 0; i < 7; i++)
        if (!strncasecmp(day, days[i], 3))
            d = i;
    if (d < 0)
        return -1;
    char *dash = strchr(time_s, '-');
    if (dash)
        *dash++ = 0;
    msgpack_pack_map(pk, 2 + (dash != NULL) + (tz[0] != 0));
    msgpack_pack_str(pk, 3);
    msgpack_pack_str_body(pk, "day", 3);
    msgpack_pack_int(pk, d);
    const char *keys[3] = {"time", "end_time", "timezone"}, *vals[3] = {time_s, dash, tz};
    for (int i = 0; i < 3; i++) {
        if (!vals[i] || !vals[i][0])
            continue;
        msgpack_pack_str(pk, strlen(keys[i]));
        msgpack_pack_str_body(pk, keys[i], strlen(keys[i]));
        msgpack_pack_str(pk, strlen(vals[i]));
        msgpack_pack_str_body(pk, vals[i], strlen(vals[i]));
    }
    return 0;
}

static int cmd_room(const char *server_opt, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "%s", usage);
        return 2;
    }
    const char *verb = argv[0], *slug = argv[1];
    mu_req *r;
    if (!strcmp(verb, "create")) {
        r = mu_req_new("room.create");
        mu_req_str(r, "room", slug);
        const char *slots[14];
        int nslots = 0;
        for (int i = 2; i < argc; i++) {
            const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
            if (!strcmp(o, "--persistent")) {
                mu_req_bool(r, "persistent", true);
                continue;
            }
            if (!v) {
                fprintf(stderr, "mutual: %s needs a value\n", o);
                mu_req_free(r);
                return 2;
            }
            i++;
            if (!strcmp(o, "--name") || !strcmp(o, "--audience") || !strcmp(o, "--format"))
                mu_req_str(r, o + 2, v);
            else if (!strcmp(o, "--capacity"))
                mu_req_int(r, "capacity", atoi(v));
            else if (!strcmp(o, "--slot") && nslots < 14)
                slots[nslots++] = v;
            else {
                fprintf(stderr, "mutual: unknown option '%s'\n", o);
                mu_req_free(r);
                return 2;
            }
        }
        if (nslots) {
            msgpack_sbuffer sb;
            msgpack_sbuffer_init(&sb);
            msgpack_packer pk;
            msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
            msgpack_pack_array(&pk, (size_t)nslots);
            for (int i = 0; i < nslots; i++)
                if (pack_slot(&pk, slots[i]) != 0) {
                    fprintf(stderr, "mutual: a slot is 'DAY HH:MM[-HH:MM] [Area/City]', not '%s'\n",
                            slots[i]);
                    msgpack_sbuffer_destroy(&sb);
                    mu_req_free(r);
                    return 2;
                }
            mu_req_raw(r, "schedule", sb.data, sb.size);
            msgpack_sbuffer_destroy(&sb);
        }
    } else if (!strcmp(verb, "open") || !strcmp(verb, "close") || !strcmp(verb, "delete")) {
        char op[32];
        snprintf(op, sizeof(op), "room.%s", verb);
        r = mu_req_new(op);
        mu_req_str(r, "room", slug);
    } else {
        fprintf(stderr, "mutual: room takes create, open, close or delete\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0) {
        mu_req_free(r);
        return 1;
    }
    mu_msg *m = call(&k, r);
    int rc = m ? 0 : 1;
    if (m && mu_msg_get(m, "room"))
        print_room_line(mu_msg_get(m, "room"));
    else if (m)
        printf("room %s: %s done\n", slug, verb);
    mu_msg_free(m);
    close_conn(&k);
    return rc;
}

/* ---- the meeting, interactively ------------------------------------------------------- */

typedef struct {
    conn *k;
    const char *room;
    bool left;
    int64_t last_seq;
    char who[256][40];
    int nwho;
} meeting;

static void who_set(meeting *mt, const char *h, bool in)
{
    for (int i = 0; i < mt->nwho; i++)
        if (!strcmp(mt->who[i], h)) {
            if (!in)
                memmove(mt->who[i], mt->who[i + 1], (size_t)(--mt->nwho - i) * sizeof(mt->who[0]));
            return;
        }
    if (in && mt->nwho < 256)
        snprintf(mt->who[mt->nwho++], sizeof(mt->who[0]), "%s", h);
}

static void show_msg(meeting *mt, const mu_value *m)
{
    int64_t seq = mu_value_get_int(m, "seq", 0);
    if (seq <= mt->last_seq)
        return; /* already shown before a reconnect */
    mt->last_seq = seq;
    printf("[");
    print_time(mu_value_get_int(m, "ts", 0));
    printf("] %s: %s\n", mu_value_get_str(m, "from"), mu_value_get_str(m, "text"));
}

static void show_state(const mu_value *st)
{
    bool b;
    printf("   -- ");
    if (mu_value_bool(mu_value_get(st, "is_open"), &b))
        printf("%s", b ? "open" : "closed");
    if (mu_value_bool(mu_value_get(st, "locked"), &b) && b)
        printf(", locked");
    if (mu_value_bool(mu_value_get(st, "lobby"), &b) && b)
        printf(", lobby on");
    if (mu_value_bool(mu_value_get(st, "floor_mode"), &b) && b)
        printf(", floor mode");
    if (mu_value_get_str(st, "floor"))
        printf(", %s has the floor", mu_value_get_str(st, "floor"));
    const mu_value *hands = mu_value_get(st, "hands");
    if (mu_value_len(hands)) {
        printf(", hands:");
        for (size_t i = 0; i < mu_value_len(hands); i++)
            printf(" %s", mu_value_str(mu_value_at(hands, i)));
    }
    printf(" --\n");
}

static void joined(meeting *mt, const mu_msg *m, bool resumed)
{
    mt->nwho = 0;
    const mu_value *mem = mu_msg_get(m, "members");
    for (size_t i = 0; i < mu_value_len(mem); i++)
        who_set(mt, mu_value_get_str(mu_value_at(mem, i), "handle"), true);
    const mu_value *h = mu_msg_get(m, "history");
    for (size_t i = 0; i < mu_value_len(h); i++)
        show_msg(mt, mu_value_at(h, i));
    bool rec = true;
    if (resumed && mu_value_bool(mu_msg_get(m, "recovered"), &rec))
        printf(rec ? "   -- back; nothing was missed --\n"
                   : "   -- back; some messages were missed while away --\n");
    show_state(mu_msg_get(m, "state"));
}

static void room_cmd(meeting *mt, const char *op, const char *handle, const char *key, int on)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "room", mt->room);
    if (handle)
        mu_req_str(r, "handle", handle);
    if (key)
        mu_req_bool(r, key, on);
    mu_client_send(mt->k->c, r, NULL, NULL);
}

static void meeting_line(void *ud, char *l)
{
    meeting *mt = ud;
    if (l[0] != '/') {
        mu_req *r = mu_req_new("room.say");
        mu_req_str(r, "room", mt->room);
        mu_req_str(r, "text", l);
        mu_client_send(mt->k->c, r, NULL, NULL);
        return;
    }
    char cmd[32] = "", a1[64] = "", a2[64] = "";
    sscanf(l, "/%31s %63s %63s", cmd, a1, a2);
    const char *h = a1[0] ? a1 : NULL;
    if (!strcmp(cmd, "hand")) room_cmd(mt, "hand.raise", NULL, NULL, 0);
    else if (!strcmp(cmd, "lower")) room_cmd(mt, "hand.lower", NULL, NULL, 0);
    else if (!strcmp(cmd, "who")) {
        printf("   -- here:");
        for (int i = 0; i < mt->nwho; i++)
            printf(" %s", mt->who[i]);
        printf(" --\n");
    } else if (!strcmp(cmd, "leave")) {
        room_cmd(mt, "room.leave", NULL, NULL, 0);
        mt->left = true;
    } else if (!strcmp(cmd, "open")) room_cmd(mt, "room.open", NULL, NULL, 0);
    else if (!strcmp(cmd, "close")) room_cmd(mt, "room.close", NULL, NULL, 0);
    else if (!strcmp(cmd, "mute") && h) room_cmd(mt, "room.mute", h, NULL, 0);
    else if (!strcmp(cmd, "unmute") && h) room_cmd(mt, "room.unmute", h, NULL, 0);
    else if (!strcmp(cmd, "remove") && h) room_cmd(mt, "room.remove", h, "ban", !strcmp(a2, "ban"));
    else if (!strcmp(cmd, "unban") && h) room_cmd(mt, "room.unban", h, NULL, 0);
    else if (!strcmp(cmd, "lock")) room_cmd(mt, "room.lock", NULL, "locked", 1);
    else if (!strcmp(cmd, "unlock")) room_cmd(mt, "room.lock", NULL, "locked", 0);
    else if (!strcmp(cmd, "lobby")) room_cmd(mt, "room.lobby", NULL, "on", !strcmp(a1, "on"));
    else if (!strcmp(cmd, "admit") && h) room_cmd(mt, "room.admit", h, NULL, 0);
    else if (!strcmp(cmd, "deny") && h) room_cmd(mt, "room.deny", h, NULL, 0);
    else if (!strcmp(cmd, "floor")) room_cmd(mt, "room.floor", NULL, "on", !strcmp(a1, "on"));
    else if (!strcmp(cmd, "give")) {
        mu_req *r = mu_req_new("room.give");
        mu_req_str(r, "room", mt->room);
        if (h)
            mu_req_str(r, "handle", h);
        if (a2[0])
            mu_req_int(r, "secs", atoi(a2));
        mu_client_send(mt->k->c, r, NULL, NULL);
    } else
        printf("   -- /hand /lower /who /leave; facilitators: /open /close /mute H /unmute H "
               "/remove H [ban] /unban H /lock /unlock /lobby on|off /admit H /deny H "
               "/floor on|off /give H [SECS] --\n");
}

static void show_event(meeting *mt, const mu_msg *ev)
{
    const char *op = mu_msg_op(ev);
    const mu_value *v = mu_msg_root(ev);
    if (!strcmp(op, "room.msg"))
        show_msg(mt, v);
    else if (!strcmp(op, "room.presence")) {
        bool in = !strcmp(mu_value_get_str(v, "state"), "joined");
        who_set(mt, mu_value_get_str(v, "handle"), in);
        printf("   -- %s %s --\n", mu_value_get_str(v, "handle"), in ? "joined" : "left");
    } else if (!strcmp(op, "room.state"))
        show_state(v);
    else if (!strcmp(op, "room.moderation"))
        printf("   -- %s: %s (by %s) --\n", mu_value_get_str(v, "action"),
               mu_value_get_str(v, "handle"), mu_value_get_str(v, "by"));
    else if (!strcmp(op, "room.knock"))
        printf("   -- %s is waiting in the lobby (/admit %s or /deny %s) --\n",
               mu_value_get_str(v, "handle"), mu_value_get_str(v, "handle"),
               mu_value_get_str(v, "handle"));
    else if (!strcmp(op, "room.admitted")) {
        printf("   -- you were let in --\n");
        joined(mt, ev, false);
    } else if (!strcmp(op, "room.denied") || !strcmp(op, "room.closed") ||
               !strcmp(op, "room.removed")) {
        printf("   -- %s --\n", !strcmp(op, "room.denied")   ? "you were not let in"
                                : !strcmp(op, "room.closed") ? "the meeting has closed"
                                                             : "a facilitator removed you");
        mt->left = true;
    } else if (!strcmp(op, "reply") && !mu_msg_ok(ev))
        printf("   -- %s --\n", mu_msg_text(ev) ? mu_msg_text(ev) : "refused");
    else if (!strcmp(op, "dm.msg"))
        printf("   -- direct message from %s: %s --\n", mu_value_get_str(v, "from"),
               mu_value_get_str(v, "text"));
    fflush(stdout);
}

static int meeting_join(meeting *mt, bool resumed)
{
    mu_req *r = mu_req_new("room.join");
    mu_req_str(r, "room", mt->room);
    if (resumed)
        mu_req_int(r, "since", mt->last_seq);
    mu_msg *m = call(mt->k, r);
    if (!m)
        return -1;
    bool waiting = false;
    if (mu_value_bool(mu_msg_get(m, "waiting"), &waiting) && waiting)
        printf("   -- waiting in the lobby for a facilitator to let you in --\n");
    else
        joined(mt, m, resumed);
    mu_msg_free(m);
    fflush(stdout);
    return 0;
}

static int cmd_join(const char *server_opt, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "mutual: usage: mutual join ROOM\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, server_opt, &s) != 0)
        return 1;
    meeting mt = {.k = &k, .room = argv[0]};
    if (meeting_join(&mt, false) != 0) {
        close_conn(&k);
        return 1;
    }
    printf("-- in %s; type to speak, /help for commands, Ctrl-D to leave --\n", mt.room);
    fflush(stdout);
    int backoff = 1;
    bool eof = false;
    for (;;) {
        line_reader lr = {.eof = eof};
        reader_start(&lr, mu_sync_loop(k.sync), meeting_line, &mt);
        bool dropped = false;
        while (!mt.left && (!lr.eof || mu_sync_pending(k.c))) {
            mu_msg *ev = mu_sync_event(k.sync, k.c, 200);
            if (ev) {
                show_event(&mt, ev);
                mu_msg_free(ev);
                backoff = 1;
            } else if (!mu_client_is_open(k.c)) {
                dropped = true;
                break;
            }
        }
        eof = lr.eof;
        reader_stop(&lr);
        mu_sync_run(k.sync, 50);
        if (!dropped || eof)
            break;
        /* The connection dropped: come back with growing pauses and pick up where we were. */
        close_conn(&k);
        for (;;) {
            printf("   -- connection lost; trying again in %d s --\n", backoff);
            fflush(stdout);
            sleep((unsigned)backoff);
            backoff = backoff < 30 ? backoff * 2 : 30;
            if (open_session(&k, server_opt, &s) == 0 && meeting_join(&mt, true) == 0)
                break;
            close_conn(&k);
        }
    }
    close_conn(&k);
    return 0;
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
    if (!strcmp(cmd, "dm"))
        return cmd_dm(server_opt, argc - i, argv + i);
    if (!strcmp(cmd, "inbox"))
        return cmd_inbox(server_opt);
    if (!strcmp(cmd, "mentees"))
        return cmd_mentees(server_opt);
    if (!strcmp(cmd, "assign"))
        return cmd_assign(server_opt, argc - i, argv + i, false);
    if (!strcmp(cmd, "unassign"))
        return cmd_assign(server_opt, argc - i, argv + i, true);
    if (!strcmp(cmd, "export")) {
        conn k = {0};
        session ses;
        if (open_session(&k, server_opt, &ses) != 0)
            return 1;
        mu_msg *m = call(&k, mu_req_new("me.export"));
        int rc = 1;
        if (m) {
            char *json = mu_value_to_json(mu_msg_root(m), 2);
            printf("%s\n", json);
            free(json);
            mu_msg_free(m);
            rc = 0;
        }
        close_conn(&k);
        return rc;
    }
    if (!strcmp(cmd, "rooms"))
        return cmd_rooms(server_opt);
    if (!strcmp(cmd, "room"))
        return cmd_room(server_opt, argc - i, argv + i);
    if (!strcmp(cmd, "join"))
        return cmd_join(server_opt, argc - i, argv + i);
    if (!strcmp(cmd, "checkin"))
        return cmd_checkin(server_opt, argc - i, argv + i);
    if (!strcmp(cmd, "checkins"))
        return cmd_checkins(server_opt, argc - i, argv + i);
    if (!strcmp(cmd, "summary"))
        return cmd_summary(server_opt, argc - i, argv + i);
    if (!strcmp(cmd, "alerts"))
        return cmd_alerts(server_opt, argc - i, argv + i);
    if (!strcmp(cmd, "consent") || !strcmp(cmd, "ack")) {
        if (argc - i != 1) {
            fprintf(stderr, "mutual: usage: mutual %s\n",
                    cmd[0] == 'c' ? "consent none|alerts|scores" : "ack ID");
            return 2;
        }
        mu_req *r = mu_req_new(cmd[0] == 'c' ? "consent.set" : "alert.ack");
        char msg[128];
        if (cmd[0] == 'c') {
            mu_req_str(r, "share", argv[i]);
            snprintf(msg, sizeof(msg), "your mentor now sees: %s", argv[i]);
        } else {
            mu_req_int(r, "id", atoll(argv[i]));
            snprintf(msg, sizeof(msg), "alert %s closed", argv[i]);
        }
        return simple_call(server_opt, r, msg);
    }
    fprintf(stderr, "mutual: unknown command '%s'\n%s", cmd, usage);
    return 2;
}
