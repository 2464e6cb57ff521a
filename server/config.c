/* Server settings (see config.h). Layer: base (calls nothing of the server's above it). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netaddr.h"
#include "xalloc.h"

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const sync_modes[] = {"full", "normal", NULL};

#define OFF(f) offsetof(mu_config, f)
static const cfg_setting table[] = {
    {"listen", CFG_STR, OFF(listen), "127.0.0.1:7681", 0, 0, NULL},
    {"db", CFG_STR, OFF(db), "./mutual.db", 0, 0, NULL},
    {"open_registration", CFG_BOOL, OFF(open_registration), "true", 0, 0, NULL},
    {"rate_per_s", CFG_UINT, OFF(rate_per_s), "20", 1, 1000000, NULL},
    {"burst", CFG_UINT, OFF(burst), "40", 1, 1000000, NULL},
    {"max_frame", CFG_UINT, OFF(max_frame), "65536", 1024, 16777216, NULL},
    {"max_text", CFG_UINT, OFF(max_text), "4000", 1, 60000, NULL},
    {"max_note", CFG_UINT, OFF(max_note), "2000", 1, 60000, NULL},
    {"send_queue", CFG_UINT, OFF(send_queue), "1048576", 65536, 1073741824, NULL},
    {"token_lifetime_days", CFG_UINT, OFF(token_lifetime_days), "30", 1, 3650, NULL},
    {"login_max_failures", CFG_UINT, OFF(login_max_failures), "5", 1, 1000, NULL},
    {"login_window_s", CFG_UINT, OFF(login_window_s), "900", 1, 86400, NULL},
    {"login_max_failures_per_addr", CFG_UINT, OFF(login_max_failures_per_addr), "30", 1, 100000,
     NULL},
    {"register_per_addr_hour", CFG_UINT, OFF(register_per_addr_hour), "20", 1, 100000, NULL},
    {"limit_exempt", CFG_STR, OFF(limit_exempt), "127.0.0.0/8, ::1", 0, 0, NULL},
    {"trusted_proxy", CFG_STR, OFF(trusted_proxy), "", 0, 0, NULL},
    {"max_conns_per_addr", CFG_UINT, OFF(max_conns_per_addr), "32", 1, 1000000, NULL},
    {"preauth_timeout_s", CFG_UINT, OFF(preauth_timeout_s), "30", 1, 3600, NULL},
    {"close_grace_s", CFG_UINT, OFF(close_grace_s), "30", 1, 3600, NULL},
    {"fragment_timeout_s", CFG_UINT, OFF(fragment_timeout_s), "30", 1, 3600, NULL},
    {"node_timeout_s", CFG_UINT, OFF(node_timeout_s), "15", 3, 3600, NULL},
    {"log_level", CFG_ENUM, OFF(log_level), "info", 0, 0, log_levels},
    {"tls_cert", CFG_STR, OFF(tls_cert), "", 0, 0, NULL},
    {"tls_key", CFG_STR, OFF(tls_key), "", 0, 0, NULL},
    {"public_url", CFG_STR, OFF(public_url), "", 0, 0, NULL},
    {"allowed_origins", CFG_STR, OFF(allowed_origins), "", 0, 0, NULL},
    {"feed_address", CFG_STR, OFF(feed_address), "", 0, 0, NULL},
    {"feed_region", CFG_STR, OFF(feed_region), "", 0, 0, NULL},
    {"feed_types", CFG_STR, OFF(feed_types), "SMART: A; family: AL-AN", 0, 0, NULL},
    {"feed_timezone", CFG_STR, OFF(feed_timezone), "Etc/UTC", 0, 0, NULL},
    {"www", CFG_STR, OFF(www), "", 0, 0, NULL},
    {"caseload_max", CFG_UINT, OFF(caseload_max), "30", 1, 1000, NULL},
    {"craving_high", CFG_UINT, OFF(craving_high), "8", 0, 10, NULL},
    {"mood_low", CFG_UINT, OFF(mood_low), "2", 0, 10, NULL},
    {"who5_low_sum", CFG_UINT, OFF(who5_low_sum), "13", 0, 25, NULL},
    {"who5_item_low", CFG_UINT, OFF(who5_item_low), "1", 0, 5, NULL},
    {"missed_days", CFG_UINT, OFF(missed_days), "3", 1, 365, NULL},
    {"missed_scan_s", CFG_UINT, OFF(missed_scan_s), "600", 1, 86400, NULL},
    {"escalate_after_min", CFG_UINT, OFF(escalate_after_min), "60", 1, 10080, NULL},
    {"escalate_help_after_min", CFG_UINT, OFF(escalate_help_after_min), "10", 1, 10080, NULL},
    {"escalate_scan_s", CFG_UINT, OFF(escalate_scan_s), "60", 1, 3600, NULL},
    {"synchronous", CFG_ENUM, OFF(synchronous), "full", 0, 0, sync_modes},
    {"writer_batch_max", CFG_UINT, OFF(writer_batch_max), "512", 1, 100000, NULL},
    {"max_connections", CFG_UINT, OFF(max_connections), "10000", 1, 1000000, NULL},
    {"shutdown_grace_ms", CFG_UINT, OFF(shutdown_grace_ms), "3000", 0, 60000, NULL},
    {"retain_read_dms_days", CFG_UINT, OFF(retain_read_dms_days), "0", 0, 36500, NULL},
    {"retain_closed_alerts_days", CFG_UINT, OFF(retain_closed_alerts_days), "0", 0, 36500, NULL},
    {"retain_notes_days", CFG_UINT, OFF(retain_notes_days), "0", 0, 36500, NULL},
    {"help", CFG_RESOURCE, 0, NULL, 0, 0, NULL},
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

const cfg_setting *config_table(size_t *n)
{
    *n = NTABLE;
    return table;
}

/* Public helplines answered by `help` when the configuration names none. */
static const char *const builtin_help[][5] = {
    {"Samaritans (emotional support, any reason)", "116 123", "https://www.samaritans.org",
     "24 hours, every day", "GB"},
    {"FRANK (drugs information and advice)", "0300 123 6600", "https://www.talktofrank.com",
     "24 hours, every day", "GB"},
    {"988 Suicide & Crisis Lifeline", "988", "https://988lifeline.org", "24 hours, every day",
     "US"},
    {"SAMHSA National Helpline (treatment referral)", "1-800-662-4357",
     "https://www.samhsa.gov/find-help/national-helpline", "24 hours, every day", "US"},
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void resources_free(mu_config *c)
{
    for (size_t i = 0; i < c->nhelp; i++) {
        free(c->help[i].name);
        free(c->help[i].phone);
        free(c->help[i].url);
        free(c->help[i].hours);
        free(c->help[i].region);
    }
    free(c->help);
    c->help = NULL;
    c->nhelp = 0;
}

static void resource_add(mu_config *c, const char *const parts[5])
{
    mu_resource *n = xrealloc(c->help, (c->nhelp + 1) * sizeof(*n));
    c->help = n;
    mu_resource *r = &c->help[c->nhelp++];
    char **dst[5] = {&r->name, &r->phone, &r->url, &r->hours, &r->region};
    for (int i = 0; i < 5; i++)
        *dst[i] = parts[i] && parts[i][0] ? xstrdup(parts[i]) : NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

/* "name | phone | url | hours | region": the name is required, the rest may be empty. */
static int parse_resource(mu_config *c, const char *value, char *err, size_t errlen)
{
    char buf[1024];
    size_t len = strlen(value);
    if (len >= sizeof(buf)) {
        fail(err, errlen, "help entry is longer than %zu characters", sizeof(buf) - 1);
        return -1;
    }
    memcpy(buf, value, len + 1);
    const char *parts[5] = {0};
    int n = 0;
    char *p = buf;
    for (;;) {
        char *bar = strchr(p, '|');
        if (bar)
            *bar = 0;
        if (n == 5) {
            fail(err, errlen, "help takes at most 5 fields: name | phone | url | hours | region");
            return -1;
        }
        parts[n++] = trim(p);
        if (!bar)
            break;
        p = bar + 1;
    }
    if (!parts[0][0]) {
        fail(err, errlen, "help needs a name: name | phone | url | hours | region");
        return -1;
    }
    if (!c->help_set) {
        resources_free(c); /* the first configured entry replaces the built-in list */
        c->help_set = true;
    }
    resource_add(c, parts);
    return 0;
}

/* The address settings are read once more at start (peers_init); checking them here makes a
 * typo a FILE:LINE error like any other. */
static int check_addresses(const char *key, const char *value, char *err, size_t errlen)
{
    char why[160];
    if (strcmp(key, "limit_exempt") == 0) {
        mu_netlist l = {0};
        int rc = netlist_parse(&l, value, why, sizeof(why));
        netlist_free(&l);
        if (rc != 0) {
            fail(err, errlen, "limit_exempt: %s", why);
            return -1;
        }
    } else if (strcmp(key, "trusted_proxy") == 0 && value[0]) {
        mu_netaddr a;
        if (netaddr_parse(value, strlen(value), &a) != 0) {
            fail(err, errlen, "trusted_proxy must be one address, not '%s'", value);
            return -1;
        }
    }
    return 0;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* A Meeting Guide type code: letters, digits and '-', as in "O", "AL-AN", "12x12". */
static bool type_code_ok(const char *s, size_t n)
{
    if (n == 0 || n > 12)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

int config_feed_types_each(const char *value, feed_types_fn fn, void *ud, char *err, size_t errlen)
{
    const char *p = value;
    while (*p) {
        size_t n = strcspn(p, ";");
        const char *colon = memchr(p, ':', n);
        const char *f = p, *fe = colon ? colon : p + n;
        while (f < fe && is_space(*f))
            f++;
        while (fe > f && is_space(fe[-1]))
            fe--;
        if (!colon && f == fe) { /* an empty entry, as after a trailing ';' */
            p += n + (p[n] == ';');
            continue;
        }
        if (!colon || f == fe || (size_t)(fe - f) > 40) {
            fail(err, errlen,
                 "feed_types entries are 'FORMAT: CODE CODE', separated by ';' (a format of "
                 "1 to 40 characters), not '%.*s'",
                 (int)n, p);
            return -1;
        }
        const char *codes = colon + 1, *ce = p + n;
        for (const char *q = codes; q < ce;) {
            q += strspn(q, " \t,");
            if (q >= ce)
                break;
            size_t k = strcspn(q, " \t,;");
            if (!type_code_ok(q, k)) {
                fail(err, errlen, "feed_types: '%.*s' is not a Meeting Guide type code", (int)k, q);
                return -1;
            }
            q += k;
        }
        if (fn)
            fn(f, (size_t)(fe - f), codes, (size_t)(ce - codes), ud);
        p += n + (p[n] == ';');
    }
    return 0;
}

/* The feed settings are read on every request for the feed: checking them here makes a typo
 * a FILE:LINE error instead of a feed that quietly lacks its types. */
static int check_feed(const char *key, const char *value, char *err, size_t errlen)
{
    if (strcmp(key, "feed_types") == 0)
        return config_feed_types_each(value, NULL, NULL, err, errlen);
    if (strcmp(key, "feed_timezone") == 0) {
        size_t n = strlen(value);
        bool ok = n >= 3 && n <= 64 && strchr(value, '/') && value[0] != '/' &&
                  value[n - 1] != '/' && !strstr(value, "..") &&
                  strspn(value,
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") == n;
        if (!ok) {
            fail(err, errlen, "feed_timezone must be an IANA name such as Europe/London, not '%s'",
                 value);
            return -1;
        }
    }
    return 0;
}

int config_set(mu_config *c, const char *key, const char *value, char *err, size_t errlen)
{
    const cfg_setting *s = NULL;
    for (size_t i = 0; i < NTABLE; i++)
        if (strcmp(table[i].name, key) == 0)
            s = &table[i];
    if (!s) {
        fail(err, errlen, "unknown setting '%s'", key);
        return -1;
    }
    char *base = (char *)c;
    switch (s->type) {
    case CFG_STR: {
        if (check_addresses(key, value, err, errlen) != 0 ||
            check_feed(key, value, err, errlen) != 0)
            return -1;
        char **dst = (char **)(base + s->offset);
        free(*dst);
        *dst = xstrdup(value);
        return 0;
    }
    case CFG_ENUM: {
        for (const char *const *ch = s->choices; *ch; ch++)
            if (strcmp(*ch, value) == 0) {
                char **dst = (char **)(base + s->offset);
                free(*dst);
                *dst = xstrdup(value);
                return 0;
            }
        char list[200] = "";
        for (const char *const *ch = s->choices; *ch; ch++) {
            strncat(list, *ch, sizeof(list) - strlen(list) - 3);
            if (ch[1])
                strncat(list, ", ", sizeof(list) - strlen(list) - 1);
        }
        fail(err, errlen, "%s must be one of %s, not '%s'", key, list, value);
        return -1;
    }
    case CFG_UINT: {
        char *end;
        errno = 0;
        if (!*value || *value == '-' || *value == '+') {
            fail(err, errlen, "%s must be a whole number, not '%s'", key, value);
            return -1;
        }
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || *end) {
            fail(err, errlen, "%s must be a whole number, not '%s'", key, value);
            return -1;
        }
        if (v < s->min || v > s->max) {
            fail(err, errlen, "%s must be from %llu to %llu, not %llu", key,
                 (unsigned long long)s->min, (unsigned long long)s->max, v);
            return -1;
        }
        *(uint64_t *)(base + s->offset) = v;
        return 0;
    }
    case CFG_BOOL: {
        bool *dst = (bool *)(base + s->offset);
        if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcasecmp(value, "on"))
            *dst = true;
        else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") ||
                 !strcasecmp(value, "off"))
            *dst = false;
        else {
            fail(err, errlen, "%s must be true or false, not '%s'", key, value);
            return -1;
        }
        return 0;
    }
    case CFG_RESOURCE: return parse_resource(c, value, err, errlen);
    }
    return -1;
}

void config_defaults(mu_config *c)
{
    char err[256];
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NTABLE; i++)
        if (table[i].def && config_set(c, table[i].name, table[i].def, err, sizeof(err)) != 0)
            abort(); /* a default outside its own range is a bug */
    for (size_t i = 0; i < sizeof(builtin_help) / sizeof(builtin_help[0]); i++)
        resource_add(c, builtin_help[i]);
}

int config_load(mu_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    char line[2048];
    unsigned lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n' && !feof(f)) {
            fail(err, errlen, "%s:%u: line is longer than %zu characters", path, lineno,
                 sizeof(line) - 2);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fail(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = 0;
        char *key = trim(s), *value = trim(eq + 1);
        char why[256];
        if (config_set(c, key, value, why, sizeof(why)) != 0) {
            fail(err, errlen, "%s:%u: %s", path, lineno, why);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        fail(err, errlen, "%s: read error: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    return rc;
}

void config_free(mu_config *c)
{
    char *base = (char *)c;
    for (size_t i = 0; i < NTABLE; i++)
        if (table[i].type == CFG_STR || table[i].type == CFG_ENUM) {
            char **p = (char **)(base + table[i].offset);
            free(*p);
            *p = NULL;
        }
    resources_free(c);
}
