/* An encoded message, framed for WebSocket and reference-counted: fan-out encodes once and
 * queues the same frame to every recipient. */
#ifndef MUTUAL_FRAME_H
#define MUTUAL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Room an encoder keeps in front of the payload for the largest WebSocket header. */
#define FRAME_RESERVE 10

typedef struct mu_frame {
    uint32_t refs;
    uint32_t len;      /* header + payload */
    const char *data;  /* points into base */
    char *base;        /* owned */
} mu_frame;

/* Starts an encoder with the header room reserved. */
void frame_enc_init(mu_enc *e);
/* Takes the encoder's buffer (the encoder is left empty) and frames it as one binary
 * message. The frame starts with one reference, the caller's. */
mu_frame *frame_from_enc(mu_enc *e);
/* A WebSocket close frame carrying `code`. */
mu_frame *frame_close(int code);
mu_frame *frame_ref(mu_frame *f);
void frame_unref(mu_frame *f);

#endif
