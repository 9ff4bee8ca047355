/*  test_session.c: the session layer (edge/session/session.c) with the
 *  real GraphQL engine, hub and token checks, and a recording fake of the
 *  upstream and of the transport. Tokens are HS256, signed here with
 *  OpenSSL's HMAC; unit_auth covers the checks themselves.
 */
#include "gql.h"
#include "hub.h"
#include "session.h"
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

static const char *SDL =
    "type Message { id: ID! text: String! }\n"
    "type Subscription { messageAdded(channel: String!): Message! @topic(name: \"chat.{channel}\")\n"
    "  direct: Message! @topic(name: \"dm.{jwt.sub}\") }\n";

static gql_schema_t *s_schema;
static char s_log[4096];

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
    return 0;
}

static void
f_remove (void *ctx, const char *topic)
{
    (void) ctx;
    s_rec ("remove", topic, strlen (topic), "", 0);
}

static const hub_ops_t s_hub_ops = { f_add, f_remove };

//  The transport's side: each result, with the transport's name.
static void
f_out (void *ctx, const char *prefix, size_t plen, const char *body, size_t blen)
{
    s_rec (ctx, prefix, plen, body, blen);
}

typedef struct {
    hub_t *hub;
    sessions_t *sessions;
} fixture_t;

static fixture_t
s_fixture (const session_config_t *cfg)
{
    memset (s_log, 0, sizeof s_log);
    fixture_t f;
    f.hub = hub_new (&s_hub_ops, NULL, 0);
    f.sessions = f.hub ? sessions_new (cfg, s_schema, f.hub) : NULL;
    return f;
}

static void
s_fixture_end (fixture_t *f)
{
    sessions_destroy (&f->sessions);
    hub_destroy (&f->hub);
}

static session_rc_t
s_start (session_t *s, const char *id, const char *query, int64_t now, char **errors)
{
    char prefix[64];
    snprintf (prefix, sizeof prefix, "[%s]", id);
    session_op_t op = { .id = id, .query = query, .query_len = strlen (query),
                        .prefix = prefix, .prefix_len = strlen (prefix) };
    return session_start (s, &op, now, errors);
}

#define GOOD "subscription { messageAdded(channel: \"g\") { id } }"

static void
test_start_deliver_stop (void)
{
    session_config_t cfg = { .max_subscriptions = 4, .max_query = 1000 };
    fixture_t f = s_fixture (&cfg);
    REQUIRE (f.sessions);
    session_t *a = session_new (f.sessions, SESSION_IDS_UNIQUE, f_out, "A", 0);
    session_t *b = session_new (f.sessions, SESSION_IDS_REPLACE, f_out, "B", 0);
    REQUIRE (a && b);
    char *errors;
    CHECK_INT (s_start (a, "1", GOOD, 0, &errors), SESSION_STARTED);
    CHECK (errors == NULL);
    CHECK_INT (s_start (b, "1", GOOD, 0, &errors), SESSION_STARTED);
    CHECK_STR (s_log, "add chat.g\n");
    CHECK_INT (session_count (a), 1);
    CHECK_INT (hub_stats (f.hub)->subscriptions, 2);

    //  An event reaches each session's transport, behind its prefix.
    memset (s_log, 0, sizeof s_log);
    static const char OK[] = "\x82\xa2id\xa1" "1" "\xa4text\xa2hi";
    hub_publish (f.hub, "chat.g", OK, sizeof OK - 1);
    CHECK (strstr (s_log, "A [1]{\"data\":{\"messageAdded\":{\"id\":\"1\"}}}\n") != NULL);
    CHECK (strstr (s_log, "B [1]{\"data\":{\"messageAdded\":{\"id\":\"1\"}}}\n") != NULL);

    //  The id rules: unique refuses a running id; replace stops it first.
    memset (s_log, 0, sizeof s_log);
    CHECK_INT (s_start (a, "1", GOOD, 0, &errors), SESSION_DUPLICATE);
    CHECK_INT (s_start (b, "1", GOOD, 0, &errors), SESSION_STARTED);
    CHECK_INT (session_count (b), 1);
    CHECK_INT (hub_stats (f.hub)->subscriptions, 2);
    CHECK_STR (s_log, "");                      //  the topic stayed held

    CHECK_INT (session_stop (a, "1"), 1);
    CHECK_INT (session_stop (a, "1"), 0);
    CHECK_STR (s_log, "");
    //  The last session leaving a topic unsubscribes it upstream.
    session_destroy (&b);
    CHECK (b == NULL);
    CHECK_STR (s_log, "remove chat.g\n");
    session_destroy (&a);
    session_destroy (&a);                       //  accepts NULL
    CHECK_INT (sessions_stats (f.sessions)->refused, 0);
    s_fixture_end (&f);
}

static void
test_refusals (void)
{
    session_config_t cfg = { .max_subscriptions = 1, .max_query = 60 };
    fixture_t f = s_fixture (&cfg);
    session_t *s = session_new (f.sessions, SESSION_IDS_UNIQUE, f_out, "S", 0);
    REQUIRE (s);
    char *errors;
    CHECK_INT (s_start (s, "1", "subscription { nope }", 0, &errors), SESSION_REFUSED);
    CHECK (errors && strstr (errors, "\"message\":") && errors[0] == '[');
    free (errors);
    CHECK_INT (s_start (s, "1", "subscription { messageAdded(channel: \"g\") { id text } } #long",
                        0, &errors), SESSION_REFUSED);
    CHECK_STR (errors, "[{\"message\":\"the document is 61 bytes; the limit is 60\"}]");
    free (errors);
    CHECK_INT (s_start (s, "1", GOOD, 0, &errors), SESSION_STARTED);
    CHECK_INT (s_start (s, "2", GOOD, 0, &errors), SESSION_REFUSED);
    CHECK_STR (errors,
               "[{\"message\":\"too many subscriptions on this connection (the limit is 1)\"}]");
    free (errors);
    //  A refused operation leaves its id free.
    CHECK_INT (session_stop (s, "2"), 0);
    CHECK_INT (sessions_stats (f.sessions)->refused, 3);
    CHECK_INT (sessions_stats (f.sessions)->rate_limited, 0);
    session_destroy (&s);
    s_fixture_end (&f);
}

static void
test_many_operations (void)
{
    //  The first operation lives in the session; more move to a table
    //  that grows, and stops in any order keep the rest running.
    session_config_t cfg = { .max_subscriptions = 8, .max_query = 1000 };
    fixture_t f = s_fixture (&cfg);
    session_t *s = session_new (f.sessions, SESSION_IDS_UNIQUE, f_out, "S", 0);
    REQUIRE (s);
    char *errors, id[8];
    for (int i = 0; i < 5; i++) {
        snprintf (id, sizeof id, "%d", i);
        CHECK_INT (s_start (s, id, GOOD, 0, &errors), SESSION_STARTED);
    }
    CHECK_INT (session_count (s), 5);
    CHECK_INT (session_stop (s, "0"), 1);
    CHECK_INT (session_stop (s, "3"), 1);
    CHECK_INT (session_count (s), 3);
    CHECK_INT (hub_stats (f.hub)->subscriptions, 3);
    CHECK_INT (s_start (s, "4", GOOD, 0, &errors), SESSION_DUPLICATE);
    CHECK_INT (s_start (s, "0", GOOD, 0, &errors), SESSION_STARTED);
    memset (s_log, 0, sizeof s_log);
    static const char OK[] = "\x82\xa2id\xa1" "1" "\xa4text\xa2hi";
    hub_publish (f.hub, "chat.g", OK, sizeof OK - 1);
    for (const char *p = "0124"; *p; p++) {
        char want[64];
        snprintf (want, sizeof want, "S [%c]{\"data\"", *p);
        CHECK (strstr (s_log, want) != NULL);
    }
    CHECK (strstr (s_log, "S [3]") == NULL);
    session_destroy (&s);
    CHECK_INT (hub_stats (f.hub)->subscriptions, 0);
    s_fixture_end (&f);
}

static void
test_subscribe_rate_limit (void)
{
    session_config_t cfg = { .max_subscriptions = 10, .max_query = 1000, .subscribe_rate = 2,
                             .subscribe_burst = 3 };
    fixture_t f = s_fixture (&cfg);
    session_t *s = session_new (f.sessions, SESSION_IDS_UNIQUE, f_out, "S", 0);
    REQUIRE (s);
    const session_stats_t *st = sessions_stats (f.sessions);
    char *errors;
    //  Every start here is invalid GraphQL, so ids stay free. A burst of
    //  3 goes through to the engine; the 4th is refused before it.
    for (int i = 0; i < 3; i++) {
        CHECK_INT (s_start (s, "1", "s", 0, &errors), SESSION_REFUSED);
        CHECK (errors && !strstr (errors, "too many"));
        free (errors);
    }
    CHECK_INT (s_start (s, "1", "s", 0, &errors), SESSION_REFUSED);
    CHECK_STR (errors, "[{\"message\":\"too many subscribe requests: the limit is 2 a second, "
                       "in bursts of up to 3\"}]");
    free (errors);
    CHECK_INT (st->rate_limited, 1);
    CHECK_INT (st->refused, 3);
    //  Tokens come back at the rate: one after 500 ms.
    CHECK_INT (s_start (s, "1", "s", 499, &errors), SESSION_REFUSED);
    CHECK (errors && strstr (errors, "too many subscribe requests"));
    free (errors);
    CHECK_INT (s_start (s, "1", GOOD, 1000, &errors), SESSION_STARTED);
    CHECK_INT (s_start (s, "2", GOOD, 1000, &errors), SESSION_STARTED);
    CHECK_INT (st->rate_limited, 2);
    //  A client that goes on after a burst's worth of refusals floods.
    for (int i = 0; i < 3; i++) {
        CHECK_INT (s_start (s, "3", GOOD, 1000, &errors), SESSION_REFUSED);
        free (errors);
    }
    CHECK_INT (s_start (s, "3", GOOD, 1000, &errors), SESSION_FLOOD);
    CHECK (errors == NULL);
    CHECK_INT (st->rate_limited, 6);
    CHECK_INT (session_count (s), 2);
    session_destroy (&s);
    s_fixture_end (&f);
}

//  ---------------------------------------------------------------------
//  Identity

#define SECRET "0123456789abcdef0123456789abcdef"
static int64_t s_now_ms = 1700000000000;

static int64_t
s_clock (void)
{
    return s_now_ms;
}

static void
s_b64url (const unsigned char *in, size_t len, char *out)
{
    size_t n = (size_t) EVP_EncodeBlock ((unsigned char *) out, in, (int) len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = 0;
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

//  An HS256 token with these claims (JSON text), signed with SECRET.
static char *
s_token (const char *claims)
{
    static char token[2048];
    char head[64], body[1024], sig[128];
    const char *h = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    s_b64url ((const unsigned char *) h, strlen (h), head);
    s_b64url ((const unsigned char *) claims, strlen (claims), body);
    snprintf (token, sizeof token, "%s.%s", head, body);
    unsigned char mac[32];
    unsigned int mac_len = 0;
    HMAC (EVP_sha256 (), SECRET, sizeof SECRET - 1, (unsigned char *) token, strlen (token), mac,
          &mac_len);
    s_b64url (mac, mac_len, sig);
    size_t n = strlen (token);
    snprintf (token + n, sizeof token - n, ".%s", sig);
    return token;
}

#define TOKEN(claims) s_token (claims), strlen (s_token (claims))

static void
f_revoked (void *ctx, const char *id, const char *errors)
{
    s_rec (ctx, id, strlen (id), errors, strlen (errors));
}

static void
test_identity (void)
{
    patterns_t *public_topics = patterns_parse ("chat.lobby", NULL, 0);
    session_config_t cfg = { .max_subscriptions = 4, .max_query = 1000,
                             .auth = SESSION_AUTH_OPTIONAL, .wall_ms = s_clock,
                             .public_topics = public_topics,
                             .token = { .topics_claim = "topics", .leeway_ms = 1000 } };
    fixture_t f = s_fixture (&cfg);
    auth_keys_t *keys = auth_keys_new ();
    REQUIRE (f.sessions && keys && public_topics);
    REQUIRE (auth_keys_add_secret (keys, "test", SECRET, sizeof SECRET - 1, NULL, 0) == 1);
    sessions_set_keys (f.sessions, keys);
    const session_stats_t *st = sessions_stats (f.sessions);
    char *errors;

    //  Anonymous (optional): the public topics only, and no {jwt.sub}.
    session_t *anon = session_new (f.sessions, SESSION_IDS_UNIQUE, f_out, "N", 0);
    CHECK_INT (session_authenticate (anon, NULL, 0), AUTH_OK);
    CHECK_INT (session_expires_in (anon), -1);
    CHECK (session_subject (anon) == NULL);
    CHECK_INT (s_start (anon, "1", "subscription { messageAdded(channel: \"lobby\") { id } }", 0,
                        &errors), SESSION_STARTED);
    CHECK_INT (s_start (anon, "2", GOOD, 0, &errors), SESSION_REFUSED);
    CHECK_STR (errors, "[{\"message\":\"not allowed to subscribe to this topic\","
                       "\"extensions\":{\"code\":\"FORBIDDEN\"}}]");
    free (errors);
    CHECK_INT (s_start (anon, "3", "subscription { direct { id } }", 0, &errors), SESSION_REFUSED);
    CHECK (strstr (errors, "this connection has no token") != NULL);
    free (errors);
    CHECK_INT (st->forbidden, 1);

    //  A token: its patterns, its sub in a topic, its expiry.
    session_t *a = session_new (f.sessions, SESSION_IDS_UNIQUE, f_out, "A", 0);
    const char *alice = "{\"sub\":\"alice\",\"exp\":1700000060,\"topics\":[\"chat.*\",\"dm.alice\"]}";
    CHECK_INT (session_authenticate (a, TOKEN (alice)), AUTH_OK);
    CHECK_STR (session_subject (a), "alice");
    CHECK_INT (session_expires_in (a), 61000);  //  the leeway included
    CHECK_INT (s_start (a, "g", GOOD, 0, &errors), SESSION_STARTED);
    CHECK_INT (s_start (a, "d", "subscription { direct { id } }", 0, &errors), SESSION_STARTED);
    CHECK_STR (s_log, "add chat.lobby\nadd chat.g\nadd dm.alice\n");
    CHECK_INT (s_start (a, "x", "subscription { messageAdded(channel: \"a.b\") { id } }", 0,
                        &errors), SESSION_REFUSED);
    free (errors);

    //  A refresh: same sub; what the new patterns drop ends, reported.
    memset (s_log, 0, sizeof s_log);
    const char *fresh = "{\"sub\":\"alice\",\"exp\":1700000600,\"topics\":[\"dm.alice\"]}";
    CHECK_INT (session_refresh (a, TOKEN (fresh), f_revoked, "R"), AUTH_OK);
    CHECK (strstr (s_log, "R g[{\"message\":\"not allowed to subscribe to this topic\"") != NULL);
    CHECK (strstr (s_log, "remove chat.g\n") != NULL);
    CHECK_INT (session_count (a), 1);
    CHECK_INT (session_expires_in (a), 601000);
    CHECK_INT (st->revoked, 1);
    //  Another sub, or a bad token, changes nothing.
    const char *bob = "{\"sub\":\"bob\",\"exp\":1700000600,\"topics\":[\">\"]}";
    CHECK_INT (session_refresh (a, TOKEN (bob), f_revoked, "R"), AUTH_SUBJECT);
    CHECK_INT (session_refresh (a, "x.y.z", 5, f_revoked, "R"), AUTH_MALFORMED);
    CHECK_STR (session_subject (a), "alice");
    CHECK_INT (session_count (a), 1);
    CHECK_INT (st->refresh[AUTH_OK], 1);
    CHECK_INT (st->refresh[AUTH_SUBJECT], 1);
    //  An anonymous session may take a token.
    CHECK_INT (session_refresh (anon, TOKEN (bob), f_revoked, "R"), AUTH_OK);
    CHECK_STR (session_subject (anon), "bob");

    //  Expired, within the leeway and past it; a bad token at connect.
    session_t *e = session_new (f.sessions, SESSION_IDS_UNIQUE, f_out, "E", 0);
    CHECK_INT (session_authenticate (e, TOKEN ("{\"exp\":1699999999.5}")), AUTH_OK);
    CHECK_INT (session_expires_in (e), 500);
    CHECK_INT (session_authenticate (e, TOKEN ("{\"exp\":1699999999}")), AUTH_EXPIRED);
    CHECK_INT (session_authenticate (e, "junk", 4), AUTH_MALFORMED);
    s_now_ms += 10000;
    CHECK_INT (session_expires_in (a), 591000);
    CHECK_INT (st->auth[AUTH_OK], 2);    //  the anonymous client is not counted
    CHECK_INT (st->auth[AUTH_EXPIRED], 1);
    CHECK_INT (st->auth[AUTH_MALFORMED], 1);
    session_destroy (&e);
    session_destroy (&a);
    session_destroy (&anon);
    s_fixture_end (&f);
    auth_keys_destroy (&keys);
    patterns_destroy (&public_topics);
}

//  --auth required wants a token; --auth off looks at none.
static void
test_modes (void)
{
    auth_keys_t *keys = auth_keys_new ();
    REQUIRE (keys && auth_keys_add_secret (keys, "test", SECRET, sizeof SECRET - 1, NULL, 0) == 1);
    session_config_t cfg = { .max_subscriptions = 4, .max_query = 1000,
                             .auth = SESSION_AUTH_REQUIRED, .wall_ms = s_clock };
    fixture_t f = s_fixture (&cfg);
    sessions_set_keys (f.sessions, keys);
    session_t *s = session_new (f.sessions, SESSION_IDS_UNIQUE, f_out, "S", 0);
    CHECK_INT (session_authenticate (s, NULL, 0), AUTH_MISSING);
    CHECK_INT (sessions_stats (f.sessions)->auth[AUTH_MISSING], 1);
    //  A token without a topics claim has no topics of its own.
    CHECK_INT (session_authenticate (s, TOKEN ("{\"sub\":\"a\"}")), AUTH_OK);
    char *errors;
    CHECK_INT (s_start (s, "1", GOOD, 0, &errors), SESSION_REFUSED);
    free (errors);
    session_destroy (&s);
    //  With the keys gone (a reload to none), tokens find no key.
    sessions_set_keys (f.sessions, NULL);
    s = session_new (f.sessions, SESSION_IDS_UNIQUE, f_out, "S", 0);
    CHECK_INT (session_authenticate (s, TOKEN ("{\"sub\":\"a\"}")), AUTH_UNKNOWN_KEY);
    session_destroy (&s);
    s_fixture_end (&f);

    cfg.auth = SESSION_AUTH_OFF;
    f = s_fixture (&cfg);
    s = session_new (f.sessions, SESSION_IDS_UNIQUE, f_out, "S", 0);
    CHECK_INT (session_authenticate (s, "junk", 4), AUTH_OK);
    CHECK_INT (session_refresh (s, "junk", 4, f_revoked, "R"), AUTH_OK);
    CHECK (session_subject (s) == NULL);
    CHECK_INT (s_start (s, "1", GOOD, 0, &errors), SESSION_STARTED);
    session_destroy (&s);
    s_fixture_end (&f);
    auth_keys_destroy (&keys);
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
    RUN (test_start_deliver_stop);
    RUN (test_refusals);
    RUN (test_many_operations);
    RUN (test_subscribe_rate_limit);
    RUN (test_identity);
    RUN (test_modes);
    gql_schema_destroy (&s_schema);
    return TEST_RESULT ();
}
