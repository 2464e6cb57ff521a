/* Wellbeing instruments and day arithmetic (see scoring.h).
 * Layer: base (calls nothing of the server's above it). */
#include "scoring.h"

static const char *const flag_names[FLAG__COUNT] = {"high_craving", "low_mood", "use_above_plan",
                                                    "low_wellbeing"};

const char *flag_name(unsigned i)
{
    return i < FLAG__COUNT ? flag_names[i] : "?";
}

int who5_pct(const int items[5])
{
    int sum = 0;
    for (int i = 0; i < 5; i++)
        sum += items[i];
    return 4 * sum;
}

int barc10_total(const int items[10])
{
    int sum = 0;
    for (int i = 0; i < 10; i++)
        sum += items[i];
    return sum;
}

unsigned checkin_flags(const checkin_scores *s, const thresholds *t)
{
    unsigned f = 0;
    if (s->craving >= 0 && (unsigned)s->craving >= t->craving_high)
        f |= FLAG_HIGH_CRAVING;
    if ((unsigned)s->mood <= t->mood_low)
        f |= FLAG_LOW_MOOD;
    if (s->use_above_plan)
        f |= FLAG_USE_ABOVE_PLAN;
    if (s->has_who5) {
        int sum = 0;
        bool low_item = false;
        for (int i = 0; i < 5; i++) {
            sum += s->who5[i];
            low_item |= (unsigned)s->who5[i] <= t->who5_item_low;
        }
        if ((unsigned)sum < t->who5_low_sum || low_item)
            f |= FLAG_LOW_WELLBEING;
    }
    return f;
}

int32_t local_day(int64_t utc_ms, int tz_minutes)
{
    int64_t local = utc_ms + (int64_t)tz_minutes * 60000;
    int64_t day = local / 86400000;
    if (local % 86400000 < 0)
        day--; /* floor, for instants before 1970 */
    return (int32_t)day;
}

int streak_current(const int32_t *days, size_t n, int32_t today)
{
    if (!n)
        return 0;
    int32_t end = days[n - 1];
    if (end != today && end != today - 1)
        return 0;
    int run = 1;
    for (size_t i = n - 1; i > 0 && days[i - 1] == days[i] - 1; i--)
        run++;
    return run;
}

int streak_best(const int32_t *days, size_t n)
{
    int best = 0, run = 0;
    for (size_t i = 0; i < n; i++) {
        run = i && days[i] == days[i - 1] + 1 ? run + 1 : 1;
        if (run > best)
            best = run;
    }
    return best;
}

int days_missed(const int32_t *days, size_t n, int32_t first, int32_t from, int32_t to)
{
    if (from < first)
        from = first;
    if (to <= from)
        return 0;
    int have = 0;
    for (size_t i = 0; i < n; i++)
        if (days[i] >= from && days[i] < to)
            have++;
    return (int)(to - from) - have;
}
