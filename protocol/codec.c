/* Decoding and validation of requests, driven by the op table; encoding helpers. */
#include "proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mu_error_set(mu_error *e, mu_code code, const char *fmt, ...)
{
    va_list ap;
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

void mu_request_init(mu_request *r)
{
    memset(r, 0, sizeof(*r));
}

void mu_request_free(mu_request *r)
{
    if (r->up_live)
        msgpack_unpacked_destroy(&r->up);
    r->up_live = false;
}

const msgpack_object *mu_map_get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
            memcmp(k->via.str.ptr, key, kl) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

bool mu_obj_str_eq(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

mu_parse_result mu_request_parse(mu_request *r, const void *buf, size_t len, mu_error *err)
{
    size_t off = 0;
    mu_request_free(r);
    mu_request_init(r);
    msgpack_unpacked_init(&r->up);
    r->up_live = true;

    msgpack_unpack_return ret = mu_msgpack_bounded(buf, len)
                                    ? msgpack_unpack_next(&r->up, buf, len, &off)
                                    : MSGPACK_UNPACK_PARSE_ERROR;
    if (ret != MSGPACK_UNPACK_SUCCESS) {
        mu_error_set(err, MU_E_BAD_REQUEST, "The frame is not valid MessagePack.");
        return MU_PARSE_MALFORMED;
    }
    const msgpack_object *root = &r->up.data;
    if (root->type != MSGPACK_OBJECT_MAP) {
        mu_error_set(err, MU_E_BAD_REQUEST, "A frame must hold one MessagePack map.");
        return MU_PARSE_MALFORMED;
    }
    /* The rid is read before anything else can fail so that the reply can carry it. */
    const msgpack_object *rid = mu_map_get(root, "rid");
    if (rid && rid->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        r->rid = rid->via.u64;
        r->has_rid = true;
    }
    if (off != len) {
        mu_error_set(err, MU_E_BAD_REQUEST, "The frame has bytes after its map.");
        return MU_PARSE_MALFORMED;
    }
    const msgpack_object *op = mu_map_get(root, "op");
    if (!op || op->type != MSGPACK_OBJECT_STR) {
        mu_error_set(err, MU_E_BAD_REQUEST, "A request needs a string op.");
        return MU_PARSE_MALFORMED;
    }
    if (!r->has_rid) {
        mu_error_set(err, MU_E_BAD_REQUEST, "A request needs an unsigned integer rid.");
        return MU_PARSE_MALFORMED;
    }
    r->op_name = op->via.str.ptr;
    r->op_len = op->via.str.size;
    r->op = mu_op_by_name(r->op_name, r->op_len);
    if (!r->op) {
        mu_error_set(err, MU_E_UNKNOWN_OP, "This server does not know that op.");
        return MU_PARSE_UNKNOWN;
    }
    return MU_PARSE_OK;
}

static int64_t field_max(const mu_field *f, const mu_limits *lim)
{
    switch (f->max_src) {
    case MU_LIM_TEXT: return lim->max_text;
    case MU_LIM_NOTE: return lim->max_note;
    default: return f->max;
    }
}

static bool enum_has(const char *const *vals, const char *s, size_t n)
{
    for (; *vals; vals++)
        if (strlen(*vals) == n && memcmp(*vals, s, n) == 0)
            return true;
    return false;
}

static void enum_list(const char *const *vals, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (; *vals && used < cap; vals++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", *vals);
}

/* Checks one scalar against a type and bounds. `what` names it in the error sentence. */
static mu_code check_scalar(const msgpack_object *o, mu_type t, int64_t lo, int64_t hi,
                            bool too_large, const char *const *values, const char *what,
                            mu_val *out, mu_error *err)
{
    switch (t) {
    case MU_T_STR:
    case MU_T_ENUM:
    case MU_T_SLUG:
    case MU_T_DATE:
    case MU_T_HANDLE: {
        if (o->type != MSGPACK_OBJECT_STR) {
            mu_error_set(err, MU_E_BAD_REQUEST, "%s must be a string.", what);
            return MU_E_BAD_REQUEST;
        }
        const char *p = o->via.str.ptr;
        uint32_t n = o->via.str.size;
        if (!mu_utf8_valid(p, n)) {
            mu_error_set(err, MU_E_BAD_REQUEST, "%s is not valid UTF-8.", what);
            return MU_E_BAD_REQUEST;
        }
        /* No text anyone types holds U+0000, and PostgreSQL cannot store it. */
        if (n && memchr(p, 0, n)) {
            mu_error_set(err, MU_E_BAD_REQUEST, "%s must not contain the character U+0000.", what);
            return MU_E_BAD_REQUEST;
        }
        if (t == MU_T_STR) {
            if ((int64_t)n < lo) {
                mu_error_set(err, MU_E_BAD_REQUEST, "%s must be at least %lld bytes.", what,
                             (long long)lo);
                return MU_E_BAD_REQUEST;
            }
            if ((int64_t)n > hi) {
                mu_code c = too_large ? MU_E_TOO_LARGE : MU_E_BAD_REQUEST;
                mu_error_set(err, c, "%s is over its limit of %lld bytes.", what, (long long)hi);
                return c;
            }
        } else if (t == MU_T_ENUM) {
            if (!enum_has(values, p, n)) {
                char list[120];
                enum_list(values, list, sizeof(list));
                mu_error_set(err, MU_E_BAD_REQUEST, "%s must be one of %s.", what, list);
                return MU_E_BAD_REQUEST;
            }
        } else if (t == MU_T_SLUG) {
            if (!mu_slug_valid(p, n)) {
                mu_error_set(err, MU_E_BAD_REQUEST,
                             "%s must be 1 to 32 characters of a-z, 0-9 and '-'.", what);
                return MU_E_BAD_REQUEST;
            }
        } else if (t == MU_T_DATE) {
            if (!mu_date_parse(p, n, NULL)) {
                mu_error_set(err, MU_E_BAD_REQUEST, "%s must be a date as YYYY-MM-DD.", what);
                return MU_E_BAD_REQUEST;
            }
        } else {
            if (!mu_handle_fold(p, n, out ? out->v.h : (char[MU_HANDLE_MAX + 1]){0})) {
                mu_error_set(err, MU_E_BAD_REQUEST,
                             "%s must be 3 to 32 characters of a-z, 0-9, '_', '.' and '-'.", what);
                return MU_E_BAD_REQUEST;
            }
            return MU_OK;
        }
        if (out) {
            out->v.s.p = p;
            out->v.s.n = n;
        }
        return MU_OK;
    }
    case MU_T_UINT:
    case MU_T_INT: {
        int64_t v;
        if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            if (o->via.u64 > (uint64_t)INT64_MAX) {
                if (t == MU_T_UINT && hi == INT64_MAX && out) {
                    /* Ids and sequence bounds: any unsigned value is a valid "no bound". */
                    out->v.u = o->via.u64;
                    return MU_OK;
                }
                mu_error_set(err, MU_E_BAD_REQUEST, "%s is out of range.", what);
                return MU_E_BAD_REQUEST;
            }
            v = (int64_t)o->via.u64;
        } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
            v = o->via.i64;
        } else {
            mu_error_set(err, MU_E_BAD_REQUEST, "%s must be an integer.", what);
            return MU_E_BAD_REQUEST;
        }
        if (v < lo || v > hi) {
            mu_error_set(err, MU_E_BAD_REQUEST, "%s must be from %lld to %lld.", what,
                         (long long)lo, (long long)hi);
            return MU_E_BAD_REQUEST;
        }
        if (out) {
            if (t == MU_T_UINT)
                out->v.u = (uint64_t)v;
            else
                out->v.i = v;
        }
        return MU_OK;
    }
    case MU_T_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN) {
            mu_error_set(err, MU_E_BAD_REQUEST, "%s must be true or false.", what);
            return MU_E_BAD_REQUEST;
        }
        if (out)
            out->v.b = o->via.boolean;
        return MU_OK;
    case MU_T_ANY:
        if (out)
            out->v.o = o;
        return MU_OK;
    case MU_T_ARRAY: break;
    }
    mu_error_set(err, MU_E_INTERNAL, "%s has a type the table does not support.", what);
    return MU_E_INTERNAL;
}

mu_code mu_request_validate(mu_request *r, const mu_limits *lim, mu_error *err)
{
    const msgpack_object *root = &r->up.data;
    for (unsigned i = 0; i < r->op->nfields; i++) {
        const mu_field *f = &r->op->fields[i];
        mu_val *out = &r->f[i];
        const msgpack_object *o = mu_map_get(root, f->name);
        out->present = false;
        if (!o || o->type == MSGPACK_OBJECT_NIL) {
            if (f->required) {
                mu_error_set(err, MU_E_BAD_REQUEST, "%s is required.", f->name);
                return MU_E_BAD_REQUEST;
            }
            continue;
        }
        mu_code c;
        if (f->type == MU_T_ARRAY) {
            if (o->type != MSGPACK_OBJECT_ARRAY) {
                mu_error_set(err, MU_E_BAD_REQUEST, "%s must be a list.", f->name);
                return MU_E_BAD_REQUEST;
            }
            uint32_t n = o->via.array.size;
            if ((int64_t)n < f->min || (int64_t)n > f->max) {
                if (f->min == f->max)
                    mu_error_set(err, MU_E_BAD_REQUEST, "%s must have exactly %lld items.", f->name,
                                 (long long)f->min);
                else
                    mu_error_set(err, MU_E_BAD_REQUEST, "%s must have %lld to %lld items.", f->name,
                                 (long long)f->min, (long long)f->max);
                return MU_E_BAD_REQUEST;
            }
            for (uint32_t k = 0; k < n; k++) {
                char what[64];
                snprintf(what, sizeof(what), "%s item %u", f->name, k + 1);
                c = check_scalar(&o->via.array.ptr[k], f->elem, f->emin, f->emax, false, f->values,
                                 what, NULL, err);
                if (c != MU_OK)
                    return c;
            }
            out->v.o = o;
        } else {
            c = check_scalar(o, f->type, f->min, field_max(f, lim), f->too_large, f->values,
                             f->name, out, err);
            if (c != MU_OK)
                return c;
        }
        out->present = true;
    }
    return MU_OK;
}

const mu_val *mu_req_field(const mu_request *r, const char *name)
{
    int i = mu_op_field(r->op, name);
    if (i < 0)
        abort(); /* a handler asked for a field its op does not have: a bug caught in tests */
    return &r->f[i];
}

bool mu_req_has(const mu_request *r, const char *name)
{
    return mu_req_field(r, name)->present;
}

/* ---- encoding -------------------------------------------------------------------------- */

/* msgpack-c's own writer reports a failed allocation by a return value that its packers
 * ignore: the message would go out with a part missing. */
static int enc_write(void *data, const char *buf, size_t len)
{
    if (msgpack_sbuffer_write(data, buf, len) != 0) {
        fprintf(stderr, "mutual: out of memory while encoding a message (%zu bytes)\n", len);
        abort();
    }
    return 0;
}

void mu_enc_init(mu_enc *e, size_t reserve)
{
    static const char zeros[16];
    msgpack_sbuffer_init(&e->sb);
    msgpack_packer_init(&e->pk, &e->sb, enc_write);
    e->reserve = reserve;
    if (reserve)
        enc_write(&e->sb, zeros, reserve);
}

void mu_enc_free(mu_enc *e)
{
    msgpack_sbuffer_destroy(&e->sb);
}

char *mu_enc_release(mu_enc *e, size_t *len)
{
    *len = e->sb.size;
    return msgpack_sbuffer_release(&e->sb);
}

const char *mu_enc_payload(const mu_enc *e, size_t *len)
{
    if (!e->sb.data) {
        *len = 0;
        return ""; /* nothing written yet: no buffer to point into */
    }
    *len = e->sb.size - e->reserve;
    return e->sb.data + e->reserve;
}

void mu_enc_map(mu_enc *e, uint32_t n)
{
    msgpack_pack_map(&e->pk, n);
}
void mu_enc_array(mu_enc *e, uint32_t n)
{
    msgpack_pack_array(&e->pk, n);
}
void mu_enc_strn(mu_enc *e, const char *s, size_t n)
{
    msgpack_pack_str(&e->pk, n);
    msgpack_pack_str_body(&e->pk, s, n);
}
void mu_enc_str(mu_enc *e, const char *s)
{
    if (s)
        mu_enc_strn(e, s, strlen(s));
    else
        msgpack_pack_nil(&e->pk);
}
void mu_enc_uint(mu_enc *e, uint64_t v)
{
    msgpack_pack_uint64(&e->pk, v);
}
void mu_enc_int(mu_enc *e, int64_t v)
{
    msgpack_pack_int64(&e->pk, v);
}
void mu_enc_bool(mu_enc *e, bool v)
{
    if (v)
        msgpack_pack_true(&e->pk);
    else
        msgpack_pack_false(&e->pk);
}
void mu_enc_nil(mu_enc *e)
{
    msgpack_pack_nil(&e->pk);
}
void mu_enc_double(mu_enc *e, double v)
{
    msgpack_pack_double(&e->pk, v);
}
void mu_enc_obj(mu_enc *e, const msgpack_object *o)
{
    msgpack_pack_object(&e->pk, *o);
}
void mu_enc_raw(mu_enc *e, const void *p, size_t n)
{
    enc_write(&e->sb, p, n);
}
void mu_enc_key(mu_enc *e, const char *k)
{
    mu_enc_str(e, k);
}
void mu_enc_append(mu_enc *e, mu_enc *part)
{
    size_t len;
    const char *p = mu_enc_payload(part, &len);
    if (len)
        enc_write(&e->sb, p, len);
    mu_enc_free(part);
}
void mu_enc_kstr(mu_enc *e, const char *k, const char *v)
{
    mu_enc_str(e, k);
    mu_enc_str(e, v);
}
void mu_enc_kstrn(mu_enc *e, const char *k, const char *v, size_t n)
{
    mu_enc_str(e, k);
    mu_enc_strn(e, v, n);
}
void mu_enc_kuint(mu_enc *e, const char *k, uint64_t v)
{
    mu_enc_str(e, k);
    mu_enc_uint(e, v);
}
void mu_enc_kint(mu_enc *e, const char *k, int64_t v)
{
    mu_enc_str(e, k);
    mu_enc_int(e, v);
}
void mu_enc_kbool(mu_enc *e, const char *k, bool v)
{
    mu_enc_str(e, k);
    mu_enc_bool(e, v);
}
void mu_enc_knil(mu_enc *e, const char *k)
{
    mu_enc_str(e, k);
    mu_enc_nil(e);
}

void mu_enc_reply_ok(mu_enc *e, uint64_t rid, uint32_t nfields)
{
    mu_enc_map(e, nfields + 3);
    mu_enc_kstr(e, "op", "reply");
    mu_enc_kuint(e, "rid", rid);
    mu_enc_kbool(e, "ok", true);
}

void mu_enc_reply_err(mu_enc *e, bool has_rid, uint64_t rid, mu_code code, const char *msg)
{
    mu_enc_map(e, has_rid ? 5 : 4);
    mu_enc_kstr(e, "op", "reply");
    if (has_rid)
        mu_enc_kuint(e, "rid", rid);
    mu_enc_kbool(e, "ok", false);
    mu_enc_kstr(e, "code", mu_code_name(code));
    mu_enc_kstr(e, "msg", msg);
}

void mu_enc_event(mu_enc *e, mu_op_id ev, uint32_t nfields)
{
    mu_enc_map(e, nfields + 1);
    mu_enc_kstr(e, "op", mu_op_by_id(ev)->name);
}

void mu_enc_request(mu_enc *e, const char *op, uint64_t rid, uint32_t nfields)
{
    mu_enc_map(e, nfields + 2);
    mu_enc_kstr(e, "op", op);
    mu_enc_kuint(e, "rid", rid);
}
