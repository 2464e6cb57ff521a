/* The SQL of mentoring and direct messages. Reads run on the loop's read connection and are
 * bounded by their indexes; writes run inside writer jobs. Layer: storage, over the base. */
#ifndef MUTUAL_STORE_DM_H
#define MUTUAL_STORE_DM_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "store_users.h"

typedef struct {
    int64_t id, from_id, to_id, ts;
    char from[MU_HANDLE_MAX + 1], to[MU_HANDLE_MAX + 1];
    const char *text; /* valid until the next read on the same statement */
    size_t text_len;
} dm_row;

/* The user's mentor: 1 found (id and handle filled), 0 none, -1 error. */
int store_dm_mentor_of(mu_reader *r, int64_t user_id, int64_t *mentor_id, char *handle);
/* Whether two users have a thread (history readable). -1 on error. */
int store_dm_thread_exists(store_from f, int64_t a, int64_t b);
/* A message sent earlier by `from` to `to` with this cid: 1 found (id, ts), 0 none. */
int store_dm_find_cid(store_from f, int64_t from, int64_t to, const char *cid, size_t n,
                      int64_t *id, int64_t *ts);

/* Calls fn for each row, in ascending id order. Returns rows seen, -1 on error. */
typedef void (*dm_row_fn)(const dm_row *r, void *ud);
int store_dm_history(mu_reader *r, int64_t a, int64_t b, uint64_t before, unsigned limit,
                     dm_row_fn fn, void *ud);
int store_dm_unread_for(mu_reader *r, int64_t to, dm_row_fn fn, void *ud);
/* At most `limit` unread messages to `to` with an id above `after`, in id order. */
int store_dm_unread_after(mu_reader *r, int64_t to, int64_t after, unsigned limit, dm_row_fn fn,
                          void *ud);

typedef struct {
    int64_t other_id;
    char other[MU_HANDLE_MAX + 1];
} thread_row;
typedef void (*thread_row_fn)(const thread_row *t, void *ud);
int store_dm_threads_of(mu_reader *r, int64_t user, thread_row_fn fn, void *ud);
/* The newest message of a thread: 1 found, 0 none. */
int store_dm_last(mu_reader *r, int64_t a, int64_t b, dm_row_fn fn, void *ud);
int64_t store_dm_unread_count(mu_reader *r, int64_t to, int64_t from);

typedef struct {
    int64_t id;
    char handle[MU_HANDLE_MAX + 1];
    mu_role role;
} mentee_row;
typedef void (*mentee_row_fn)(const mentee_row *m, void *ud);
int store_dm_mentees(mu_reader *r, int64_t mentor_id, mentee_row_fn fn, void *ud);

/* Writer side. */
/* The user's mentor read inside a job: its id, 0 none, -1 error. */
int64_t store_dm_mentor_of_w(mu_wtx *w, int64_t user_id);
/* Assigns (or reassigns) a user; CASELOAD_FULL when the mentor has `max` others already. The
 * old mentor's id, when it changed, goes to *old_mentor (0 when none). */
mu_code store_dm_assign(mu_wtx *w, int64_t user_id, int64_t mentor_id, unsigned max, int64_t now,
                        int64_t *old_mentor);
mu_code store_dm_unassign(mu_wtx *w, int64_t user_id, int64_t *old_mentor);
mu_code store_dm_thread_ensure(mu_wtx *w, int64_t a, int64_t b);
/* The highest message id so far (0 for none), -1 on error. */
int64_t store_dm_max_id(mu_reader *r);
/* Messages with ids in (after, up_to], oldest first, at most `limit`: the count, or -1. On
 * the writer, for what another node sent (events.h). */
int store_dm_range_w(mu_wtx *w, int64_t after, int64_t up_to, unsigned limit, dm_row_fn fn,
                     void *ud);
/* CONFLICT when the cid was used already (the caller then looks the first one up). */
mu_code store_dm_insert(mu_wtx *w, int64_t from, int64_t to, int64_t ts, const char *text, size_t n,
                        const char *cid, size_t cid_len, int64_t *id);
mu_code store_dm_mark_read(mu_wtx *w, int64_t reader, int64_t from, uint64_t up_to);

#endif
