/* The SQL of the recovery plan: one row per goal, step, list entry and person, so that a step
 * can be ticked off on its own and retention can reason about each part. Rows go with the
 * account (ON DELETE CASCADE), so me.delete erases the plan. Layer: storage. */
#ifndef MUTUAL_STORE_PLAN_H
#define MUTUAL_STORE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "store.h"

#define PLAN_GOALS_MAX 10
#define PLAN_STEPS_MAX 10
#define PLAN_LIST_MAX 20
#define PLAN_PEOPLE_MAX 10

/* The three lists of texts, in the order of the wire object and the `kind` column. */
typedef enum { PLAN_TRIGGERS, PLAN_WARNING_SIGNS, PLAN_COPING, PLAN__LISTS } plan_list;
extern const char *const plan_list_keys[PLAN__LISTS];  /* wire keys: "triggers"... */
extern const char *const plan_list_kinds[PLAN__LISTS]; /* column values: "trigger"... */

typedef struct {
    char *text;
    bool done;
} plan_step;

typedef struct {
    char *text;
    bool done;
    plan_step steps[PLAN_STEPS_MAX];
    int nsteps;
} plan_goal;

typedef struct {
    char *name, *phone, *note; /* phone and note NULL when absent */
} plan_person;

/* Every string is owned by the plan (plan_free). */
typedef struct {
    plan_goal goals[PLAN_GOALS_MAX];
    int ngoals;
    char *lists[PLAN__LISTS][PLAN_LIST_MAX];
    int nlist[PLAN__LISTS];
    plan_person people[PLAN_PEOPLE_MAX];
    int npeople;
} plan_t;

void plan_free(plan_t *p);

/* Writer: replaces the user's whole plan. */
mu_code store_plan_put(mu_wtx *w, int64_t user, const plan_t *p, int64_t updated);
/* Encodes the user's plan object (the empty plan when none was saved), with `people` only
 * when `with_people` (the author's own view). 0, or -1 on a read error (logged). */
int store_plan_enc(store_from f, int64_t user, bool with_people, mu_enc *e);

#endif
