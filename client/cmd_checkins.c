/* Reading check-ins back: one's own or a mentee's list with trends, the summary, and
 * mentors' alerts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_parse.h"

void checkin_print_header(void)
{
    printf("%-10s %4s %7s %5s  %-17s %-6s %s\n", "DATE", "MOOD", "CRAVING", "SLEEP", "USE", "WHO-5",
           "FLAGS");
}

static void opt_int(const mu_value *c, const char *key, char *out, size_t cap, const char *unit)
{
    int64_t v;
    if (mu_value_int(mu_value_get(c, key), &v))
        snprintf(out, cap, "%lld%s", (long long)v, unit);
    else
        snprintf(out, cap, "-");
}

void checkin_print_row(const mu_value *c)
{
    char mood[8], crav[8], sleep[8], who5[8];
    opt_int(c, "mood", mood, sizeof(mood), "");
    opt_int(c, "craving", crav, sizeof(crav), "");
    opt_int(c, "sleep", sleep, sizeof(sleep), "");
    opt_int(c, "who5_pct", who5, sizeof(who5), "%");
    printf("%-10s %4s %7s %5s  %-17s %-6s", mu_value_get_str(c, "date"), mood, crav, sleep,
           mu_value_get_str(c, "use") ? mu_value_get_str(c, "use") : "-", who5);
    const mu_value *fl = mu_value_get(c, "flags");
    for (size_t j = 0; j < mu_value_len(fl); j++)
        printf(" %s", mu_value_str(mu_value_at(fl, j)));
    printf("\n");
}

static const char *spark(int64_t v)
{
    static const char *const bars[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                       "\u2585", "\u2586", "\u2587", "\u2588"};
    if (v < 0 || v > 10)
        return " ";
    return bars[v * 7 / 10];
}

/* --days N (lo..hi) and at most one handle; 0, or 2 with the reason on stderr. */
static int parse_days_args(int argc, char **argv, long lo, long hi, long *days, const char **handle)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--days")) {
            if (i + 1 >= argc || !parse_int(argv[i + 1], lo, hi, days)) {
                fprintf(stderr, "mutual: --days must be a whole number from %ld to %ld%s%s%s\n", lo,
                        hi, i + 1 < argc ? ", not '" : "", i + 1 < argc ? argv[i + 1] : "",
                        i + 1 < argc ? "'" : "");
                return 2;
            }
            i++;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "mutual: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (handle && !*handle) {
            *handle = argv[i];
        } else {
            fprintf(stderr, "mutual: unexpected '%s'\n", argv[i]);
            return 2;
        }
    }
    return 0;
}

int cmd_checkins(const cli_ctx *cx, int argc, char **argv)
{
    long days = 14;
    const char *handle = NULL;
    int rc = parse_days_args(argc, argv, 1, 365, &days, &handle);
    if (rc != 0)
        return rc;
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    mu_req *r;
    if (handle) {
        r = mu_req_new(MU_OPNAME_MENTEE_CHECKINS);
        mu_req_str(r, "handle", handle);
        mu_req_int(r, "days", days);
    } else {
        time_t from_t = time(NULL) - (time_t)(days - 1) * 86400;
        struct tm tm;
        localtime_r(&from_t, &tm);
        char from[16];
        strftime(from, sizeof(from), "%Y-%m-%d", &tm);
        r = mu_req_new(MU_OPNAME_CHECKIN_LIST);
        mu_req_str(r, "from", from);
    }
    mu_msg *m = mu_sync_call(k.sync, k.c, r, CLI_TIMEOUT_MS);
    rc = 1;
    if (!m) {
        fprintf(stderr, "mutual: no reply from the server\n");
    } else if (!mu_msg_ok(m)) {
        if (handle && mu_msg_code(m) && !strcmp(mu_msg_code(m), "forbidden"))
            fprintf(stderr,
                    "mutual: %s does not share check-ins with you: only a mentor whose mentee "
                    "chose 'mutual consent scores' sees them\n",
                    handle);
        else
            cli_print_error(m);
    } else {
        const mu_value *list = mu_msg_get(m, "checkins");
        if (handle)
            printf("%s's check-ins (shared with you)\n", handle);
        checkin_print_header();
        char mood_line[512] = "", crav_line[512] = "";
        for (size_t i = 0; i < mu_value_len(list); i++) {
            const mu_value *c = mu_value_at(list, i);
            checkin_print_row(c);
            strncat(mood_line, spark(mu_value_get_int(c, "mood", -1)),
                    sizeof(mood_line) - strlen(mood_line) - 1);
            strncat(crav_line, spark(mu_value_get_int(c, "craving", -1)),
                    sizeof(crav_line) - strlen(crav_line) - 1);
        }
        printf("mood    %s\ncraving %s\n%zu check-in%s in the last %ld day%s\n", mood_line,
               crav_line, mu_value_len(list), mu_value_len(list) == 1 ? "" : "s", days,
               days == 1 ? "" : "s");
        rc = 0;
    }
    mu_msg_free(m);
    close_conn(&k);
    return rc;
}

static void print_avg(const mu_value *v, const char *key, const char *label)
{
    double d;
    if (mu_value_double(mu_value_get(v, key), &d))
        printf("%s average %.1f of 10\n", label, d);
    else
        printf("%s average: none answered in this window\n", label);
}

int cmd_summary(const cli_ctx *cx, int argc, char **argv)
{
    long days = 30;
    int rc = parse_days_args(argc, argv, 7, 365, &days, NULL);
    if (rc != 0)
        return rc;
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    mu_req *r = mu_req_new(MU_OPNAME_CHECKIN_SUMMARY);
    mu_req_int(r, "days", days);
    mu_msg *m = call(&k, r);
    rc = 1;
    if (m) {
        const mu_value *v = mu_msg_root(m);
        int64_t count = mu_value_get_int(v, "count", 0);
        printf("last %lld days: %lld check-in%s, %lld missed\n",
               (long long)mu_value_get_int(v, "days", 0), (long long)count, count == 1 ? "" : "s",
               (long long)mu_value_get_int(v, "missed", 0));
        int64_t streak = mu_value_get_int(v, "streak", 0);
        printf("streak %lld day%s (best %lld)\n", (long long)streak, streak == 1 ? "" : "s",
               (long long)mu_value_get_int(v, "best_streak", 0));
        if (count == 0) {
            printf("no check-ins in this window\n");
        } else {
            print_avg(v, "mood_avg", "mood");
            print_avg(v, "craving_avg", "craving");
        }
        int64_t n;
        if (mu_value_int(mu_value_get(v, "who5_last"), &n))
            printf("latest WHO-5 %lld%%\n", (long long)n);
        if (mu_value_int(mu_value_get(v, "barc10_last"), &n))
            printf("latest BARC-10 %lld of 60\n", (long long)n);
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

void alert_print(const mu_value *a)
{
    bool open = true, esc = false;
    mu_value_bool(mu_value_get(a, "open"), &open);
    mu_value_bool(mu_value_get(a, "escalated"), &esc);
    printf("#%-5lld ", (long long)mu_value_get_int(a, "id", 0));
    print_time(mu_value_get_int(a, "ts", 0));
    printf(" %-16s %-16s %s%s%s\n", mu_value_get_str(a, "handle"), mu_value_get_str(a, "kind"),
           mu_value_get_str(a, "detail") ? mu_value_get_str(a, "detail") : "",
           esc ? " (escalated)" : "", open ? "" : " (closed)");
}

int cmd_alerts(const cli_ctx *cx, int argc, char **argv)
{
    bool all = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--all") != 0) {
            fprintf(stderr, "mutual: usage: mutual alerts [--all]\n");
            return 2;
        }
        all = true;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    mu_req *r = mu_req_new(MU_OPNAME_ALERTS_LIST);
    if (all)
        mu_req_bool(r, "open", false);
    mu_msg *m = call(&k, r);
    int rc = 1;
    if (m) {
        const mu_value *list = mu_msg_get(m, "alerts");
        /* an admin sees the alerts that were escalated: say so */
        bool admin = !strcmp(s.role, "admin");
        if (!mu_value_len(list))
            printf("no %s%salerts\n", all ? "" : "open ", admin ? "escalated " : "");
        else if (admin)
            printf("escalated alerts (nobody acknowledged them in time; 'mutual ack ID' closes "
                   "one):\n");
        for (size_t i = 0; i < mu_value_len(list); i++)
            alert_print(mu_value_at(list, i));
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

/* What stays quiet for the rest of the day once an alert of this kind is closed: the server
 * raises one alert per flag per local day. */
static const char *quiet_today(const char *kind)
{
    static const struct {
        const char *kind, *words;
    } k[] = {
        {"high_craving", "high cravings"},
        {"low_mood", "low moods"},
        {"use_above_plan", "uses above plan"},
        {"low_wellbeing", "low wellbeing scores"},
    };
    for (size_t i = 0; kind && i < sizeof(k) / sizeof(k[0]); i++)
        if (!strcmp(kind, k[i].kind))
            return k[i].words;
    return NULL;
}

int cmd_ack(const cli_ctx *cx, int argc, char **argv)
{
    long id;
    if (argc != 1 || !parse_int(argv[0], 1, 0x7fffffffL, &id)) {
        fprintf(stderr, "mutual: usage: mutual ack ID (the number 'mutual alerts' shows)\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    /* the kind, to say what acknowledging it means for the rest of the day */
    char kind[32] = "", who[64] = "";
    mu_msg *m = call(&k, mu_req_new(MU_OPNAME_ALERTS_LIST));
    const mu_value *list = m ? mu_msg_get(m, "alerts") : NULL;
    for (size_t i = 0; i < mu_value_len(list); i++) {
        const mu_value *a = mu_value_at(list, i);
        if (mu_value_get_int(a, "id", 0) == id) {
            snprintf(kind, sizeof(kind), "%s",
                     mu_value_get_str(a, "kind") ? mu_value_get_str(a, "kind") : "");
            snprintf(who, sizeof(who), "%s",
                     mu_value_get_str(a, "handle") ? mu_value_get_str(a, "handle") : "");
        }
    }
    mu_msg_free(m);
    mu_req *r = mu_req_new(MU_OPNAME_ALERT_ACK);
    mu_req_int(r, "id", id);
    m = call(&k, r);
    int rc = 1;
    if (m) {
        printf("alert %ld closed", id);
        if (quiet_today(kind))
            printf("; further %s today will not alert again%s%s", quiet_today(kind),
                   who[0] ? " for " : "", who);
        printf("\n");
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}
