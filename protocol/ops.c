/* The op table: every request's fields with their types and limits (PROTOCOL.md v1).
 * Decoding and validation in codec.c are driven entirely by these lists. */
#include "proto.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const roles_open[] = {"member", "family", NULL};
static const char *const roles_all[] = {"member", "family", "mentor", "admin", NULL};
static const char *const audiences[] = {"open", "recovery", "carers", "mentors", NULL};
static const char *const uses[] = {"none", "as_planned", "more_than_planned", NULL};
static const char *const stages[] = {"precontemplation", "contemplation", "preparation", "action",
                                     "maintenance",      "relapse",       NULL};
static const char *const shares[] = {"none", "alerts", "scores", NULL};
static const char *const backlogs[] = {"join", "recent", NULL};

/* Shorthands keep each field on one line. */
#define REQ true
#define OPT false
/* A shorthand a line reads better than the braces clang-format would add. */
/* clang-format off */
#define STR(n, rq, lo, hi) {n, MU_T_STR, rq, false, MU_LIM_FIXED, lo, hi, 0, 0, 0, NULL}
#define TEXT(n, rq, lo, src) {n, MU_T_STR, rq, true, src, lo, 0, 0, 0, 0, NULL}
#define HANDLE(n, rq) {n, MU_T_HANDLE, rq, false, MU_LIM_FIXED, 0, 0, 0, 0, 0, NULL}
#define SLUG(n, rq) {n, MU_T_SLUG, rq, false, MU_LIM_FIXED, 0, 0, 0, 0, 0, NULL}
#define DATE(n, rq) {n, MU_T_DATE, rq, false, MU_LIM_FIXED, 0, 0, 0, 0, 0, NULL}
#define ENUM(n, rq, vals) {n, MU_T_ENUM, rq, false, MU_LIM_FIXED, 0, 0, 0, 0, 0, vals}
#define UINT(n, rq, lo, hi) {n, MU_T_UINT, rq, false, MU_LIM_FIXED, lo, hi, 0, 0, 0, NULL}
#define INT(n, rq, lo, hi) {n, MU_T_INT, rq, false, MU_LIM_FIXED, lo, hi, 0, 0, 0, NULL}
#define BOOL(n, rq) {n, MU_T_BOOL, rq, false, MU_LIM_FIXED, 0, 0, 0, 0, 0, NULL}
#define ARRAY(n, rq, lo, hi, et, elo, ehi) \
    {n, MU_T_ARRAY, rq, false, MU_LIM_FIXED, lo, hi, et, elo, ehi, NULL}
#define ANY(n, rq) {n, MU_T_ANY, rq, false, MU_LIM_FIXED, 0, 0, 0, 0, 0, NULL}
/* clang-format on */

static const mu_field f_none[] = {{0}};
static const mu_field f_register[] = {HANDLE("handle", REQ), STR("password", REQ, 8, 128),
                                      ENUM("role", OPT, roles_open)};
static const mu_field f_login[] = {HANDLE("handle", REQ), STR("password", REQ, 1, 128)};
static const mu_field f_resume[] = {STR("token", REQ, 1, 256)};
static const mu_field f_password_set[] = {STR("old", REQ, 1, 128), STR("new", REQ, 8, 128)};

static const mu_field f_room[] = {SLUG("room", REQ)};
static const mu_field f_room_create[] = {SLUG("room", REQ),
                                         STR("name", REQ, 1, 80),
                                         ENUM("audience", REQ, audiences),
                                         STR("format", OPT, 0, 40),
                                         ARRAY("schedule", OPT, 0, 14, MU_T_ANY, 0, 0),
                                         UINT("capacity", OPT, 2, 1000),
                                         BOOL("persistent", OPT),
                                         ENUM("backlog", OPT, backlogs),
                                         BOOL("listed", OPT)};
static const mu_field f_room_update[] = {SLUG("room", REQ),
                                         STR("name", OPT, 1, 80),
                                         STR("format", OPT, 0, 40),
                                         ARRAY("schedule", OPT, 0, 14, MU_T_ANY, 0, 0),
                                         UINT("capacity", OPT, 2, 1000),
                                         BOOL("persistent", OPT),
                                         ENUM("backlog", OPT, backlogs),
                                         BOOL("listed", OPT)};
static const mu_field f_room_join[] = {SLUG("room", REQ), UINT("since", OPT, 0, INT64_MAX)};
static const mu_field f_room_say[] = {SLUG("room", REQ), TEXT("text", REQ, 1, MU_LIM_TEXT),
                                      STR("cid", OPT, 1, 64)};
static const mu_field f_room_history[] = {SLUG("room", REQ), UINT("before", OPT, 0, INT64_MAX),
                                          UINT("limit", OPT, 1, 200)};
static const mu_field f_room_handle[] = {SLUG("room", REQ), HANDLE("handle", REQ)};
static const mu_field f_room_remove[] = {SLUG("room", REQ), HANDLE("handle", REQ),
                                         BOOL("ban", OPT)};
static const mu_field f_room_lock[] = {SLUG("room", REQ), BOOL("locked", REQ)};
static const mu_field f_room_on[] = {SLUG("room", REQ), BOOL("on", REQ)};
static const mu_field f_room_give[] = {SLUG("room", REQ), HANDLE("handle", OPT),
                                       UINT("secs", OPT, 30, 1800)};
static const mu_field f_room_report[] = {SLUG("room", REQ), UINT("seq", REQ, 1, INT64_MAX),
                                         STR("reason", OPT, 0, 200)};

static const mu_field f_mentor_assign[] = {HANDLE("mentor", REQ), HANDLE("user", REQ)};
static const mu_field f_user[] = {HANDLE("user", REQ)};
static const mu_field f_dm_send[] = {HANDLE("to", REQ), TEXT("text", REQ, 1, MU_LIM_TEXT),
                                     STR("cid", OPT, 1, 64)};
static const mu_field f_dm_ack[] = {HANDLE("with", REQ), UINT("up_to", REQ, 0, INT64_MAX)};
static const mu_field f_dm_history[] = {HANDLE("with", REQ), UINT("before", OPT, 0, INT64_MAX),
                                        UINT("limit", OPT, 1, 200)};

static const mu_field f_checkin_submit[] = {INT("tz", REQ, -720, 840),
                                            INT("mood", REQ, 0, 10),
                                            INT("craving", OPT, 0, 10),
                                            INT("sleep", OPT, 0, 10),
                                            ENUM("use", OPT, uses),
                                            ENUM("stage", OPT, stages),
                                            ARRAY("who5", OPT, 5, 5, MU_T_INT, 0, 5),
                                            ARRAY("barc10", OPT, 10, 10, MU_T_INT, 1, 6),
                                            ARRAY("triggers", OPT, 0, 10, MU_T_STR, 1, 40),
                                            TEXT("note", OPT, 0, MU_LIM_NOTE)};
static const mu_field f_checkin_list[] = {DATE("from", OPT), DATE("to", OPT)};
static const mu_field f_checkin_summary[] = {UINT("days", REQ, 7, 365)};
static const mu_field f_consent_set[] = {ENUM("share", REQ, shares)};
static const mu_field f_mentee_checkins[] = {HANDLE("handle", REQ), UINT("days", REQ, 1, 365)};
static const mu_field f_alerts_list[] = {BOOL("open", OPT)};
static const mu_field f_alert_ack[] = {UINT("id", REQ, 0, INT64_MAX)};
static const mu_field f_help[] = {TEXT("text", OPT, 0, MU_LIM_TEXT)};

static const mu_field f_me_delete[] = {STR("password", REQ, 1, 128)};
static const mu_field f_user_create[] = {HANDLE("handle", REQ), STR("password", REQ, 8, 128),
                                         ENUM("role", REQ, roles_all)};
static const mu_field f_user_role[] = {HANDLE("handle", REQ), ENUM("role", REQ, roles_all)};
static const char *const audit_actions[] = {
    "open",   "close",    "mute",      "unmute",    "remove",   "ban",  "unban",
    "lock",   "unlock",   "lobby_on",  "lobby_off", "admit",    "deny", "read_checkins",
    "report", "escalate", "read_plan", "assign",    "unassign", "role", NULL};
static const mu_field f_audit_list[] = {UINT("since", OPT, 0, INT64_MAX),
                                        UINT("limit", OPT, 1, 500),
                                        ENUM("action", OPT, audit_actions)};
static const mu_field f_test_clock[] = {UINT("advance", REQ, 1, 31536000)};

/* The plan's inner limits are checked by the server (plan.c): a field list cannot say them. */
static const mu_field f_plan_set[] = {ANY("plan", REQ)};
static const mu_field f_mentee_plan[] = {HANDLE("handle", REQ)};
static const char *const service_categories[] = {
    "crisis",        "mutual_aid", "treatment",  "harm_reduction", "family",
    "mental_health", "housing",    "employment", "other",          NULL};
static const mu_field f_services_list[] = {ENUM("category", OPT, service_categories),
                                           STR("region", OPT, 1, 100)};
/* The url's scheme is checked by the server (services.c). */
#define SERVICE_FIELDS                                                                       \
    STR("name", REQ, 1, 120), ENUM("category", REQ, service_categories),                     \
        STR("description", OPT, 1, 500), STR("phone", OPT, 1, 100), STR("url", OPT, 1, 300), \
        STR("hours", OPT, 1, 100), STR("region", OPT, 1, 100), STR("referral", OPT, 1, 200)
static const mu_field f_service_add[] = {SERVICE_FIELDS};
static const mu_field f_service_update[] = {UINT("id", REQ, 1, INT64_MAX), SERVICE_FIELDS};
static const mu_field f_service_remove[] = {UINT("id", REQ, 1, INT64_MAX)};

/* f_none has one zeroed entry so that it is a valid array; its count is 0. */
#define FIELDS(f) f, ((const void *)(f) == (const void *)f_none ? 0u : (unsigned)N(f))

static const mu_op ops[MU_OP__COUNT] = {
#define MU_OP(id, name, flags, fields) [MU_OP_##id] = {name, flags, FIELDS(fields)},
#include "ops.def"
#undef MU_OP
};

const mu_op *mu_op_by_id(mu_op_id id)
{
    return (unsigned)id < MU_OP__COUNT ? &ops[id] : NULL;
}

mu_op_id mu_op_index(const mu_op *op)
{
    return (mu_op_id)(op - ops);
}

const mu_op *mu_op_by_name(const char *name, size_t len)
{
    /* Sixty-odd entries: a linear scan costs less than the msgpack decode before it. */
    for (unsigned i = 0; i < MU_OP__COUNT; i++) {
        if (ops[i].flags & MU_OPF_EVENT)
            continue;
        if (strlen(ops[i].name) == len && memcmp(ops[i].name, name, len) == 0)
            return &ops[i];
    }
    return NULL;
}

int mu_op_field(const mu_op *op, const char *name)
{
    for (unsigned i = 0; i < op->nfields; i++)
        if (strcmp(op->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

static const char *const code_names[MU_E__COUNT] = {
    [MU_OK] = "ok",
    [MU_E_BAD_REQUEST] = "bad_request",
    [MU_E_UNKNOWN_OP] = "unknown_op",
    [MU_E_UNAUTHENTICATED] = "unauthenticated",
    [MU_E_FORBIDDEN] = "forbidden",
    [MU_E_NOT_FOUND] = "not_found",
    [MU_E_CONFLICT] = "conflict",
    [MU_E_RATE_LIMITED] = "rate_limited",
    [MU_E_TOO_LARGE] = "too_large",
    [MU_E_ROOM_FULL] = "room_full",
    [MU_E_CASELOAD_FULL] = "caseload_full",
    [MU_E_UNAVAILABLE] = "unavailable",
    [MU_E_INTERNAL] = "internal",
};

const char *mu_code_name(mu_code c)
{
    return (unsigned)c < MU_E__COUNT ? code_names[c] : "internal";
}

mu_code mu_code_from_name(const char *name, size_t len)
{
    for (unsigned i = 1; i < MU_E__COUNT; i++)
        if (strlen(code_names[i]) == len && memcmp(code_names[i], name, len) == 0)
            return (mu_code)i;
    return MU_OK;
}
