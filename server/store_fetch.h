/* Reads for the loop made on a thread of their own, so that the loop never waits on the
 * database's network round trips (PostgreSQL): a job's run reads on the fetcher's connection,
 * and its done runs on the loop, in the order the jobs were given. Layer: storage, over
 * store.h. */
#ifndef MUTUAL_STORE_FETCH_H
#define MUTUAL_STORE_FETCH_H

#include <stdbool.h>

#include "store.h"

typedef struct mu_fetch mu_fetch;
/* Fetcher thread: reads through `r` (NULL while no connection can be had: a job that needs
 * no read may still succeed); false when the read failed. Run again, on a new connection, when
 * the first failed because the connection was lost: it starts over. */
typedef bool (*fetch_run_fn)(mu_fetch *f, mu_reader *r);
/* Loop thread: `ok` says whether run read everything; frees the job. */
typedef void (*fetch_done_fn)(mu_fetch *f, bool ok);

/* The first member of a caller's job struct; the caller fills run and done. */
struct mu_fetch {
    fetch_run_fn run;
    fetch_done_fn done;
    mu_fetch *next; /* the fetcher's */
    bool ok;        /* the fetcher's */
};

typedef struct mu_fetcher mu_fetcher;
/* A running fetcher on the store's database; NULL (logged) when its thread cannot start. */
mu_fetcher *store_fetcher_start(mu_store *s, uv_loop_t *loop);
/* Queues the job: its done runs on the loop once run has (or with ok false when the fetcher
 * stops first). Ownership passes to the fetcher until done. */
void store_fetch(mu_fetcher *f, mu_fetch *job);
/* Ends the thread after the read in progress, hands every job left to its done with ok false
 * and frees the fetcher once its handle has closed. Loop thread; before store_close. */
void store_fetcher_stop(mu_fetcher *f);

#endif
