/* A client connection: its explicit state, its bounded send queue of shared frames, and the
 * index of connections by user. Layer: connections, above the base (frames, buckets, metrics)
 * and below everything that handles requests. It calls nothing above it: the transport that
 * owns the socket plugs in through mu_transport, and the request layer (dispatch.c) keeps its
 * own fields here without this file knowing what they mean. */
#ifndef MUTUAL_CONN_H
#define MUTUAL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bucket.h"
#include "frame.h"
#include "netaddr.h"
#include "proto.h"
#include "roles.h"

struct lws;
struct mu_inmsg;
struct room;

/* The largest message a connection may send before it signs in (PROTOCOL.md, Transport). */
#define CONN_PREAUTH_FRAME 4096

typedef enum { CONN_UNAUTHENTICATED, CONN_AUTHENTICATED, CONN_CLOSING } conn_state;

typedef struct mu_conn mu_conn;

/* What the transport does for a connection; set once at conn_new. */
typedef struct {
    /* Writes what the connection has queued (called from conn_flush_pending only). */
    void (*flush)(mu_conn *c);
    /* A close frame is queued: a peer that stops reading is dropped after a few seconds. */
    void (*close_soon)(mu_conn *c);
    /* Stops (true) or resumes (false) reading from the socket. */
    void (*pause_reading)(mu_conn *c, bool pause);
} mu_transport;

/* Bounds that come from the settings, given once at conn_init. */
typedef struct {
    uint64_t send_queue; /* bytes a connection may have queued before it is cut off */
    /* Monotonic microseconds for the flush's coalescing; NULL: CLOCK_MONOTONIC (tests give
     * their own, to be independent of how busy the machine is). */
    uint64_t (*mono_us)(void);
    /* Microseconds the loop has spent waiting for events, in all (uv_metrics_idle_time): a
     * loop that still has idle time is not overloaded, so its output is never held back.
     * NULL: never idle. */
    uint64_t (*idle_us)(void);
} conn_limits;

struct mu_conn {
    struct lws *wsi; /* the transport's handle; NULL once the socket is gone */
    const mu_transport *tp;
    conn_state state;
    uint64_t id;
    unsigned refs;
    mu_netaddr addr; /* the source address (see peers_source), set by the transport */

    /* Who, once authenticated. */
    int64_t user_id;
    char handle[MU_HANDLE_MAX + 1];
    mu_role role;
    uint8_t token_hash[32];

    /* Receiving (the transport's): reassembly of fragments, and since when (monotonic ms) a
     * message has been arriving and the connection has been unauthenticated (0: not). */
    char *rx;
    size_t rx_len, rx_cap;
    bool rx_text, rx_paused;
    uint64_t rx_since, unauth_since;

    /* Requests (dispatch.c's): a FIFO, the one being handled, the token bucket. */
    struct mu_inmsg *in_head, *in_tail, *cur_msg;
    unsigned in_len, bad_frames;
    size_t in_bytes; /* what the queued requests hold, overhead included */
    bool busy, want_pump;
    mu_request *req; /* while busy: the request being handled (owned) */
    mu_bucket bucket;

    /* Sending: a ring of frames; head_off bytes of the head frame are already written. */
    mu_frame **sq;
    size_t sq_head, sq_len, sq_cap, sq_bytes, head_off;
    mu_close_code close_code; /* non-zero: close with it once the queue is out */
    bool close_armed;
    bool want_flush;
    bool wait_drain; /* someone waits for the queue to drop to half its bound */
    /* Events held back while a reply is made off the loop (conn_hold), in order, each with a
     * reference; counted against the queue's bound with it. */
    unsigned holds;
    mu_frame **held;
    size_t nheld, capheld, held_bytes;
    uint64_t closing_since, close_sent_at; /* the transport's, monotonic ms */

    /* Producers that wait for room in the queue (the concerns'): called when it drains. */
    void (*refill)(mu_conn *c);
    /* session.c's: the pushes after sign-in. While push_busy, a message above push_after is
     * left to the push (which reads it in order) and marks push_missed, so that a push whose
     * last read started before the message was stored reads once more. session_gen tells a
     * read that comes back after a sign-out (or another sign-in) that it is stale. */
    int64_t push_after;
    bool push_busy, push_missed;
    /* alerts.c's, the same for the open alerts pushed after sign-in: while alerts_busy a new
     * alert is left to the push and marks alerts_missed, which reads again. */
    bool alerts_busy, alerts_missed;
    /* The alerts that push showed: one of them heard of after is not shown again. Owned. */
    int64_t *alerts_shown;
    uint32_t nalerts_shown;
    unsigned session_gen;

    /* Rooms this connection has joined or waits at (rooms.c owns the entries). */
    struct room **rooms;
    unsigned nrooms, caprooms;

    /* Index by user. */
    mu_conn *u_next, *u_prev;
    /* All connections. */
    mu_conn *a_next, *a_prev;
};

void conn_init(const conn_limits *l);
/* Drops every index (shutdown, after every socket is gone). */
void conn_shutdown(void);

/* A new connection holds one reference, the socket's, which conn_gone drops. */
mu_conn *conn_new(struct lws *wsi, const mu_transport *tp);
/* The socket is gone: the connection is out of every index and sends nothing more; it is
 * freed when the last reference goes. What the layers above kept about it must be let go
 * first (dispatch_conn_gone does that, then calls this). */
void conn_gone(mu_conn *c);
mu_conn *conn_ref(mu_conn *c);
void conn_unref(mu_conn *c);
bool conn_alive(const mu_conn *c);
size_t conn_count(void);

/* Queues a frame (taking its own reference). Past the send-queue bound the connection is cut
 * off with CLOSE_TRY_LATER (a slow consumer): the frame is dropped and nothing more is queued,
 * but what was queued before still goes out, then the close frame. */
void conn_send(mu_conn *c, mu_frame *f);
/* Queues a reply, which the bound does not cut off: the request layer starts a request only
 * while the queue has room (conn_has_room), so replies cannot pile up, and a reply larger
 * than the bound still goes out whole. */
void conn_send_reply(mu_conn *c, mu_frame *f);
/* Holds back the events sent from now on (conn_send) until as many conn_release calls:
 * replies (conn_send_reply) still go at once. For a reply that describes a state and is made
 * off the loop: the events that change that state go after it. */
void conn_hold(mu_conn *c);
/* Queues what was held, in order, when the last hold is let go. */
void conn_release(mu_conn *c);
/* Forgets what is held of room `room` (mu_frame.room): for a join that failed and left the
 * room, whose events the person must not get. */
void conn_drop_held(mu_conn *c, uint64_t room);
/* Whether the queue is at most half its bound. When not, the connection is marked so that the
 * drain hook and its refill run once it is (from conn_flush_pending). */
bool conn_has_room(mu_conn *c);
/* Called for every connection whose queue drained to half after conn_has_room said no. */
void conn_set_drain_hook(void (*fn)(mu_conn *c));
/* Frames the encoder's message and queues it; the encoder is left empty. */
void conn_send_enc(mu_conn *c, mu_enc *e);
/* Closes after what is queued has gone out. */
void conn_close(mu_conn *c, mu_close_code code);
/* Copies up to `cap` queued bytes into dst and drops the frames that are wholly out. */
size_t conn_take_output(mu_conn *c, unsigned char *dst, size_t cap);
/* Asks the transport to stop or resume reading, once per change. */
void conn_pause_reading(mu_conn *c, bool pause);
/* Bytes of received but unhandled requests past which a connection is no longer read:
 * 4 frames of 4 KiB before sign-in, `signed_in` after (set once at start; 128 KiB before). */
void conn_set_input_bound(size_t signed_in);
size_t conn_input_bound(const mu_conn *c);

void conn_authenticate(mu_conn *c, int64_t user_id, const char *handle, mu_role role,
                       const uint8_t token_hash[32]);
void conn_deauthenticate(mu_conn *c);

typedef void (*conn_visit_fn)(mu_conn *c, void *ud);
void conn_foreach(conn_visit_fn fn, void *ud);
/* The authenticated connections of one user; fn may close the one it is given. */
void conn_foreach_user(int64_t user_id, conn_visit_fn fn, void *ud);

/* Hands every connection with queued output to its transport's flush, once; under load (see
 * conn.c) the sends may be held back a few milliseconds so that each carries more. */
void conn_flush_pending(void);
/* Whether any connection waits for conn_flush_pending (and is not held back). */
bool conn_flush_wanted(void);
/* Microseconds until held-back output may go (0: none held): the caller wakes its loop then. */
uint64_t conn_flush_held_us(void);
/* Lets held-back output go at the next flush and holds none from then on (shutdown). */
void conn_flush_release(void);

#endif
