/* The recovery plan on the client side: read from a reply, changed by plain-word commands,
 * packed for plan.set, printed. Nothing here talks to the network, so the commands and the
 * limits are unit-tested without a server. Limits are PROTOCOL.md's ("Recovery plan"). */
#ifndef MUTUAL_PLAN_MODEL_H
#define MUTUAL_PLAN_MODEL_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mutual/client.h"

#define PLAN_GOALS_MAX 10
#define PLAN_STEPS_MAX 10
#define PLAN_LIST_MAX 20
#define PLAN_PEOPLE_MAX 10
#define PLAN_TEXT_MAX 200
#define PLAN_NAME_MAX 60
#define PLAN_PHONE_MAX 30
#define PLAN_NOTE_MAX 200

typedef struct {
    char text[PLAN_TEXT_MAX + 1];
    bool done;
} plan_step;

typedef struct {
    char text[PLAN_TEXT_MAX + 1];
    bool done;
    plan_step steps[PLAN_STEPS_MAX];
    int nsteps;
} plan_goal;

typedef struct {
    char name[PLAN_NAME_MAX + 1];
    char phone[PLAN_PHONE_MAX + 1]; /* "" when none */
    char note[PLAN_NOTE_MAX + 1];   /* "" when none */
} plan_person;

/* The three lists of plain texts, in the order the plan object has them. */
typedef enum { PLAN_TRIGGERS, PLAN_WARNING_SIGNS, PLAN_COPING, PLAN_NLISTS } plan_list_kind;

typedef struct {
    plan_goal goals[PLAN_GOALS_MAX];
    int ngoals;
    char lists[PLAN_NLISTS][PLAN_LIST_MAX][PLAN_TEXT_MAX + 1];
    int nlist[PLAN_NLISTS];
    plan_person people[PLAN_PEOPLE_MAX];
    int npeople;
    int64_t updated; /* ms; 0 when the plan was never saved */
} plan;

/* What a line typed during `mutual plan edit` asks for. */
typedef enum {
    PLAN_CMD_NONE, /* a blank line */
    PLAN_CMD_ADD,
    PLAN_CMD_REMOVE,
    PLAN_CMD_TICK,
    PLAN_CMD_UNTICK,
    PLAN_CMD_SHOW,
    PLAN_CMD_HELP,
    PLAN_CMD_DONE,
    PLAN_CMD_BAD /* not understood; err says why */
} plan_verb;

typedef enum {
    PLAN_KIND_NONE, /* not said: the walk-through asks */
    PLAN_KIND_GOAL,
    PLAN_KIND_STEP,
    PLAN_KIND_TRIGGER,
    PLAN_KIND_WARNING_SIGN,
    PLAN_KIND_COPING,
    PLAN_KIND_PERSON
} plan_kind;

typedef struct {
    plan_verb verb;
    plan_kind kind;
    int goal, step;  /* 1-based numbers as typed; 0 when not given */
    int item;        /* 1-based number of a trigger, sign, strategy or person; 0 when none */
    char text[1024]; /* the words after the kind and numbers, trimmed; "" when none; a
                      * person's name */
    char phone[256], note[1024]; /* a person's, "" when none */
    char err[200];
} plan_cmd;

/* Fills p from a plan object (a reply's `plan`); absent parts are empty. */
void plan_from_value(plan *p, const mu_value *v);
/* Packs the plan as plan.set takes it (without `updated`). */
void plan_pack(const plan *p, msgpack_packer *pk);
/* Prints the plan; `own` shows the people (only ever shown to the plan's author). */
void plan_print(const plan *p, FILE *f, bool own);
bool plan_is_empty(const plan *p);

/* Reads one typed line: "add goal Get back to work", "add step 1 Call the job centre",
 * "tick 1.2", "remove trigger 3", "add person Sam, 07700 900123, my sister", "show", "done".
 * Never fails silently: PLAN_CMD_BAD carries a sentence in err. */
void plan_parse(const char *line, plan_cmd *c);
/* A kind named at the start of s ("warning sign", "coping strategy", "people"); *rest is
 * set past it. PLAN_KIND_NONE when s names none. */
plan_kind plan_parse_kind(const char *s, const char **rest);
/* The word for a kind ("coping strategy"), for questions and messages. */
const char *plan_kind_word(plan_kind k);
/* The limit on the number of entries of a kind, and how many there are (a step: of goal
 * `goal`, 1-based). */
int plan_kind_max(plan_kind k);
int plan_kind_count(const plan *p, plan_kind k, int goal);

/* Applies a complete command (kind, numbers and text all given) to p, checking every limit
 * and number first: on failure p is unchanged and err says why in plain words. On success
 * done (when not NULL) says what changed, e.g. "Goal 3 of 10 added". */
bool plan_apply(plan *p, const plan_cmd *c, char *done, size_t done_cap, char *err, size_t err_cap);

#endif
