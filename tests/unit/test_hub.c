/*  test_hub.c: the edge's fan-out registry (edge/session/hub.c) with the real
 *  GraphQL engine and a recording fake of the upstream and the sockets.
 */
#include "hub.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static const char *SDL =
    "type Message { id: ID! text: String! n: Int }\n"
    "type Subscription { messageAdded(channel: String!): Message! @topic(name: \"chat.{channel}\") }\n";

static gql_schema_t *s_schema;
static char s_log[8192];
static int s_refuse;

static void
s_rec (const char *what, const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = strlen (s_log);
    snprintf (s_log + n, sizeof s_log - n, "%s %.*s%.*s\n", what, (int) alen, a, (int) blen, b);
}

static int
f_add (void *ctx, const char *topic)
{
    (void) ctx;
    s_rec ("add", topic, strlen (topic), "", 0);
    return s_refuse ? -1 : 0;
}

static void
f_remove (void *ctx, const char *topic)
{
    (void) ctx;
    s_rec ("remove", topic, strlen (topic), "", 0);
}

static void
f_deliver (void *owner, const char *prefix, size_t plen, const char *body, size_t blen)
{
    (void) owner;
    s_rec ("to", prefix, plen, body, blen);
}

static const hub_ops_t s_ops = { f_add, f_remove };

static hub_sub_t *
s_sub (hub_t *hub, const char *doc, const char *who)
{
    char *errors = NULL;
    gql_sub_t *sub = gql_prepare (s_schema, doc, strlen (doc), NULL, NULL, NULL, &errors);
    if (!sub) {
        fprintf (stderr, "prepare: %s\n", errors);
        free (errors);
        return NULL;
    }
    return hub_subscribe (hub, sub, f_deliver, NULL, who, strlen (who));
}

static void
s_publish (hub_t *hub, const char *topic, const char *mp, size_t len)
{
    memset (s_log, 0, sizeof s_log);
    hub_publish (hub, topic, mp, len);
}

//  {"id":"1","text":"hi"} and the same without "text" (a non-null field).
static const char OK[] = "\x82\xa2id\xa1" "1" "\xa4text\xa2hi";
static const char MISSING[] = "\x81\xa2id\xa1" "1";

static void
test_refcount_and_sharing (void)
{
    hub_t *hub = hub_new (&s_ops, NULL, 0);
    memset (s_log, 0, sizeof s_log);
    hub_sub_t *a = s_sub (hub, "subscription { messageAdded(channel: \"g\") { id text } }", "A:");
    hub_sub_t *b = s_sub (hub, "subscription {\n  messageAdded(channel: \"g\") { ...F }\n}\n"
                               "fragment F on Message { id text }", "B:");
    hub_sub_t *c = s_sub (hub, "subscription { messageAdded(channel: \"g\") { id } }", "C:");
    REQUIRE (a && b && c);
    CHECK_STR (s_log, "add chat.g\n");          //  one upstream subscription
    const hub_stats_t *st = hub_stats (hub);
    CHECK_INT (st->topics, 1);
    CHECK_INT (st->groups, 2);                  //  {id text} and {id}
    CHECK_INT (st->subscriptions, 3);

    s_publish (hub, "chat.g", OK, sizeof OK - 1);
    CHECK (strstr (s_log, "to A:{\"data\":{\"messageAdded\":{\"id\":\"1\",\"text\":\"hi\"}}}") != NULL);
    CHECK (strstr (s_log, "to B:{\"data\":{\"messageAdded\":{\"id\":\"1\",\"text\":\"hi\"}}}") != NULL);
    CHECK (strstr (s_log, "to C:{\"data\":{\"messageAdded\":{\"id\":\"1\"}}}") != NULL);
    CHECK_INT (st->renders, 2);                 //  once per group
    CHECK_INT (st->deliveries, 3);

    //  A field error: A and B differ in where "text" is, so each gets its
    //  own locations.
    s_publish (hub, "chat.g", MISSING, sizeof MISSING - 1);
    CHECK_INT (st->renders, 5);
    CHECK (strstr (s_log, "to A:{\"data\":null,\"errors\":[{\"message\":") != NULL);
    CHECK (strstr (s_log, "\"locations\":[{\"line\":1,\"column\":48}]") != NULL);
    CHECK (strstr (s_log, "\"locations\":[{\"line\":4,\"column\":28}]") != NULL);

    s_publish (hub, "chat.other", OK, sizeof OK - 1);
    CHECK_STR (s_log, "");
    CHECK_INT (st->events_unrouted, 1);

    memset (s_log, 0, sizeof s_log);
    hub_unsubscribe (hub, a);
    hub_unsubscribe (hub, c);
    CHECK_STR (s_log, "");                      //  B still wants the topic
    CHECK_INT (st->groups, 1);
    hub_unsubscribe (hub, b);
    CHECK_STR (s_log, "remove chat.g\n");
    CHECK_INT (st->topics, 0);
    CHECK_INT (st->groups, 0);
    CHECK_INT (st->subscriptions, 0);
    hub_destroy (&hub);
    CHECK (hub == NULL);
}

static void
test_refused_topic (void)
{
    hub_t *hub = hub_new (&s_ops, NULL, 0);
    s_refuse = 1;
    CHECK (s_sub (hub, "subscription { messageAdded(channel: \"x\") { id } }", "A:") == NULL);
    CHECK_INT (hub_stats (hub)->topics, 0);
    s_refuse = 0;
    hub_destroy (&hub);
}

static void
test_result_limit (void)
{
    hub_t *hub = hub_new (&s_ops, NULL, 20);
    REQUIRE (s_sub (hub, "subscription { messageAdded(channel: \"g\") { id text } }", "A:"));
    s_publish (hub, "chat.g", OK, sizeof OK - 1);
    CHECK (strstr (s_log, "larger than the edge's limit") != NULL);
    //  An unreadable payload is counted, not delivered.
    s_publish (hub, "chat.g", "\xc1", 1);
    CHECK_STR (s_log, "");
    CHECK_INT (hub_stats (hub)->events_invalid, 1);
    hub_destroy (&hub);                         //  with a subscription left
}

//  Stats placed in the caller's memory (a worker's shared slot): they
//  carry the counts so far, and count there from then on.
static void
test_placed_stats (void)
{
    hub_t *hub = hub_new (&s_ops, NULL, 0);
    REQUIRE (s_sub (hub, "subscription { messageAdded(channel: \"g\") { id text } }", "A:"));
    s_publish (hub, "chat.g", OK, sizeof OK - 1);
    hub_stats_t placed;
    memset (&placed, 0xff, sizeof placed);
    hub_place_stats (hub, &placed);
    CHECK (hub_stats (hub) == &placed);
    CHECK_INT (placed.deliveries, 1);
    CHECK_INT (placed.subscriptions, 1);
    s_publish (hub, "chat.g", OK, sizeof OK - 1);
    CHECK_INT (placed.deliveries, 2);
    CHECK_INT (placed.events, 2);
    hub_destroy (&hub);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    char *err = NULL;
    s_schema = gql_schema_new (SDL, strlen (SDL), &err);
    if (!s_schema) {
        fprintf (stderr, "schema: %s\n", err);
        return 1;
    }
    RUN (test_refcount_and_sharing);
    RUN (test_refused_topic);
    RUN (test_result_limit);
    RUN (test_placed_stats);
    gql_schema_destroy (&s_schema);
    return TEST_RESULT ();
}
