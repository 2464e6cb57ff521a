/* Check-ins: today's, the list with trends, the summary; mentors' alerts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

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

int cmd_checkin(const cli_ctx *cx, int argc, char **argv)
{
    mu_req *r = mu_req_new(MU_OPNAME_CHECKIN_SUBMIT);
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
    if (open_session(&k, cx->server_opt, &s) != 0) {
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

int cmd_checkins(const cli_ctx *cx, int argc, char **argv)
{
    int days = days_opt(argc, argv, 14);
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    time_t now = time(NULL) - (time_t)(days - 1) * 86400;
    struct tm tm;
    localtime_r(&now, &tm);
    char from[16];
    strftime(from, sizeof(from), "%Y-%m-%d", &tm);
    mu_req *r = mu_req_new(MU_OPNAME_CHECKIN_LIST);
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

int cmd_summary(const cli_ctx *cx, int argc, char **argv)
{
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    mu_req *r = mu_req_new(MU_OPNAME_CHECKIN_SUMMARY);
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

int cmd_alerts(const cli_ctx *cx, int argc, char **argv)
{
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    mu_req *r = mu_req_new(MU_OPNAME_ALERTS_LIST);
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


int cmd_ack(const cli_ctx *cx, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "mutual: usage: mutual ack ID\n");
        return 2;
    }
    mu_req *r = mu_req_new(MU_OPNAME_ALERT_ACK);
    char msg[128];
    mu_req_int(r, "id", atoll(argv[0]));
    snprintf(msg, sizeof(msg), "alert %s closed", argv[0]);
    return simple_call(cx->server_opt, r, msg);
}
