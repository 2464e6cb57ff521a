/* Peer-mentor messaging: caseloads and direct messages (the handlers are in handlers.h).
 * Layer: concerns. */
#ifndef MUTUAL_DM_H
#define MUTUAL_DM_H

#include "conn.h"

#include "store.h"

/* An unread message as the dm.msg event that shows it. */
typedef struct {
    int64_t id;
    mu_enc ev;
} dm_event;
/* Up to `max` of the user's unread messages with ids above `after`, in id order, each encoded
 * in out[i] (the caller frees each encoder): their number, or -1 on a read error (nothing is
 * left to free). Any thread, on its own reader. */
int dm_unread_page(mu_reader *r, int64_t user, int64_t after, dm_event *out, unsigned max);
/* Shows this node's connections the messages other nodes store (events.h). */
void dm_events_init(void);

#endif
