/* Connections without sockets, for unit tests of the layers above the transport: a transport
 * that only counts what it is asked to do, and a reader of what a connection has queued. */
#ifndef MUTUAL_TEST_FAKES_H
#define MUTUAL_TEST_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

/* What the fake transport was asked, over every fake connection, since fake_reset. */
typedef struct {
    unsigned flushes, close_soons, pauses, resumes;
    unsigned flush_us; /* set by a test: each flush takes this long, as a real send can */
} fake_calls;
extern fake_calls fake;
/* A clock that moves only when told (and by flush_us at each flush), for conn_limits.mono_us. */
uint64_t fake_mono_us(void);
void fake_advance_us(uint64_t us);
void fake_reset(void);

/* A connection with the fake transport (conn_init must have run). */
mu_conn *fake_conn(void);
/* The same, signed in as `user` with `handle` and `role`. */
mu_conn *fake_user(int64_t user, const char *handle, mu_role role);

/* Takes every byte the connection has queued and reads the messages in them. Returns one word
 * a message, space-separated: an event's op ("room.state"), "ok" for a success reply, the code
 * of an error reply ("forbidden"), "close:1013" for a close frame; "" when nothing was queued.
 * The text and the messages stay valid until the next call. */
const char *fake_take(mu_conn *c);
/* The i-th message of the last fake_take (NULL past the end or for a close frame). */
const msgpack_object *fake_msg(int i);

/* A request frame {op, rid, ...}: `fields` is "key=value" pairs separated by ';', where a
 * value is a decimal integer, true, false, or else a string. The result is static. */
const char *fake_request(const char *op, uint64_t rid, const char *fields, size_t *len);

/* Sends one request, runs the loop's end-of-iteration work (dispatch_run_pending) and
 * returns fake_take of the connection. */
const char *fake_call(mu_conn *c, const char *op, const char *fields);

/* Frees what fake_take and fake_request keep between calls. */
void fake_cleanup(void);

#endif
