/*  bench_prepare.c: how long gql_prepare takes for documents of 1k to 8k
 *  items in each shape of tests/unit/gql/gql_shapes.h (aliases,
 *  fragments, variables, arguments, lists, ...), against the chat
 *  example's schema. Prints a table; asserts nothing. The work of
 *  preparing must grow linearly with n, so each column should about
 *  double from one row to the next.
 *
 *      build/tests/bench/bench_prepare [schema.graphql [repetitions [shape]]]
 *
 *  "open" times use limits high enough that every shape is prepared in
 *  full; "default" times use the engine's default limits (max_fields
 *  refuses the larger documents before validation).
 */
#include "gql.h"
#include "gql_shapes.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef BENCH_CHAT_SCHEMA
#   define BENCH_CHAT_SCHEMA "examples/chat/schema.graphql"
#endif

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

//  The fastest of reps runs, in milliseconds; *ok says whether it was
//  accepted.
static double
s_time (const gql_schema_t *s, const char *doc, size_t len, const char *op, const gql_limits_t *limits,
        int reps, int *ok)
{
    double best = -1;
    for (int r = 0; r < reps; r++) {
        char *errors = NULL;
        double t0 = s_now ();
        gql_sub_t *sub = gql_prepare (s, doc, len, op, NULL, limits, &errors);
        double dt = s_now () - t0;
        *ok = sub != NULL;
        gql_sub_destroy (&sub);
        free (errors);
        if (best < 0 || dt < best)
            best = dt;
    }
    return best;
}

int
main (int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : BENCH_CHAT_SCHEMA;
    int reps = argc > 2 ? atoi (argv[2]) : 3;
    if (reps < 1)
        reps = 1;
    const char *only = argc > 3 ? argv[3] : NULL;
    char *sdl = shapes_schema (path);
    if (!sdl) {
        fprintf (stderr, "bench_prepare: cannot read %s\n", path);
        return 1;
    }
    char *err = NULL;
    gql_schema_t *s = gql_schema_new (sdl, strlen (sdl), &err);
    if (!s) {
        fprintf (stderr, "bench_prepare: schema: %s\n", err ? err : "?");
        free (err);
        free (sdl);
        return 1;
    }
    gql_limits_t open = { GQL_DEFAULT_MAX_DEPTH };
#ifdef GQL_DEFAULT_MAX_FIELDS
    open.max_fields = INT_MAX;
#endif
    printf ("gql_prepare, fastest of %d runs, in ms (open limits | default limits)\n", reps);
    printf ("%-20s %6s %8s %10s %10s\n", "shape", "n", "bytes", "open", "default");
    for (size_t k = 0; k < SHAPES_COUNT; k++) {
        const shape_t *sh = &SHAPES[k];
        if (only && strcmp (only, sh->name) != 0)
            continue;
        for (int n = 1000; n <= 8000; n *= 2) {
            jbuf_t d;
            jbuf_init (&d, 0);
            sh->gen (&d, n);
            if (jbuf_failed (&d)) {
                fprintf (stderr, "bench_prepare: out of memory\n");
                return 1;
            }
            int ok_open = 0, ok_def = 0;
            double t_open = s_time (s, d.data, d.len, sh->operation, &open, reps, &ok_open);
            double t_def = s_time (s, d.data, d.len, sh->operation, NULL, reps, &ok_def);
            printf ("%-20s %6d %8zu %8.2f %s %8.2f %s\n", sh->name, n, d.len, t_open, ok_open ? "ok" : "no",
                    t_def, ok_def ? "ok" : "no");
            fflush (stdout);
            jbuf_free (&d);
        }
    }
    gql_schema_destroy (&s);
    free (sdl);
    return 0;
}
