/* mutual plan: one's own recovery plan, shown and changed in plain words; a mentee's plan
 * for their mentor. `plan edit` reads its answers as lines from standard input (a terminal
 * or a pipe), saves each change at once, and asks for whatever a typed command left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plan_model.h"

static const char edit_help[] =
    "Type one of these (numbers are the ones shown in the plan):\n"
    "  add goal Get back to work           add step 1 Call the job centre\n"
    "  add trigger Payday                  add warning sign Skipping meals\n"
    "  add coping strategy Walk the dog    add person Sam, 07700 900123, my sister\n"
    "  tick 1.2   (a step done)            tick 1   (a whole goal reached)\n"
    "  untick 1.2                          remove step 1.2 | remove goal 1 | remove trigger 3\n"
    "  show                                done\n"
    "Just 'add', 'remove' or 'tick' asks what you mean. Each change is saved at once.\n";

/* Sends the whole plan; prints the server's sentence when it refuses. */
static bool plan_save(conn *k, const plan *p)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    plan_pack(p, &pk);
    mu_req *r = mu_req_new(MU_OPNAME_PLAN_SET);
    mu_req_raw(r, "plan", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    mu_msg *m = call(k, r);
    if (!m)
        return false;
    mu_msg_free(m);
    return true;
}

static bool plan_fetch(conn *k, plan *p)
{
    mu_msg *m = call(k, mu_req_new(MU_OPNAME_PLAN_GET));
    if (!m)
        return false;
    plan_from_value(p, mu_msg_get(m, "plan"));
    mu_msg_free(m);
    return true;
}

/* Asks for a kind until one is named; false on a blank answer or the end of input. */
static bool ask_kind(const char *question, plan_kind *out)
{
    char a[256];
    for (;;) {
        if (!cli_ask(question, a, sizeof(a)) || cli_blank(a))
            return false;
        const char *rest;
        plan_kind k = plan_parse_kind(a, &rest);
        if (k != PLAN_KIND_NONE && !*rest) {
            *out = k;
            return true;
        }
        printf("  Please answer goal, step, trigger, warning sign, coping strategy or person "
               "(blank to cancel).\n");
    }
}

/* Completes an add: the kind, the goal of a step, the words. False when the person
 * cancelled (a blank answer) or input ended; *eof says which. */
static bool complete_add(const plan *p, plan_cmd *c, bool *eof)
{
    char a[1024], q[200];
    *eof = false;
    if (c->kind == PLAN_KIND_NONE &&
        !ask_kind("What would you like to add: a goal, a step, a trigger, a warning sign, a "
                  "coping strategy, or a person to call?",
                  &c->kind))
        return false;
    if (c->kind == PLAN_KIND_STEP && c->goal == 0) {
        if (p->ngoals == 0) {
            printf("  A step belongs to a goal: add a goal first.\n");
            return false;
        }
        c->goal = 1;
        if (p->ngoals > 1) {
            snprintf(q, sizeof(q), "Which goal is the step for? (1 to %d)", p->ngoals);
            long g = 0;
            for (;;) {
                if (!cli_ask(q, a, sizeof(a)))
                    return !(*eof = true);
                if (cli_blank(a))
                    return false;
                char *end;
                g = strtol(a, &end, 10);
                if (end != a && !*end && g >= 1 && g <= p->ngoals)
                    break;
                printf("  Please answer with a number from 1 to %d.\n", p->ngoals);
            }
            c->goal = (int)g;
        }
    }
    /* full already: say so before asking for words that could not be kept */
    int have = plan_kind_count(p, c->kind, c->goal), max = plan_kind_max(c->kind);
    if (have >= max && c->kind != PLAN_KIND_STEP) {
        printf("  Your plan already has %d %s entries, the most it holds; remove one first.\n",
               have, plan_kind_word(c->kind));
        return false;
    }
    if (c->kind == PLAN_KIND_STEP && c->goal <= p->ngoals && have >= max) {
        printf("  Goal %d already has %d steps, the most a goal holds; remove one first.\n",
               c->goal, have);
        return false;
    }
    if (c->text[0])
        return true;
    if (c->kind == PLAN_KIND_PERSON) {
        snprintf(q, sizeof(q),
                 "Who can you call? Their name (up to %d characters):", PLAN_NAME_MAX);
        if (!cli_ask(q, c->text, sizeof(c->text)))
            return !(*eof = true);
        if (cli_blank(c->text))
            return false;
        snprintf(q, sizeof(q),
                 "Their phone number (up to %d characters; blank for none):", PLAN_PHONE_MAX);
        if (!cli_ask(q, c->phone, sizeof(c->phone)))
            return !(*eof = true);
        snprintf(q, sizeof(q),
                 "A note, for example who they are to you (up to %d characters; blank for none):",
                 PLAN_NOTE_MAX);
        if (!cli_ask(q, c->note, sizeof(c->note)))
            return !(*eof = true);
        return true;
    }
    static const char *const questions[] = {
        [PLAN_KIND_GOAL] = "What is the goal, in your own words?",
        [PLAN_KIND_STEP] = "What is a small step towards it?",
        [PLAN_KIND_TRIGGER] = "What can set you off?",
        [PLAN_KIND_WARNING_SIGN] = "What is a warning sign that things are slipping?",
        [PLAN_KIND_COPING] = "What helps you cope?",
    };
    snprintf(q, sizeof(q), "%s (up to %d characters; blank to cancel)", questions[c->kind],
             PLAN_TEXT_MAX);
    if (!cli_ask(q, c->text, sizeof(c->text)))
        return !(*eof = true);
    return !cli_blank(c->text);
}

/* Completes a remove, tick or untick by asking which entry; re-reads the answer as a typed
 * command so the same rules apply. */
static bool complete_pick(const plan *p, plan_cmd *c, bool *eof)
{
    char a[256], q[200], line[400];
    *eof = false;
    bool tick = c->verb != PLAN_CMD_REMOVE;
    if (c->goal || c->item)
        return true;
    if (!tick && c->kind == PLAN_KIND_NONE &&
        !ask_kind("What would you like to remove: a goal, a step, a trigger, a warning sign, a "
                  "coping strategy, or a person?",
                  &c->kind))
        return false;
    if (c->kind == PLAN_KIND_GOAL)
        snprintf(q, sizeof(q), "Which goal? (1 to %d)", p->ngoals);
    else if (tick || c->kind == PLAN_KIND_STEP)
        snprintf(q, sizeof(q), "Which step? (goal.step, for example 1.2%s)",
                 tick && c->kind == PLAN_KIND_NONE ? ", or 2 for a whole goal" : "");
    else
        snprintf(q, sizeof(q), "Which %s? (1 to %d)", plan_kind_word(c->kind),
                 plan_kind_count(p, c->kind, 0));
    if (!cli_ask(q, a, sizeof(a)))
        return !(*eof = true);
    if (cli_blank(a))
        return false;
    static const char *const verbs[] = {
        [PLAN_CMD_REMOVE] = "remove", [PLAN_CMD_TICK] = "tick", [PLAN_CMD_UNTICK] = "untick"};
    snprintf(line, sizeof(line), "%s %s %s", verbs[c->verb],
             c->kind == PLAN_KIND_NONE ? "" : plan_kind_word(c->kind), a);
    plan_parse(line, c);
    if (c->verb == PLAN_CMD_BAD) {
        printf("  %s\n", c->err);
        return false;
    }
    return true;
}

static int plan_edit(conn *k)
{
    plan *p = malloc(sizeof(*p)), *next = malloc(sizeof(*next));
    plan_cmd *c = malloc(sizeof(*c));
    int rc = 1, saved = 0;
    if (!p || !next || !c) {
        fprintf(stderr, "mutual: out of memory\n");
        goto cleanup;
    }
    if (!plan_fetch(k, p))
        goto cleanup;
    printf("Your recovery plan\n");
    plan_print(p, stdout, true);
    printf("\n%s", edit_help);
    char line[1200];
    for (;;) {
        if (!cli_ask("\nWhat would you like to change? (add, remove, tick, show, help, done)", line,
                     sizeof(line)))
            break;
        plan_parse(line, c);
        bool eof = false, go = true;
        switch (c->verb) {
        case PLAN_CMD_NONE: continue;
        case PLAN_CMD_BAD: printf("  %s\n", c->err); continue;
        case PLAN_CMD_SHOW: plan_print(p, stdout, true); continue;
        case PLAN_CMD_HELP: printf("%s", edit_help); continue;
        case PLAN_CMD_DONE: goto finished;
        case PLAN_CMD_ADD: go = complete_add(p, c, &eof); break;
        case PLAN_CMD_REMOVE:
        case PLAN_CMD_TICK:
        case PLAN_CMD_UNTICK: go = complete_pick(p, c, &eof); break;
        }
        if (eof)
            break;
        if (!go) {
            printf("  Nothing changed.\n");
            continue;
        }
        char done[200], err[300];
        memcpy(next, p, sizeof(*p));
        if (!plan_apply(next, c, done, sizeof(done), err, sizeof(err))) {
            printf("  %s Nothing changed.\n", err);
            continue;
        }
        if (!plan_save(k, next)) {
            printf("  Not saved; your plan is as it was.\n");
            continue;
        }
        memcpy(p, next, sizeof(*p));
        saved++;
        printf("  %s Saved.\n", done);
    }
finished:
    printf(saved ? "Your plan is saved (%d change%s). 'mutual plan' shows it.\n"
                 : "No changes made.\n",
           saved, saved == 1 ? "" : "s");
    rc = 0;
cleanup:
    free(p);
    free(next);
    free(c);
    return rc;
}

static int plan_show_mentee(conn *k, const char *handle)
{
    mu_req *r = mu_req_new(MU_OPNAME_MENTEE_PLAN);
    mu_req_str(r, "handle", handle);
    mu_msg *m = mu_sync_call(k->sync, k->c, r, CLI_TIMEOUT_MS);
    if (!m) {
        fprintf(stderr, "mutual: no reply from the server\n");
        return 1;
    }
    int rc = 1;
    if (!mu_msg_ok(m)) {
        if (mu_msg_code(m) && !strcmp(mu_msg_code(m), "forbidden"))
            fprintf(stderr,
                    "mutual: you cannot see %s's plan: a mentor sees the plan of their own "
                    "mentee only while the mentee shares scores, and never the people in it\n",
                    handle);
        else
            cli_print_error(m);
        goto cleanup;
    }
    plan *p = malloc(sizeof(*p));
    if (!p)
        goto cleanup;
    plan_from_value(p, mu_msg_get(m, "plan"));
    if (plan_is_empty(p)) {
        printf("%s has not written a recovery plan yet.\n", handle);
    } else {
        printf("%s's recovery plan (shared with you because they share scores; the people they "
               "can call are theirs alone)\n",
               handle);
        plan_print(p, stdout, false);
    }
    free(p);
    rc = 0;
cleanup:
    mu_msg_free(m);
    return rc;
}

/* mutual plan | mutual plan edit | mutual plan HANDLE */
int cmd_plan(const cli_ctx *cx, int argc, char **argv)
{
    if (argc > 1 || (argc == 1 && argv[0][0] == '-')) {
        fprintf(stderr, "mutual: usage: mutual plan [edit | HANDLE]\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    int rc = 1;
    if (argc == 1 && !strcmp(argv[0], "edit")) {
        rc = plan_edit(&k);
    } else if (argc == 1) {
        rc = plan_show_mentee(&k, argv[0]);
    } else {
        plan *p = malloc(sizeof(*p));
        if (p && plan_fetch(&k, p)) {
            if (plan_is_empty(p))
                printf("You have no recovery plan yet. 'mutual plan edit' walks you through "
                       "one: your goals and small steps towards them, what can set you off, "
                       "warning signs, what helps you cope, and people you can call.\n");
            else {
                printf("Your recovery plan ('mutual plan edit' changes it)\n");
                plan_print(p, stdout, true);
            }
            rc = 0;
        }
        free(p);
    }
    close_conn(&k);
    return rc;
}
