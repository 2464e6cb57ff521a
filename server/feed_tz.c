/* VTIMEZONE components from POSIX TZ rules (see feed_tz.h). Layer: base. */
#include "feed_tz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One observance's change: month m, week w (5: the last), weekday d (0 Sunday), at `secs`
 * local time (in the offset in force before the change). */
typedef struct {
    int m, w, d;
    long secs;
} tz_change;

typedef struct {
    char std[16], dst[16]; /* abbreviations; dst[0] == 0: no daylight saving time */
    long std_off, dst_off; /* seconds east of UTC */
    tz_change start, end;  /* start: into daylight saving time; end: out of it */
} tz_rule;

/* An abbreviation: "<+0330>" (anything but '>') or three or more letters. */
static const char *parse_name(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    const char *s = p;
    if (*p == '<') {
        s = ++p;
        while (*p && *p != '>')
            p++;
        if (*p != '>')
            return NULL;
        n = (size_t)(p - s);
        p++;
    } else {
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
            p++;
        n = (size_t)(p - s);
        if (n < 3)
            return NULL;
    }
    if (n == 0 || n >= cap)
        return NULL;
    memcpy(out, s, n);
    out[n] = 0;
    return p;
}

/* [+-]hh[:mm[:ss]] as seconds; hours up to 167 (POSIX allows that much for change times). */
static const char *parse_time(const char *p, long *secs)
{
    long sign = 1, part[3] = {0, 0, 0};
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return NULL;
        char *e;
        part[i] = strtol(p, &e, 10);
        if (e - p > 3 || part[i] > (i ? 59 : 167))
            return NULL;
        p = e;
        if (*p != ':' || i == 2)
            break;
        p++;
    }
    *secs = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return p;
}

/* ",Mm.w.d[/time]" */
static const char *parse_change(const char *p, tz_change *c)
{
    if (*p++ != ',' || *p++ != 'M')
        return NULL;
    char *e;
    c->m = (int)strtol(p, &e, 10);
    if (e == p || *e != '.' || c->m < 1 || c->m > 12)
        return NULL;
    p = e + 1;
    c->w = (int)strtol(p, &e, 10);
    if (e == p || *e != '.' || c->w < 1 || c->w > 5)
        return NULL;
    p = e + 1;
    c->d = (int)strtol(p, &e, 10);
    if (e == p || c->d < 0 || c->d > 6)
        return NULL;
    p = e;
    c->secs = 2 * 3600;
    if (*p == '/' && !(p = parse_time(p + 1, &c->secs)))
        return NULL;
    return p;
}

static bool parse_rule(const char *s, tz_rule *r)
{
    memset(r, 0, sizeof(*r));
    long off;
    const char *p = parse_name(s, r->std, sizeof(r->std));
    if (!p || !(p = parse_time(p, &off)))
        return false;
    r->std_off = -off; /* POSIX counts west of UTC */
    if (!*p)
        return true;
    if (!(p = parse_name(p, r->dst, sizeof(r->dst))))
        return false;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = parse_time(p, &off)))
            return false;
        r->dst_off = -off;
    }
    if (!(p = parse_change(p, &r->start)) || !(p = parse_change(p, &r->end)) || *p)
        return false;
    /* RRULE can say "the last Sunday"; not "the day before it", so a change outside its own
     * day is left to the calendar app */
    return r->start.secs >= 0 && r->start.secs < 86400 && r->end.secs >= 0 && r->end.secs < 86400;
}

static void put_offset(ftext *t, const char *name, long off)
{
    long a = off < 0 ? -off : off;
    char line[48];
    int n = snprintf(line, sizeof(line), "%s:%c%02ld%02ld", name, off < 0 ? '-' : '+', a / 3600,
                     a / 60 % 60);
    if (a % 60)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%02ld", a % 60);
    ftext_ics_line(t, line, (size_t)n);
}

/* NAME:value, for values with nothing to escape. */
static void put_kv(ftext *t, const char *name, const char *value)
{
    ftext l = {0};
    ftext_puts(&l, name);
    ftext_put(&l, ":", 1);
    ftext_puts(&l, value);
    ftext_ics_line(t, l.p, l.n);
    ftext_free(&l);
}

/* The day of the month of the change in 1970 (where the observances' DTSTART sit). */
static int day_in_1970(const tz_change *c)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int yday = 0;
    for (int i = 0; i < c->m - 1; i++)
        yday += mdays[i];
    int wd1 = (4 + yday) % 7; /* 1970-01-01 was a Thursday */
    int day = 1 + (c->d - wd1 + 7) % 7 + (c->w - 1) * 7;
    while (day > mdays[c->m - 1])
        day -= 7;
    return day;
}

static void put_observance(ftext *t, const char *kind, const tz_change *c, long from, long to,
                           const char *name)
{
    static const char *const byday[7] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
    char buf[80];
    put_kv(t, "BEGIN", kind);
    if (c) {
        snprintf(buf, sizeof(buf), "1970%02d%02dT%02ld%02ld%02ld", c->m, day_in_1970(c),
                 c->secs / 3600, c->secs / 60 % 60, c->secs % 60);
        put_kv(t, "DTSTART", buf);
    } else {
        put_kv(t, "DTSTART", "19700101T000000");
    }
    put_offset(t, "TZOFFSETFROM", from);
    put_offset(t, "TZOFFSETTO", to);
    ftext n = {0};
    ftext_puts(&n, "TZNAME:");
    ftext_ics_text(&n, name, strlen(name));
    ftext_ics_line(t, n.p, n.n);
    ftext_free(&n);
    if (c) {
        snprintf(buf, sizeof(buf), "FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", c->m, c->w == 5 ? -1 : c->w,
                 byday[c->d]);
        put_kv(t, "RRULE", buf);
    }
    put_kv(t, "END", kind);
}

bool feed_tz_from_rule(ftext *t, const char *zone, const char *rule)
{
    tz_rule r;
    if (!parse_rule(rule, &r))
        return false;
    put_kv(t, "BEGIN", "VTIMEZONE");
    put_kv(t, "TZID", zone);
    if (!r.dst[0]) {
        put_observance(t, "STANDARD", NULL, r.std_off, r.std_off, r.std);
    } else {
        put_observance(t, "STANDARD", &r.end, r.dst_off, r.std_off, r.std);
        put_observance(t, "DAYLIGHT", &r.start, r.std_off, r.dst_off, r.dst);
    }
    put_kv(t, "END", "VTIMEZONE");
    return true;
}

/* The footer of a TZif file of version 2 or later: the POSIX TZ string between the last two
 * newlines. The file is small and local (the same read room_schedule.c makes to check a
 * zone), so it is read on the loop. */
static bool read_rule(const char *zone, char *out, size_t cap)
{
    const char *dir = getenv("TZDIR");
    char path[512], head[5], tail[256];
    int n =
        snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", zone);
    if (n < 0 || (size_t)n >= sizeof(path) || zone[0] == '/' || strstr(zone, ".."))
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = false;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 46 ||
        pread(fd, head, 5, 0) != 5 || memcmp(head, "TZif", 4) != 0 || head[4] < '2')
        goto cleanup;
    size_t want = (size_t)st.st_size < sizeof(tail) ? (size_t)st.st_size : sizeof(tail);
    if (pread(fd, tail, want, st.st_size - (off_t)want) != (ssize_t)want || tail[want - 1] != '\n')
        goto cleanup;
    size_t end = want - 1, start = end;
    while (start > 0 && tail[start - 1] != '\n')
        start--;
    if (start == 0 || end - start >= cap || end == start)
        goto cleanup;
    memcpy(out, tail + start, end - start);
    out[end - start] = 0;
    ok = true;
cleanup:
    close(fd);
    return ok;
}

bool feed_tz_vtimezone(ftext *t, const char *zone)
{
    char rule[200];
    return read_rule(zone, rule, sizeof(rule)) && feed_tz_from_rule(t, zone, rule);
}
