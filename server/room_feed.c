/* The meeting feed and room calendars (see room_feed.h). Layer: concerns (rooms), over
 * room_int.h; reads the registry and the settings, writes text with feed_text.c. */
#include "room_feed.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "feed_text.h"
#include "feed_tz.h"
#include "room_int.h"
#include "xalloc.h"

/* A schedule holds up to 14 slots (PROTOCOL.md); a stored one is never longer. */
#define SLOTS_MAX 14

typedef struct {
    unsigned day; /* 0 Sunday .. 6 */
    char time[6]; /* "HH:MM" */
    char end[6];  /* "HH:MM", or "" */
    char tz[65];  /* the slot's zone, else feed_timezone */
    char key[16]; /* "<day>-<HHMM>": the slot's part of a slug and of a UID */
} slot;

static void copy_str(char *dst, size_t cap, const msgpack_object *o)
{
    dst[0] = 0;
    if (o && o->type == MSGPACK_OBJECT_STR && o->via.str.size < cap) {
        memcpy(dst, o->via.str.ptr, o->via.str.size);
        dst[o->via.str.size] = 0;
    }
}

/* The room's slots, in schedule order, without repeats of a day and time (a finder keys a
 * meeting on that pair: the first slot wins). The schedule was checked and normalised when it
 * was set (room_schedule.c), so each slot has a day and an "HH:MM" time. */
static size_t room_slots(const room *r, slot *out)
{
    if (!r->schedule)
        return 0;
    size_t n = 0, off = 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, r->schedule, r->schedule_len, &off) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_ARRAY)
        goto cleanup;
    for (uint32_t i = 0; i < u.data.via.array.size && n < SLOTS_MAX; i++) {
        const msgpack_object *o = &u.data.via.array.ptr[i];
        if (o->type != MSGPACK_OBJECT_MAP)
            continue;
        const msgpack_object *day = mu_map_get(o, "day");
        slot s = {0};
        copy_str(s.time, sizeof(s.time), mu_map_get(o, "time"));
        copy_str(s.end, sizeof(s.end), mu_map_get(o, "end_time"));
        copy_str(s.tz, sizeof(s.tz), mu_map_get(o, "timezone"));
        if (!day || day->type != MSGPACK_OBJECT_POSITIVE_INTEGER || day->via.u64 > 6 ||
            strlen(s.time) != 5)
            continue;
        s.day = (unsigned)day->via.u64;
        if (!s.tz[0])
            snprintf(s.tz, sizeof(s.tz), "%s", g_srv->cfg.feed_timezone);
        snprintf(s.key, sizeof(s.key), "%u-%.2s%.2s", s.day, s.time, s.time + 3);
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen = seen || strcmp(out[k].key, s.key) == 0;
        if (!seen)
            out[n++] = s;
    }
cleanup:
    msgpack_unpacked_destroy(&u);
    return n;
}

/* Listed, scheduled, and open to the public or to people in recovery. */
static bool in_feed(const room *r)
{
    return r->listed && r->schedule && (r->aud == AUD_OPEN || r->aud == AUD_RECOVERY);
}

/* public_url without a trailing '/'. */
static void base_url(char *out, size_t cap, const char *url)
{
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    snprintf(out, cap, "%.*s", (int)n, url);
}

static int cmp_rooms(const void *a, const void *b)
{
    return strcmp((*(room *const *)a)->slug, (*(room *const *)b)->slug);
}

/* The rooms in the feed by slug, so the feed reads the same from one request to the next.
 * The caller frees the array. */
static room **feed_rooms(size_t *n)
{
    size_t cap = 0;
    *n = 0;
    for (room *r = rooms_first(); r; r = r->next)
        cap += in_feed(r);
    room **v = xcalloc(cap ? cap : 1, sizeof(*v));
    for (room *r = rooms_first(); r; r = r->next)
        if (in_feed(r))
            v[(*n)++] = r;
    qsort(v, *n, sizeof(*v), cmp_rooms);
    return v;
}

/* ---- the Meeting Guide feed ------------------------------------------------------------ */

typedef struct {
    const char *format;
    size_t format_len;
    ftext *out;
    bool *first;
} types_ctx;

/* A feed_types entry: when it names the room's format, its codes join the types list. */
static void add_codes(const char *format, size_t format_len, const char *codes, size_t codes_len,
                      void *ud)
{
    types_ctx *t = ud;
    if (format_len != t->format_len || strncasecmp(format, t->format, format_len) != 0)
        return;
    for (size_t i = 0; i < codes_len;) {
        i += strspn(codes + i, " \t,");
        size_t k = 0;
        while (i + k < codes_len && !strchr(" \t,", codes[i + k]))
            k++;
        if (k) {
            if (!*t->first)
                ftext_put(t->out, ",", 1);
            *t->first = false;
            ftext_json_str(t->out, codes + i, k);
        }
        i += k;
    }
}

static void json_key(ftext *t, const char *key)
{
    ftext_put(t, ",", 1);
    ftext_json_str(t, key, strlen(key));
    ftext_put(t, ":", 1);
}

static void json_kstr(ftext *t, const char *key, const char *v)
{
    json_key(t, key);
    ftext_json_str(t, v, strlen(v));
}

/* "YYYY-MM-DD HH:MM:SS", UTC. */
static void utc_text(int64_t ms, char *out, size_t cap)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

/* The fields every entry of a room shares, after name, slug, day and the times. */
static void json_room_fields(ftext *t, const room *r, const char *base)
{
    const mu_config *cfg = &g_srv->cfg;
    ftext url = {0};
    ftext_putf(&url, "%s/#/room/%s", base, r->slug);
    json_kstr(t, "conference_url", url.p);
    ftext_free(&url);
    if (cfg->feed_address[0])
        json_kstr(t, "formatted_address", cfg->feed_address);
    if (cfg->feed_region[0]) {
        /* "Area > Town": the most general region first, as the specification orders them */
        json_key(t, "regions");
        ftext_put(t, "[", 1);
        const char *p = cfg->feed_region;
        bool first = true;
        while (*p) {
            size_t k = strcspn(p, ">");
            const char *s = p, *e = p + k;
            while (s < e && (*s == ' ' || *s == '\t'))
                s++;
            while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (e > s) {
                if (!first)
                    ftext_put(t, ",", 1);
                first = false;
                ftext_json_str(t, s, (size_t)(e - s));
            }
            p += k + (p[k] == '>');
        }
        ftext_put(t, "]", 1);
    }
    json_key(t, "types");
    ftext_put(t, "[", 1);
    bool first = true;
    types_ctx tc = {r->format, strlen(r->format), t, &first};
    char err[8];
    if (r->format[0])
        config_feed_types_each(cfg->feed_types, add_codes, &tc, err, sizeof(err));
    ftext_puts(t, first ? "" : ",");
    ftext_puts(t, r->aud == AUD_OPEN ? "\"O\"]" : "\"C\"]");
    json_key(t, "notes");
    ftext t_notes = {0};
    ftext_puts(&t_notes, "Online meeting");
    if (r->format[0])
        ftext_putf(&t_notes, " (%s)", r->format);
    ftext_puts(&t_notes, r->aud == AUD_OPEN ? ", open to anyone" : ", for people in recovery");
    ftext_puts(&t_notes, ". Joining needs an account on this service; the meeting is held "
                         "in its text chat.");
    ftext_json_str(t, t_notes.p, t_notes.n);
    ftext_free(&t_notes);
    char when[32];
    utc_text(r->changed_ts, when, sizeof(when));
    json_kstr(t, "updated", when);
}

/* One entry: `days` the days it meets at slot s's times, slug the room's own or the slot's. */
static void json_entry(ftext *t, const room *r, const char *base, const slot *s,
                       const unsigned *days, size_t ndays, bool per_slot)
{
    ftext_put(t, "{\"name\":", 8);
    ftext_json_str(t, r->name, strlen(r->name));
    json_key(t, "slug");
    if (per_slot)
        ftext_putf(t, "\"%s-%s\"", r->slug, s->key);
    else
        ftext_putf(t, "\"%s\"", r->slug);
    json_key(t, "day");
    if (per_slot) {
        ftext_putf(t, "%u", s->day);
    } else {
        ftext_put(t, "[", 1);
        for (size_t i = 0; i < ndays; i++)
            ftext_putf(t, i ? ",%u" : "%u", days[i]);
        ftext_put(t, "]", 1);
    }
    json_kstr(t, "time", s->time);
    if (s->end[0])
        json_kstr(t, "end_time", s->end);
    json_kstr(t, "timezone", s->tz);
    json_room_fields(t, r, base);
    ftext_put(t, "}", 1);
}

/* PROTOCOL.md: one entry per room with the list of its days when its slots share their times
 * and zone; otherwise one entry per slot, slug "<room>-<day>-<HHMM>". Returns entries written. */
static size_t json_room(ftext *t, const room *r, const char *base, bool first)
{
    slot s[SLOTS_MAX];
    size_t n = room_slots(r, s);
    if (n == 0)
        return 0;
    bool shared = true;
    for (size_t i = 1; i < n; i++)
        shared = shared && !strcmp(s[i].time, s[0].time) && !strcmp(s[i].end, s[0].end) &&
                 !strcmp(s[i].tz, s[0].tz);
    if (shared) {
        unsigned days[7];
        size_t nd = 0;
        for (unsigned d = 0; d < 7; d++)
            for (size_t i = 0; i < n; i++)
                if (s[i].day == d) {
                    days[nd++] = d;
                    break;
                }
        if (!first)
            ftext_put(t, ",", 1);
        json_entry(t, r, base, &s[0], days, nd, false);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!first || i)
            ftext_put(t, ",", 1);
        json_entry(t, r, base, &s[i], NULL, 0, true);
    }
    return n;
}

char *room_feed_json(size_t *len)
{
    ftext t = {0};
    ftext_put(&t, "[", 1);
    if (g_srv->cfg.public_url[0]) {
        char base[512];
        base_url(base, sizeof(base), g_srv->cfg.public_url);
        size_t n, written = 0;
        room **v = feed_rooms(&n);
        for (size_t i = 0; i < n; i++)
            written += json_room(&t, v[i], base, written == 0);
        free(v);
    }
    ftext_put(&t, "]", 1);
    return ftext_release(&t, len);
}

/* ---- iCalendar ------------------------------------------------------------------------- */

static const char *const byday[7] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

/* The civil date of a day count since 1970-01-01 (proleptic Gregorian). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* The first date on or after the room's creation (its UTC date) that falls on `day`, so a
 * slot's DTSTART never changes from one request to the next; `extra` days later for an end
 * past midnight. Written as YYYYMMDD. */
static void first_date(int64_t created_ms, unsigned day, unsigned extra, char *out, size_t cap)
{
    int64_t days = created_ms / 86400000;
    unsigned wd = (unsigned)((days % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    days += (day + 7 - wd) % 7 + extra;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, cap, "%04d%02u%02u", y, m, d);
}

/* One content line, built with printf and folded on the way out. */
static void ics_linef(ftext *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ics_linef(ftext *t, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    ftext_ics_line(t, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* NAME:<escaped text>, folded. */
static void ics_text_line(ftext *t, const char *name, const char *text)
{
    ftext v = {0};
    ftext_puts(&v, name);
    ftext_put(&v, ":", 1);
    ftext_ics_text(&v, text, strlen(text));
    ftext_ics_line(t, v.p, v.n);
    ftext_free(&v);
}

/* The host of a URL ("https://host:port/path" gives "host"), for UIDs. */
static void url_host(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, ":/?#");
    snprintf(out, cap, "%.*s", (int)n, p);
    if (!out[0])
        snprintf(out, cap, "mutual");
}

static void ics_event(ftext *t, const room *r, const slot *s, const char *join, const char *host,
                      const char *stamp)
{
    char start[16], end[16];
    ics_linef(t, "BEGIN:VEVENT");
    ics_linef(t, "UID:%s-%s@%s", r->slug, s->key, host);
    ics_linef(t, "DTSTAMP:%s", stamp);
    first_date(r->created_ts, s->day, 0, start, sizeof(start));
    ics_linef(t, "DTSTART;TZID=%s:%sT%.2s%.2s00", s->tz, start, s->time, s->time + 3);
    if (s->end[0]) {
        /* an end not after the start runs past midnight: it is on the next day */
        unsigned extra = strcmp(s->end, s->time) <= 0;
        first_date(r->created_ts, s->day, extra, end, sizeof(end));
        ics_linef(t, "DTEND;TZID=%s:%sT%.2s%.2s00", s->tz, end, s->end, s->end + 3);
    } else {
        ics_linef(t, "DURATION:PT1H"); /* the feed specification's default length */
    }
    ics_linef(t, "RRULE:FREQ=WEEKLY;BYDAY=%s", byday[s->day]);
    ics_text_line(t, "SUMMARY", r->name);
    ftext desc = {0};
    ftext_puts(&desc, "Online meeting");
    if (r->format[0])
        ftext_putf(&desc, " (%s)", r->format);
    ftext_putf(&desc, ". Join: %s", join);
    ics_text_line(t, "DESCRIPTION", desc.p);
    ftext_free(&desc);
    ics_text_line(t, "LOCATION", join);
    ics_linef(t, "URL:%s", join);
    ics_linef(t, "END:VEVENT");
}

char *room_feed_ics(const char *slug, size_t n, const char *base, size_t *len)
{
    room *r = rooms_find(slug, n);
    if (!r || !in_feed(r))
        return NULL;
    slot s[SLOTS_MAX];
    size_t ns = room_slots(r, s);
    if (ns == 0)
        return NULL;
    const mu_config *cfg = &g_srv->cfg;
    char b[512], join[600], host[256], stamp[20];
    base_url(b, sizeof(b), cfg->public_url[0] ? cfg->public_url : base);
    snprintf(join, sizeof(join), "%s/#/room/%s", b, r->slug);
    url_host(cfg->public_url, host, sizeof(host));
    time_t secs = (time_t)(r->changed_ts / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);

    ftext t = {0};
    ics_linef(&t, "BEGIN:VCALENDAR");
    ics_linef(&t, "VERSION:2.0");
    ics_linef(&t, "PRODID:-//Mutual//Mutual %s//EN", MUTUAL_VERSION);
    ics_linef(&t, "CALSCALE:GREGORIAN");
    ics_linef(&t, "METHOD:PUBLISH");
    ics_text_line(&t, "X-WR-CALNAME", r->name);
    /* a VTIMEZONE for each zone the events name, once */
    for (size_t i = 0; i < ns; i++) {
        bool seen = false;
        for (size_t k = 0; k < i; k++)
            seen = seen || !strcmp(s[k].tz, s[i].tz);
        if (!seen)
            feed_tz_vtimezone(&t, s[i].tz);
    }
    for (size_t i = 0; i < ns; i++)
        ics_event(&t, r, &s[i], join, host, stamp);
    ics_linef(&t, "END:VCALENDAR");
    return ftext_release(&t, len);
}

bool room_feed_ics_path(const char *path, const char **slug, size_t *n)
{
    static const char pre[] = "/rooms/", suf[] = ".ics";
    size_t len = strlen(path), lp = sizeof(pre) - 1, ls = sizeof(suf) - 1;
    if (len <= lp + ls || strncmp(path, pre, lp) != 0 || strcmp(path + len - ls, suf) != 0)
        return false;
    *slug = path + lp;
    *n = len - lp - ls;
    if (*n > ROOM_SLUG_MAX)
        return false;
    for (size_t i = 0; i < *n; i++) {
        char ch = (*slug)[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
            return false;
    }
    return true;
}
