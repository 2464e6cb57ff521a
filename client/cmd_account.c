/* Account commands: register, login, logout, whoami, ping, help, export, consent, password,
 * delete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_parse.h"

static int auth(const cli_ctx *cx, int argc, char **argv, bool is_register)
{
    const char *handle = NULL, *role = NULL;
    for (int i = 0; i < argc; i++) {
        if (is_register && !strcmp(argv[i], "--role") && i + 1 < argc)
            role = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "mutual: unknown option '%s'\n%s", argv[i], cli_usage);
            return 2;
        } else if (!handle)
            handle = argv[i];
        else {
            fprintf(stderr, "%s", cli_usage);
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
        if (read_password("Password again: ", again, sizeof(again)) != 0 ||
            strcmp(pw, again) != 0) {
            fprintf(stderr, "mutual: the passwords differ\n");
            return 1;
        }
    }
    conn k = {0};
    if (open_conn(&k, cx->server) != 0)
        return 1;
    mu_req *r = mu_req_new(is_register ? MU_OPNAME_REGISTER : MU_OPNAME_LOGIN);
    mu_req_str(r, "handle", handle);
    mu_req_str(r, "password", pw);
    if (role)
        mu_req_str(r, "role", role);
    memset(pw, 0, sizeof(pw));
    mu_msg *m = call(&k, r);
    int rc = 1;
    if (m) {
        rc = signed_in(cx->server, m, is_register ? "registered and signed in" : "signed in");
        mu_msg_free(m);
    }
    close_conn(&k);
    return rc;
}

int cmd_logout(const cli_ctx *cx, int argc, char **argv)
{
    session s;
    if (session_load(&s) != 0) {
        fprintf(stderr, "mutual: not signed in\n");
        return 1;
    }
    conn k = {0};
    if (open_conn(&k, cx->server_opt ? cx->server_opt : s.server) != 0)
        return 1;
    int rc = 1;
    if (resume(&k, &s) == 0) {
        mu_msg *m = call(&k, mu_req_new(MU_OPNAME_LOGOUT));
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

/* The mentor and share, from the server; false when it cannot be asked. */
static bool mentor_get(const cli_ctx *cx, char *mentor, size_t mcap, char *share, size_t scap)
{
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return false;
    mu_msg *m = call(&k, mu_req_new(MU_OPNAME_MENTOR_GET));
    if (m) {
        const char *who = mu_value_get_str(mu_msg_root(m), "mentor");
        const char *sh = mu_value_get_str(mu_msg_root(m), "share");
        snprintf(mentor, mcap, "%s", who ? who : "");
        snprintf(share, scap, "%s", sh ? sh : "");
        mu_msg_free(m);
    }
    close_conn(&k);
    return m != NULL;
}

int cmd_whoami(const cli_ctx *cx, int argc, char **argv)
{
    session s;
    if (session_load(&s) != 0) {
        fprintf(stderr, "mutual: not signed in\n");
        return 1;
    }
    printf("%s on %s\n", s.handle, s.server);
    char mentor[64], share[16];
    if (!mentor_get(cx, mentor, sizeof(mentor), share, sizeof(share)))
        return 1;
    printf("mentor: %s\n", mentor[0] ? mentor : "none yet: ask an admin");
    if (share[0])
        printf("your mentor sees: %s (change it with 'mutual consent none|alerts|scores')\n",
               share);
    return 0;
}

int cmd_ping(const cli_ctx *cx, int argc, char **argv)
{
    conn k = {0};
    if (open_conn(&k, cx->server) != 0)
        return 1;
    const char *name = mu_value_get_str(mu_msg_root(mu_client_welcome(k.c)), "server");
    int rc = 1;
    double best = 1e9, sum = 0;
    const int n = 3;
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        mu_msg *m = call(&k, mu_req_new(MU_OPNAME_PING));
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

/* Used before the server has ever answered: general numbers that do not change often. */
static const char builtin_help[] =
    "Emergency services\n"
    "  phone   112 (Europe), 999 (UK), 911 (North America), or your local number\n"
    "Samaritans (UK and Ireland)\n"
    "  phone   116 123\n"
    "  hours   24/7\n"
    "Find a helpline in your country\n"
    "  url     https://findahelpline.com\n";

static int help_cache_path(char *out, size_t cap, bool make_dir)
{
    char dir[1024];
    if (session_dir(dir, sizeof(dir), make_dir) != 0)
        return -1;
    snprintf(out, cap, "%s/help", dir);
    return 0;
}

/* Keeps the list as shown, so that it can be shown again when the server cannot be reached. */
static void help_cache_save(const char *text)
{
    char path[1100], tmp[1200];
    if (help_cache_path(path, sizeof(path), true) != 0)
        return;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    bool ok = fputs(text, f) >= 0;
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
        unlink(tmp);
}

/* The last line of every help list: crisis lines are one door among many. */
static const char help_services_line[] =
    "\nTreatment, harm reduction, mutual aid, family support and more near you: mutual "
    "services\n";

static void help_offline(const char *why)
{
    char path[1100], text[16384];
    size_t n = 0;
    FILE *f = help_cache_path(path, sizeof(path), false) == 0 ? fopen(path, "r") : NULL;
    if (f) {
        n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
    }
    text[n] = 0;
    printf("If you are in danger now, call your local emergency number.\n");
    printf("(%s; the list below is the %s and may be out of date.)\n\n", why,
           n ? "last one the server sent" : "one built into this program");
    printf("%s", n ? text : builtin_help);
    printf("%s", help_services_line);
}

int cmd_help(const cli_ctx *cx, int argc, char **argv)
{
    conn k = {0};
    /* open_conn prints why it failed on stderr; the list still goes to stdout */
    if (open_conn(&k, cx->server) != 0) {
        help_offline("the server cannot be reached");
        return 0;
    }
    mu_msg *m = call(&k, mu_req_new(MU_OPNAME_HELP));
    if (!m) {
        close_conn(&k);
        help_offline("the server did not answer");
        return 0;
    }
    char text[16384];
    size_t used = 0;
    const mu_value *list = mu_msg_get(m, "resources");
    for (size_t i = 0; i < mu_value_len(list) && used < sizeof(text); i++) {
        const mu_value *res = mu_value_at(list, i);
        static const char *const f[5] = {"name", "phone", "url", "hours", "region"};
        const char *name = mu_value_get_str(res, f[0]);
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s\n", name ? name : "?");
        for (int j = 1; j < 5 && used < sizeof(text); j++)
            if (mu_value_get_str(res, f[j]))
                used += (size_t)snprintf(text + used, sizeof(text) - used, "  %-7s %s\n", f[j],
                                         mu_value_get_str(res, f[j]));
    }
    if (used >= sizeof(text))
        used = sizeof(text) - 1;
    text[used] = 0;
    printf("If you are in danger now, call your local emergency number.\n\n%s", text);
    printf("%s", help_services_line);
    if (used)
        help_cache_save(text);
    mu_msg_free(m);
    close_conn(&k);
    return 0;
}

int cmd_register(const cli_ctx *cx, int argc, char **argv)
{
    return auth(cx, argc, argv, true);
}

int cmd_login(const cli_ctx *cx, int argc, char **argv)
{
    return auth(cx, argc, argv, false);
}

int cmd_export(const cli_ctx *cx, int argc, char **argv)
{
    conn k = {0};
    session ses;
    if (open_session(&k, cx->server_opt, &ses) != 0)
        return 1;
    mu_msg *m = call(&k, mu_req_new(MU_OPNAME_ME_EXPORT));
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

int cmd_consent(const cli_ctx *cx, int argc, char **argv)
{
    if (argc == 0) {
        char mentor[64], share[16];
        if (!mentor_get(cx, mentor, sizeof(mentor), share, sizeof(share)))
            return 1;
        if (!share[0]) {
            fprintf(stderr, "mutual: this server does not say what you share; set it with "
                            "'mutual consent none|alerts|scores'\n");
            return 1;
        }
        printf("your mentor%s%s sees: %s\n", mentor[0] ? " " : "", mentor, share);
        printf("  none: nothing; alerts: an alert when a check-in looks hard; scores: alerts "
               "and your check-in scores (never your notes)\n");
        return 0;
    }
    const char *share = argc == 1 ? parse_word(argv[0], parse_share_words) : NULL;
    if (!share) {
        fprintf(stderr, "mutual: usage: mutual consent [none|alerts|scores]\n");
        return 2;
    }
    mu_req *r = mu_req_new(MU_OPNAME_CONSENT_SET);
    char msg[128];
    mu_req_str(r, "share", share);
    snprintf(msg, sizeof(msg), "your mentor now sees: %s", share);
    return simple_call(cx->server_opt, r, msg);
}

int cmd_password(const cli_ctx *cx, int argc, char **argv)
{
    if (argc != 0) {
        fprintf(stderr, "mutual: usage: mutual password\n");
        return 2;
    }
    char old[512], pw[512], again[512];
    if (read_password("Current password: ", old, sizeof(old)) != 0 ||
        read_password("New password: ", pw, sizeof(pw)) != 0) {
        fprintf(stderr, "mutual: no password given; nothing changed\n");
        return 1;
    }
    if (isatty(STDIN_FILENO) && (read_password("New password again: ", again, sizeof(again)) != 0 ||
                                 strcmp(pw, again) != 0)) {
        fprintf(stderr, "mutual: the new passwords differ; nothing changed\n");
        return 1;
    }
    mu_req *r = mu_req_new(MU_OPNAME_PASSWORD_SET);
    mu_req_str(r, "old", old);
    mu_req_str(r, "new", pw);
    memset(old, 0, sizeof(old));
    memset(pw, 0, sizeof(pw));
    memset(again, 0, sizeof(again));
    return simple_call(cx->server_opt, r, "password changed; your other sessions are signed out");
}

int cmd_delete(const cli_ctx *cx, int argc, char **argv)
{
    if (argc != 0) {
        fprintf(stderr, "mutual: usage: mutual delete\n");
        return 2;
    }
    session s;
    if (session_load(&s) != 0) {
        fprintf(stderr, "mutual: not signed in; use 'mutual login HANDLE' first\n");
        return 1;
    }
    printf("This erases the account %s for good: its sessions, check-ins and notes, recovery "
           "plan, direct messages, alerts about you, your mentor assignment, and your messages "
           "in meeting history. 'mutual export' first keeps a copy. It cannot be undone.\n",
           s.handle);
    fflush(stdout);
    char pw[512];
    if (read_password("Your password, to erase the account: ", pw, sizeof(pw)) != 0 || !pw[0]) {
        fprintf(stderr, "mutual: no password given; nothing was erased\n");
        return 1;
    }
    conn k = {0};
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    mu_req *r = mu_req_new(MU_OPNAME_ME_DELETE);
    mu_req_str(r, "password", pw);
    memset(pw, 0, sizeof(pw));
    mu_msg *m = call(&k, r);
    close_conn(&k);
    if (!m) {
        fprintf(stderr, "mutual: nothing was erased\n");
        return 1;
    }
    mu_msg_free(m);
    session_remove();
    printf("erased: the account %s and everything stored about it\n", s.handle);
    return 0;
}
