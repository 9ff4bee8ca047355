/*  opts.c: command-line options as data. See opts.h.
 *
 *  getopt_long would need a second table of its own and a switch per flag;
 *  this parser reads the one table directly, which is what keeps a flag,
 *  its range, its default and its help line in one place.
 */
#include "opts.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HELP_WIDTH 79           //  columns --help wraps at
#define FLAG_COLUMN_MAX 30      //  where help text starts, at most

static int
s_fail (char *err, size_t err_len, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static int
s_fail (char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, err_len, fmt, ap);
    va_end (ap);
    return OPTS_ERROR;
}

static int
s_takes_value (const opt_t *o)
{
    return o->type != OPT_BOOL && o->type != OPT_HELP && o->type != OPT_VERSION;
}

//  Stores text as the option's value. Returns 0, or -1 with the reason.
static int
s_store (const opt_t *o, const char *text, void *config, char *err, size_t err_len)
{
    char *field = (char *) config + o->offset;
    char why[160];
    switch (o->type) {
        case OPT_STRING:
            if (o->check && o->check (text, why, sizeof why) != 0)
                return s_fail (err, err_len, "--%s %s", o->name, why);
            *(const char **) field = text;
            return 0;
        case OPT_INT:
        case OPT_SIZE: {
            char *end;
            errno = 0;
            long long v = strtoll (text, &end, 10);
            if (errno || end == text || *end || v < o->min || v > o->max)
                return s_fail (err, err_len, "--%s takes a number from %lld to %lld, not \"%s\"",
                               o->name, o->min, o->max, text);
            if (o->type == OPT_INT)
                *(int *) field = (int) v;
            else
                *(size_t *) field = (size_t) v;
            return 0;
        }
        case OPT_LOG_LEVEL: {
            hlog_level_t level;
            if (hlog_parse_level (text, &level) != 0)
                return s_fail (err, err_len,
                               "--%s takes error, warn, info or debug, not \"%s\"", o->name, text);
            *(hlog_level_t *) field = level;
            return 0;
        }
        case OPT_BOOL:
            *(int *) field = 1;
            return 0;
        case OPT_LIST: {
            opt_list_t *list = (opt_list_t *) field;
            int max = o->max > 0 && o->max < OPT_LIST_MAX ? (int) o->max : OPT_LIST_MAX;
            if (o->check && o->check (text, why, sizeof why) != 0)
                return s_fail (err, err_len, "--%s %s", o->name, why);
            if (list->n >= max)
                return s_fail (err, err_len, "--%s may be given at most %d times", o->name, max);
            list->items[list->n++] = text;
            return 0;
        }
        default:
            return 0;
    }
}

int
opts_defaults (const opt_spec_t *spec, void *config, char *err, size_t err_len)
{
    for (const opt_t *o = spec->opts; o->name; o++)
        if (o->def && s_takes_value (o) && s_store (o, o->def, config, err, err_len) != 0)
            return OPTS_ERROR;
    return OPTS_OK;
}

int
opts_index (const opt_spec_t *spec, const char *name)
{
    for (int i = 0; spec->opts[i].name; i++)
        if (strcmp (spec->opts[i].name, name) == 0)
            return i;
    return -1;
}

static const opt_t *
s_find_long (const opt_spec_t *spec, const char *name, size_t len)
{
    for (const opt_t *o = spec->opts; o->name; o++)
        if (strlen (o->name) == len && strncmp (o->name, name, len) == 0)
            return o;
    return NULL;
}

static const opt_t *
s_find_short (const opt_spec_t *spec, char letter)
{
    for (const opt_t *o = spec->opts; o->name; o++)
        if (o->letter && o->letter == letter)
            return o;
    return NULL;
}

//  Applies one flag. Returns OPTS_OK, OPTS_HELP, OPTS_VERSION or OPTS_ERROR.
static int
s_apply (const opt_spec_t *spec, const opt_t *o, const char *value, void *config,
         unsigned char *given, char *err, size_t err_len)
{
    if (given)
        given[o - spec->opts] = 1;
    if (o->type == OPT_HELP)
        return OPTS_HELP;
    if (o->type == OPT_VERSION)
        return OPTS_VERSION;
    return s_store (o, value, config, err, err_len) == 0 ? OPTS_OK : OPTS_ERROR;
}

//  A cluster of short flags after one '-': "-pv", "-e EP", "-eEP".
static int
s_short (const opt_spec_t *spec, int argc, char **argv, int *i, void *config,
         unsigned char *given, char *err, size_t err_len)
{
    const char *arg = argv[*i];
    for (const char *p = arg + 1; *p; p++) {
        const opt_t *o = s_find_short (spec, *p);
        if (!o)
            return s_fail (err, err_len, "unknown option -%c", *p);
        const char *value = NULL;
        if (s_takes_value (o)) {
            if (p[1])
                value = p + 1;
            else if (*i + 1 < argc)
                value = argv[++*i];
            else
                return s_fail (err, err_len, "-%c (--%s) needs a value", *p, o->name);
        }
        int rc = s_apply (spec, o, value, config, given, err, err_len);
        if (rc != OPTS_OK || value)
            return rc;
    }
    return OPTS_OK;
}

int
opts_parse (const opt_spec_t *spec, int argc, char **argv, void *config,
            unsigned char *given, int *next, char *err, size_t err_len)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        int rc;
        if (strcmp (arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == 0)
            break;
        if (arg[1] != '-')
            rc = s_short (spec, argc, argv, &i, config, given, err, err_len);
        else {
            const char *name = arg + 2, *eq = strchr (name, '=');
            size_t len = eq ? (size_t) (eq - name) : strlen (name);
            const opt_t *o = s_find_long (spec, name, len);
            if (!o)
                return s_fail (err, err_len, "unknown option --%.*s", (int) (len < 64 ? len : 64),
                               name);
            const char *value = eq ? eq + 1 : NULL;
            if (!s_takes_value (o) && value)
                return s_fail (err, err_len, "--%s takes no value", o->name);
            if (s_takes_value (o) && !value) {
                if (i + 1 >= argc)
                    return s_fail (err, err_len, "--%s needs a value", o->name);
                value = argv[++i];
            }
            rc = s_apply (spec, o, value, config, given, err, err_len);
        }
        if (rc != OPTS_OK)
            return rc;
    }
    if (next)
        *next = i;
    return OPTS_OK;
}

//  Writes text wrapped to HELP_WIDTH, the first line from column col (the
//  cursor is there already), the others indented to it.
static void
s_wrap (FILE *f, const char *text, int col)
{
    int x = col;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn (p, " ");
        if (n == 0)
            break;
        if (x > col && x + 1 + (int) n > HELP_WIDTH) {
            fprintf (f, "\n%*s", col, "");
            x = col;
        }
        else if (x > col) {
            fputc (' ', f);
            x++;
        }
        fwrite (p, 1, n, f);
        x += (int) n;
        p += n;
    }
    fputc ('\n', f);
}

static int
s_flag_text (const opt_t *o, char *buf, size_t size)
{
    int n;
    if (o->letter)
        n = snprintf (buf, size, "-%c, --%s", o->letter, o->name);
    else
        n = snprintf (buf, size, "--%s", o->name);
    if (s_takes_value (o) && o->metavar)
        n += snprintf (buf + n, size - (size_t) n, " %s", o->metavar);
    return n;
}

void
opts_help (const opt_spec_t *spec, FILE *f)
{
    int col = 0;
    char flag[128];
    for (const opt_t *o = spec->opts; o->name; o++) {
        int n = s_flag_text (o, flag, sizeof flag) + 4;
        if (n > col && n <= FLAG_COLUMN_MAX)
            col = n;
    }
    fputs (spec->synopsis, f);
    for (const opt_t *o = spec->opts; o->name; o++) {
        //  A section without a title is a blank line.
        if (o->section)
            fprintf (f, *o->section ? "\n%s\n" : "\n", o->section);
        int n = s_flag_text (o, flag, sizeof flag);
        fprintf (f, "  %s", flag);
        if (n + 4 > col)
            fprintf (f, "\n%*s", col, "");
        else
            fprintf (f, "%*s", col - n - 2, "");
        char text[1024];
        if (o->def)
            snprintf (text, sizeof text, "%s (%s)", o->help, *o->def ? o->def : "''");
        else if (o->type == OPT_LIST)
            snprintf (text, sizeof text, "%s; may be given more than once", o->help);
        else
            snprintf (text, sizeof text, "%s", o->help);
        s_wrap (f, text, col);
    }
    if (spec->epilog)
        fprintf (f, "\n%s", spec->epilog);
}

int
opts_usage_error (const opt_spec_t *spec, const char *message)
{
    fprintf (stderr, "%s: %s\nTry '%s --help'.\n", spec->prog, message, spec->prog);
    return OPTS_EXIT_USAGE;
}
