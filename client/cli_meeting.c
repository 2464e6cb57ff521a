/* The meeting, interactively: `mutual join ROOM` reads lines and slash commands and shows the
 * room's events as they come, reconnecting when the connection drops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct {
    conn *k;
    const char *room;
    bool left;
    int64_t last_seq;
    char who[256][40];
    int nwho;
} meeting;

static void who_set(meeting *mt, const char *h, bool in)
{
    for (int i = 0; i < mt->nwho; i++)
        if (!strcmp(mt->who[i], h)) {
            if (!in)
                memmove(mt->who[i], mt->who[i + 1], (size_t)(--mt->nwho - i) * sizeof(mt->who[0]));
            return;
        }
    if (in && mt->nwho < 256)
        snprintf(mt->who[mt->nwho++], sizeof(mt->who[0]), "%s", h);
}

static void show_msg(meeting *mt, const mu_value *m)
{
    int64_t seq = mu_value_get_int(m, "seq", 0);
    if (seq <= mt->last_seq)
        return; /* already shown before a reconnect */
    mt->last_seq = seq;
    printf("[");
    print_time(mu_value_get_int(m, "ts", 0));
    printf("] %s: %s\n", mu_value_get_str(m, "from"), mu_value_get_str(m, "text"));
}

static void show_state(const mu_value *st)
{
    bool b;
    printf("   -- ");
    if (mu_value_bool(mu_value_get(st, "is_open"), &b))
        printf("%s", b ? "open" : "closed");
    if (mu_value_bool(mu_value_get(st, "locked"), &b) && b)
        printf(", locked");
    if (mu_value_bool(mu_value_get(st, "lobby"), &b) && b)
        printf(", lobby on");
    if (mu_value_bool(mu_value_get(st, "floor_mode"), &b) && b)
        printf(", floor mode");
    if (mu_value_get_str(st, "floor"))
        printf(", %s has the floor", mu_value_get_str(st, "floor"));
    const mu_value *hands = mu_value_get(st, "hands");
    if (mu_value_len(hands)) {
        printf(", hands:");
        for (size_t i = 0; i < mu_value_len(hands); i++)
            printf(" %s", mu_value_str(mu_value_at(hands, i)));
    }
    printf(" --\n");
}

static void joined(meeting *mt, const mu_msg *m, bool resumed)
{
    mt->nwho = 0;
    const mu_value *mem = mu_msg_get(m, "members");
    for (size_t i = 0; i < mu_value_len(mem); i++)
        who_set(mt, mu_value_get_str(mu_value_at(mem, i), "handle"), true);
    const mu_value *h = mu_msg_get(m, "history");
    for (size_t i = 0; i < mu_value_len(h); i++)
        show_msg(mt, mu_value_at(h, i));
    bool rec = true;
    if (resumed && mu_value_bool(mu_msg_get(m, "recovered"), &rec))
        printf(rec ? "   -- back; nothing was missed --\n"
                   : "   -- back; some messages were missed while away --\n");
    show_state(mu_msg_get(m, "state"));
}

static void room_cmd(meeting *mt, const char *op, const char *handle, const char *key, int on)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "room", mt->room);
    if (handle)
        mu_req_str(r, "handle", handle);
    if (key)
        mu_req_bool(r, key, on);
    mu_client_send(mt->k->c, r, NULL, NULL);
}

static void meeting_line(void *ud, char *l)
{
    meeting *mt = ud;
    if (l[0] != '/') {
        mu_req *r = mu_req_new(MU_OPNAME_ROOM_SAY);
        mu_req_str(r, "room", mt->room);
        mu_req_str(r, "text", l);
        mu_client_send(mt->k->c, r, NULL, NULL);
        return;
    }
    char cmd[32] = "", a1[64] = "", a2[64] = "";
    sscanf(l, "/%31s %63s %63s", cmd, a1, a2);
    const char *h = a1[0] ? a1 : NULL;
    if (!strcmp(cmd, "hand")) room_cmd(mt, MU_OPNAME_HAND_RAISE, NULL, NULL, 0);
    else if (!strcmp(cmd, "lower")) room_cmd(mt, MU_OPNAME_HAND_LOWER, NULL, NULL, 0);
    else if (!strcmp(cmd, "who")) {
        printf("   -- here:");
        for (int i = 0; i < mt->nwho; i++)
            printf(" %s", mt->who[i]);
        printf(" --\n");
    } else if (!strcmp(cmd, "leave")) {
        room_cmd(mt, MU_OPNAME_ROOM_LEAVE, NULL, NULL, 0);
        mt->left = true;
    } else if (!strcmp(cmd, "open")) room_cmd(mt, MU_OPNAME_ROOM_OPEN, NULL, NULL, 0);
    else if (!strcmp(cmd, "close")) room_cmd(mt, MU_OPNAME_ROOM_CLOSE, NULL, NULL, 0);
    else if (!strcmp(cmd, "mute") && h) room_cmd(mt, MU_OPNAME_ROOM_MUTE, h, NULL, 0);
    else if (!strcmp(cmd, "unmute") && h) room_cmd(mt, MU_OPNAME_ROOM_UNMUTE, h, NULL, 0);
    else if (!strcmp(cmd, "remove") && h) room_cmd(mt, MU_OPNAME_ROOM_REMOVE, h, "ban", !strcmp(a2, "ban"));
    else if (!strcmp(cmd, "unban") && h) room_cmd(mt, MU_OPNAME_ROOM_UNBAN, h, NULL, 0);
    else if (!strcmp(cmd, "lock")) room_cmd(mt, MU_OPNAME_ROOM_LOCK, NULL, "locked", 1);
    else if (!strcmp(cmd, "unlock")) room_cmd(mt, MU_OPNAME_ROOM_LOCK, NULL, "locked", 0);
    else if (!strcmp(cmd, "lobby")) room_cmd(mt, MU_OPNAME_ROOM_LOBBY, NULL, "on", !strcmp(a1, "on"));
    else if (!strcmp(cmd, "admit") && h) room_cmd(mt, MU_OPNAME_ROOM_ADMIT, h, NULL, 0);
    else if (!strcmp(cmd, "deny") && h) room_cmd(mt, MU_OPNAME_ROOM_DENY, h, NULL, 0);
    else if (!strcmp(cmd, "floor")) room_cmd(mt, MU_OPNAME_ROOM_FLOOR, NULL, "on", !strcmp(a1, "on"));
    else if (!strcmp(cmd, "give")) {
        mu_req *r = mu_req_new(MU_OPNAME_ROOM_GIVE);
        mu_req_str(r, "room", mt->room);
        if (h)
            mu_req_str(r, "handle", h);
        if (a2[0])
            mu_req_int(r, "secs", atoi(a2));
        mu_client_send(mt->k->c, r, NULL, NULL);
    } else
        printf("   -- /hand /lower /who /leave; facilitators: /open /close /mute H /unmute H "
               "/remove H [ban] /unban H /lock /unlock /lobby on|off /admit H /deny H "
               "/floor on|off /give H [SECS] --\n");
}

static void show_event(meeting *mt, const mu_msg *ev)
{
    const char *op = mu_msg_op(ev);
    const mu_value *v = mu_msg_root(ev);
    if (!strcmp(op, MU_OPNAME_EV_ROOM_MSG))
        show_msg(mt, v);
    else if (!strcmp(op, MU_OPNAME_EV_ROOM_PRESENCE)) {
        bool in = !strcmp(mu_value_get_str(v, "state"), "joined");
        who_set(mt, mu_value_get_str(v, "handle"), in);
        printf("   -- %s %s --\n", mu_value_get_str(v, "handle"), in ? "joined" : "left");
    } else if (!strcmp(op, MU_OPNAME_EV_ROOM_STATE))
        show_state(v);
    else if (!strcmp(op, MU_OPNAME_EV_ROOM_MODERATION))
        printf("   -- %s: %s (by %s) --\n", mu_value_get_str(v, "action"),
               mu_value_get_str(v, "handle"), mu_value_get_str(v, "by"));
    else if (!strcmp(op, MU_OPNAME_EV_ROOM_KNOCK))
        printf("   -- %s is waiting in the lobby (/admit %s or /deny %s) --\n",
               mu_value_get_str(v, "handle"), mu_value_get_str(v, "handle"),
               mu_value_get_str(v, "handle"));
    else if (!strcmp(op, MU_OPNAME_EV_ROOM_ADMITTED)) {
        printf("   -- you were let in --\n");
        joined(mt, ev, false);
    } else if (!strcmp(op, MU_OPNAME_EV_ROOM_DENIED) || !strcmp(op, MU_OPNAME_EV_ROOM_CLOSED) ||
               !strcmp(op, MU_OPNAME_EV_ROOM_REMOVED)) {
        printf("   -- %s --\n", !strcmp(op, MU_OPNAME_EV_ROOM_DENIED)   ? "you were not let in"
                                : !strcmp(op, MU_OPNAME_EV_ROOM_CLOSED) ? "the meeting has closed"
                                                             : "a facilitator removed you");
        mt->left = true;
    } else if (!strcmp(op, MU_OPNAME_EV_REPLY) && !mu_msg_ok(ev))
        printf("   -- %s --\n", mu_msg_text(ev) ? mu_msg_text(ev) : "refused");
    else if (!strcmp(op, MU_OPNAME_EV_DM_MSG))
        printf("   -- direct message from %s: %s --\n", mu_value_get_str(v, "from"),
               mu_value_get_str(v, "text"));
    fflush(stdout);
}

static int meeting_join(meeting *mt, bool resumed)
{
    mu_req *r = mu_req_new(MU_OPNAME_ROOM_JOIN);
    mu_req_str(r, "room", mt->room);
    if (resumed)
        mu_req_int(r, "since", mt->last_seq);
    mu_msg *m = call(mt->k, r);
    if (!m)
        return -1;
    bool waiting = false;
    if (mu_value_bool(mu_msg_get(m, "waiting"), &waiting) && waiting)
        printf("   -- waiting in the lobby for a facilitator to let you in --\n");
    else
        joined(mt, m, resumed);
    mu_msg_free(m);
    fflush(stdout);
    return 0;
}

int cmd_join(const cli_ctx *cx, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "mutual: usage: mutual join ROOM\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    meeting mt = {.k = &k, .room = argv[0]};
    if (meeting_join(&mt, false) != 0) {
        close_conn(&k);
        return 1;
    }
    printf("-- in %s; type to speak, /help for commands, Ctrl-D to leave --\n", mt.room);
    fflush(stdout);
    int backoff = 1;
    bool eof = false;
    for (;;) {
        line_reader lr = {.eof = eof};
        reader_start(&lr, mu_sync_loop(k.sync), meeting_line, &mt);
        bool dropped = false;
        while (!mt.left && (!lr.eof || mu_sync_pending(k.c))) {
            mu_msg *ev = mu_sync_event(k.sync, k.c, 200);
            if (ev) {
                show_event(&mt, ev);
                mu_msg_free(ev);
                backoff = 1;
            } else if (!mu_client_is_open(k.c)) {
                dropped = true;
                break;
            }
        }
        eof = lr.eof;
        reader_stop(&lr);
        mu_sync_run(k.sync, 50);
        if (!dropped || eof)
            break;
        /* The connection dropped: come back with growing pauses and pick up where we were. */
        close_conn(&k);
        for (;;) {
            printf("   -- connection lost; trying again in %d s --\n", backoff);
            fflush(stdout);
            sleep((unsigned)backoff);
            backoff = backoff < 30 ? backoff * 2 : 30;
            if (open_session(&k, cx->server_opt, &s) == 0 && meeting_join(&mt, true) == 0)
                break;
            close_conn(&k);
        }
    }
    close_conn(&k);
    return 0;
}

