/* The local services directory (anyone, signed in or not) and its upkeep by admins; the
 * supervision table of mentors' load (admins). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_parse.h"

static const char *const category_titles[] = {
    "Crisis lines",
    "Mutual aid (meetings and peer groups)",
    "Treatment",
    "Harm reduction (needle and syringe programmes, naloxone, drug checking)",
    "Family and carers",
    "Mental health",
    "Housing",
    "Employment",
    "Other",
};

/* The optional fields in the order they are shown, with their labels. */
static const char *const svc_fields[] = {"description", "phone",  "url",
                                         "hours",       "region", "referral"};
static const char *const svc_labels[] = {"", "phone", "web", "hours", "area", "how to get in"};
#define SVC_NFIELDS 6

static void service_print(const mu_value *s)
{
    printf("  %s  (#%lld)\n", mu_value_get_str(s, "name"), (long long)mu_value_get_int(s, "id", 0));
    for (int i = 0; i < SVC_NFIELDS; i++) {
        const char *v = mu_value_get_str(s, svc_fields[i]);
        if (!v)
            continue;
        if (i == 0)
            printf("    %s\n", v);
        else
            printf("    %-14s %s\n", svc_labels[i], v);
    }
}

static int category_index(const char *c)
{
    for (int i = 0; c && parse_category_words[i]; i++)
        if (!strcmp(c, parse_category_words[i]))
            return i;
    return 8;
}

/* mutual services [--category C] [--region R]: no sign-in needed. */
int cmd_services(const cli_ctx *cx, int argc, char **argv)
{
    const char *category = NULL, *region = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--category") && i + 1 < argc) {
            category = parse_word(argv[++i], parse_category_words);
            if (!category) {
                fprintf(stderr,
                        "mutual: --category: '%s' is not one of crisis, mutual_aid, treatment, "
                        "harm_reduction, family, mental_health, housing, employment, other\n",
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--region") && i + 1 < argc) {
            region = argv[++i];
            size_t n = strlen(region);
            if (n < 1 || n > 100) {
                fprintf(stderr, "mutual: --region must be 1 to 100 characters\n");
                return 2;
            }
        } else {
            fprintf(stderr, "mutual: usage: mutual services [--category C] [--region R]\n");
            return 2;
        }
    }
    conn k = {0};
    if (open_conn(&k, cx->server) != 0)
        return 1;
    mu_req *r = mu_req_new(MU_OPNAME_SERVICES_LIST);
    if (category)
        mu_req_str(r, "category", category);
    if (region)
        mu_req_str(r, "region", region);
    mu_msg *m = call(&k, r);
    int rc = 1;
    if (m) {
        const mu_value *list = mu_msg_get(m, "services");
        size_t n = mu_value_len(list);
        if (!n)
            printf("No local services are listed%s%s%s. 'mutual help' lists crisis lines.\n",
                   category || region ? " for that" : " yet", region ? " area" : "",
                   category && !region ? " category" : "");
        int shown = -1;
        for (size_t i = 0; i < n; i++) {
            const mu_value *s = mu_value_at(list, i);
            int c = category_index(mu_value_get_str(s, "category"));
            if (c != shown)
                printf("%s%s\n", i ? "\n" : "", category_titles[c]);
            shown = c;
            service_print(s);
        }
        if (n)
            printf("\n%zu service%s. If you are in danger now, call your local emergency "
                   "number.\n",
                   n, n == 1 ? "" : "s");
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

/* The fields of a service as typed: name, category, then the optional ones. NULL: not
 * given; "": given empty (on update, takes the field away). */
typedef struct {
    const char *name, *category, *opt[SVC_NFIELDS];
} svc_args;

static int svc_parse(int argc, char **argv, svc_args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i];
        if (strncmp(f, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "mutual: '%s': expected --FIELD VALUE\n", f);
            return -1;
        }
        const char *v = argv[++i];
        if (!strcmp(f, "--name")) {
            a->name = v;
        } else if (!strcmp(f, "--category")) {
            a->category = parse_word(v, parse_category_words);
            if (!a->category) {
                fprintf(stderr,
                        "mutual: --category: '%s' is not a category (mutual services "
                        "--help lists them)\n",
                        v);
                return -1;
            }
        } else {
            int j = 0;
            while (j < SVC_NFIELDS && strcmp(f + 2, svc_fields[j]) != 0)
                j++;
            if (j == SVC_NFIELDS) {
                fprintf(stderr, "mutual: unknown option '%s'\n", f);
                return -1;
            }
            a->opt[j] = v;
        }
    }
    return 0;
}

static mu_req *svc_request(const char *op, const svc_args *a)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "name", a->name);
    mu_req_str(r, "category", a->category);
    for (int j = 0; j < SVC_NFIELDS; j++)
        if (a->opt[j] && a->opt[j][0])
            mu_req_str(r, svc_fields[j], a->opt[j]);
    return r;
}

static const char service_usage[] =
    "mutual: usage: mutual service add --name N --category C [--description D] [--phone P]\n"
    "         [--url http(s)://...] [--hours H] [--region R] [--referral HOW]\n"
    "       mutual service update ID [the same options; an empty value removes a field]\n"
    "       mutual service remove ID\n";

/* mutual service add|update|remove (admins) */
int cmd_service(const cli_ctx *cx, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "";
    long id = 0;
    bool add = !strcmp(verb, "add"), update = !strcmp(verb, "update"),
         remove = !strcmp(verb, "remove");
    if ((!add && !update && !remove) || ((update || remove) && argc < 2) ||
        ((update || remove) && !parse_int(argv[1], 1, 2147483647L, &id)) || (remove && argc != 2)) {
        fprintf(stderr, "%s", service_usage);
        return 2;
    }
    svc_args a = {0};
    if (svc_parse(argc - (add ? 1 : 2), argv + (add ? 1 : 2), &a) != 0)
        return 2;
    if (add && (!a.name || !a.category)) {
        fprintf(stderr, "mutual: a service needs --name and --category\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    int rc = 1;
    mu_msg *m = NULL, *list = NULL;
    if (remove) {
        mu_req *r = mu_req_new(MU_OPNAME_SERVICE_REMOVE);
        mu_req_int(r, "id", id);
        if ((m = call(&k, r)) != NULL) {
            printf("service #%ld removed from the directory\n", id);
            rc = 0;
        }
        goto cleanup;
    }
    if (update) {
        /* update replaces the whole service: fields not typed keep what is stored */
        if (!(list = call(&k, mu_req_new(MU_OPNAME_SERVICES_LIST))))
            goto cleanup;
        const mu_value *items = mu_msg_get(list, "services"), *old = NULL;
        for (size_t i = 0; i < mu_value_len(items) && !old; i++)
            if (mu_value_get_int(mu_value_at(items, i), "id", 0) == id)
                old = mu_value_at(items, i);
        if (!old) {
            fprintf(stderr, "mutual: there is no service #%ld ('mutual services' lists them)\n",
                    id);
            goto cleanup;
        }
        if (!a.name)
            a.name = mu_value_get_str(old, "name");
        if (!a.category)
            a.category = mu_value_get_str(old, "category");
        for (int j = 0; j < SVC_NFIELDS; j++)
            if (!a.opt[j])
                a.opt[j] = mu_value_get_str(old, svc_fields[j]);
    }
    mu_req *r = svc_request(add ? MU_OPNAME_SERVICE_ADD : MU_OPNAME_SERVICE_UPDATE, &a);
    if (update)
        mu_req_int(r, "id", id);
    if ((m = call(&k, r)) != NULL) {
        printf("%s:\n", add ? "added to the directory" : "updated");
        service_print(mu_msg_get(m, "service"));
        rc = 0;
    }
cleanup:
    mu_msg_free(m);
    mu_msg_free(list);
    close_conn(&k);
    return rc;
}

/* mutual mentors: mentors.overview as a table (admins). */
int cmd_mentors(const cli_ctx *cx, int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "mutual: usage: mutual mentors\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    mu_msg *m = call(&k, mu_req_new(MU_OPNAME_MENTORS_OVERVIEW));
    int rc = 1;
    if (m) {
        const mu_value *list = mu_msg_get(m, "mentors");
        size_t n = mu_value_len(list);
        if (!n) {
            printf("no mentors yet ('mutual user create NAME --role mentor' makes one)\n");
        } else {
            printf("%-20s %8s %11s %10s %13s %16s\n", "MENTOR", "CASELOAD", "OPEN ALERTS",
                   "ALERTS 30D", "ESCALATED 30D", "MEDIAN ACK 30D");
        }
        for (size_t i = 0; i < n; i++) {
            const mu_value *e = mu_value_at(list, i);
            char ack[32];
            int64_t med;
            if (mu_value_int(mu_value_get(e, "median_ack_min_30d"), &med))
                snprintf(ack, sizeof(ack), "%lld min", (long long)med);
            else
                snprintf(ack, sizeof(ack), "-");
            printf("%-20s %8lld %11lld %10lld %13lld %16s\n", mu_value_get_str(e, "handle"),
                   (long long)mu_value_get_int(e, "caseload", 0),
                   (long long)mu_value_get_int(e, "open_alerts", 0),
                   (long long)mu_value_get_int(e, "alerts_30d", 0),
                   (long long)mu_value_get_int(e, "escalated_30d", 0), ack);
        }
        if (n)
            printf("MEDIAN ACK: minutes from an alert to its acknowledgement, over the last 30 "
                   "days ('-': none acknowledged). A mentor's own check-ins are never shown.\n");
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}
