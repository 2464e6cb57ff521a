/* Room schedules: weekly slots {day, time, end_time?, timezone?} in the Meeting Guide feed's
 * terms, checked and normalised for storage. Layer: concerns (rooms), over room_int.h; the
 * meeting feed and calendars render them in room_feed.c. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "room_int.h"

/* "HH:MM", 00:00 to 23:59. */
static bool hhmm(const msgpack_object *o)
{
    if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size != 5)
        return false;
    const char *s = o->via.str.ptr;
    if (s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' || s[1] > '9' || s[3] < '0' ||
        s[3] > '5' || s[4] < '0' || s[4] > '9')
        return false;
    return (s[0] - '0') * 10 + (s[1] - '0') < 24;
}

/* An IANA name in shape: Area/Location (more parts allowed, as in America/Argentina/Salta),
 * each part starting with a capital and holding only letters, digits, '_', '-' and '+'. No
 * '.' and no empty part, so the name can never climb out of the zoneinfo directory. */
static bool tz_shape(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size < 3 || o->via.str.size > 64)
        return false;
    const char *s = o->via.str.ptr;
    size_t n = o->via.str.size;
    if (!memchr(s, '/', n))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool part_start = i == 0 || s[i - 1] == '/';
        if (part_start && !(ch >= 'A' && ch <= 'Z'))
            return false;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '/' || ch == '_' || ch == '-' || ch == '+'))
            return false;
    }
    return s[n - 1] != '/';
}

/* A zone the system knows: a regular file in the zoneinfo directory (TZDIR, else
 * /usr/share/zoneinfo) that starts with the TZif magic. Only ever called on a name that
 * passed tz_shape. A facilitator's room.create or room.update is the only caller, and it
 * reads 4 bytes of a local file. */
static bool tz_known(const msgpack_object *o)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/%.*s", dir && dir[0] ? dir : "/usr/share/zoneinfo",
             (int)o->via.str.size, o->via.str.ptr);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat sb;
    char magic[4];
    bool ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
              read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
              memcmp(magic, "TZif", 4) == 0;
    close(fd);
    return ok;
}

bool room_schedule_check(const msgpack_object *list, char *err, size_t cap)
{
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *slot = &list->via.array.ptr[i];
        if (slot->type != MSGPACK_OBJECT_MAP) {
            snprintf(err, cap, "schedule item %u must be a map {day, time}.", i + 1);
            return false;
        }
        const msgpack_object *day = mu_map_get(slot, "day"), *time = mu_map_get(slot, "time");
        const msgpack_object *end = mu_map_get(slot, "end_time"),
                             *tz = mu_map_get(slot, "timezone");
        if (!day || day->type != MSGPACK_OBJECT_POSITIVE_INTEGER || day->via.u64 > 6) {
            snprintf(err, cap, "schedule item %u: day must be 0 (Sunday) to 6.", i + 1);
            return false;
        }
        if (!hhmm(time)) {
            snprintf(err, cap, "schedule item %u: time must be HH:MM, 00:00 to 23:59.", i + 1);
            return false;
        }
        if (end && end->type != MSGPACK_OBJECT_NIL && !hhmm(end)) {
            snprintf(err, cap, "schedule item %u: end_time must be HH:MM, 00:00 to 23:59.", i + 1);
            return false;
        }
        if (tz && tz->type != MSGPACK_OBJECT_NIL && !tz_shape(tz)) {
            snprintf(err, cap,
                     "schedule item %u: timezone must be an IANA name such as "
                     "Europe/London.",
                     i + 1);
            return false;
        }
        if (tz && tz->type != MSGPACK_OBJECT_NIL && !tz_known(tz)) {
            snprintf(err, cap, "schedule item %u: '%.*s' is not a time zone this server knows.",
                     i + 1, (int)(tz->via.str.size > 64 ? 64 : tz->via.str.size), tz->via.str.ptr);
            return false;
        }
    }
    return true;
}

void room_schedule_pack(const msgpack_object *list, char **out, size_t *len)
{
    mu_enc e;
    mu_enc_init(&e, 0);
    mu_enc_array(&e, list->via.array.size);
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *slot = &list->via.array.ptr[i];
        const msgpack_object *end = mu_map_get(slot, "end_time"),
                             *tz = mu_map_get(slot, "timezone");
        bool has_end = end && end->type == MSGPACK_OBJECT_STR;
        bool has_tz = tz && tz->type == MSGPACK_OBJECT_STR;
        mu_enc_map(&e, 2 + has_end + has_tz);
        mu_enc_kuint(&e, "day", mu_map_get(slot, "day")->via.u64);
        const msgpack_object *t = mu_map_get(slot, "time");
        mu_enc_kstrn(&e, "time", t->via.str.ptr, t->via.str.size);
        if (has_end)
            mu_enc_kstrn(&e, "end_time", end->via.str.ptr, end->via.str.size);
        if (has_tz)
            mu_enc_kstrn(&e, "timezone", tz->via.str.ptr, tz->via.str.size);
    }
    *out = mu_enc_release(&e, len);
}
