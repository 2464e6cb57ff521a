/* What dm.c shares with dm_remote.c, and nothing else includes: how a DM is shown.
 * Layer: concerns. */
#ifndef MUTUAL_DM_INT_H
#define MUTUAL_DM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "events.h"

/* A dm.msg's fields. */
void dm_enc(mu_enc *e, int64_t id, const char *from, const char *to, const char *text, size_t n,
            int64_t ts);
/* One frame, queued to every connection of each user (but `except`); consumes e. A dm.msg
 * gives its recipient `to` and `id`, so that a connection still pushing unread messages gets
 * it from there, once. */
void dm_fan_out(mu_enc *e, int64_t user_a, int64_t user_b, mu_conn *except, int64_t to, int64_t id);
/* The messages this node has shown (loop thread only). */
extern events_shown dm_shown;

#endif
