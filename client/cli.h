/* The mutual command-line client: what its parts share. Every command is a cli_cmd_fn; the
 * table in cli.c maps names to them. */
#ifndef MUTUAL_CLI_H
#define MUTUAL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mutual/client.h"
#include "op_names.h"

#define CLI_DEFAULT_SERVER "ws://127.0.0.1:7681"
#define CLI_TIMEOUT_MS 15000

/* What every command is given: --server as typed (or NULL) and the server to use when the
 * command needs no session (--server, else the saved session's, else the default). */
typedef struct {
    const char *server_opt;
    const char *server;
} cli_ctx;

typedef int (*cli_cmd_fn)(const cli_ctx *cx, int argc, char **argv);

/* ---- cli_session.c: the saved session, the password prompt, the connection ---------------- */

typedef struct {
    char server[512];
    char token[128];
    char handle[64];
    char ca_file[512]; /* wss://: the CAs to trust instead of the system's ("" for those) */
    char role[16];     /* from the server when the session is resumed; not saved */
} session;

typedef struct {
    mu_sync *sync;
    mu_client *c;
    char url[512];
} conn;

/* The session directory ($XDG_CONFIG_HOME/mutual or ~/.config/mutual); made when asked. */
int session_dir(char *out, size_t cap, bool make_dir);
int session_load(session *s);
/* wss://: the PEM file of certificate authorities every connection of this process trusts
 * (instead of the system's), and that a sign-in saves with the session. Made absolute. */
int cli_set_ca_file(const char *path);
int session_save(const session *s);
void session_remove(void);
/* Reads a line without echo from a terminal, or as it comes from a pipe. */
int read_password(const char *prompt, char *buf, size_t cap);
/* Asks a question and reads one line of answer (echoed when it came from a pipe, so that a
 * transcript reads as a dialogue); false at end of input. */
bool cli_ask(const char *question, char *buf, size_t cap);
/* True for an answer of nothing but spaces and tabs. */
bool cli_blank(const char *s);
double now_ms(void);
int open_conn(conn *k, const char *url);
void close_conn(conn *k);
/* Sends and returns the reply when it is a success; prints the server's sentence otherwise.
 * Consumes r. */
mu_msg *call(conn *k, mu_req *r);
/* An error reply as one line: its sentence, its code, and when to retry if it says. */
void error_text(const mu_msg *m, char *out, size_t cap);
/* Prints an error reply (or event) as one line on stderr. */
void cli_print_error(const mu_msg *m);
/* Signs in with the saved token; fills s->role. */
int resume(conn *k, session *s);
/* Connects to the saved session's server (or --server) and signs in with its token. */
int open_session(conn *k, const char *server_opt, session *s);
/* Saves the session a register or login reply carries and says so. */
int signed_in(const char *server, mu_msg *m, const char *verb);
/* One request in a fresh session; prints ok_text on success. Consumes r. */
int simple_call(const char *server_opt, mu_req *r, const char *ok_text);
void print_time(int64_t ts_ms);

/* ---- cli_lines.c: standard input as lines on the loop -------------------------------------- */

typedef void (*line_fn)(void *ud, char *line);

typedef struct {
    union {
        uv_handle_t h;
        uv_stream_t s;
        uv_tty_t tty;
        uv_pipe_t pipe;
    } in;
    char line[8192];
    size_t len;
    bool eof, reading;
    line_fn on_line;
    void *ud;
} line_reader;

/* lr starts zeroed; started again after reader_stop (on any loop), it keeps a half-read line
 * and the end of input. */
void reader_start(line_reader *lr, uv_loop_t *loop, line_fn fn, void *ud);
void reader_stop(line_reader *lr);

/* ---- commands ------------------------------------------------------------------------------ */

extern const char cli_usage[];

int cmd_register(const cli_ctx *cx, int argc, char **argv);
int cmd_login(const cli_ctx *cx, int argc, char **argv);
int cmd_logout(const cli_ctx *cx, int argc, char **argv);
int cmd_whoami(const cli_ctx *cx, int argc, char **argv);
int cmd_ping(const cli_ctx *cx, int argc, char **argv);
int cmd_help(const cli_ctx *cx, int argc, char **argv);
int cmd_export(const cli_ctx *cx, int argc, char **argv);
int cmd_mentees(const cli_ctx *cx, int argc, char **argv);
int cmd_assign(const cli_ctx *cx, int argc, char **argv);
int cmd_unassign(const cli_ctx *cx, int argc, char **argv);
int cmd_consent(const cli_ctx *cx, int argc, char **argv);
int cmd_password(const cli_ctx *cx, int argc, char **argv);
int cmd_delete(const cli_ctx *cx, int argc, char **argv);
int cmd_user(const cli_ctx *cx, int argc, char **argv);
int cmd_stats(const cli_ctx *cx, int argc, char **argv);
int cmd_unban(const cli_ctx *cx, int argc, char **argv);
int cmd_dm(const cli_ctx *cx, int argc, char **argv);
int cmd_inbox(const cli_ctx *cx, int argc, char **argv);
int cmd_checkin(const cli_ctx *cx, int argc, char **argv);
int cmd_checkins(const cli_ctx *cx, int argc, char **argv);
int cmd_summary(const cli_ctx *cx, int argc, char **argv);
int cmd_alerts(const cli_ctx *cx, int argc, char **argv);
int cmd_ack(const cli_ctx *cx, int argc, char **argv);
int cmd_rooms(const cli_ctx *cx, int argc, char **argv);
int cmd_room(const cli_ctx *cx, int argc, char **argv);
int cmd_join(const cli_ctx *cx, int argc, char **argv);
int cmd_plan(const cli_ctx *cx, int argc, char **argv);
int cmd_services(const cli_ctx *cx, int argc, char **argv);
int cmd_service(const cli_ctx *cx, int argc, char **argv);
int cmd_mentors(const cli_ctx *cx, int argc, char **argv);

/* cmd_checkin.c, cmd_checkins.c */
int checkin_local_tz(void);
void checkin_print_header(void);
void checkin_print_row(const mu_value *checkin);
void alert_print(const mu_value *alert);

/* cmd_dm.c: one direct message as a line ("[time] from: text"). */
void print_dm(const mu_value *m);

#endif
