/* Fuzz target: the client library's decoding of what a server sends. A message is decoded
 * (or refused as a whole), then read the way applications read replies and events: the
 * envelope accessors, every value reached by walking the tree, and its JSON rendering. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mutual/client.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static size_t walk(const mu_value *v, int depth)
{
    size_t seen = 1;
    int64_t i;
    bool b;
    switch (mu_value_type(v)) {
    case MU_V_STR: {
        const char *s = mu_value_str(v);
        if (!s)
            abort();
        seen += strlen(s);
        break;
    }
    case MU_V_INT:
        (void)mu_value_int(v, &i); /* false for an unsigned value past INT64_MAX */
        break;
    case MU_V_BOOL:
        if (!mu_value_bool(v, &b))
            abort();
        break;
    case MU_V_ARRAY:
        for (size_t k = 0; k < mu_value_len(v); k++)
            seen += walk(mu_value_at(v, k), depth + 1);
        if (mu_value_at(v, mu_value_len(v)))
            abort(); /* past the end is NULL */
        break;
    case MU_V_MAP:
        for (size_t k = 0; k < mu_value_len(v); k++) {
            const mu_value *key = mu_value_key_at(v, k);
            seen += walk(key, depth + 1) + walk(mu_value_val_at(v, k), depth + 1);
            const char *ks = mu_value_str(key);
            (void)mu_value_get(v, ks ? ks : "x");
            mu_value_get_int(v, ks ? ks : "x", 0);
            mu_value_get_str(v, ks ? ks : "x");
        }
        break;
    default: break;
    }
    return seen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mu_msg *m = mu_msg_decode(data, size);
    if (!m)
        return 0;
    const char *op = mu_msg_op(m);
    if (!op)
        abort();
    if (mu_msg_ok(m) && (mu_msg_code(m) || strcmp(op, "reply") != 0))
        abort(); /* only a reply is ok, and an ok reply has no error code */
    (void)mu_msg_text(m);
    (void)mu_msg_get(m, "rid");
    walk(mu_msg_root(m), 0);
    for (int indent = 0; indent <= 2; indent += 2) {
        char *j = mu_value_to_json(mu_msg_root(m), indent);
        if (!j || !*j)
            abort();
        free(j);
    }
    mu_msg_free(m);
    return 0;
}
