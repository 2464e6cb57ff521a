/* VTIMEZONE components for room calendars. RFC 5545 wants one for each TZID a calendar uses;
 * this builds it from the rule in force now, the POSIX TZ string that ends the zone's TZif
 * file (TZDIR, else /usr/share/zoneinfo), so a calendar app that does not know IANA names can
 * still place the times. Layer: base (over feed_text). */
#ifndef MUTUAL_FEED_TZ_H
#define MUTUAL_FEED_TZ_H

#include <stdbool.h>

#include "feed_text.h"

/* Appends the VTIMEZONE of `zone` built from `rule` (e.g. "GMT0BST,M3.5.0/1,M10.5.0"). False,
 * with nothing appended, for a rule it cannot say in RRULE terms: a Julian-day date, or a
 * change at a time outside 00:00 to 23:59:59 of its day (Asia/Jerusalem's "/26"). */
bool feed_tz_from_rule(ftext *t, const char *zone, const char *rule);

/* The same, the rule read from the system's zone file. False when there is none (the caller
 * then names the zone by TZID alone, which common calendar apps resolve themselves). The
 * name must be an IANA name in shape (no "..", no leading '/'): it is a path. */
bool feed_tz_vtimezone(ftext *t, const char *zone);

#endif
