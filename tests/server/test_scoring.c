/* Scoring and day arithmetic against hand-worked examples, boundaries included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto.h"
#include "scoring.h"

static const thresholds T = {8, 2, 13, 1};

static void test_who5_and_barc10(void **st)
{
    int all5[5] = {5, 5, 5, 5, 5}, none[5] = {0, 0, 0, 0, 0}, mix[5] = {3, 2, 4, 1, 3};
    assert_int_equal(who5_pct(all5), 100);
    assert_int_equal(who5_pct(none), 0);
    assert_int_equal(who5_pct(mix), 52); /* 13 x 4 */
    int b_min[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, b_max[10] = {6, 6, 6, 6, 6, 6, 6, 6, 6, 6};
    int b[10] = {5, 5, 5, 4, 5, 5, 4, 5, 5, 4};
    assert_int_equal(barc10_total(b_min), 10);
    assert_int_equal(barc10_total(b_max), 60);
    assert_int_equal(barc10_total(b), 47); /* the sustained-recovery line */
}

static void test_flags(void **st)
{
    checkin_scores s = {5, -1, false, false, {0}};
    assert_int_equal(checkin_flags(&s, &T), 0);
    s.craving = 7;
    assert_int_equal(checkin_flags(&s, &T), 0);
    s.craving = 8; /* >= 8 */
    assert_int_equal(checkin_flags(&s, &T), FLAG_HIGH_CRAVING);
    s.craving = 0;
    s.mood = 3;
    assert_int_equal(checkin_flags(&s, &T), 0);
    s.mood = 2; /* <= 2 */
    assert_int_equal(checkin_flags(&s, &T), FLAG_LOW_MOOD);
    s.mood = 6;
    s.use_above_plan = true;
    assert_int_equal(checkin_flags(&s, &T), FLAG_USE_ABOVE_PLAN);
    s.use_above_plan = false;
    /* WHO-5: a sum of 13 with every item above 1 is not low; 12 is */
    s.has_who5 = true;
    int ok[5] = {3, 3, 3, 2, 2};
    for (int i = 0; i < 5; i++)
        s.who5[i] = ok[i];
    assert_int_equal(checkin_flags(&s, &T), 0);
    s.who5[0] = 2; /* sum 12 */
    assert_int_equal(checkin_flags(&s, &T), FLAG_LOW_WELLBEING);
    int hi_but_one[5] = {5, 5, 5, 5, 1}; /* sum 21, but an item at 1 */
    for (int i = 0; i < 5; i++)
        s.who5[i] = hi_but_one[i];
    assert_int_equal(checkin_flags(&s, &T), FLAG_LOW_WELLBEING);
    s.who5[4] = 2;
    assert_int_equal(checkin_flags(&s, &T), 0);
    assert_string_equal(flag_name(0), "high_craving");
    assert_string_equal(flag_name(3), "low_wellbeing");
}

static int32_t day_of(const char *date)
{
    int32_t d;
    assert_true(mu_date_parse(date, 10, &d));
    return d;
}

static void test_local_day(void **st)
{
    /* 2026-12-31 23:30 UTC */
    int64_t t = (int64_t)day_of("2026-12-31") * 86400000 + (23 * 60 + 30) * (int64_t)60000;
    assert_int_equal(local_day(t, 0), day_of("2026-12-31"));
    assert_int_equal(local_day(t, 30), day_of("2027-01-01"));   /* into the new year */
    assert_int_equal(local_day(t, 840), day_of("2027-01-01"));  /* UTC+14 */
    assert_int_equal(local_day(t, -720), day_of("2026-12-31")); /* UTC-12 */
    int64_t early = (int64_t)day_of("2027-01-01") * 86400000 + 5 * (int64_t)60000; /* 00:05 UTC */
    assert_int_equal(local_day(early, -720), day_of("2026-12-31"));
    assert_int_equal(local_day(early, -5), day_of("2027-01-01")); /* exactly midnight */
    assert_int_equal(local_day(early, -6), day_of("2026-12-31"));
    assert_int_equal(local_day(early, 0), day_of("2027-01-01"));
    /* a leap day */
    int64_t leap = (int64_t)day_of("2028-02-28") * 86400000 + 20 * (int64_t)3600000;
    assert_int_equal(local_day(leap, 240), day_of("2028-02-29"));
}

static void test_streaks(void **st)
{
    /* across a month end and a year end */
    int32_t days[] = {day_of("2026-12-29"), day_of("2026-12-30"), day_of("2026-12-31"),
                      day_of("2027-01-01"), day_of("2027-01-02")};
    assert_int_equal(streak_current(days, 5, day_of("2027-01-02")), 5);
    assert_int_equal(streak_current(days, 5, day_of("2027-01-03")), 5); /* ending yesterday */
    assert_int_equal(streak_current(days, 5, day_of("2027-01-04")), 0);
    assert_int_equal(streak_current(NULL, 0, day_of("2027-01-04")), 0);
    int32_t gaps[] = {day_of("2026-01-30"), day_of("2026-01-31"), day_of("2026-02-01"),
                      day_of("2026-02-05"), day_of("2026-02-06")};
    assert_int_equal(streak_best(gaps, 5), 3);
    assert_int_equal(streak_current(gaps, 5, day_of("2026-02-06")), 2);
    int32_t one[] = {day_of("2024-02-29")};
    assert_int_equal(streak_best(one, 1), 1);
    int32_t leap[] = {day_of("2024-02-28"), day_of("2024-02-29"), day_of("2024-03-01")};
    assert_int_equal(streak_best(leap, 3), 3);
    /* missed: in [from, to), from the first check-in on */
    assert_int_equal(days_missed(gaps, 5, gaps[0], day_of("2026-01-28"), day_of("2026-02-07")),
                     3); /* Feb 2, 3, 4; nothing before the first counts */
    assert_int_equal(days_missed(gaps, 5, gaps[0], day_of("2026-02-05"), day_of("2026-02-06")), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_who5_and_barc10), cmocka_unit_test(test_flags),
        cmocka_unit_test(test_local_day), cmocka_unit_test(test_streaks)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
