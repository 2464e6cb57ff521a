/* Strict parsing of what people type: a number is a whole number in its range and nothing
 * else, a word is one of the accepted words. Nothing here prints; callers name the field. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_parse.h"

bool parse_int(const char *s, long lo, long hi, long *out)
{
    if (!s)
        return false;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return false;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s)
        return false;
    while (isspace((unsigned char)*end))
        end++;
    if (*end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int parse_int_list(const char *s, int64_t *out, int want, long lo, long hi)
{
    char buf[256];
    if (!s || strlen(s) >= sizeof(buf))
        return -1;
    memcpy(buf, s, strlen(s) + 1);
    int n = 0;
    char *save = NULL;
    /* commas, spaces or both separate the items: "3,4,2" and "3 4 2" both read */
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        long v;
        if (n == want || !parse_int(tok, lo, hi, &v))
            return -1;
        out[n++] = v;
    }
    return n == want ? n : -1;
}

const char *parse_word(const char *s, const char *const *words)
{
    if (!s)
        return NULL;
    while (isspace((unsigned char)*s))
        s++;
    char norm[64];
    size_t n = 0;
    /* "as planned", "As-Planned" and "as_planned" are one answer */
    for (; *s && n < sizeof(norm) - 1; s++)
        norm[n++] = (char)((*s == ' ' || *s == '-') ? '_' : tolower((unsigned char)*s));
    if (*s)
        return NULL;
    while (n && norm[n - 1] == '_')
        n--;
    norm[n] = 0;
    for (size_t i = 0; words[i]; i++)
        if (!strcmp(norm, words[i]))
            return words[i];
    return NULL;
}

const char *const parse_use_words[] = {"none", "as_planned", "more_than_planned", NULL};
const char *const parse_stage_words[] = {
    "precontemplation", "contemplation", "preparation", "action", "maintenance", "relapse", NULL};
const char *const parse_share_words[] = {"none", "alerts", "scores", NULL};
const char *const parse_role_words[] = {"member", "family", "mentor", "admin", NULL};
const char *const parse_audience_words[] = {"open", "recovery", "carers", "mentors", NULL};
const char *const parse_backlog_words[] = {"join", "recent", NULL};
const char *const parse_category_words[] = {
    "crisis",        "mutual_aid", "treatment",  "harm_reduction", "family",
    "mental_health", "housing",    "employment", "other",          NULL};

bool parse_tz(const char *s, int *out)
{
    long v;
    if (!parse_int(s, -720, 840, &v))
        return false;
    *out = (int)v;
    return true;
}
