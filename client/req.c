/* Building requests: fields are packed as they are added and framed with op and rid when the
 * request is sent. */
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

mu_req *mu_req_new(const char *op)
{
    mu_req *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->op = strdup(op);
    if (!r->op)
        abort();
    msgpack_sbuffer_init(&r->fields);
    msgpack_packer_init(&r->pk, &r->fields, msgpack_sbuffer_write);
    return r;
}

void mu_req_free(mu_req *r)
{
    if (!r)
        return;
    msgpack_sbuffer_destroy(&r->fields);
    free(r->op);
    free(r);
}

static void key(mu_req *r, const char *k)
{
    size_t n = strlen(k);
    msgpack_pack_str(&r->pk, n);
    msgpack_pack_str_body(&r->pk, k, n);
    r->nfields++;
}

void mu_req_strn(mu_req *r, const char *k, const char *v, size_t n)
{
    key(r, k);
    msgpack_pack_str(&r->pk, n);
    msgpack_pack_str_body(&r->pk, v, n);
}

void mu_req_str(mu_req *r, const char *k, const char *v)
{
    if (!v) {
        mu_req_nil(r, k);
        return;
    }
    mu_req_strn(r, k, v, strlen(v));
}

void mu_req_int(mu_req *r, const char *k, int64_t v)
{
    key(r, k);
    msgpack_pack_int64(&r->pk, v);
}

void mu_req_uint(mu_req *r, const char *k, uint64_t v)
{
    key(r, k);
    msgpack_pack_uint64(&r->pk, v);
}

void mu_req_bool(mu_req *r, const char *k, bool v)
{
    key(r, k);
    if (v)
        msgpack_pack_true(&r->pk);
    else
        msgpack_pack_false(&r->pk);
}

void mu_req_nil(mu_req *r, const char *k)
{
    key(r, k);
    msgpack_pack_nil(&r->pk);
}

void mu_req_ints(mu_req *r, const char *k, const int64_t *v, size_t n)
{
    key(r, k);
    msgpack_pack_array(&r->pk, n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_int64(&r->pk, v[i]);
}

void mu_req_strs(mu_req *r, const char *k, const char *const *v, size_t n)
{
    key(r, k);
    msgpack_pack_array(&r->pk, n);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        msgpack_pack_str(&r->pk, l);
        msgpack_pack_str_body(&r->pk, v[i], l);
    }
}

void mu_req_raw(mu_req *r, const char *k, const void *bytes, size_t len)
{
    key(r, k);
    msgpack_sbuffer_write(&r->fields, bytes, len);
}

char *req_encode(const mu_req *r, uint64_t rid, size_t reserve, size_t *len)
{
    mu_enc e;
    mu_enc_init(&e, 0);
    mu_enc_request(&e, r->op, rid, r->nfields);
    msgpack_sbuffer_write(&e.sb, r->fields.data, r->fields.size);
    size_t n;
    const char *p = mu_enc_payload(&e, &n);
    char *out = malloc(reserve + n);
    if (!out)
        abort();
    memcpy(out + reserve, p, n);
    mu_enc_free(&e);
    *len = n;
    return out;
}
