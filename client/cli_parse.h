/* Strict parsing of numbers and words typed at the command line or at a prompt. */
#ifndef MUTUAL_CLI_PARSE_H
#define MUTUAL_CLI_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* A whole decimal number from lo to hi, optionally surrounded by spaces, and nothing else. */
bool parse_int(const char *s, long lo, long hi, long *out);
/* Exactly `want` numbers lo..hi separated by commas or spaces; returns want, or -1. */
int parse_int_list(const char *s, int64_t *out, int want, long lo, long hi);
/* One of `words` (NULL-terminated), ignoring case, with spaces or hyphens for underscores;
 * returns the canonical word, or NULL. */
const char *parse_word(const char *s, const char *const *words);
/* A time zone offset in minutes east of UTC, -720 to 840 as the protocol takes it. */
bool parse_tz(const char *s, int *out);

extern const char *const parse_use_words[];
extern const char *const parse_stage_words[];
extern const char *const parse_share_words[];
extern const char *const parse_role_words[];
extern const char *const parse_audience_words[];
extern const char *const parse_backlog_words[];
extern const char *const parse_category_words[];

#endif
