/* The room state machine without sockets: membership and presence, the lobby (wait, admit,
 * turn away), hands and the floor (timed shares included), the end of a meeting, deleting a
 * room, and a connection leaving everything. Connections are fakes; the store is a real one
 * in a temporary directory, since admitting someone reads the room's history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "fakes.h"
#include "handlers.h"
#include "log.h"
#include "room_int.h"
#include "rooms.h"

static char dir[64];
static mu_server srv;
static uv_loop_t loop;
static mu_conn *fac, *riley1, *riley2, *sam;

static uint64_t loop_ms(void)
{
    return uv_now(&loop);
}

static int setup(void **st)
{
    snprintf(dir, sizeof(dir), "/tmp/mutual-rooms-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char db[128], err[256];
    snprintf(db, sizeof(db), "%s/t.db", dir);
    log_set_level(LOG_ERROR);
    memset(&srv, 0, sizeof(srv));
    config_defaults(&srv.cfg);
    assert_int_equal(uv_loop_init(&loop), 0);
    srv.loop = &loop;
    srv.store = store_open(&loop, &(mu_store_opts){.path = db, .batch_max = 16}, err, sizeof(err));
    assert_non_null(srv.store);
    g_srv = &srv;
    conn_init(&(conn_limits){.send_queue = 1 << 20, .mono_us = fake_mono_us});
    dispatch_init(&(dispatch_config){
        handlers_table, rooms_leave_all, loop_ms, 100, 100, {4000, 2000}, false, NULL});
    assert_int_equal(rooms_init(&srv), 0);
    fac = fake_user(1, "ana", ROLE_MENTOR);
    riley1 = fake_user(2, "riley", ROLE_MEMBER);
    riley2 = fake_user(2, "riley", ROLE_MEMBER);
    sam = fake_user(3, "sam", ROLE_MEMBER);
    mu_conn *all[] = {fac, riley1, riley2, sam};
    for (int i = 0; i < 4; i++)
        dispatch_conn_open(all[i]);
    return 0;
}

static int teardown(void **st)
{
    mu_conn *all[] = {fac, riley1, riley2, sam};
    for (int i = 0; i < 4; i++)
        dispatch_conn_gone(all[i]);
    dispatch_run_pending();
    rooms_shutdown();
    store_close(srv.store);
    uv_run(&loop, UV_RUN_DEFAULT); /* closed handles finish */
    assert_int_equal(uv_loop_close(&loop), 0);
    clock_reset();
    dispatch_shutdown();
    conn_shutdown();
    config_free(&srv.cfg);
    fake_cleanup();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static room *mk(const char *slug)
{
    room_def d = {.slug = slug,
                  .name = "Tuesday SMART",
                  .audience = "open",
                  .format = "SMART",
                  .capacity = 100,
                  .is_open = true,
                  .next_seq = 1};
    return rooms_add(&d);
}

static member *join(room *r, mu_conn *c)
{
    return room_join_conn(r, c, c->user_id, c->handle, c->role);
}

/* Every connection's queue emptied, so that each test reads only what it causes. */
static void drain(void)
{
    mu_conn *all[] = {fac, riley1, riley2, sam};
    for (int i = 0; i < 4; i++)
        fake_take(all[i]);
}

static void test_join_and_presence(void **st)
{
    room *r = mk("tue");
    join(r, fac);
    join(r, riley1);
    assert_string_equal(fake_take(fac), "room.presence");
    assert_string_equal(fake_take(riley1), ""); /* the joiner is not told of itself */
    /* A second connection of the same user joins the same member, silently. */
    join(r, riley2);
    assert_string_equal(fake_take(fac), "");
    assert_int_equal(r->members.n, 2);
    assert_int_equal(room_member(r, 2)->nconns, 2);
    /* The user leaves only when the last of their connections does. */
    room_leave_conn(r, riley1);
    assert_string_equal(fake_take(fac), "");
    assert_int_equal(riley1->nrooms, 0);
    room_leave_conn(r, riley2);
    assert_string_equal(fake_take(fac), "room.presence");
    const msgpack_object *state = mu_map_get(fake_msg(0), "state");
    assert_true(mu_obj_str_eq(state, "left"));
    assert_null(room_member(r, 2));
}

static void test_lobby(void **st)
{
    room *r = mk("tue");
    r->lobby = true;
    join(r, fac);
    assert_true(room_wait_conn(r, riley1));  /* knocks */
    assert_false(room_wait_conn(r, riley2)); /* the same user: no second knock */
    assert_true(room_wait_conn(r, sam));
    assert_int_equal(r->waiting.n, 2);
    assert_int_equal(r->members.n, 1);

    room_turn_away(r, room_waiter(r, 3));
    assert_string_equal(fake_take(sam), "room.denied");
    assert_int_equal(sam->nrooms, 0);
    assert_null(room_waiter(r, 3));

    room_admit(r, room_waiter(r, 2));
    assert_string_equal(fake_take(riley1), "room.admitted");
    const msgpack_object *members = mu_map_get(fake_msg(0), "members");
    assert_int_equal(members->via.array.size, 2);
    assert_non_null(mu_map_get(fake_msg(0), "history"));
    assert_string_equal(fake_take(riley2), "room.admitted");
    assert_string_equal(fake_take(fac), "room.presence");
    assert_int_equal(r->waiting.n, 0);
    assert_int_equal(room_member(r, 2)->nconns, 2);
}

static void test_hands_and_floor(void **st)
{
    room *r = mk("tue");
    join(r, fac);
    join(r, riley1);
    join(r, sam);
    drain();
    assert_true(room_set_hand(r, 2, true));
    assert_false(room_set_hand(r, 2, true)); /* raising a raised hand changes nothing */
    assert_true(room_set_hand(r, 3, true));
    assert_int_equal(r->hands.n, 2);
    assert_int_equal(r->hands.v[0], 2); /* a queue in raise order */

    /* Giving riley the floor lowers riley's hand. */
    room_give_floor(r, room_member(r, 2), 0);
    assert_int_equal(r->floor_user, 2);
    assert_string_equal(r->floor_handle, "riley");
    assert_int_equal(r->hands.n, 1);
    assert_int_equal(r->hands.v[0], 3);

    /* The floor holder leaving returns the floor to nobody, and everyone hears of it. */
    room_leave_conn(r, riley1);
    assert_int_equal(r->floor_user, 0);
    assert_string_equal(fake_take(fac), "room.presence room.state");

    /* A timed share ends when its time is up, by the (test) clock. */
    drain();
    room_give_floor(r, room_member(r, 3), 60);
    assert_true(r->floor_ends > 0);
    clock_advance(30000);
    assert_int_equal(r->floor_user, 3);
    clock_advance(31000);
    assert_int_equal(r->floor_user, 0);
    assert_string_equal(fake_take(sam), "room.state");
    assert_true(mu_map_get(fake_msg(0), "floor")->type == MSGPACK_OBJECT_NIL);
}

static bool ticked;
static uv_timer_t tick; /* static: its close finishes in the teardown's loop run */
static void on_tick(uv_timer_t *t)
{
    (void)t;
    ticked = true;
}

static void test_timed_share_ends_by_its_timer(void **st)
{
    room *r = mk("tue");
    join(r, fac);
    join(r, sam);
    drain();
    room_give_floor(r, room_member(r, 3), 1);
    /* The share's timer must not hold the loop open at shutdown. */
    assert_non_null(r->floor_timer);
    assert_false(uv_has_ref((uv_handle_t *)r->floor_timer));
    /* Real time passes, nobody speaks and the clock is not moved: the timer ends the share. */
    uv_timer_init(&loop, &tick);
    ticked = false;
    uv_update_time(&loop); /* the loop has not run since the setup: its time is behind */
    uv_timer_start(&tick, on_tick, 1500, 0);
    while (!ticked)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    assert_int_equal(r->floor_user, 0);
    assert_string_equal(fake_take(sam), "room.state");
    assert_true(mu_map_get(fake_msg(0), "floor")->type == MSGPACK_OBJECT_NIL);
    assert_string_equal(fake_take(fac), "room.state");
}

static void test_end_of_meeting(void **st)
{
    room *r = mk("tue");
    join(r, fac);
    join(r, riley1);
    r->lobby = r->locked = r->floor_mode = true;
    room_wait_conn(r, sam);
    ids_add(&r->mutes, 2);
    room_set_hand(r, 2, true);
    drain();

    room_end_meeting(r);
    assert_false(r->is_open || r->lobby || r->locked || r->floor_mode);
    assert_int_equal(r->mutes.n, 0);
    assert_int_equal(r->hands.n, 0);
    /* Facilitators stay; everyone else is out; whoever waited is turned away. */
    assert_non_null(room_member(r, 1));
    assert_null(room_member(r, 2));
    assert_string_equal(fake_take(riley1), "room.closed");
    assert_string_equal(fake_take(sam), "room.denied");
    assert_string_equal(fake_take(fac), "room.presence room.state");
    assert_int_equal(riley1->nrooms, 0);
    assert_int_equal(sam->nrooms, 0);
}

static void test_delete(void **st)
{
    room *r = mk("tue");
    r->lobby = true;
    join(r, fac);
    room_wait_conn(r, sam);
    drain();
    rooms_delete(r);
    assert_null(rooms_find("tue", 3));
    assert_string_equal(fake_take(fac), "room.closed");
    assert_string_equal(fake_take(sam), "room.denied");
    assert_int_equal(fac->nrooms, 0);
    assert_int_equal(sam->nrooms, 0);
}

static void test_a_connection_leaves_everything(void **st)
{
    room *a = mk("tue"), *b = mk("wed");
    b->lobby = true;
    join(a, fac);
    join(a, riley1);
    room_wait_conn(b, riley1);
    assert_int_equal(riley1->nrooms, 2);
    drain();
    conn_ref(riley1);           /* kept to look at after its socket's reference goes */
    dispatch_conn_gone(riley1); /* the socket closed: the hook leaves every room */
    assert_int_equal(riley1->nrooms, 0);
    conn_unref(riley1);
    assert_null(room_member(a, 2));
    assert_null(room_waiter(b, 2));
    assert_string_equal(fake_take(fac), "room.presence");
    riley1 = fake_user(2, "riley", ROLE_MEMBER); /* for the teardown */
}

static void test_join_through_its_handler(void **st)
{
    room *r = mk("tue");
    assert_string_equal(fake_call(fac, "room.join", "room=tue"), "ok");
    assert_int_equal(mu_map_get(fake_msg(0), "members")->via.array.size, 1);
    r->lobby = true;
    assert_string_equal(fake_call(riley1, "room.join", "room=tue"), "ok");
    assert_true(mu_map_get(fake_msg(0), "waiting")->via.boolean);
    assert_string_equal(fake_take(fac), "room.knock");
    r->locked = true;
    assert_string_equal(fake_call(sam, "room.join", "room=tue"), "forbidden");
    assert_string_equal(fake_call(sam, "room.join", "room=nope"), "not_found");
    /* Only a connection that is in the room, or waits at it, may leave it. */
    assert_string_equal(fake_call(riley2, "room.leave", "room=tue"), "conflict");
    assert_string_equal(fake_call(riley1, "room.leave", "room=tue"), "ok");
    assert_int_equal(r->waiting.n, 0);
    r->is_open = false;
    r->locked = r->lobby = false;
    assert_string_equal(fake_call(sam, "room.join", "room=tue"), "conflict"); /* not open */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_join_and_presence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lobby, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hands_and_floor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timed_share_ends_by_its_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_of_meeting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_connection_leaves_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_through_its_handler, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
