/*  proto.c: the graphql-transport-ws and legacy graphql-ws state machines.
 *  See proto.h.
 *
 *  Each protocol is a table from message type to handler. The rules follow
 *  graphql-ws's PROTOCOL.md for graphql-transport-ws (close 4400 for an
 *  invalid message, 4401 subscribe before ack, 4408 no init in time, 4409
 *  duplicate id, 4429 second init) and subscriptions-transport-ws's server
 *  for the legacy protocol (errors are messages, not closes; request
 *  errors come as "data" with "errors" followed by "complete"), except
 *  that nothing runs before connection_init in either: a legacy "start"
 *  before it closes 4401 too. What a subscribe/start asks for is the
 *  session's to run (session.h); this file reads it and frames the answer.
 */
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  What every result reads comes first, so that a connection that holds
//  the state machine right after its own hot fields (proto_init) reads
//  both from neighbouring cache lines.
struct proto_conn {
    const proto_ops_t *ops;
    void *ctx;
    int closed;
    proto_kind_t kind;
    session_t *session;
    proto_config_t config;
    int init_received;
    int acknowledged;
    int64_t init_deadline;      //  -1: none
    int64_t ka_next;            //  -1: none
    int64_t expires;            //  when the session's token expires; -1: never
    char *upgrade_token;        //  from the upgrade request, until connection_init
    size_t upgrade_token_len;
};

typedef void (handler_fn) (proto_conn_t *self, json_t *msg, int64_t now);

typedef struct {
    const char *type;
    handler_fn *handler;
} handler_t;

static session_out_fn s_result;

size_t
proto_size (void)
{
    return sizeof (proto_conn_t);
}

proto_conn_t *
proto_init (void *mem, proto_kind_t kind, const proto_config_t *config, const proto_ops_t *ops,
            void *ctx, sessions_t *sessions, int64_t now_ms)
{
    proto_conn_t *self = mem;
    memset (self, 0, sizeof *self);
    self->kind = kind;
    self->config = *config;
    self->ops = ops;
    self->ctx = ctx;
    self->init_deadline = config->init_timeout_ms > 0 ? now_ms + config->init_timeout_ms : -1;
    self->ka_next = -1;
    self->expires = -1;
    //  graphql-transport-ws refuses a running id (4409); the legacy
    //  protocol lets a client reuse one, and the old one stops.
    self->session = session_new (sessions,
                                 kind == PROTO_LEGACY_WS ? SESSION_IDS_REPLACE : SESSION_IDS_UNIQUE,
                                 s_result, self, now_ms);
    return self->session ? self : NULL;
}

void
proto_fini (proto_conn_t *self)
{
    if (!self)
        return;
    session_destroy (&self->session);
    free (self->upgrade_token);
    self->upgrade_token = NULL;
}

int
proto_set_token (proto_conn_t *self, const char *token, size_t len)
{
    free (self->upgrade_token);
    self->upgrade_token = malloc (len + 1);
    if (!self->upgrade_token)
        return -1;
    memcpy (self->upgrade_token, token, len);
    self->upgrade_token[len] = 0;
    self->upgrade_token_len = len;
    return 0;
}

proto_conn_t *
proto_new (proto_kind_t kind, const proto_config_t *config, const proto_ops_t *ops,
           void *ctx, sessions_t *sessions, int64_t now_ms)
{
    void *mem = malloc (sizeof (proto_conn_t));
    proto_conn_t *self = mem ? proto_init (mem, kind, config, ops, ctx, sessions, now_ms) : NULL;
    if (!self)
        free (mem);
    return self;
}

void
proto_destroy (proto_conn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    proto_fini (*self_p);
    free (*self_p);
    *self_p = NULL;
}

int
proto_acknowledged (const proto_conn_t *self)
{
    return self->acknowledged;
}

static void
s_close (proto_conn_t *self, int code, const char *reason)
{
    if (self->closed)
        return;
    self->closed = 1;
    self->init_deadline = -1;
    self->ka_next = -1;
    self->expires = -1;
    self->ops->close (self->ctx, code, reason);
}

//  Sends {"type":TYPE[,"id":ID][,"payload":PAYLOAD]}, where payload is
//  JSON text.
static void
s_send (proto_conn_t *self, const char *type, const char *id, const char *payload)
{
    if (self->closed)
        return;
    jbuf_t b;
    jbuf_init (&b, 0);
    jbuf_puts (&b, "{\"type\":");
    jbuf_json_string (&b, type, strlen (type));
    if (id) {
        jbuf_puts (&b, ",\"id\":");
        jbuf_json_string (&b, id, strlen (id));
    }
    if (payload) {
        jbuf_puts (&b, ",\"payload\":");
        jbuf_puts (&b, payload);
    }
    jbuf_putc (&b, '}');
    if (jbuf_failed (&b))
        s_close (self, PROTO_CLOSE_INTERNAL, "Internal server error");
    else {
        const char *text = b.data;
        self->ops->send (self->ctx, &text, &b.len, 1);
    }
    jbuf_free (&b);
}

static void
s_send_json (proto_conn_t *self, const char *type, const char *id, const json_t *payload)
{
    char *text = payload ? json_dumps (payload, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (payload && !text)
        s_close (self, PROTO_CLOSE_INTERNAL, "Internal server error");
    else
        s_send (self, type, id, text);
    free (text);
}

//  {"message": TEXT} as JSON text, for the legacy protocol's errors.
static void
s_send_message (proto_conn_t *self, const char *type, const char *id, const char *message)
{
    json_t *payload = json_pack ("{s:s}", "message", message);
    s_send_json (self, type, id, payload);
    json_decref (payload);
}

//  A refused token closes 4403, which graphql-ws's client retries (its
//  connectionParams may then fetch a fresh token). The reason names the
//  check that failed, never the token.
static void
s_forbidden (proto_conn_t *self, auth_rc_t rc)
{
    char reason[64];
    snprintf (reason, sizeof reason, "Forbidden: %s", auth_rc_label (rc));
    s_close (self, PROTO_CLOSE_FORBIDDEN, reason);
}

//  The token of a connection_init (or refresh) payload, else the one the
//  upgrade request carried (when from_upgrade). A token field of the
//  wrong kind is given as an empty token, which the checks refuse as
//  malformed. *len as auth_token_from_init's.
static const char *
s_token (proto_conn_t *self, json_t *payload, int from_upgrade, size_t *len)
{
    int bad = 0;
    const char *token = auth_token_from_init (json_is_object (payload) ? payload : NULL, len, &bad);
    if (bad) {
        *len = 0;
        return "";
    }
    if (!token && from_upgrade && self->upgrade_token) {
        *len = self->upgrade_token_len;
        return self->upgrade_token;
    }
    return token;
}

//  The deadline of the session's token, on the monotonic clock of now.
static void
s_expires_from (proto_conn_t *self, int64_t now)
{
    int64_t left = session_expires_in (self->session);
    self->expires = left < 0 ? -1 : now + left;
}

//  Who the client is, at connection_init. Returns 0, or -1 after closing
//  (the legacy protocol says why first, as its reference server does).
static int
s_authenticate (proto_conn_t *self, json_t *msg, int64_t now)
{
    size_t len = 0;
    const char *token = s_token (self, json_object_get (msg, "payload"), 1, &len);
    auth_rc_t rc = session_authenticate (self->session, token, len);
    free (self->upgrade_token);
    self->upgrade_token = NULL;
    if (rc != AUTH_OK) {
        if (self->kind == PROTO_LEGACY_WS)
            s_send_message (self, "connection_error", NULL, "Forbidden");
        s_forbidden (self, rc);
        return -1;
    }
    s_expires_from (self, now);
    return 0;
}

void
proto_result_prefix (proto_kind_t kind, const char *id, jbuf_t *out)
{
    jbuf_puts (out, "{\"id\":");
    jbuf_json_string (out, id, strlen (id));
    jbuf_puts (out, kind == PROTO_LEGACY_WS ? ",\"type\":\"data\",\"payload\":"
                                             : ",\"type\":\"next\",\"payload\":");
}

//  A result from the session: its prefix (proto_result_prefix, given at
//  the start), the rendered body, and the closing brace.
static void
s_result (void *ctx, const char *prefix, size_t prefix_len, const char *body, size_t body_len)
{
    proto_conn_t *self = ctx;
    if (self->closed)
        return;
    const char *parts[3] = { prefix, body, PROTO_RESULT_SUFFIX };
    size_t lens[3] = { prefix_len, body_len, sizeof PROTO_RESULT_SUFFIX - 1 };
    self->ops->send (self->ctx, parts, lens, 3);
}

//  An optional payload must be an object, null or absent.
static int
s_payload_ok (json_t *msg)
{
    json_t *payload = json_object_get (msg, "payload");
    return !payload || json_is_null (payload) || json_is_object (payload);
}

//  A non-empty string id, or NULL.
static const char *
s_id (json_t *msg)
{
    const char *id = json_string_value (json_object_get (msg, "id"));
    return id && *id ? id : NULL;
}

//  Hands a subscribe/start payload (checked by s_check_operation) to the
//  session. Returns what session_start returns; *errors as there.
static session_rc_t
s_start (proto_conn_t *self, const char *id, json_t *payload, int64_t now, char **errors)
{
    json_t *query = json_object_get (payload, "query");
    json_t *vars = json_object_get (payload, "variables");
    json_t *ext = json_object_get (payload, "extensions");
    jbuf_t prefix;
    jbuf_init (&prefix, 0);
    proto_result_prefix (self->kind, id, &prefix);
    *errors = NULL;
    if (jbuf_failed (&prefix))
        return SESSION_FAILED;
    session_op_t op = {
        .id = id,
        .query = json_string_value (query),
        .query_len = json_string_length (query),
        .operation_name = json_string_value (json_object_get (payload, "operationName")),
        .variables = json_is_object (vars) ? vars : NULL,
        .extensions = json_is_object (ext) ? ext : NULL,
        .prefix = prefix.data,
        .prefix_len = prefix.len,
    };
    session_rc_t rc = session_start (self->session, &op, now, errors);
    jbuf_free (&prefix);
    return rc;
}

//  ---------------------------------------------------------------------
//  graphql-transport-ws

static void
s_invalid (proto_conn_t *self)
{
    s_close (self, PROTO_CLOSE_BAD_REQUEST, "Invalid message received");
}

static void
s_tws_init (proto_conn_t *self, json_t *msg, int64_t now)
{
    if (!s_payload_ok (msg)) {
        s_invalid (self);
        return;
    }
    if (self->init_received) {
        s_close (self, PROTO_CLOSE_TOO_MANY_INITS, "Too many initialisation requests");
        return;
    }
    self->init_received = 1;
    self->init_deadline = -1;
    if (s_authenticate (self, msg, now) != 0)
        return;
    self->acknowledged = 1;
    s_send (self, "connection_ack", NULL, NULL);
}

//  A refresh took away what an operation needs: it ends with an error.
static void
s_revoked (void *ctx, const char *id, const char *errors)
{
    s_send (ctx, "error", id, errors);
}

//  A ping whose payload holds a token refreshes the session's identity
//  (a Herald extension, docs/edge.md): it is answered with a pong once
//  the token is taken, and a refused token closes 4403. Any other ping is
//  answered with its payload, as PROTOCOL.md says.
static void
s_tws_ping (proto_conn_t *self, json_t *msg, int64_t now)
{
    if (!s_payload_ok (msg)) {
        s_invalid (self);
        return;
    }
    json_t *payload = json_object_get (msg, "payload");
    size_t len;
    const char *token = self->acknowledged ? s_token (self, payload, 0, &len) : NULL;
    if (!token) {
        s_send_json (self, "pong", NULL, json_is_object (payload) ? payload : NULL);
        return;
    }
    auth_rc_t rc = session_refresh (self->session, token, len, s_revoked, self);
    if (rc != AUTH_OK) {
        s_forbidden (self, rc);
        return;
    }
    s_expires_from (self, now);
    s_send (self, "pong", NULL, NULL);
}

static void
s_tws_pong (proto_conn_t *self, json_t *msg, int64_t now)
{
    (void) now;
    if (!s_payload_ok (msg))
        s_invalid (self);
}

//  Checks a subscribe/start payload's shape. Returns NULL if it is fine,
//  else what is wrong.
static const char *
s_check_operation (json_t *payload)
{
    if (!json_is_object (payload))
        return "the payload must be an object";
    if (!json_is_string (json_object_get (payload, "query")))
        return "the payload's query must be a string";
    json_t *v = json_object_get (payload, "variables");
    if (v && !json_is_null (v) && !json_is_object (v))
        return "the payload's variables must be an object";
    v = json_object_get (payload, "operationName");
    if (v && !json_is_null (v) && !json_is_string (v))
        return "the payload's operationName must be a string";
    v = json_object_get (payload, "extensions");
    if (v && !json_is_null (v) && !json_is_object (v))
        return "the payload's extensions must be an object";
    return NULL;
}

static void
s_tws_subscribe (proto_conn_t *self, json_t *msg, int64_t now)
{
    const char *id = s_id (msg);
    json_t *payload = json_object_get (msg, "payload");
    if (!id || s_check_operation (payload)) {
        s_invalid (self);
        return;
    }
    if (!self->acknowledged) {
        s_close (self, PROTO_CLOSE_UNAUTHORIZED, "Unauthorized");
        return;
    }
    char *errors;
    char reason[120];
    switch (s_start (self, id, payload, now, &errors)) {
        case SESSION_STARTED:
            break;
        case SESSION_REFUSED:
            s_send (self, "error", id, errors);
            break;
        case SESSION_DUPLICATE:
            //  Close reasons are limited to 123 bytes; a long id is cut.
            snprintf (reason, sizeof reason, "Subscriber for %.80s already exists", id);
            s_close (self, PROTO_CLOSE_DUPLICATE_ID, reason);
            break;
        case SESSION_FLOOD:
            s_close (self, PROTO_CLOSE_TOO_MANY_REQUESTS, "Too many subscribe requests");
            break;
        default:
            s_close (self, PROTO_CLOSE_INTERNAL, "Internal server error");
            break;
    }
    free (errors);
}

static void
s_tws_complete (proto_conn_t *self, json_t *msg, int64_t now)
{
    (void) now;
    const char *id = s_id (msg);
    if (!id) {
        s_invalid (self);
        return;
    }
    //  Completing an unknown (perhaps already finished) id is allowed.
    session_stop (self->session, id);
}

//  Server-to-client types are not valid from a client.
static void
s_tws_server_only (proto_conn_t *self, json_t *msg, int64_t now)
{
    (void) msg;
    (void) now;
    s_invalid (self);
}

static const handler_t s_tws_handlers[] = {
    { "connection_init", s_tws_init },
    { "ping", s_tws_ping },
    { "pong", s_tws_pong },
    { "subscribe", s_tws_subscribe },
    { "complete", s_tws_complete },
    { "connection_ack", s_tws_server_only },
    { "next", s_tws_server_only },
    { "error", s_tws_server_only },
    { NULL, NULL }
};

//  ---------------------------------------------------------------------
//  Legacy graphql-ws (subscriptions-transport-ws)

static void
s_legacy_init (proto_conn_t *self, json_t *msg, int64_t now)
{
    //  The reference server runs a second init as it does the first; here
    //  the client is who it was at the first.
    if (self->init_received) {
        s_send (self, "connection_ack", NULL, NULL);
        return;
    }
    self->init_received = 1;
    self->init_deadline = -1;
    if (s_authenticate (self, msg, now) != 0)
        return;
    self->acknowledged = 1;
    s_send (self, "connection_ack", NULL, NULL);
    if (self->config.keepalive_ms > 0) {
        s_send (self, "ka", NULL, NULL);
        self->ka_next = now + self->config.keepalive_ms;
    }
}

static void
s_legacy_terminate (proto_conn_t *self, json_t *msg, int64_t now)
{
    (void) msg;
    (void) now;
    s_close (self, PROTO_CLOSE_NORMAL, "");
}

//  A request error in the legacy protocol: "data" with the errors, then
//  "complete", as the reference server does.
static void
s_legacy_errors (proto_conn_t *self, const char *id, const char *errors)
{
    jbuf_t b;
    jbuf_init (&b, 0);
    jbuf_puts (&b, "{\"errors\":");
    jbuf_puts (&b, errors);
    jbuf_putc (&b, '}');
    jbuf_putc (&b, 0);
    if (jbuf_failed (&b))
        s_close (self, PROTO_CLOSE_INTERNAL, "Internal server error");
    else {
        s_send (self, "data", id, b.data);
        s_send (self, "complete", id, NULL);
    }
    jbuf_free (&b);
}

static void
s_legacy_start (proto_conn_t *self, json_t *msg, int64_t now)
{
    //  Nothing runs before connection_init: the init is where a client
    //  is accepted (or, with authentication, refused), so a start that
    //  comes first closes the socket, as graphql-transport-ws does.
    if (!self->acknowledged) {
        s_close (self, PROTO_CLOSE_UNAUTHORIZED, "Unauthorized");
        return;
    }
    const char *id = s_id (msg);
    json_t *payload = json_object_get (msg, "payload");
    const char *problem = id ? s_check_operation (payload) : "the id must be a non-empty string";
    if (problem) {
        char text[160];
        snprintf (text, sizeof text, "Invalid start message: %s", problem);
        s_send_message (self, "error", id, text);
        return;
    }
    //  A reused id stops the running one first (SESSION_IDS_REPLACE).
    char *errors;
    switch (s_start (self, id, payload, now, &errors)) {
        case SESSION_STARTED:
            break;
        case SESSION_REFUSED:
            s_legacy_errors (self, id, errors);
            break;
        case SESSION_FLOOD:
            s_close (self, PROTO_CLOSE_TOO_MANY_REQUESTS, "Too many subscribe requests");
            break;
        default:
            s_send_message (self, "error", id, "Internal server error");
            break;
    }
    free (errors);
}

static void
s_legacy_stop (proto_conn_t *self, json_t *msg, int64_t now)
{
    (void) now;
    const char *id = s_id (msg);
    if (id && session_stop (self->session, id))
        s_send (self, "complete", id, NULL);
}

static const handler_t s_legacy_handlers[] = {
    { "connection_init", s_legacy_init },
    { "connection_terminate", s_legacy_terminate },
    { "start", s_legacy_start },
    { "stop", s_legacy_stop },
    { NULL, NULL }
};

//  ---------------------------------------------------------------------

void
proto_on_text (proto_conn_t *self, const char *data, size_t len, int64_t now_ms)
{
    if (self->closed)
        return;
    int legacy = self->kind == PROTO_LEGACY_WS;
    json_error_t err;
    json_t *msg = json_loadb (data, len, 0, &err);
    //  jansson refuses integers beyond 64 bits, though the text is valid
    //  JSON: read such a message again with every integer as a double, and
    //  let GraphQL's coercion judge the numbers where it matters.
    if (!msg && json_error_code (&err) == json_error_numeric_overflow)
        msg = json_loadb (data, len, JSON_DECODE_INT_AS_REAL, &err);
    if (!json_is_object (msg)) {
        if (legacy)
            s_send_message (self, "connection_error", NULL,
                            msg ? "Message must be a JSON object" : err.text);
        else
            s_invalid (self);
        json_decref (msg);
        return;
    }
    const char *type = json_string_value (json_object_get (msg, "type"));
    const handler_t *h = legacy ? s_legacy_handlers : s_tws_handlers;
    while (h->type && !(type && strcmp (h->type, type) == 0))
        h++;
    if (h->handler)
        h->handler (self, msg, now_ms);
    else if (legacy)
        s_send_message (self, "error", s_id (msg), "Invalid message type!");
    else
        s_invalid (self);
    json_decref (msg);
}

void
proto_on_binary (proto_conn_t *self, int64_t now_ms)
{
    (void) now_ms;
    if (self->kind == PROTO_LEGACY_WS)
        s_send_message (self, "connection_error", NULL, "Binary messages are not supported");
    else
        s_close (self, PROTO_CLOSE_BAD_REQUEST, "Binary messages are not supported");
}

//  The earlier of two deadlines, where -1 is none.
static int64_t
s_earlier (int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

int64_t
proto_deadline (const proto_conn_t *self)
{
    return s_earlier (s_earlier (self->init_deadline, self->ka_next), self->expires);
}

void
proto_on_timer (proto_conn_t *self, int64_t now_ms)
{
    if (self->init_deadline >= 0 && now_ms >= self->init_deadline) {
        s_close (self, PROTO_CLOSE_INIT_TIMEOUT, "Connection initialisation timeout");
        return;
    }
    if (self->expires >= 0 && now_ms >= self->expires) {
        session_expired (self->session);
        s_forbidden (self, AUTH_EXPIRED);
        return;
    }
    if (self->ka_next >= 0 && now_ms >= self->ka_next) {
        s_send (self, "ka", NULL, NULL);
        self->ka_next = now_ms + self->config.keepalive_ms;
    }
}
