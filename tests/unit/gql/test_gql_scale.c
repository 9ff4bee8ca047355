/*  test_gql_scale.c: the work of gql_prepare grows linearly with the
 *  document, in every shape of gql_shapes.h, and the max_fields limit.
 *
 *  Work is the engine's deterministic step count (gql_prepare_counted),
 *  never a clock: for each shape the count at 8,000 items must stay
 *  within 10 times the count at 1,000 (linear growth gives 8; quadratic
 *  growth 64), and at both sizes within S_WORK_PER_BYTE steps per byte of
 *  the document (which also catches work that a budget stops short of
 *  growing). The counts are printed.
 */
#include "gql_shapes.h"
#include "gqltest.h"

#include <limits.h>

static gql_schema_t *S;

#define S_WORK_PER_BYTE 100

//  The work of preparing the shape at size n, with limits that let every
//  shape through to the end; *ok says whether it was accepted.
static uint64_t
s_work (const shape_t *sh, int n, int *ok, size_t *bytes)
{
    jbuf_t d;
    jbuf_init (&d, 0);
    sh->gen (&d, n);
    REQUIRE (!jbuf_failed (&d));
    *bytes = d.len;
    gql_limits_t limits = { GQL_DEFAULT_MAX_DEPTH, INT_MAX };
    char *errors = NULL;
    uint64_t work = 0;
    gql_sub_t *sub = gql_prepare_counted (S, d.data, d.len, sh->operation, NULL, &limits, &errors, &work);
    *ok = sub != NULL;
    if (!sub && sh->valid)
        fprintf (stderr, "%s (n=%d) refused: %.300s\n", sh->name, n, errors ? errors : "(none)");
    gql_sub_destroy (&sub);
    free (errors);
    jbuf_free (&d);
    return work;
}

static void
test_work_grows_linearly (void)
{
    for (size_t k = 0; k < SHAPES_COUNT; k++) {
        const shape_t *sh = &SHAPES[k];
        int ok1 = 0, ok8 = 0;
        size_t b1 = 0, b8 = 0;
        uint64_t w1 = s_work (sh, 1000, &ok1, &b1);
        uint64_t w8 = s_work (sh, 8000, &ok8, &b8);
        printf ("%-20s work at 1k %10llu (%5.1f a byte), at 8k %10llu (%5.1f a byte), x%.1f%s\n", sh->name,
                (unsigned long long) w1, (double) w1 / (double) b1, (unsigned long long) w8,
                (double) w8 / (double) b8, w1 ? (double) w8 / (double) w1 : 0.0, sh->valid ? "" : ", refused");
        CHECK (w1 > 0);
        CHECK (w8 <= 10 * w1 + 1000);
        if (w8 > 10 * w1 + 1000)
            fprintf (stderr, "  shape %s grows faster than linearly\n", sh->name);
        CHECK (w1 <= S_WORK_PER_BYTE * b1 && w8 <= S_WORK_PER_BYTE * b8);
        if (w1 > S_WORK_PER_BYTE * b1 || w8 > S_WORK_PER_BYTE * b8)
            fprintf (stderr, "  shape %s takes more than %d steps a byte\n", sh->name, S_WORK_PER_BYTE);
        //  Each shape is what it claims: accepted or refused at both sizes.
        CHECK_INT (ok1, sh->valid);
        CHECK_INT (ok8, sh->valid);
    }
}

//  A document of n aliases inside the root field (n + 1 fields in all).
static char *
s_aliases (int n)
{
    jbuf_t d;
    jbuf_init (&d, 0);
    s_gen_aliases (&d, n);
    jbuf_putc (&d, 0);
    char *out = jbuf_take (&d, NULL);
    jbuf_free (&d);
    return out;
}

static void
test_max_fields_default (void)
{
    //  1,000 fields pass the default; 1,001 do not.
    char *doc = s_aliases (999);
    char *errors = NULL;
    gql_sub_t *sub = gql_prepare (S, doc, strlen (doc), NULL, NULL, NULL, &errors);
    CHECK (sub);
    gql_sub_destroy (&sub);
    free (errors);
    free (doc);
    doc = s_aliases (1000);
    errors = NULL;
    sub = gql_prepare (S, doc, strlen (doc), NULL, NULL, NULL, &errors);
    CHECK (!sub);
    //  At the first field past the limit: f999, after 40 + 999 fields'
    //  text on line 1.
    const char *f999 = strstr (doc, "f999:");
    REQUIRE (f999);
    char want[256];
    snprintf (want, sizeof want, "[{\"message\":\"The document selects too many fields: 1001, and the limit is "
              "%d.\",\"locations\":[{\"line\":1,\"column\":%d}]}]", GQL_DEFAULT_MAX_FIELDS, (int) (f999 - doc) + 1);
    CHECK_STR (errors, want);
    free (errors);
    free (doc);
    //  A limit of 0 or less is the default.
    gql_limits_t zero = { 0, 0 };
    doc = s_aliases (1000);
    sub = gql_prepare (S, doc, strlen (doc), NULL, NULL, &zero, &errors);
    CHECK (!sub);
    CHECK_CONTAINS (errors, "The document selects too many fields: 1001, and the limit is 1000.");
    free (errors);
    free (doc);
}

static void
test_max_fields_counting (void)
{
    gql_limits_t five = { GQL_DEFAULT_MAX_DEPTH, 5 };
    char *errors = NULL;
    //  Six fields: the root, an alias, __typename, and three in a fragment
    //  spread three times (counted once, where they are written), with
    //  an inline fragment (not a field).
    gql_limits_t six = { GQL_DEFAULT_MAX_DEPTH, 6 };
    const char *ok = "subscription { messageAdded(channel: \"a\") { i: id __typename ...M ...M "
                     "... on Message { ...M } } } fragment M on Message { text author { name } }";
    gql_sub_t *sub = gql_prepare (S, ok, strlen (ok), NULL, NULL, &six, &errors);
    CHECK (sub);
    gql_sub_destroy (&sub);
    free (errors);
    sub = gql_prepare (S, ok, strlen (ok), NULL, NULL, &five, &errors);
    CHECK (!sub);
    CHECK_CONTAINS (errors, "The document selects too many fields: 6, and the limit is 5.");
    free (errors);
    //  The same field twice under one key is two selections.
    const char *twice = "subscription { messageAdded(channel: \"a\") { id id id id text } }";
    sub = gql_prepare (S, twice, strlen (twice), NULL, NULL, &five, &errors);
    CHECK (!sub);
    CHECK_STR (errors, "[{\"message\":\"The document selects too many fields: 6, and the limit is 5.\","
                       "\"locations\":[{\"line\":1,\"column\":57}]}]");
    free (errors);
    //  Every operation and fragment counts, selected, used or not; the
    //  limit comes before validation, so its error is the only one.
    const char *all = "subscription A { messageAdded(channel: \"a\") { id } }\n"
                      "subscription B { messageAdded(channel: \"a\") { id } }\n"
                      "fragment Unused on Message { nope }";
    gql_limits_t four = { GQL_DEFAULT_MAX_DEPTH, 4 };
    sub = gql_prepare (S, all, strlen (all), "A", NULL, &four, &errors);
    CHECK (!sub);
    CHECK_STR (errors, "[{\"message\":\"The document selects too many fields: 5, and the limit is 4.\","
                       "\"locations\":[{\"line\":3,\"column\":30}]}]");
    free (errors);
    //  Under the limit, validation runs and reports the unknown field.
    gql_limits_t more = { GQL_DEFAULT_MAX_DEPTH, 5 };
    sub = gql_prepare (S, all, strlen (all), "A", NULL, &more, &errors);
    CHECK (!sub);
    CHECK_CONTAINS (errors, "Cannot query field \"nope\" on type \"Message\".");
    free (errors);
    //  A syntax error is reported as such, whatever the count.
    const char *bad = "subscription { messageAdded(channel: \"a\") { id id id id id id ";
    sub = gql_prepare (S, bad, strlen (bad), NULL, NULL, &five, &errors);
    CHECK (!sub);
    CHECK_CONTAINS (errors, "Syntax Error");
    free (errors);
}

//  The limit stops the work: a document far past it costs its parse.
static void
test_max_fields_before_validation (void)
{
    char *doc = s_aliases (8000);
    uint64_t refused = 0, accepted = 0;
    char *errors = NULL;
    gql_sub_t *sub = gql_prepare_counted (S, doc, strlen (doc), NULL, NULL, NULL, &errors, &refused);
    CHECK (!sub);
    free (errors);
    gql_limits_t open = { GQL_DEFAULT_MAX_DEPTH, INT_MAX };
    sub = gql_prepare_counted (S, doc, strlen (doc), NULL, NULL, &open, &errors, &accepted);
    CHECK (sub);
    gql_sub_destroy (&sub);
    free (errors);
    printf ("8k aliases: work %llu refused by max_fields, %llu prepared\n", (unsigned long long) refused,
            (unsigned long long) accepted);
    CHECK (refused * 2 < accepted);
    free (doc);
}

//  Fragments that select two keys twice each, every one spreading the
//  next: merging them would branch at every level (2^30 checks) unless a
//  check already found clean is not repeated. It must not end on the
//  merge budget ("too complex"); what work remains is the plan's.
static void
test_merge_fanout (void)
{
    gql_schema_t *s = t_schema ("type N { v: Int a: N b: N } type Subscription { n: N }");
    REQUIRE (s);
    jbuf_t d;
    jbuf_init (&d, 0);
    jbuf_puts (&d, "subscription { n { ...F0 } }\n");
    for (int i = 0; i < 30; i++) {
        char tmp[160];
        snprintf (tmp, sizeof tmp, "fragment F%d on N { a { ...F%d } a { ...F%d } b { ...F%d } b { ...F%d } }\n",
                  i, i + 1, i + 1, i + 1, i + 1);
        jbuf_puts (&d, tmp);
    }
    jbuf_puts (&d, "fragment F30 on N { v }\n");
    gql_limits_t big = { 100, INT_MAX };
    char *errors = NULL;
    uint64_t work = 0;
    gql_sub_t *sub = gql_prepare_counted (s, d.data, d.len, NULL, NULL, &big, &errors, &work);
    printf ("fan-out of 30 levels: work %llu for %zu bytes\n", (unsigned long long) work, d.len);
    CHECK (!sub);               //  2^30 fields once expanded
    CHECK_CONTAINS (errors, "too many fields once its fragments are expanded");
    CHECK (!t_contains (errors, "too complex"));
    //  Most of it is the plan expanding up to its cap, GQL_MAX_PLAN_FIELDS.
    CHECK (work <= 100 * GQL_MAX_PLAN_FIELDS);
    free (errors);
    jbuf_free (&d);
    gql_schema_destroy (&s);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    char *sdl = shapes_schema (GQL_CHAT_SCHEMA);
    if (!sdl) {
        fprintf (stderr, "cannot read %s\n", GQL_CHAT_SCHEMA);
        return 1;
    }
    S = t_schema (sdl);
    free (sdl);
    if (!S)
        return 1;
    RUN (test_work_grows_linearly);
    RUN (test_max_fields_default);
    RUN (test_max_fields_counting);
    RUN (test_max_fields_before_validation);
    RUN (test_merge_fanout);
    gql_schema_destroy (&S);
    return TEST_RESULT ();
}
