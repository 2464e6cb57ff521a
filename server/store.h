/* Storage: SQLite in WAL mode, spoken through db.h. Every write goes through one writer
 * thread, which takes jobs from a queue, runs each in its own savepoint, commits them in
 * batches and reports completion to the loop through uv_async_send. The loop thread reads on
 * its own read-only connection.
 * Layer: storage, over the base. */
#ifndef MUTUAL_STORE_H
#define MUTUAL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "db.h"
#include "proto.h"

typedef struct mu_store mu_store;
typedef struct mu_wtx mu_wtx;
typedef struct mu_job mu_job;

/* Runs on the writer thread inside the batch's transaction. Returns MU_OK to keep its changes,
 * or an error code (its savepoint is rolled back; the rest of the batch is unaffected). */
typedef mu_code (*job_run_fn)(mu_job *j, mu_wtx *w);
/* Runs on the loop thread once the batch is committed (or failed: j->result says which). */
typedef void (*job_done_fn)(mu_job *j);

struct mu_job {
    job_run_fn run;
    job_done_fn done;
    mu_code result;
    mu_job *next;
    /* Non-zero: on PostgreSQL the batch takes this advisory lock before its first job, with
     * every other job's, in key order (store_key_of makes one). Writes to one room carry the
     * room's key: their commits across nodes come in the order their rows were written (a
     * room's seq), and two nodes' batches never wait on each other's rows in a circle. */
    int64_t lock_key;
};

typedef struct {
    const char *path;
    bool sync_full;        /* synchronous=FULL: commits survive power loss */
    unsigned batch_max;    /* most jobs in one transaction */
    int checkpoint_frames; /* SQLite: log pages that call for a checkpoint; 0: 1000 */
} mu_store_opts;

/* On failure returns NULL with the reason in err; the caller must still run the loop once
 * (UV_RUN_NOWAIT will do) before closing it, since what was set up on it is freed there. */
mu_store *store_open(uv_loop_t *loop, const mu_store_opts *o, char *err, size_t errlen);
/* The job is owned by the caller and must stay alive until its done callback. */
void store_submit(mu_store *s, mu_job *j);
/* Stops taking jobs, finishes every queued one (running their done callbacks), closes. */
void store_close(mu_store *s);
/* True once a batch failed to commit: writes are refused until restart. */
bool store_failed(const mu_store *s);

/* A cached prepared statement on the read connection (loop thread only), reset and with its
 * bindings cleared. `sql` must be a string literal: the cache is keyed by its address. */
db_stmt *store_read(mu_store *s, const char *sql);
/* A read connection: the loop's own (store_reader), or one that a worker thread opens for a
 * long read (store_reader_open), so that the loop never waits on it. Each is used by one
 * thread at a time. */
typedef struct mu_reader mu_reader;
mu_reader *store_reader(mu_store *s);
/* A new read-only connection on the store's database, holding one snapshot (a read
 * transaction) until closed; callable from any thread. NULL on failure (logged) or once store_stop_readers ran. The caller
 * owns it and closes it with store_reader_close on the thread that used it. */
mu_reader *store_reader_open(mu_store *s);
/* The same without a snapshot: each statement reads what has committed by then (a thread
 * that reads for the loop, store_fetch.c). */
mu_reader *store_reader_open_live(mu_store *s);
void store_reader_close(mu_reader *r);
/* Shutdown: interrupts the read connections open now and refuses new ones, so that long
 * reads end soon and nothing holds a snapshot past the final checkpoint. Any thread. */
void store_stop_readers(mu_store *s);
/* The connection under a reader. */
db_conn *store_reader_db(mu_reader *r);
/* store_read on a given read connection. */
db_stmt *store_rstmt(mu_reader *r, const char *sql);
/* Where a read's statements come from: a read connection, or the writer's transaction for a
 * read that must be in the writers' order (decided with what it reads). One of them is set. */
typedef struct {
    mu_reader *r;
    mu_wtx *w;
} store_from;
db_stmt *store_from_stmt(store_from f, const char *sql);
/* The same on the writer connection, for job run functions. */
db_stmt *store_wstmt(mu_wtx *w, const char *sql);
/* Binds an optional value: an id of 0, or a NULL string, as SQL NULL. `n` is the string's
 * length, or -1 for a C string. Strings are bound in place. */
void store_bind_id(db_stmt *st, int i, int64_t id);
void store_bind_text(db_stmt *st, int i, const char *s, int n);
db_conn *store_wdb(mu_wtx *w);
/* Asks for a wal_checkpoint(TRUNCATE) once this batch has committed: after an erasure, so that
 * erased data does not linger in the -wal file (the database file itself is overwritten by
 * secure_delete). */
void store_checkpoint_after(mu_wtx *w);
/* Rules that count rows before they write (a caseload's places, the last admin, one open help
 * request at a time) must hold across nodes too: on PostgreSQL the job first takes a lock on
 * what it counts, held to the end of the batch's transaction, so that two nodes' writers take
 * turns there. SQLite has one writer, and nothing to do. */
typedef enum { STORE_LOCK_CASELOAD = 1, STORE_LOCK_ADMINS, STORE_LOCK_HELP } store_lock;
mu_code store_serialize(mu_wtx *w, store_lock what, int64_t key);
/* A job's lock_key for a thing named by text (a room's slug): never 0. */
int64_t store_key_of(const char *name);
/* store.c's writer only (store_lock.c), on PostgreSQL just after BEGIN: the batch's job locks
 * (mu_job.lock_key), in key order, in one statement. False when the transaction cannot go on.
 * *skip is set when the locks could not be had (another node held one past lock_timeout): the
 * jobs that need them fail, the others run. */
bool store_lock_batch(db_conn *db, const mu_job *batch, unsigned n, bool *skip);
/* Sends `payload` on `channel` to every node listening (PostgreSQL's pg_notify), when this
 * batch commits; nothing on SQLite, where there is one node. */
mu_code store_notify(mu_wtx *w, const char *channel, const char *payload);
/* Steps a write statement to its end and resets it: MU_OK, MU_E_CONFLICT for a broken
 * constraint (MU_E_NOT_FOUND for a foreign key), MU_E_UNAVAILABLE when the disk refused,
 * MU_E_INTERNAL otherwise (logged). A NULL statement (failed to prepare) is internal. */
mu_code store_step(db_stmt *st);
/* The same for an INSERT or UPDATE ... RETURNING id: the row's id in *id; MU_E_NOT_FOUND when
 * no row came back. */
mu_code store_step_id(db_stmt *st, int64_t *id);
/* Ends a read: resets the statement and, when `rc` (the last step's) is an error, logs it and
 * returns -1; otherwise returns `result`. */
int store_read_done(db_stmt *st, int rc, int result);
/* Encodes every row of a read as one array: `row` writes the row the statement is on. The
 * rows go to a buffer first, since the array's length is known only at the end. Ends the read
 * as store_read_done does: 0, or -1 (logged) when a step failed, and then nothing is written
 * to e. A NULL statement (failed to prepare) is -1. */
typedef void (*store_row_fn)(mu_enc *e, db_stmt *st);
int store_enc_rows(db_stmt *st, mu_enc *e, store_row_fn row);
/* Steps a statement whose first column is a count (or any single integer): the value, -1 when
 * there is no row or the statement failed (a NULL statement failed to prepare). */
int64_t store_count(db_stmt *st);
/* True while the loop's read connection has lost its database server. */
bool store_reads_lost(mu_store *s);
/* The loop's read connection itself, for loading state at startup. */
db_conn *store_rdb(mu_store *s);

/* A writer context over a connection of the caller's, for command-line tools that run the
 * same store functions on their own thread. */
mu_wtx *store_wtx_direct(db_conn *db);
void store_wtx_free(mu_wtx *w);

/* Takes away every permission of group and others from a regular file that has any (a
 * database, its -wal, -shm or -journal, a backup); the _files form does the database's set. */
void store_restrict_file(const char *path);
void store_restrict_files(const char *path);

/* Opens a database for a one-shot command-line use on the calling thread, migrating it. With
 * `create`, a new database is made mode 0600 and an existing one's files are tightened. */
db_conn *store_open_direct(const char *path, bool create, char *err, size_t errlen);

#endif
