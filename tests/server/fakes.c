#include "fakes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatch.h"

fake_calls fake;

void fake_reset(void)
{
    memset(&fake, 0, sizeof(fake));
}

static uint64_t fake_now_us = 1000000;

uint64_t fake_mono_us(void)
{
    return fake_now_us;
}

void fake_advance_us(uint64_t us)
{
    fake_now_us += us;
}

static void t_flush(mu_conn *c)
{
    (void)c;
    fake.flushes++;
    fake_now_us += fake.flush_us;
}

static void t_close_soon(mu_conn *c)
{
    (void)c;
    fake.close_soons++;
}

static void t_pause(mu_conn *c, bool pause)
{
    (void)c;
    if (pause)
        fake.pauses++;
    else
        fake.resumes++;
}

static const mu_transport transport = {t_flush, t_close_soon, t_pause};
static char socket_stand_in; /* any non-NULL handle: the connection is alive while it has one */

mu_conn *fake_conn(void)
{
    return conn_new((struct lws *)(void *)&socket_stand_in, &transport);
}

mu_conn *fake_user(int64_t user, const char *handle, mu_role role)
{
    mu_conn *c = fake_conn();
    uint8_t token[32] = {0};
    conn_authenticate(c, user, handle, role, token);
    return c;
}

#define MAX_MSGS 128
static char summary[4096];
static msgpack_unpacked msgs[MAX_MSGS];
static bool live[MAX_MSGS];
static unsigned char *bytes;

static void append(const char *word)
{
    size_t n = strlen(summary);
    snprintf(summary + n, sizeof(summary) - n, "%s%s", n ? " " : "", word);
}

const char *fake_take(mu_conn *c)
{
    for (int i = 0; i < MAX_MSGS; i++)
        if (live[i]) {
            msgpack_unpacked_destroy(&msgs[i]);
            live[i] = false;
        }
    free(bytes);
    summary[0] = 0;
    size_t total = c->sq_bytes;
    bytes = malloc(total + 1);
    assert_non_null(bytes);
    assert_int_equal(conn_take_output(c, bytes, total), total);
    size_t at = 0;
    for (int i = 0; at < total; i++) {
        assert_true(i < MAX_MSGS);
        /* Server frames: FIN + opcode, then a 7-bit, 16-bit or 64-bit unmasked length. */
        unsigned op = bytes[at] & 0x0f;
        size_t len = bytes[at + 1] & 0x7f, h = 2;
        if (len == 126) {
            len = (size_t)bytes[at + 2] << 8 | bytes[at + 3];
            h = 4;
        } else if (len == 127) {
            len = 0;
            for (int k = 0; k < 8; k++)
                len = len << 8 | bytes[at + 2 + k];
            h = 10;
        }
        const char *p = (const char *)bytes + at + h;
        at += h + len;
        assert_true(at <= total);
        if (op == 0x8) {
            char w[32];
            snprintf(w, sizeof(w), "close:%u",
                     (unsigned)((unsigned char)p[0] << 8 | (unsigned char)p[1]));
            append(w);
            continue;
        }
        assert_int_equal(op, 0x2);
        msgpack_unpacked_init(&msgs[i]);
        live[i] = true;
        assert_int_equal(msgpack_unpack_next(&msgs[i], p, len, NULL), MSGPACK_UNPACK_SUCCESS);
        const msgpack_object *m = &msgs[i].data;
        const msgpack_object *o = mu_map_get(m, "op");
        assert_non_null(o);
        char w[64];
        snprintf(w, sizeof(w), "%.*s", (int)o->via.str.size, o->via.str.ptr);
        if (!strcmp(w, "reply")) {
            const msgpack_object *ok = mu_map_get(m, "ok"), *code = mu_map_get(m, "code");
            if (ok->via.boolean)
                snprintf(w, sizeof(w), "ok");
            else
                snprintf(w, sizeof(w), "%.*s", (int)code->via.str.size, code->via.str.ptr);
        }
        append(w);
    }
    return summary;
}

const msgpack_object *fake_msg(int i)
{
    return i >= 0 && i < MAX_MSGS && live[i] ? &msgs[i].data : NULL;
}

static mu_enc req;
static bool req_used;

void fake_cleanup(void)
{
    for (int i = 0; i < MAX_MSGS; i++)
        if (live[i]) {
            msgpack_unpacked_destroy(&msgs[i]);
            live[i] = false;
        }
    free(bytes);
    bytes = NULL;
    if (req_used)
        mu_enc_free(&req);
    req_used = false;
}

const char *fake_request(const char *op, uint64_t rid, const char *fields, size_t *len)
{
    mu_enc *e = &req;
    if (req_used)
        mu_enc_free(e);
    req_used = true;
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", fields ? fields : "");
    uint32_t n = 0;
    for (char *p = buf; *p; p++)
        n += *p == '=';
    mu_enc_init(e, 0);
    mu_enc_request(e, op, rid, n);
    for (char *save = NULL, *kv = strtok_r(buf, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        *eq = 0;
        const char *v = eq + 1;
        char *end;
        long long x = strtoll(v, &end, 10);
        if (*v && !*end)
            mu_enc_kint(e, kv, x);
        else if (!strcmp(v, "true") || !strcmp(v, "false"))
            mu_enc_kbool(e, kv, !strcmp(v, "true"));
        else
            mu_enc_kstr(e, kv, v);
    }
    return mu_enc_payload(e, len);
}

const char *fake_call(mu_conn *c, const char *op, const char *fields)
{
    static uint64_t rid = 1000;
    size_t n;
    const char *p = fake_request(op, ++rid, fields, &n);
    dispatch_on_message(c, p, n, false);
    dispatch_run_pending();
    return fake_take(c);
}
