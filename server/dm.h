/* Peer-mentor messaging: caseloads and direct messages (the handlers are in handlers.h).
 * Layer: concerns. */
#ifndef MUTUAL_DM_H
#define MUTUAL_DM_H

#include "conn.h"

/* Pushes the signed-in user's unread messages with ids above c->push_after, in id order,
 * while the send queue has room (conn_has_room), moving c->push_after along. Returns 1 when
 * none is left, 0 when it stopped for room, -1 on a read error. */
int dm_push_unread_some(mu_conn *c);
/* Shows this node's connections the messages other nodes store (events.h). */
void dm_events_init(void);

#endif
