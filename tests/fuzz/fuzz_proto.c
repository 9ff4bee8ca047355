/*  fuzz_proto.c: libFuzzer harness for the transports and the session
 *  layer under them: the code that reads every message a client sends,
 *  down to the real GraphQL engine, hub and token checks. The input's
 *  first byte picks the protocol (bit 0), whether subscribes are
 *  rate-limited (bit 1), and whether tokens are checked (bit 2: --auth
 *  optional, an HS256 secret, a fixed wall clock; the corpus holds tokens
 *  signed with it);
 *  the rest is split at newlines into messages fed in order, with the
 *  clock advancing and an event published on every topic held after each
 *  message. The fakes of the socket and of the broker check the
 *  promises: nothing is sent after a close, every message is a JSON
 *  object, the session stays within its limit, and the hub's topics are
 *  subscribed and unsubscribed in pairs.
 */
#include "gql.h"
#include "hub.h"
#include "proto.h"
#include "session.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SUBS 4

static const char *SDL =
    "type Message { id: ID! text: String }\n"
    "type Subscription {\n"
    "  messageAdded(channel: String!): Message! @topic(name: \"chat.{channel}\")\n"
    "  tick: Int @topic(name: \"tick\")\n"
    "  direct: Message @topic(name: \"dm.{jwt.sub}\")\n"
    "}\n";

//  The corpus's tokens are signed with this secret and expire after the
//  clock's start (1700000000 s) plus a minute or two.
#define SECRET "fuzz-proto-secret-of-32-bytes-at-least"

static int64_t s_wall;

static int64_t
s_wall_ms (void)
{
    return s_wall;
}

static gql_schema_t *s_schema;
static auth_keys_t *s_keys;
static patterns_t *s_public;
static int s_closed;
static int s_topics;            //  held upstream now
static char s_last_topic[256];

static void
f_send (void *ctx, const char *const *parts, const size_t *lens, int n)
{
    (void) ctx;
    if (s_closed || n < 1 || lens[0] == 0 || parts[0][0] != '{')
        abort ();
}

static void
f_close (void *ctx, int code, const char *reason)
{
    (void) ctx;
    if (s_closed || code < 1000 || code > 4999 || strlen (reason) > 123)
        abort ();
    s_closed = 1;
}

static const proto_ops_t s_ops = { f_send, f_close };

static int
f_add (void *ctx, const char *topic)
{
    (void) ctx;
    s_topics++;
    snprintf (s_last_topic, sizeof s_last_topic, "%s", topic);
    return 0;
}

static void
f_remove (void *ctx, const char *topic)
{
    (void) ctx;
    (void) topic;
    if (--s_topics < 0)
        abort ();
}

static const hub_ops_t s_hub_ops = { f_add, f_remove };

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!s_schema) {
        char *err = NULL;
        s_schema = gql_schema_new (SDL, strlen (SDL), &err);
        s_keys = auth_keys_new ();
        s_public = patterns_parse ("chat.lobby", NULL, 0);
        if (!s_schema || !s_keys || !s_public
            || auth_keys_add_secret (s_keys, "fuzz", SECRET, sizeof SECRET - 1, NULL, 0) != 1)
            abort ();
    }
    s_wall = 1700000000000;
    s_closed = 0;
    s_topics = 0;
    session_config_t sc = { .max_subscriptions = MAX_SUBS, .max_query = 4096,
                            .max_depth = 8, .max_fields = 64 };
    if (data[0] & 2) {
        sc.subscribe_rate = 10;
        sc.subscribe_burst = 2;
    }
    if (data[0] & 4) {
        sc.auth = SESSION_AUTH_OPTIONAL;
        sc.public_topics = s_public;
        sc.token.topics_claim = "topics";
        sc.wall_ms = s_wall_ms;
    }
    hub_t *hub = hub_new (&s_hub_ops, NULL, 1 << 16);
    sessions_t *sessions = hub ? sessions_new (&sc, s_schema, hub) : NULL;
    proto_config_t cfg = { .init_timeout_ms = 100, .keepalive_ms = 50 };
    proto_kind_t kind = data[0] & 1 ? PROTO_LEGACY_WS : PROTO_TRANSPORT_WS;
    proto_conn_t *p = sessions ? proto_new (kind, &cfg, &s_ops, NULL, sessions, 0) : NULL;
    if (sessions)
        sessions_set_keys (sessions, s_keys);
    const char *text = (const char *) data + 1;
    size_t left = size - 1;
    int64_t now = 0;
    static const char EVENT[] = "\x82\xa2id\xa1" "1" "\xa4text\xa2hi";
    while (p && left > 0) {
        const char *nl = memchr (text, '\n', left);
        size_t n = nl ? (size_t) (nl - text) : left;
        if (n > 0 && text[0] == 'B')
            proto_on_binary (p, now);
        else
            proto_on_text (p, text, n, now);
        now += 30;
        s_wall += 30;
        if (proto_deadline (p) >= 0 && proto_deadline (p) <= now)
            proto_on_timer (p, now);
        if (hub_stats (hub)->subscriptions > MAX_SUBS)
            abort ();
        if (s_topics > 0)
            hub_publish (hub, s_last_topic, EVENT, sizeof EVENT - 1);
        text += nl ? n + 1 : n;
        left -= nl ? n + 1 : n;
    }
    proto_destroy (&p);
    if (hub && (s_topics != 0 || hub_stats (hub)->subscriptions != 0))
        abort ();
    sessions_destroy (&sessions);
    hub_destroy (&hub);
    return 0;
}
