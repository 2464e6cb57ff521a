/* Rooms: the list, and creating, changing, opening, closing and deleting one. */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static void print_room_line(const mu_value *r)
{
    bool open = false;
    mu_value_bool(mu_value_get(r, "is_open"), &open);
    printf("%-20s %-8s %-9s %-4s %3lld here  %s", mu_value_get_str(r, "room"),
           mu_value_get_str(r, "format"), mu_value_get_str(r, "audience"), open ? "OPEN" : "-",
           (long long)mu_value_get_int(r, "present", 0), mu_value_get_str(r, "name"));
    const mu_value *sched = mu_value_get(r, "schedule");
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    for (size_t i = 0; i < mu_value_len(sched); i++) {
        const mu_value *slot = mu_value_at(sched, i);
        int64_t d = mu_value_get_int(slot, "day", 0);
        printf("%s%s %s", i ? ", " : "  [", days[d % 7], mu_value_get_str(slot, "time"));
        if (mu_value_get_str(slot, "end_time"))
            printf("-%s", mu_value_get_str(slot, "end_time"));
        if (mu_value_get_str(slot, "timezone"))
            printf(" %s", mu_value_get_str(slot, "timezone"));
    }
    printf("%s\n", mu_value_len(sched) ? "]" : "");
}

int cmd_rooms(const cli_ctx *cx, int argc, char **argv)
{
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
        for (size_t i = 0; i < mu_value_len(list); i++)
            print_room_line(mu_value_at(list, i));
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}

/* "Tue 19:00-20:30 Europe/London" as a schedule slot. */
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

int cmd_room(const cli_ctx *cx, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "%s", cli_usage);
        return 2;
    }
    const char *verb = argv[0], *slug = argv[1];
    mu_req *r;
    if (!strcmp(verb, "create")) {
        r = mu_req_new(MU_OPNAME_ROOM_CREATE);
        mu_req_str(r, "room", slug);
        const char *slots[14];
        int nslots = 0;
        for (int i = 2; i < argc; i++) {
            const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
            if (!strcmp(o, "--persistent")) {
                mu_req_bool(r, "persistent", true);
                continue;
            }
            if (!v) {
                fprintf(stderr, "mutual: %s needs a value\n", o);
                mu_req_free(r);
                return 2;
            }
            i++;
            if (!strcmp(o, "--name") || !strcmp(o, "--audience") || !strcmp(o, "--format"))
                mu_req_str(r, o + 2, v);
            else if (!strcmp(o, "--capacity"))
                mu_req_int(r, "capacity", atoi(v));
            else if (!strcmp(o, "--slot") && nslots < 14)
                slots[nslots++] = v;
            else {
                fprintf(stderr, "mutual: unknown option '%s'\n", o);
                mu_req_free(r);
                return 2;
            }
        }
        if (nslots) {
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
                    mu_req_free(r);
                    return 2;
                }
            mu_req_raw(r, "schedule", sb.data, sb.size);
            msgpack_sbuffer_destroy(&sb);
        }
    } else if (!strcmp(verb, "open") || !strcmp(verb, "close") || !strcmp(verb, "delete")) {
        r = mu_req_new(!strcmp(verb, "open")    ? MU_OPNAME_ROOM_OPEN
                       : !strcmp(verb, "close") ? MU_OPNAME_ROOM_CLOSE
                                                : MU_OPNAME_ROOM_DELETE);
        mu_req_str(r, "room", slug);
    } else {
        fprintf(stderr, "mutual: room takes create, open, close or delete\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0) {
        mu_req_free(r);
        return 1;
    }
    mu_msg *m = call(&k, r);
    int rc = m ? 0 : 1;
    if (m && mu_msg_get(m, "room"))
        print_room_line(mu_msg_get(m, "room"));
    else if (m)
        printf("room %s: %s done\n", slug, verb);
    mu_msg_free(m);
    close_conn(&k);
    return rc;
}

/* ---- the meeting, interactively ------------------------------------------------------- */
