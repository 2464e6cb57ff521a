/* The SQL of room.report: the reported message, read on the loop, and the report itself, an
 * audit entry written by the writer that keeps a copy of the message's text until the
 * message goes (a trigger of the schema erases the copy). Layer: storage. */
#ifndef MUTUAL_STORE_REPORTS_H
#define MUTUAL_STORE_REPORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "store.h"

/* A held message of a room. */
typedef struct {
    int64_t user, ts;
    char from[MU_HANDLE_MAX + 1];
    char *text; /* owned (malloc'd); freed by store_reports_msg_free */
    size_t text_len;
} report_msg;

/* 1 found, 0 not held, -1 error. */
int store_reports_msg(mu_reader *r, const char *room, int64_t seq, report_msg *out);
void store_reports_msg_free(report_msg *m);

typedef struct {
    int64_t ts, actor_id, seq;
    const char *actor, *room;
    const char *reason; /* NULL: none */
} report_in;

/* Writer: the report's audit entry, its target the message's author and its detail a copy of
 * the text, taken from the message as it is held now. MU_E_NOT_FOUND when the message is no
 * longer held; *repeat (and nothing written) when this reporter's earlier report of the same
 * message still holds its copy. */
mu_code store_reports_add(mu_wtx *w, const report_in *in, bool *repeat);

#endif
