/* Fuzz target: the whole request path of the server without a socket. One connection (a
 * stand-in transport, as in the unit tests) is fed arbitrary frames and goes through the real
 * dispatcher, the real handlers and a real store on a temporary database, with the writer
 * thread committing and the loop running until every call has replied.
 *
 * Input: one byte choosing who two connections are (bits 0-1 the first, 4-5 the second: not
 * signed in, the member, the mentor or the admin; bit 3 or 6: the family member instead of the
 * member; bit 2: frames arrive as text), then frames, each a 16-bit big-endian word (the top
 * bit: for the second connection; the rest: the length) and that many bytes (the last one
 * takes whatever is left). Two connections, so that what one does reaches the other (rooms,
 * DMs, moderation).
 *
 * Checked besides the sanitizers: every message the server queues is a well-formed WebSocket
 * frame holding one MessagePack map with a string `op`, or a close frame; every request gets
 * exactly one reply on its own connection or that connection is closed; and no call is left
 * in flight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "context.h"
#include "dispatch.h"
#include "fuzz.h"
#include "handlers.h"
#include "log.h"
#include "password.h"
#include "rooms.h"
#include "session.h"

static mu_server srv;
static uv_loop_t loop;
static char dir[256];

static void t_flush(mu_conn *c)
{
    (void)c;
}
static void t_close_soon(mu_conn *c)
{
    (void)c;
}
static void t_pause(mu_conn *c, bool pause)
{
    (void)c;
    (void)pause;
}
static const mu_transport transport = {t_flush, t_close_soon, t_pause};
static char socket_stand_in;

static uint64_t loop_ms(void)
{
    return uv_now(&loop);
}

/* The people a fuzzed connection can be; ids as inserted below. */
static const struct {
    int64_t id;
    const char *handle;
    mu_role role;
} people[] = {{1, "fmember", ROLE_MEMBER},
              {2, "fmentor", ROLE_MENTOR},
              {3, "fadmin", ROLE_ADMIN},
              {4, "ffamily", ROLE_FAMILY}};

static void cleanup_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_dispatch: could not remove %s\n", dir);
}

static void seed_people(const char *db)
{
    char err[256], hash[crypto_pwhash_STRBYTES];
    if (password_hash("fuzz password", 13, hash) != 0)
        abort();
    db_conn *h = store_open_direct(db, false, err, sizeof(err));
    if (!h) {
        fprintf(stderr, "fuzz_dispatch: %s\n", err);
        abort();
    }
    static const char *const roles[] = {"member", "mentor", "admin", "family"};
    db_stmt *st = db_prepare(h, "INSERT INTO users(id, handle, role, pwhash, created_ts) "
                                "VALUES(?, ?, ?, ?, 0)");
    if (!st)
        abort();
    for (unsigned i = 0; i < 4; i++) {
        db_bind_i64(st, 1, people[i].id);
        db_bind_text(st, 2, people[i].handle, -1);
        db_bind_text(st, 3, roles[i], -1);
        db_bind_text(st, 4, hash, -1);
        if (db_step(st) != DB_DONE)
            abort();
        db_reset(st);
    }
    db_finalize(st);
    /* The member has the mentor, so that DMs and shared check-ins have a path. */
    if (db_exec(h, "INSERT INTO assignments(user_id, mentor_id, since_ts) VALUES(1, 2, 0);"
                   "INSERT INTO dm_threads VALUES(1, 2)") != DB_DONE)
        abort();
    db_close(h);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Its own directory per process; a memory file system by default (see fuzz_tmpdir). */
    snprintf(dir, sizeof(dir), "%s/mutual-fuzz-XXXXXX", fuzz_tmpdir());
    if (!mkdtemp(dir))
        abort();
    atexit(cleanup_dir);
    char db[300], err[256];
    snprintf(db, sizeof(db), "%s/fuzz.db", dir);
    log_set_level(getenv("MUTUAL_FUZZ_LOG") ? LOG_DEBUG : LOG_ERROR);
    config_defaults(&srv.cfg);
    if (uv_loop_init(&loop) != 0)
        abort();
    srv.loop = &loop;
    srv.test_clock = true;
    srv.limits = (mu_limits){(uint32_t)srv.cfg.max_text, (uint32_t)srv.cfg.max_note};
    srv.store = store_open(&loop, &(mu_store_opts){.path = db, .batch_max = 64}, err, sizeof(err));
    if (!srv.store) {
        fprintf(stderr, "fuzz_dispatch: %s\n", err);
        abort();
    }
    seed_people(db);
    srv.throttle = throttle_new(5, 60000, 100000);
    char pw[16] = "not a password";
    if (password_hash(pw, sizeof(pw), srv.dummy_hash) != 0)
        abort();
    g_srv = &srv;
    conn_init(&(conn_limits){.send_queue = 1 << 20});
    dispatch_init(&(dispatch_config){handlers_table, session_conn_gone, loop_ms, 1e9, 1e9,
                                     srv.limits, true, NULL});
    if (rooms_init(&srv) != 0)
        abort();
    return 0;
}

/* Reads every frame the connection queued; returns the number of replies among them, or -1
 * after a close frame. */
static int take_output(mu_conn *c, char label)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("MUTUAL_FUZZ_VERBOSE") != NULL;
    size_t total = c->sq_bytes;
    if (!total)
        return 0;
    unsigned char *b = malloc(total);
    if (!b || conn_take_output(c, b, total) != total)
        abort();
    int replies = 0;
    size_t at = 0;
    while (at < total) {
        if (total - at < 2)
            abort();
        unsigned op = b[at] & 0x0f;
        if ((b[at] & 0x80) == 0 || (b[at + 1] & 0x80))
            abort(); /* server frames are final and unmasked */
        size_t len = b[at + 1] & 0x7f, h = 2;
        if (len == 126) {
            if (total - at < 4)
                abort();
            len = (size_t)b[at + 2] << 8 | b[at + 3];
            h = 4;
        } else if (len == 127) {
            if (total - at < 10)
                abort();
            len = 0;
            for (int k = 0; k < 8; k++)
                len = len << 8 | b[at + 2 + k];
            h = 10;
        }
        if (len > total - at - h)
            abort();
        const char *p = (const char *)b + at + h;
        at += h + len;
        if (op == 0x8) {
            replies = -1;
            continue;
        }
        if (op != 0x2 || replies < 0)
            abort(); /* binary messages only, and nothing after a close frame */
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        if (msgpack_unpack_next(&up, p, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len)
            abort();
        const msgpack_object *o = mu_map_get(&up.data, "op");
        if (!o || o->type != MSGPACK_OBJECT_STR)
            abort();
        if (verbose) {
            const msgpack_object *code = mu_map_get(&up.data, "code");
            fprintf(stderr, "%c: %.*s %.*s\n", label, (int)o->via.str.size, o->via.str.ptr,
                    code && code->type == MSGPACK_OBJECT_STR ? (int)code->via.str.size : 0,
                    code && code->type == MSGPACK_OBJECT_STR ? code->via.str.ptr : "");
        }
        if (mu_obj_str_eq(o, "reply")) {
            const msgpack_object *ok = mu_map_get(&up.data, "ok");
            if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN)
                abort();
            if (!ok->via.boolean) {
                const msgpack_object *code = mu_map_get(&up.data, "code");
                const msgpack_object *msg = mu_map_get(&up.data, "msg");
                if (!code || code->type != MSGPACK_OBJECT_STR || !msg ||
                    msg->type != MSGPACK_OBJECT_STR ||
                    mu_code_from_name(code->via.str.ptr, code->via.str.size) == MU_OK)
                    abort();
            }
            replies++;
        }
        msgpack_unpacked_destroy(&up);
    }
    free(b);
    return replies;
}

/* Runs the loop until every call has replied; the writer thread wakes it. */
static void settle(void)
{
    dispatch_run_pending();
    for (int spins = 0; dispatch_inflight() > 0; spins++) {
        uv_run(&loop, UV_RUN_ONCE);
        dispatch_run_pending();
        if (spins > 100000)
            abort(); /* a call that never replies */
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    dispatch_run_pending();
}

typedef struct {
    mu_conn *c;
    int requests, replies;
    bool closed;
} side;

/* A connection signed in as nobody (who 0), the member (1, or the family member with
 * `family`), the mentor (2) or the admin (3). */
static void side_open(side *sd, unsigned who, bool family)
{
    memset(sd, 0, sizeof(*sd));
    sd->c = conn_new((struct lws *)(void *)&socket_stand_in, &transport);
    conn_ref(sd->c);
    dispatch_conn_open(sd->c);
    if (who) {
        uint8_t token[32] = {0};
        unsigned i = who == 1 && family ? 3 : who - 1;
        conn_authenticate(sd->c, people[i].id, people[i].handle, people[i].role, token);
    }
}

static void side_take(side *sd, char label)
{
    int r = take_output(sd->c, label);
    if (r < 0)
        sd->closed = true;
    else
        sd->replies += r;
}

static void side_close(side *sd)
{
    /* A request is answered once, unless the connection was closed on it or cut off. */
    if (!sd->closed && sd->replies != sd->requests) {
        fprintf(stderr, "fuzz_dispatch: %d requests, %d replies\n", sd->requests, sd->replies);
        abort();
    }
    dispatch_conn_gone(sd->c);
    settle();
    conn_unref(sd->c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool text = data[0] & 4;
    side sides[2];
    side_open(&sides[0], data[0] & 3, data[0] & 8);
    side_open(&sides[1], (data[0] >> 4) & 3, data[0] & 0x40);
    size_t at = 1;
    while (at + 2 <= size) {
        side *sd = &sides[data[at] >> 7];
        size_t want = (size_t)(data[at] & 0x7f) << 8 | data[at + 1];
        at += 2;
        size_t len = size - at < want ? size - at : want;
        /* Its own allocation, so that a read past the frame is caught. */
        char *frame = malloc(len ? len : 1);
        memcpy(frame, data + at, len);
        at += len;
        if (!sd->closed) {
            dispatch_on_message(sd->c, frame, len, text);
            sd->requests++;
        }
        free(frame);
        settle();
        side_take(&sides[0], 'A');
        side_take(&sides[1], 'B');
    }
    side_close(&sides[0]);
    side_close(&sides[1]);
    return 0;
}
