/* The SQL of check-ins, consent and alerts. */
#ifndef MUTUAL_STORE_CHECKINS_H
#define MUTUAL_STORE_CHECKINS_H

#include <stdint.h>

#include "proto.h"
#include "store.h"

typedef enum { SHARE_NONE = 0, SHARE_ALERTS, SHARE_SCORES } share_level;
const char *share_name(share_level s);

/* A stored check-in; the blobs are MessagePack arrays, NULL when absent. Pointers are valid
 * until the next step of the statement that produced them. */
typedef struct {
    int32_t day;
    int tz;
    int64_t ts;
    int mood, craving, sleep; /* -1: absent */
    const char *use, *stage, *note;
    size_t note_len;
    const void *who5, *barc10, *triggers;
    size_t who5_len, barc10_len, triggers_len;
    int who5_pct, barc10_total; /* -1: absent */
    unsigned flags;
} checkin_row;

typedef void (*checkin_fn)(const checkin_row *r, void *ud);

/* Reader. 1 found, 0 none, -1 error. */
int checkin_latest(mu_store *s, int64_t user, int32_t *day, int *tz);
/* Every check-in day of the user, ascending (malloc'd). -1 on error. */
int checkin_days(mu_store *s, int64_t user, int32_t **days, size_t *n);
int checkin_range(mu_store *s, int64_t user, int32_t from, int32_t to, checkin_fn fn, void *ud);
share_level consent_get(mu_store *s, int64_t user);

typedef struct {
    int64_t id, user_id, ts;
    char kind[24], handle[MU_HANDLE_MAX + 1], detail[200];
    bool open;
} alert_row;
typedef void (*alert_fn)(const alert_row *a, void *ud);
int alerts_of_mentor(mu_store *s, int64_t mentor, bool open_only, alert_fn fn, void *ud);
int alerts_open_count(mu_store *s, int64_t mentor, int64_t user);
/* 1 found (owner in *mentor), 0 none. */
int alert_owner(mu_store *s, int64_t id, int64_t *mentor);

/* Writer. */
typedef struct {
    int64_t user;
    int32_t day;
    int tz;
    int64_t ts;
    int mood, craving, sleep;
    const char *use, *stage;
    const char *note;
    size_t note_len;
    const void *who5, *barc10, *triggers;
    size_t who5_len, barc10_len, triggers_len;
    int who5_pct, barc10_total;
    unsigned flags;
} checkin_in;

/* CONFLICT when the user already has a later day. *alerted gets the flags of that day that
 * had raised alerts before this submission. */
mu_code checkin_put(mu_wtx *w, const checkin_in *c, unsigned *alerted);
mu_code checkin_set_alerted(mu_wtx *w, int64_t user, int32_t day, unsigned alerted);
share_level consent_get_w(mu_wtx *w, int64_t user);
int64_t mentor_of_w(mu_wtx *w, int64_t user); /* 0 none, -1 error */
mu_code consent_put(mu_wtx *w, int64_t user, share_level s, int64_t ts);
mu_code alert_insert(mu_wtx *w, int64_t user, int64_t mentor, const char *kind, int64_t ts,
                     const char *detail, int64_t *id);
mu_code alert_close(mu_wtx *w, int64_t id, int64_t ts);
mu_code alerts_close_about(mu_wtx *w, int64_t user, int64_t mentor, int64_t ts);

/* Users with a mentor, consent and a latest check-in, not yet alerted for that gap. */
typedef struct {
    int64_t user, mentor;
    int32_t last_day;
    int tz;
} missed_candidate;
typedef void (*missed_fn)(const missed_candidate *m, void *ud);
mu_code missed_candidates_w(mu_wtx *w, missed_fn fn, void *ud);
mu_code missed_mark(mu_wtx *w, int64_t user, int32_t day);

#endif
