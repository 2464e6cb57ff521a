/* The public face of listed rooms: the Meeting Guide feed (GET /meetings.json) and a room's
 * iCalendar file (GET /rooms/<room>.ics), rendered from the in-memory room registry and the
 * feed settings. A room is in the feed when it is `listed`, has a schedule, and its audience
 * is open or recovery. Loop thread only; nothing here touches the store. Layer: concerns
 * (rooms), called by www.c. */
#ifndef MUTUAL_ROOM_FEED_H
#define MUTUAL_ROOM_FEED_H

#include <stdbool.h>
#include <stddef.h>

/* The feed: a JSON array, "[]" when public_url is not set. The caller frees it. */
char *room_feed_json(size_t *len);

/* The calendar of the room named by n bytes of slug, or NULL when no such room is in the
 * feed. `base` is the server's address ("https://host", no trailing '/') for the join link
 * when public_url is not set. The caller frees it. */
char *room_feed_ics(const char *slug, size_t n, const char *base, size_t *len);

/* "/rooms/<slug>.ics": true with the slug's bytes, for a path that names a calendar. */
bool room_feed_ics_path(const char *path, const char **slug, size_t *n);

#endif
