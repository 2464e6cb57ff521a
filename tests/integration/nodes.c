/* Two mutuald nodes on one PostgreSQL database for the cross-node tests, and what those tests
 * share: a room "circle" run by mentor.ana on A, and the calls and events about it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/types.h>

#include <cmocka.h>

#include "nodes.h"

static void continue_stopped(void);

void nodes_up_with(nodes *n, const char *config)
{
    if (!harness_on_pg())
        skip();
    continue_stopped(); /* a test that failed with them stopped */
    world_up(&n->w, config, 0, "mentor.ana", "riley");
    srv_start_node(&n->b, &n->w.s, config);
    n->yb = mu_sync_new();
}

void nodes_up(nodes *n)
{
    nodes_up_with(n, NULL);
}

void nodes_down(nodes *n)
{
    mu_sync_free(n->yb);
    srv_stop(&n->b);
    srv_cleanup(&n->b);
    world_down(&n->w);
}

mu_client *on_b(nodes *n, const char *handle)
{
    return cl_signed_in(n->yb, &n->b, handle, WORLD_PW);
}

void send_dm(mu_sync *y, mu_client *c, const char *to, const char *text)
{
    mu_req *r = mu_req_new("dm.send");
    mu_req_str(r, "to", to);
    mu_req_str(r, "text", text);
    call_expect(y, c, r, "ok");
}

/* Whatever A published before this reached B: a DM sent through A after it, seen on B (a
 * node's events arrive in the order its writes committed). */
void fence(nodes *n, mu_client *ana_b, const char *text)
{
    send_dm(n->w.y, n->w.mem, "mentor.ana", text);
    mu_msg *m = cl_event(n->yb, ana_b, "dm.msg");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "text"), text);
    mu_msg_free(m);
}

void on_said(mu_client *c, const mu_msg *m, void *ud)
{
    (void)c;
    said *t = ud;
    if (m && mu_msg_ok(m))
        t->ok++;
    else
        t->other++;
}

mu_req *say_req(const char *text, const char *cid)
{
    mu_req *r = mu_req_new("room.say");
    mu_req_str(r, "room", "circle");
    mu_req_str(r, "text", text);
    if (cid)
        mu_req_str(r, "cid", cid);
    return r;
}

/* The connection's next event `op` (others, such as presence, are passed over). */
mu_msg *next_op(mu_sync *y, mu_client *c, const char *op)
{
    for (;;) {
        mu_msg *m = mu_sync_event(y, c, 5000);
        if (!m)
            fail_msg("no %s event", op);
        if (strcmp(mu_msg_op(m), op) == 0)
            return m;
        mu_msg_free(m);
    }
}

mu_msg *next_msg(mu_sync *y, mu_client *c)
{
    return next_op(y, c, "room.msg");
}

mu_req *room_req(const char *op)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "room", "circle");
    return r;
}

void circle_open(nodes *n)
{
    mu_req *r = room_req("room.create");
    mu_req_str(r, "name", "Morning circle");
    mu_req_str(r, "audience", "open");
    call_expect(n->w.y, n->w.mentor, r, "ok");
    call_expect(n->w.y, n->w.mentor, room_req("room.open"), "ok");
}

/* ana creates the room "circle" on A and opens it, and joins; riley_b joins it on B as soon as
 * B has learnt of it. */
void circle_up(nodes *n, mu_client *riley_b)
{
    mu_sync *y = n->w.y;
    circle_open(n);
    call_expect(y, n->w.mentor, room_req("room.join"), "ok");
    const char *code = "?";
    for (int i = 0; i < 100 && strcmp(code, "ok") != 0; i++) {
        mu_msg *m = cl_call(y, riley_b, room_req("room.join"));
        code = mu_msg_ok(m) ? "ok" : "not yet";
        mu_msg_free(m);
        if (strcmp(code, "ok") != 0)
            mu_sync_run(y, 50);
    }
    assert_string_equal(code, "ok");
}

mu_req *target_req(const char *op, const char *handle)
{
    mu_req *r = room_req(op);
    mu_req_str(r, "handle", handle);
    return r;
}

bool flag(const mu_value *map, const char *key)
{
    bool b = false;
    return mu_value_bool(mu_value_get(map, key), &b) && b;
}

void expect_moderation(mu_sync *y, mu_client *c, const char *action)
{
    mu_msg *m = next_op(y, c, "room.moderation");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "action"), action);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "by"), "mentor.ana");
    mu_msg_free(m);
}

void expect_presence(mu_sync *y, mu_client *c, const char *handle, const char *state)
{
    mu_msg *m = next_op(y, c, "room.presence");
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "handle"), handle);
    assert_string_equal(mu_value_get_str(mu_msg_root(m), "state"), state);
    mu_msg_free(m);
}

bool has_member(const mu_msg *m, const char *handle)
{
    const mu_value *l = mu_msg_get(m, "members");
    for (size_t i = 0; i < mu_value_len(l); i++)
        if (strcmp(mu_value_get_str(mu_value_at(l, i), "handle"), handle) == 0)
            return true;
    return false;
}

int64_t say_seq(mu_sync *y, mu_client *c, const char *text)
{
    mu_msg *m = cl_call(y, c, say_req(text, NULL));
    expect_ok(m);
    int64_t seq = mu_value_get_int(mu_msg_root(m), "seq", -1);
    mu_msg_free(m);
    return seq;
}

void expect_floor(mu_sync *y, mu_client *c, const char *handle)
{
    for (int i = 0; i < 5; i++) {
        mu_msg *m = next_op(y, c, "room.state");
        const char *f = mu_value_get_str(mu_msg_root(m), "floor");
        bool match = handle ? f && strcmp(f, handle) == 0 : f == NULL;
        mu_msg_free(m);
        if (match)
            return;
    }
    fail_msg("no room.state with the floor %s", handle ? handle : "(nobody)");
}

void cut_listeners(nodes *n)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             "WHERE datname = '%s' AND query = 'LISTEN mutual'",
             n->w.s.pg_name);
    assert_int_equal(srv_sql_int(&n->w.s, sql), 2);
}

/* Backends a test stopped: let go on by the next nodes_up and at exit, should the test fail
 * before it does (a stopped backend holds up the whole cluster's other tests). */
static int64_t stopped[64];
static size_t nstopped;

static void continue_stopped(void)
{
    for (size_t i = 0; i < nstopped; i++)
        kill((pid_t)stopped[i], SIGCONT);
    nstopped = 0;
}

int signal_backends(nodes *n, const char *app, int sig)
{
    static bool registered;
    if (!registered) {
        atexit(continue_stopped);
        registered = true;
    }
    char sql[384], which[96] = "";
    if (app)
        snprintf(which, sizeof(which), " AND application_name = '%s'", app);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND "
             "backend_type = 'client backend' AND pid <> pg_backend_pid()%s",
             n->w.s.pg_name, which);
    int64_t count = srv_sql_int(&n->w.s, sql);
    for (int64_t i = 0; i < count; i++) {
        snprintf(sql, sizeof(sql),
                 "SELECT pid FROM pg_stat_activity WHERE datname = '%s' AND "
                 "backend_type = 'client backend' AND pid <> pg_backend_pid()%s "
                 "ORDER BY pid OFFSET %lld LIMIT 1",
                 n->w.s.pg_name, which, (long long)i);
        int64_t pid = srv_sql_int(&n->w.s, sql);
        if (pid <= 0)
            continue;
        kill((pid_t)pid, sig);
        if (sig == SIGSTOP && nstopped < sizeof(stopped) / sizeof(stopped[0]))
            stopped[nstopped++] = pid;
    }
    if (sig == SIGCONT)
        continue_stopped();
    return (int)count;
}
