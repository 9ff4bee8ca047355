/*  test_opts.c: options as data (common/opts.c): defaults, both flag
 *  syntaxes, ranges, errors, subcommand-style stops, repeatable flags, and
 *  --help.
 */
#include "log.h"
#include "opts.h"
#include "testutil.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int count;
    size_t bytes;
    int verbose;
    int quiet;
    hlog_level_t level;
    opt_list_t keys;
} cfg_t;

static int
s_no_spaces (const char *value, char *why, size_t len)
{
    if (strchr (value, ' ')) {
        snprintf (why, len, "takes no spaces");
        return -1;
    }
    return 0;
}

static const opt_t s_opts[] = {
    { "name", 'n', OPT_STRING, offsetof (cfg_t, name), "TEXT", "anon", 0, 0, "a name",
      "Things:", s_no_spaces },
    { "count", 'c', OPT_INT, offsetof (cfg_t, count), "N", "3", 1, 10, "how many", NULL, NULL },
    { "bytes", 0, OPT_SIZE, offsetof (cfg_t, bytes), "BYTES", "65536", 64, 1LL << 30,
      "a size with a long description that needs to wrap onto a second line of the help text "
      "when printed", NULL, NULL },
    { "verbose", 'v', OPT_BOOL, offsetof (cfg_t, verbose), NULL, NULL, 0, 0, "say more",
      "Other:", NULL },
    { "quiet", 'q', OPT_BOOL, offsetof (cfg_t, quiet), NULL, NULL, 0, 0, "say less", NULL, NULL },
    { "log-level", 0, OPT_LOG_LEVEL, offsetof (cfg_t, level), "LEVEL", "info", 0, 0,
      "how much to log", NULL, NULL },
    { "key", 'k', OPT_LIST, offsetof (cfg_t, keys), "FILE", NULL, 0, 3, "a key file", NULL,
      s_no_spaces },
    { "help", 'h', OPT_HELP, 0, NULL, NULL, 0, 0, "show this help", NULL, NULL },
    { "version", 'V', OPT_VERSION, 0, NULL, NULL, 0, 0, "show the version", NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL, NULL }
};

static const opt_spec_t s_spec = { "prog", "Usage: prog [OPTIONS]\n", "The end.\n", s_opts };

static int
s_parse (cfg_t *cfg, unsigned char *given, int *next, char *err, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *) "prog";
    while (*args)
        argv[argc++] = (char *) *args++;
    memset (cfg, 0, sizeof *cfg);
    if (opts_defaults (&s_spec, cfg, err, 256) != OPTS_OK)
        return 99;
    return opts_parse (&s_spec, argc, argv, cfg, given, next, err, 256);
}

static void
test_defaults (void)
{
    cfg_t cfg;
    char err[256];
    int next;
    const char *args[] = { NULL };
    CHECK_INT (s_parse (&cfg, NULL, &next, err, args), OPTS_OK);
    CHECK_STR (cfg.name, "anon");
    CHECK_INT (cfg.count, 3);
    CHECK_INT (cfg.bytes, 65536);
    CHECK_INT (cfg.verbose, 0);
    CHECK_INT (cfg.level, HLOG_INFO);
    CHECK_INT (next, 1);
}

static void
test_syntaxes (void)
{
    cfg_t cfg;
    char err[256];
    int next;
    unsigned char given[16] = { 0 };
    const char *args[] = { "--name", "x", "-c7", "--bytes=100", "-vq", "--log-level", "debug",
                           "rest", "--count", "1", NULL };
    CHECK_INT (s_parse (&cfg, given, &next, err, args), OPTS_OK);
    CHECK_STR (cfg.name, "x");
    CHECK_INT (cfg.count, 7);
    CHECK_INT (cfg.bytes, 100);
    CHECK_INT (cfg.verbose, 1);
    CHECK_INT (cfg.quiet, 1);
    CHECK_INT (cfg.level, HLOG_DEBUG);
    CHECK_INT (next, 8);                //  stops at "rest"
    CHECK_INT (given[opts_index (&s_spec, "count")], 1);
    CHECK_INT (given[opts_index (&s_spec, "help")], 0);
    CHECK_INT (opts_index (&s_spec, "nope"), -1);
    //  "--" ends the options; the last of a repeated flag wins.
    const char *args2[] = { "-n", "a", "-n", "b", "--", "-v", NULL };
    CHECK_INT (s_parse (&cfg, NULL, &next, err, args2), OPTS_OK);
    CHECK_STR (cfg.name, "b");
    CHECK_INT (cfg.verbose, 0);
    CHECK_INT (next, 6);
    const char *args3[] = { "-", NULL };  //  a lone dash is an argument
    CHECK_INT (s_parse (&cfg, NULL, &next, err, args3), OPTS_OK);
    CHECK_INT (next, 1);
}

static void
test_errors (void)
{
    cfg_t cfg;
    char err[256];
    int next;
    struct {
        const char *args[4];
        const char *message;
    } cases[] = {
        { { "--count", "11" }, "--count takes a number from 1 to 10, not \"11\"" },
        { { "--count", "3x" }, "--count takes a number from 1 to 10, not \"3x\"" },
        { { "-c", "" }, "--count takes a number from 1 to 10, not \"\"" },
        { { "--bytes", "99999999999999999999" }, "--bytes takes a number from 64 to 1073741824, not \"99999999999999999999\"" },
        { { "--count" }, "--count needs a value" },
        { { "-c" }, "-c (--count) needs a value" },
        { { "--verbose=1" }, "--verbose takes no value" },
        { { "--nope" }, "unknown option --nope" },
        { { "-x" }, "unknown option -x" },
        { { "--name", "a b" }, "--name takes no spaces" },
        { { "--log-level", "loud" }, "--log-level takes error, warn, info or debug, not \"loud\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CHECK_INT (s_parse (&cfg, NULL, &next, err, cases[i].args), OPTS_ERROR);
        CHECK_STR (err, cases[i].message);
    }
    const char *help[] = { "-vh", NULL };
    CHECK_INT (s_parse (&cfg, NULL, &next, err, help), OPTS_HELP);
    const char *version[] = { "--version", NULL };
    CHECK_INT (s_parse (&cfg, NULL, &next, err, version), OPTS_VERSION);
}

static void
test_lists (void)
{
    cfg_t cfg;
    char err[256];
    int next;
    const char *none[] = { NULL };
    CHECK_INT (s_parse (&cfg, NULL, &next, err, none), OPTS_OK);
    CHECK_INT (cfg.keys.n, 0);
    const char *three[] = { "--key", "a", "-kb", "--key=c", NULL };
    CHECK_INT (s_parse (&cfg, NULL, &next, err, three), OPTS_OK);
    CHECK_INT (cfg.keys.n, 3);
    CHECK_STR (cfg.keys.items[0], "a");
    CHECK_STR (cfg.keys.items[1], "b");
    CHECK_STR (cfg.keys.items[2], "c");
    const char *four[] = { "-k", "a", "-k", "b", "-k", "c", "-k", "d", NULL };
    CHECK_INT (s_parse (&cfg, NULL, &next, err, four), OPTS_ERROR);
    CHECK_STR (err, "--key may be given at most 3 times");
    const char *spaced[] = { "--key", "a b", NULL };
    CHECK_INT (s_parse (&cfg, NULL, &next, err, spaced), OPTS_ERROR);
    CHECK_STR (err, "--key takes no spaces");
}

static void
test_help (void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&text, &len);
    REQUIRE (f);
    opts_help (&s_spec, f);
    fclose (f);
    const char *head = "Usage: prog [OPTIONS]\n\nThings:\n";
    CHECK (strncmp (text, head, strlen (head)) == 0);
    CHECK (strstr (text, "  -n, --name TEXT  ") != NULL);
    CHECK (strstr (text, "a name (anon)\n") != NULL);
    CHECK (strstr (text, "  -v, --verbose") != NULL);
    CHECK (strstr (text, "\nOther:\n") != NULL);
    CHECK (strstr (text, "(65536)") != NULL);
    CHECK (strstr (text, "a key file; may be given more than once\n") != NULL);
    CHECK (strstr (text, "The end.\n") != NULL);
    //  Every line fits in 79 columns.
    for (char *line = text; *line;) {
        size_t n = strcspn (line, "\n");
        CHECK (n <= 79);
        line += n + (line[n] == '\n');
    }
    free (text);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_defaults);
    RUN (test_syntaxes);
    RUN (test_errors);
    RUN (test_lists);
    RUN (test_help);
    return TEST_RESULT ();
}
