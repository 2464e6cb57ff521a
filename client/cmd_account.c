/* Account commands: register, login, logout, whoami, ping, help, export, consent; mentors'
 * caseload and admins' assignments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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
        if (read_password("Password again: ", again, sizeof(again)) != 0 || strcmp(pw, again)) {
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

int cmd_whoami(const cli_ctx *cx, int argc, char **argv)
{
    session s;
    if (session_load(&s) != 0) {
        fprintf(stderr, "mutual: not signed in\n");
        return 1;
    }
    printf("%s on %s\n", s.handle, s.server);
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

int cmd_help(const cli_ctx *cx, int argc, char **argv)
{
    conn k = {0};
    if (open_conn(&k, cx->server) != 0) {
        fprintf(stderr, "If you are in danger now, call your local emergency number.\n");
        return 1;
    }
    int rc = 1;
    mu_msg *m = call(&k, mu_req_new(MU_OPNAME_HELP));
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

int cmd_mentees(const cli_ctx *cx, int argc, char **argv)
{
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    int rc = 1;
    mu_msg *m = call(&k, mu_req_new(MU_OPNAME_MENTEES_LIST));
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

static int assign(const cli_ctx *cx, int argc, char **argv, bool unassign)
{
    if (argc != (unassign ? 1 : 2)) {
        fprintf(stderr, "mutual: usage: mutual %s\n",
                unassign ? "unassign USER" : "assign MENTOR USER");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    mu_req *r = mu_req_new(unassign ? MU_OPNAME_MENTOR_UNASSIGN : MU_OPNAME_MENTOR_ASSIGN);
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


int cmd_register(const cli_ctx *cx, int argc, char **argv)
{
    return auth(cx, argc, argv, true);
}

int cmd_login(const cli_ctx *cx, int argc, char **argv)
{
    return auth(cx, argc, argv, false);
}

int cmd_assign(const cli_ctx *cx, int argc, char **argv)
{
    return assign(cx, argc, argv, false);
}

int cmd_unassign(const cli_ctx *cx, int argc, char **argv)
{
    return assign(cx, argc, argv, true);
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
    if (argc != 1) {
        fprintf(stderr, "mutual: usage: mutual consent none|alerts|scores\n");
        return 2;
    }
    mu_req *r = mu_req_new(MU_OPNAME_CONSENT_SET);
    char msg[128];
    mu_req_str(r, "share", argv[0]);
    snprintf(msg, sizeof(msg), "your mentor now sees: %s", argv[0]);
    return simple_call(cx->server_opt, r, msg);
}
