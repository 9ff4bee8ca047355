/*  fuzz_opts.c: libFuzzer harness for the option parser (common/opts.c)
 *  that every program's command line goes through.
 *
 *  Input: NUL-separated arguments. Oracles: no crash or undefined
 *  behaviour; after OPTS_OK every number is within its range, every string
 *  points into argv or at its default, and the index of the first operand
 *  is within argv; after OPTS_ERROR the message is a terminated line.
 */
#include "log.h"
#include "opts.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *endpoint;
    int count;
    size_t bytes;
    int flag;
    hlog_level_t level;
} cfg_t;

static const opt_t s_opts[] = {
    { "endpoint", 'e', OPT_STRING, offsetof (cfg_t, endpoint), "EP", "tcp://x", 0, 0, "e", "S:", NULL },
    { "count", 'n', OPT_INT, offsetof (cfg_t, count), "N", "5", -3, 100, "n", NULL, NULL },
    { "bytes", 0, OPT_SIZE, offsetof (cfg_t, bytes), "B", "64", 1, 1LL << 40, "b", NULL, NULL },
    { "flag", 'f', OPT_BOOL, offsetof (cfg_t, flag), NULL, NULL, 0, 0, "f", NULL, NULL },
    { "log-level", 'l', OPT_LOG_LEVEL, offsetof (cfg_t, level), "L", "warn", 0, 0, "l", NULL, NULL },
    { "help", 'h', OPT_HELP, 0, NULL, NULL, 0, 0, "h", NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL, NULL }
};

static const opt_spec_t s_spec = { "fuzz", "Usage: fuzz\n", NULL, s_opts };

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    char *copy = malloc (size + 1);
    if (!copy)
        return 0;
    memcpy (copy, data, size);
    copy[size] = 0;
    char *argv[33];
    int argc = 0;
    argv[argc++] = (char *) "fuzz";
    for (char *p = copy; argc < 33 && p <= copy + size; p += strlen (p) + 1)
        argv[argc++] = p;
    cfg_t cfg;
    char err[128];
    int next = -1;
    unsigned char given[8] = { 0 };
    if (opts_defaults (&s_spec, &cfg, err, sizeof err) != OPTS_OK)
        abort ();
    int rc = opts_parse (&s_spec, argc, argv, &cfg, given, &next, err, sizeof err);
    if (rc == OPTS_OK) {
        if (next < 1 || next > argc || cfg.count < -3 || cfg.count > 100 || cfg.bytes < 1
            || cfg.bytes > (1ull << 40) || cfg.level > HLOG_DEBUG)
            abort ();
        int inside = strcmp (cfg.endpoint, "tcp://x") == 0 && !given[0];
        for (int i = 1; i < argc && !inside; i++)
            inside = cfg.endpoint >= argv[i] && cfg.endpoint <= argv[i] + strlen (argv[i]);
        if (!inside)
            abort ();
    }
    else if (rc == OPTS_ERROR && memchr (err, 0, sizeof err) == NULL)
        abort ();
    free (copy);
    return 0;
}
