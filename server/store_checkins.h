/* The SQL of check-ins and consent. Layer: storage. */
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
int store_checkins_latest(mu_reader *r, int64_t user, int32_t *day, int *tz);
/* Every check-in day of the user, ascending (malloc'd). -1 on error. */
int store_checkins_days(mu_reader *r, int64_t user, int32_t **days, size_t *n);
int store_checkins_range(mu_reader *r, int64_t user, int32_t from, int32_t to, checkin_fn fn,
                         void *ud);
share_level store_checkins_consent(mu_reader *r, int64_t user);

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
 * had raised alerts before this submission; *streak the running streak ending on its day
 * (kept in the streaks table, so nothing reads the user's history). */
mu_code store_checkins_put(mu_wtx *w, const checkin_in *c, unsigned *alerted, int *streak);
mu_code store_checkins_set_alerted(mu_wtx *w, int64_t user, int32_t day, unsigned alerted);
share_level store_checkins_consent_w(mu_wtx *w, int64_t user);
/* The readers above on the writer's connection, for a job that must decide and read in the
 * writer's order (mentee.checkins against consent.set). */
int store_checkins_latest_w(mu_wtx *w, int64_t user, int32_t *day, int *tz);
int store_checkins_range_w(mu_wtx *w, int64_t user, int32_t from, int32_t to, checkin_fn fn,
                           void *ud);
mu_code store_checkins_consent_put(mu_wtx *w, int64_t user, share_level s, int64_t ts);

#endif
