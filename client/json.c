/* JSON text of a decoded value, for the CLI (export, raw output). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

typedef struct {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->cap + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void put_string(buf *b, const char *s, size_t n)
{
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': puts_(b, "\\\""); break;
        case '\\': puts_(b, "\\\\"); break;
        case '\n': puts_(b, "\\n"); break;
        case '\r': puts_(b, "\\r"); break;
        case '\t': puts_(b, "\\t"); break;
        default:
            if (c < 0x20)
                putf(b, "\\u%04x", c);
            else
                put(b, (const char *)&s[i], 1);
        }
    }
    put(b, "\"", 1);
}

static void newline(buf *b, int indent, int depth)
{
    if (!indent)
        return;
    put(b, "\n", 1);
    for (int i = 0; i < indent * depth; i++)
        put(b, " ", 1);
}

static void emit(buf *b, const msgpack_object *o, int indent, int depth)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: puts_(b, "null"); break;
    case MSGPACK_OBJECT_BOOLEAN: puts_(b, o->via.boolean ? "true" : "false"); break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: putf(b, "%llu", (unsigned long long)o->via.u64); break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: putf(b, "%lld", (long long)o->via.i64); break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: putf(b, "%.17g", o->via.f64); break;
    case MSGPACK_OBJECT_STR: put_string(b, o->via.str.ptr, o->via.str.size); break;
    case MSGPACK_OBJECT_ARRAY:
        put(b, "[", 1);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (i)
                put(b, ",", 1);
            newline(b, indent, depth + 1);
            emit(b, &o->via.array.ptr[i], indent, depth + 1);
        }
        if (o->via.array.size)
            newline(b, indent, depth);
        put(b, "]", 1);
        break;
    case MSGPACK_OBJECT_MAP:
        put(b, "{", 1);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            if (i)
                put(b, ",", 1);
            newline(b, indent, depth + 1);
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (k->type == MSGPACK_OBJECT_STR)
                put_string(b, k->via.str.ptr, k->via.str.size);
            else {
                put(b, "\"", 1);
                emit(b, k, 0, 0);
                put(b, "\"", 1);
            }
            puts_(b, indent ? ": " : ":");
            emit(b, &o->via.map.ptr[i].val, indent, depth + 1);
        }
        if (o->via.map.size)
            newline(b, indent, depth);
        put(b, "}", 1);
        break;
    default: puts_(b, "null"); break;
    }
}

char *mu_value_to_json(const mu_value *v, int indent)
{
    buf b = {0};
    put(&b, "", 0);
    if (!v)
        puts_(&b, "null");
    else
        emit(&b, (const msgpack_object *)v, indent, 0);
    return b.p;
}
