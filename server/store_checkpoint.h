/* The checkpointer (SQLite): a thread with a connection of its own copies the write-ahead log
 * into the database file, so that no commit of the writer's waits for that copy and its
 * fsync (SQLite's automatic checkpoint runs inside the commit that crosses its threshold, and
 * every message queued behind that commit waits too). Layer: storage, over the base. */
#ifndef MUTUAL_STORE_CHECKPOINT_H
#define MUTUAL_STORE_CHECKPOINT_H

#include "db.h"

typedef struct store_ckpt store_ckpt;

/* Starts the checkpointer for the database at `path`, whose writer connection is `writer`.
 * From then on each commit on `writer` that leaves `frames` pages or more in the log asks the
 * thread for a checkpoint; one that leaves four times as many (a writer that never pauses
 * long enough for the thread to reach the log's end) waits for the thread's checkpoint under
 * way to end and checkpoints itself, so the log stays bounded. Returns NULL, with the reason logged and `writer` left with SQLite's automatic
 * checkpoint, when the thread cannot start, and on PostgreSQL. Call while no other thread
 * uses `writer`. The caller owns the result (store_ckpt_stop). */
store_ckpt *store_ckpt_start(const char *path, db_conn *writer, int frames);
/* Stops the thread once a checkpoint under way has ended, gives `writer` back its automatic
 * checkpoint and frees k. Call while no other thread uses the writer. NULL is a no-op. */
void store_ckpt_stop(store_ckpt *k);

#endif
