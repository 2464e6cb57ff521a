/* Login and registration limits shared by the nodes of one PostgreSQL database (events.h):
 * each change to a node's counts (an attempt begun, one that passed, a success that clears)
 * goes to the other nodes by key, so that guesses spread over N nodes get no more tries than
 * guesses made through one. Attempts in flight on two nodes at the same instant are counted
 * by each node alone until their events arrive (a few milliseconds). Layer: concerns (over
 * events and the store). */
#ifndef MUTUAL_THROTTLE_SHARE_H
#define MUTUAL_THROTTLE_SHARE_H

/* The handle throttle, and the per-address login ceiling and registration limit. */
void throttle_share_init(void);

#endif
