/*  fuzz_gql_parse.c: libFuzzer harness for what a browser controls: the
 *  subscription document. It is parsed, validated against a fixed schema
 *  and prepared (with fixed variables); a prepared subscription is then
 *  executed over a fixed payload (the limits vary with the input's last
 *  byte). Oracles: no crash, leak or sanitizer
 *  report; errors are a non-empty JSON array; a success has a topic that
 *  passes the wire rules and renders valid JSON.
 */
#include "fuzz_gql_common.h"
#include "gql.h"
#include "mpjson.h"
#include "wire.h"

#include <string.h>

static gql_schema_t *s_schema;
static json_t *s_vars;
static msgpack_unpacked s_payload;
static msgpack_sbuffer s_sbuf;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    s_schema = gql_schema_new (FUZZ_SDL, strlen (FUZZ_SDL), NULL);
    s_vars = json_loads ("{\"c\":\"general\",\"id\":7,\"v\":true,\"b\":false,\"x\":3,\"f\":{\"text\":\"t\"},"
                         "\"s\":\"x\",\"l\":[1,2],\"n\":null}", 0, NULL);
    const char *payload = "{\"__typename\":\"User\",\"id\":\"1\",\"text\":\"hi\",\"name\":\"ann\",\"url\":\"u\","
                          "\"author\":{\"name\":\"bob\",\"friends\":[{\"id\":2,\"name\":\"c\"}]},\"tags\":[\"a\"],"
                          "\"media\":[{\"__typename\":\"Photo\",\"id\":\"p\",\"url\":\"x\"},null],"
                          "\"data\":{\"k\":[1]},\"score\":1.5,\"flag\":true,\"n\":3,\"color\":\"RED\"}";
    msgpack_sbuffer_init (&s_sbuf);
    char err[128];
    if (!s_schema || !s_vars || mpjson_from_json (payload, strlen (payload), &s_sbuf, err, sizeof err) != 0)
        abort ();
    msgpack_unpacked_init (&s_payload);
    size_t off = 0;
    msgpack_unpack_next (&s_payload, s_sbuf.data, s_sbuf.size, &off);
    return 0;
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    char *errors = NULL;
    //  Odd first byte: no variables, to reach the "not provided" paths.
    const json_t *vars = size && (data[0] & 1) ? NULL : s_vars;
    //  The last byte also picks a small max_fields a quarter of the time,
    //  to reach that refusal with documents of every shape.
    gql_limits_t limits = { size && (data[size - 1] & 1) ? 4 : GQL_DEFAULT_MAX_DEPTH,
                            size && (data[size - 1] & 6) == 6 ? 3 : GQL_DEFAULT_MAX_FIELDS };
    gql_sub_t *sub = gql_prepare (s_schema, (const char *) data, size, NULL, vars, &limits, &errors);
    if (!sub) {
        if (!errors)
            abort ();
        fuzz_check_json (errors, strlen (errors), 1);
        free (errors);
        return 0;
    }
    const char *topic = gql_sub_topic (sub);
    if (wire_topic_check (topic, strlen (topic)) != WIRE_OK || wire_topic_reserved (topic, strlen (topic)))
        abort ();
    size_t klen;
    if (!gql_sub_key (sub, &klen) || klen == 0)
        abort ();
    jbuf_t out;
    jbuf_init (&out, 0);
    if (gql_execute (sub, &s_payload.data, &out) < 0)
        abort ();
    fuzz_check_json (out.data, out.len, 0);
    jbuf_free (&out);
    gql_sub_destroy (&sub);
    return 0;
}
