/* Wellbeing instruments and day arithmetic, as pure functions.
 *
 * WHO-5: five items scored 0 to 5; the percentage is 4 x the raw sum (0 to 100). A raw sum
 * under 13, or any item at 0 or 1, indicates poor wellbeing. BARC-10: ten items scored 1 to 6;
 * the total is their sum (10 to 60), and 47 and above goes with sustained recovery.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_SCORING_H
#define MUTUAL_SCORING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    FLAG_HIGH_CRAVING = 1 << 0,
    FLAG_LOW_MOOD = 1 << 1,
    FLAG_USE_ABOVE_PLAN = 1 << 2,
    FLAG_LOW_WELLBEING = 1 << 3,
    FLAG__COUNT = 4
};
const char *flag_name(unsigned bit_index); /* "high_craving", ... */

typedef struct {
    unsigned craving_high, mood_low, who5_low_sum, who5_item_low;
} thresholds;

typedef struct {
    int mood;            /* 0..10 */
    int craving;         /* -1 when absent */
    bool use_above_plan; /* use == "more_than_planned" */
    bool has_who5;
    int who5[5];
} checkin_scores;

int who5_pct(const int items[5]);
int barc10_total(const int items[10]);
unsigned checkin_flags(const checkin_scores *s, const thresholds *t);

/* The local calendar day (days since 1970-01-01) of a UTC instant at an offset in minutes. */
int32_t local_day(int64_t utc_ms, int tz_minutes);

/* Over check-in days in ascending order, without repeats: the run of consecutive days that ends
 * today (or, when today has none, yesterday), and the longest run ever. */
int streak_current(const int32_t *days, size_t n, int32_t today);
int streak_best(const int32_t *days, size_t n);
/* Days in [from, to) on or after `first` that have no check-in. */
int days_missed(const int32_t *days, size_t n, int32_t first, int32_t from, int32_t to);

#endif
