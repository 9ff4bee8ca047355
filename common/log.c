/*  log.c: the services' stderr logger. See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static hlog_level_t s_level = HLOG_INFO;
static char s_tag[32];
static const char *s_names[] = { "error", "warn", "info", "debug" };

void
hlog_set_level (hlog_level_t level)
{
    s_level = level;
}

void
hlog_set_tag (const char *tag)
{
    snprintf (s_tag, sizeof s_tag, "%s%s", tag ? tag : "", tag && *tag ? ": " : "");
}

hlog_level_t
hlog_get_level (void)
{
    return s_level;
}

int
hlog_parse_level (const char *name, hlog_level_t *level)
{
    for (int i = 0; i < 4; i++)
        if (strcmp (name, s_names[i]) == 0) {
            *level = (hlog_level_t) i;
            return 0;
        }
    return -1;
}

void
hlog (hlog_level_t level, const char *fmt, ...)
{
    if (level > s_level)
        return;
    struct timespec ts;
    struct tm tm;
    clock_gettime (CLOCK_REALTIME, &ts);
    gmtime_r (&ts.tv_sec, &tm);

    //  Format the whole line first so that concurrent writers never
    //  interleave inside a record.
    char line[1024];
    int n = snprintf (line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                      tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, s_names[level], s_tag);
    va_list ap;
    va_start (ap, fmt);
    int m = vsnprintf (line + n, sizeof line - (size_t) n - 1, fmt, ap);
    va_end (ap);
    size_t len = (size_t) n + (m < 0 ? 0 : (size_t) m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    fwrite (line, 1, len, stderr);
}
