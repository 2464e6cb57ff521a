/* Fuzz target: the request decoder and the validator over the op table. Any frame either
 * parses into a request whose validated fields keep their types and bounds, or is refused
 * with a protocol code and a sentence; nothing else may happen (crash, leak, huge allocation,
 * undefined behaviour). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_error(const mu_error *e)
{
    if (e->code == MU_OK || e->code >= MU_E__COUNT || strlen(e->msg) < 5)
        abort();
}

/* Every validated field must be what the table says it is. */
static void check_fields(const mu_request *r, const mu_limits *lim)
{
    for (unsigned i = 0; i < r->op->nfields; i++) {
        const mu_field *f = &r->op->fields[i];
        const mu_val *v = &r->f[i];
        if (!v->present) {
            if (f->required)
                abort();
            continue;
        }
        switch (f->type) {
        case MU_T_STR: {
            int64_t max = f->max_src == MU_LIM_TEXT   ? lim->max_text
                          : f->max_src == MU_LIM_NOTE ? lim->max_note
                                                      : f->max;
            if (v->v.s.n < f->min || v->v.s.n > max || !mu_utf8_valid(v->v.s.p, v->v.s.n))
                abort();
            break;
        }
        case MU_T_HANDLE: {
            char again[MU_HANDLE_MAX + 1];
            if (!mu_handle_fold(v->v.h, strlen(v->v.h), again) || strcmp(again, v->v.h) != 0)
                abort();
            break;
        }
        case MU_T_SLUG:
            if (!mu_slug_valid(v->v.s.p, v->v.s.n))
                abort();
            break;
        case MU_T_DATE:
            if (!mu_date_parse(v->v.s.p, v->v.s.n, NULL))
                abort();
            break;
        case MU_T_INT:
            if (v->v.i < f->min || v->v.i > f->max)
                abort();
            break;
        case MU_T_UINT:
            /* An upper bound of INT64_MAX means "no bound": any unsigned value passes. */
            if (v->v.u < (uint64_t)f->min || (f->max != INT64_MAX && v->v.u > (uint64_t)f->max))
                abort();
            break;
        case MU_T_ENUM: {
            unsigned k = 0;
            while (f->values[k] && (strlen(f->values[k]) != v->v.s.n ||
                                    memcmp(f->values[k], v->v.s.p, v->v.s.n) != 0))
                k++;
            if (!f->values[k])
                abort();
            break;
        }
        case MU_T_ARRAY:
            if (!v->v.o || v->v.o->type != MSGPACK_OBJECT_ARRAY ||
                v->v.o->via.array.size < (uint64_t)f->min ||
                v->v.o->via.array.size > (uint64_t)f->max)
                abort();
            break;
        default: break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes, so that a read past the frame is caught. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    static const mu_limits lims[2] = {{4000, 2000}, {16, 8}};
    for (int k = 0; k < 2; k++) {
        mu_request r;
        mu_error e = {0};
        mu_request_init(&r);
        mu_parse_result pr = mu_request_parse(&r, buf, size, &e);
        if (pr == MU_PARSE_OK) {
            if (!r.op)
                abort();
            mu_code c = mu_request_validate(&r, &lims[k], &e);
            if (c == MU_OK)
                check_fields(&r, &lims[k]);
            else
                check_error(&e);
        } else {
            check_error(&e);
        }
        mu_request_free(&r);
    }
    free(buf);
    return 0;
}
