/* Direct messages: one at a time, the interactive conversation, and the inbox. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

void print_dm(const mu_value *m)
{
    printf("[");
    print_time(mu_value_get_int(m, "ts", 0));
    printf("] %s: %s\n", mu_value_get_str(m, "from") ? mu_value_get_str(m, "from") : "?",
           mu_value_get_str(m, "text") ? mu_value_get_str(m, "text") : "");
}

/* Marks what was shown as read. */
static void ack_upto(conn *k, const char *with, int64_t up_to)
{
    if (up_to <= 0)
        return;
    mu_req *r = mu_req_new(MU_OPNAME_DM_ACK);
    mu_req_str(r, "with", with);
    mu_req_int(r, "up_to", up_to);
    mu_msg *m = call(k, r);
    mu_msg_free(m);
}

/* Standard input as lines, on the loop, for the interactive modes: a terminal or a pipe is
 * read as it comes; a file is read whole at the start. */
typedef struct {
    conn *k;
    const char *with;
} dm_session;

/* The server's max_text, from its welcome; 0 when it did not say. */
static int64_t max_text(const conn *k)
{
    const mu_value *lim = mu_value_get(mu_msg_root(mu_client_welcome(k->c)), "limits");
    return mu_value_get_int(lim, "max_text", 0);
}

/* Says so and returns true when text is over the server's limit, before it is sent. */
static bool too_large(const conn *k, const char *text)
{
    int64_t lim = max_text(k);
    if (lim <= 0 || (int64_t)strlen(text) <= lim)
        return false;
    fprintf(stderr, "mutual: too large (%zu bytes, limit %lld); not sent\n", strlen(text),
            (long long)lim);
    return true;
}

static void send_line(void *ud, char *line)
{
    dm_session *d = ud;
    if (line[strspn(line, " \t")] == 0 || too_large(d->k, line))
        return;
    mu_req *r = mu_req_new(MU_OPNAME_DM_SEND);
    mu_req_str(r, "to", d->with);
    mu_req_str(r, "text", line);
    mu_client_send(d->k->c, r, NULL, NULL); /* replies and errors arrive as events below */
}

static int dm_interactive(conn *k, const char *with)
{
    mu_req *r = mu_req_new(MU_OPNAME_DM_HISTORY);
    mu_req_str(r, "with", with);
    mu_req_int(r, "limit", 20);
    mu_msg *m = call(k, r);
    if (!m)
        return 1;
    const mu_value *msgs = mu_msg_get(m, "messages");
    int64_t last_in = 0;
    for (size_t i = 0; i < mu_value_len(msgs); i++) {
        const mu_value *one = mu_value_at(msgs, i);
        print_dm(one);
        if (mu_value_get_str(one, "from") && !strcmp(mu_value_get_str(one, "from"), with))
            last_in = mu_value_get_int(one, "id", 0);
    }
    mu_msg_free(m);
    ack_upto(k, with, last_in);
    printf("-- talking with %s; type a line to send it, Ctrl-D to leave --\n", with);
    fflush(stdout);

    dm_session d = {.k = k, .with = with};
    line_reader lr = {0};
    reader_start(&lr, mu_sync_loop(k->sync), send_line, &d);
    int rc = 0;
    while (!lr.eof || mu_sync_pending(k->c)) {
        mu_msg *ev = mu_sync_event(k->sync, k->c, 200);
        if (!ev) {
            if (!mu_client_is_open(k->c)) {
                fprintf(stderr, "mutual: the connection closed\n");
                rc = 1;
                break;
            }
            continue;
        }
        const char *op = mu_msg_op(ev);
        if (!strcmp(op, MU_OPNAME_EV_DM_MSG)) {
            const char *from = mu_value_get_str(mu_msg_root(ev), "from");
            const char *to = mu_value_get_str(mu_msg_root(ev), "to");
            bool in_thread = (from && !strcmp(from, with)) || (to && !strcmp(to, with));
            if (in_thread) {
                print_dm(mu_msg_root(ev));
                if (from && !strcmp(from, with))
                    ack_upto(k, with, mu_value_get_int(mu_msg_root(ev), "id", 0));
            }
        } else if (!strcmp(op, MU_OPNAME_EV_ALERT)) {
            printf("   -- ALERT (close it with 'mutual ack %lld'): ",
                   (long long)mu_value_get_int(mu_msg_root(ev), "id", 0));
            alert_print(mu_msg_root(ev));
        } else if (!strcmp(op, MU_OPNAME_EV_DM_READ)) {
            if (mu_value_get_str(mu_msg_root(ev), "with") &&
                !strcmp(mu_value_get_str(mu_msg_root(ev), "with"), with))
                printf("   (%s has read up to here)\n", with);
        } else if (!strcmp(op, MU_OPNAME_EV_REPLY) && !mu_msg_ok(ev)) {
            cli_print_error(ev);
        }
        fflush(stdout);
        mu_msg_free(ev);
    }
    reader_stop(&lr);
    mu_sync_run(k->sync, 50); /* let the last sends get their replies */
    return rc;
}

int cmd_dm(const cli_ctx *cx, int argc, char **argv)
{
    if (argc < 1 || argc > 2) {
        fprintf(stderr, "mutual: usage: mutual dm HANDLE [TEXT]\n");
        return 2;
    }
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    int rc = 1;
    if (argc == 2 && too_large(&k, argv[1])) {
        rc = 1;
    } else if (argc == 2) {
        mu_req *r = mu_req_new(MU_OPNAME_DM_SEND);
        mu_req_str(r, "to", argv[0]);
        mu_req_str(r, "text", argv[1]);
        mu_msg *m = call(&k, r);
        if (m) {
            printf("sent to %s (message %lld)\n", argv[0],
                   (long long)mu_value_get_int(mu_msg_root(m), "id", 0));
            mu_msg_free(m);
            rc = 0;
        }
    } else {
        rc = dm_interactive(&k, argv[0]);
    }
    close_conn(&k);
    return rc;
}

int cmd_inbox(const cli_ctx *cx, int argc, char **argv)
{
    conn k = {0};
    session s;
    if (open_session(&k, cx->server_opt, &s) != 0)
        return 1;
    int rc = 1;
    mu_msg *m = call(&k, mu_req_new(MU_OPNAME_DM_INBOX));
    if (m) {
        const mu_value *th = mu_msg_get(m, "threads");
        if (!mu_value_len(th))
            printf("no conversations yet\n");
        for (size_t i = 0; i < mu_value_len(th); i++) {
            const mu_value *t = mu_value_at(th, i), *last = mu_value_get(t, "last");
            printf("%-20s %3lld unread", mu_value_get_str(t, "with"),
                   (long long)mu_value_get_int(t, "unread", 0));
            if (mu_value_type(last) == MU_V_MAP) {
                printf("   last: ");
                print_time(mu_value_get_int(last, "ts", 0));
                printf(" %s: %.60s", mu_value_get_str(last, "from"),
                       mu_value_get_str(last, "text"));
            }
            printf("\n");
        }
        mu_msg_free(m);
        rc = 0;
    }
    close_conn(&k);
    return rc;
}
