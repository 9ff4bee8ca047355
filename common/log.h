/*  log.h: levelled, timestamped logging to stderr for the Herald services.
 *
 *  One line per record: "2026-11-24T10:00:00.123Z INFO  text". Services run
 *  under systemd or a terminal, so stderr is the right sink; the level is set
 *  from each program's --log-level flag.
 */
#ifndef HERALD_LOG_H
#define HERALD_LOG_H

typedef enum {
    HLOG_ERROR = 0,
    HLOG_WARN = 1,
    HLOG_INFO = 2,
    HLOG_DEBUG = 3
} hlog_level_t;

/*  Set the most verbose level that is printed. Default HLOG_INFO. */
void hlog_set_level (hlog_level_t level);
hlog_level_t hlog_get_level (void);

/*  Start every line after this with "TAG: " (a process among several of
 *  one service, such as "worker 1"); NULL or "" for none. At most 29
 *  characters are kept. */
void hlog_set_tag (const char *tag);

/*  Parse "error", "warn", "info" or "debug". Returns 0, or -1 if unknown. */
int hlog_parse_level (const char *name, hlog_level_t *level);

void hlog (hlog_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define hlog_error(...) hlog (HLOG_ERROR, __VA_ARGS__)
#define hlog_warn(...)  hlog (HLOG_WARN, __VA_ARGS__)
#define hlog_info(...)  hlog (HLOG_INFO, __VA_ARGS__)
#define hlog_debug(...) \
    do { if (hlog_get_level () >= HLOG_DEBUG) hlog (HLOG_DEBUG, __VA_ARGS__); } while (0)

#endif
