/* Mentors' caseload and administration: assignments, accounts, roles, figures. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_parse.h"

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

int cmd_assign(const cli_ctx *cx, int argc, char **argv)
{
    return assign(cx, argc, argv, false);
}

int cmd_unassign(const cli_ctx *cx, int argc, char **argv)
{
    return assign(cx, argc, argv, true);
}

/* mutual user create HANDLE --role ROLE | mutual user role HANDLE ROLE */
int cmd_user(const cli_ctx *cx, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "";
    const char *role = NULL, *handle = argc > 1 ? argv[1] : NULL;
    if (!strcmp(verb, "create") && argc == 4 && !strcmp(argv[2], "--role"))
        role = argv[3];
    else if (!strcmp(verb, "role") && argc == 3)
        role = argv[2];
    else {
        fprintf(stderr, "mutual: usage: mutual user create HANDLE --role ROLE | "
                        "mutual user role HANDLE ROLE\n");
        return 2;
    }
    const char *canon = parse_word(role, parse_role_words);
    if (!canon) {
        fprintf(stderr, "mutual: '%s' is not a role: member, family, mentor or admin\n", role);
        return 2;
    }
    mu_req *r;
    char msg[160];
    if (verb[0] == 'c') {
        char pw[512];
        if (read_password("Password for the new account: ", pw, sizeof(pw)) != 0) {
            fprintf(stderr, "mutual: no password given\n");
            return 1;
        }
        r = mu_req_new(MU_OPNAME_USER_CREATE);
        mu_req_str(r, "password", pw);
        memset(pw, 0, sizeof(pw));
        snprintf(msg, sizeof(msg), "created %s (%s); tell them their password in person", handle,
                 canon);
    } else {
        r = mu_req_new(MU_OPNAME_USER_ROLE);
        snprintf(msg, sizeof(msg), "%s is now %s", handle, canon);
    }
    mu_req_str(r, "handle", handle);
    mu_req_str(r, "role", canon);
    return simple_call(cx->server_opt, r, msg);
}

int cmd_stats(const cli_ctx *cx, int argc, char **argv)
{
    if (argc != 0) {
        fprintf(stderr, "mutual: usage: mutual stats\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    mu_msg *m = call(&k, mu_req_new(MU_OPNAME_STATS));
    int rc = 1;
    if (m) {
        const mu_value *v = mu_msg_root(m);
        printf("connections open     %lld\n", (long long)mu_value_get_int(v, "connections", 0));
        printf("accounts             %lld\n", (long long)mu_value_get_int(v, "users", 0));
        printf("meetings open        %lld\n", (long long)mu_value_get_int(v, "rooms_open", 0));
        printf("check-ins today (UTC) %lld\n", (long long)mu_value_get_int(v, "checkins_today", 0));
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}
