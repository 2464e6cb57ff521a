/* Peer-mentor messaging: caseloads and direct messages (the handlers are in handlers.h).
 * Layer: concerns. */
#ifndef MUTUAL_DM_H
#define MUTUAL_DM_H

#include "conn.h"

/* Pushes every unread message of the signed-in user, in id order. */
void dm_push_unread(mu_conn *c);

#endif
