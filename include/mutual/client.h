/* libmutual: the Mutual client library.
 *
 * A connection (mu_client) speaks the Mutual protocol over a WebSocket (ws:// or wss://) on a
 * libuv loop. Requests go out with mu_client_send and their replies come back through a
 * callback matched by rid; events come through the client's event callback. For simple
 * programs, mu_sync wraps a private loop and gives blocking calls.
 *
 * Ownership: every mu_msg handed to a callback belongs to the library and lives only for the
 * call; mu_msg values returned by the mu_sync functions belong to the caller (mu_msg_free).
 * mu_req objects are consumed by the call they are passed to. */
#ifndef MUTUAL_CLIENT_H
#define MUTUAL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_ctx mu_ctx;
typedef struct mu_client mu_client;
typedef struct mu_msg mu_msg;
typedef struct mu_value mu_value;
typedef struct mu_req mu_req;
typedef struct mu_sync mu_sync;

/* ---- decoded messages ------------------------------------------------------------------- */

typedef enum {
    MU_V_NIL,
    MU_V_BOOL,
    MU_V_INT,
    MU_V_FLOAT,
    MU_V_STR,
    MU_V_BIN,
    MU_V_ARRAY,
    MU_V_MAP,
    MU_V_OTHER
} mu_vtype;

const mu_value *mu_msg_root(const mu_msg *m);
const char *mu_msg_op(const mu_msg *m);   /* "reply" or an event name; "" if none */
bool mu_msg_ok(const mu_msg *m);          /* a reply with ok:true */
const char *mu_msg_code(const mu_msg *m); /* an error reply's code, else NULL */
const char *mu_msg_text(const mu_msg *m); /* an error reply's msg, else NULL */
/* Shorthand for mu_value_get(mu_msg_root(m), key). */
const mu_value *mu_msg_get(const mu_msg *m, const char *key);
void mu_msg_free(mu_msg *m);
/* Decodes one MessagePack message (tests and tools); NULL when it is not one. */
mu_msg *mu_msg_decode(const void *buf, size_t len);

mu_vtype mu_value_type(const mu_value *v);                          /* MU_V_NIL for NULL */
const mu_value *mu_value_get(const mu_value *map, const char *key); /* NULL when absent */
/* NUL-terminated copy kept inside the message; NULL when not a string. */
const char *mu_value_str(const mu_value *v);
bool mu_value_int(const mu_value *v, int64_t *out);
bool mu_value_bool(const mu_value *v, bool *out);
/* A float, or an integer as a double; false for anything else (nil included). */
bool mu_value_double(const mu_value *v, double *out);
size_t mu_value_len(const mu_value *v); /* elements of an array or pairs of a map */
const mu_value *mu_value_at(const mu_value *array, size_t i);
const mu_value *mu_value_key_at(const mu_value *map, size_t i);
const mu_value *mu_value_val_at(const mu_value *map, size_t i);
/* Convenience: a string field of a map, or NULL; an integer field, or `def`. */
const char *mu_value_get_str(const mu_value *map, const char *key);
int64_t mu_value_get_int(const mu_value *map, const char *key, int64_t def);
/* JSON text of a value (malloc'd; free it). `indent` 0 gives one line. */
char *mu_value_to_json(const mu_value *v, int indent);

/* ---- building requests ------------------------------------------------------------------ */

mu_req *mu_req_new(const char *op);
void mu_req_str(mu_req *r, const char *key, const char *val); /* val NULL: nil */
void mu_req_strn(mu_req *r, const char *key, const char *val, size_t n);
void mu_req_int(mu_req *r, const char *key, int64_t val);
void mu_req_uint(mu_req *r, const char *key, uint64_t val);
void mu_req_bool(mu_req *r, const char *key, bool val);
void mu_req_nil(mu_req *r, const char *key);
void mu_req_ints(mu_req *r, const char *key, const int64_t *vals, size_t n);
void mu_req_strs(mu_req *r, const char *key, const char *const *vals, size_t n);
/* A value already encoded as MessagePack, for anything the helpers above do not cover. */
void mu_req_raw(mu_req *r, const char *key, const void *msgpack, size_t len);
void mu_req_free(mu_req *r);

/* ---- connections on a caller's loop ----------------------------------------------------- */

typedef enum { MU_STATE_OPEN, MU_STATE_CLOSED, MU_STATE_FAILED } mu_state;

/* `reply` is NULL when the connection ended before the reply came. */
typedef void (*mu_reply_fn)(mu_client *c, const mu_msg *reply, void *ud);
typedef void (*mu_event_fn)(mu_client *c, const mu_msg *ev, void *ud);
/* OPEN once the welcome arrived; CLOSED with the close code the server sent (0 when none);
 * FAILED when no connection could be made. */
typedef void (*mu_state_fn)(mu_client *c, mu_state st, int close_code, void *ud);

typedef struct {
    const char *url;      /* ws://host:port[/path] or wss://...; path defaults to /ws */
    mu_event_fn on_event; /* events, and replies to requests sent without a callback */
    mu_state_fn on_state;
    void *ud;
    bool insecure_tls;       /* accept a self-signed certificate (testing) */
    const char *subprotocol; /* NULL: mutual.v1; "": none (testing the server's refusal) */
    int connect_timeout_ms;  /* 0: 10 s */
    /* wss://: a PEM file of the certificate authorities to trust instead of the system's
     * (a private CA, or tests). NULL: the system's. The server's name is checked either way
     * unless insecure_tls. */
    const char *ca_file;
} mu_client_opts;

/* A context holds the WebSocket machinery for any number of connections on one loop. */
mu_ctx *mu_ctx_new(uv_loop_t *loop);
/* Ends every connection and starts the teardown; call while the loop still runs. */
void mu_ctx_stop(mu_ctx *x);
/* Frees the context once uv_run has returned after mu_ctx_stop. */
void mu_ctx_free(mu_ctx *x);

mu_client *mu_client_new(mu_ctx *x, const mu_client_opts *o);
/* Sends a request; its rid is assigned here and returned (0 on failure: not connected). */
uint64_t mu_client_send(mu_client *c, mu_req *r, mu_reply_fn cb, void *ud);
/* Sends bytes as they are, as one binary (or text) message: for testing servers. */
int mu_client_send_raw(mu_client *c, const void *bytes, size_t n, bool binary);
/* The welcome the server sent, or NULL before it came. */
const mu_msg *mu_client_welcome(const mu_client *c);
bool mu_client_is_open(const mu_client *c);
int mu_client_close_code(const mu_client *c);
void *mu_client_userdata(const mu_client *c);
/* Closes (1000) and frees the client; callbacks stop at once. */
void mu_client_free(mu_client *c);

/* ---- blocking use ----------------------------------------------------------------------- */

mu_sync *mu_sync_new(void);
/* Connects and waits for the welcome; NULL with a reason in err on failure. */
mu_client *mu_sync_connect(mu_sync *s, const mu_client_opts *o, int timeout_ms, char *err,
                           size_t errlen);
/* Sends and waits for the reply (caller frees); NULL on timeout or when the connection ends. */
mu_msg *mu_sync_call(mu_sync *s, mu_client *c, mu_req *r, int timeout_ms);
/* The next event of that connection, waiting up to timeout_ms; NULL when none came. */
mu_msg *mu_sync_event(mu_sync *s, mu_client *c, int timeout_ms);
/* Events already received and not yet taken. */
size_t mu_sync_pending(const mu_client *c);
/* Waits until the connection has closed; returns its close code, -1 on timeout. */
int mu_sync_wait_closed(mu_sync *s, mu_client *c, int timeout_ms);
/* Runs the loop for about ms milliseconds. */
void mu_sync_run(mu_sync *s, int ms);
uv_loop_t *mu_sync_loop(mu_sync *s);
/* Closes every connection and frees everything. */
void mu_sync_free(mu_sync *s);

#ifdef __cplusplus
}
#endif
#endif
