/* Rooms: the list, and creating, changing, opening, closing and deleting one; unbanning. */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_parse.h"

static void print_room_header(void)
{
    printf("%-20s %-8s %-9s %-6s %9s  %s\n", "ROOM", "FORMAT", "AUDIENCE", "STATUS", "HERE/CAP",
           "NAME [SCHEDULE]");
}

static void print_room_line(const mu_value *r)
{
    bool open = false, locked = false;
    mu_value_bool(mu_value_get(r, "is_open"), &open);
    mu_value_bool(mu_value_get(r, "locked"), &locked);
    const char *format = mu_value_get_str(r, "format");
    char here[32];
    snprintf(here, sizeof(here), "%lld/%lld", (long long)mu_value_get_int(r, "present", 0),
             (long long)mu_value_get_int(r, "capacity", 0));
    printf("%-20s %-8s %-9s %-6s %9s  %s", mu_value_get_str(r, "room"),
           format && *format ? format : "-", mu_value_get_str(r, "audience"),
           !open    ? "closed"
           : locked ? "locked"
                    : "OPEN",
           here, mu_value_get_str(r, "name"));
    const mu_value *sched = mu_value_get(r, "schedule");
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    for (size_t i = 0; i < mu_value_len(sched); i++) {
        const mu_value *slot = mu_value_at(sched, i);
        int64_t d = mu_value_get_int(slot, "day", 0);
        printf("%s%s %s", i ? ", " : "  [", days[(d % 7 + 7) % 7], mu_value_get_str(slot, "time"));
        const char *start = mu_value_get_str(slot, "time"),
                   *end = mu_value_get_str(slot, "end_time");
        if (end) {
            /* "HH:MM" compares as text; an end before the start runs past midnight */
            printf("-%s%s", end, start && strcmp(end, start) < 0 ? " (next day)" : "");
        }
        if (mu_value_get_str(slot, "timezone"))
            printf(" %s", mu_value_get_str(slot, "timezone"));
    }
    printf("%s", mu_value_len(sched) ? "]" : "");
    /* listed: public, in the meeting feed and its calendar (with a schedule) */
    bool listed = false;
    mu_value_bool(mu_value_get(r, "listed"), &listed);
    printf("%s\n", listed ? "  (listed)" : "");
}

int cmd_rooms(const cli_ctx *cx, int argc, char **argv)
{
    if (argc != 0) {
        fprintf(stderr, "mutual: usage: mutual rooms\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    mu_msg *m = call(&k, mu_req_new(MU_OPNAME_ROOMS_LIST));
    int rc = 1;
    if (m) {
        const mu_value *list = mu_msg_get(m, "rooms");
        if (!mu_value_len(list))
            printf("no rooms yet\n");
        else
            print_room_header();
        for (size_t i = 0; i < mu_value_len(list); i++)
            print_room_line(mu_value_at(list, i));
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

static int pack_slot(msgpack_packer *pk, const char *text)
{
    static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    char day[8] = "", time_s[16] = "", tz[64] = "";
    if (sscanf(text, "%7s %15s %63s", day, time_s, tz) < 2)
        return -1;
    int d = -1;
    for (int i = 0; i < 7; i++)
        if (!strncasecmp(day, days[i], 3))
            d = i;
    if (d < 0)
        return -1;
    char *dash = strchr(time_s, '-');
    if (dash)
        *dash++ = 0;
    msgpack_pack_map(pk, 2 + (dash != NULL) + (tz[0] != 0));
    msgpack_pack_str(pk, 3);
    msgpack_pack_str_body(pk, "day", 3);
    msgpack_pack_int(pk, d);
    const char *keys[3] = {"time", "end_time", "timezone"}, *vals[3] = {time_s, dash, tz};
    for (int i = 0; i < 3; i++) {
        if (!vals[i] || !vals[i][0])
            continue;
        msgpack_pack_str(pk, strlen(keys[i]));
        msgpack_pack_str_body(pk, keys[i], strlen(keys[i]));
        msgpack_pack_str(pk, strlen(vals[i]));
        msgpack_pack_str_body(pk, vals[i], strlen(vals[i]));
    }
    return 0;
}

/* The options of room create and room update into r; 0, or 2 with the option named. */
static int room_options(mu_req *r, int argc, char **argv, bool create)
{
    const char *slots[14];
    int nslots = 0;
    bool no_schedule = false;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--persistent") || !strcmp(o, "--listed")) {
            mu_req_bool(r, o + 2, true);
            continue;
        }
        if (!strcmp(o, "--not-persistent") || !strcmp(o, "--unlisted")) {
            mu_req_bool(r, o[2] == 'n' ? "persistent" : "listed", false);
            continue;
        }
        if (!create && !strcmp(o, "--no-schedule")) {
            no_schedule = true;
            continue;
        }
        static const char *const valued[] = {"--name", "--audience", "--format", "--capacity",
                                             "--slot", "--backlog",  NULL};
        bool known = false;
        for (int j = 0; valued[j]; j++)
            known |= !strcmp(o, valued[j]);
        if (!known || (!create && !strcmp(o, "--audience"))) {
            fprintf(stderr, "mutual: room %s: unknown option '%s'\n", create ? "create" : "update",
                    o);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "mutual: %s needs a value\n", o);
            return 2;
        }
        const char *v = argv[++i];
        long n;
        const char *w;
        if (!strcmp(o, "--name") || !strcmp(o, "--format")) {
            mu_req_str(r, o + 2, v);
        } else if (!strcmp(o, "--audience")) {
            if (!(w = parse_word(v, parse_audience_words))) {
                fprintf(stderr,
                        "mutual: --audience: '%s' is not open, recovery, carers or "
                        "mentors\n",
                        v);
                return 2;
            }
            mu_req_str(r, "audience", w);
        } else if (!strcmp(o, "--backlog")) {
            if (!(w = parse_word(v, parse_backlog_words))) {
                fprintf(stderr,
                        "mutual: --backlog: '%s' is not join (what is said after one "
                        "first joined) or recent\n",
                        v);
                return 2;
            }
            mu_req_str(r, "backlog", w);
        } else if (!strcmp(o, "--capacity")) {
            if (!parse_int(v, 2, 1000, &n)) {
                fprintf(stderr, "mutual: --capacity: '%s' is not a whole number from 2 to 1000\n",
                        v);
                return 2;
            }
            mu_req_int(r, "capacity", n);
        } else if (nslots < 14) {
            slots[nslots++] = v;
        } else {
            fprintf(stderr, "mutual: at most 14 --slot options\n");
            return 2;
        }
    }
    if (nslots || no_schedule) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, (size_t)nslots);
        for (int i = 0; i < nslots; i++)
            if (pack_slot(&pk, slots[i]) != 0) {
                fprintf(stderr, "mutual: a slot is 'DAY HH:MM[-HH:MM] [Area/City]', not '%s'\n",
                        slots[i]);
                msgpack_sbuffer_destroy(&sb);
                return 2;
            }
        mu_req_raw(r, "schedule", sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
    }
    return 0;
}

static int room_call(const cli_ctx *cx, mu_req *r, const char *slug, const char *done)
{
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0) {
        mu_req_free(r);
        return 1;
    }
    mu_msg *m = call(&k, r);
    int rc = m ? 0 : 1;
    if (m && mu_value_type(mu_msg_get(m, "room")) == MU_V_MAP) {
        printf("%s\n", done);
        print_room_header();
        print_room_line(mu_msg_get(m, "room"));
    } else if (m) {
        printf("%s\n", done);
    }
    mu_msg_free(m);
    close_conn(&k);
    return rc;
}

int cmd_room(const cli_ctx *cx, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "mutual: usage: mutual room create|update|open|close|delete SLUG "
                        "[OPTIONS] (see mutual --help)\n");
        return 2;
    }
    const char *verb = argv[0], *slug = argv[1];
    mu_req *r;
    char done[160];
    if (!strcmp(verb, "create") || !strcmp(verb, "update")) {
        bool create = verb[0] == 'c';
        r = mu_req_new(create ? MU_OPNAME_ROOM_CREATE : MU_OPNAME_ROOM_UPDATE);
        mu_req_str(r, "room", slug);
        if (room_options(r, argc - 2, argv + 2, create) != 0) {
            mu_req_free(r);
            return 2;
        }
        snprintf(done, sizeof(done), "room %s %s", slug, create ? "created" : "updated");
    } else if (argc == 2 &&
               (!strcmp(verb, "open") || !strcmp(verb, "close") || !strcmp(verb, "delete"))) {
        r = mu_req_new(!strcmp(verb, "open")    ? MU_OPNAME_ROOM_OPEN
                       : !strcmp(verb, "close") ? MU_OPNAME_ROOM_CLOSE
                                                : MU_OPNAME_ROOM_DELETE);
        mu_req_str(r, "room", slug);
        snprintf(done, sizeof(done), "room %s %s", slug,
                 verb[0] == 'o'   ? "is open"
                 : verb[0] == 'c' ? "is closed"
                                  : "deleted");
    } else {
        fprintf(stderr, "mutual: room takes create, update, open, close or delete\n");
        return 2;
    }
    return room_call(cx, r, slug, done);
}

int cmd_unban(const cli_ctx *cx, int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "mutual: usage: mutual unban ROOM HANDLE\n");
        return 2;
    }
    mu_req *r = mu_req_new(MU_OPNAME_ROOM_UNBAN);
    mu_req_str(r, "room", argv[0]);
    mu_req_str(r, "handle", argv[1]);
    char done[160];
    snprintf(done, sizeof(done), "%s may join %s again", argv[1], argv[0]);
    return room_call(cx, r, argv[0], done);
}
