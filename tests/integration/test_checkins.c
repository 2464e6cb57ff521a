/* Daily check-ins over real WebSockets: validation, dates and streaks under a moved clock,
 * consent, alerts live and after sign-in, missed check-ins, help requests, and the rule that a
 * note never reaches anyone but its author. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <msgpack.h>

#include "harness.h"
#include "proto.h"
#include "rawws.h"

#define SECRET "my secret note: the name of my dealer"

static mu_req *checkin(int tz, int mood, int craving)
{
    mu_req *r = mu_req_new("checkin.submit");
    mu_req_int(r, "tz", tz);
    mu_req_int(r, "mood", mood);
    if (craving >= 0)
        mu_req_int(r, "craving", craving);
    return r;
}

static void share(world *w, const char *level)
{
    mu_req *r = mu_req_new("consent.set");
    mu_req_str(r, "share", level);
    call_expect(w->y, w->mem, r, "ok");
}

static int32_t today_at(world *w, int tz)
{
    mu_msg *m = cl_call(w->y, w->admin, mu_req_new("ping"));
    int64_t ts = mu_value_get_int(mu_msg_root(m), "ts", 0);
    mu_msg_free(m);
    int64_t local = ts + (int64_t)tz * 60000;
    return (int32_t)(local / 86400000);
}

static void test_submit_and_validation(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.sam", "riley");
    int32_t d = today_at(&w, 60);
    mu_msg *m = cl_call(w.y, w.mem, checkin(60, 6, -1));
    expect_ok(m);
    char want[11];
    mu_date_format(d, want);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "date"), want);
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "streak", -1), 1);
    assert_int_equal(mu_value_len(mu_msg_get(m, "flags")), 0);
    assert_null(mu_msg_get(m, "who5_pct"));
    mu_msg_free(m);
    /* everything, scored; resubmitting the same day replaces */
    mu_req *r = checkin(60, 2, 9);
    mu_req_int(r, "sleep", 4);
    mu_req_str(r, "use", "more_than_planned");
    mu_req_str(r, "stage", "action");
    int64_t who5[5] = {1, 2, 3, 2, 2}, barc[10] = {5, 5, 5, 5, 5, 4, 4, 4, 5, 5};
    mu_req_ints(r, "who5", who5, 5);
    mu_req_ints(r, "barc10", barc, 10);
    const char *trig[2] = {"payday", "old friends"};
    mu_req_strs(r, "triggers", trig, 2);
    mu_req_str(r, "note", SECRET);
    m = cl_call(w.y, w.mem, r);
    expect_ok(m);
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "who5_pct", -1), 40);
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "barc10_total", -1), 47);
    const mu_value *flags = mu_msg_get(m, "flags");
    assert_int_equal(mu_value_len(flags), 4);
    assert_string_equal(mu_value_str(mu_value_at(flags, 0)), "high_craving");
    assert_string_equal(mu_value_str(mu_value_at(flags, 1)), "low_mood");
    assert_string_equal(mu_value_str(mu_value_at(flags, 2)), "use_above_plan");
    assert_string_equal(mu_value_str(mu_value_at(flags, 3)), "low_wellbeing");
    mu_msg_free(m);
    m = cl_call(w.y, w.mem, mu_req_new("checkin.list"));
    const mu_value *list = mu_msg_get(m, "checkins");
    assert_int_equal(mu_value_len(list), 1);
    const mu_value *it = mu_value_at(list, 0);
    assert_int_equal(mu_value_get_int(it, "mood", -1), 2);
    assert_int_equal(mu_value_get_int(it, "tz", 0), 60);
    assert_string_equal(mu_value_get_str(it, "use"), "more_than_planned");
    assert_string_equal(mu_value_get_str(it, "note"), SECRET); /* the author sees it */
    assert_int_equal(mu_value_len(mu_value_get(it, "who5")), 5);
    assert_string_equal(mu_value_str(mu_value_at(mu_value_get(it, "triggers"), 1)), "old friends");
    assert_int_equal(mu_value_len(mu_value_get(it, "flags")), 4);
    mu_msg_free(m);
    /* a check-in on an earlier local date than the latest */
    call_expect(w.y, w.mem, checkin(840, 5, -1), "ok");
    call_expect(w.y, w.mem, checkin(-720, 5, -1), "conflict");
    /* field checks */
    call_expect(w.y, w.mem, checkin(0, 11, -1), "bad_request");
    call_expect(w.y, w.mem, checkin(0, 5, 11), "bad_request");
    call_expect(w.y, w.mem, checkin(841, 5, -1), "bad_request");
    r = checkin(0, 5, -1);
    mu_req_str(r, "use", "relapsed");
    call_expect(w.y, w.mem, r, "bad_request");
    r = checkin(0, 5, -1);
    mu_req_str(r, "stage", "denial");
    call_expect(w.y, w.mem, r, "bad_request");
    r = checkin(0, 5, -1);
    mu_req_ints(r, "who5", who5, 4);
    call_expect(w.y, w.mem, r, "bad_request");
    int64_t bad_barc[10] = {0, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    r = checkin(0, 5, -1);
    mu_req_ints(r, "barc10", bad_barc, 10);
    call_expect(w.y, w.mem, r, "bad_request");
    char longtrig[42];
    memset(longtrig, 't', 41);
    longtrig[41] = 0;
    const char *lt[1] = {longtrig};
    r = checkin(0, 5, -1);
    mu_req_strs(r, "triggers", lt, 1);
    call_expect(w.y, w.mem, r, "bad_request");
    char *note = malloc(2002);
    memset(note, 'n', 2001);
    note[2001] = 0;
    r = checkin(0, 5, -1);
    mu_req_str(r, "note", note);
    call_expect(w.y, w.mem, r, "too_large");
    free(note);
    r = mu_req_new("checkin.submit");
    mu_req_int(r, "tz", 0);
    call_expect(w.y, w.mem, r, "bad_request"); /* mood is required */
    /* any role may check in: mentors look after themselves too */
    call_expect(w.y, w.mentor, checkin(0, 7, 0), "ok");
    world_down(&w);
}

static void test_streaks_and_summary(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.sam", "riley");
    mu_msg *m;
    int moods[] = {4, 6, 8};
    for (int i = 0; i < 3; i++) {
        m = cl_call(w.y, w.mem, checkin(0, moods[i], 2 * i));
        expect_ok(m);
        assert_int_equal(mu_value_get_int(mu_msg_root(m), "streak", -1), i + 1);
        mu_msg_free(m);
        world_advance(&w, 86400);
    }
    /* today has none yet: the streak still counts through yesterday */
    mu_req *r = mu_req_new("checkin.summary");
    mu_req_int(r, "days", 7);
    m = cl_call(w.y, w.mem, r);
    expect_ok(m);
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "streak", -1), 3);
    mu_msg_free(m);
    world_advance(&w, 86400); /* a day without one */
    m = cl_call(w.y, w.mem, checkin(0, 5, 4));
    assert_int_equal(mu_value_get_int(mu_msg_root(m), "streak", -1), 1);
    mu_msg_free(m);
    r = mu_req_new("checkin.summary");
    mu_req_int(r, "days", 7);
    m = cl_call(w.y, w.mem, r);
    expect_ok(m);
    const mu_value *s = mu_msg_root(m);
    assert_int_equal(mu_value_get_int(s, "days", 0), 7);
    assert_int_equal(mu_value_get_int(s, "count", 0), 4);
    assert_int_equal(mu_value_get_int(s, "streak", 0), 1);
    assert_int_equal(mu_value_get_int(s, "best_streak", 0), 3);
    assert_int_equal(mu_value_get_int(s, "missed", -1), 1);
    char *json = mu_value_to_json(s, 0);
    assert_non_null(strstr(json, "\"mood_avg\":5.75"));   /* (4+6+8+5)/4 */
    assert_non_null(strstr(json, "\"craving_avg\":2.5")); /* (0+2+4+4)/4 */
    assert_non_null(strstr(json, "\"who5_last\":null"));
    free(json);
    mu_msg_free(m);
    r = mu_req_new("checkin.summary");
    mu_req_int(r, "days", 6);
    call_expect(w.y, w.mem, r, "bad_request");
    /* list bounds are inclusive */
    int32_t today = today_at(&w, 0);
    char from[11], to[11];
    mu_date_format(today - 4, from);
    mu_date_format(today - 3, to);
    r = mu_req_new("checkin.list");
    mu_req_str(r, "from", from);
    mu_req_str(r, "to", to);
    m = cl_call(w.y, w.mem, r);
    assert_int_equal(mu_value_len(mu_msg_get(m, "checkins")), 2);
    mu_msg_free(m);
    world_down(&w);
}

static void test_consent_alerts_and_privacy(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.sam", "riley");
    mu_req *r;
    /* share none: nothing reaches the mentor, and scores are not theirs to read */
    mu_req *c = checkin(0, 5, 9);
    mu_req_str(c, "note", SECRET);
    call_expect(w.y, w.mem, c, "ok");
    world_no_event(&w, w.mentor);
    r = mu_req_new("mentee.checkins");
    mu_req_str(r, "handle", "riley");
    mu_req_int(r, "days", 7);
    call_expect(w.y, w.mentor, r, "forbidden");
    /* share alerts: the flag that raised none so far raises one now; scores still closed */
    share(&w, "alerts");
    c = checkin(0, 5, 9);
    mu_req_str(c, "note", SECRET);
    call_expect(w.y, w.mem, c, "ok");
    mu_msg *a = world_event(&w, w.mentor, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "kind"), "high_craving");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "handle"), "riley");
    int64_t alert_id = mu_value_get_int(mu_msg_root(a), "id", 0);
    mu_msg_free(a);
    /* once per flag per local day */
    c = checkin(0, 1, 9);
    mu_req_str(c, "note", SECRET);
    call_expect(w.y, w.mem, c, "ok");
    a = world_event(&w, w.mentor, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "kind"), "low_mood");
    mu_msg_free(a);
    world_no_event(&w, w.mentor);
    r = mu_req_new("mentee.checkins");
    mu_req_str(r, "handle", "riley");
    mu_req_int(r, "days", 7);
    call_expect(w.y, w.mentor, r, "forbidden");
    /* share scores: the mentor reads check-ins, never the note */
    share(&w, "scores");
    r = mu_req_new("mentee.checkins");
    mu_req_str(r, "handle", "riley");
    mu_req_int(r, "days", 7);
    mu_msg *m = cl_call(w.y, w.mentor, r);
    expect_ok(m);
    const mu_value *list = mu_msg_get(m, "checkins");
    assert_int_equal(mu_value_len(list), 1);
    assert_int_equal(mu_value_get_int(mu_value_at(list, 0), "craving", 0), 9);
    assert_int_equal(mu_value_type(mu_value_get(mu_value_at(list, 0), "note")), MU_V_NIL);
    char *json = mu_value_to_json(mu_msg_root(m), 0);
    assert_null(strstr(json, "dealer"));
    free(json);
    mu_msg_free(m);
    /* someone else's mentee, an unknown handle, a member asking: forbidden */
    r = mu_req_new("mentee.checkins");
    mu_req_str(r, "handle", "nobody-here");
    mu_req_int(r, "days", 7);
    call_expect(w.y, w.mentor, r, "forbidden");
    r = mu_req_new("mentee.checkins");
    mu_req_str(r, "handle", "riley");
    mu_req_int(r, "days", 7);
    call_expect(w.y, w.mem, r, "forbidden");
    /* the caseload view */
    m = cl_call(w.y, w.mentor, mu_req_new("mentees.list"));
    const mu_value *e = mu_value_at(mu_msg_get(m, "mentees"), 0);
    assert_string_equal(mu_value_get_str(e, "share"), "scores");
    assert_non_null(mu_value_get_str(e, "last_checkin"));
    assert_int_equal(mu_value_get_int(e, "open_alerts", -1), 2);
    mu_msg_free(m);
    /* alerts.list, alert.ack */
    m = cl_call(w.y, w.mentor, mu_req_new("alerts.list"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 2);
    mu_msg_free(m);
    r = mu_req_new("alert.ack");
    mu_req_int(r, "id", alert_id);
    call_expect(w.y, w.mentor, r, "ok");
    r = mu_req_new("alert.ack");
    mu_req_int(r, "id", 999999);
    call_expect(w.y, w.mentor, r, "not_found");
    m = cl_call(w.y, w.mentor, mu_req_new("alerts.list"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 1);
    mu_msg_free(m);
    r = mu_req_new("alerts.list");
    mu_req_bool(r, "open", false);
    m = cl_call(w.y, w.mentor, r);
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 2);
    mu_msg_free(m);
    call_expect(w.y, w.mem, mu_req_new("alerts.list"), "forbidden");
    /* the mentor signs in again: open alerts are pushed, in id order */
    mu_client *again = world_as(&w, "mentor.sam");
    a = world_event(&w, again, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "kind"), "low_mood");
    json = mu_value_to_json(mu_msg_root(a), 0);
    assert_null(strstr(json, "dealer"));
    free(json);
    mu_msg_free(a);
    world_no_event(&w, again);
    /* nothing the mentor's connections ever received carries the note */
    while ((m = mu_sync_event(w.y, w.mentor, 100))) {
        json = mu_value_to_json(mu_msg_root(m), 0);
        assert_null(strstr(json, "dealer"));
        free(json);
        mu_msg_free(m);
    }
    /* reassignment closes the old mentor's open alerts about the user */
    world_add(&w, "mentor.two", "mentor");
    r = mu_req_new("mentor.assign");
    mu_req_str(r, "mentor", "mentor.two");
    mu_req_str(r, "user", "riley");
    call_expect(w.y, w.admin, r, "ok");
    m = cl_call(w.y, w.mentor, mu_req_new("alerts.list"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 0);
    mu_msg_free(m);
    world_down(&w);
}

static void test_missed_and_help(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.sam", "riley");
    share(&w, "alerts");
    call_expect(w.y, w.mem, checkin(0, 6, 1), "ok"); /* day D */
    world_advance(&w, 3 * (int64_t)86400);           /* D+3: not yet */
    world_no_event(&w, w.mentor);
    world_advance(&w, 86400); /* D+4 */
    mu_msg *a = world_event(&w, w.mentor, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "kind"), "missed_checkins");
    assert_non_null(strstr(mu_value_get_str(mu_msg_root(a), "detail"), "3 days"));
    mu_msg_free(a);
    world_advance(&w, 86400); /* once per gap */
    world_no_event(&w, w.mentor);
    call_expect(w.y, w.mem, checkin(0, 6, 1), "ok");
    world_advance(&w, 4 * (int64_t)86400);
    a = world_event(&w, w.mentor, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "kind"), "missed_checkins");
    mu_msg_free(a);
    /* help: whatever the share, the mentor is told; the resources come back */
    share(&w, "none");
    mu_req *r = mu_req_new("help");
    mu_req_str(r, "text", "struggling tonight");
    mu_msg *m = cl_call(w.y, w.mem, r);
    expect_ok(m);
    assert_true(mu_value_len(mu_msg_get(m, "resources")) >= 1);
    mu_msg_free(m);
    a = world_event(&w, w.mentor, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "kind"), "help_requested");
    assert_null(strstr(mu_value_get_str(mu_msg_root(a), "detail"), "struggling"));
    int64_t help_id = mu_value_get_int(mu_msg_root(a), "id", -1);
    mu_msg_free(a);
    /* Asking again while that one is open: the resources again, but no second alert. */
    m = cl_call(w.y, w.mem, mu_req_new("help"));
    expect_ok(m);
    assert_true(mu_value_len(mu_msg_get(m, "resources")) >= 1);
    mu_msg_free(m);
    world_no_event(&w, w.mentor);
    m = cl_call(w.y, w.mentor, mu_req_new("alerts.list"));
    int helps = 0;
    const mu_value *list = mu_msg_get(m, "alerts");
    for (size_t i = 0; i < mu_value_len(list); i++)
        helps += !strcmp(mu_value_get_str(mu_value_at(list, i), "kind"), "help_requested");
    assert_int_equal(helps, 1);
    mu_msg_free(m);
    /* Once the mentor has acknowledged it, the next request is a new alert. */
    r = mu_req_new("alert.ack");
    mu_req_int(r, "id", help_id);
    call_expect(w.y, w.mentor, r, "ok");
    call_expect(w.y, w.mem, mu_req_new("help"), "ok");
    a = world_event(&w, w.mentor, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "kind"), "help_requested");
    assert_true(mu_value_get_int(mu_msg_root(a), "id", -1) > help_id);
    mu_msg_free(a);
    /* with share none, no missed_checkins either */
    world_advance(&w, 10 * (int64_t)86400);
    world_no_event(&w, w.mentor);
    /* help before sign-in, and from someone with no mentor */
    mu_client *anon = cl_connect(w.y, &w.s);
    call_expect(w.y, anon, mu_req_new("help"), "ok");
    free(cl_register(w.y, anon, "solo", WORLD_PW, "family"));
    call_expect(w.y, anon, mu_req_new("help"), "ok");
    world_no_event(&w, w.mentor);
    /* Given a mentor while that request (the admins') is still open, the next one reaches the
     * mentor: the one that stands is not theirs. */
    r = mu_req_new("mentor.assign");
    mu_req_str(r, "mentor", "mentor.sam");
    mu_req_str(r, "user", "solo");
    call_expect(w.y, w.admin, r, "ok");
    call_expect(w.y, anon, mu_req_new("help"), "ok");
    a = world_event(&w, w.mentor, "alert");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "kind"), "help_requested");
    assert_string_equal(mu_value_get_str(mu_msg_root(a), "handle"), "solo");
    mu_msg_free(a);
    world_down(&w);
}

/* One request, written as raw bytes. */
static void raw_req(raw_ws *rw, const char *op, uint64_t rid, const char *k, const char *v,
                    const char *k2, int64_t v2)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2 + (k != NULL) + (k2 != NULL));
    const char *strs[4] = {"op", op, "rid", k};
    for (int i = 0; i < 2; i++) {
        msgpack_pack_str(&pk, strlen(strs[i]));
        msgpack_pack_str_body(&pk, strs[i], strlen(strs[i]));
    }
    msgpack_pack_str(&pk, 3);
    msgpack_pack_str_body(&pk, "rid", 3);
    msgpack_pack_uint64(&pk, rid);
    if (k) {
        msgpack_pack_str(&pk, strlen(k));
        msgpack_pack_str_body(&pk, k, strlen(k));
        msgpack_pack_str(&pk, strlen(v));
        msgpack_pack_str_body(&pk, v, strlen(v));
    }
    if (k2) {
        msgpack_pack_str(&pk, strlen(k2));
        msgpack_pack_str_body(&pk, k2, strlen(k2));
        msgpack_pack_int64(&pk, v2);
    }
    assert_int_equal(raw_send(rw, 2, sb.data, sb.size, true), 0);
    msgpack_sbuffer_destroy(&sb);
}

/* Signs in with a token and sends one request, then drops the socket as soon as the sign-in is
 * answered: the connection is gone (its user cleared) while the request's job may still wait
 * for the writer. */
static void fire_and_vanish(const srv_t *s, const char *token, const char *op, const char *k,
                            const char *v, const char *k2, int64_t v2)
{
    raw_ws rw;
    assert_int_equal(raw_connect(&rw, s->port, "/ws", "mutual.v1"), 101);
    raw_req(&rw, "resume", 1, "token", token, NULL, 0);
    raw_req(&rw, op, 2, k, v, k2, v2);
    /* the welcome, then the resume's reply: by then the second request is under way (a
     * connection's queued requests go with it; the one in progress does not) */
    for (int got = 0; got < 2;) {
        int opcode;
        char *p;
        size_t n;
        assert_int_equal(raw_recv(&rw, &opcode, &p, &n, 10000), 0);
        got += opcode == 2;
        free(p);
    }
    raw_close(&rw);
}

/* Requests whose connection is gone before the writer runs them: they still take effect, and
 * (under ThreadSanitizer) nothing on the writer thread reads the connection the loop clears. */
static void test_jobs_outlive_their_connection(void **st)
{
    world w;
    world_up(&w, NULL, 1, "mentor.sam", "riley");
    mu_client *c0 = cl_connect(w.y, &w.s);
    char *tok = cl_login(w.y, c0, "riley", WORLD_PW);
    mu_client *c1 = cl_connect(w.y, &w.s);
    char *mtok = cl_login(w.y, c1, "mentor.sam", WORLD_PW);
    enum { N = 24 };
    for (int i = 0; i < N; i++) {
        fire_and_vanish(&w.s, tok, "help", NULL, NULL, NULL, 0);
        fire_and_vanish(&w.s, tok, "consent.set", "share", i % 2 ? "scores" : "alerts", NULL, 0);
        fire_and_vanish(&w.s, mtok, "mentee.checkins", "handle", "riley", "days", 7);
    }
    free(tok);
    free(mtok);
    /* The help requests reached the mentor (as one alert: the first stays open while the
     * others come), and the last share chosen holds. */
    int alerts = 0;
    for (int tries = 0; tries < 200 && alerts < 1; tries++) {
        mu_msg *m = cl_call(w.y, w.mentor, mu_req_new("alerts.list"));
        alerts = (int)mu_value_len(mu_msg_get(m, "alerts"));
        mu_msg_free(m);
        if (alerts < 1)
            mu_sync_run(w.y, 50);
    }
    assert_int_equal(alerts, 1);
    /* The last consent.set was sent after the last help request and may commit in a later
     * batch: wait for it too. A lost one would leave "alerts" (the one before) for good. */
    char last[16] = "";
    for (int tries = 0; tries < 200 && strcmp(last, "scores") != 0; tries++) {
        mu_msg *m = cl_call(w.y, w.mentor, mu_req_new("mentees.list"));
        expect_ok(m);
        const mu_value *mentee = mu_value_at(mu_msg_get(m, "mentees"), 0);
        snprintf(last, sizeof(last), "%s", mu_value_get_str(mentee, "share"));
        mu_msg_free(m);
        if (strcmp(last, "scores") != 0)
            mu_sync_run(w.y, 50);
    }
    assert_string_equal(last, "scores");
    /* Still one alert once everything has committed: the later requests raised no copies. */
    mu_sync_run(w.y, 200);
    mu_msg *m = cl_call(w.y, w.mentor, mu_req_new("alerts.list"));
    assert_int_equal(mu_value_len(mu_msg_get(m, "alerts")), 1);
    mu_msg_free(m);
    world_down(&w);
}

/* ---- consent withdrawal against a mentor's reads ------------------------------------------ */

/* The client's loop iterations in the race below: each mu_sync_run(y, 0) is one. */
static int race_iter;

typedef struct {
    bool withdrawn; /* the withdrawal's reply has arrived */
    int ack_iter;   /* in this iteration */
    int replies, acks, with_data, forbidden, late_data;
} race_log;

static void on_read(mu_client *c, const mu_msg *m, void *ud)
{
    race_log *l = ud;
    if (!m)
        return;
    l->replies++;
    if (mu_msg_ok(m)) {
        l->with_data++;
        /* The server sends replies in the order it decided them: a read decided before the
         * withdrawal is written to its socket before the withdrawal's reply to the other, so
         * it is read by the client no later than the iteration that reads that reply (two
         * sockets ready at once are read in either order). Check-ins read in a later
         * iteration were decided after the withdrawal. */
        if (l->withdrawn && race_iter > l->ack_iter)
            l->late_data++;
    } else if (mu_msg_code(m) && !strcmp(mu_msg_code(m), "forbidden")) {
        l->forbidden++;
    }
}

static void on_withdraw(mu_client *c, const mu_msg *m, void *ud)
{
    race_log *l = ud;
    if (m && mu_msg_ok(m)) {
        l->withdrawn = true;
        l->ack_iter = race_iter;
        l->acks++;
    }
}

static void send_read(world *w, race_log *l, const char *op)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "handle", "riley");
    if (!strcmp(op, "mentee.checkins"))
        mu_req_int(r, "days", 7);
    assert_true(mu_client_send(w->mentor, r, on_read, l) > 0);
}

/* A mentor's reads of `op` (mentee.checkins or mentee.plan) race the mentee's withdrawal of
 * consent: none is served after the withdrawal's reply. */
static void withdrawal_race(const char *op)
{
    world w;
    world_up(&w, NULL, 1, "mentor.sam", "riley");
    call_expect(w.y, w.mem, checkin(0, 5, 3), "ok");
    enum { TRIES = 40, READS = 3 };
    race_log total = {0};
    for (int t = 0; t < TRIES; t++) {
        share(&w, "scores");
        race_log l = {0};
        for (int i = 0; i < READS; i++)
            send_read(&w, &l, op);
        /* the withdrawal lands at a different point among the reads on each try */
        for (double t1 = mono_ms(); mono_ms() - t1 < (t % 8) * 0.5;)
            mu_sync_run(w.y, 0);
        mu_req *r = mu_req_new("consent.set");
        mu_req_str(r, "share", "none");
        assert_true(mu_client_send(w.mem, r, on_withdraw, &l) > 0);
        for (int i = 0; i < READS; i++)
            send_read(&w, &l, op);
        double t0 = mono_ms();
        while ((l.replies < 2 * READS || l.acks < 1) && mono_ms() - t0 < 20000) {
            race_iter++;
            mu_sync_run(w.y, 0); /* one iteration of the client's loop */
        }
        assert_int_equal(l.replies, 2 * READS);
        assert_int_equal(l.acks, 1);
        total.with_data += l.with_data;
        total.forbidden += l.forbidden;
        total.late_data += l.late_data;
    }
    print_message("withdrawal race (%s): %d reads served, %d refused, %d served after the "
                  "withdrawal's reply\n",
                  op, total.with_data, total.forbidden, total.late_data);
    assert_int_equal(total.late_data, 0);
    assert_int_equal(total.with_data + total.forbidden, TRIES * 2 * READS);
    assert_true(total.with_data > 0); /* the reads did overlap the withdrawals */
    world_down(&w);
}

static void test_withdrawal_orders_with_reads(void **st)
{
    (void)st;
    withdrawal_race("mentee.checkins");
}

static void test_withdrawal_orders_with_plan_reads(void **st)
{
    (void)st;
    withdrawal_race("mentee.plan");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_and_validation),
        cmocka_unit_test(test_streaks_and_summary),
        cmocka_unit_test(test_consent_alerts_and_privacy),
        cmocka_unit_test(test_missed_and_help),
        cmocka_unit_test(test_jobs_outlive_their_connection),
        cmocka_unit_test(test_withdrawal_orders_with_reads),
        cmocka_unit_test(test_withdrawal_orders_with_plan_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
