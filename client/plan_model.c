/* The recovery plan on the client side: reading, packing, printing, and the plain-word
 * commands of `mutual plan edit`. Limits are checked here before anything is sent so that a
 * person is told what is wrong in their own terms (the server checks them again). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "plan_model.h"

static const char *const list_keys[PLAN_NLISTS] = {"triggers", "warning_signs", "coping"};

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static bool get_bool(const mu_value *map, const char *key)
{
    bool b = false;
    mu_value_bool(mu_value_get(map, key), &b);
    return b;
}

void plan_from_value(plan *p, const mu_value *v)
{
    memset(p, 0, sizeof(*p));
    const mu_value *goals = mu_value_get(v, "goals");
    for (size_t i = 0; i < mu_value_len(goals) && p->ngoals < PLAN_GOALS_MAX; i++) {
        const mu_value *g = mu_value_at(goals, i);
        plan_goal *pg = &p->goals[p->ngoals++];
        copy_text(pg->text, sizeof(pg->text), mu_value_get_str(g, "text"));
        pg->done = get_bool(g, "done");
        const mu_value *steps = mu_value_get(g, "steps");
        for (size_t j = 0; j < mu_value_len(steps) && pg->nsteps < PLAN_STEPS_MAX; j++) {
            const mu_value *s = mu_value_at(steps, j);
            plan_step *ps = &pg->steps[pg->nsteps++];
            copy_text(ps->text, sizeof(ps->text), mu_value_get_str(s, "text"));
            ps->done = get_bool(s, "done");
        }
    }
    for (int k = 0; k < PLAN_NLISTS; k++) {
        const mu_value *l = mu_value_get(v, list_keys[k]);
        for (size_t i = 0; i < mu_value_len(l) && p->nlist[k] < PLAN_LIST_MAX; i++)
            copy_text(p->lists[k][p->nlist[k]++], PLAN_TEXT_MAX + 1,
                      mu_value_str(mu_value_at(l, i)));
    }
    const mu_value *people = mu_value_get(v, "people");
    for (size_t i = 0; i < mu_value_len(people) && p->npeople < PLAN_PEOPLE_MAX; i++) {
        const mu_value *e = mu_value_at(people, i);
        plan_person *pp = &p->people[p->npeople++];
        copy_text(pp->name, sizeof(pp->name), mu_value_get_str(e, "name"));
        copy_text(pp->phone, sizeof(pp->phone), mu_value_get_str(e, "phone"));
        copy_text(pp->note, sizeof(pp->note), mu_value_get_str(e, "note"));
    }
    p->updated = mu_value_get_int(v, "updated", 0);
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void plan_pack(const plan *p, msgpack_packer *pk)
{
    msgpack_pack_map(pk, 5);
    pack_str(pk, "goals");
    msgpack_pack_array(pk, (size_t)p->ngoals);
    for (int i = 0; i < p->ngoals; i++) {
        const plan_goal *g = &p->goals[i];
        msgpack_pack_map(pk, 3);
        pack_str(pk, "text");
        pack_str(pk, g->text);
        pack_str(pk, "done");
        g->done ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        pack_str(pk, "steps");
        msgpack_pack_array(pk, (size_t)g->nsteps);
        for (int j = 0; j < g->nsteps; j++) {
            msgpack_pack_map(pk, 2);
            pack_str(pk, "text");
            pack_str(pk, g->steps[j].text);
            pack_str(pk, "done");
            g->steps[j].done ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        }
    }
    for (int k = 0; k < PLAN_NLISTS; k++) {
        pack_str(pk, list_keys[k]);
        msgpack_pack_array(pk, (size_t)p->nlist[k]);
        for (int i = 0; i < p->nlist[k]; i++)
            pack_str(pk, p->lists[k][i]);
    }
    pack_str(pk, "people");
    msgpack_pack_array(pk, (size_t)p->npeople);
    for (int i = 0; i < p->npeople; i++) {
        const plan_person *e = &p->people[i];
        msgpack_pack_map(pk, 1 + (e->phone[0] != 0) + (e->note[0] != 0));
        pack_str(pk, "name");
        pack_str(pk, e->name);
        if (e->phone[0]) {
            pack_str(pk, "phone");
            pack_str(pk, e->phone);
        }
        if (e->note[0]) {
            pack_str(pk, "note");
            pack_str(pk, e->note);
        }
    }
}

bool plan_is_empty(const plan *p)
{
    int n = p->ngoals + p->npeople;
    for (int k = 0; k < PLAN_NLISTS; k++)
        n += p->nlist[k];
    return n == 0;
}

static const char *const list_titles[PLAN_NLISTS] = {"What can set me off (triggers)",
                                                     "Warning signs to watch for",
                                                     "What helps me cope (coping strategies)"};

void plan_print(const plan *p, FILE *f, bool own)
{
    if (p->updated > 0) {
        time_t t = (time_t)(p->updated / 1000);
        struct tm tm;
        char when[32];
        localtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
        fprintf(f, "Last changed %s\n", when);
    }
    fprintf(f, "\nGoals (%d of %d)\n", p->ngoals, PLAN_GOALS_MAX);
    if (!p->ngoals)
        fprintf(f, "  none yet\n");
    for (int i = 0; i < p->ngoals; i++) {
        const plan_goal *g = &p->goals[i];
        fprintf(f, "  %d. %s%s\n", i + 1, g->done ? "[reached] " : "", g->text);
        for (int j = 0; j < g->nsteps; j++)
            fprintf(f, "     %d.%d [%c] %s\n", i + 1, j + 1, g->steps[j].done ? 'x' : ' ',
                    g->steps[j].text);
    }
    for (int k = 0; k < PLAN_NLISTS; k++) {
        fprintf(f, "\n%s (%d of %d)\n", list_titles[k], p->nlist[k], PLAN_LIST_MAX);
        if (!p->nlist[k])
            fprintf(f, "  none yet\n");
        for (int i = 0; i < p->nlist[k]; i++)
            fprintf(f, "  %d. %s\n", i + 1, p->lists[k][i]);
    }
    if (!own)
        return;
    fprintf(f, "\nPeople I can call (%d of %d; only you ever see these)\n", p->npeople,
            PLAN_PEOPLE_MAX);
    if (!p->npeople)
        fprintf(f, "  none yet\n");
    for (int i = 0; i < p->npeople; i++) {
        const plan_person *e = &p->people[i];
        fprintf(f, "  %d. %s", i + 1, e->name);
        if (e->phone[0])
            fprintf(f, "  %s", e->phone);
        if (e->note[0])
            fprintf(f, "  (%s)", e->note);
        fprintf(f, "\n");
    }
}

/* ---- the typed commands --------------------------------------------------------------- */

static const char *skip_space(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* The word w (whole, any case) at the start of s: returns what follows it, else NULL. */
static const char *word(const char *s, const char *w)
{
    size_t n = strlen(w);
    if (strncasecmp(s, w, n) != 0)
        return NULL;
    if (s[n] && !isspace((unsigned char)s[n]))
        return NULL;
    return skip_space(s + n);
}

static void trim_copy(char *dst, size_t cap, const char *src, size_t len)
{
    while (len && isspace((unsigned char)*src)) {
        src++;
        len--;
    }
    while (len && isspace((unsigned char)src[len - 1]))
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

plan_kind plan_parse_kind(const char *s, const char **rest)
{
    static const struct {
        const char *w;
        plan_kind k;
    } kinds[] = {
        /* longer phrases first, so "warning sign" is not read as "warning" + "sign ..." */
        {"warning signs", PLAN_KIND_WARNING_SIGN},
        {"warning sign", PLAN_KIND_WARNING_SIGN},
        {"coping strategies", PLAN_KIND_COPING},
        {"coping strategy", PLAN_KIND_COPING},
        {"goals", PLAN_KIND_GOAL},
        {"goal", PLAN_KIND_GOAL},
        {"steps", PLAN_KIND_STEP},
        {"step", PLAN_KIND_STEP},
        {"triggers", PLAN_KIND_TRIGGER},
        {"trigger", PLAN_KIND_TRIGGER},
        {"warning", PLAN_KIND_WARNING_SIGN},
        {"sign", PLAN_KIND_WARNING_SIGN},
        {"coping", PLAN_KIND_COPING},
        {"strategy", PLAN_KIND_COPING},
        {"people", PLAN_KIND_PERSON},
        {"person", PLAN_KIND_PERSON},
        {"contact", PLAN_KIND_PERSON},
    };
    s = skip_space(s);
    /* "a goal", "the trigger" read as well */
    const char *after = word(s, "a");
    if (!after)
        after = word(s, "an");
    if (!after)
        after = word(s, "the");
    if (after)
        s = after;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const char *r = word(s, kinds[i].w);
        if (r) {
            if (rest)
                *rest = r;
            return kinds[i].k;
        }
    }
    if (rest)
        *rest = s;
    return PLAN_KIND_NONE;
}

const char *plan_kind_word(plan_kind k)
{
    switch (k) {
    case PLAN_KIND_GOAL: return "goal";
    case PLAN_KIND_STEP: return "step";
    case PLAN_KIND_TRIGGER: return "trigger";
    case PLAN_KIND_WARNING_SIGN: return "warning sign";
    case PLAN_KIND_COPING: return "coping strategy";
    case PLAN_KIND_PERSON: return "person";
    case PLAN_KIND_NONE: break;
    }
    return "entry";
}

int plan_kind_max(plan_kind k)
{
    switch (k) {
    // NOLINTNEXTLINE(bugprone-branch-clone): three limits, equal today only by chance
    case PLAN_KIND_GOAL: return PLAN_GOALS_MAX;
    case PLAN_KIND_STEP: return PLAN_STEPS_MAX;
    case PLAN_KIND_PERSON: return PLAN_PEOPLE_MAX;
    case PLAN_KIND_TRIGGER:
    case PLAN_KIND_WARNING_SIGN:
    case PLAN_KIND_COPING: return PLAN_LIST_MAX;
    case PLAN_KIND_NONE: break;
    }
    return 0;
}

static int list_of(plan_kind k)
{
    return k == PLAN_KIND_TRIGGER        ? PLAN_TRIGGERS
           : k == PLAN_KIND_WARNING_SIGN ? PLAN_WARNING_SIGNS
                                         : PLAN_COPING;
}

int plan_kind_count(const plan *p, plan_kind k, int goal)
{
    switch (k) {
    case PLAN_KIND_GOAL: return p->ngoals;
    case PLAN_KIND_STEP: return goal >= 1 && goal <= p->ngoals ? p->goals[goal - 1].nsteps : 0;
    case PLAN_KIND_PERSON: return p->npeople;
    case PLAN_KIND_TRIGGER:
    case PLAN_KIND_WARNING_SIGN:
    case PLAN_KIND_COPING: return p->nlist[list_of(k)];
    case PLAN_KIND_NONE: break;
    }
    return 0;
}

/* "3" or "1.2" at the start of s: numbers of 1 to 99 only. Returns what follows, else NULL. */
static const char *number(const char *s, int *a, int *b)
{
    char *end;
    *a = *b = 0;
    if (!isdigit((unsigned char)*s))
        return NULL;
    long x = strtol(s, &end, 10);
    if (x < 1 || x > 99)
        return NULL;
    if (*end == '.' && isdigit((unsigned char)end[1])) {
        long y = strtol(end + 1, &end, 10);
        if (y < 1 || y > 99)
            return NULL;
        *b = (int)y;
    }
    if (*end && !isspace((unsigned char)*end))
        return NULL;
    *a = (int)x;
    return skip_space(end);
}

/* "Sam, 07700 900123, my sister": the name, then the phone and a note when given. */
static void split_person(plan_cmd *c, const char *s)
{
    const char *c1 = strchr(s, ',');
    const char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    trim_copy(c->text, sizeof(c->text), s, c1 ? (size_t)(c1 - s) : strlen(s));
    if (c1)
        trim_copy(c->phone, sizeof(c->phone), c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1));
    if (c2)
        trim_copy(c->note, sizeof(c->note), c2 + 1, strlen(c2 + 1));
}

static void bad(plan_cmd *c, const char *why)
{
    c->verb = PLAN_CMD_BAD;
    snprintf(c->err, sizeof(c->err), "%s", why);
}

void plan_parse(const char *line, plan_cmd *c)
{
    memset(c, 0, sizeof(*c));
    const char *s = skip_space(line);
    const char *r;
    if (!*s)
        return;
    if ((r = word(s, "add")) || (r = word(s, "new")))
        c->verb = PLAN_CMD_ADD;
    else if ((r = word(s, "remove")) || (r = word(s, "delete")) || (r = word(s, "drop")))
        c->verb = PLAN_CMD_REMOVE;
    else if ((r = word(s, "untick")) || (r = word(s, "undo")))
        c->verb = PLAN_CMD_UNTICK;
    else if ((r = word(s, "tick")) || (r = word(s, "check"))) {
        c->verb = PLAN_CMD_TICK;
        const char *off = word(r, "off");
        if (off)
            r = off;
    } else if ((r = word(s, "show")) || (r = word(s, "list")) || (r = word(s, "view")))
        c->verb = PLAN_CMD_SHOW;
    else if ((r = word(s, "help")) || (r = word(s, "?")))
        c->verb = PLAN_CMD_HELP;
    else if ((r = word(s, "done")) || (r = word(s, "finish")) || (r = word(s, "quit")) ||
             (r = word(s, "exit")) || (r = word(s, "q")))
        c->verb = PLAN_CMD_DONE;
    else
        return bad(c, "Start with add, remove, tick, untick, show or done (help lists them).");
    if (c->verb == PLAN_CMD_SHOW || c->verb == PLAN_CMD_HELP || c->verb == PLAN_CMD_DONE)
        return;
    c->kind = plan_parse_kind(r, &r);
    int a = 0, b = 0;
    const char *after = number(r, &a, &b);
    if (c->verb == PLAN_CMD_ADD) {
        if (c->kind == PLAN_KIND_STEP && after && !b) {
            c->goal = a;
            r = after;
        } else if (c->kind == PLAN_KIND_NONE && *r)
            return bad(c, "Add what? Say goal, step, trigger, warning sign, coping strategy or "
                          "person.");
        if (c->kind == PLAN_KIND_PERSON)
            split_person(c, r);
        else
            trim_copy(c->text, sizeof(c->text), r, strlen(r));
        return;
    }
    /* remove, tick, untick: a number, "1.2" for a step */
    if (!after) {
        if (*r)
            return bad(c, "Say which one by its number, for example 2, or 1.3 for the third "
                          "step of goal 1.");
        return; /* nothing more said: the walk-through asks */
    }
    if (*after)
        return bad(c, "Only a number is needed after that, for example 2 or 1.3.");
    if (b) {
        if (c->kind != PLAN_KIND_NONE && c->kind != PLAN_KIND_STEP)
            return bad(c, "A number like 1.3 names a step: the third step of goal 1.");
        c->kind = PLAN_KIND_STEP;
        c->goal = a;
        c->step = b;
    } else if (c->kind == PLAN_KIND_STEP) {
        return bad(c, "Name a step by its goal and its place, for example 1.3.");
    } else if (c->kind == PLAN_KIND_GOAL ||
               (c->kind == PLAN_KIND_NONE && c->verb != PLAN_CMD_REMOVE)) {
        c->kind = PLAN_KIND_GOAL; /* "tick 2": the whole goal is reached */
        c->goal = a;
    } else if (c->kind == PLAN_KIND_NONE) {
        return bad(c, "Remove what? Say goal, trigger, warning sign, coping strategy or "
                      "person before the number.");
    } else {
        c->item = a;
    }
    if ((c->verb == PLAN_CMD_TICK || c->verb == PLAN_CMD_UNTICK) && c->kind != PLAN_KIND_GOAL &&
        c->kind != PLAN_KIND_STEP)
        return bad(c, "Only steps and goals are ticked off.");
}

/* A text of 1 to max bytes. */
static bool check_text(const char *what, const char *t, size_t max, bool optional, char *err,
                       size_t cap)
{
    size_t n = strlen(t);
    if (!n && !optional) {
        snprintf(err, cap, "The %s needs some words.", what);
        return false;
    }
    if (n > max) {
        snprintf(err, cap,
                 "That %s is %zu bytes long; it can be up to %zu (accented and non-Latin "
                 "letters take two or more).",
                 what, n, max);
        return false;
    }
    return true;
}

static bool check_number(const char *what, int n, int count, char *err, size_t cap)
{
    if (n >= 1 && n <= count)
        return true;
    if (!count)
        snprintf(err, cap, "There is no %s yet.", what);
    else
        snprintf(err, cap, "There is no %s %d: the numbers go from 1 to %d.", what, n, count);
    return false;
}

static bool apply_add(plan *p, const plan_cmd *c, char *done, size_t dcap, char *err, size_t ecap)
{
    const char *w = plan_kind_word(c->kind);
    int max = plan_kind_max(c->kind);
    if (c->kind == PLAN_KIND_STEP && !check_number("goal", c->goal, p->ngoals, err, ecap))
        return false;
    int have = plan_kind_count(p, c->kind, c->goal);
    if (have >= max) {
        if (c->kind == PLAN_KIND_STEP)
            snprintf(err, ecap,
                     "Goal %d already has %d steps, the most a goal holds; remove one first.",
                     c->goal, have);
        else
            snprintf(err, ecap,
                     "Your plan already has %d %s entries, the most it holds; remove "
                     "one first.",
                     have, w);
        return false;
    }
    if (c->kind == PLAN_KIND_PERSON) {
        if (!check_text("name", c->text, PLAN_NAME_MAX, false, err, ecap) ||
            !check_text("phone number", c->phone, PLAN_PHONE_MAX, true, err, ecap) ||
            !check_text("note", c->note, PLAN_NOTE_MAX, true, err, ecap))
            return false;
        plan_person *e = &p->people[p->npeople++];
        copy_text(e->name, sizeof(e->name), c->text);
        copy_text(e->phone, sizeof(e->phone), c->phone);
        copy_text(e->note, sizeof(e->note), c->note);
    } else {
        if (!check_text(w, c->text, PLAN_TEXT_MAX, false, err, ecap))
            return false;
        if (c->kind == PLAN_KIND_GOAL) {
            plan_goal *g = &p->goals[p->ngoals++];
            memset(g, 0, sizeof(*g));
            copy_text(g->text, sizeof(g->text), c->text);
        } else if (c->kind == PLAN_KIND_STEP) {
            plan_goal *g = &p->goals[c->goal - 1];
            plan_step *st = &g->steps[g->nsteps++];
            copy_text(st->text, sizeof(st->text), c->text);
            st->done = false;
        } else {
            int l = list_of(c->kind);
            copy_text(p->lists[l][p->nlist[l]++], PLAN_TEXT_MAX + 1, c->text);
        }
    }
    {
        if (c->kind == PLAN_KIND_STEP)
            snprintf(done, dcap, "Step %d.%d added (%d of %d for this goal).", c->goal, have + 1,
                     have + 1, max);
        else
            snprintf(done, dcap, "%c%s %d added (%d of %d).", toupper((unsigned char)w[0]), w + 1,
                     have + 1, have + 1, max);
    }
    return true;
}

bool plan_apply(plan *p, const plan_cmd *c, char *done, size_t dcap, char *err, size_t ecap)
{
    char scratch[8];
    if (!done) {
        done = scratch;
        dcap = sizeof(scratch);
    }
    done[0] = 0;
    if (c->verb == PLAN_CMD_ADD)
        return apply_add(p, c, done, dcap, err, ecap);
    if (c->verb != PLAN_CMD_REMOVE && c->verb != PLAN_CMD_TICK && c->verb != PLAN_CMD_UNTICK) {
        snprintf(err, ecap, "That does not change the plan.");
        return false;
    }
    bool tick = c->verb == PLAN_CMD_TICK;
    if (c->kind == PLAN_KIND_GOAL || c->kind == PLAN_KIND_STEP) {
        if (!check_number("goal", c->goal, p->ngoals, err, ecap))
            return false;
        plan_goal *g = &p->goals[c->goal - 1];
        if (c->kind == PLAN_KIND_STEP) {
            char what[32];
            snprintf(what, sizeof(what), "step in goal %d", c->goal);
            if (!check_number(what, c->step, g->nsteps, err, ecap))
                return false;
            if (c->verb == PLAN_CMD_REMOVE) {
                memmove(&g->steps[c->step - 1], &g->steps[c->step],
                        sizeof(g->steps[0]) * (size_t)(g->nsteps - c->step));
                g->nsteps--;
                snprintf(done, dcap, "Step %d.%d removed.", c->goal, c->step);
            } else {
                g->steps[c->step - 1].done = tick;
                snprintf(done, dcap,
                         tick ? "Step %d.%d ticked off: well done." : "Step %d.%d is open again.",
                         c->goal, c->step);
            }
            return true;
        }
        if (c->verb == PLAN_CMD_REMOVE) {
            memmove(g, g + 1, sizeof(*g) * (size_t)(p->ngoals - c->goal));
            p->ngoals--;
            snprintf(done, dcap, "Goal %d removed, with its steps.", c->goal);
        } else {
            g->done = tick;
            snprintf(done, dcap, tick ? "Goal %d marked as reached." : "Goal %d is open again.",
                     c->goal);
        }
        return true;
    }
    if (c->kind == PLAN_KIND_NONE || tick || c->verb == PLAN_CMD_UNTICK) {
        snprintf(err, ecap, "Say which goal or step, for example 2 or 1.3.");
        return false;
    }
    const char *w = plan_kind_word(c->kind);
    int count = plan_kind_count(p, c->kind, 0);
    if (!check_number(w, c->item, count, err, ecap))
        return false;
    if (c->kind == PLAN_KIND_PERSON) {
        memmove(&p->people[c->item - 1], &p->people[c->item],
                sizeof(p->people[0]) * (size_t)(p->npeople - c->item));
        p->npeople--;
    } else {
        int l = list_of(c->kind);
        memmove(p->lists[l][c->item - 1], p->lists[l][c->item],
                sizeof(p->lists[l][0]) * (size_t)(p->nlist[l] - c->item));
        p->nlist[l]--;
    }
    snprintf(done, dcap, "%c%s %d removed.", toupper((unsigned char)w[0]), w + 1, c->item);
    return true;
}
