/*  test_gql_topic.c: @topic templates: interpolation of each scalar kind
 *  and enums, from literals, variables and defaults; null and invalid
 *  topics at prepare time; the default topic; template errors at schema
 *  load; the list of subscription fields and their templates; claims of
 *  the client's token in {jwt.NAME}.
 */
#include "gqltest.h"

static const char *SDL =
    "enum Room { LOBBY KITCHEN }\n"
    "scalar Tag\n"
    "type Subscription {\n"
    "  s(v: String!): Int @topic(name: \"s.{v}\")\n"
    "  id(v: ID!): Int @topic(name: \"id.{v}\")\n"
    "  i(v: Int!): Int @topic(name: \"i.{v}\")\n"
    "  f(v: Float!): Int @topic(name: \"f.{v}\")\n"
    "  b(v: Boolean!): Int @topic(name: \"b.{v}\")\n"
    "  e(v: Room!): Int @topic(name: \"room/{v}\")\n"
    "  c(v: Tag): Int @topic(name: \"tag.{v}\")\n"
    "  multi(a: String!, b: Int = 7, c: String): Int @topic(name: \"{a}:{b}:{a}\")\n"
    "  nullable(v: String): Int @topic(name: \"n.{v}\")\n"
    "  plain(x: Int): Int\n"
    "  fixed(x: Int): Int @topic(name: \"fixed\")\n"
    "  whole(v: String!): Int @topic(name: \"{v}\")\n"
    "  mine: Int @topic(name: \"user.{jwt.sub}\")\n"
    "  org(room: String!): Int @topic(name: \"org.{jwt.org.id}.{room}\")\n"
    "}\n";

static gql_schema_t *S;

static char *
s_topic (const char *doc, const char *vars)
{
    char *errors = NULL;
    gql_sub_t *sub = t_prepare (S, doc, vars, &errors);
    if (!sub)
        return errors;
    char *t = strdup (gql_sub_topic (sub));
    gql_sub_destroy (&sub);
    return t;
}

#define TOPIC(doc, vars, expected)                                               \
    do {                                                                         \
        char *t_t = s_topic (doc, vars);                                         \
        CHECK_STR (t_t, expected);                                               \
        free (t_t);                                                              \
    } while (0)

#define TOPIC_ERR(doc, vars, message)                                            \
    do {                                                                         \
        char *t_t = s_topic (doc, vars);                                         \
        CHECK (t_is_error_list (t_t));                                           \
        CHECK_CONTAINS (t_t, message);                                           \
        free (t_t);                                                              \
    } while (0)

static void
test_topic_string_and_id (void)
{
    TOPIC ("subscription { s(v: \"general\") }", NULL, "s.general");
    TOPIC ("subscription ($v: String!) { s(v: $v) }", "{\"v\":\"with space \xc3\xa9\"}", "s.with space \xc3\xa9");
    TOPIC ("subscription { s(v: \"\"\"  block\"\"\") }", NULL, "s.  block");
    TOPIC ("subscription { id(v: \"abc\") }", NULL, "id.abc");
    TOPIC ("subscription { id(v: 42) }", NULL, "id.42");
    TOPIC ("subscription ($v: ID!) { id(v: $v) }", "{\"v\":-42}", "id.-42");
}

static void
test_topic_numbers_booleans_enums (void)
{
    TOPIC ("subscription { i(v: -3) }", NULL, "i.-3");
    TOPIC ("subscription ($v: Int!) { i(v: $v) }", "{\"v\":2147483647}", "i.2147483647");
    //  Floats: the shortest text that reads back the same.
    TOPIC ("subscription { f(v: 1.5) }", NULL, "f.1.5");
    TOPIC ("subscription { f(v: 1) }", NULL, "f.1");
    TOPIC ("subscription { f(v: 0.1) }", NULL, "f.0.1");
    TOPIC ("subscription { f(v: 1e21) }", NULL, "f.1e+21");
    TOPIC ("subscription ($v: Float!) { f(v: $v) }", "{\"v\":2.25}", "f.2.25");
    TOPIC ("subscription { b(v: true) }", NULL, "b.true");
    TOPIC ("subscription ($v: Boolean!) { b(v: $v) }", "{\"v\":false}", "b.false");
    TOPIC ("subscription { e(v: KITCHEN) }", NULL, "room/KITCHEN");
    TOPIC ("subscription ($v: Room!) { e(v: $v) }", "{\"v\":\"LOBBY\"}", "room/LOBBY");
}

static void
test_topic_custom_scalar (void)
{
    TOPIC ("subscription { c(v: \"x\") }", NULL, "tag.x");
    TOPIC ("subscription { c(v: 5) }", NULL, "tag.5");
    TOPIC ("subscription { c(v: RED) }", NULL, "tag.RED");
    TOPIC ("subscription ($v: Tag) { c(v: $v) }", "{\"v\":true}", "tag.true");
    TOPIC_ERR ("subscription { c(v: [1]) }", NULL,
               "Cannot compute the topic of field \"c\": argument \"v\" is not a scalar value.");
    TOPIC_ERR ("subscription ($v: Tag) { c(v: $v) }", "{\"v\":{\"a\":1}}", "is not a scalar value");
}

static void
test_topic_defaults_and_repeats (void)
{
    TOPIC ("subscription { multi(a: \"x\") }", NULL, "x:7:x");
    TOPIC ("subscription { multi(a: \"x\", b: 8, c: \"unused\") }", NULL, "x:8:x");
    TOPIC ("subscription ($b: Int) { multi(a: \"x\", b: $b) }", NULL, "x:7:x");
    TOPIC ("subscription ($b: Int = 9) { multi(a: \"x\", b: $b) }", NULL, "x:9:x");
    TOPIC ("subscription ($b: Int) { multi(a: \"x\", b: $b) }", "{\"b\":1}", "x:1:x");
    TOPIC_ERR ("subscription ($b: Int) { multi(a: \"x\", b: $b) }", "{\"b\":null}",
               "Cannot compute the topic of field \"multi\": argument \"b\" is null.");
}

static void
test_topic_null (void)
{
    TOPIC_ERR ("subscription { nullable(v: null) }", NULL,
               "Cannot compute the topic of field \"nullable\": argument \"v\" is null.");
    TOPIC_ERR ("subscription { nullable }", NULL, "argument \"v\" is null.");
    TOPIC_ERR ("subscription ($v: String) { nullable(v: $v) }", "{}", "argument \"v\" is null.");
    char *t = s_topic ("subscription {\n  x: nullable(v: null)\n}", NULL);
    CHECK_STR (t, "[{\"message\":\"Cannot compute the topic of field \\\"nullable\\\": argument \\\"v\\\" is null.\","
                  "\"locations\":[{\"line\":2,\"column\":3}]}]");
    free (t);
}

static void
test_topic_must_be_valid (void)
{
    TOPIC_ERR ("subscription ($v: String!) { whole(v: $v) }", "{\"v\":\"a\\u0000b\"}",
               "The topic computed for field \"whole\" is not valid: topic contains a NUL byte.");
    TOPIC_ERR ("subscription { whole(v: \"a\\u0000b\") }", NULL, "topic contains a NUL byte.");
    TOPIC_ERR ("subscription { whole(v: \"\") }", NULL, "is not valid: topic is empty.");
    TOPIC_ERR ("subscription ($v: String!) { whole(v: $v) }", "{\"v\":\"$herald/sync/x\"}",
               "is not valid: topics beginning with \"$herald/\" are reserved.");
    char big[400], vars[420];
    memset (big, 'x', 256);
    big[256] = 0;
    snprintf (vars, sizeof vars, "{\"v\":\"%s\"}", big);
    TOPIC_ERR ("subscription ($v: String!) { whole(v: $v) }", vars, "topic is longer than 255 bytes.");
    big[255] = 0;
    snprintf (vars, sizeof vars, "{\"v\":\"%s\"}", big);
    TOPIC ("subscription ($v: String!) { whole(v: $v) }", vars, big);
}

static void
test_topic_default_is_field_name (void)
{
    TOPIC ("subscription { plain }", NULL, "plain");
    TOPIC ("subscription { alias: plain(x: 3) }", NULL, "plain");
    TOPIC ("subscription { fixed(x: 1) }", NULL, "fixed");
    TOPIC ("subscription Named { ...F } fragment F on Subscription { fixed }", NULL, "fixed");
}

//  Prepares doc (with no variables) as a client whose token has these
//  claims (JSON text, or NULL for no token): the topic, or the errors.
static char *
s_topic_as (const char *doc, const char *claims_json)
{
    json_t *claims = claims_json ? json_loads (claims_json, 0, NULL) : NULL;
    char *errors = NULL;
    gql_sub_t *sub = gql_prepare_as (S, doc, strlen (doc), NULL, NULL, claims, NULL, &errors);
    json_decref (claims);
    if (!sub)
        return errors;
    char *t = strdup (gql_sub_topic (sub));
    gql_sub_destroy (&sub);
    return t;
}

static void
test_topic_claims (void)
{
    char *t = s_topic_as ("subscription { mine }", "{\"sub\":\"alice\"}");
    CHECK_STR (t, "user.alice");
    free (t);
    t = s_topic_as ("subscription { mine }", "{\"sub\":42}");
    CHECK_STR (t, "user.42");
    free (t);
    t = s_topic_as ("subscription { org(room: \"ops\") }", "{\"org\":{\"id\":\"acme\"}}");
    CHECK_STR (t, "org.acme.ops");
    free (t);
    //  No token, or no such claim: an error, never a topic with a hole.
    t = s_topic_as ("subscription { mine }", NULL);
    CHECK_CONTAINS (t, "Cannot compute the topic of field \"mine\": it takes the claim \"sub\" "
                       "of the client's token, and this connection has no token.");
    free (t);
    t = s_topic_as ("subscription { mine }", "{\"name\":\"alice\"}");
    CHECK_CONTAINS (t, "the client's token has no string or integer claim \"sub\"");
    free (t);
    t = s_topic_as ("subscription { mine }", "{\"sub\":[\"alice\"]}");
    CHECK_CONTAINS (t, "no string or integer claim \"sub\"");
    free (t);
    t = s_topic_as ("subscription { org(room: \"ops\") }", "{\"org\":\"acme\"}");
    CHECK_CONTAINS (t, "no string or integer claim \"org.id\"");
    free (t);
    //  gql_prepare is a client without a token.
    TOPIC_ERR ("subscription { mine }", NULL, "this connection has no token");
    //  A claim is checked as a topic like an argument is.
    t = s_topic_as ("subscription { mine }", "{\"sub\":\"\"}");
    CHECK_STR (t, "user.");
    free (t);
    char *e = t_schema_error ("type Subscription { a: Int @topic(name: \"a.{jwt.}\") }");
    CHECK_CONTAINS (e, "@topic placeholder \"{jwt.}\" of field \"Subscription.a\" names no claim");
    free (e);
    e = t_schema_error ("type Subscription { a: Int @topic(name: \"a.{jwt.x..y}\") }");
    CHECK_CONTAINS (e, "names no claim");
    free (e);
}

static void
test_topic_template_errors (void)
{
    char *e = t_schema_error ("type Subscription { a(channel: String): Int @topic(name: \"chat.{chanel}\") }");
    CHECK_STR (e, "line 1, column 58: @topic placeholder \"{chanel}\" of field \"Subscription.a\" names no argument "
                  "of the field. Did you mean \"channel\"?");
    free (e);
    e = t_schema_error ("type Subscription { a(x: Int): Int @topic(name: \"a.{x\") }");
    CHECK_CONTAINS (e, "@topic template \"a.{x\" of field \"Subscription.a\" has an unclosed \"{\"");
    free (e);
    e = t_schema_error ("type Subscription { a(x: Int): Int @topic(name: \"a.{{x}}\") }");
    CHECK_CONTAINS (e, "has an unclosed \"{\"");
    free (e);
    e = t_schema_error ("type Subscription { a(x: Int): Int @topic(name: \"a.x}\") }");
    CHECK_CONTAINS (e, "has a \"}\" without a \"{\"");
    free (e);
    e = t_schema_error ("type Subscription { a(x: Int): Int @topic(name: \"a.{}\") }");
    CHECK_CONTAINS (e, "@topic placeholder \"{}\" of field \"Subscription.a\" names no argument");
    free (e);
    e = t_schema_error ("type Subscription { a(x: [Int]): Int @topic(name: \"a.{x}\") }");
    CHECK_CONTAINS (e, "names an argument of type \"[Int]\"; only scalar and enum arguments can be put in a topic");
    free (e);
    e = t_schema_error ("input I { a: Int } type Subscription { a(x: I!): Int @topic(name: \"a.{x}\") }");
    CHECK_CONTAINS (e, "names an argument of type \"I!\"");
    free (e);
    e = t_schema_error ("type Subscription { a: Int @topic(name: \"\") }");
    CHECK_CONTAINS (e, "@topic name of field \"Subscription.a\" is empty");
    free (e);
    e = t_schema_error ("type Subscription { a: Int @topic(name: \"$herald/sync/{x}\") }");
    CHECK_CONTAINS (e, "names no argument");
    free (e);
    e = t_schema_error ("type Subscription { a(x: Int): Int @topic(name: \"$herald/{x}\") }");
    CHECK_CONTAINS (e, "starts with the reserved prefix \"$herald/\"");
    free (e);
    e = t_schema_error ("type Subscription { a: Int @topic(name: \"a\\u0000b\") }");
    CHECK_CONTAINS (e, "cannot make a valid topic");
    free (e);
    char sdl[600];
    char longname[300];
    memset (longname, 'x', 260);
    longname[260] = 0;
    snprintf (sdl, sizeof sdl, "type Subscription { a(x: Int): Int @topic(name: \"%s{x}\") }", longname);
    e = t_schema_error (sdl);
    CHECK_CONTAINS (e, "cannot make a valid topic (1 to 255 bytes of UTF-8, no NUL)");
    free (e);
}

//  The list that `herald-edge --check` prints: every field, in schema
//  order, with its template as written (the field's name without @topic).
static void
test_subscription_fields_and_templates (void)
{
    const char *expect[][2] = {
        { "s", "s.{v}" }, { "id", "id.{v}" }, { "i", "i.{v}" }, { "f", "f.{v}" },
        { "b", "b.{v}" }, { "e", "room/{v}" }, { "c", "tag.{v}" },
        { "multi", "{a}:{b}:{a}" }, { "nullable", "n.{v}" }, { "plain", "plain" },
        { "fixed", "fixed" }, { "whole", "{v}" }, { "mine", "user.{jwt.sub}" },
        { "org", "org.{jwt.org.id}.{room}" },
    };
    size_t n = sizeof expect / sizeof expect[0];
    char topic[64];
    const char *name = NULL;
    for (size_t i = 0; i < n; i++) {
        CHECK (gql_schema_subscription_field (S, i, &name, topic, sizeof topic) == 0);
        CHECK_STR (name, expect[i][0]);
        CHECK_STR (topic, expect[i][1]);
    }
    CHECK (gql_schema_subscription_field (S, n, &name, topic, sizeof topic) == -1);
    CHECK (gql_schema_subscription_field (NULL, 0, &name, topic, sizeof topic) == -1);
    //  Cut short to fit, and still terminated.
    char small[6];
    CHECK (gql_schema_subscription_field (S, 7, &name, small, sizeof small) == 0);
    CHECK_STR (small, "{a}:{");
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    S = t_schema (SDL);
    if (!S)
        return 1;
    RUN (test_topic_string_and_id);
    RUN (test_topic_numbers_booleans_enums);
    RUN (test_topic_custom_scalar);
    RUN (test_topic_defaults_and_repeats);
    RUN (test_topic_null);
    RUN (test_topic_must_be_valid);
    RUN (test_topic_default_is_field_name);
    RUN (test_topic_template_errors);
    RUN (test_topic_claims);
    RUN (test_subscription_fields_and_templates);
    gql_schema_destroy (&S);
    return TEST_RESULT ();
}
