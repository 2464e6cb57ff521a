/* The meeting feed and room calendars over real HTTP against the real server: listed rooms
 * made over real WebSockets appear in GET /meetings.json, checked against the Meeting Guide
 * feed specification's rules by a small JSON parser here, with CORS and cache headers;
 * unlisted and non-public rooms do not; GET /rooms/<room>.ics parsed back (unfolded, CRLF,
 * RRULE, TZID, UID stable), a slot that runs past midnight included; 404 for the rest. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "harness.h"

#define PUBLIC "https://mutual.example.org"
#define CONFIG                   \
    "public_url = " PUBLIC "/\n" \
    "feed_address = Leeds, UK\n" \
    "feed_region = Yorkshire > Leeds\n"

/* ---- HTTP ------------------------------------------------------------------------------ */

typedef struct {
    int status;
    char *head; /* status line and headers */
    char *body;
    size_t body_len;
} http_res;

/* One GET; reads until the declared body is in (lws keeps the connection open). */
static http_res http_do(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: https://finder.example\r\n"
                     "\r\n",
                     path, port);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        char *cl = strcasestr(buf, "content-length:");
        if (end && cl && cl < end && len >= (size_t)(end + 4 - buf) + (size_t)atol(cl + 15))
            break;
    }
    close(fd);
    buf[len] = 0;
    http_res res = {0};
    sscanf(buf, "HTTP/1.%*d %d", &res.status);
    char *end = strstr(buf, "\r\n\r\n");
    assert_non_null(end);
    res.body_len = len - (size_t)(end + 4 - buf);
    res.body = malloc(res.body_len + 1);
    memcpy(res.body, end + 4, res.body_len + 1);
    *end = 0;
    res.head = buf;
    return res;
}

static void res_free(http_res *r)
{
    free(r->head);
    free(r->body);
}

static const char *res_header(const http_res *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (!strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1;
            v += strspn(v, " ");
            size_t vl = strcspn(v, "\r");
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = 0;
            return out;
        }
    }
    return NULL;
}

static void expect_public_headers(const http_res *r, const char *type)
{
    char v[256];
    assert_non_null(res_header(r, "access-control-allow-origin", v, sizeof(v)));
    assert_string_equal(v, "*");
    assert_non_null(res_header(r, "cache-control", v, sizeof(v)));
    assert_string_equal(v, "max-age=300");
    assert_non_null(res_header(r, "content-type", v, sizeof(v)));
    assert_true(strncmp(v, type, strlen(type)) == 0);
}

/* ---- a small JSON parser --------------------------------------------------------------- */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
    jtype t;
    double num;
    char *str;   /* J_STR: decoded, NUL-terminated */
    char **keys; /* J_OBJ */
    struct jval *items;
    size_t n;
} jval;

typedef struct {
    const char *p, *end;
} jin;

static void jws(jin *in)
{
    while (in->p < in->end && strchr(" \t\r\n", *in->p))
        in->p++;
}

/* Fails the test on anything that is not JSON. */
static char *jstring(jin *in)
{
    assert_true(in->p < in->end && *in->p == '"');
    in->p++;
    size_t cap = 64, n = 0;
    char *s = malloc(cap);
    while (in->p < in->end && *in->p != '"') {
        if (n + 8 >= cap)
            s = realloc(s, cap *= 2);
        unsigned char c = (unsigned char)*in->p++;
        assert_true(c >= 0x20); /* control characters must be escaped */
        if (c != '\\') {
            s[n++] = (char)c;
            continue;
        }
        assert_true(in->p < in->end);
        char e = *in->p++;
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *k = strchr(from, e);
        if (e && k) {
            s[n++] = to[k - from];
            continue;
        }
        assert_int_equal(e, 'u');
        assert_true(in->end - in->p >= 4);
        char hex[5] = {0};
        memcpy(hex, in->p, 4);
        in->p += 4;
        unsigned cp = (unsigned)strtoul(hex, NULL, 16);
        assert_true(cp < 0x80); /* all the server escapes */
        s[n++] = (char)cp;
    }
    assert_true(in->p < in->end);
    in->p++;
    s[n] = 0;
    return s;
}

static void jparse(jin *in, jval *v)
{
    memset(v, 0, sizeof(*v));
    jws(in);
    assert_true(in->p < in->end);
    char c = *in->p;
    if (c == '"') {
        v->t = J_STR;
        v->str = jstring(in);
    } else if (c == '[' || c == '{') {
        bool obj = c == '{';
        v->t = obj ? J_OBJ : J_ARR;
        in->p++;
        jws(in);
        if (in->p < in->end && *in->p == (obj ? '}' : ']')) {
            in->p++;
            return;
        }
        for (;;) {
            v->items = realloc(v->items, (v->n + 1) * sizeof(*v->items));
            if (obj) {
                v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
                jws(in);
                v->keys[v->n] = jstring(in);
                jws(in);
                assert_true(in->p < in->end && *in->p == ':');
                in->p++;
            }
            jparse(in, &v->items[v->n++]);
            jws(in);
            assert_true(in->p < in->end);
            if (*in->p == ',') {
                in->p++;
                continue;
            }
            assert_int_equal(*in->p, obj ? '}' : ']');
            in->p++;
            return;
        }
    } else if (!strncmp(in->p, "true", 4) || !strncmp(in->p, "null", 4)) {
        v->t = c == 't' ? J_BOOL : J_NULL;
        in->p += 4;
    } else if (!strncmp(in->p, "false", 5)) {
        v->t = J_BOOL;
        in->p += 5;
    } else {
        char *e;
        v->t = J_NUM;
        v->num = strtod(in->p, &e);
        assert_true(e > in->p);
        in->p = e;
    }
}

static jval jdoc(const char *text, size_t n)
{
    jin in = {text, text + n};
    jval v;
    jparse(&in, &v);
    jws(&in);
    assert_true(in.p == in.end); /* nothing after the value */
    return v;
}

static void jfree(jval *v)
{
    for (size_t i = 0; i < v->n; i++) {
        jfree(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
}

static const jval *jget(const jval *o, const char *key)
{
    assert_int_equal(o->t, J_OBJ);
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key))
            return &o->items[i];
    return NULL;
}

static const char *jstr(const jval *o, const char *key)
{
    const jval *v = jget(o, key);
    return v && v->t == J_STR ? v->str : NULL;
}

static bool has_str(const jval *arr, const char *s)
{
    for (size_t i = 0; arr && arr->t == J_ARR && i < arr->n; i++)
        if (arr->items[i].t == J_STR && !strcmp(arr->items[i].str, s))
            return true;
    return false;
}

/* ---- the feed specification's rules ---------------------------------------------------- */

static bool hhmm(const char *s)
{
    return s && strlen(s) == 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
           s[2] == ':' && isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]) &&
           atoi(s) < 24 && atoi(s + 3) < 60;
}

static bool day_ok(const jval *d)
{
    return d->t == J_NUM && d->num == (int)d->num && d->num >= 0 && d->num <= 6;
}

/* Every entry as code4recovery's specification and Meeting Guide's importer want it; fails
 * the test otherwise. */
static void validate_feed(const jval *feed)
{
    assert_int_equal(feed->t, J_ARR);
    for (size_t i = 0; i < feed->n; i++) {
        const jval *m = &feed->items[i];
        assert_int_equal(m->t, J_OBJ);
        const char *name = jstr(m, "name"), *slug = jstr(m, "slug");
        assert_non_null(name);
        assert_true(name[0] && strlen(name) <= 255);
        /* slug: URL-safe, at most 64, unique in the feed */
        assert_non_null(slug);
        assert_true(slug[0] && strlen(slug) <= 64);
        assert_int_equal(strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789-_"), strlen(slug));
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(jstr(&feed->items[k], "slug"), slug);
        /* day: an integer 0-6 or a non-empty list of them */
        const jval *day = jget(m, "day");
        assert_non_null(day);
        if (day->t == J_ARR) {
            assert_true(day->n > 0);
            for (size_t k = 0; k < day->n; k++)
                assert_true(day_ok(&day->items[k]));
        } else {
            assert_true(day_ok(day));
        }
        assert_true(hhmm(jstr(m, "time")));
        if (jget(m, "end_time"))
            assert_true(hhmm(jstr(m, "end_time")));
        const char *tz = jstr(m, "timezone");
        assert_non_null(tz);
        assert_non_null(strchr(tz, '/'));
        /* an online meeting: a conference_url that leads to the room; an approximate address */
        const char *url = jstr(m, "conference_url");
        assert_non_null(url);
        assert_true(!strncmp(url, PUBLIC "/#/room/", strlen(PUBLIC "/#/room/")));
        const char *addr = jstr(m, "formatted_address");
        assert_non_null(addr);
        assert_true(addr[0] != 0);
        const jval *types = jget(m, "types");
        assert_non_null(types);
        assert_int_equal(types->t, J_ARR);
        for (size_t k = 0; k < types->n; k++)
            assert_int_equal(types->items[k].t, J_STR);
        assert_true(has_str(types, "O") || has_str(types, "C"));
        const char *updated = jstr(m, "updated");
        int y, mo, d, h, mi, s;
        assert_non_null(updated);
        assert_int_equal(strlen(updated), 19);
        assert_int_equal(sscanf(updated, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s), 6);
        const jval *regions = jget(m, "regions");
        assert_true(has_str(regions, "Yorkshire") && has_str(regions, "Leeds"));
    }
}

/* The entries whose conference_url is the room's, as indexes into the feed. */
static size_t entries_of(const jval *feed, const char *room, size_t *idx, size_t cap)
{
    char url[128];
    snprintf(url, sizeof(url), PUBLIC "/#/room/%s", room);
    size_t n = 0;
    for (size_t i = 0; i < feed->n; i++)
        if (!strcmp(jstr(&feed->items[i], "conference_url"), url) && n < cap)
            idx[n++] = i;
    return n;
}

static jval get_feed(world *w)
{
    http_res r = http_do(w->s.port, "/meetings.json");
    assert_int_equal(r.status, 200);
    expect_public_headers(&r, "application/json");
    jval feed = jdoc(r.body, r.body_len);
    validate_feed(&feed);
    res_free(&r);
    return feed;
}

/* ---- a small iCalendar reader ---------------------------------------------------------- */

typedef struct {
    char name[64], params[128];
    char *value;
} ics_prop;

typedef struct {
    ics_prop props[24];
    size_t n;
} ics_event;

typedef struct {
    ics_event ev[16];
    size_t nev;
    char *calname;
    char tzids[8][65]; /* the zones the VTIMEZONE components define */
    size_t ntz;
} ics_cal;

/* RFC 5545 3.3.11 in reverse. */
static char *ics_unescape(const char *s)
{
    char *o = malloc(strlen(s) + 1), *p = o;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *p++ = (*s == 'n' || *s == 'N') ? '\n' : *s;
        } else {
            *p++ = *s;
        }
    }
    *p = 0;
    return o;
}

/* Checks the physical lines (CRLF only, at most 75 octets, no bare CR or LF), unfolds them and
 * reads the events. Fails the test on anything out of shape. */
static ics_cal ics_parse(const char *text, size_t len)
{
    ics_cal cal = {0};
    char *un = malloc(len + 1);
    size_t n = 0;
    const char *p = text, *end = text + len;
    assert_true(len > 2 && !memcmp(end - 2, "\r\n", 2));
    while (p < end) {
        const char *crlf = memmem(p, (size_t)(end - p), "\r\n", 2);
        assert_non_null(crlf);
        size_t pl = (size_t)(crlf - p);
        assert_true(pl <= 75);
        assert_null(memchr(p, '\r', pl));
        assert_null(memchr(p, '\n', pl));
        if (*p == ' ') { /* a continuation: unfold */
            memcpy(un + n, p + 1, pl - 1);
            n += pl - 1;
        } else {
            if (n)
                un[n++] = '\n';
            memcpy(un + n, p, pl);
            n += pl;
        }
        p = crlf + 2;
    }
    un[n] = 0;
    /* the open components, outermost first: VCALENDAR holds VTIMEZONE (which holds STANDARD
     * and DAYLIGHT) and VEVENT */
    char stack[4][16];
    int depth = 0;
    ics_event *ev = NULL;
    for (char *line = strtok(un, "\n"); line; line = strtok(NULL, "\n")) {
        char *colon = strchr(line, ':');
        assert_non_null(colon);
        *colon = 0;
        const char *value = colon + 1;
        if (!strcmp(line, "BEGIN")) {
            const char *parent = depth ? stack[depth - 1] : "";
            if (!strcmp(value, "VCALENDAR"))
                assert_string_equal(parent, "");
            else if (!strcmp(value, "VEVENT") || !strcmp(value, "VTIMEZONE"))
                assert_string_equal(parent, "VCALENDAR");
            else if (!strcmp(value, "STANDARD") || !strcmp(value, "DAYLIGHT"))
                assert_string_equal(parent, "VTIMEZONE");
            else
                fail_msg("unexpected component %s", value);
            assert_true(depth < 4);
            snprintf(stack[depth++], sizeof(stack[0]), "%s", value);
            if (!strcmp(value, "VEVENT")) {
                assert_true(cal.nev < 16);
                ev = &cal.ev[cal.nev++];
            }
            continue;
        }
        if (!strcmp(line, "END")) {
            assert_true(depth > 0);
            assert_string_equal(value, stack[--depth]);
            ev = NULL;
            continue;
        }
        if (depth && !strcmp(stack[depth - 1], "VTIMEZONE") && !strcmp(line, "TZID")) {
            assert_true(cal.ntz < 8);
            snprintf(cal.tzids[cal.ntz++], sizeof(cal.tzids[0]), "%s", value);
            continue;
        }
        if (!strcmp(line, "X-WR-CALNAME")) {
            cal.calname = ics_unescape(value);
            continue;
        }
        if (!ev)
            continue;
        assert_true(ev->n < 24);
        ics_prop *pr = &ev->props[ev->n++];
        char *semi = strchr(line, ';');
        if (semi) {
            *semi = 0;
            snprintf(pr->params, sizeof(pr->params), "%s", semi + 1);
        }
        snprintf(pr->name, sizeof(pr->name), "%s", line);
        pr->value = ics_unescape(value);
    }
    assert_int_equal(depth, 0);
    free(un);
    return cal;
}

static const ics_prop *ics_get(const ics_event *e, const char *name)
{
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->props[i].name, name))
            return &e->props[i];
    return NULL;
}

static void ics_free(ics_cal *c)
{
    for (size_t i = 0; i < c->nev; i++)
        for (size_t k = 0; k < c->ev[i].n; k++)
            free(c->ev[i].props[k].value);
    free(c->calname);
}

static ics_cal get_ics(world *w, const char *room, char **raw)
{
    char path[128];
    snprintf(path, sizeof(path), "/rooms/%s.ics", room);
    http_res r = http_do(w->s.port, path);
    assert_int_equal(r.status, 200);
    expect_public_headers(&r, "text/calendar");
    ics_cal c = ics_parse(r.body, r.body_len);
    *raw = strdup(r.body);
    res_free(&r);
    return c;
}

static int get_status(world *w, const char *path)
{
    http_res r = http_do(w->s.port, path);
    int st = r.status;
    res_free(&r);
    return st;
}

/* ---- rooms over the WebSocket ---------------------------------------------------------- */

static void pack_s(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* room.create (or room.update with audience NULL) with slots "D HH:MM-HH:MM Zone", one per
 * string; `listed` -1 leaves it out. */
static void room_def(world *w, const char *op, const char *slug, const char *name,
                     const char *audience, const char *format, int listed, const char *const *slots,
                     size_t nslots)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "room", slug);
    if (name)
        mu_req_str(r, "name", name);
    if (audience)
        mu_req_str(r, "audience", audience);
    if (format)
        mu_req_str(r, "format", format);
    if (listed >= 0)
        mu_req_bool(r, "listed", listed == 1);
    if (slots) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, (uint32_t)nslots);
        for (size_t i = 0; i < nslots; i++) {
            int day;
            char t[6], e[6], tz[64];
            assert_int_equal(sscanf(slots[i], "%d %5[0-9:]-%5[0-9:] %63s", &day, t, e, tz), 4);
            msgpack_pack_map(&pk, 4);
            pack_s(&pk, "day");
            msgpack_pack_int(&pk, day);
            pack_s(&pk, "time");
            pack_s(&pk, t);
            pack_s(&pk, "end_time");
            pack_s(&pk, e);
            pack_s(&pk, "timezone");
            pack_s(&pk, tz);
        }
        mu_req_raw(r, "schedule", sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
    }
    call_expect(w->y, w->mentor, r, "ok");
}

static bool listed_in_rooms_list(world *w, const char *slug)
{
    mu_msg *m = cl_call(w->y, w->mentor, mu_req_new("rooms.list"));
    expect_ok(m);
    const mu_value *rooms = mu_msg_get(m, "rooms");
    bool listed = false, found = false;
    for (size_t i = 0; i < mu_value_len(rooms); i++) {
        const mu_value *r = mu_value_at(rooms, i);
        if (!strcmp(mu_value_get_str(r, "room"), slug)) {
            found = true;
            assert_true(mu_value_bool(mu_value_get(r, "listed"), &listed));
        }
    }
    assert_true(found);
    mu_msg_free(m);
    return listed;
}

/* 80 bytes with every character iCalendar escapes, and a two-byte one: its SUMMARY line is
 * past 75 octets and has to be folded. */
static const char long_name[] = "Saturday late and Tuesday evening: SMART tools, open; "
                                "all welcome \\ caf\xc3\xa9 ok now";

static void test_feed_and_calendars(void **st)
{
    (void)st;
    world w;
    world_up(&w, CONFIG, 0, "mentor.ana", NULL);
    assert_int_equal(strlen(long_name), 80);
    const char *eve[] = {"2 19:00-20:00 Europe/London", "6 23:00-00:30 Europe/London"};
    const char *daily[] = {"1 08:00-09:00 America/New_York", "3 08:00-09:00 America/New_York"};
    const char *one[] = {"4 12:00-13:00 Europe/London"};
    room_def(&w, "room.create", "open-eve", long_name, "open", "SMART", 1, eve, 2);
    room_def(&w, "room.create", "daily", "Daily reflections", "recovery", "12-step", -1, daily, 2);
    room_def(&w, "room.create", "quiet", "Quiet room", "open", NULL, 0, one, 1);
    room_def(&w, "room.create", "carers", "Carers", "carers", "family", 1, one, 1);
    room_def(&w, "room.create", "nosched", "No schedule", "open", NULL, 1, NULL, 0);
    /* a room is unlisted unless it says so; rooms.list shows the flag; update can set it */
    assert_false(listed_in_rooms_list(&w, "daily"));
    room_def(&w, "room.update", "daily", NULL, NULL, NULL, 1, NULL, 0);
    assert_true(listed_in_rooms_list(&w, "daily"));
    assert_true(listed_in_rooms_list(&w, "open-eve"));
    assert_false(listed_in_rooms_list(&w, "quiet"));

    jval feed = get_feed(&w);
    size_t idx[8];
    /* unlisted, carers-only and unscheduled rooms are not in the feed */
    assert_int_equal(entries_of(&feed, "quiet", idx, 8), 0);
    assert_int_equal(entries_of(&feed, "carers", idx, 8), 0);
    assert_int_equal(entries_of(&feed, "nosched", idx, 8), 0);
    assert_int_equal(feed.n, 3);
    /* daily: two slots at one time, one entry with both days, the room's slug; closed */
    assert_int_equal(entries_of(&feed, "daily", idx, 8), 1);
    const jval *d = &feed.items[idx[0]];
    assert_string_equal(jstr(d, "slug"), "daily");
    assert_string_equal(jstr(d, "name"), "Daily reflections");
    const jval *days = jget(d, "day");
    assert_int_equal(days->t, J_ARR);
    assert_int_equal(days->n, 2);
    assert_true(days->items[0].num == 1 && days->items[1].num == 3);
    assert_string_equal(jstr(d, "time"), "08:00");
    assert_string_equal(jstr(d, "end_time"), "09:00");
    assert_string_equal(jstr(d, "timezone"), "America/New_York");
    assert_true(has_str(jget(d, "types"), "C") && !has_str(jget(d, "types"), "O"));
    assert_string_equal(jstr(d, "formatted_address"), "Leeds, UK");
    /* open-eve: slots at different times, an entry each; SMART maps to A (secular); open */
    assert_int_equal(entries_of(&feed, "open-eve", idx, 8), 2);
    bool saw_sat = false;
    for (int i = 0; i < 2; i++) {
        const jval *e = &feed.items[idx[i]];
        assert_string_equal(jstr(e, "name"), long_name); /* escaped and read back */
        assert_true(has_str(jget(e, "types"), "A") && has_str(jget(e, "types"), "O"));
        if (!strcmp(jstr(e, "slug"), "open-eve-6-2300")) {
            saw_sat = true;
            assert_true(jget(e, "day")->num == 6);
            assert_string_equal(jstr(e, "end_time"), "00:30");
        } else {
            assert_string_equal(jstr(e, "slug"), "open-eve-2-1900");
        }
    }
    assert_true(saw_sat);
    jfree(&feed);

    /* the calendar, twice: the same UIDs (and the same bytes) each time */
    char *raw1, *raw2;
    ics_cal c1 = get_ics(&w, "open-eve", &raw1), c2 = get_ics(&w, "open-eve", &raw2);
    assert_string_equal(raw1, raw2);
    assert_true(strstr(raw1, "\r\n ") != NULL); /* the long SUMMARY was folded */
    assert_string_equal(c1.calname, long_name);
    assert_int_equal(c1.nev, 2);
    assert_int_equal(c2.nev, 2);
    bool late_checked = false;
    for (size_t i = 0; i < c1.nev; i++) {
        const ics_event *e = &c1.ev[i];
        const ics_prop *uid = ics_get(e, "UID"), *start = ics_get(e, "DTSTART"),
                       *end = ics_get(e, "DTEND"), *rrule = ics_get(e, "RRULE");
        assert_non_null(uid);
        assert_string_equal(uid->value, ics_get(&c2.ev[i], "UID")->value);
        if (i)
            assert_string_not_equal(uid->value, ics_get(&c1.ev[0], "UID")->value);
        assert_non_null(ics_get(e, "DTSTAMP"));
        assert_string_equal(ics_get(e, "SUMMARY")->value, long_name);
        assert_string_equal(ics_get(e, "URL")->value, PUBLIC "/#/room/open-eve");
        assert_non_null(start);
        assert_non_null(end);
        assert_string_equal(start->params, "TZID=Europe/London");
        assert_string_equal(end->params, "TZID=Europe/London");
        /* RFC 5545: a VTIMEZONE for each TZID used, once */
        assert_int_equal(c1.ntz, 1);
        assert_string_equal(c1.tzids[0], "Europe/London");
        int sy, sm, sd, sh, smi, ey, em, ed, eh, emi;
        assert_int_equal(sscanf(start->value, "%4d%2d%2dT%2d%2d00", &sy, &sm, &sd, &sh, &smi), 5);
        assert_int_equal(sscanf(end->value, "%4d%2d%2dT%2d%2d00", &ey, &em, &ed, &eh, &emi), 5);
        assert_int_equal(strlen(start->value), 15);
        /* the weekday of DTSTART is the rule's */
        struct tm tm = {.tm_year = sy - 1900, .tm_mon = sm - 1, .tm_mday = sd, .tm_hour = 12};
        time_t t = timegm(&tm);
        struct tm back;
        gmtime_r(&t, &back);
        static const char *const byday[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
        char want[64];
        snprintf(want, sizeof(want), "FREQ=WEEKLY;BYDAY=%s", byday[back.tm_wday]);
        assert_non_null(rrule);
        assert_string_equal(rrule->value, want);
        struct tm etm = {.tm_year = ey - 1900, .tm_mon = em - 1, .tm_mday = ed, .tm_hour = 12};
        double span_days = difftime(timegm(&etm), t) / 86400;
        if (back.tm_wday == 6) {
            /* Saturday 23:00 to 00:30: the end is on Sunday */
            assert_string_equal(uid->value, "open-eve-6-2300@mutual.example.org");
            assert_int_equal(sh * 100 + smi, 2300);
            assert_int_equal(eh * 100 + emi, 30);
            assert_true(span_days == 1);
            late_checked = true;
        } else {
            assert_int_equal(back.tm_wday, 2);
            assert_int_equal(sh * 100 + smi, 1900);
            assert_int_equal(eh * 100 + emi, 2000);
            assert_true(span_days == 0);
        }
    }
    assert_true(late_checked);
    ics_free(&c1);
    ics_free(&c2);
    free(raw1);
    free(raw2);

    /* no calendar for a room that is not in the feed, nor for none at all */
    assert_int_equal(get_status(&w, "/rooms/quiet.ics"), 404);
    assert_int_equal(get_status(&w, "/rooms/carers.ics"), 404);
    assert_int_equal(get_status(&w, "/rooms/nosched.ics"), 404);
    assert_int_equal(get_status(&w, "/rooms/nobody.ics"), 404);
    assert_int_equal(get_status(&w, "/rooms/Bad%20Slug.ics"), 404);

    /* unlisting takes a room out of the feed and its calendar away */
    room_def(&w, "room.update", "open-eve", NULL, NULL, NULL, 0, NULL, 0);
    feed = get_feed(&w);
    assert_int_equal(entries_of(&feed, "open-eve", idx, 8), 0);
    assert_int_equal(entries_of(&feed, "daily", idx, 8), 1);
    jfree(&feed);
    assert_int_equal(get_status(&w, "/rooms/open-eve.ics"), 404);
    char *raw;
    ics_cal c = get_ics(&w, "daily", &raw);
    assert_int_equal(c.nev, 2);
    ics_free(&c);
    free(raw);

    /* after a restart the feed is the same: listed and the schedule are stored */
    srv_kill9(&w.s);
    mu_sync_free(w.y);
    srv_restart(&w.s);
    w.y = mu_sync_new();
    w.admin = world_as(&w, "admin");
    w.mentor = world_as(&w, "mentor.ana");
    feed = get_feed(&w);
    assert_int_equal(feed.n, 1);
    assert_string_equal(jstr(&feed.items[0], "slug"), "daily");
    jfree(&feed);
    world_down(&w);
}

/* Without public_url there is no link to join by: the feed is an empty array. */
static void test_feed_needs_public_url(void **st)
{
    (void)st;
    world w;
    world_up(&w, "feed_address = Leeds, UK\n", 0, "mentor.ana", NULL);
    const char *one[] = {"4 12:00-13:00 Europe/London"};
    room_def(&w, "room.create", "thu", "Thursday", "open", NULL, 1, one, 1);
    http_res r = http_do(w.s.port, "/meetings.json");
    assert_int_equal(r.status, 200);
    expect_public_headers(&r, "application/json");
    assert_string_equal(r.body, "[]");
    res_free(&r);
    /* the calendar still works: its link is the server's address as the request named it */
    char *raw;
    ics_cal c = get_ics(&w, "thu", &raw);
    assert_int_equal(c.nev, 1);
    char want[128];
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/#/room/thu", w.s.port);
    assert_string_equal(ics_get(&c.ev[0], "URL")->value, want);
    ics_free(&c);
    free(raw);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feed_and_calendars),
        cmocka_unit_test(test_feed_needs_public_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
