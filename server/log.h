/* Logging to stderr with a level. Never log a password, a token, a note or a message text.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_LOG_H
#define MUTUAL_LOG_H

typedef enum { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level;

void log_set_level(log_level l);
int log_level_parse(const char *name); /* -1 when unknown */
log_level log_get_level(void);
void log_msg(log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
