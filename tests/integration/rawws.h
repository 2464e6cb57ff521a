/* A minimal WebSocket client over a plain socket, for tests that need what a well-behaved
 * library would never send: fragments, text frames, garbage, or a peer that stops reading. */
#ifndef MUTUAL_TEST_RAWWS_H
#define MUTUAL_TEST_RAWWS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int fd;
    char *buf; /* bytes read but not yet parsed */
    size_t len, cap;
} raw_ws;

/* Returns the HTTP status of the upgrade (101 when it succeeded). */
int raw_connect(raw_ws *w, int port, const char *path, const char *subprotocol);
/* The same from the local address `from` (an IPv4 text such as "127.0.0.2", or NULL), with
 * extra header lines ("Name: value\r\n"..., or NULL). */
int raw_connect_from(raw_ws *w, int port, const char *path, const char *subprotocol,
                     const char *from, const char *headers);
/* Sends one frame, masked as a client must. */
int raw_send(raw_ws *w, int opcode, const void *p, size_t n, bool fin);
/* Receives one frame. 0 on success (payload malloc'd), -1 on timeout or end of stream. */
int raw_recv(raw_ws *w, int *opcode, char **payload, size_t *n, int timeout_ms);
/* Reads frames until a close frame and returns its code; -1 when none came. */
int raw_wait_close(raw_ws *w, int timeout_ms);
void raw_close(raw_ws *w);

#endif
