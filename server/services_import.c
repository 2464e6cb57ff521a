/* CSV import of the services directory (see services_import.h). The format is RFC 4180:
 * fields separated by commas, records by LF or CRLF, a field in double quotes may hold
 * commas, line breaks and doubled quotes. Unquoted fields are trimmed of spaces and tabs, an
 * empty field is an absent one, blank lines are skipped, and a UTF-8 byte order mark at the
 * start is ignored (spreadsheets write one). Layer: storage tools. */
#include "services_import.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store.h"
#include "store_services.h"
#include "xalloc.h"

#define IMPORT_MAX_BYTES (16L << 20) /* far beyond any area's directory */

typedef struct {
    const char *p, *end;
    long line; /* of the next byte */
} cursor;

/* One field into a malloc'd string (NULL when empty). Returns 1 at the end of a field
 * followed by another, 0 at the end of the record, -1 on an error (err set). */
static int next_field(cursor *c, char **out, char *err, size_t errlen)
{
    size_t cap = 64, n = 0;
    char *s = xmalloc(cap);
    int more = 0;
    bool quoted = c->p < c->end && *c->p == '"';
    if (quoted) {
        c->p++;
        for (;;) {
            if (c->p >= c->end) {
                snprintf(err, errlen, "line %ld: a quoted field is not closed", c->line);
                free(s);
                return -1;
            }
            char ch = *c->p++;
            if (ch == '"') {
                if (c->p < c->end && *c->p == '"') {
                    c->p++;
                } else {
                    break;
                }
            } else if (ch == '\n') {
                c->line++;
            }
            if (n + 1 >= cap)
                s = xrealloc(s, cap *= 2);
            s[n++] = ch;
        }
    } else {
        while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
               !(*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')) {
            if (n + 1 >= cap)
                s = xrealloc(s, cap *= 2);
            s[n++] = *c->p++;
        }
        size_t b = 0;
        while (b < n && (s[b] == ' ' || s[b] == '\t'))
            b++;
        while (n > b && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        memmove(s, s + b, n - b);
        n -= b;
    }
    if (c->p < c->end && *c->p == ',') {
        c->p++;
        more = 1;
    } else if (c->p < c->end && *c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n') {
        c->p += 2;
        c->line++;
    } else if (c->p < c->end && *c->p == '\n') {
        c->p++;
        c->line++;
    } else if (c->p < c->end) {
        snprintf(err, errlen, "line %ld: text after a closing quote", c->line);
        free(s);
        return -1;
    }
    s[n] = '\0';
    if (n == 0) {
        free(s);
        s = NULL;
    }
    *out = s;
    return more;
}

/* A record of at most `max` fields; *nf the count. -1 on an error, else 0. */
static int next_record(cursor *c, char **fields, int max, int *nf, char *err, size_t errlen)
{
    *nf = 0;
    for (;;) {
        char *f = NULL;
        int r = next_field(c, &f, err, errlen);
        if (r >= 0 && *nf == max) {
            free(f);
            snprintf(err, errlen, "line %ld: more than %d fields", c->line - (r == 0), max);
            r = -1;
        }
        if (r < 0) {
            for (int i = 0; i < *nf; i++)
                free(fields[i]);
            *nf = 0;
            return -1;
        }
        fields[(*nf)++] = f;
        if (r == 0)
            return 0;
    }
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = xmalloc(IMPORT_MAX_BYTES + 1);
    *len = fread(buf, 1, IMPORT_MAX_BYTES + 1, f);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || *len > IMPORT_MAX_BYTES) {
        snprintf(err, errlen, bad ? "cannot read %s" : "%s is larger than 16 MiB", path);
        free(buf);
        return NULL;
    }
    if (memchr(buf, '\0', *len)) {
        snprintf(err, errlen, "%s holds a NUL byte: it is not a text file", path);
        free(buf);
        return NULL;
    }
    return buf;
}

long services_import(db_conn *db, const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *buf = read_file(path, &len, err, errlen);
    if (!buf)
        return -1;
    cursor c = {buf, buf + len, 1};
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        c.p += 3;
    service_t *all = NULL;
    long n = 0, cap = 0, result = -1;
    int col[SVC__FIELDS + 1], ncol = 0;
    char *fields[SVC__FIELDS + 1];
    mu_wtx *w = NULL;
    bool in_tx = false;

    /* The header names each column once. */
    if (next_record(&c, fields, SVC__FIELDS, &ncol, err, errlen) != 0)
        goto cleanup;
    bool seen[SVC__FIELDS] = {false};
    for (int i = 0; i < ncol; i++) {
        int k = -1;
        for (int j = 0; j < SVC__FIELDS && fields[i]; j++)
            if (!strcasecmp(fields[i], svc_keys[j]))
                k = j;
        if (k < 0 || seen[k]) {
            snprintf(err, errlen,
                     "line 1: the header must name columns out of name, category, "
                     "description, phone, url, hours, region, referral, each once "
                     "('%s' is not one)",
                     fields[i] ? fields[i] : "");
            for (int j = i; j < ncol; j++)
                free(fields[j]);
            goto cleanup;
        }
        seen[k] = true;
        col[i] = k;
        free(fields[i]);
    }
    if (!seen[SVC_NAME] || !seen[SVC_CATEGORY]) {
        snprintf(err, errlen, "line 1: the header must have the columns name and category");
        goto cleanup;
    }
    /* Every record is read and checked before anything is written. */
    while (c.p < c.end) {
        long line = c.line;
        int nf;
        if (next_record(&c, fields, ncol, &nf, err, errlen) != 0)
            goto cleanup;
        if (nf == 1 && !fields[0])
            continue; /* a blank line */
        if (n == cap)
            all = xrealloc(all, (size_t)(cap = cap ? cap * 2 : 64) * sizeof(*all));
        service_t *s = &all[n++];
        memset(s, 0, sizeof(*s));
        for (int i = 0; i < nf; i++)
            s->f[col[i]] = fields[i];
        char why[200];
        if (nf != ncol) {
            snprintf(err, errlen, "line %ld: %d fields where the header names %d", line, nf, ncol);
            goto cleanup;
        }
        if (!service_check(s, why, sizeof(why))) {
            snprintf(err, errlen, "line %ld: %s", line, why);
            goto cleanup;
        }
    }
    if (db_begin(db, true) != DB_DONE) {
        snprintf(err, errlen, "cannot start a transaction: %s", db_errmsg(db));
        goto cleanup;
    }
    in_tx = true;
    w = store_wtx_direct(db);
    for (long i = 0; i < n; i++) {
        int64_t id;
        if (store_services_add(w, &all[i], &id) != MU_OK) {
            snprintf(err, errlen, "cannot store the service of record %ld: %s", i + 1,
                     db_errmsg(db));
            goto cleanup;
        }
    }
    if (db_exec_quiet(db, "COMMIT") != DB_DONE) {
        snprintf(err, errlen, "cannot commit: %s", db_errmsg(db));
        goto cleanup;
    }
    in_tx = false;
    result = n;
cleanup:
    if (in_tx)
        db_exec(db, "ROLLBACK");
    if (w)
        store_wtx_free(w);
    for (long i = 0; i < n; i++)
        service_free(&all[i]);
    free(all);
    free(buf);
    return result;
}
