/* Administration ops. */
#include "clock.h"
#include "handlers.h"
#include "log.h"

void admin_test_clock(mu_conn *c, mu_request *r)
{
    if (c->role != ROLE_ADMIN) {
        conn_reply_err(c, MU_E_FORBIDDEN, "Only an admin may move the test clock.");
        return;
    }
    uint64_t secs = mu_req_field(r, "advance")->v.u;
    log_info("test clock moved forward %llu s by %s", (unsigned long long)secs, c->handle);
    clock_advance((int64_t)secs * 1000);
    mu_enc e;
    conn_reply_begin(c, &e, 1);
    mu_enc_kint(&e, "ts", clock_now_ms());
    conn_reply(c, &e);
}
