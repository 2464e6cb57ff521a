/* Server settings: one table of typed settings (name, type, default, range), read from a
 * `key = value` file. Every server setting lives here; nothing else parses configuration.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_CONFIG_H
#define MUTUAL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *name, *phone, *url, *hours, *region; /* phone..region may be NULL */
} mu_resource;

typedef struct {
    char *listen; /* HOST:PORT */
    char *db;
    bool open_registration;
    uint64_t rate_per_s, burst;
    uint64_t max_frame, max_text, max_note;
    uint64_t send_queue;
    uint64_t token_lifetime_days;
    uint64_t login_max_failures, login_window_s;
    uint64_t login_max_failures_per_addr, register_per_addr_hour;
    char *limit_exempt;  /* addresses and prefixes exempt from the per-address limits */
    char *trusted_proxy; /* the reverse proxy whose X-Forwarded-For is believed, or "" */
    uint64_t max_conns_per_addr, preauth_timeout_s, close_grace_s, fragment_timeout_s;
    uint64_t node_timeout_s; /* several nodes: a silent node's presence is cleared after it */
    char *log_level;         /* error, warn, info, debug */
    char *tls_cert, *tls_key;
    char *public_url; /* the address people use, e.g. https://mutual.example.org; may be empty */
    char *allowed_origins; /* other origins whose pages may open WebSockets (comma-separated) */
    /* The meeting feed and calendars (room_feed.c): the approximate address and regions its
     * meetings are listed under, Meeting Guide type codes per room format, and the zone of a
     * schedule slot that names none. */
    char *feed_address, *feed_region, *feed_types, *feed_timezone;
    char *www; /* serve the browser app from this directory instead (development) */
    uint64_t caseload_max;
    uint64_t craving_high, mood_low, who5_low_sum, who5_item_low;
    uint64_t missed_days, missed_scan_s;
    uint64_t escalate_after_min, escalate_help_after_min, escalate_scan_s;
    char *synchronous; /* full or normal */
    uint64_t writer_batch_max;
    uint64_t max_connections;
    uint64_t shutdown_grace_ms;
    uint64_t retain_read_dms_days, retain_closed_alerts_days, retain_notes_days;
    mu_resource *help;
    size_t nhelp;
    bool help_set; /* a `help` line was read: the built-in list is replaced */
} mu_config;

/* Fills every setting with its default. */
void config_defaults(mu_config *c);
/* Reads a file over the current values. On failure returns -1 with "FILE:LINE: reason" in err. */
int config_load(mu_config *c, const char *path, char *err, size_t errlen);
/* Sets one setting from text, as a line of the file would. */
int config_set(mu_config *c, const char *key, const char *value, char *err, size_t errlen);
void config_free(mu_config *c);

/* Walks a `feed_types` value, "FORMAT: CODE CODE; FORMAT: CODE..." (codes separated by
 * spaces or commas, a format with no codes allowed), calling fn for each entry with the
 * trimmed format and its codes text (not NUL-terminated). Returns 0, or -1 with the reason in
 * err when the value is out of shape (fn may have been called for the entries before). */
typedef void (*feed_types_fn)(const char *format, size_t format_len, const char *codes,
                              size_t codes_len, void *ud);
int config_feed_types_each(const char *value, feed_types_fn fn, void *ud, char *err, size_t errlen);

/* The settings table, for documentation and tests. */
typedef enum { CFG_STR, CFG_UINT, CFG_BOOL, CFG_ENUM, CFG_RESOURCE } cfg_type;
typedef struct {
    const char *name;
    cfg_type type;
    size_t offset;
    const char *def;
    uint64_t min, max;
    const char *const *choices; /* CFG_ENUM */
} cfg_setting;
const cfg_setting *config_table(size_t *n);

#endif
