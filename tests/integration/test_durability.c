/* What was acknowledged survives: kill -9 in the middle of a burst of registrations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

#define PW "durable password"
#define CONNS 8
#define WANT_ACKED 40

typedef struct {
    mu_client *c;
    int conn, next;
    char inflight[40];
} chain;

static char acked[1024][40];
static int nacked, nfailed;

static void send_next(chain *ch);

static void on_reply(mu_client *c, const mu_msg *reply, void *ud)
{
    chain *ch = ud;
    if (!reply)
        return;
    if (mu_msg_ok(reply)) {
        snprintf(acked[nacked++], sizeof(acked[0]), "%s", ch->inflight);
    } else {
        nfailed++;
    }
    /* a signed-in connection cannot register again: sign out, then the next one */
    mu_client_send(c, mu_req_new("logout"), NULL, NULL);
    send_next(ch);
}

static void send_next(chain *ch)
{
    if (nacked + 16 >= (int)(sizeof(acked) / sizeof(acked[0])))
        return;
    snprintf(ch->inflight, sizeof(ch->inflight), "burst%d-%d", ch->conn, ch->next++);
    mu_req *r = mu_req_new("register");
    mu_req_str(r, "handle", ch->inflight);
    mu_req_str(r, "password", PW);
    mu_client_send(ch->c, r, on_reply, ch);
}

static void test_kill9_keeps_acknowledged(void **st)
{
    srv_t s;
    srv_start(&s, NULL, 0);
    mu_sync *y = mu_sync_new();
    chain chains[CONNS];
    for (int i = 0; i < CONNS; i++) {
        chains[i] = (chain){.c = cl_connect(y, &s), .conn = i};
        send_next(&chains[i]);
    }
    double t0 = mono_ms();
    while (nacked < WANT_ACKED && mono_ms() - t0 < 60000)
        mu_sync_run(y, 1);
    /* registrations are still in flight on every connection when the server dies */
    srv_kill9(&s);
    int acknowledged = nacked;
    assert_true(acknowledged >= WANT_ACKED);
    assert_int_equal(nfailed, 0);
    mu_sync_free(y);

    /* the database opens cleanly */
    srv_integrity_ok(&s);

    /* and every account that got a success reply can log in */
    srv_restart(&s);
    y = mu_sync_new();
    mu_client *c = cl_connect(y, &s);
    for (int i = 0; i < acknowledged; i++) {
        free(cl_login(y, c, acked[i], PW));
        call_expect(y, c, mu_req_new("logout"), "ok");
    }
    printf("# %d acknowledged registrations, all present after kill -9\n", acknowledged);
    mu_sync_free(y);
    srv_stop(&s);
    srv_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9_keeps_acknowledged)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
