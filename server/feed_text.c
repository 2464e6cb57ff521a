/* Text for the public feeds (see feed_text.h). Layer: base. */
#include "feed_text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break. */
#define ICS_LINE_MAX 75

static void reserve(ftext *t, size_t more)
{
    if (t->n + more + 1 <= t->cap)
        return;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->n + more + 1)
        cap *= 2;
    t->p = xrealloc(t->p, cap);
    t->cap = cap;
}

void ftext_put(ftext *t, const char *s, size_t n)
{
    reserve(t, n);
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = 0;
}

void ftext_puts(ftext *t, const char *s)
{
    ftext_put(t, s, strlen(s));
}

void ftext_putf(ftext *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    reserve(t, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(t->p + t->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->n += (size_t)n;
}

char *ftext_release(ftext *t, size_t *len)
{
    reserve(t, 0); /* an empty buffer still hands out "" */
    char *p = t->p;
    *len = t->n;
    memset(t, 0, sizeof(*t));
    return p;
}

void ftext_free(ftext *t)
{
    free(t->p);
    memset(t, 0, sizeof(*t));
}

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is not one:
 * no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void ftext_json_str(ftext *t, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    ftext_put(t, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c >= 0x80) {
            size_t k = utf8_seq(u + i, n - i);
            if (k == 0) {
                ftext_put(t, "\xef\xbf\xbd", 3); /* U+FFFD for a stray byte */
                i++;
            } else {
                ftext_put(t, s + i, k);
                i += k;
            }
            continue;
        }
        switch (c) {
        case '"': ftext_put(t, "\\\"", 2); break;
        case '\\': ftext_put(t, "\\\\", 2); break;
        case '\n': ftext_put(t, "\\n", 2); break;
        case '\r': ftext_put(t, "\\r", 2); break;
        case '\t': ftext_put(t, "\\t", 2); break;
        case '\b': ftext_put(t, "\\b", 2); break;
        case '\f': ftext_put(t, "\\f", 2); break;
        default:
            if (c < 0x20 || c == 0x7f)
                ftext_putf(t, "\\u%04x", c);
            else
                ftext_put(t, s + i, 1);
        }
        i++;
    }
    ftext_put(t, "\"", 1);
}

void ftext_ics_text(ftext *t, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c >= 0x80) {
            size_t k = utf8_seq(u + i, n - i);
            if (k == 0) {
                ftext_put(t, "\xef\xbf\xbd", 3);
                i++;
            } else {
                ftext_put(t, s + i, k);
                i += k;
            }
            continue;
        }
        if (c == '\\' || c == ';' || c == ',') {
            char esc[2] = {'\\', (char)c};
            ftext_put(t, esc, 2);
        } else if (c == '\r' || c == '\n') {
            ftext_put(t, "\\n", 2);
            if (c == '\r' && i + 1 < n && u[i + 1] == '\n')
                i++; /* CRLF is one line break */
        } else if (c >= 0x20 && c != 0x7f) {
            ftext_put(t, s + i, 1);
        } /* other control characters are not allowed in TEXT (RFC 5545 3.3.11): dropped */
        i++;
    }
}

void ftext_ics_line(ftext *t, const char *line, size_t n)
{
    const unsigned char *u = (const unsigned char *)line;
    size_t room = ICS_LINE_MAX; /* octets the current physical line may still take */
    size_t i = 0;
    while (i < n) {
        /* a whole UTF-8 sequence (or one stray byte) moves as a unit */
        size_t k = u[i] < 0x80 ? 1 : utf8_seq(u + i, n - i);
        if (k == 0)
            k = 1;
        if (k > room) {
            ftext_put(t, "\r\n ", 3);
            room = ICS_LINE_MAX - 1; /* the leading space counts */
        }
        ftext_put(t, line + i, k);
        room -= k;
        i += k;
    }
    ftext_put(t, "\r\n", 2);
}
