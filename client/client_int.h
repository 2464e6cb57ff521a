/* Internals shared by the client library's files. */
#ifndef MUTUAL_CLIENT_INT_H
#define MUTUAL_CLIENT_INT_H

#include <libwebsockets.h>
#include <msgpack.h>

#include "mutual/client.h"
#include "proto.h"

struct mu_msg {
    msgpack_unpacked up;
};

struct mu_req {
    char *op;
    msgpack_sbuffer fields;
    msgpack_packer pk;
    uint32_t nfields;
};

/* The whole request as MessagePack with `reserve` bytes free in front (malloc'd). */
char *req_encode(const mu_req *r, uint64_t rid, size_t reserve, size_t *len);

typedef struct pending {
    struct pending *next;
    uint64_t rid;
    mu_reply_fn cb;
    void *ud;
} pending;

typedef struct outmsg {
    struct outmsg *next;
    size_t len;
    bool binary;
    unsigned char *buf; /* LWS_PRE bytes, then the payload */
} outmsg;

/* A client vhost per CA file: lws keeps the trusted certificates per vhost, not per
 * connection. Owned by the context; lws frees the vhosts with it. */
typedef struct ca_vhost {
    struct ca_vhost *next;
    char *path;
    struct lws_vhost *vh;
} ca_vhost;

struct mu_ctx {
    uv_loop_t *loop;
    struct lws_context *lws;
    ca_vhost *cas;
    unsigned ncas;
    mu_client *clients;
    uv_timer_t stop_timer;
    bool stopping, destroyed_once;
};

struct mu_client {
    mu_ctx *x;
    struct lws *wsi;
    char *url, *subprotocol;
    char host[256], path[512];
    int port;
    bool tls, insecure;
    mu_event_fn on_event;
    mu_state_fn on_state;
    void *ud;

    bool established, ended, freed, closing;
    int close_code;
    char fail[160]; /* why the connection could not be made, as lws says it (or "") */
    mu_msg *welcome;

    uint64_t next_rid;
    pending *p_head, *p_tail;
    outmsg *o_head, *o_tail;
    char *rx;
    size_t rx_len, rx_cap;
    mu_msg *delivering; /* the message a callback is looking at */
    bool stolen;

    /* Blocking use: events wait here until taken. */
    mu_sync *sync;
    mu_msg **evq;
    size_t evq_head, evq_len, evq_cap;

    mu_client *next, *prev;
};

/* Inside a callback: takes ownership of the message being delivered. */
mu_msg *client_steal(mu_client *c);

#endif
