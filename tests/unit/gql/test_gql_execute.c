/*  test_gql_execute.c: rendering msgpack payloads: projection, aliases,
 *  fragments, @skip/@include, __typename, abstract types, the coercion
 *  of each scalar and of enums, lists, null propagation, errors with
 *  paths, and the sharing key.
 */
#include "gqltest.h"

static const char *SDL =
    "scalar JSON\n"
    "enum Color { RED GREEN BLUE }\n"
    "interface Node { id: ID! }\n"
    "type User implements Node { id: ID! name: String! email: String friends: [User!] }\n"
    "type Photo implements Node { id: ID! url: String! width: Int }\n"
    "type Video implements Node { id: ID! url: String! duration: Float }\n"
    "union Media = Photo | Video\n"
    "type Scalars { i: Int f: Float s: String b: Boolean id: ID c: Color j: JSON\n"
    "  ni: Int! nf: Float! ns: String! nb: Boolean! nid: ID! nc: Color! nj: JSON! }\n"
    "type Lists { a: [Int] b: [Int!] c: [Int]! d: [Int!]! m: [[Int]] users: [User] nusers: [User!]! }\n"
    "type Message { id: ID!  text: String!  author: User  tags: [String!] }\n"
    "type Event { message: Message scalars: Scalars lists: Lists node: Node media: Media "
    "  medias: [Media] nnode: Node! }\n"
    "type Subscription {\n"
    "  messageAdded(channel: String!): Message! @topic(name: \"chat.{channel}\")\n"
    "  event: Event\n  nevent: Event!\n  scalars: Scalars\n  lists: Lists\n  node: Node\n"
    "  media: Media\n  count: Int\n  ncount: Int!\n  tags: [String!]!\n"
    "}\n";

static gql_schema_t *S;

#define RUN_EQ(doc, vars, payload, expected)                                     \
    do {                                                                         \
        char *t_out = t_run (S, doc, vars, payload);                             \
        CHECK_STR (t_out, expected);                                             \
        free (t_out);                                                            \
    } while (0)

static void
test_example (void)
{
    RUN_EQ ("subscription { messageAdded(channel: \"general\") { id text author { name } } }", NULL,
            "{\"id\":\"1\",\"text\":\"hi\",\"author\":{\"name\":\"ann\"}}",
            "{\"data\":{\"messageAdded\":{\"id\":\"1\",\"text\":\"hi\",\"author\":{\"name\":\"ann\"}}}}");
}

static void
test_projection (void)
{
    //  Keys the selection does not ask for are left out; the selection's
    //  order wins over the payload's; a missing key is null.
    RUN_EQ ("subscription { messageAdded(channel: \"g\") { text id author { name email } } }", NULL,
            "{\"id\":\"1\",\"secret\":\"x\",\"text\":\"hi\",\"author\":{\"name\":\"ann\",\"pw\":1}}",
            "{\"data\":{\"messageAdded\":{\"text\":\"hi\",\"id\":\"1\",\"author\":{\"name\":\"ann\",\"email\":null}}}}");
    RUN_EQ ("subscription { messageAdded(channel: \"g\") { id author { name } } }", NULL,
            "{\"id\":\"1\",\"author\":null}",
            "{\"data\":{\"messageAdded\":{\"id\":\"1\",\"author\":null}}}");
    RUN_EQ ("subscription { count }", NULL, "42", "{\"data\":{\"count\":42}}");
    RUN_EQ ("subscription { count }", NULL, "null", "{\"data\":{\"count\":null}}");
    RUN_EQ ("subscription { tags }", NULL, "[\"a\",\"b\"]", "{\"data\":{\"tags\":[\"a\",\"b\"]}}");
}

static void
test_aliases (void)
{
    RUN_EQ ("subscription { m: messageAdded(channel: \"g\") { a: text b: text id } }", NULL,
            "{\"id\":\"1\",\"text\":\"hi\"}",
            "{\"data\":{\"m\":{\"a\":\"hi\",\"b\":\"hi\",\"id\":\"1\"}}}");
}

static void
test_fragments (void)
{
    RUN_EQ ("subscription { messageAdded(channel: \"g\") { ...M author { name } } }\n"
            "fragment M on Message { id author { email } ... on Message { text } }", NULL,
            "{\"id\":\"1\",\"text\":\"hi\",\"author\":{\"name\":\"ann\",\"email\":\"a@x\"}}",
            "{\"data\":{\"messageAdded\":{\"id\":\"1\",\"author\":{\"email\":\"a@x\",\"name\":\"ann\"},\"text\":\"hi\"}}}");
    //  A fragment spread twice is expanded once.
    RUN_EQ ("subscription { messageAdded(channel: \"g\") { ...M ...M id } } fragment M on Message { text }", NULL,
            "{\"id\":\"1\",\"text\":\"hi\"}",
            "{\"data\":{\"messageAdded\":{\"text\":\"hi\",\"id\":\"1\"}}}");
}

static void
test_skip_include (void)
{
    const char *doc = "subscription($s: Boolean!, $i: Boolean = true) { messageAdded(channel: \"g\") {\n"
                      "  id @skip(if: $s) text @include(if: $i)\n"
                      "  ... @include(if: $s) { author { name } }\n"
                      "  ...F @skip(if: true) } } fragment F on Message { tags }";
    const char *payload = "{\"id\":\"1\",\"text\":\"hi\",\"author\":{\"name\":\"ann\"},\"tags\":[]}";
    RUN_EQ (doc, "{\"s\":false}", payload, "{\"data\":{\"messageAdded\":{\"id\":\"1\",\"text\":\"hi\"}}}");
    RUN_EQ (doc, "{\"s\":true,\"i\":false}", payload, "{\"data\":{\"messageAdded\":{\"author\":{\"name\":\"ann\"}}}}");
    //  Both directives: included only if include is true and skip false.
    RUN_EQ ("subscription { messageAdded(channel: \"g\") { id text @skip(if: false) @include(if: false) } }",
            NULL, payload, "{\"data\":{\"messageAdded\":{\"id\":\"1\"}}}");
    //  A field kept by one node and skipped by another is kept.
    RUN_EQ ("subscription { messageAdded(channel: \"g\") { text @skip(if: true) text } }",
            NULL, payload, "{\"data\":{\"messageAdded\":{\"text\":\"hi\"}}}");
}

static void
test_typename (void)
{
    RUN_EQ ("subscription { messageAdded(channel: \"g\") { __typename t: __typename author { __typename } } }", NULL,
            "{\"__typename\":\"Ignored\",\"author\":{}}",
            "{\"data\":{\"messageAdded\":{\"__typename\":\"Message\",\"t\":\"Message\",\"author\":{\"__typename\":\"User\"}}}}");
}

static void
test_abstract_interface (void)
{
    const char *doc = "subscription { node { __typename id ... on User { name } ... on Photo { url } } }";
    RUN_EQ (doc, NULL, "{\"__typename\":\"User\",\"id\":\"u1\",\"name\":\"ann\",\"url\":\"x\"}",
            "{\"data\":{\"node\":{\"__typename\":\"User\",\"id\":\"u1\",\"name\":\"ann\"}}}");
    RUN_EQ (doc, NULL, "{\"id\":\"p1\",\"url\":\"http://p\",\"__typename\":\"Photo\"}",
            "{\"data\":{\"node\":{\"__typename\":\"Photo\",\"id\":\"p1\",\"url\":\"http://p\"}}}");
    RUN_EQ (doc, NULL, "{\"__typename\":\"Video\",\"id\":\"v1\"}",
            "{\"data\":{\"node\":{\"__typename\":\"Video\",\"id\":\"v1\"}}}");
}

static void
test_abstract_union (void)
{
    const char *doc = "subscription { media { ... on Photo { url width } ... on Video { url duration } } }";
    RUN_EQ (doc, NULL, "{\"__typename\":\"Video\",\"url\":\"v\",\"duration\":1.5}",
            "{\"data\":{\"media\":{\"url\":\"v\",\"duration\":1.5}}}");
    RUN_EQ (doc, NULL, "{\"__typename\":\"Photo\",\"url\":\"p\",\"width\":640}",
            "{\"data\":{\"media\":{\"url\":\"p\",\"width\":640}}}");
    RUN_EQ ("subscription { event { medias { __typename } } }", NULL,
            "{\"medias\":[{\"__typename\":\"Photo\"},null,{\"__typename\":\"Video\"}]}",
            "{\"data\":{\"event\":{\"medias\":[{\"__typename\":\"Photo\"},null,{\"__typename\":\"Video\"}]}}}");
}

static void
test_abstract_errors (void)
{
    RUN_EQ ("subscription { node { id } }", NULL, "{\"id\":\"1\"}",
            "{\"data\":{\"node\":null},\"errors\":[{\"message\":\"Abstract type \\\"Node\\\" must resolve to an "
            "object type at runtime for field \\\"Subscription.node\\\": the payload has no \\\"__typename\\\" "
            "string.\",\"locations\":[{\"line\":1,\"column\":16}],\"path\":[\"node\"]}]}");
    RUN_EQ ("subscription { node { id } }", NULL, "{\"__typename\":\"Dog\",\"id\":\"1\"}",
            "{\"data\":{\"node\":null},\"errors\":[{\"message\":\"Runtime object type \\\"Dog\\\" is not a possible "
            "type for \\\"Node\\\" (field \\\"Subscription.node\\\").\",\"locations\":[{\"line\":1,\"column\":16}],"
            "\"path\":[\"node\"]}]}");
    char *out = t_run (S, "subscription { node { id } }", NULL, "{\"__typename\":7}");
    CHECK_CONTAINS (out, "no \\\"__typename\\\" string");
    free (out);
    //  Non-null abstract field: the error propagates to the parent.
    out = t_run (S, "subscription { event { nnode { id } media { __typename } } }", NULL,
                 "{\"nnode\":{\"id\":\"1\"},\"media\":{\"__typename\":\"Photo\"}}");
    CHECK_CONTAINS (out, "{\"data\":{\"event\":null},\"errors\":[{\"message\":\"Abstract type");
    CHECK_CONTAINS (out, "\"path\":[\"event\",\"nnode\"]");
    free (out);
    out = t_run (S, "subscription { media { __typename } }", NULL, "[1]");
    CHECK_CONTAINS (out, "Expected a map for field \\\"Subscription.media\\\" of type \\\"Media\\\", found: [...]");
    free (out);
}

//  Render one field of Scalars from a payload value (JSON).
static char *
s_scalar (const char *field, const char *value)
{
    char doc[128], payload[256];
    snprintf (doc, sizeof doc, "subscription { scalars { %s } }", field);
    snprintf (payload, sizeof payload, "{\"%s\":%s}", field, value);
    return t_run (S, doc, NULL, payload);
}

#define SCALAR_OK(field, value, rendered)                                        \
    do {                                                                         \
        char t_exp[256];                                                         \
        snprintf (t_exp, sizeof t_exp, "{\"data\":{\"scalars\":{\"%s\":%s}}}", field, rendered); \
        char *t_out = s_scalar (field, value);                                   \
        CHECK_STR (t_out, t_exp);                                                \
        free (t_out);                                                            \
    } while (0)

#define SCALAR_ERR(field, value, message)                                        \
    do {                                                                         \
        char t_exp[256];                                                         \
        snprintf (t_exp, sizeof t_exp, "{\"data\":{\"scalars\":{\"%s\":null}},\"errors\":[{\"message\":", field); \
        char *t_out = s_scalar (field, value);                                   \
        CHECK_CONTAINS (t_out, t_exp);                                           \
        CHECK_CONTAINS (t_out, message);                                         \
        free (t_out);                                                            \
    } while (0)

static void
test_scalar_int (void)
{
    SCALAR_OK ("i", "1", "1");
    SCALAR_OK ("i", "-5", "-5");
    SCALAR_OK ("i", "2147483647", "2147483647");
    SCALAR_OK ("i", "-2147483648", "-2147483648");
    SCALAR_OK ("i", "3.0", "3");
    SCALAR_OK ("i", "null", "null");
    SCALAR_ERR ("i", "2147483648", "Int cannot represent non 32-bit signed integer value: 2147483648");
    SCALAR_ERR ("i", "-2147483649", "Int cannot represent non 32-bit signed integer value: -2147483649");
    SCALAR_ERR ("i", "1e10", "Int cannot represent non 32-bit signed integer value");
    SCALAR_ERR ("i", "1.5", "Int cannot represent non-integer value: 1.5");
    SCALAR_ERR ("i", "\"1\"", "Int cannot represent non-integer value: \\\"1\\\"");
    SCALAR_ERR ("i", "true", "Int cannot represent non-integer value: true");
    SCALAR_ERR ("i", "[1]", "Int cannot represent non-integer value: [...]");
}

static void
test_scalar_float (void)
{
    SCALAR_OK ("f", "1", "1");
    SCALAR_OK ("f", "-7", "-7");
    SCALAR_OK ("f", "1.5", "1.5");
    SCALAR_OK ("f", "0.1", "0.1");
    SCALAR_OK ("f", "1e300", "1e+300");
    SCALAR_ERR ("f", "\"1.5\"", "Float cannot represent non numeric value: \\\"1.5\\\"");
    SCALAR_ERR ("f", "false", "Float cannot represent non numeric value: false");
}

static void
test_scalar_string (void)
{
    SCALAR_OK ("s", "\"hi \\\"there\\\"\"", "\"hi \\\"there\\\"\"");
    SCALAR_OK ("s", "\"\\u00e9\\ud83d\\ude00\"", "\"\xc3\xa9\xf0\x9f\x98\x80\"");
    //  Like graphql-js, numbers and booleans become their text.
    SCALAR_OK ("s", "12", "\"12\"");
    SCALAR_OK ("s", "-3", "\"-3\"");
    SCALAR_OK ("s", "1.25", "\"1.25\"");
    SCALAR_OK ("s", "true", "\"true\"");
    SCALAR_ERR ("s", "{\"a\":1}", "String cannot represent value: {...}");
    SCALAR_ERR ("s", "[]", "String cannot represent value: [...]");
}

static void
test_scalar_boolean (void)
{
    SCALAR_OK ("b", "true", "true");
    SCALAR_OK ("b", "false", "false");
    SCALAR_ERR ("b", "1", "Boolean cannot represent a non boolean value: 1");
    SCALAR_ERR ("b", "\"true\"", "Boolean cannot represent a non boolean value");
}

static void
test_scalar_id (void)
{
    SCALAR_OK ("id", "\"abc\"", "\"abc\"");
    SCALAR_OK ("id", "7", "\"7\"");
    SCALAR_OK ("id", "-7", "\"-7\"");
    SCALAR_OK ("id", "9223372036854775807", "\"9223372036854775807\"");
    SCALAR_OK ("id", "7.0", "\"7\"");
    SCALAR_ERR ("id", "7.5", "ID cannot represent value: 7.5");
    SCALAR_ERR ("id", "true", "ID cannot represent value: true");
}

static void
test_enum (void)
{
    SCALAR_OK ("c", "\"RED\"", "\"RED\"");
    SCALAR_OK ("c", "\"BLUE\"", "\"BLUE\"");
    SCALAR_ERR ("c", "\"PURPLE\"", "Enum \\\"Color\\\" cannot represent value: \\\"PURPLE\\\"");
    SCALAR_ERR ("c", "\"red\"", "Enum \\\"Color\\\" cannot represent value");
    SCALAR_ERR ("c", "1", "Enum \\\"Color\\\" cannot represent value: 1");
}

static void
test_custom_scalar (void)
{
    SCALAR_OK ("j", "{\"a\":[1,2.5,\"x\",null,true],\"b\":{}}", "{\"a\":[1,2.5,\"x\",null,true],\"b\":{}}");
    SCALAR_OK ("j", "\"text\"", "\"text\"");
    SCALAR_OK ("j", "null", "null");
    char *out = t_run (S, "subscription { scalars { nj } }", NULL, "{}");
    CHECK_CONTAINS (out, "Cannot return null for non-nullable field Scalars.nj.");
    CHECK_CONTAINS (out, "{\"data\":{\"scalars\":null}");
    free (out);
}

static void
test_lists (void)
{
    const char *doc = "subscription { lists { a m users { name } } }";
    RUN_EQ (doc, NULL, "{\"a\":[1,null,3],\"m\":[[1],[],null,[null,2]],\"users\":[{\"name\":\"a\"},null]}",
            "{\"data\":{\"lists\":{\"a\":[1,null,3],\"m\":[[1],[],null,[null,2]],\"users\":[{\"name\":\"a\"},null]}}}");
    RUN_EQ ("subscription { lists { a } }", NULL, "{\"a\":[]}", "{\"data\":{\"lists\":{\"a\":[]}}}");
    //  Not a list: a field error, the field null.
    RUN_EQ ("subscription { lists { a } }", NULL, "{\"a\":5}",
            "{\"data\":{\"lists\":{\"a\":null}},\"errors\":[{\"message\":\"Expected a list for field \\\"Lists.a\\\", "
            "found: 5\",\"locations\":[{\"line\":1,\"column\":24}],\"path\":[\"lists\",\"a\"]}]}");
    //  An item error in a nullable item: the item null.
    RUN_EQ ("subscription { lists { a } }", NULL, "{\"a\":[1,\"x\",3]}",
            "{\"data\":{\"lists\":{\"a\":[1,null,3]}},\"errors\":[{\"message\":\"Int cannot represent non-integer "
            "value: \\\"x\\\"\",\"locations\":[{\"line\":1,\"column\":24}],\"path\":[\"lists\",\"a\",1]}]}");
    //  A null in [Int!]: the whole list null.
    RUN_EQ ("subscription { lists { b } }", NULL, "{\"b\":[1,null,3]}",
            "{\"data\":{\"lists\":{\"b\":null}},\"errors\":[{\"message\":\"Cannot return null for non-nullable field "
            "Lists.b.\",\"locations\":[{\"line\":1,\"column\":24}],\"path\":[\"lists\",\"b\",1]}]}");
    //  [Int]! not a list, and [Int!]! with a null item: up to lists.
    char *out = t_run (S, "subscription { lists { c } }", NULL, "{\"c\":{}}");
    CHECK_CONTAINS (out, "{\"data\":{\"lists\":null},\"errors\":[{\"message\":\"Expected a list for field \\\"Lists.c\\\"");
    free (out);
    out = t_run (S, "subscription { lists { d a } }", NULL, "{\"d\":[1,null],\"a\":[\"bad\"]}");
    CHECK_STR (out, "{\"data\":{\"lists\":null},\"errors\":[{\"message\":\"Cannot return null for non-nullable field "
                    "Lists.d.\",\"locations\":[{\"line\":1,\"column\":24}],\"path\":[\"lists\",\"d\",1]}]}");
    free (out);
    out = t_run (S, "subscription { lists { nusers { name } } }", NULL, "{\"nusers\":[{\"name\":\"a\"},{}]}");
    CHECK_CONTAINS (out, "{\"data\":{\"lists\":null}");
    CHECK_CONTAINS (out, "\"path\":[\"lists\",\"nusers\",1,\"name\"]");
    free (out);
}

static void
test_object_errors (void)
{
    RUN_EQ ("subscription { event { message { id } } }", NULL, "{\"message\":\"str\"}",
            "{\"data\":{\"event\":{\"message\":null}},\"errors\":[{\"message\":\"Expected a map for field "
            "\\\"Event.message\\\" of type \\\"Message\\\", found: \\\"str\\\"\",\"locations\":[{\"line\":1,"
            "\"column\":24}],\"path\":[\"event\",\"message\"]}]}");
    //  The root payload itself not a map, at a non-null root: data null.
    RUN_EQ ("subscription { messageAdded(channel: \"g\") { id } }", NULL, "[]",
            "{\"data\":null,\"errors\":[{\"message\":\"Expected a map for field \\\"Subscription.messageAdded\\\" of "
            "type \\\"Message\\\", found: [...]\",\"locations\":[{\"line\":1,\"column\":16}],\"path\":"
            "[\"messageAdded\"]}]}");
    //  Map keys that are not strings never match.
    RUN_EQ ("subscription { count }", NULL, "7", "{\"data\":{\"count\":7}}");
}

static void
test_null_propagation (void)
{
    //  Non-null field in a nullable parent: the parent is null.
    RUN_EQ ("subscription { event { message { id text } } }", NULL, "{\"message\":{\"id\":\"1\"}}",
            "{\"data\":{\"event\":{\"message\":null}},\"errors\":[{\"message\":\"Cannot return null for non-nullable "
            "field Message.text.\",\"locations\":[{\"line\":1,\"column\":37}],\"path\":[\"event\",\"message\",\"text\"]}]}");
    //  Up through a non-null root: data is null.
    RUN_EQ ("subscription { messageAdded(channel: \"g\") { id text } }", NULL, "{\"id\":\"1\"}",
            "{\"data\":null,\"errors\":[{\"message\":\"Cannot return null for non-nullable field Message.text.\","
            "\"locations\":[{\"line\":1,\"column\":48}],\"path\":[\"messageAdded\",\"text\"]}]}");
    RUN_EQ ("subscription { ncount }", NULL, "null",
            "{\"data\":null,\"errors\":[{\"message\":\"Cannot return null for non-nullable field Subscription.ncount.\","
            "\"locations\":[{\"line\":1,\"column\":16}],\"path\":[\"ncount\"]}]}");
    //  Nested non-null chain: nevent (non-null) > message (nullable) >
    //  author (nullable) > name (non-null): only author becomes null.
    RUN_EQ ("subscription { nevent { message { id author { name } } } }", NULL,
            "{\"message\":{\"id\":\"1\",\"author\":{}}}",
            "{\"data\":{\"nevent\":{\"message\":{\"id\":\"1\",\"author\":null}}},\"errors\":[{\"message\":\"Cannot "
            "return null for non-nullable field User.name.\",\"locations\":[{\"line\":1,\"column\":47}],\"path\":"
            "[\"nevent\",\"message\",\"author\",\"name\"]}]}");
    //  Siblings before the failure are dropped with their parent; the
    //  error is recorded once.
    char *out = t_run (S, "subscription { event { scalars { i s ni } message { id } } }", NULL,
                       "{\"scalars\":{\"i\":1,\"s\":\"x\"},\"message\":{\"id\":\"m\"}}");
    CHECK_STR (out, "{\"data\":{\"event\":{\"scalars\":null,\"message\":{\"id\":\"m\"}}},\"errors\":[{\"message\":"
                    "\"Cannot return null for non-nullable field Scalars.ni.\",\"locations\":[{\"line\":1,\"column\":38}],"
                    "\"path\":[\"event\",\"scalars\",\"ni\"]}]}");
    free (out);
}

static void
test_errors_order_and_locations (void)
{
    //  Errors appear in execution order; a field merged from two nodes
    //  reports both locations.
    char *out = t_run (S, "subscription { scalars { i\n s b\n i } }", NULL,
                       "{\"i\":\"x\",\"s\":[],\"b\":true}");
    CHECK_STR (out, "{\"data\":{\"scalars\":{\"i\":null,\"s\":null,\"b\":true}},\"errors\":["
                    "{\"message\":\"Int cannot represent non-integer value: \\\"x\\\"\",\"locations\":[{\"line\":1,"
                    "\"column\":26},{\"line\":3,\"column\":2}],\"path\":[\"scalars\",\"i\"]},"
                    "{\"message\":\"String cannot represent value: [...]\",\"locations\":[{\"line\":2,\"column\":2}],"
                    "\"path\":[\"scalars\",\"s\"]}]}");
    free (out);
    //  Paths use response keys (aliases).
    out = t_run (S, "subscription { x: scalars { y: i } }", NULL, "{\"i\":true}");
    CHECK_CONTAINS (out, "\"path\":[\"x\",\"y\"]");
    free (out);
}

static void
test_invalid_utf8 (void)
{
    gql_sub_t *sub = t_prepare (S, "subscription { scalars { s } }", NULL, NULL);
    REQUIRE (sub);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "s", 1);
    msgpack_pack_str (&pk, 4);
    msgpack_pack_str_body (&pk, "a\xff" "b\xc3", 4);
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    REQUIRE (msgpack_unpack_next (&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS);
    jbuf_t out;
    jbuf_init (&out, 0);
    CHECK_INT (gql_execute (sub, &u.data, &out), 0);
    jbuf_putc (&out, 0);
    CHECK_STR (out.data, "{\"data\":{\"scalars\":{\"s\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd\"}}}");
    //  Appends to what the buffer holds; fails on the buffer's limit.
    jbuf_t small;
    jbuf_init (&small, 8);
    CHECK_INT (gql_execute (sub, &u.data, &small), -1);
    jbuf_free (&small);
    jbuf_free (&out);
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_destroy (&sb);
    gql_sub_destroy (&sub);
}

static char *
s_any_key (const char *doc, const char *vars, int shape)
{
    char *errors = NULL;
    gql_sub_t *sub = t_prepare (S, doc, vars, &errors);
    if (!sub) {
        fprintf (stderr, "prepare failed: %s\n", errors);
        free (errors);
        return strdup ("");
    }
    size_t len;
    const char *k = shape ? gql_sub_shape_key (sub, &len) : gql_sub_key (sub, &len);
    char *copy = strndup (k, len);
    gql_sub_destroy (&sub);
    return copy;
}

static char *
s_key (const char *doc, const char *vars)
{
    return s_any_key (doc, vars, 0);
}

static void
test_sub_key (void)
{
    //  Variables used only in the topic, and operation names, do not
    //  change the rendering.
    const char *a = "subscription A($c: String!) { messageAdded(channel: $c) { id text } }";
    const char *b = "subscription B($c: String!) { messageAdded(channel: $c) { id text } }";
    char *k1 = s_key (a, "{\"c\":\"x\"}");
    char *k2 = s_key (b, "{\"c\":\"y\"}");
    CHECK_STR (k1, k2);
    free (k2);
    //  Literal instead of variable, at the same columns: same key.
    k2 = s_key ("subscription A($c: String!) { messageAdded(channel: $c) { id text } }", "{\"c\":\"other\"}");
    CHECK_STR (k1, k2);
    free (k2);
    //  Response key order matters.
    k2 = s_key ("subscription A($c: String!) { messageAdded(channel: $c) { text id } }", "{\"c\":\"x\"}");
    CHECK (strcmp (k1, k2) != 0);
    free (k2);
    //  Aliases matter.
    k2 = s_key ("subscription A($c: String!) { messageAdded(channel: $c) { id tex: text } }", "{\"c\":\"x\"}");
    CHECK (strcmp (k1, k2) != 0);
    free (k2);
    free (k1);
    //  @skip/@include are resolved with the variables.
    const char *d = "subscription($s: Boolean!) { messageAdded(channel: \"g\") { id text @skip(if: $s) } }";
    k1 = s_key (d, "{\"s\":true}");
    k2 = s_key (d, "{\"s\":false}");
    CHECK (strcmp (k1, k2) != 0);
    free (k2);
    k2 = s_key (d, "{\"s\":true}");
    CHECK_STR (k1, k2);
    free (k2);
    free (k1);
    //  Error locations are part of the rendering, so layout counts.
    k1 = s_key ("subscription { messageAdded(channel: \"g\") { id } }", NULL);
    k2 = s_key ("subscription {  messageAdded(channel: \"g\") { id } }", NULL);
    CHECK (strcmp (k1, k2) != 0);
    free (k2);
    free (k1);
}

static void
test_sub_shape_key (void)
{
    //  Without locations, layout, fragments and names do not count.
    const char *inline_doc = "subscription { messageAdded(channel: \"g\") { id text } }";
    const char *fragment_doc =
        "subscription Named {\n  ...F\n}\n"
        "fragment F on Subscription { messageAdded(channel: \"g\") { ...G } }\n"
        "fragment G on Message { id text }";
    char *k1 = s_any_key (inline_doc, NULL, 1);
    char *k2 = s_any_key (fragment_doc, NULL, 1);
    CHECK_STR (k1, k2);
    free (k2);
    k2 = s_key (fragment_doc, NULL);
    CHECK (strcmp (k1, k2) != 0);       //  the full key still differs
    free (k2);
    //  What is selected still counts.
    k2 = s_any_key ("subscription { messageAdded(channel: \"g\") { text id } }", NULL, 1);
    CHECK (strcmp (k1, k2) != 0);
    free (k2);
    free (k1);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    S = t_schema (SDL);
    if (!S)
        return 1;
    RUN (test_example);
    RUN (test_sub_shape_key);
    RUN (test_projection);
    RUN (test_aliases);
    RUN (test_fragments);
    RUN (test_skip_include);
    RUN (test_typename);
    RUN (test_abstract_interface);
    RUN (test_abstract_union);
    RUN (test_abstract_errors);
    RUN (test_scalar_int);
    RUN (test_scalar_float);
    RUN (test_scalar_string);
    RUN (test_scalar_boolean);
    RUN (test_scalar_id);
    RUN (test_enum);
    RUN (test_custom_scalar);
    RUN (test_lists);
    RUN (test_object_errors);
    RUN (test_null_propagation);
    RUN (test_errors_order_and_locations);
    RUN (test_invalid_utf8);
    RUN (test_sub_key);
    gql_schema_destroy (&S);
    return TEST_RESULT ();
}
