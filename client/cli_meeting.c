/* The meeting, interactively: `mutual join ROOM` reads lines and slash commands and shows the
 * room's events as they come, reconnecting when the connection drops. Lines go out through a
 * queue paced under the server's rate, so that piped input is sent whole, and every request
 * has a reply callback: each command confirms or shows its error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_parse.h"

#define MAX_INFLIGHT 32

typedef struct meeting meeting;

/* One request awaiting its reply; `text` (owned) is a line to say, kept to send it again. */
typedef struct {
    meeting *mt;
    bool used;
    char what[96];
    char *text;
} pending;

struct meeting {
    conn *k;
    const char *room;
    const char *me;
    bool left, waiting, floor_mode;
    bool show_seq; /* /seq: each message shows its number, for /report */
    int64_t last_seq;
    char who[256][40];
    int nwho;
    /* lines typed and not yet sent (owned strings), oldest at head */
    char **queue;
    size_t qhead, qlen, qcap;
    pending slots[MAX_INFLIGHT];
    int inflight;
    double tokens, rate, burst, refilled_ms, pause_until_ms;
};

static void who_set(meeting *mt, const char *h, bool in)
{
    if (!h)
        return;
    for (int i = 0; i < mt->nwho; i++)
        if (!strcmp(mt->who[i], h)) {
            if (!in)
                memmove(mt->who[i], mt->who[i + 1], (size_t)(--mt->nwho - i) * sizeof(mt->who[0]));
            return;
        }
    if (in && mt->nwho < 256)
        snprintf(mt->who[mt->nwho++], sizeof(mt->who[0]), "%s", h);
}

/* ---- the queue of lines -------------------------------------------------------------- */

static void queue_grow(meeting *mt)
{
    if (mt->qlen < mt->qcap)
        return;
    size_t cap = mt->qcap ? mt->qcap * 2 : 16;
    char **q = malloc(cap * sizeof(*q));
    if (!q) {
        fprintf(stderr, "mutual: out of memory\n");
        abort();
    }
    /* Here qlen == qcap (the queue is full), so every old slot is set and qcap > 0 when the
     * loop runs; the analyzer loses that across the meeting's callbacks. */
    for (size_t i = 0; i < mt->qlen; i++)
        // NOLINTNEXTLINE(clang-analyzer-core.DivideZero,clang-analyzer-core.uninitialized.Assign)
        q[i] = mt->queue[(mt->qhead + i) % mt->qcap];
    free(mt->queue);
    mt->queue = q;
    mt->qhead = 0;
    mt->qcap = cap;
}

/* Takes ownership of line. */
static void queue_push(meeting *mt, char *line, bool front)
{
    queue_grow(mt);
    if (front) {
        mt->qhead = (mt->qhead + mt->qcap - 1) % mt->qcap;
        mt->queue[mt->qhead] = line;
    } else {
        mt->queue[(mt->qhead + mt->qlen) % mt->qcap] = line;
    }
    mt->qlen++;
}

static char *queue_pop(meeting *mt)
{
    char *line = mt->queue[mt->qhead];
    mt->qhead = (mt->qhead + 1) % mt->qcap;
    mt->qlen--;
    return line;
}

static void queue_free(meeting *mt)
{
    while (mt->qlen)
        free(queue_pop(mt));
    free(mt->queue);
    mt->queue = NULL;
    mt->qcap = 0;
}

/* ---- requests and their replies ------------------------------------------------------ */

static void on_reply(mu_client *c, const mu_msg *reply, void *ud)
{
    pending *p = ud;
    meeting *mt = p->mt;
    if (!reply || (p->text && mu_msg_code(reply) && !strcmp(mu_msg_code(reply), "rate_limited"))) {
        /* lost with the connection, or too fast: said again later, in order */
        if (p->text) {
            queue_push(mt, p->text, true);
            p->text = NULL;
        }
        if (reply)
            mt->pause_until_ms = now_ms() + 1000;
    } else if (!mu_msg_ok(reply)) {
        printf("   -- %s: %s (%s) --\n", p->what,
               mu_msg_text(reply) ? mu_msg_text(reply) : "refused",
               mu_msg_code(reply) ? mu_msg_code(reply) : "?");
    } else if (!p->text && p->what[0]) {
        printf("   -- done: %s --\n", p->what);
    }
    free(p->text);
    p->text = NULL;
    p->used = false;
    mt->inflight--;
    fflush(stdout);
}

/* Sends r with a reply callback; `text` (owned, may be NULL) is the line being said. */
static void send_req(meeting *mt, mu_req *r, const char *what, char *text)
{
    pending *p = NULL;
    for (int i = 0; i < MAX_INFLIGHT && !p; i++)
        if (!mt->slots[i].used)
            p = &mt->slots[i];
    if (!p) { /* the caller keeps inflight below MAX_INFLIGHT */
        mu_req_free(r);
        free(text);
        return;
    }
    *p = (pending){.mt = mt, .used = true, .text = text};
    snprintf(p->what, sizeof(p->what), "%s", what);
    if (!mu_client_send(mt->k->c, r, on_reply, p)) {
        if (text)
            queue_push(mt, text, true);
        p->used = false;
        p->text = NULL;
        return;
    }
    mt->inflight++;
}

/* After the connection dropped: replies that never came put their lines back in the queue. */
static void slots_reclaim(meeting *mt)
{
    for (int i = MAX_INFLIGHT - 1; i >= 0; i--) {
        pending *p = &mt->slots[i];
        if (!p->used)
            continue;
        if (p->text)
            queue_push(mt, p->text, true);
        p->text = NULL;
        p->used = false;
    }
    mt->inflight = 0;
}

/* ---- slash commands ------------------------------------------------------------------ */

typedef enum { ARG_NONE, ARG_HANDLE, ARG_REMOVE, ARG_ONOFF, ARG_GIVE } arg_kind;

typedef struct {
    const char *name;
    const char *op;
    arg_kind arg;
    const char *bool_key; /* for ARG_NONE ops with a fixed boolean: its key; value in on */
    bool on;
    const char *done; /* what it did, "%s" the handle or on/off */
} slash_cmd;

static const slash_cmd slash_cmds[] = {
    {"hand", MU_OPNAME_HAND_RAISE, ARG_NONE, NULL, false, "hand raised"},
    {"lower", MU_OPNAME_HAND_LOWER, ARG_NONE, NULL, false, "hand lowered"},
    {"open", MU_OPNAME_ROOM_OPEN, ARG_NONE, NULL, false, "the meeting is open"},
    {"close", MU_OPNAME_ROOM_CLOSE, ARG_NONE, NULL, false, "the meeting is closed"},
    {"mute", MU_OPNAME_ROOM_MUTE, ARG_HANDLE, NULL, false, "muted %s"},
    {"unmute", MU_OPNAME_ROOM_UNMUTE, ARG_HANDLE, NULL, false, "unmuted %s"},
    {"remove", MU_OPNAME_ROOM_REMOVE, ARG_REMOVE, NULL, false, "removed %s"},
    {"unban", MU_OPNAME_ROOM_UNBAN, ARG_HANDLE, NULL, false, "%s may join again"},
    {"lock", MU_OPNAME_ROOM_LOCK, ARG_NONE, "locked", true, "the room is locked"},
    {"unlock", MU_OPNAME_ROOM_LOCK, ARG_NONE, "locked", false, "the room is unlocked"},
    {"lobby", MU_OPNAME_ROOM_LOBBY, ARG_ONOFF, NULL, false, "the lobby is %s"},
    {"admit", MU_OPNAME_ROOM_ADMIT, ARG_HANDLE, NULL, false, "let %s in"},
    {"deny", MU_OPNAME_ROOM_DENY, ARG_HANDLE, NULL, false, "turned %s away"},
    {"floor", MU_OPNAME_ROOM_FLOOR, ARG_ONOFF, NULL, false, "floor mode is %s"},
    {"give", MU_OPNAME_ROOM_GIVE, ARG_GIVE, NULL, false, "gave the floor to %s"},
};

static const char slash_help[] =
    "   -- /hand /lower /who /leave; /seq shows or hides message numbers, /report SEQ [REASON] "
    "tells the facilitators about a message; facilitators: /open /close /mute H /unmute H "
    "/remove H [ban] /unban H /lock /unlock /lobby on|off /admit H /deny H /floor on|off "
    "/give [H [SECS]] (no H: nobody) --\n";

/* /report SEQ [REASON]: the reason is the rest of the line, spaces and all. */
static void report_run(meeting *mt, const char *line)
{
    const char *p = line + strlen("/report");
    p += strspn(p, " \t");
    size_t n = strcspn(p, " \t");
    char num[24] = "";
    long seq = 0;
    if (n < sizeof(num)) {
        memcpy(num, p, n);
        num[n] = 0;
    }
    const char *reason = p + n;
    reason += strspn(reason, " \t");
    size_t rlen = strlen(reason);
    while (rlen && (reason[rlen - 1] == ' ' || reason[rlen - 1] == '\t'))
        rlen--;
    if (!num[0] || !parse_int(num, 1, 2147483647L, &seq) || rlen > 200) {
        printf("   -- usage: /report SEQ [REASON], REASON up to 200 bytes; /seq shows the "
               "numbers --\n");
        return;
    }
    mu_req *r = mu_req_new(MU_OPNAME_ROOM_REPORT);
    mu_req_str(r, "room", mt->room);
    mu_req_int(r, "seq", seq);
    if (rlen)
        mu_req_strn(r, "reason", reason, rlen);
    char what[96];
    snprintf(what, sizeof(what), "reported message #%ld to the facilitators", seq);
    send_req(mt, r, what, NULL);
}

static void slash_run(meeting *mt, const char *line)
{
    char cmd[32] = "", a1[64] = "", a2[64] = "", extra[8] = "";
    sscanf(line, "/%31s %63s %63s %7s", cmd, a1, a2, extra);
    if (!strcmp(cmd, "help")) {
        printf("%s", slash_help);
        return;
    }
    if (!strcmp(cmd, "seq")) {
        mt->show_seq = !mt->show_seq;
        printf(mt->show_seq ? "   -- message numbers shown (/report SEQ [REASON]) --\n"
                            : "   -- message numbers hidden --\n");
        return;
    }
    if (!strcmp(cmd, "report")) {
        report_run(mt, line);
        return;
    }
    if (!strcmp(cmd, "who")) {
        printf("   -- here:");
        for (int i = 0; i < mt->nwho; i++)
            printf(" %s", mt->who[i]);
        printf(" --\n");
        return;
    }
    if (!strcmp(cmd, "leave")) {
        mu_req *r = mu_req_new(MU_OPNAME_ROOM_LEAVE);
        mu_req_str(r, "room", mt->room);
        send_req(mt, r, "left the meeting", NULL);
        mt->left = true;
        return;
    }
    const slash_cmd *sc = NULL;
    for (size_t i = 0; i < sizeof(slash_cmds) / sizeof(slash_cmds[0]); i++)
        if (!strcmp(cmd, slash_cmds[i].name))
            sc = &slash_cmds[i];
    if (!sc) {
        printf("   -- unknown command /%s; /help lists them --\n", cmd);
        return;
    }
    mu_req *r = mu_req_new(sc->op);
    mu_req_str(r, "room", mt->room);
    char what[96];
    const char *bad = NULL;
    switch (sc->arg) {
    case ARG_NONE:
        if (sc->bool_key)
            mu_req_bool(r, sc->bool_key, sc->on);
        snprintf(what, sizeof(what), "%s", sc->done);
        break;
    case ARG_HANDLE:
    case ARG_REMOVE:
        if (!a1[0] || (sc->arg == ARG_HANDLE && a2[0]) ||
            (sc->arg == ARG_REMOVE && a2[0] && strcmp(a2, "ban") != 0)) {
            bad = sc->arg == ARG_REMOVE ? "HANDLE [ban]" : "HANDLE";
            break;
        }
        mu_req_str(r, "handle", a1);
        if (sc->arg == ARG_REMOVE)
            mu_req_bool(r, "ban", a2[0] != 0);
        snprintf(what, sizeof(what), sc->done, a1);
        if (a2[0])
            strncat(what, " and banned them", sizeof(what) - strlen(what) - 1);
        break;
    case ARG_ONOFF:
        if (a2[0] || (strcmp(a1, "on") != 0 && strcmp(a1, "off") != 0)) {
            bad = "on|off";
            break;
        }
        mu_req_bool(r, "on", !strcmp(a1, "on"));
        snprintf(what, sizeof(what), sc->done, a1);
        break;
    case ARG_GIVE: {
        long secs = 0;
        if (extra[0] || (a2[0] && !parse_int(a2, 30, 1800, &secs))) {
            bad = "[HANDLE [SECS]], SECS 30 to 1800";
            break;
        }
        if (a1[0])
            mu_req_str(r, "handle", a1);
        else
            mu_req_nil(r, "handle");
        if (secs)
            mu_req_int(r, "secs", secs);
        if (a1[0])
            snprintf(what, sizeof(what), sc->done, a1);
        else
            snprintf(what, sizeof(what), "nobody has the floor now");
        break;
    }
    }
    if (bad) {
        printf("   -- usage: /%s %s --\n", sc->name, bad);
        mu_req_free(r);
        return;
    }
    send_req(mt, r, what, NULL);
}

/* One queued line: a command, or something to say. Takes ownership of line. */
static void line_run(meeting *mt, char *line)
{
    if (line[0] == '/') {
        slash_run(mt, line);
        free(line);
        return;
    }
    if (mt->waiting) {
        printf("   -- you are waiting in the lobby; not sent: %s --\n", line);
        free(line);
        return;
    }
    mu_req *r = mu_req_new(MU_OPNAME_ROOM_SAY);
    mu_req_str(r, "room", mt->room);
    mu_req_str(r, "text", line);
    send_req(mt, r, "not said", line);
}

/* Sends queued lines as the token bucket allows: a little under the server's rate, since
 * the server counts every request (acks and commands too). */
static void pump(meeting *mt)
{
    double t = now_ms();
    if (t < mt->pause_until_ms)
        return;
    mt->tokens += (t - mt->refilled_ms) * mt->rate * 0.8 / 1000.0;
    if (mt->tokens > mt->burst / 2)
        mt->tokens = mt->burst / 2;
    mt->refilled_ms = t;
    while (mt->qlen && mt->tokens >= 1 && mt->inflight < MAX_INFLIGHT && !mt->left &&
           mu_client_is_open(mt->k->c)) {
        mt->tokens -= 1;
        line_run(mt, queue_pop(mt));
    }
}

static void on_line(void *ud, char *l)
{
    meeting *mt = ud;
    if (l[strspn(l, " \t")] == 0)
        return; /* nothing to say */
    char *copy = strdup(l);
    if (!copy)
        abort();
    queue_push(mt, copy, false);
}

/* ---- what the room says -------------------------------------------------------------- */

static void show_msg(meeting *mt, const mu_value *m)
{
    int64_t seq = mu_value_get_int(m, "seq", 0);
    if (seq <= mt->last_seq)
        return; /* already shown before a reconnect */
    mt->last_seq = seq;
    printf("[");
    print_time(mu_value_get_int(m, "ts", 0));
    printf("] ");
    if (mt->show_seq)
        printf("#%lld ", (long long)seq);
    printf("%s: %s\n", mu_value_get_str(m, "from"), mu_value_get_str(m, "text"));
}

/* A report reaches facilitators in the room and every admin, whatever room they are in. */
static void show_report(const mu_value *v)
{
    const char *reason = mu_value_get_str(v, "reason");
    printf("   -- REPORT in %s: %s reported message #%lld from %s: \"%s\"",
           mu_value_get_str(v, "room"), mu_value_get_str(v, "by"),
           (long long)mu_value_get_int(v, "seq", 0), mu_value_get_str(v, "from"),
           mu_value_get_str(v, "text"));
    if (reason)
        printf(" (reason: %s)", reason);
    printf(" --\n");
}

static void show_state(meeting *mt, const mu_value *st)
{
    bool b;
    printf("   -- ");
    if (mu_value_bool(mu_value_get(st, "is_open"), &b))
        printf("%s", b ? "open" : "closed");
    if (mu_value_bool(mu_value_get(st, "locked"), &b) && b)
        printf(", locked");
    if (mu_value_bool(mu_value_get(st, "lobby"), &b) && b)
        printf(", lobby on");
    mt->floor_mode = mu_value_bool(mu_value_get(st, "floor_mode"), &b) && b;
    const char *floor = mu_value_get_str(st, "floor");
    if (mt->floor_mode)
        printf(", floor mode");
    if (floor) {
        printf(", %s has the floor", floor);
        int64_t ends;
        if (mu_value_int(mu_value_get(st, "floor_ends"), &ends)) {
            printf(" until ");
            print_time(ends);
        }
    } else if (mt->floor_mode) {
        printf(", nobody has the floor");
    }
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
    mt->waiting = false;
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
    show_state(mt, mu_msg_get(m, "state"));
}

static void show_event(meeting *mt, const mu_msg *ev)
{
    const char *op = mu_msg_op(ev);
    const mu_value *v = mu_msg_root(ev);
    if (!strcmp(op, MU_OPNAME_EV_ROOM_MSG)) {
        show_msg(mt, v);
    } else if (!strcmp(op, MU_OPNAME_EV_ROOM_PRESENCE)) {
        const char *state = mu_value_get_str(v, "state");
        bool in = state && !strcmp(state, "joined");
        who_set(mt, mu_value_get_str(v, "handle"), in);
        printf("   -- %s %s --\n", mu_value_get_str(v, "handle"), in ? "joined" : "left");
    } else if (!strcmp(op, MU_OPNAME_EV_ROOM_STATE)) {
        show_state(mt, v);
    } else if (!strcmp(op, MU_OPNAME_EV_ROOM_MODERATION)) {
        printf("   -- %s: %s (by %s) --\n", mu_value_get_str(v, "action"),
               mu_value_get_str(v, "handle"), mu_value_get_str(v, "by"));
    } else if (!strcmp(op, MU_OPNAME_EV_ROOM_REPORT)) {
        show_report(v);
    } else if (!strcmp(op, MU_OPNAME_EV_ROOM_KNOCK)) {
        const char *h = mu_value_get_str(v, "handle");
        printf("   -- %s is waiting in the lobby (/admit %s or /deny %s) --\n", h, h, h);
    } else if (!strcmp(op, MU_OPNAME_EV_ROOM_ADMITTED)) {
        printf("   -- you were let in; type to speak --\n");
        joined(mt, ev, false);
    } else if (!strcmp(op, MU_OPNAME_EV_ROOM_DENIED) || !strcmp(op, MU_OPNAME_EV_ROOM_CLOSED) ||
               !strcmp(op, MU_OPNAME_EV_ROOM_REMOVED)) {
        printf("   -- %s --\n", !strcmp(op, MU_OPNAME_EV_ROOM_DENIED) ? "you were not let in"
                                : !strcmp(op, MU_OPNAME_EV_ROOM_CLOSED)
                                    ? "the meeting has closed"
                                    : "a facilitator removed you");
        mt->left = true;
    } else if (!strcmp(op, MU_OPNAME_EV_REPLY) && !mu_msg_ok(ev)) {
        printf("   -- %s --\n", mu_msg_text(ev) ? mu_msg_text(ev) : "refused");
    } else if (!strcmp(op, MU_OPNAME_EV_DM_MSG)) {
        const char *from = mu_value_get_str(v, "from");
        bool mine = from && mt->me && !strcmp(from, mt->me);
        printf("   -- direct message %s %s: %s --\n", mine ? "to" : "from",
               mine ? mu_value_get_str(v, "to") : from, mu_value_get_str(v, "text"));
    } else if (!strcmp(op, MU_OPNAME_EV_ALERT)) {
        printf("   -- ALERT (close it with 'mutual ack %lld'): ",
               (long long)mu_value_get_int(v, "id", 0));
        alert_print(v);
    }
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
    if (mu_value_bool(mu_msg_get(m, "waiting"), &waiting) && waiting) {
        mt->waiting = true;
        printf("   -- you are waiting in the lobby until a facilitator lets you in --\n");
    } else {
        joined(mt, m, resumed);
    }
    mu_msg_free(m);
    const mu_value *lim = mu_value_get(mu_msg_root(mu_client_welcome(mt->k->c)), "limits");
    mt->rate = (double)mu_value_get_int(lim, "rate_per_s", 20);
    mt->burst = (double)mu_value_get_int(lim, "burst", 40);
    if (mt->rate < 1)
        mt->rate = 1;
    mt->tokens = 0;
    mt->refilled_ms = now_ms();
    fflush(stdout);
    return 0;
}

/* Attempts to reconnect once piped input has ended with lines still to send. */
#define RETRIES_AFTER_EOF 2

static void on_wait_timer(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Waits `secs` seconds before the next attempt to reconnect, on a loop of its own (the
 * connection's is gone), still reading input: a line typed meanwhile is queued for when the
 * meeting is back. Returns early when the input ends. */
static void wait_reading(meeting *mt, line_reader *lr, int secs)
{
    if (lr->eof) {
        sleep((unsigned)secs);
        return;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    reader_start(lr, &loop, on_line, mt);
    uint64_t until = uv_now(&loop) + (uint64_t)secs * 1000;
    while (!lr->eof && uv_now(&loop) < until) {
        uv_timer_start(&timer, on_wait_timer, 100, 0);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_update_time(&loop);
    }
    reader_stop(lr);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT); /* the closes complete */
    uv_loop_close(&loop);
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
    meeting *mt = calloc(1, sizeof(*mt));
    if (!mt)
        abort();
    *mt = (meeting){.k = &k, .room = argv[0], .me = s.handle};
    if (meeting_join(mt, false) != 0) {
        close_conn(&k);
        free(mt);
        return 1;
    }
    if (mt->waiting)
        printf("-- in the lobby of %s; Ctrl-D to give up waiting --\n", mt->room);
    else
        printf("-- in %s; type to speak, /help for commands, Ctrl-D to leave --\n", mt->room);
    fflush(stdout);
    int backoff = 1;
    bool gave_up = false;
    /* At a terminal, the end of input (Ctrl-D) means the person has left; a pipe that ends
     * only means that nothing more is coming, and what it gave is still sent. */
    bool interactive = isatty(STDIN_FILENO);
    line_reader lr = {0}; /* one for the whole meeting: a half-read line survives a reconnect */
    for (;;) {
        reader_start(&lr, mu_sync_loop(k.sync), on_line, mt);
        bool dropped = false;
        /* at end of input, stay until every line is sent and answered */
        while (!mt->left && (!lr.eof || mt->qlen || mt->inflight || mu_sync_pending(k.c))) {
            pump(mt);
            mu_msg *ev = mu_sync_event(k.sync, k.c, mt->qlen ? 20 : 200);
            if (ev) {
                show_event(mt, ev);
                mu_msg_free(ev);
                backoff = 1;
            } else if (!mu_client_is_open(k.c)) {
                dropped = true;
                break;
            }
        }
        reader_stop(&lr);
        mu_sync_run(k.sync, 50);
        if (!dropped || (lr.eof && !mt->qlen))
            break;
        /* The connection dropped: come back with growing pauses and pick up where we were,
         * reading input meanwhile. */
        close_conn(&k);
        slots_reclaim(mt);
        int tries = 0; /* attempts made after the input ended */
        for (;;) {
            if (lr.eof && (interactive || tries >= RETRIES_AFTER_EOF)) {
                gave_up = true;
                break;
            }
            printf("   -- connection lost; trying again in %d s%s --\n", backoff,
                   interactive ? " (Ctrl-D to leave)" : "");
            fflush(stdout);
            wait_reading(mt, &lr, backoff);
            backoff = backoff < 30 ? backoff * 2 : 30;
            if (lr.eof && interactive) {
                gave_up = true;
                break;
            }
            tries += lr.eof;
            if (open_session(&k, cx->server_opt, &s) == 0 && meeting_join(mt, true) == 0)
                break;
            close_conn(&k);
        }
        if (gave_up)
            break;
    }
    int rc = 0;
    if (gave_up && mt->qlen) {
        fprintf(stderr, "mutual: the connection was lost; %zu line%s not sent\n", mt->qlen,
                mt->qlen == 1 ? " was" : "s were");
        rc = 1;
    }
    close_conn(&k);
    slots_reclaim(mt);
    queue_free(mt);
    free(mt);
    return rc;
}
