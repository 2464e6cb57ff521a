/* The handler table against the op list: every request op of protocol/ops.def is served, and
 * nothing is registered for an event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "handlers.h"

static void test_every_request_op_has_a_handler(void **st)
{
    int missing = 0, requests = 0;
    for (int i = 0; i < MU_OP__COUNT; i++) {
        const mu_op *op = mu_op_by_id((mu_op_id)i);
        if (op->flags & MU_OPF_EVENT) {
            if (handlers_table[i]) {
                fprintf(stderr, "the event %s has a handler\n", op->name);
                missing++;
            }
            continue;
        }
        requests++;
        if (!handlers_table[i]) {
            fprintf(stderr, "the op %s has no handler\n", op->name);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    assert_true(requests > 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_request_op_has_a_handler)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
