/*  test_proto.c: the protocol state machines (edge/proto), message by
 *  message, with recording fakes of the socket glue and of the session
 *  layer (session.h's functions, defined here; unit_session tests the
 *  real one).
 */
#include "proto.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

//  What the state machine did, as one line per action.
static char s_log[8192];
static char s_active[8][32];
static int s_start_rc;

static void
s_record (const char *fmt, const char *a, const char *b)
{
    size_t n = strlen (s_log);
    snprintf (s_log + n, sizeof s_log - n, fmt, a, b);
}

static void
f_send (void *ctx, const char *const *parts, const size_t *lens, int n)
{
    (void) ctx;
    char tmp[2048] = "";
    for (int i = 0; i < n; i++) {
        size_t used = strlen (tmp);
        snprintf (tmp + used, sizeof tmp - used, "%.*s", (int) lens[i], parts[i]);
    }
    s_record ("send %s%s\n", tmp, "");
}

static void
f_close (void *ctx, int code, const char *reason)
{
    (void) ctx;
    char tmp[16];
    snprintf (tmp, sizeof tmp, "%d", code);
    s_record ("close %s %s\n", tmp, reason);
}

static const proto_ops_t s_ops = { f_send, f_close };

//  The fake session layer: an id table, and starts that do as
//  s_start_rc says (0: start, -1: refuse with an error, -2: fail).
static session_ids_t s_ids;
static int s_session;

session_t *
session_new (sessions_t *sessions, session_ids_t ids, session_out_fn *out, void *ctx,
             int64_t now_ms)
{
    (void) sessions;
    (void) out;
    (void) ctx;
    (void) now_ms;
    s_ids = ids;
    return (session_t *) &s_session;
}

void
session_destroy (session_t **self_p)
{
    *self_p = NULL;
}

static int
s_find (const char *id)
{
    for (int i = 0; i < 8; i++)
        if (strcmp (s_active[i], id) == 0)
            return i;
    return -1;
}

int
session_stop (session_t *self, const char *id)
{
    (void) self;
    int i = s_find (id);
    if (i < 0)
        return 0;
    s_record ("stop %s%s\n", id, "");
    *s_active[i] = 0;
    return 1;
}

session_rc_t
session_start (session_t *self, const session_op_t *op, int64_t now_ms, char **errors)
{
    (void) now_ms;
    *errors = NULL;
    if (s_find (op->id) >= 0) {
        if (s_ids == SESSION_IDS_UNIQUE)
            return SESSION_DUPLICATE;
        session_stop (self, op->id);
    }
    s_record ("start %s %s\n", op->id, op->query);
    if (s_start_rc == -1) {
        *errors = strdup ("[{\"message\":\"bad query\"}]");
        return SESSION_REFUSED;
    }
    if (s_start_rc != 0)
        return SESSION_FAILED;
    for (int i = 0; i < 8; i++)
        if (!*s_active[i]) {
            snprintf (s_active[i], sizeof s_active[i], "%s", op->id);
            break;
        }
    return SESSION_STARTED;
}

//  The fake identity: what session_authenticate and session_refresh
//  answer, the expiry they set, and an operation a refresh revokes.
static auth_rc_t s_auth_rc, s_refresh_rc;
static int64_t s_expires;
static const char *s_revoke;

auth_rc_t
session_authenticate (session_t *self, const char *token, size_t len)
{
    (void) self;
    char tmp[64];
    snprintf (tmp, sizeof tmp, "%.*s", (int) len, token ? token : "");
    if (token)
        s_record ("auth %s%s\n", tmp, "");
    return s_auth_rc;
}

auth_rc_t
session_refresh (session_t *self, const char *token, size_t len, session_revoked_fn *revoked,
                 void *ctx)
{
    char tmp[64];
    snprintf (tmp, sizeof tmp, "%.*s", (int) len, token);
    s_record ("refresh %s%s\n", tmp, "");
    if (s_refresh_rc == AUTH_OK && s_revoke) {
        revoked (ctx, s_revoke, "[{\"message\":\"no\"}]");
        session_stop (self, s_revoke);
    }
    return s_refresh_rc;
}

int64_t
session_expires_in (const session_t *self)
{
    (void) self;
    return s_expires;
}

void
session_expired (session_t *self)
{
    (void) self;
    s_record ("expired%s%s\n", "", "");
}

static proto_conn_t *
s_new (proto_kind_t kind)
{
    memset (s_log, 0, sizeof s_log);
    memset (s_active, 0, sizeof s_active);
    s_start_rc = 0;
    s_auth_rc = s_refresh_rc = AUTH_OK;
    s_expires = -1;
    s_revoke = NULL;
    proto_config_t cfg = { .init_timeout_ms = 3000, .keepalive_ms = 1000 };
    return proto_new (kind, &cfg, &s_ops, NULL, NULL, 0);
}

//  Feeds a message and returns what happened since the last call.
static const char *
s_feed (proto_conn_t *p, const char *text)
{
    memset (s_log, 0, sizeof s_log);
    proto_on_text (p, text, strlen (text), 10);
    return s_log;
}

#define SUB(id, q) "{\"type\":\"subscribe\",\"id\":\"" id "\",\"payload\":{\"query\":\"" q "\"}}"

static void
test_tws_init_and_ack (void)
{
    proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
    CHECK (!proto_acknowledged (p));
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\"}"), "send {\"type\":\"connection_ack\"}\n");
    CHECK (proto_acknowledged (p));
    CHECK_INT (proto_deadline (p), -1);
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\"}"),
               "close 4429 Too many initialisation requests\n");
    //  Nothing happens after a close.
    CHECK_STR (s_feed (p, "{\"type\":\"ping\"}"), "");
    proto_destroy (&p);
    CHECK (p == NULL);

    p = s_new (PROTO_TRANSPORT_WS);
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\",\"payload\":{\"token\":\"x\"}}"),
               "auth x\nsend {\"type\":\"connection_ack\"}\n");
    proto_destroy (&p);
    p = s_new (PROTO_TRANSPORT_WS);
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\",\"payload\":\"x\"}"),
               "close 4400 Invalid message received\n");
    proto_destroy (&p);
}

static void
test_tws_init_timeout (void)
{
    proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
    CHECK_INT (proto_deadline (p), 3000);
    proto_on_timer (p, 2999);
    CHECK_STR (s_log, "");
    proto_on_timer (p, 3000);
    CHECK_STR (s_log, "close 4408 Connection initialisation timeout\n");
    CHECK_INT (proto_deadline (p), -1);
    proto_destroy (&p);
}

static void
test_tws_subscribe_before_ack (void)
{
    proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
    CHECK_STR (s_feed (p, SUB ("1", "subscription { a }")), "close 4401 Unauthorized\n");
    proto_destroy (&p);
}

static void
test_tws_subscribe_complete (void)
{
    proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
    s_feed (p, "{\"type\":\"connection_init\"}");
    CHECK_STR (s_feed (p, SUB ("1", "subscription { a }")), "start 1 subscription { a }\n");
    CHECK_STR (s_feed (p, SUB ("1", "subscription { a }")),
               "close 4409 Subscriber for 1 already exists\n");
    proto_destroy (&p);

    p = s_new (PROTO_TRANSPORT_WS);
    s_feed (p, "{\"type\":\"connection_init\"}");
    s_feed (p, SUB ("1", "s"));
    CHECK_STR (s_feed (p, "{\"type\":\"complete\",\"id\":\"1\"}"), "stop 1\n");
    //  Unknown ids are ignored, and a completed id can be reused.
    CHECK_STR (s_feed (p, "{\"type\":\"complete\",\"id\":\"1\"}"), "");
    CHECK_STR (s_feed (p, "{\"type\":\"complete\",\"id\":\"nope\"}"), "");
    CHECK_STR (s_feed (p, SUB ("1", "s")), "start 1 s\n");
    CHECK_STR (s_feed (p, "{\"type\":\"complete\"}"), "close 4400 Invalid message received\n");
    proto_destroy (&p);
}

static void
test_tws_subscribe_errors (void)
{
    proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
    s_feed (p, "{\"type\":\"connection_init\"}");
    s_start_rc = -1;
    CHECK_STR (s_feed (p, SUB ("7", "query { a }")),
               "start 7 query { a }\n"
               "send {\"type\":\"error\",\"id\":\"7\",\"payload\":[{\"message\":\"bad query\"}]}\n");
    //  An error ends the operation: the id is free again.
    s_start_rc = 0;
    CHECK_STR (s_feed (p, SUB ("7", "s")), "start 7 s\n");
    s_start_rc = -2;
    CHECK_STR (s_feed (p, SUB ("8", "s")), "start 8 s\nclose 4500 Internal server error\n");
    proto_destroy (&p);
}

static void
test_tws_invalid_messages (void)
{
    static const char *bad[] = {
        "not json",
        "[1,2]",
        "\"text\"",
        "{}",
        "{\"type\":42}",
        "{\"type\":\"\"}",
        "{\"type\":\"bogus\"}",
        "{\"type\":\"next\",\"id\":\"1\",\"payload\":{}}",
        "{\"type\":\"connection_ack\"}",
        "{\"type\":\"error\",\"id\":\"1\",\"payload\":[]}",
        "{\"type\":\"subscribe\",\"payload\":{\"query\":\"s\"}}",
        "{\"type\":\"subscribe\",\"id\":\"\",\"payload\":{\"query\":\"s\"}}",
        "{\"type\":\"subscribe\",\"id\":1,\"payload\":{\"query\":\"s\"}}",
        "{\"type\":\"subscribe\",\"id\":\"1\"}",
        "{\"type\":\"subscribe\",\"id\":\"1\",\"payload\":{\"query\":1}}",
        "{\"type\":\"subscribe\",\"id\":\"1\",\"payload\":{\"query\":\"s\",\"variables\":[]}}",
        "{\"type\":\"subscribe\",\"id\":\"1\",\"payload\":{\"query\":\"s\",\"operationName\":5}}",
        "{\"type\":\"subscribe\",\"id\":\"1\",\"payload\":{\"query\":\"s\",\"extensions\":\"x\"}}",
        "{\"type\":\"ping\",\"payload\":[1]}",
        "{\"type\":\"pong\",\"payload\":3}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
        s_feed (p, "{\"type\":\"connection_init\"}");
        const char *got = s_feed (p, bad[i]);
        if (strcmp (got, "close 4400 Invalid message received\n") != 0) {
            fprintf (stderr, "  for %s\n", bad[i]);
            CHECK_STR (got, "close 4400 Invalid message received\n");
        }
        proto_destroy (&p);
    }
    //  Null payloads and variables are fine.
    proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
    s_feed (p, "{\"type\":\"connection_init\",\"payload\":null}");
    CHECK_STR (s_feed (p, "{\"type\":\"subscribe\",\"id\":\"1\",\"payload\":{\"query\":\"s\","
                          "\"variables\":null,\"operationName\":null,\"extensions\":null}}"),
               "start 1 s\n");
    proto_on_binary (p, 0);
    CHECK (strstr (s_log, "close 4400 Binary") != NULL);
    proto_destroy (&p);
}

static void
test_tws_ping_pong (void)
{
    proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
    //  Pings are answered before and after the handshake.
    CHECK_STR (s_feed (p, "{\"type\":\"ping\"}"), "send {\"type\":\"pong\"}\n");
    CHECK_STR (s_feed (p, "{\"type\":\"ping\",\"payload\":{\"t\":1}}"),
               "send {\"type\":\"pong\",\"payload\":{\"t\":1}}\n");
    CHECK_STR (s_feed (p, "{\"type\":\"pong\"}"), "");
    proto_destroy (&p);
}

//  Where the token comes from, and a refused one.
static void
test_tws_tokens (void)
{
    proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
    CHECK_INT (proto_set_token (p, "up", 2), 0);
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\"}"),
               "auth up\nsend {\"type\":\"connection_ack\"}\n");
    proto_destroy (&p);
    //  The init payload's token comes first.
    p = s_new (PROTO_TRANSPORT_WS);
    proto_set_token (p, "up", 2);
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\",\"payload\":"
                          "{\"Authorization\":\"Bearer abc\"}}"),
               "auth abc\nsend {\"type\":\"connection_ack\"}\n");
    proto_destroy (&p);
    //  A token of the wrong kind is checked as an empty one (malformed).
    p = s_new (PROTO_TRANSPORT_WS);
    proto_set_token (p, "up", 2);
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\",\"payload\":{\"token\":7}}"),
               "auth \nsend {\"type\":\"connection_ack\"}\n");
    proto_destroy (&p);
    //  Refused: 4403, which graphql-ws's client retries, naming the check.
    p = s_new (PROTO_TRANSPORT_WS);
    s_auth_rc = AUTH_SIGNATURE;
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\",\"payload\":{\"token\":\"t\"}}"),
               "auth t\nclose 4403 Forbidden: signature\n");
    CHECK (!proto_acknowledged (p));
    proto_destroy (&p);
    p = s_new (PROTO_TRANSPORT_WS);
    s_auth_rc = AUTH_MISSING;
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\"}"), "close 4403 Forbidden: missing\n");
    proto_destroy (&p);
}

//  A token's exp closes the connection, 4403.
static void
test_tws_expiry (void)
{
    proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
    s_expires = 5000;
    s_feed (p, "{\"type\":\"connection_init\",\"payload\":{\"token\":\"t\"}}");
    //  5 s after the init came (at 10).
    CHECK_INT (proto_deadline (p), 5010);
    memset (s_log, 0, sizeof s_log);
    proto_on_timer (p, 5009);
    CHECK_STR (s_log, "");
    proto_on_timer (p, 5010);
    CHECK_STR (s_log, "expired\nclose 4403 Forbidden: expired\n");
    CHECK_INT (proto_deadline (p), -1);
    proto_destroy (&p);
}

//  A ping with a token refreshes the identity (Herald's extension).
static void
test_tws_refresh (void)
{
    proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
    //  Before the ack a ping is only a ping.
    CHECK_STR (s_feed (p, "{\"type\":\"ping\",\"payload\":{\"token\":\"n\"}}"),
               "send {\"type\":\"pong\",\"payload\":{\"token\":\"n\"}}\n");
    s_expires = 5000;
    s_feed (p, "{\"type\":\"connection_init\",\"payload\":{\"token\":\"t\"}}");
    s_feed (p, SUB ("1", "s"));
    s_feed (p, SUB ("2", "s"));
    //  The new expiry is taken, and what it no longer allows ends.
    s_expires = 9000;
    s_revoke = "2";
    CHECK_STR (s_feed (p, "{\"type\":\"ping\",\"payload\":{\"token\":\"n\"}}"),
               "refresh n\nsend {\"type\":\"error\",\"id\":\"2\",\"payload\":[{\"message\":\"no\"}]}\n"
               "stop 2\nsend {\"type\":\"pong\"}\n");
    CHECK_INT (proto_deadline (p), 9010);
    //  A ping without a token is answered as ever.
    CHECK_STR (s_feed (p, "{\"type\":\"ping\",\"payload\":{\"t\":1}}"),
               "send {\"type\":\"pong\",\"payload\":{\"t\":1}}\n");
    //  A refused refresh closes 4403.
    s_revoke = NULL;
    s_refresh_rc = AUTH_SUBJECT;
    CHECK_STR (s_feed (p, "{\"type\":\"ping\",\"payload\":{\"authToken\":\"m\"}}"),
               "refresh m\nclose 4403 Forbidden: subject\n");
    proto_destroy (&p);
}

static void
test_result_prefix (void)
{
    jbuf_t b;
    jbuf_init (&b, 0);
    proto_result_prefix (PROTO_TRANSPORT_WS, "a\"b", &b);
    jbuf_puts (&b, "{}" PROTO_RESULT_SUFFIX);
    jbuf_putc (&b, 0);
    CHECK_STR (b.data, "{\"id\":\"a\\\"b\",\"type\":\"next\",\"payload\":{}}");
    jbuf_reset (&b);
    proto_result_prefix (PROTO_LEGACY_WS, "1", &b);
    jbuf_putc (&b, 0);
    CHECK_STR (b.data, "{\"id\":\"1\",\"type\":\"data\",\"payload\":");
    jbuf_free (&b);
}

static void
test_legacy_session (void)
{
    proto_conn_t *p = s_new (PROTO_LEGACY_WS);
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\",\"payload\":{}}"),
               "send {\"type\":\"connection_ack\"}\nsend {\"type\":\"ka\"}\n");
    CHECK_STR (s_feed (p, "{\"type\":\"start\",\"id\":\"1\",\"payload\":{\"query\":\"s\"}}"),
               "start 1 s\n");
    CHECK_INT (proto_deadline (p), 1010);
    memset (s_log, 0, sizeof s_log);
    proto_on_timer (p, 1010);
    CHECK_STR (s_log, "send {\"type\":\"ka\"}\n");
    CHECK_INT (proto_deadline (p), 2010);
    CHECK_STR (s_feed (p, "{\"type\":\"stop\",\"id\":\"1\"}"),
               "stop 1\nsend {\"type\":\"complete\",\"id\":\"1\"}\n");
    CHECK_STR (s_feed (p, "{\"type\":\"stop\",\"id\":\"1\"}"), "");
    CHECK_STR (s_feed (p, "{\"type\":\"connection_terminate\"}"), "close 1000 \n");
    proto_destroy (&p);
}

static void
test_legacy_errors (void)
{
    proto_conn_t *p = s_new (PROTO_LEGACY_WS);
    s_feed (p, "{\"type\":\"connection_init\"}");
    s_start_rc = -1;
    CHECK_STR (s_feed (p, "{\"type\":\"start\",\"id\":\"2\",\"payload\":{\"query\":\"q\"}}"),
               "start 2 q\n"
               "send {\"type\":\"data\",\"id\":\"2\",\"payload\":{\"errors\":[{\"message\":\"bad query\"}]}}\n"
               "send {\"type\":\"complete\",\"id\":\"2\"}\n");
    CHECK (strstr (s_feed (p, "nonsense"), "send {\"type\":\"connection_error\",\"payload\":{\"message\":")
           != NULL);
    CHECK_STR (s_feed (p, "{\"type\":\"wat\",\"id\":\"3\"}"),
               "send {\"type\":\"error\",\"id\":\"3\",\"payload\":{\"message\":\"Invalid message type!\"}}\n");
    CHECK (strstr (s_feed (p, "{\"type\":\"start\",\"id\":\"4\",\"payload\":{}}"),
                   "Invalid start message: the payload's query must be a string") != NULL);
    //  Reusing an id stops the old subscription first.
    s_start_rc = 0;
    s_feed (p, "{\"type\":\"start\",\"id\":\"5\",\"payload\":{\"query\":\"a\"}}");
    CHECK_STR (s_feed (p, "{\"type\":\"start\",\"id\":\"5\",\"payload\":{\"query\":\"b\"}}"),
               "stop 5\nstart 5 b\n");
    proto_destroy (&p);
}

static void
test_legacy_tokens (void)
{
    proto_conn_t *p = s_new (PROTO_LEGACY_WS);
    s_auth_rc = AUTH_EXPIRED;
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\",\"payload\":{\"authToken\":\"t\"}}"),
               "auth t\nsend {\"type\":\"connection_error\",\"payload\":{\"message\":\"Forbidden\"}}\n"
               "close 4403 Forbidden: expired\n");
    proto_destroy (&p);
    p = s_new (PROTO_LEGACY_WS);
    s_feed (p, "{\"type\":\"connection_init\",\"payload\":{\"authToken\":\"t\"}}");
    //  A second init is acknowledged, and the client stays who it was.
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\",\"payload\":{\"authToken\":\"u\"}}"),
               "send {\"type\":\"connection_ack\"}\n");
    proto_destroy (&p);
}

static void
test_legacy_start_before_init (void)
{
    //  Nothing is served before connection_init: a start closes 4401, as
    //  a subscribe before the ack does in graphql-transport-ws, and the
    //  subscription is never started.
    proto_conn_t *p = s_new (PROTO_LEGACY_WS);
    CHECK_STR (s_feed (p, "{\"type\":\"start\",\"id\":\"1\",\"payload\":{\"query\":\"s\"}}"),
               "close 4401 Unauthorized\n");
    CHECK_STR (s_feed (p, "{\"type\":\"connection_init\"}"), "");
    proto_destroy (&p);
    //  A stop before init has nothing to stop.
    p = s_new (PROTO_LEGACY_WS);
    CHECK_STR (s_feed (p, "{\"type\":\"stop\",\"id\":\"1\"}"), "");
    proto_destroy (&p);
}

static void
test_huge_integers (void)
{
    //  2^64 is valid JSON: the message is read (its integers as doubles),
    //  not refused as invalid.
    proto_conn_t *p = s_new (PROTO_TRANSPORT_WS);
    s_feed (p, "{\"type\":\"connection_init\"}");
    CHECK_STR (s_feed (p, "{\"type\":\"subscribe\",\"id\":\"1\",\"payload\":{\"query\":\"s\","
                          "\"variables\":{\"n\":18446744073709551616}}}"),
               "start 1 s\n");
    CHECK_STR (s_feed (p, "{\"type\":\"ping\",\"payload\":{\"n\":-18446744073709551617}}"),
               "send {\"type\":\"pong\",\"payload\":{\"n\":-1.8446744073709552e19}}\n");
    //  Other malformed numbers still close 4400.
    CHECK_STR (s_feed (p, "{\"type\":\"ping\",\"payload\":{\"n\":01}}"),
               "close 4400 Invalid message received\n");
    proto_destroy (&p);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_tws_init_and_ack);
    RUN (test_tws_init_timeout);
    RUN (test_tws_subscribe_before_ack);
    RUN (test_tws_subscribe_complete);
    RUN (test_tws_subscribe_errors);
    RUN (test_tws_invalid_messages);
    RUN (test_tws_ping_pong);
    RUN (test_tws_tokens);
    RUN (test_tws_expiry);
    RUN (test_tws_refresh);
    RUN (test_result_prefix);
    RUN (test_legacy_session);
    RUN (test_legacy_errors);
    RUN (test_legacy_tokens);
    RUN (test_legacy_start_before_init);
    RUN (test_huge_integers);
    return TEST_RESULT ();
}
