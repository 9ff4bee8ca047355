/*  server.c: herald-edge's socket glue.
 *
 *  libwebsockets serves one port on a libuv loop that this file owns (a
 *  "foreign" loop for lws), so that the broker's descriptor (upstream.c)
 *  is watched by the same loop:
 *
 *    /graphql   WebSocket, subprotocols graphql-transport-ws and graphql-ws
 *    /healthz   200 "ok"
 *    /metrics   Prometheus text
 *    /...       files from --static, if given
 *
 *  Each WebSocket connection is a conn_t (lws's per-session memory). Its
 *  protocol state machine (proto/) decides what to send and when to close;
 *  this file frames and queues the messages (outq.c), starts and stops
 *  subscriptions in the hub (hub.c), and writes only when the socket is
 *  writable. A connection is never freed from inside its own callbacks: a
 *  close is requested, and lws calls back once it is writable to perform
 *  it.
 */
#include "edge.h"
#include "gql.h"
#include "hub.h"
#include "log.h"
#include "outq.h"
#include "proto.h"
#include "readhook.h"
#include "upgrade.h"
#include "upstream.h"

#include <czmq.h>
#include <errno.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

//  The protocols, in lws's table order. New HTTP connections bind to the
//  first, which also takes WebSocket upgrades that offer no subprotocol,
//  so that those are accepted and then closed with 4406, as graphql-ws's
//  reference server does.
enum { PROTOCOL_REJECT = 0, PROTOCOL_TRANSPORT = 1, PROTOCOL_LEGACY = 2 };
#define REJECT_NAME "herald-http"

//  RFC 6585's status, which lws has no name for.
#define HTTP_STATUS_HEADERS_TOO_LARGE 431

typedef struct {
    char *id;
    hub_sub_t *sub;
} conn_sub_t;

typedef struct conn {
    struct lws *wsi;
    int fd;                         //  the socket, watched by readhook.c
    proto_conn_t *proto;
    lws_sorted_usec_list_t sul;     //  the protocol's next deadline
    lws_sorted_usec_list_t close_sul;   //  once closing: when to give up on the client
    outq_t out;
    char *rx;                       //  a message being reassembled
    size_t rx_len;
    size_t rx_cap;
    int rx_binary;
    int rx_overflow;
    conn_sub_t *subs;
    int nsubs;
    int subs_cap;
    int established;
    int close_code;                 //  0 while open
    int slow;                       //  closing as a slow consumer
    int close_sent;                 //  the close has been handed to lws
    char close_reason[124];
    char *http_body;                //  HTTP: the response body, after LWS_PRE
    size_t http_len;
    struct conn *flush_prev;        //  in the edge's list of queues to flush
    struct conn *flush_next;
    int flush_listed;
} conn_t;

//  Close codes counted in the metrics: every one the edge sends.
#define S_CLOSE_CODE(name, code) code,
static const int s_close_codes[] = { PROTO_CLOSE_MAP (S_CLOSE_CODE) };
#undef S_CLOSE_CODE
#define CLOSE_CODES (sizeof s_close_codes / sizeof *s_close_codes)

typedef struct {
    size_t connections;
    uint64_t connections_total;
    uint64_t connections_rejected;
    uint64_t origins_rejected;
    uint64_t subscribe_errors;
    uint64_t subscribes_limited;
    uint64_t headers_too_large;
    uint64_t slow_consumers;
    uint64_t messages_out;
    uint64_t bytes_out;
    uint64_t closes[CLOSE_CODES];
} metrics_t;

typedef struct {
    const edge_config_t *cfg;
    struct lws_context *lws;
    uv_loop_t loop;
    uv_signal_t sigint;
    uv_signal_t sigterm;
    uv_prepare_t prepare;           //  flushes queues before the loop waits
    conn_t *flush_head;             //  connections with new output
    gql_schema_t *schema;
    gql_limits_t limits;
    hub_t *hub;
    upstream_t *upstream;
    proto_config_t proto;
    int max_connections;            //  --max-connections, within the fd limit
    metrics_t m;
} edge_t;

//  One edge per process; lws and libuv callbacks find it here.
static edge_t s_edge;

//  ---------------------------------------------------------------------
//  Connections

//  A connection that is closing may never take its close frame (a client
//  that stopped reading), nor answer it: once --close-timeout has passed,
//  lws is told to drop it. lws frees it from its own timer, outside any
//  callback of ours, and LWS_CALLBACK_CLOSED follows as usual.
static void
s_on_close_deadline (lws_sorted_usec_list_t *sul)
{
    conn_t *c = lws_container_of (sul, conn_t, close_sul);
    hlog_debug ("dropping a connection that did not finish closing in %d s",
                s_edge.cfg->close_timeout_s);
    lws_set_timeout (c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

//  Marks the connection as closing with this code, counts it, and starts
//  the close deadline. Returns 0, or -1 if it was already closing.
static int
s_conn_closing (conn_t *c, int code, const char *reason)
{
    if (c->close_code)
        return -1;
    c->close_code = code;
    snprintf (c->close_reason, sizeof c->close_reason, "%s", reason);
    for (size_t i = 0; i < CLOSE_CODES; i++)
        if (s_close_codes[i] == code)
            s_edge.m.closes[i]++;
    lws_sul_schedule (s_edge.lws, 0, &c->close_sul, s_on_close_deadline,
                      (lws_usec_t) s_edge.cfg->close_timeout_s * LWS_US_PER_SEC);
    return 0;
}

static void
s_conn_close (conn_t *c, int code, const char *reason)
{
    if (s_conn_closing (c, code, reason) == 0)
        lws_callback_on_writable (c->wsi);
}

//  Connections with new output are listed, and written to directly just
//  before the loop waits for I/O (the uv_prepare below), as Redis does:
//  no writability round trip through epoll for a socket that has room,
//  and every message queued in this turn of the loop goes in one send.
static void
s_flush_list (conn_t *c)
{
    if (c->flush_listed)
        return;
    c->flush_listed = 1;
    c->flush_prev = NULL;
    c->flush_next = s_edge.flush_head;
    if (s_edge.flush_head)
        s_edge.flush_head->flush_prev = c;
    s_edge.flush_head = c;
}

static void
s_flush_unlist (conn_t *c)
{
    if (!c->flush_listed)
        return;
    if (c->flush_prev)
        c->flush_prev->flush_next = c->flush_next;
    else
        s_edge.flush_head = c->flush_next;
    if (c->flush_next)
        c->flush_next->flush_prev = c->flush_prev;
    c->flush_listed = 0;
}

//  Writes as much of the queue as the socket takes: whole chunks until the
//  queue is empty or lws had to keep part of a write (the socket is full),
//  so at most the queue's bound per connection and loop turn. Returns 0,
//  or -1 if the write failed (lws then closes the connection).
static int
s_conn_write (conn_t *c)
{
    while (1) {
        size_t len;
        const char *data = outq_peek (&c->out, &len);
        //  If lws kept part of the last write, it calls back when the
        //  socket takes more; the queue waits until then.
        if (!data || lws_partial_buffered (c->wsi))
            return 0;
        //  Whole frames, already framed: lws writes them as they are, in
        //  one send, buffering any part the socket does not take.
        if (lws_write (c->wsi, (unsigned char *) data, len, LWS_WRITE_HTTP) < 0)
            return -1;
        s_edge.m.bytes_out += len;
        outq_consume (&c->out, len);
    }
    return 0;
}

static void
s_on_prepare (uv_prepare_t *handle)
{
    (void) handle;
    //  A client frame without a mask (RFC 6455 5.1), control frames
    //  included, which lws answers without a callback of ours.
    conn_t *u;
    while ((u = readhook_next_unmasked ()))
        s_conn_close (u, PROTO_CLOSE_PROTOCOL_ERROR, "Unmasked frame");
    while (s_edge.flush_head) {
        conn_t *c = s_edge.flush_head;
        s_flush_unlist (c);
        if (c->close_code)
            continue;
        //  What the socket does not take now is finished from the
        //  writable callback.
        if (s_conn_write (c) != 0 || c->out.head)
            lws_callback_on_writable (c->wsi);
    }
}

//  Queues one message made of parts. A connection whose queue is over its
//  bounds is a slow consumer: it is closed, and its queue dropped.
static void
s_conn_send (conn_t *c, const char *const *parts, const size_t *lens, int n)
{
    if (c->close_code)
        return;
    size_t size = 0;
    for (int i = 0; i < n; i++)
        size += lens[i];
    const edge_config_t *cfg = s_edge.cfg;
    //  A queue that is full only because this turn of the loop filled it
    //  (a burst from the broker) is offered to the socket first: a client
    //  is slow if its socket is full too, not because the edge had not
    //  written yet.
    if ((c->out.messages >= cfg->max_queue_messages
         || c->out.bytes + size + 10 > cfg->max_queue_bytes)
        && c->out.head && !lws_partial_buffered (c->wsi) && s_conn_write (c) != 0)
        lws_callback_on_writable (c->wsi);
    if (c->out.messages >= cfg->max_queue_messages
        || c->out.bytes + size + 10 > cfg->max_queue_bytes) {
        s_edge.m.slow_consumers++;
        c->slow = 1;
        hlog_debug ("closing a slow consumer (%zu messages, %zu bytes queued)",
                    c->out.messages, c->out.bytes);
        outq_clear (&c->out);
        s_conn_close (c, PROTO_CLOSE_SLOW_CONSUMER, "Slow consumer: outbound queue full");
        return;
    }
    int was_empty = c->out.head == NULL;
    if (outq_push (&c->out, parts, lens, n) != 0) {
        s_conn_close (c, PROTO_CLOSE_INTERNAL, "Internal server error");
        return;
    }
    s_edge.m.messages_out++;
    if (was_empty)
        s_flush_list (c);
}

static conn_sub_t *
s_conn_find (conn_t *c, const char *id)
{
    for (int i = 0; i < c->nsubs; i++)
        if (strcmp (c->subs[i].id, id) == 0)
            return &c->subs[i];
    return NULL;
}

static void
s_conn_drop_sub (conn_t *c, conn_sub_t *cs)
{
    hub_unsubscribe (s_edge.hub, cs->sub);
    free (cs->id);
    *cs = c->subs[--c->nsubs];
}

static void
s_on_sul (lws_sorted_usec_list_t *sul);

//  Arms the timer for the protocol's next deadline.
static void
s_conn_schedule (conn_t *c)
{
    int64_t deadline = c->proto ? proto_deadline (c->proto) : -1;
    if (deadline < 0 || c->close_code) {
        lws_sul_cancel (&c->sul);
        return;
    }
    int64_t wait = deadline - zclock_mono ();
    lws_sul_schedule (s_edge.lws, 0, &c->sul, s_on_sul,
                      (lws_usec_t) (wait > 0 ? wait : 0) * LWS_US_PER_MS);
}

static void
s_on_sul (lws_sorted_usec_list_t *sul)
{
    conn_t *c = lws_container_of (sul, conn_t, sul);
    proto_on_timer (c->proto, zclock_mono ());
    s_conn_schedule (c);
}

static void
s_conn_cleanup (conn_t *c)
{
    if (c->established)
        readhook_unwatch (c->fd);
    lws_sul_cancel (&c->sul);
    lws_sul_cancel (&c->close_sul);
    s_flush_unlist (c);
    while (c->nsubs > 0)
        s_conn_drop_sub (c, &c->subs[c->nsubs - 1]);
    free (c->subs);
    c->subs = NULL;
    proto_destroy (&c->proto);
    outq_clear (&c->out);
    free (c->rx);
    c->rx = NULL;
    if (c->established) {
        s_edge.m.connections--;
        c->established = 0;
    }
}

//  ---------------------------------------------------------------------
//  What the protocol state machines ask for

static void
p_send (void *ctx, const char *text, size_t len)
{
    s_conn_send (ctx, &text, &len, 1);
}

static void
p_close (void *ctx, int code, const char *reason)
{
    s_conn_close (ctx, code, reason);
}

static int
p_active (void *ctx, const char *id)
{
    return s_conn_find (ctx, id) != NULL;
}

static char *
s_error_json (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

//  A JSON array holding one GraphQL error with this message.
static char *
s_error_json (const char *fmt, ...)
{
    char message[256];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (message, sizeof message, fmt, ap);
    va_end (ap);
    jbuf_t b;
    jbuf_init (&b, 0);
    jbuf_puts (&b, "[{\"message\":");
    jbuf_json_string (&b, message, strlen (message));
    jbuf_puts (&b, "}]");
    return jbuf_take (&b, NULL);
}

static int
p_start (void *ctx, const char *id, const json_t *payload, char **errors)
{
    conn_t *c = ctx;
    const edge_config_t *cfg = s_edge.cfg;
    s_edge.m.subscribe_errors++;        //  taken back below on success
    if (c->nsubs >= cfg->max_subscriptions) {
        *errors = s_error_json ("too many subscriptions on this connection (the limit is %d)",
                                cfg->max_subscriptions);
        return -1;
    }
    json_t *query = json_object_get (payload, "query");
    size_t qlen = json_string_length (query);
    if (qlen > cfg->max_query) {
        *errors = s_error_json ("the document is %zu bytes; the limit is %zu", qlen,
                                cfg->max_query);
        return -1;
    }
    json_t *vars = json_object_get (payload, "variables");
    const char *opname = json_string_value (json_object_get (payload, "operationName"));
    gql_sub_t *gsub = gql_prepare (s_edge.schema, json_string_value (query), qlen, opname,
                                   json_is_object (vars) ? vars : NULL, &s_edge.limits, errors);
    if (!gsub)
        return *errors ? -1 : -2;
    if (c->nsubs == c->subs_cap) {
        int cap = c->subs_cap ? c->subs_cap * 2 : 2;
        conn_sub_t *subs = realloc (c->subs, (size_t) cap * sizeof *subs);
        if (!subs) {
            gql_sub_destroy (&gsub);
            return -2;
        }
        c->subs = subs;
        c->subs_cap = cap;
    }
    jbuf_t prefix;
    jbuf_init (&prefix, 0);
    proto_result_prefix (proto_kind (c->proto), id, &prefix);
    char *id_copy = strdup (id);
    hub_sub_t *hs = NULL;
    if (id_copy && !jbuf_failed (&prefix))
        hs = hub_subscribe (s_edge.hub, gsub, c, prefix.data, prefix.len);
    else
        gql_sub_destroy (&gsub);
    jbuf_free (&prefix);
    if (!hs) {
        free (id_copy);
        return -2;
    }
    c->subs[c->nsubs++] = (conn_sub_t) { id_copy, hs };
    s_edge.m.subscribe_errors--;
    return 0;
}

static void
p_stop (void *ctx, const char *id)
{
    conn_t *c = ctx;
    conn_sub_t *cs = s_conn_find (c, id);
    if (cs)
        s_conn_drop_sub (c, cs);
}

static void
p_limited (void *ctx, const char *id)
{
    (void) ctx;
    (void) id;
    s_edge.m.subscribes_limited++;
}

static const proto_ops_t s_proto_ops = { p_send, p_close, p_active, p_start, p_stop, p_limited };

//  ---------------------------------------------------------------------
//  What the hub asks for

static int
h_topic_add (void *ctx, const char *topic)
{
    (void) ctx;
    return s_edge.upstream ? upstream_subscribe (s_edge.upstream, topic) : -1;
}

static void
h_topic_remove (void *ctx, const char *topic)
{
    (void) ctx;
    if (s_edge.upstream)
        upstream_unsubscribe (s_edge.upstream, topic);
}

static void
h_deliver (void *ctx, void *owner, const char *prefix, size_t prefix_len, const char *body,
           size_t body_len)
{
    (void) ctx;
    const char *parts[3] = { prefix, body, PROTO_RESULT_SUFFIX };
    size_t lens[3] = { prefix_len, body_len, sizeof PROTO_RESULT_SUFFIX - 1 };
    s_conn_send (owner, parts, lens, 3);
}

static const hub_ops_t s_hub_ops = { h_topic_add, h_topic_remove, h_deliver };

static void
s_on_event (void *ctx, const char *topic, const void *payload, size_t size)
{
    (void) ctx;
    hub_publish (s_edge.hub, topic, payload, size);
}

//  ---------------------------------------------------------------------
//  HTTP: /healthz, /metrics, and the answers to upgrades we refuse

static void
s_metric (jbuf_t *b, const char *name, const char *type, const char *help, uint64_t value)
{
    char line[512];
    snprintf (line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
              name, (unsigned long long) value);
    jbuf_puts (b, line);
}

static void
s_metrics_text (jbuf_t *b)
{
    const metrics_t *m = &s_edge.m;
    const hub_stats_t *h = hub_stats (s_edge.hub);
    s_metric (b, "herald_edge_broker_connected", "gauge",
              "1 while the link to the broker is up, 0 while it is down.",
              s_edge.upstream && upstream_connected (s_edge.upstream));
    s_metric (b, "herald_edge_connections", "gauge", "Open WebSocket connections.",
              m->connections);
    s_metric (b, "herald_edge_connections_total", "counter",
              "WebSocket connections accepted.", m->connections_total);
    s_metric (b, "herald_edge_connections_rejected_total", "counter",
              "WebSocket upgrades refused because --max-connections was reached.",
              m->connections_rejected);
    s_metric (b, "herald_edge_origins_rejected_total", "counter",
              "WebSocket upgrades refused because their Origin is not in --allow-origin.",
              m->origins_rejected);
    s_metric (b, "herald_edge_subscriptions", "gauge", "Active subscriptions.",
              h->subscriptions);
    s_metric (b, "herald_edge_topics", "gauge", "Topics subscribed at the broker.", h->topics);
    s_metric (b, "herald_edge_groups", "gauge",
              "Distinct renderings (subscriptions with the same topic and selection share one).",
              h->groups);
    s_metric (b, "herald_edge_subscribe_errors_total", "counter",
              "Subscribe requests refused (invalid GraphQL, limits).", m->subscribe_errors);
    s_metric (b, "herald_edge_subscribes_rate_limited_total", "counter",
              "Subscribe requests refused by --max-subscribes-per-second.",
              m->subscribes_limited);
    s_metric (b, "herald_edge_headers_too_large_total", "counter",
              "HTTP requests answered 431 because of --max-header-bytes.", m->headers_too_large);
    s_metric (b, "herald_edge_events_in_total", "counter",
              "Events received from the broker for a subscribed topic.", h->events);
    s_metric (b, "herald_edge_events_invalid_total", "counter",
              "Events whose payload could not be read, or that libherald skipped.",
              h->events_invalid + (s_edge.upstream ? upstream_skipped (s_edge.upstream) : 0));
    s_metric (b, "herald_edge_events_unrouted_total", "counter",
              "Events from the broker for a topic no subscription here wants (a prefix "
              "match upstream, or one that arrived just after its last unsubscribe).",
              h->events_unrouted);
    s_metric (b, "herald_edge_renders_total", "counter",
              "GraphQL executions (one per event per distinct rendering).", h->renders);
    s_metric (b, "herald_edge_results_too_large_total", "counter",
              "Renders over --max-result-bytes, delivered as an error result instead.",
              h->results_too_large);
    s_metric (b, "herald_edge_deliveries_total", "counter",
              "Results handed to subscriptions.", h->deliveries);
    s_metric (b, "herald_edge_messages_out_total", "counter",
              "WebSocket messages queued to clients.", m->messages_out);
    s_metric (b, "herald_edge_bytes_out_total", "counter",
              "Bytes written to WebSocket clients.", m->bytes_out);
    s_metric (b, "herald_edge_slow_consumer_closes_total", "counter",
              "Connections closed (4503) because their outbound queue was full.",
              m->slow_consumers);
    jbuf_puts (b, "# HELP herald_edge_closes_total Connections closed by the edge, by close code.\n"
                  "# TYPE herald_edge_closes_total counter\n");
    for (size_t i = 0; i < CLOSE_CODES; i++) {
        char line[128];
        snprintf (line, sizeof line, "herald_edge_closes_total{code=\"%d\"} %llu\n",
                  s_close_codes[i], (unsigned long long) m->closes[i]);
        jbuf_puts (b, line);
    }
}

//  Starts an HTTP response; the body goes out when the socket is writable.
static int
s_http_respond (struct lws *wsi, conn_t *c, unsigned status, const char *type, jbuf_t *body)
{
    unsigned char buf[LWS_PRE + 512];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    c->http_len = body->len - LWS_PRE;
    c->http_body = jbuf_take (body, NULL);
    if (!c->http_body
        || lws_add_http_common_headers (wsi, status, type, c->http_len, &p, end)
        || lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                         (const unsigned char *) "no-store", 8, &p, end)
        || lws_finalize_write_http_header (wsi, start, &p, end))
        return 1;
    lws_callback_on_writable (wsi);
    return 0;
}

//  The request's stored header bytes (the request line's URI and every
//  header lws knows), against --max-header-bytes. lws keeps each header
//  to that many bytes plus one (info.token_limits), so a longer one is
//  seen here as over the limit rather than making lws run out of room.
//  Returns 1 (and answers 431) if the request is over the limit.
static size_t
s_header_bytes (struct lws *wsi)
{
    size_t total = 0;
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        int n = lws_hdr_total_length (wsi, (enum lws_token_indexes) t);
        if (n > 0)
            total += (size_t) n;
    }
    return total;
}

static int
s_headers_too_large (struct lws *wsi)
{
    size_t total = s_header_bytes (wsi);
    if (total <= s_edge.cfg->max_header)
        return 0;
    s_edge.m.headers_too_large++;
    hlog_debug ("refused a request with %zu bytes of headers (--max-header-bytes %zu)", total,
                s_edge.cfg->max_header);
    lws_return_http_status (wsi, HTTP_STATUS_HEADERS_TOO_LARGE,
                            "the request's headers are too large (see --max-header-bytes)");
    return 1;
}

static int
s_http (struct lws *wsi, conn_t *c)
{
    char uri[128];
    jbuf_t body;
    jbuf_init (&body, 0);
    jbuf_reserve (&body, LWS_PRE);      //  headroom that lws_write may use
    body.len = LWS_PRE;
    if (lws_hdr_copy (wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0)
        uri[0] = 0;
    unsigned status = HTTP_STATUS_OK;
    const char *type = "text/plain; charset=utf-8";
    if (strcmp (uri, "/healthz") == 0)
        jbuf_puts (&body, "ok\n");
    else if (strcmp (uri, "/metrics") == 0) {
        type = "text/plain; version=0.0.4; charset=utf-8";
        s_metrics_text (&body);
    }
    else {
        status = HTTP_STATUS_NOT_FOUND;
        jbuf_puts (&body, "not found\n");
    }
    int rc = s_http_respond (wsi, c, status, type, &body);
    jbuf_free (&body);
    return rc;
}

//  Called before lws handles an upgrade: upgrade.c decides from the
//  request's headers. Returns what the lws callback must return.
static int
s_confirm_upgrade (struct lws *wsi, const char *upgrade)
{
    char uri[128], origin[UPGRADE_HEADER_MAX + 1], offer[UPGRADE_HEADER_MAX + 1];
    upgrade_request_t req = { .upgrade = upgrade ? upgrade : "",
                              .header_bytes = s_header_bytes (wsi),
                              .tls = lws_is_ssl (wsi) };
    if (lws_hdr_copy (wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) >= 0)
        req.uri = uri;
    if (lws_hdr_total_length (wsi, WSI_TOKEN_ORIGIN) > 0) {
        if (lws_hdr_copy (wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) >= 0)
            req.origin = origin;
        else
            req.origin_unreadable = 1;
    }
    int n = lws_hdr_copy (wsi, offer, sizeof offer, WSI_TOKEN_PROTOCOL);
    if (n > 0)
        req.protocols = offer;
    else if (n < 0)
        req.protocols_unreadable = 1;
    upgrade_policy_t policy = { .allow_origin = s_edge.cfg->allow_origin,
                                .max_header_bytes = s_edge.cfg->max_header,
                                .tls_only = s_edge.cfg->tls_cert != NULL,
                                .connections = (long) s_edge.m.connections,
                                .max_connections = s_edge.max_connections };
    upgrade_verdict_t v = upgrade_check (&req, &policy);
    switch (v.reason) {
        case UPGRADE_ACCEPT:
            return 0;
        case UPGRADE_NOT_WEBSOCKET:
            return -1;
        case UPGRADE_HEADERS_TOO_LARGE:
            s_edge.m.headers_too_large++;
            hlog_debug ("refused an upgrade with %zu bytes of headers (--max-header-bytes %zu)",
                        req.header_bytes, policy.max_header_bytes);
            break;
        case UPGRADE_ORIGIN:
            s_edge.m.origins_rejected++;
            hlog_debug ("refused a WebSocket from origin %s", req.origin ? req.origin : "(long)");
            break;
        case UPGRADE_FULL:
            s_edge.m.connections_rejected++;
            break;
        default:
            break;
    }
    lws_return_http_status (wsi, (unsigned) v.status, v.text);
    return 1;
}

//  ---------------------------------------------------------------------
//  The lws callback, shared by every protocol

static void
s_receive (conn_t *c, struct lws *wsi, const char *in, size_t len)
{
    if (c->close_code || !c->proto)
        return;
    if (readhook_unmasked (c->fd)) {
        s_conn_close (c, PROTO_CLOSE_PROTOCOL_ERROR, "Unmasked frame");
        return;
    }
    int first = lws_is_first_fragment (wsi);
    int last = lws_is_final_fragment (wsi) && lws_remaining_packet_payload (wsi) == 0;
    if (first) {
        c->rx_len = 0;
        c->rx_overflow = 0;
        c->rx_binary = lws_frame_is_binary (wsi);
    }
    if (c->rx_overflow)
        return;
    const char *msg = in;
    size_t msg_len = len;
    if (!(first && last)) {
        //  A message in pieces: gather it, within --max-message-bytes.
        if (len > s_edge.cfg->max_message - c->rx_len) {
            c->rx_overflow = 1;
            s_conn_close (c, PROTO_CLOSE_TOO_BIG, "Message too big");
            return;
        }
        if (c->rx_len + len > c->rx_cap) {
            size_t cap = c->rx_cap ? c->rx_cap : 1024;
            while (cap < c->rx_len + len)
                cap *= 2;
            char *rx = realloc (c->rx, cap);
            if (!rx) {
                s_conn_close (c, PROTO_CLOSE_INTERNAL, "Internal server error");
                return;
            }
            c->rx = rx;
            c->rx_cap = cap;
        }
        memcpy (c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (!last)
            return;
        msg = c->rx;
        msg_len = c->rx_len;
    }
    else if (len > s_edge.cfg->max_message) {
        s_conn_close (c, PROTO_CLOSE_TOO_BIG, "Message too big");
        return;
    }
    if (c->rx_binary)
        proto_on_binary (c->proto, zclock_mono ());
    else
        proto_on_text (c->proto, msg, msg_len, zclock_mono ());
    //  Idle connections should hold no receive buffer.
    free (c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
    s_conn_schedule (c);
}

static int
s_writeable (conn_t *c, struct lws *wsi)
{
    if (c->close_code && (c->slow || !c->out.head)) {
        //  Returning -1 here would make lws drop the socket without a
        //  close frame, as if the write had failed. Asking lws to close
        //  takes its orderly path instead: it sends the close frame with
        //  the reason set here, waits for the client's answer, and only
        //  then frees the connection (so not inside this callback).
        if (!c->close_sent) {
            c->close_sent = 1;
            lws_close_reason (wsi, (enum lws_close_status) c->close_code,
                              (unsigned char *) c->close_reason, strlen (c->close_reason));
            lws_set_timeout (wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
        }
        return 0;
    }
    if (s_conn_write (c) != 0)
        return -1;
    if (c->out.head || c->close_code)
        lws_callback_on_writable (wsi);
    return 0;
}

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
            size_t len)
{
    conn_t *c = user;
    switch (reason) {
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            return s_confirm_upgrade (wsi, in);

        case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
            //  Every plain HTTP request (upgrades are checked in
            //  s_confirm_upgrade), static files included. The answer is
            //  short; lws sends it before it closes the connection.
            return s_headers_too_large (wsi);

        case LWS_CALLBACK_HTTP:
            return s_http (wsi, c);

        case LWS_CALLBACK_HTTP_WRITEABLE:
            if (!c || !c->http_body)
                break;
            if (lws_write (wsi, (unsigned char *) c->http_body + LWS_PRE, c->http_len,
                           LWS_WRITE_HTTP_FINAL) < 0)
                return -1;
            free (c->http_body);
            c->http_body = NULL;
            return lws_http_transaction_completed (wsi) ? -1 : 0;

        case LWS_CALLBACK_CLOSED_HTTP:
            if (c) {
                free (c->http_body);
                c->http_body = NULL;
            }
            break;

        case LWS_CALLBACK_ESTABLISHED: {
            c->wsi = wsi;
            c->fd = (int) lws_get_socket_fd (wsi);
            readhook_watch (c->fd, c);
            c->established = 1;
            s_edge.m.connections++;
            s_edge.m.connections_total++;
            int id = (int) lws_get_protocol (wsi)->id;
            if (id == PROTOCOL_REJECT) {
                s_conn_close (c, PROTO_CLOSE_SUBPROTOCOL, "Subprotocol not acceptable");
                return 0;
            }
            c->proto = proto_new (id == PROTOCOL_LEGACY ? PROTO_LEGACY_WS : PROTO_TRANSPORT_WS,
                                  &s_edge.proto, &s_proto_ops, c, zclock_mono ());
            if (!c->proto)
                return -1;
            s_conn_schedule (c);
            return 0;
        }

        case LWS_CALLBACK_RECEIVE:
            s_receive (c, wsi, in, len);
            return 0;

        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            //  A close body is empty or holds a 2-byte code (RFC 6455
            //  5.5.1); lws would echo a 1-byte one as an empty close.
            //  Returning non-zero makes lws close with the reason set here.
            if (len == 1) {
                s_conn_closing (c, PROTO_CLOSE_PROTOCOL_ERROR, "Invalid close frame");
                lws_close_reason (wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR,
                                  (unsigned char *) c->close_reason, strlen (c->close_reason));
                return -1;
            }
            return 0;

        case LWS_CALLBACK_SERVER_WRITEABLE:
            return s_writeable (c, wsi);

        case LWS_CALLBACK_CLOSED:
            s_conn_cleanup (c);
            return 0;

        default:
            break;
    }
    return lws_callback_http_dummy (wsi, reason, user, in, len);
}

//  512-byte receive buffers: larger client messages arrive in pieces and
//  are reassembled (s_receive), while every idle connection holds 512
//  bytes less (2.7 instead of 3.2 KB of RSS per subscribed connection).
static struct lws_protocols s_protocols[] = {
    { REJECT_NAME, s_callback, sizeof (conn_t), 512, PROTOCOL_REJECT, NULL, OUTQ_CHUNK },
    { "graphql-transport-ws", s_callback, sizeof (conn_t), 512, PROTOCOL_TRANSPORT, NULL, OUTQ_CHUNK },
    { "graphql-ws", s_callback, sizeof (conn_t), 512, PROTOCOL_LEGACY, NULL, OUTQ_CHUNK },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

//  ---------------------------------------------------------------------
//  Start and stop

static void
s_lws_log (int level, const char *line)
{
    size_t n = strlen (line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    hlog (level == LLL_ERR ? HLOG_ERROR : level == LLL_WARN ? HLOG_WARN : HLOG_DEBUG,
          "lws: %.*s", (int) n, line);
}

static void
s_on_signal (uv_signal_t *handle, int signum)
{
    (void) handle;
    hlog_info ("%s: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    uv_signal_stop (&s_edge.sigint);
    uv_signal_stop (&s_edge.sigterm);
    uv_prepare_stop (&s_edge.prepare);
    uv_close ((uv_handle_t *) &s_edge.prepare, NULL);
    uv_close ((uv_handle_t *) &s_edge.sigint, NULL);
    uv_close ((uv_handle_t *) &s_edge.sigterm, NULL);
    //  Closing the connections unsubscribes everything (through the hub),
    //  so the upstream goes last.
    lws_context_destroy (s_edge.lws);
    upstream_close (s_edge.upstream);
    s_edge.upstream = NULL;
}

//  Every connection is a descriptor: raise the limit to what
//  --max-connections needs (root may raise the hard limit too). Returns
//  the soft limit now in force.
static rlim_t
s_raise_nofile (rlim_t want)
{
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_max < want) {
        struct rlimit more = { want, want };
        if (setrlimit (RLIMIT_NOFILE, &more) == 0)
            return want;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
            getrlimit (RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur;
}

//  lws reports an unreadable certificate or key only as a failed vhost:
//  say which file, and why, first.
static int
s_check_tls_files (const edge_config_t *cfg)
{
    const char *files[2] = { cfg->tls_cert, cfg->tls_key };
    const char *what[2] = { "certificate", "private key" };
    for (int i = 0; i < 2; i++) {
        FILE *f = files[i] ? fopen (files[i], "rb") : NULL;
        if (files[i] && !f) {
            hlog_error ("cannot read the TLS %s %s: %s", what[i], files[i], strerror (errno));
            return -1;
        }
        if (f)
            fclose (f);
    }
    return 0;
}

static gql_schema_t *
s_load_schema (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        hlog_error ("cannot read the schema %s: %s", path, strerror (errno));
        return NULL;
    }
    jbuf_t text;
    jbuf_init (&text, 16u << 20);
    char buf[8192];
    size_t n;
    while ((n = fread (buf, 1, sizeof buf, f)) > 0)
        jbuf_put (&text, buf, n);
    fclose (f);
    gql_schema_t *schema = NULL;
    char *err = NULL;
    if (jbuf_failed (&text))
        hlog_error ("the schema %s is too large (over 16 MiB)", path);
    else if (!(schema = gql_schema_new (text.data ? text.data : "", text.len, &err)))
        hlog_error ("invalid schema %s: %s", path, err ? err : "out of memory");
    free (err);
    jbuf_free (&text);
    return schema;
}

int
edge_check (const edge_config_t *cfg)
{
    gql_schema_t *schema = s_load_schema (cfg->schema_path);
    if (!schema || s_check_tls_files (cfg) != 0) {
        gql_schema_destroy (&schema);
        return 1;
    }
    printf ("%s is a valid schema. Its subscription fields and their broker topics:\n",
            cfg->schema_path);
    const char *name;
    char topic[512];
    for (size_t i = 0; gql_schema_subscription_field (schema, i, &name, topic, sizeof topic) == 0;
         i++)
        printf ("  %-24s %s\n", name, topic);
    gql_schema_destroy (&schema);
    return 0;
}

int
edge_run (const edge_config_t *cfg)
{
    memset (&s_edge, 0, sizeof s_edge);
    s_edge.cfg = cfg;
    readhook_init ();
    s_edge.limits.max_depth = cfg->max_depth;
    s_edge.limits.max_fields = cfg->max_fields;
    s_edge.proto.init_timeout_ms = cfg->init_timeout_ms;
    s_edge.proto.keepalive_ms = cfg->legacy_ka_ms;
    s_edge.proto.subscribe_rate = cfg->subscribe_rate;
    s_edge.proto.subscribe_burst = cfg->subscribe_burst;
    int status = 1;

    signal (SIGPIPE, SIG_IGN);
    //  Descriptors beyond the connections: listeners, the broker link,
    //  files being served.
    const rlim_t spare = 256;
    rlim_t nofile = s_raise_nofile ((rlim_t) cfg->max_connections + spare);
    s_edge.max_connections = cfg->max_connections;
    if ((rlim_t) cfg->max_connections + spare > nofile) {
        s_edge.max_connections = nofile > spare ? (int) (nofile - spare) : 1;
        //  Only a limit the operator asked for deserves a warning.
        hlog (cfg->max_connections_given ? HLOG_WARN : HLOG_INFO,
              "the descriptor limit is %llu, so at most %d connections are accepted "
              "(--max-connections %d); raise it with ulimit -n",
              (unsigned long long) nofile, s_edge.max_connections, cfg->max_connections);
    }

    s_edge.schema = s_load_schema (cfg->schema_path);
    if (!s_edge.schema || s_check_tls_files (cfg) != 0) {
        gql_schema_destroy (&s_edge.schema);
        return 1;
    }
    uv_loop_init (&s_edge.loop);
    s_edge.hub = hub_new (&s_hub_ops, NULL, cfg->max_result);
    if (!s_edge.hub)
        goto out;
    outq_set_headroom (LWS_PRE);

    lws_set_log_level (LLL_ERR | LLL_WARN, s_lws_log);
    static struct lws_http_mount static_mount, metrics_mount, healthz_mount;
    healthz_mount = (struct lws_http_mount) {
        .mountpoint = "/healthz", .mountpoint_len = 8, .origin = REJECT_NAME,
        .origin_protocol = LWSMPRO_CALLBACK,
    };
    metrics_mount = (struct lws_http_mount) {
        .mount_next = &healthz_mount, .mountpoint = "/metrics", .mountpoint_len = 8,
        .origin = REJECT_NAME, .origin_protocol = LWSMPRO_CALLBACK,
    };
    static_mount = (struct lws_http_mount) {
        .mount_next = &metrics_mount, .mountpoint = "/", .mountpoint_len = 1,
        .origin = cfg->static_dir, .def = "index.html", .origin_protocol = LWSMPRO_FILE,
    };
    //  Idle connections are pinged by lws at the WebSocket level, and
    //  closed if they stay silent.
    static lws_retry_bo_t retry;
    retry.secs_since_valid_ping = (uint16_t) cfg->ping_interval_s;
    retry.secs_since_valid_hangup = (uint16_t) (cfg->ping_interval_s + cfg->ping_timeout_s);

    void *loops[1] = { &s_edge.loop };
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = cfg->port;
    info.iface = *cfg->host ? cfg->host : NULL;
    info.protocols = s_protocols;
    info.mounts = cfg->static_dir ? &static_mount : &metrics_mount;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8
                   | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN
                   | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    if (cfg->tls_cert) {
        //  Plain HTTP on the TLS port is answered with a redirect to
        //  https, and a plain WebSocket upgrade with an error (below),
        //  rather than a reset the client cannot explain.
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT
                        | LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT
                        | LWS_SERVER_OPTION_REDIRECT_HTTP_TO_HTTPS;
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
        //  HTTP/1.1 only. Offered h2, browsers would carry WebSockets in
        //  HTTP/2 streams (RFC 8441), and the edge writes whole
        //  WebSocket frames straight to the connection.
        info.alpn = "http/1.1";
    }
    info.foreign_loops = loops;
    info.pcontext = &s_edge.lws;
    info.count_threads = 1;
    info.fd_limit_per_thread = (unsigned) (s_edge.max_connections + spare);
    //  lws's timeouts for a connection's start: the TLS handshake, and
    //  the HTTP request (and WebSocket upgrade) that follows.
    info.timeout_secs = (unsigned) cfg->handshake_timeout_s;
    info.timeout_secs_ah_idle = (unsigned) cfg->handshake_timeout_s;
    //  Request headers: lws cuts each one at --max-header-bytes plus one
    //  (s_headers_too_large then answers 431), and its buffer for them all
    //  holds twice the limit and more, so that lws itself, which can only
    //  drop a request it has no room for, runs out only for requests far
    //  over the limit.
    static struct lws_token_limits token_limits;
    for (int t = 0; t < WSI_TOKEN_COUNT; t++)
        token_limits.token_limit[t] = (unsigned short) (cfg->max_header + 1);
    info.token_limits = &token_limits;
    info.max_http_header_data2 = (unsigned) (2 * cfg->max_header + 4096);
    if (cfg->ping_interval_s > 0)
        info.retry_and_idle_policy = &retry;
    s_edge.lws = lws_create_context (&info);
    struct lws_vhost *vhost = s_edge.lws ? lws_get_vhost_by_name (s_edge.lws, "default") : NULL;
    if (!vhost) {
        //  A failed lws context can leave handles of its (now unloaded)
        //  event-loop plugin in our loop, so the loop must not run again.
        if (cfg->tls_cert)
            hlog_error ("cannot listen on %s:%d with TLS (is the address in use, or are "
                        "%s and %s not a PEM certificate and its key?)",
                        *cfg->host ? cfg->host : "*", cfg->port, cfg->tls_cert, cfg->tls_key);
        else
            hlog_error ("cannot listen on %s:%d (is the address in use?)",
                        *cfg->host ? cfg->host : "*", cfg->port);
        if (s_edge.lws)
            lws_context_destroy (s_edge.lws);
        s_edge.lws = NULL;
        goto out_no_loop;
    }
    s_edge.upstream = upstream_new (&s_edge.loop, cfg->broker, cfg->upstream_hwm, s_on_event,
                                    NULL);
    if (!s_edge.upstream)
        goto out;
    uv_prepare_init (&s_edge.loop, &s_edge.prepare);
    uv_prepare_start (&s_edge.prepare, s_on_prepare);
    uv_signal_init (&s_edge.loop, &s_edge.sigint);
    uv_signal_init (&s_edge.loop, &s_edge.sigterm);
    uv_signal_start (&s_edge.sigint, s_on_signal, SIGINT);
    uv_signal_start (&s_edge.sigterm, s_on_signal, SIGTERM);
    //  With --port 0 the kernel picks the port: log the real one.
    hlog_info ("listening on %s://%s:%d (WebSocket at /graphql), broker %s",
               cfg->tls_cert ? "https" : "http", *cfg->host ? cfg->host : "0.0.0.0",
               lws_get_vhost_listen_port (vhost), cfg->broker);

    uv_run (&s_edge.loop, UV_RUN_DEFAULT);
    status = 0;
out:
    if (s_edge.lws)
        lws_context_destroy (s_edge.lws);
    upstream_close (s_edge.upstream);
    s_edge.upstream = NULL;
    //  Let the handles closed above finish closing.
    uv_run (&s_edge.loop, UV_RUN_DEFAULT);
    if (uv_loop_close (&s_edge.loop) != 0)
        hlog_debug ("the event loop still had handles at exit");
out_no_loop:
    hub_destroy (&s_edge.hub);
    gql_schema_destroy (&s_edge.schema);
    outq_shutdown ();
    readhook_shutdown ();
    return status;
}
