/* An encoded message, framed for WebSocket and reference-counted: fan-out encodes once and
 * queues the same frame to every recipient.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_FRAME_H
#define MUTUAL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* The WebSocket close codes the server sends (RFC 6455, 7.4.1), and why it sends each. */
typedef enum {
    CLOSE_NORMAL = 1000,     /* the account was erased at its owner's request */
    CLOSE_GOING_AWAY = 1001, /* the server is shutting down */
    CLOSE_POLICY = 1008,     /* too many malformed frames; the password changed elsewhere */
    CLOSE_TOO_BIG = 1009,    /* a message over max_frame (sent by lws, at the transport's word) */
    CLOSE_TRY_LATER = 1013,  /* a slow consumer past its send queue; the server is full */
} mu_close_code;

/* Room an encoder keeps in front of the payload for the largest WebSocket header. */
#define FRAME_RESERVE 10

typedef struct mu_frame {
    uint32_t refs;
    uint32_t len;     /* header + payload */
    const char *data; /* points into base */
    char *base;       /* owned */
    /* The room whose event this is (its serial, rooms.c), or 0: a connection whose join
     * failed drops what it held of that room (conn_drop_held). */
    uint64_t room;
} mu_frame;

/* Starts an encoder with the header room reserved. */
void frame_enc_init(mu_enc *e);
/* Takes the encoder's buffer (the encoder is left empty) and frames it as one binary
 * message. The frame starts with one reference, the caller's. */
mu_frame *frame_from_enc(mu_enc *e);
/* A WebSocket close frame carrying `code`. */
mu_frame *frame_close(mu_close_code code);
mu_frame *frame_ref(mu_frame *f);
void frame_unref(mu_frame *f);

#endif
