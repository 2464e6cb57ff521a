/* A request's reads, made off the loop when the database is across a network (PostgreSQL):
 * the handler checks what it can on the loop and hands the rest to a read call, whose run
 * reads and encodes the answer on the request reader's thread and whose outcome becomes the
 * reply back on the loop. With SQLite (a local file, answered in microseconds) the run is made
 * at once on the loop's own reader, the same code. Layer: requests, over dispatch.h and
 * store_fetch.h; the concerns use it. */
#ifndef MUTUAL_READS_H
#define MUTUAL_READS_H

#include <stdbool.h>

#include "dispatch.h"
#include "roles.h"
#include "store_fetch.h"

struct mu_server;
typedef struct read_call read_call;

/* The reading thread (or the loop, with SQLite): reads through `r` and records the outcome
 * with reads_ok or reads_refuse; false when a read failed. It must not touch the connection or
 * anything else of the loop's: what it needs is copied into the call (or is the request, which
 * nothing changes while the call lasts). It may run twice (after a lost connection): each run
 * starts from an empty outcome. */
typedef bool (*read_run_fn)(read_call *rc, mu_reader *r);

/* The first member of a handler's own struct when it needs more than this. */
struct read_call {
    mu_fetch f;
    mu_conn *c;      /* the caller; the call's own reference keeps it */
    mu_request *req; /* the call's; read only, by run and on the loop, until the reply */
    int64_t user;    /* the caller's account and role, as at the start */
    mu_role role;
    const char *what; /* what a failed read could not read ("messages") */
    read_run_fn run;
    /* The outcome: a reply of `nfields` pairs encoded in `body`, or a refusal. */
    uint32_t nfields;
    mu_enc body;
    mu_code code;
    char msg[256];
    /* The loop, when run read everything and refused nothing: goes on with the call instead of
     * replying with the body (and must reply, now or after more work; the call is freed when
     * it returns, so it copies what it keeps). May be NULL. */
    void (*then)(read_call *rc);
    /* The loop, last: wipes or frees what the handler's struct holds (not the struct). The
     * reply has gone, and `req` with it. May be NULL. */
    void (*release)(read_call *rc);
    bool lost; /* reads.c's: the read failed because the database could not be reached */
};

/* A read for a connection outside any request (the pushes after sign-in): run on the
 * reading thread (at once with SQLite), with the same rules as a read call's; done on the
 * loop, where the caller checks the connection is still what it was. A read that fails is
 * made again, later and later, while the connection stays in the same session: what a push
 * holds back would otherwise not be shown until the next sign-in. While the database cannot
 * be reached it is tried until the session ends; after another failure (a statement that
 * failed) five times. `once`: never tried again. */
typedef struct conn_read conn_read;
struct conn_read {
    mu_fetch f;
    mu_conn *c;       /* a reference, let go after done */
    const char *what; /* for the log: "unread messages" */
    bool once;
    bool (*run)(conn_read *cr, mu_reader *r);
    void (*done)(conn_read *cr, bool ok); /* frees the caller's struct */
    unsigned gen; /* reads.c's: the session it was made for, the failures so far, and */
    int fails;    /* whether the last was the database out of reach */
    bool lost;
};
/* The caller's struct starts with a conn_read, its run and done filled. */
void reads_for_conn(mu_conn *c, conn_read *cr);

/* Starts the reading thread when the database is PostgreSQL; the loop's reader serves
 * otherwise. */
void reads_start(struct mu_server *s);
/* Fails every read call still waiting (each replies) and ends the thread. */
void reads_stop(void);

/* A zeroed call of `size` bytes (at least sizeof(read_call)) for the request on `c`, with the
 * caller copied in. Owned by the caller until reads_submit. */
read_call *reads_new(mu_conn *c, size_t size, read_run_fn run, const char *what);
/* Runs the call and replies with its outcome; the call is freed after. */
void reads_submit(read_call *rc);

/* In run: the reply has `nfields` pairs, encoded by run into rc->body. True. */
bool reads_ok(read_call *rc, uint32_t nfields);
/* In run: the reply is {key: [n items]}, where `items` holds the n encoded items (it is
 * freed). True. */
bool reads_list(read_call *rc, const char *key, uint32_t n, mu_enc *items);
/* In then, for a call about the caller's own account (`found`: whether run found it): true
 * when the caller is still signed in to it; else answers the request (the call must still
 * finish when the connection went) and returns false. */
bool reads_same_account(read_call *rc, bool found);

/* In run: the request is refused with `code` and a sentence. True (the read worked). */
bool reads_refuse(read_call *rc, mu_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
