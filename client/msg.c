/* Decoded messages and values: read-only views over a MessagePack tree. */
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

/* Re-points every string at a NUL-terminated copy in the message's zone, so that callers get
 * C strings without copying. */
static bool terminate_strings(msgpack_object *o, msgpack_zone *z)
{
    switch (o->type) {
    case MSGPACK_OBJECT_STR: {
        char *p = msgpack_zone_malloc(z, o->via.str.size + 1);
        if (!p)
            return false;
        if (o->via.str.size) /* an empty string may have no pointer at all */
            memcpy(p, o->via.str.ptr, o->via.str.size);
        p[o->via.str.size] = 0;
        o->via.str.ptr = p;
        return true;
    }
    case MSGPACK_OBJECT_ARRAY:
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (!terminate_strings(&o->via.array.ptr[i], z))
                return false;
        return true;
    case MSGPACK_OBJECT_MAP:
        for (uint32_t i = 0; i < o->via.map.size; i++)
            if (!terminate_strings(&o->via.map.ptr[i].key, z) ||
                !terminate_strings(&o->via.map.ptr[i].val, z))
                return false;
        return true;
    default: return true;
    }
}

mu_msg *mu_msg_decode(const void *buf, size_t len)
{
    mu_msg *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    msgpack_unpacked_init(&m->up);
    size_t off = 0;
    /* A server's bytes are checked like a client's: declared sizes must fit the message. */
    if (!mu_msgpack_bounded(buf, len) ||
        msgpack_unpack_next(&m->up, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len ||
        !terminate_strings(&m->up.data, m->up.zone)) {
        mu_msg_free(m);
        return NULL;
    }
    return m;
}

void mu_msg_free(mu_msg *m)
{
    if (!m)
        return;
    msgpack_unpacked_destroy(&m->up);
    free(m);
}

#define OBJ(v) ((const msgpack_object *)(v))
#define VAL(o) ((const mu_value *)(o))

const mu_value *mu_msg_root(const mu_msg *m)
{
    return m ? VAL(&m->up.data) : NULL;
}

const mu_value *mu_msg_get(const mu_msg *m, const char *key)
{
    return mu_value_get(mu_msg_root(m), key);
}

const char *mu_msg_op(const mu_msg *m)
{
    const char *s = mu_value_get_str(mu_msg_root(m), "op");
    return s ? s : "";
}

bool mu_msg_ok(const mu_msg *m)
{
    bool ok = false;
    return m && strcmp(mu_msg_op(m), "reply") == 0 && mu_value_bool(mu_msg_get(m, "ok"), &ok) && ok;
}

const char *mu_msg_code(const mu_msg *m)
{
    return m && !mu_msg_ok(m) ? mu_value_get_str(mu_msg_root(m), "code") : NULL;
}

const char *mu_msg_text(const mu_msg *m)
{
    return m && !mu_msg_ok(m) ? mu_value_get_str(mu_msg_root(m), "msg") : NULL;
}

mu_vtype mu_value_type(const mu_value *v)
{
    if (!v)
        return MU_V_NIL;
    switch (OBJ(v)->type) {
    case MSGPACK_OBJECT_NIL: return MU_V_NIL;
    case MSGPACK_OBJECT_BOOLEAN: return MU_V_BOOL;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return MU_V_INT;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return MU_V_FLOAT;
    case MSGPACK_OBJECT_STR: return MU_V_STR;
    case MSGPACK_OBJECT_BIN: return MU_V_BIN;
    case MSGPACK_OBJECT_ARRAY: return MU_V_ARRAY;
    case MSGPACK_OBJECT_MAP: return MU_V_MAP;
    default: return MU_V_OTHER;
    }
}

const mu_value *mu_value_get(const mu_value *map, const char *key)
{
    return VAL(mu_map_get(OBJ(map), key));
}

const char *mu_value_str(const mu_value *v)
{
    return v && OBJ(v)->type == MSGPACK_OBJECT_STR ? OBJ(v)->via.str.ptr : NULL;
}

bool mu_value_int(const mu_value *v, int64_t *out)
{
    if (!v)
        return false;
    if (OBJ(v)->type == MSGPACK_OBJECT_POSITIVE_INTEGER && OBJ(v)->via.u64 <= INT64_MAX) {
        *out = (int64_t)OBJ(v)->via.u64;
        return true;
    }
    if (OBJ(v)->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = OBJ(v)->via.i64;
        return true;
    }
    return false;
}

bool mu_value_double(const mu_value *v, double *out)
{
    int64_t i;
    if (!v)
        return false;
    if (OBJ(v)->type == MSGPACK_OBJECT_FLOAT32 || OBJ(v)->type == MSGPACK_OBJECT_FLOAT64) {
        *out = OBJ(v)->via.f64;
        return true;
    }
    if (mu_value_int(v, &i)) {
        *out = (double)i;
        return true;
    }
    return false;
}

bool mu_value_bool(const mu_value *v, bool *out)
{
    if (!v || OBJ(v)->type != MSGPACK_OBJECT_BOOLEAN)
        return false;
    *out = OBJ(v)->via.boolean;
    return true;
}

size_t mu_value_len(const mu_value *v)
{
    if (!v)
        return 0;
    if (OBJ(v)->type == MSGPACK_OBJECT_ARRAY)
        return OBJ(v)->via.array.size;
    if (OBJ(v)->type == MSGPACK_OBJECT_MAP)
        return OBJ(v)->via.map.size;
    return 0;
}

const mu_value *mu_value_at(const mu_value *a, size_t i)
{
    if (!a || OBJ(a)->type != MSGPACK_OBJECT_ARRAY || i >= OBJ(a)->via.array.size)
        return NULL;
    return VAL(&OBJ(a)->via.array.ptr[i]);
}

const mu_value *mu_value_key_at(const mu_value *m, size_t i)
{
    if (!m || OBJ(m)->type != MSGPACK_OBJECT_MAP || i >= OBJ(m)->via.map.size)
        return NULL;
    return VAL(&OBJ(m)->via.map.ptr[i].key);
}

const mu_value *mu_value_val_at(const mu_value *m, size_t i)
{
    if (!m || OBJ(m)->type != MSGPACK_OBJECT_MAP || i >= OBJ(m)->via.map.size)
        return NULL;
    return VAL(&OBJ(m)->via.map.ptr[i].val);
}

const char *mu_value_get_str(const mu_value *map, const char *key)
{
    return mu_value_str(mu_value_get(map, key));
}

int64_t mu_value_get_int(const mu_value *map, const char *key, int64_t def)
{
    int64_t v;
    return mu_value_int(mu_value_get(map, key), &v) ? v : def;
}
