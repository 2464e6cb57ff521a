/* A client connection: its explicit state, its queue of requests (handled one at a time, in
 * arrival order), its bounded send queue of shared frames, and the index of connections by
 * user. The transport owns the socket; this file owns everything the protocol needs. */
#ifndef MUTUAL_CONN_H
#define MUTUAL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bucket.h"
#include "frame.h"
#include "proto.h"
#include "server.h"

struct lws;

typedef enum { CONN_UNAUTHENTICATED, CONN_AUTHENTICATED, CONN_CLOSING } conn_state;

typedef struct mu_inmsg {
    struct mu_inmsg *next;
    bool limited; /* arrived past the token bucket */
    bool text;    /* a text message, which is never a request */
    size_t len;
    char data[];
} mu_inmsg;

typedef struct mu_conn mu_conn;
struct mu_conn {
    struct lws *wsi; /* NULL once the socket is gone */
    conn_state state;
    uint64_t id;
    unsigned refs;

    /* Who, once authenticated. */
    int64_t user_id;
    char handle[MU_HANDLE_MAX + 1];
    mu_role role;
    uint8_t token_hash[32];

    /* Receiving: reassembly of fragments. */
    char *rx;
    size_t rx_len, rx_cap;
    bool rx_text, rx_paused;

    /* Requests: a FIFO and the one being handled. */
    mu_inmsg *in_head, *in_tail;
    unsigned in_len;
    bool busy;
    mu_inmsg *cur_msg;
    mu_request *req; /* while busy: the request being handled (owned) */
    unsigned bad_frames;
    mu_bucket bucket;

    /* Sending: a ring of frames; head_off bytes of the head frame are already written. */
    mu_frame **sq;
    size_t sq_head, sq_len, sq_cap, sq_bytes, head_off;
    mu_close_code close_code; /* non-zero: close with it once the queue is out */
    bool close_armed;
    bool want_flush, want_pump;

    /* Rooms this connection has joined or waits at (rooms.c owns the entries). */
    struct room **rooms;
    unsigned nrooms, caprooms;

    /* Index by user. */
    mu_conn *u_next, *u_prev;
    /* All connections. */
    mu_conn *a_next, *a_prev;
};

mu_conn *conn_new(struct lws *wsi);
/* The socket is gone: the connection leaves everything; freed when the last reference goes. */
void conn_gone(mu_conn *c);
mu_conn *conn_ref(mu_conn *c);
void conn_unref(mu_conn *c);
bool conn_alive(const mu_conn *c);
size_t conn_count(void);

/* Queues a frame (taking its own reference). Past the send-queue bound the connection is cut
 * off with CLOSE_TRY_LATER and the frame dropped. */
void conn_send(mu_conn *c, mu_frame *f);
/* Frames the encoder's message and queues it; the encoder is left empty. */
void conn_send_enc(mu_conn *c, mu_enc *e);
/* Closes after what is queued has gone out. */
void conn_close(mu_conn *c, mu_close_code code);

/* A whole message arrived. */
void conn_on_message(mu_conn *c, const char *data, size_t len, bool text);

/* Replies to the request being handled, and ends it. */
void conn_reply(mu_conn *c, mu_enc *e);
void conn_reply_empty(mu_conn *c);
void conn_reply_err(mu_conn *c, mu_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Starts a success reply with room for nfields pairs after op, rid and ok. */
void conn_reply_begin(mu_conn *c, mu_enc *e, uint32_t nfields);
/* Replies {key: [n items]} where `items` holds the n encoded items (it is freed). */
void conn_reply_list(mu_conn *c, const char *key, uint32_t n, mu_enc *items);

void conn_authenticate(mu_conn *c, int64_t user_id, const char *handle, mu_role role,
                       const uint8_t token_hash[32]);
void conn_deauthenticate(mu_conn *c);

typedef void (*conn_visit_fn)(mu_conn *c, void *ud);
void conn_foreach(conn_visit_fn fn, void *ud);
void conn_foreach_user(int64_t user_id, conn_visit_fn fn, void *ud);

/* Run once per loop iteration: handle queued requests, then flush send queues. */
void conn_run_pending(void);
/* Drops every index (shutdown, after every socket is gone). */
void conn_shutdown(void);

#endif
