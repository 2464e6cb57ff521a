/* Text for the public feeds (the Meeting Guide JSON feed and iCalendar files): a growing
 * buffer and the escaping each format needs. Our own small code, so that what reaches a
 * meeting finder is exactly what the specifications allow. Layer: base (calls nothing of the
 * server's above it). */
#ifndef MUTUAL_FEED_TEXT_H
#define MUTUAL_FEED_TEXT_H

#include <stddef.h>

typedef struct {
    char *p; /* NUL-terminated while n > 0 */
    size_t n, cap;
} ftext;

void ftext_put(ftext *t, const char *s, size_t n);
void ftext_puts(ftext *t, const char *s);
void ftext_putf(ftext *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The bytes (owned by the caller, NUL-terminated, never NULL); the buffer is empty after. */
char *ftext_release(ftext *t, size_t *len);
void ftext_free(ftext *t);

/* A JSON string literal of n bytes of UTF-8: the quotes, `"` and `\` escaped, control
 * characters as \n, \t... or \u00XX, other characters kept as they are (UTF-8 stays UTF-8).
 * A byte that is not part of valid UTF-8 becomes U+FFFD, so the output is always JSON. */
void ftext_json_str(ftext *t, const char *s, size_t n);

/* An iCalendar TEXT value (RFC 5545 3.3.11): `\`, `;` and `,` escaped with a backslash, a
 * line break as `\n` (CRLF counted once), other control characters dropped. */
void ftext_ics_text(ftext *t, const char *s, size_t n);

/* One iCalendar content line of n bytes, folded (RFC 5545 3.1) so that no physical line is
 * longer than 75 octets before its CRLF, each continuation starting with one space, and never
 * inside a UTF-8 sequence; ends with CRLF. */
void ftext_ics_line(ftext *t, const char *line, size_t n);

#endif
