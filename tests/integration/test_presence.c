/* Who is present in a room, as the list of rooms shows it (protocol/README.md: the room
 * object's `here`): handles of the users in, never of those waiting in the lobby, and only to
 * people whose role the room's audience admits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static void rcall(world *w, mu_client *c, const char *op, const char *room)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "room", room);
    call_expect(w->y, c, r, "ok");
}

/* The room's `here` from rooms.list on c, as "a,b,c" ("" when nobody; "-" when the room is
 * not in the list). */
static void here_of(world *w, mu_client *c, const char *room, char *out, size_t cap)
{
    mu_msg *m = cl_call(w->y, c, mu_req_new("rooms.list"));
    expect_ok(m);
    snprintf(out, cap, "-");
    const mu_value *rooms = mu_msg_get(m, "rooms");
    for (size_t i = 0; i < mu_value_len(rooms); i++) {
        const mu_value *r = mu_value_at(rooms, i);
        if (strcmp(mu_value_get_str(r, "room"), room) != 0)
            continue;
        const mu_value *here = mu_value_get(r, "here");
        assert_int_equal(mu_value_type(here), MU_V_ARRAY);
        assert_int_equal(mu_value_len(here), mu_value_get_int(r, "present", -1));
        out[0] = 0;
        for (size_t j = 0; j < mu_value_len(here); j++)
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", j ? "," : "",
                     mu_value_str(mu_value_at(here, j)));
    }
    mu_msg_free(m);
}

static void test_here_names_who_is_in(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 0, "mona", "anna");
    mu_client *ben = world_newcomer(&w, "ben", NULL);
    mu_client *cara = world_newcomer(&w, "cara", "family");
    char here[256];
    mu_req *r = mu_req_new("room.create");
    mu_req_str(r, "room", "tuesday");
    mu_req_str(r, "name", "Tuesday group");
    mu_req_str(r, "audience", "recovery");
    call_expect(w.y, w.mentor, r, "ok");
    here_of(&w, w.mem, "tuesday", here, sizeof(here));
    assert_string_equal(here, "");
    rcall(&w, w.mentor, "room.open", "tuesday");
    rcall(&w, w.mentor, "room.join", "tuesday");
    rcall(&w, w.mem, "room.join", "tuesday");
    here_of(&w, ben, "tuesday", here, sizeof(here));
    assert_string_equal(here, "mona,anna");
    /* a carer's role is not in this room's audience: no room, so no names */
    here_of(&w, cara, "tuesday", here, sizeof(here));
    assert_string_equal(here, "-");
    /* someone waiting in the lobby is not present */
    r = mu_req_new("room.lobby");
    mu_req_str(r, "room", "tuesday");
    mu_req_bool(r, "on", true);
    call_expect(w.y, w.mentor, r, "ok");
    r = mu_req_new("room.join");
    mu_req_str(r, "room", "tuesday");
    mu_msg *m = cl_call(w.y, ben, r);
    expect_ok(m);
    bool waiting = false;
    assert_true(mu_value_bool(mu_msg_get(m, "waiting"), &waiting) && waiting);
    mu_msg_free(m);
    here_of(&w, w.mem, "tuesday", here, sizeof(here));
    assert_string_equal(here, "mona,anna");
    /* leaving takes the name away */
    rcall(&w, w.mem, "room.leave", "tuesday");
    here_of(&w, ben, "tuesday", here, sizeof(here));
    assert_string_equal(here, "mona");
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_here_names_who_is_in)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
