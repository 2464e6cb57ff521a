/* Events between mutuald nodes that share one PostgreSQL database. A writer job whose change
 * other nodes must act on (a DM to deliver, sessions to close) publishes a small event by
 * pointer, `KIND A B C` (ids, never content), inside its own transaction; every other node
 * receives it on its listening connection (db_listen.h) and hands it to the concern that
 * registered KIND, which reads what it needs and acts on its own connections. A node ignores
 * its own events: it acted when its write committed. On SQLite (one node) nothing is sent.
 * Each time the listening connection comes up (at start, and after a drop), each concern's
 * `catch_up` re-reads what it may have missed. Layer: context, below the concerns (which register here).
 */
#ifndef MUTUAL_EVENTS_H
#define MUTUAL_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "context.h"
#include "store.h"

/* `word` is the event's name of a thing that has no number (a room's slug), or "". */
typedef void (*event_fn)(int64_t a, int64_t b, int64_t c, const char *word);
typedef void (*event_catch_up_fn)(void);

/* Before events_start: `kind` is a short lowercase word; catch_up may be NULL. */
void events_on(const char *kind, event_fn fn, event_catch_up_fn catch_up);
/* Listens when the store is PostgreSQL; nothing otherwise. */
void events_start(mu_server *s);
void events_stop(void);
/* True when other nodes may share the database (PostgreSQL): events are worth publishing. */
bool events_shared(void);
/* True while other nodes' events can reach this one (always, on SQLite). */
bool events_listening(void);
/* From a writer job: tells the other nodes, when the job's transaction commits. */
mu_code events_publish(mu_wtx *w, const char *kind, int64_t a, int64_t b, int64_t c);
/* The same with a word: up to EVENTS_WORD_MAX bytes of [a-z0-9._-]. */
#define EVENTS_WORD_MAX 64
mu_code events_publish_word(mu_wtx *w, const char *kind, const char *word, int64_t a, int64_t b,
                            int64_t c);
/* The ids of rows a concern has shown lately (a DM, an alert), so that a catch-up after the
 * listening connection dropped shows none twice; and the highest. Ids are taken before
 * commit, so one a little below the highest may commit later: a catch-up reads from
 * max - EVENTS_CATCH_UP_WINDOW and skips what was shown. */
#define EVENTS_SHOWN 1024
#define EVENTS_CATCH_UP_WINDOW 256
typedef struct {
    int64_t ring[EVENTS_SHOWN], max, start;
    unsigned pos;
} events_shown;
/* At start, with the highest id in the database: catch-ups read only what comes after it
 * (what came before, people see at sign-in). */
void events_shown_init(events_shown *s, int64_t max);
/* True when `id` was shown before; otherwise remembers it and returns false. */
bool events_shown_before(events_shown *s, int64_t id);
/* Where a catch-up starts reading: ids above this. */
int64_t events_catch_up_after(const events_shown *s);

/* This node's name in its events: random, new at each start. */
const char *events_node(void);
/* The same name as a number (the 16 hex digits' value), for rows that name a node. */
int64_t events_node_id(void);

#endif
