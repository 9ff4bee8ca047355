/*  test_gql_docs.c: the examples of docs/graphql.md, checked. Each test
 *  here holds one example of that page verbatim; change both together.
 */
#include "gqltest.h"

static const char *CHAT =
    "type Message { id: ID!  text: String!  author: User }\n"
    "type User { name: String! }\n"
    "type Subscription {\n"
    "  messageAdded(channel: String!): Message! @topic(name: \"chat.{channel}\")\n"
    "}\n";

static const char *NODES =
    "interface Node { id: ID! }\n"
    "type Photo implements Node { id: ID! url: String! }\n"
    "type Video implements Node { id: ID! duration: Float }\n"
    "type Subscription { nodeChanged(id: ID): Node }\n";

static gql_schema_t *S, *N;

static void
test_doc_topic_and_result (void)
{
    const char *doc = "subscription { messageAdded(channel: \"general\") { id text author { name } } }";
    char *errors = NULL;
    gql_sub_t *sub = t_prepare (S, doc, NULL, &errors);
    REQUIRE (sub);
    CHECK_STR (gql_sub_topic (sub), "chat.general");
    char *out = t_exec (sub, "{\"id\":\"1\",\"text\":\"hi\",\"author\":{\"name\":\"ann\"}}");
    CHECK_STR (out, "{\"data\":{\"messageAdded\":{\"id\":\"1\",\"text\":\"hi\",\"author\":{\"name\":\"ann\"}}}}");
    free (out);
    gql_sub_destroy (&sub);
    //  The default topic is the field's name.
    sub = t_prepare (N, "subscription { nodeChanged(id: 5) { id } }", NULL, &errors);
    REQUIRE (sub);
    CHECK_STR (gql_sub_topic (sub), "nodeChanged");
    gql_sub_destroy (&sub);
}

static void
test_doc_aliases_fragments (void)
{
    char *out = t_run (S, "subscription {\n  msg: messageAdded(channel: \"general\") { ...M by: author { name } }\n}\n"
                          "fragment M on Message { __typename id }", NULL,
                       "{\"id\":7,\"text\":\"unused\",\"author\":{\"name\":\"ann\"}}");
    CHECK_STR (out, "{\"data\":{\"msg\":{\"__typename\":\"Message\",\"id\":\"7\",\"by\":{\"name\":\"ann\"}}}}");
    free (out);
}

static void
test_doc_abstract (void)
{
    const char *doc = "subscription { nodeChanged { __typename id ... on Photo { url } } }";
    char *out = t_run (N, doc, NULL, "{\"__typename\":\"Photo\",\"id\":\"p1\",\"url\":\"https://x/p1.jpg\"}");
    CHECK_STR (out, "{\"data\":{\"nodeChanged\":{\"__typename\":\"Photo\",\"id\":\"p1\",\"url\":\"https://x/p1.jpg\"}}}");
    free (out);
    out = t_run (N, doc, NULL, "{\"__typename\":\"Video\",\"id\":\"v1\",\"duration\":2.5}");
    CHECK_STR (out, "{\"data\":{\"nodeChanged\":{\"__typename\":\"Video\",\"id\":\"v1\"}}}");
    free (out);
    out = t_run (N, doc, NULL, "{\"id\":\"v1\"}");
    CHECK_STR (out, "{\"data\":{\"nodeChanged\":null},\"errors\":[{\"message\":\"Abstract type \\\"Node\\\" must resolve "
                    "to an object type at runtime for field \\\"Subscription.nodeChanged\\\": the payload has no "
                    "\\\"__typename\\\" string.\",\"locations\":[{\"line\":1,\"column\":16}],\"path\":[\"nodeChanged\"]}]}");
    free (out);
}

static void
test_doc_null_propagation (void)
{
    char *out = t_run (S, "subscription { messageAdded(channel: \"general\") { id author { name } } }", NULL,
                       "{\"id\":\"1\",\"author\":{\"nom\":\"ann\"}}");
    CHECK_STR (out, "{\"data\":{\"messageAdded\":{\"id\":\"1\",\"author\":null}},\"errors\":[{\"message\":\"Cannot return "
                    "null for non-nullable field User.name.\",\"locations\":[{\"line\":1,\"column\":63}],\"path\":"
                    "[\"messageAdded\",\"author\",\"name\"]}]}");
    free (out);
    out = t_run (S, "subscription { messageAdded(channel: \"general\") { id text } }", NULL, "{\"id\":\"1\"}");
    CHECK_STR (out, "{\"data\":null,\"errors\":[{\"message\":\"Cannot return null for non-nullable field Message.text.\","
                    "\"locations\":[{\"line\":1,\"column\":54}],\"path\":[\"messageAdded\",\"text\"]}]}");
    free (out);
}

static void
test_doc_prepare_errors (void)
{
    char *e = t_errors (S, "subscription {\n  messageAdded(channel: \"general\") { id txt }\n}", NULL);
    CHECK_STR (e, "[{\"message\":\"Cannot query field \\\"txt\\\" on type \\\"Message\\\". Did you mean \\\"text\\\"?\","
                  "\"locations\":[{\"line\":2,\"column\":41}]}]");
    free (e);
    e = t_errors (S, "subscription { messageAdded(channel: \"general\") { id ", NULL);
    CHECK_STR (e, "[{\"message\":\"Syntax Error: Expected Name, found <EOF>.\",\"locations\":[{\"line\":1,\"column\":54}]}]");
    free (e);
    e = t_errors (S, "query { messageAdded(channel: \"general\") { id } }", NULL);
    CHECK_STR (e, "[{\"message\":\"The schema defines no query root type: herald-edge serves subscriptions only; send "
                  "queries and mutations to your GraphQL server.\",\"locations\":[{\"line\":1,\"column\":1}]}]");
    free (e);
    e = t_errors (S, "subscription {\n  messageAdded(channel: \"general\") { id }\n"
                     "  other: messageAdded(channel: \"random\") { id }\n}", NULL);
    CHECK_STR (e, "[{\"message\":\"Anonymous Subscription must select only one top level field.\","
                  "\"locations\":[{\"line\":3,\"column\":3}]}]");
    free (e);
    e = t_errors (S, "subscription OnMessage($channel: String!) {\n  messageAdded(channel: $channel) { id }\n}",
                  "{\"channel\": 5}");
    CHECK_STR (e, "[{\"message\":\"Variable \\\"$channel\\\" got invalid value 5; String cannot represent a non string "
                  "value.\",\"locations\":[{\"line\":1,\"column\":24}]}]");
    free (e);
    e = t_errors (S, "subscription ($channel: String) {\n  messageAdded(channel: $channel) { id }\n}", NULL);
    CHECK_STR (e, "[{\"message\":\"Variable \\\"$channel\\\" of type \\\"String\\\" used in position expecting type "
                  "\\\"String!\\\".\",\"locations\":[{\"line\":1,\"column\":15},{\"line\":2,\"column\":25}]}]");
    free (e);
    e = t_errors (N, "subscription ($id: ID) { nodeChanged(id: $id) { id } }", "{\"id\":\"a\\u0000b\"}");
    CHECK (e == NULL);      //  no @topic: the id does not reach the topic
    free (e);
}

static void
test_doc_schema_error (void)
{
    char *e = t_schema_error ("type Message { id: ID! }\ntype Subscription {\n  messageAdded: Mesage\n}\n");
    CHECK_STR (e, "line 3, column 17: unknown type \"Mesage\". Did you mean \"Message\"?");
    free (e);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    S = t_schema (CHAT);
    N = t_schema (NODES);
    if (!S || !N)
        return 1;
    RUN (test_doc_topic_and_result);
    RUN (test_doc_aliases_fragments);
    RUN (test_doc_abstract);
    RUN (test_doc_null_propagation);
    RUN (test_doc_prepare_errors);
    RUN (test_doc_schema_error);
    gql_schema_destroy (&S);
    gql_schema_destroy (&N);
    return TEST_RESULT ();
}
