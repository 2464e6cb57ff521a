/* Today's check-in, by flags or by questions in plain words. Every answer is parsed strictly
 * before anything is sent: a bad flag is refused with its name, a bad typed answer is asked
 * again, so no answer is ever saved as a number nobody gave. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_parse.h"

#define MAX_TRIGGERS 10

/* The WHO-5 Wellbeing Index, about the last two weeks, each 0 (at no time) to 5 (all of the
 * time). */
static const char *const who5_items[5] = {
    "I have felt cheerful and in good spirits.",
    "I have felt calm and relaxed.",
    "I have felt active and vigorous.",
    "I woke up feeling fresh and rested.",
    "My daily life has been filled with things that interest me.",
};

/* The Brief Assessment of Recovery Capital, each 1 (strongly disagree) to 6 (strongly
 * agree). */
static const char *const barc10_items[10] = {
    "There are more important things to me in life than using substances.",
    "In general I am happy with my life.",
    "I have enough energy to complete the tasks I set for myself.",
    "I am proud of the community I live in and feel part of it.",
    "I get lots of support from friends.",
    "I regard my life as challenging and fulfilling without the need for using drugs or alcohol.",
    "My living space has helped to drive my recovery journey.",
    "I take full responsibility for my actions.",
    "I am happy dealing with a range of professional people.",
    "I am making good progress on my recovery journey.",
};

typedef struct {
    bool have_mood, have_craving, have_sleep, have_who5, have_barc10;
    long mood, craving, sleep;
    const char *use, *stage;
    int64_t who5[5], barc10[10];
    char triggers[MAX_TRIGGERS][41];
    int ntrig;
    char note[2100];
    bool have_note;
} answers;

typedef enum { ASK_OK, ASK_SKIP, ASK_EOF } ask_rc;

static ask_rc ask_int(const char *question, long lo, long hi, bool optional, long *out)
{
    char a[256];
    for (;;) {
        if (!cli_ask(question, a, sizeof(a)))
            return ASK_EOF;
        if (optional && cli_blank(a))
            return ASK_SKIP;
        if (parse_int(a, lo, hi, out))
            return ASK_OK;
        printf("  Please answer with a whole number from %ld to %ld%s.\n", lo, hi,
               optional ? " (or leave it blank to skip)" : "");
    }
}

static ask_rc ask_word(const char *question, const char *const *words, const char *hint,
                       const char **out)
{
    char a[256];
    for (;;) {
        if (!cli_ask(question, a, sizeof(a)))
            return ASK_EOF;
        if (cli_blank(a))
            return ASK_SKIP;
        if ((*out = parse_word(a, words)) != NULL)
            return ASK_OK;
        printf("  Please answer %s (or leave it blank to skip).\n", hint);
    }
}

/* A questionnaire of n statements: a blank first answer skips it whole; once begun every
 * statement needs its answer. */
static ask_rc ask_block(const char *intro, const char *const *items, int n, long lo, long hi,
                        int64_t *out)
{
    printf("%s\n", intro);
    for (int i = 0; i < n; i++) {
        char q[300];
        snprintf(q, sizeof(q), "  %d. %s", i + 1, items[i]);
        long v;
        ask_rc rc = ask_int(q, lo, hi, i == 0, &v);
        if (rc != ASK_OK)
            return rc;
        out[i] = v;
    }
    return ASK_OK;
}

static void add_triggers(answers *an, char *text)
{
    char *save = NULL;
    for (char *t = strtok_r(text, ",", &save); t && an->ntrig < MAX_TRIGGERS;
         t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        size_t n = strlen(t);
        while (n && t[n - 1] == ' ')
            t[--n] = 0;
        if (n)
            snprintf(an->triggers[an->ntrig++], sizeof(an->triggers[0]), "%.40s", t);
    }
}

/* The questions for this role. A carer (family) is asked about their own wellbeing, not
 * about craving or use. Returns false when input ended: nothing is submitted then. */
static bool ask_all(answers *an, bool family)
{
    char a[2100];
    printf("Daily check-in. Leave a question blank to skip it (all but mood); Ctrl-D cancels.\n");
    if (ask_int("How is your mood today, from 0 (very low) to 10 (very good)?", 0, 10, false,
                &an->mood) == ASK_EOF)
        return false;
    an->have_mood = true;
    ask_rc rc;
    if (!family) {
        rc = ask_int("How strong are your cravings today, from 0 (none) to 10 (overwhelming)?", 0,
                     10, true, &an->craving);
        if (rc == ASK_EOF)
            return false;
        an->have_craving = rc == ASK_OK;
    }
    rc = ask_int("How well did you sleep last night, from 0 (not at all) to 10 (very well)?", 0, 10,
                 true, &an->sleep);
    if (rc == ASK_EOF)
        return false;
    an->have_sleep = rc == ASK_OK;
    if (!family) {
        if (ask_word("Did you use today? Answer none, as planned, or more than planned:",
                     parse_use_words, "none, as planned, or more than planned",
                     &an->use) == ASK_EOF)
            return false;
        if (ask_word("Where are you with change right now? precontemplation (not thinking "
                     "about it), contemplation (thinking about it), preparation (getting "
                     "ready), action (making changes), maintenance (keeping them up), or "
                     "relapse (starting again):",
                     parse_stage_words, "with one of the six words", &an->stage) == ASK_EOF)
            return false;
    }
    rc = ask_block("Over the last two weeks, how often was each of these true? 5 all of the "
                   "time, 4 most of the time, 3 more than half of the time, 2 less than half "
                   "of the time, 1 some of the time, 0 at no time. (WHO-5; leave the first "
                   "blank to skip all five.)",
                   who5_items, 5, 0, 5, an->who5);
    if (rc == ASK_EOF)
        return false;
    an->have_who5 = rc == ASK_OK;
    if (!family) {
        rc = ask_block("How much do you agree with each of these? 1 strongly disagree, 2 "
                       "disagree, 3 somewhat disagree, 4 somewhat agree, 5 agree, 6 strongly "
                       "agree. (BARC-10, your recovery capital; leave the first blank to skip "
                       "all ten.)",
                       barc10_items, 10, 1, 6, an->barc10);
        if (rc == ASK_EOF)
            return false;
        an->have_barc10 = rc == ASK_OK;
    }
    if (!cli_ask(family ? "Did anything cause you stress today? (a few words, separated "
                          "by commas; blank for nothing)"
                        : "Did anything set off a craving or a hard moment today? (a few "
                          "words, separated by commas; blank for nothing)",
                 a, sizeof(a)))
        return false;
    add_triggers(an, a);
    if (!cli_ask("A private note, only ever shown to you (blank for none):", an->note,
                 sizeof(an->note)))
        return false;
    an->have_note = !cli_blank(an->note);
    return true;
}

static int flag_error(const char *flag, const char *value, const char *want)
{
    fprintf(stderr, "mutual: %s: '%s' is not %s; nothing was submitted\n", flag, value, want);
    return 2;
}

/* Reads the flags into an; returns 0, or 2 with the flag named on stderr. */
static int parse_flags(answers *an, int *tz, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        static const char *const known[] = {"--mood",  "--craving", "--sleep",  "--use",
                                            "--stage", "--who5",    "--barc10", "--trigger",
                                            "--note",  "--tz",      NULL};
        bool is_known = false;
        for (int j = 0; known[j]; j++)
            is_known |= !strcmp(o, known[j]);
        if (!is_known) {
            fprintf(stderr, "mutual: checkin: unknown option '%s' (see mutual --help)\n", o);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "mutual: checkin: %s needs a value\n", o);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(o, "--mood") || !strcmp(o, "--craving") || !strcmp(o, "--sleep")) {
            long n;
            if (!parse_int(v, 0, 10, &n))
                return flag_error(o, v, "a whole number from 0 to 10");
            if (o[2] == 'm')
                an->mood = n, an->have_mood = true;
            else if (o[2] == 'c')
                an->craving = n, an->have_craving = true;
            else
                an->sleep = n, an->have_sleep = true;
        } else if (!strcmp(o, "--use")) {
            if (!(an->use = parse_word(v, parse_use_words)))
                return flag_error(o, v, "none, as_planned or more_than_planned");
        } else if (!strcmp(o, "--stage")) {
            if (!(an->stage = parse_word(v, parse_stage_words)))
                return flag_error(o, v,
                                  "precontemplation, contemplation, preparation, action, "
                                  "maintenance or relapse");
        } else if (!strcmp(o, "--who5")) {
            if (parse_int_list(v, an->who5, 5, 0, 5) != 5)
                return flag_error(o, v, "five whole numbers from 0 to 5, like 3,4,2,3,4");
            an->have_who5 = true;
        } else if (!strcmp(o, "--barc10")) {
            if (parse_int_list(v, an->barc10, 10, 1, 6) != 10)
                return flag_error(o, v, "ten whole numbers from 1 to 6, like 4,5,4,3,5,4,5,6,4,5");
            an->have_barc10 = true;
        } else if (!strcmp(o, "--trigger")) {
            if (an->ntrig == MAX_TRIGGERS || strlen(v) == 0 || strlen(v) > 40)
                return flag_error(o, v, "1 to 40 bytes (at most 10 triggers)");
            snprintf(an->triggers[an->ntrig++], sizeof(an->triggers[0]), "%s", v);
        } else if (!strcmp(o, "--note")) {
            snprintf(an->note, sizeof(an->note), "%s", v);
            an->have_note = true;
        } else if (!parse_tz(v, tz)) {
            return flag_error(o, v, "a whole number of minutes east of UTC from -720 to 840");
        }
    }
    return 0;
}

static mu_req *build_submit(const answers *an, int tz)
{
    mu_req *r = mu_req_new(MU_OPNAME_CHECKIN_SUBMIT);
    mu_req_int(r, "tz", tz);
    mu_req_int(r, "mood", an->mood);
    if (an->have_craving)
        mu_req_int(r, "craving", an->craving);
    if (an->have_sleep)
        mu_req_int(r, "sleep", an->sleep);
    if (an->use)
        mu_req_str(r, "use", an->use);
    if (an->stage)
        mu_req_str(r, "stage", an->stage);
    if (an->have_who5)
        mu_req_ints(r, "who5", an->who5, 5);
    if (an->have_barc10)
        mu_req_ints(r, "barc10", an->barc10, 10);
    if (an->ntrig) {
        const char *t[MAX_TRIGGERS];
        for (int i = 0; i < an->ntrig; i++)
            t[i] = an->triggers[i];
        mu_req_strs(r, "triggers", t, (size_t)an->ntrig);
    }
    if (an->have_note)
        mu_req_str(r, "note", an->note);
    return r;
}

int checkin_local_tz(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return (int)(tm.tm_gmtoff / 60);
}

/* Today's date at offset tz, as the server computes it. */
static void local_date(int tz, int days_back, char *out, size_t cap)
{
    time_t t = time(NULL) + (time_t)tz * 60 - (time_t)days_back * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%d", &tm);
}

/* Looks up the role and today's check-in; shows it and says it will be replaced. */
static int before_checkin(const cli_ctx *cx, int tz, char *role, size_t cap)
{
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return -1;
    snprintf(role, cap, "%s", s.role);
    char today[16];
    local_date(tz, 0, today, sizeof(today));
    mu_req *r = mu_req_new(MU_OPNAME_CHECKIN_LIST);
    mu_req_str(r, "from", today);
    mu_msg *m = call(&k, r);
    if (m && mu_value_len(mu_msg_get(m, "checkins"))) {
        const mu_value *list = mu_msg_get(m, "checkins");
        printf("You already checked in today (%s); this check-in replaces it. Today's answers:\n",
               today);
        checkin_print_header();
        checkin_print_row(mu_value_at(list, mu_value_len(list) - 1));
    }
    mu_msg_free(m);
    close_conn(&k);
    return 0;
}

int cmd_checkin(const cli_ctx *cx, int argc, char **argv)
{
    answers an = {0};
    int tz = checkin_local_tz();
    int rc = parse_flags(&an, &tz, argc, argv);
    if (rc != 0)
        return rc;
    bool only_tz = argc == 0 || (argc == 2 && !strcmp(argv[0], "--tz"));
    if (!an.have_mood && !only_tz) {
        fprintf(stderr, "mutual: checkin: --mood is needed with the other options "
                        "(or give none to be asked)\n");
        return 2;
    }
    char role[16];
    if (before_checkin(cx, tz, role, sizeof(role)) != 0)
        return 1;
    if (!an.have_mood && !ask_all(&an, !strcmp(role, "family"))) {
        printf("Check-in cancelled; nothing was submitted.\n");
        return 1;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    mu_msg *m = call(&k, build_submit(&an, tz));
    rc = 1;
    if (m) {
        const mu_value *v = mu_msg_root(m);
        printf("checked in for %s; streak %lld day%s", mu_value_get_str(v, "date"),
               (long long)mu_value_get_int(v, "streak", 0),
               mu_value_get_int(v, "streak", 0) == 1 ? "" : "s");
        if (mu_value_get(v, "who5_pct"))
            printf("; WHO-5 %lld%%", (long long)mu_value_get_int(v, "who5_pct", 0));
        if (mu_value_get(v, "barc10_total"))
            printf("; BARC-10 %lld of 60", (long long)mu_value_get_int(v, "barc10_total", 0));
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
