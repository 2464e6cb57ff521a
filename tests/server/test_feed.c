/* The meeting feed's text: JSON string escaping, iCalendar TEXT escaping and line folding,
 * the feed_types setting, and the feed and calendar rendered from rooms in the registry
 * (no sockets: rooms_add straight into the registry, settings set in memory). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "context.h"
#include "feed_text.h"
#include "feed_tz.h"
#include "proto.h"
#include "room_feed.h"
#include "room_int.h"
#include "rooms.h"

static char *json(const char *s, size_t n)
{
    ftext t = {0};
    size_t len;
    ftext_json_str(&t, s, n);
    return ftext_release(&t, &len);
}

static void test_json_escaping(void **st)
{
    (void)st;
    char *o = json("a\"b\\c", 5);
    assert_string_equal(o, "\"a\\\"b\\\\c\"");
    free(o);
    o = json("l1\nl2\r\t\b\f", 9);
    assert_string_equal(o, "\"l1\\nl2\\r\\t\\b\\f\"");
    free(o);
    /* other control characters as \u00XX, DEL too; a NUL inside the bytes is kept escaped */
    o = json("x\x01y\x1f\x7f\0z", 7);
    assert_string_equal(o, "\"x\\u0001y\\u001f\\u007f\\u0000z\"");
    free(o);
    /* UTF-8 stays as it is (2, 3 and 4 byte sequences); '/' is not escaped */
    o = json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82 a/b", 18);
    assert_string_equal(o, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82 a/b\"");
    free(o);
    /* stray, overlong, surrogate and truncated bytes become U+FFFD: the output is UTF-8 */
    o = json("\xff|\xc0\xaf|\xed\xa0\x80|\xe2\x82", 11);
    assert_true(mu_utf8_valid(o, strlen(o)));
    assert_null(strchr(o, '\xff'));
    assert_non_null(strstr(o, "\xef\xbf\xbd|"));
    free(o);
    o = json("", 0);
    assert_string_equal(o, "\"\"");
    free(o);
}

static void test_ics_text_escaping(void **st)
{
    (void)st;
    ftext t = {0};
    size_t len;
    const char in[] = "a,b;c\\d\ne\r\nf\rg\x01h";
    ftext_ics_text(&t, in, sizeof(in) - 1);
    char *o = ftext_release(&t, &len);
    /* , ; \ escaped; LF, CRLF and CR each one \n; other control characters dropped */
    assert_string_equal(o, "a\\,b\\;c\\\\d\\ne\\nf\\ng"
                           "h");
    assert_int_equal(len, strlen(o));
    free(o);
}

/* Folds a line and checks the result: CRLF after each physical line, none longer than 75
 * octets, continuations starting with one space, no UTF-8 sequence cut, and unfolding gives
 * the line back. Returns the number of physical lines. */
static int fold_check(const char *line, size_t n)
{
    ftext t = {0};
    size_t len;
    ftext_ics_line(&t, line, n);
    char *o = ftext_release(&t, &len);
    assert_true(len >= 2 && !memcmp(o + len - 2, "\r\n", 2));
    char *unfolded = calloc(1, len + 1);
    size_t un = 0;
    int lines = 0;
    for (char *p = o; p < o + len;) {
        char *crlf = strstr(p, "\r\n");
        assert_non_null(crlf);
        size_t pl = (size_t)(crlf - p);
        assert_true(pl <= 75);
        assert_null(memchr(p, '\n', pl));
        if (lines > 0) {
            assert_int_equal(p[0], ' ');
            p++;
            pl--;
        }
        assert_true(mu_utf8_valid(p, pl)); /* the fold is between sequences */
        memcpy(unfolded + un, p, pl);
        un += pl;
        lines++;
        p = crlf + 2;
    }
    assert_int_equal(un, n);
    assert_memory_equal(unfolded, line, n);
    free(unfolded);
    free(o);
    return lines;
}

static void test_ics_folding(void **st)
{
    (void)st;
    char line[600];
    memset(line, 'x', sizeof(line));
    assert_int_equal(fold_check(line, 75), 1); /* exactly 75: not folded */
    assert_int_equal(fold_check(line, 76), 2);
    assert_int_equal(fold_check(line, 75 + 74), 2);
    assert_int_equal(fold_check(line, 75 + 74 + 1), 3);
    assert_int_equal(fold_check(line, 0), 1);
    /* two-byte characters from an odd start: a sequence would straddle octet 75 */
    line[0] = 'D';
    for (size_t i = 1; i + 1 < 401; i += 2) {
        line[i] = '\xc3';
        line[i + 1] = '\xa9';
    }
    assert_true(fold_check(line, 401) >= 6);
    /* four-byte characters */
    for (size_t i = 0; i < 400; i += 4)
        memcpy(line + i, "\xf0\x9f\x99\x82", 4);
    line[400] = ';';
    assert_true(fold_check(line, 401) >= 6);
}

typedef struct {
    char seen[256];
} types_seen;

static void collect(const char *f, size_t fn, const char *codes, size_t cn, void *ud)
{
    types_seen *t = ud;
    snprintf(t->seen + strlen(t->seen), sizeof(t->seen) - strlen(t->seen), "[%.*s|%.*s]", (int)fn,
             f, (int)cn, codes);
}

static void test_feed_types_setting(void **st)
{
    (void)st;
    char err[256];
    types_seen t = {""};
    assert_int_equal(config_feed_types_each(" SMART: A ;family:AL-AN, CF;12-step: ;", collect, &t,
                                            err, sizeof(err)),
                     0);
    assert_string_equal(t.seen, "[SMART| A ][family|AL-AN, CF][12-step| ]");
    assert_int_equal(config_feed_types_each("", collect, &t, err, sizeof(err)), 0);
    /* no colon, an empty format, a code with a character the specification never uses */
    assert_int_equal(config_feed_types_each("SMART A", NULL, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "FORMAT: CODE"));
    assert_int_equal(config_feed_types_each(": A", NULL, NULL, err, sizeof(err)), -1);
    assert_int_equal(config_feed_types_each("SMART: A/B", NULL, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "'A/B' is not a Meeting Guide type code"));
    /* the setting is checked when it is set, like any other */
    mu_config c;
    config_defaults(&c);
    assert_string_equal(c.feed_types, "SMART: A; family: AL-AN");
    assert_string_equal(c.feed_timezone, "Etc/UTC");
    assert_int_equal(config_set(&c, "feed_types", "SMART: \"A\"", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "feed_timezone", "../../etc/passwd", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "feed_timezone", "Europe/London", err, sizeof(err)), 0);
    config_free(&c);
}

/* ---- the feed and the calendar from the registry ---------------------------------------- */

static mu_server srv;

static int setup(void **st)
{
    (void)st;
    char err[256];
    memset(&srv, 0, sizeof(srv));
    config_defaults(&srv.cfg);
    g_srv = &srv;
    assert_int_equal(config_set(&srv.cfg, "feed_address", "Leeds, UK", err, sizeof(err)), 0);
    assert_int_equal(config_set(&srv.cfg, "feed_region", "Yorkshire > Leeds", err, sizeof(err)), 0);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    rooms_shutdown();
    config_free(&srv.cfg);
    return 0;
}

/* A room straight into the registry; slots "day HH:MM[-HH:MM] [Zone]", separated by ','. */
static room *add_room(const char *slug, const char *name, const char *aud, const char *format,
                      bool listed, const char *slots)
{
    mu_enc e;
    mu_enc_init(&e, 0);
    uint32_t n = 0;
    for (const char *p = slots; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
        n++;
    mu_enc_array(&e, n);
    for (const char *p = slots; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : "") {
        unsigned day;
        char t[6] = "", end[6] = "", tz[65] = "";
        int k = sscanf(p, "%u %5[0-9:]-%5[0-9:] %64[A-Za-z_/]", &day, t, end, tz);
        if (k < 3) /* no end: maybe a zone after the time */
            k = sscanf(p, "%u %5[0-9:] %64[A-Za-z_/]", &day, t, tz);
        mu_enc_map(&e, 2 + (end[0] != 0) + (tz[0] != 0));
        mu_enc_kuint(&e, "day", day);
        mu_enc_kstr(&e, "time", t);
        if (end[0])
            mu_enc_kstr(&e, "end_time", end);
        if (tz[0])
            mu_enc_kstr(&e, "timezone", tz);
    }
    size_t len;
    char *sched = mu_enc_release(&e, &len);
    room_def d = {.slug = slug,
                  .name = name,
                  .audience = aud,
                  .format = format,
                  .schedule = slots ? sched : NULL,
                  .schedule_len = slots ? len : 0,
                  .capacity = 100,
                  .next_seq = 1,
                  .listed = listed,
                  .created_ts = 1764892800000}; /* 2025-12-05 00:00 UTC, a Friday */
    room *r = rooms_add(&d);
    free(sched);
    return r;
}

static char *feed(void)
{
    size_t len;
    char *o = room_feed_json(&len);
    assert_int_equal(strlen(o), len);
    return o;
}

static void test_feed_rendering(void **st)
{
    (void)st;
    char err[256];
    add_room("tue", "Tuesday \"SMART\"", "open", "smart", true, "2 19:00-20:00 Europe/London");
    add_room("daily", "Daily", "recovery", "12-step", true,
             "1 08:00-09:00 America/New_York,3 08:00-09:00 America/New_York");
    add_room("mixed", "Mixed", "open", "family", true, "6 23:00-00:30 Europe/London,3 18:00");
    add_room("hidden", "Hidden", "open", "", false, "1 10:00");
    add_room("carers", "Carers", "carers", "", true, "1 10:00");
    add_room("nosched", "No schedule", "open", "", true, NULL);
    /* without public_url there is no join link: nothing is listed */
    char *o = feed();
    assert_string_equal(o, "[]");
    free(o);
    assert_int_equal(config_set(&srv.cfg, "public_url", "https://m.example.org/", err, sizeof(err)),
                     0);
    o = feed();
    /* by slug: daily, mixed (two entries), tue */
    const char *want_daily =
        "{\"name\":\"Daily\",\"slug\":\"daily\",\"day\":[1,3],\"time\":\"08:00\","
        "\"end_time\":\"09:00\",\"timezone\":\"America/New_York\","
        "\"conference_url\":\"https://m.example.org/#/room/daily\","
        "\"formatted_address\":\"Leeds, UK\",\"regions\":[\"Yorkshire\",\"Leeds\"],"
        "\"types\":[\"C\"],";
    assert_true(strncmp(o, "[", 1) == 0);
    assert_memory_equal(o + 1, want_daily, strlen(want_daily));
    assert_non_null(strstr(o, "\"updated\":\"2025-12-05 00:00:00\""));
    /* slots at different times: one entry each, slug room-day-HHMM; the slot without a zone
     * takes feed_timezone */
    assert_non_null(strstr(o, "\"slug\":\"mixed-6-2300\",\"day\":6,\"time\":\"23:00\","
                              "\"end_time\":\"00:30\",\"timezone\":\"Europe/London\""));
    assert_non_null(strstr(o, "\"slug\":\"mixed-3-1800\",\"day\":3,\"time\":\"18:00\","
                              "\"timezone\":\"Etc/UTC\""));
    assert_non_null(strstr(o, "\"types\":[\"AL-AN\",\"O\"]"));
    /* the format matches feed_types regardless of case; the name is escaped */
    assert_non_null(strstr(o, "\"name\":\"Tuesday \\\"SMART\\\"\",\"slug\":\"tue\""));
    assert_non_null(strstr(o, "\"types\":[\"A\",\"O\"]"));
    assert_null(strstr(o, "hidden"));
    assert_null(strstr(o, "carers"));
    assert_null(strstr(o, "nosched"));
    free(o);

    /* the calendar of the room whose slot runs past midnight */
    size_t len;
    char *ics = room_feed_ics("mixed", 5, "http://ignored", &len);
    assert_non_null(ics);
    assert_non_null(strstr(ics, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    /* created on Friday 2025-12-05: the Saturday slot starts on the 6th and ends on the 7th */
    assert_non_null(strstr(ics, "UID:mixed-6-2300@m.example.org\r\n"));
    assert_non_null(strstr(ics, "DTSTART;TZID=Europe/London:20251206T230000\r\n"
                                "DTEND;TZID=Europe/London:20251207T003000\r\n"
                                "RRULE:FREQ=WEEKLY;BYDAY=SA\r\n"));
    /* the Wednesday slot: the 10th; no end, an hour */
    assert_non_null(strstr(ics, "DTSTART;TZID=Etc/UTC:20251210T180000\r\nDURATION:PT1H\r\n"
                                "RRULE:FREQ=WEEKLY;BYDAY=WE\r\n"));
    assert_non_null(strstr(ics, "URL:https://m.example.org/#/room/mixed\r\n"));
    assert_true(len > 2 && !strcmp(ics + len - 15, "END:VCALENDAR\r\n"));
    free(ics);
    /* not in the feed: no calendar */
    assert_null(room_feed_ics("hidden", 6, "http://x", &len));
    assert_null(room_feed_ics("carers", 6, "http://x", &len));
    assert_null(room_feed_ics("nosched", 7, "http://x", &len));
    assert_null(room_feed_ics("nobody", 6, "http://x", &len));
    /* the summary's , and ; escaped */
    add_room("esc", "One, two; three\\", "open", "", true, "0 07:00");
    ics = room_feed_ics("esc", 3, "http://x", &len);
    assert_non_null(strstr(ics, "SUMMARY:One\\, two\\; three\\\\\r\n"));
    free(ics);
}

static void test_ics_path(void **st)
{
    (void)st;
    const char *slug;
    size_t n;
    assert_true(room_feed_ics_path("/rooms/tue-1.ics", &slug, &n));
    assert_int_equal(n, 5);
    assert_memory_equal(slug, "tue-1", 5);
    assert_false(room_feed_ics_path("/rooms/.ics", &slug, &n));
    assert_false(room_feed_ics_path("/rooms/Tue.ics", &slug, &n));
    assert_false(room_feed_ics_path("/rooms/a/b.ics", &slug, &n));
    assert_false(room_feed_ics_path("/rooms/tue.json", &slug, &n));
    assert_false(room_feed_ics_path("/rooms/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.ics", &slug, &n));
}

/* The VTIMEZONE of a rule, or NULL when it was refused (and nothing was appended). */
static char *vtz(const char *zone, const char *rule)
{
    ftext t = {0};
    size_t len;
    bool ok = feed_tz_from_rule(&t, zone, rule);
    char *o = ftext_release(&t, &len);
    if (!ok) {
        assert_int_equal(len, 0);
        free(o);
        return NULL;
    }
    return o;
}

static void test_vtimezone(void **st)
{
    (void)st;
    /* POSIX counts west of UTC; the start rule's time is standard time, the end's daylight;
     * each observance starts on the rule's day in 1970 (29 March, 25 October) */
    char *o = vtz("Europe/London", "GMT0BST,M3.5.0/1,M10.5.0");
    assert_string_equal(o, "BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n"
                           "BEGIN:STANDARD\r\nDTSTART:19701025T020000\r\n"
                           "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nTZNAME:GMT\r\n"
                           "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
                           "BEGIN:DAYLIGHT\r\nDTSTART:19700329T010000\r\n"
                           "TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nTZNAME:BST\r\n"
                           "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
                           "END:VTIMEZONE\r\n");
    free(o);
    /* southern hemisphere: daylight time from October to April */
    o = vtz("Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3");
    assert_non_null(strstr(o, "BEGIN:STANDARD\r\nDTSTART:19700405T030000\r\n"
                              "TZOFFSETFROM:+1100\r\nTZOFFSETTO:+1000\r\n"));
    assert_non_null(strstr(o, "BEGIN:DAYLIGHT\r\nDTSTART:19701004T020000\r\n"
                              "TZOFFSETFROM:+1000\r\nTZOFFSETTO:+1100\r\nTZNAME:AEDT\r\n"
                              "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU\r\n"));
    free(o);
    /* no daylight saving time: one observance; minutes in offsets, names in <> */
    o = vtz("Asia/Tokyo", "JST-9");
    assert_non_null(strstr(o, "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
                              "TZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\nTZNAME:JST\r\n"
                              "END:STANDARD\r\n"));
    assert_null(strstr(o, "DAYLIGHT"));
    free(o);
    o = vtz("Asia/Kolkata", "IST-5:30");
    assert_non_null(strstr(o, "TZOFFSETTO:+0530\r\n"));
    free(o);
    o = vtz("America/St_Johns", "NST3:30NDT,M3.2.0,M11.1.0");
    assert_non_null(strstr(o, "TZOFFSETFROM:-0230\r\nTZOFFSETTO:-0330\r\nTZNAME:NST\r\n"));
    free(o);
    o = vtz("Pacific/Chatham", "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45");
    assert_non_null(strstr(o, "DTSTART:19700927T024500\r\nTZOFFSETFROM:+1245\r\n"
                              "TZOFFSETTO:+1345\r\nTZNAME:+1345\r\n"));
    free(o);
    /* what RRULE cannot say, and what is not a rule */
    assert_null(vtz("Asia/Jerusalem", "IST-2IDT,M3.4.4/26,M10.5.0"));
    assert_null(vtz("America/Nuuk", "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"));
    assert_null(vtz("X/Y", "EST5EDT,J60,J300"));
    assert_null(vtz("X/Y", "EST5EDT"));
    assert_null(vtz("X/Y", "E5"));
    assert_null(vtz("X/Y", "EST5EDT,M13.1.0,M11.1.0"));
    assert_null(vtz("X/Y", ""));
    /* from the system's zone files */
    ftext t = {0};
    size_t len;
    assert_true(feed_tz_vtimezone(&t, "America/New_York"));
    o = ftext_release(&t, &len);
    assert_non_null(strstr(o, "TZID:America/New_York\r\n"));
    assert_non_null(strstr(o, "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n"));
    free(o);
    assert_false(feed_tz_vtimezone(&t, "Mars/Base"));
    assert_false(feed_tz_vtimezone(&t, "../../etc/passwd"));
    assert_false(feed_tz_vtimezone(&t, "America")); /* a directory */
    assert_int_equal(t.n, 0);
    ftext_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_ics_text_escaping),
        cmocka_unit_test(test_ics_folding),
        cmocka_unit_test(test_feed_types_setting),
        cmocka_unit_test_setup_teardown(test_feed_rendering, setup, teardown),
        cmocka_unit_test(test_ics_path),
        cmocka_unit_test(test_vtimezone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
