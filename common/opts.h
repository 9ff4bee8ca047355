/*  opts.h: command-line options as data.
 *
 *  Each program describes its flags in one table of opt_t: the name, the
 *  type, where the value goes in the program's config struct, the range,
 *  the default (written once, as it would be typed) and the help text. The
 *  same table sets the defaults, parses argv, checks ranges and prints
 *  --help, so a flag cannot exist without its help line, and a default
 *  cannot differ between the two.
 *
 *  Syntax: --name VALUE, --name=VALUE, -x VALUE, -xVALUE, -abc for short
 *  flags without values; "--" ends the options; parsing stops at the first
 *  argument that is not an option (so a subcommand's own flags follow it).
 */
#ifndef HERALD_OPTS_H
#define HERALD_OPTS_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
    OPT_STRING = 1,     //  const char *, pointing into argv or at the default
    OPT_INT,            //  int, within [min, max]
    OPT_SIZE,           //  size_t, within [min, max]
    OPT_BOOL,           //  int, set to 1; takes no value
    OPT_LOG_LEVEL,      //  hlog_level_t: error, warn, info or debug
    OPT_LIST,           //  opt_list_t: each time the flag is given adds a value
    OPT_HELP,           //  -h, --help: opts_parse returns OPTS_HELP
    OPT_VERSION         //  -V, --version: opts_parse returns OPTS_VERSION
} opt_type_t;

//  The values of a flag that may be given more than once (OPT_LIST), in
//  the order given; at most max of the table entry (OPT_LIST_MAX if 0).
#define OPT_LIST_MAX 16
typedef struct {
    const char *items[OPT_LIST_MAX];
    int n;
} opt_list_t;

typedef struct {
    const char *name;   //  the long name without "--"; NULL ends the table
    char letter;        //  the short form, or 0
    opt_type_t type;
    size_t offset;      //  of the field in the config struct
    const char *metavar;    //  the value's name in --help ("N", "EP")
    const char *def;    //  the default as typed, or NULL for none
    long long min, max;
    const char *help;   //  a sentence or two; wrapped by opts_help
    const char *section;    //  when set, --help starts a section here ("": untitled)
    //  An extra check of a string value: returns 0, or -1 with the rest of
    //  a sentence that starts with the flag ("takes '*' or origins ...").
    int (*check) (const char *value, char *why, size_t why_len);
} opt_t;

typedef struct {
    const char *prog;       //  for messages: "herald-broker", "herald pub"
    const char *synopsis;   //  "Usage: ..." and what the program is for
    const char *epilog;     //  after the options (signals, exit status)
    const opt_t *opts;
} opt_spec_t;

enum { OPTS_OK = 0, OPTS_ERROR = -1, OPTS_HELP = 1, OPTS_VERSION = 2 };

/*  Store every option's default in config (fields without one are left as
 *  they are). Returns 0, or -1 if a default does not parse, with the
 *  reason in err: a mistake in the table. */
int opts_defaults (const opt_spec_t *spec, void *config, char *err, size_t err_len);

/*  Parse argv[1..argc-1] into config. Returns OPTS_OK with *next the index
 *  of the first argument that is not an option, OPTS_HELP or OPTS_VERSION
 *  if asked for, or OPTS_ERROR with a sentence in err such as
 *  "--max-payload takes a number from 1 to 268435456, not \"0\"". Each
 *  flag given sets its field; the last one given wins. If given is not
 *  NULL it has a byte per table entry, set to 1 for each flag given. */
int opts_parse (const opt_spec_t *spec, int argc, char **argv, void *config,
                unsigned char *given, int *next, char *err, size_t err_len);

/*  The table index of the flag named name (without "--"), or -1. */
int opts_index (const opt_spec_t *spec, const char *name);

/*  Print the synopsis, every option with its help and default, and the
 *  epilog. */
void opts_help (const opt_spec_t *spec, FILE *f);

/*  The exit status of a usage error. */
#define OPTS_EXIT_USAGE 2

/*  Print "PROG: MESSAGE" and a pointer to --help on stderr; returns
 *  OPTS_EXIT_USAGE. */
int opts_usage_error (const opt_spec_t *spec, const char *message);

#endif
