/*  fuzz_gql_exec.c: libFuzzer harness for the hot path: a fixed set of
 *  prepared subscriptions rendered over fuzzed payloads. The input is
 *  checked with wire_msgpack_check and unpacked with msgpack_unpack_next,
 *  as the edge does. Oracles: no crash or sanitizer report, gql_execute
 *  succeeds, and its output is one valid JSON object.
 */
#include "fuzz_gql_common.h"
#include "gql.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

static const char *DOCS[] = {
    "subscription { messageAdded(channel: \"g\") { id text author { name email friends { id name } } tags "
    "  score flag data n __typename } }",
    "subscription { messageAdded(channel: \"g\") { media { __typename ... on Photo { url width } "
    "  ... on User { id name color } } } }",
    "subscription { node(id: 1) { __typename id ... on User { friends { ...U } } ... on Photo { url } } } "
    "fragment U on User { id name email color }",
    "subscription { search { ... on User { n: name e: email } ... on Photo { w: width id } } }",
    "subscription { count }",
    "subscription($v: Boolean!) { messageAdded(channel: \"g\") { id @skip(if: $v) t: text text "
    "  author @include(if: $v) { name } } }",
};
#define NDOCS (sizeof DOCS / sizeof DOCS[0])

static gql_schema_t *s_schema;
static gql_sub_t *s_subs[NDOCS];

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    s_schema = gql_schema_new (FUZZ_SDL, strlen (FUZZ_SDL), NULL);
    json_t *vars = json_loads ("{\"v\":true}", 0, NULL);
    if (!s_schema || !vars)
        abort ();
    for (size_t i = 0; i < NDOCS; i++) {
        char *errors = NULL;
        s_subs[i] = gql_prepare (s_schema, DOCS[i], strlen (DOCS[i]), NULL, vars, NULL, &errors);
        if (!s_subs[i]) {
            fprintf (stderr, "%s\n", errors);
            abort ();
        }
    }
    json_decref (vars);
    return 0;
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    if (wire_msgpack_check (data, size) != WIRE_OK)
        return 0;
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    if (msgpack_unpack_next (&u, (const char *) data, size, &off) != MSGPACK_UNPACK_SUCCESS)
        abort ();
    jbuf_t out;
    jbuf_init (&out, 0);
    for (size_t i = 0; i < NDOCS; i++) {
        jbuf_reset (&out);
        if (gql_execute (s_subs[i], &u.data, &out) < 0)
            abort ();
        fuzz_check_json (out.data, out.len, 0);
    }
    jbuf_free (&out);
    msgpack_unpacked_destroy (&u);
    return 0;
}
