/*  http.c: herald-edge's plain HTTP: /healthz, /metrics (Prometheus
 *  text), the 431 answer for requests over --max-header-bytes, and the
 *  check of each WebSocket upgrade (its policy is proto/upgrade.c, then
 *  the limits per address, peer.c, answered 429 here).
 *  Static files (--static) are lws's own mount.
 */
#include "log.h"
#include "net.h"
#include "upgrade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  RFC 6585's statuses, which lws has no names for.
#define HTTP_STATUS_HEADERS_TOO_LARGE 431
#define HTTP_STATUS_TOO_MANY_REQUESTS "HTTP/1.1 429 Too Many Requests"

static void
s_metric (jbuf_t *b, const char *name, const char *type, const char *help, uint64_t value)
{
    char line[512];
    snprintf (line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
              name, (unsigned long long) value);
    jbuf_puts (b, line);
}

//  A counter with one line per token check result.
static void
s_by_result (jbuf_t *b, const char *name, const char *help, const uint64_t *counts)
{
    char line[256];
    snprintf (line, sizeof line, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    jbuf_puts (b, line);
    for (int rc = 0; rc < AUTH_RC_COUNT; rc++) {
        snprintf (line, sizeof line, "%s{result=\"%s\"} %llu\n", name,
                  auth_rc_label ((auth_rc_t) rc), (unsigned long long) counts[rc]);
        jbuf_puts (b, line);
    }
}

static void
s_auth_metrics (jbuf_t *b, const session_stats_t *s)
{
    shm_t *shm = net_edge.shm;
    s_by_result (b, "herald_edge_auth_total",
                 "Tokens checked at connect (\"missing\": none, where --auth required needs one), "
                 "by result.", s->auth);
    s_by_result (b, "herald_edge_auth_refresh_total",
                 "Tokens sent to refresh a live connection (ping), by result.", s->refresh);
    s_metric (b, "herald_edge_subscribes_forbidden_total", "counter",
              "Subscribe requests refused because the client may not have the topic.",
              s->forbidden);
    s_metric (b, "herald_edge_subscriptions_revoked_total", "counter",
              "Subscriptions ended because a refreshed token no longer allows them.", s->revoked);
    s_metric (b, "herald_edge_tokens_expired_total", "counter",
              "Connections closed (4403) because their token expired.", s->expired);
    s_metric (b, "herald_edge_key_reloads_total", "counter",
              "SIGHUP reloads of the key files (one per SIGHUP, once every worker has read "
              "them).", shm_key_reloads (shm));
    s_metric (b, "herald_edge_key_reloads_failed_total", "counter",
              "SIGHUP reloads that failed, keeping the keys in use.",
              atomic_load (&shm->reloads_failed));
    s_metric (b, "herald_edge_keys", "gauge", "Keys that tokens are checked with.",
              atomic_load (&shm->keys));
}

//  One line per worker for a gauge or counter of its slot.
typedef uint64_t (s_slot_fn) (shm_slot_t *slot);

static void
s_per_worker (jbuf_t *b, const char *name, const char *type, const char *help, s_slot_fn *fn)
{
    char line[512];
    snprintf (line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    jbuf_puts (b, line);
    for (int w = 0; w < net_edge.shm->workers; w++) {
        snprintf (line, sizeof line, "%s{worker=\"%d\"} %llu\n", name, w,
                  (unsigned long long) fn (&net_edge.shm->slots[w]));
        jbuf_puts (b, line);
    }
}

static uint64_t
s_slot_up (shm_slot_t *slot)
{
    return atomic_load (&slot->state) == SHM_READY;
}

static uint64_t
s_slot_connections (shm_slot_t *slot)
{
    return slot->stats.m.connections;
}

static uint64_t
s_slot_subscriptions (shm_slot_t *slot)
{
    return slot->stats.hub.subscriptions;
}

static uint64_t
s_slot_broker (shm_slot_t *slot)
{
    return (uint64_t) atomic_load (&slot->broker_connected);
}

//  1 while every worker that serves has its broker link up.
static int
s_broker_connected (void)
{
    shm_t *shm = net_edge.shm;
    int up = 0, serving = 0;
    for (int w = 0; w < shm->workers; w++)
        if (atomic_load (&shm->slots[w].state) == SHM_READY) {
            serving++;
            up += atomic_load (&shm->slots[w].broker_connected) != 0;
        }
    return serving > 0 && up == serving;
}

static void
s_worker_metrics (jbuf_t *b)
{
    shm_t *shm = net_edge.shm;
    s_metric (b, "herald_edge_workers", "gauge", "Worker processes serving now (--workers).",
              (uint64_t) shm_ready (shm));
    s_metric (b, "herald_edge_worker_restarts_total", "counter",
              "Workers started again after one died.", atomic_load (&shm->restarts));
    s_per_worker (b, "herald_edge_worker_up", "gauge", "1 while the worker serves.", s_slot_up);
    s_per_worker (b, "herald_edge_worker_connections", "gauge",
                  "Open WebSocket connections, by worker.", s_slot_connections);
    s_per_worker (b, "herald_edge_worker_subscriptions", "gauge",
                  "Active subscriptions, by worker.", s_slot_subscriptions);
    s_per_worker (b, "herald_edge_worker_broker_connected", "gauge",
                  "1 while the worker's link to the broker is up.", s_slot_broker);
}

//  The whole edge's, whichever worker answers: every worker's counts,
//  and those of workers that died, summed.
static void
s_metrics_text (jbuf_t *b)
{
    shm_stats_t total;
    shm_sum (net_edge.shm, &total);
    const metrics_t *m = &total.m;
    const hub_stats_t *h = &total.hub;
    const session_stats_t *s = &total.sessions;
    s_metric (b, "herald_edge_broker_connected", "gauge",
              "1 while the link to the broker is up (of every worker), 0 while it is down.",
              (uint64_t) s_broker_connected ());
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
    s_metric (b, "herald_edge_ip_connections_rejected_total", "counter",
              "WebSocket upgrades refused (429) because their address had "
              "--max-connections-per-ip open.", m->ip_connections_rejected);
    s_metric (b, "herald_edge_ip_rate_limited_total", "counter",
              "WebSocket upgrades refused (429) by --max-connects-per-ip-per-second.",
              m->ip_rate_limited);
    addrlimit_stats_t a = { 0 };
    if (net_edge.shm->addrs) {
        shm_lock (net_edge.shm);
        a = *addrlimit_stats (net_edge.shm->addrs);
        shm_unlock (net_edge.shm);
    }
    s_metric (b, "herald_edge_ip_addresses", "gauge",
              "Client addresses the limits per address keep: those with connections open, "
              "and those whose connects are still counted.", a.entries);
    s_metric (b, "herald_edge_ip_addresses_forgotten_total", "counter",
              "Addresses with no connection open forgotten, least recently used first, "
              "to keep the table within --max-connections of them.", a.forgotten);
    s_metric (b, "herald_edge_subscriptions", "gauge", "Active subscriptions.",
              h->subscriptions);
    s_metric (b, "herald_edge_topics", "gauge", "Topics subscribed at the broker.", h->topics);
    s_metric (b, "herald_edge_groups", "gauge",
              "Distinct renderings (subscriptions with the same topic and selection share one).",
              h->groups);
    s_metric (b, "herald_edge_subscribe_errors_total", "counter",
              "Subscribe requests refused (invalid GraphQL, limits).", s->refused);
    s_metric (b, "herald_edge_subscribes_rate_limited_total", "counter",
              "Subscribe requests refused by --max-subscribes-per-second.",
              s->rate_limited);
    s_metric (b, "herald_edge_headers_too_large_total", "counter",
              "HTTP requests answered 431 because of --max-header-bytes.", m->headers_too_large);
    s_metric (b, "herald_edge_events_in_total", "counter",
              "Events received from the broker for a subscribed topic.", h->events);
    s_metric (b, "herald_edge_events_invalid_total", "counter",
              "Events whose payload could not be read, or that libherald skipped.",
              h->events_invalid + m->events_skipped);
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
    for (size_t i = 0; i < NET_CLOSE_CODES; i++) {
        char line[128];
        snprintf (line, sizeof line, "herald_edge_closes_total{code=\"%d\"} %llu\n",
                  net_close_codes[i], (unsigned long long) m->closes[i]);
        jbuf_puts (b, line);
    }
    s_auth_metrics (b, s);
    s_worker_metrics (b);
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
    if (total <= net_edge.cfg->max_header)
        return 0;
    net_edge.m->headers_too_large++;
    hlog_debug ("refused a request with %zu bytes of headers (--max-header-bytes %zu)", total,
                net_edge.cfg->max_header);
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
    if (strcmp (uri, "/healthz") == 0) {
        //  Degraded while a worker is down: the edge serves, with fewer.
        int ready = shm_ready (net_edge.shm), all = net_edge.shm->workers;
        char line[96];
        snprintf (line, sizeof line, "degraded: %d of %d workers serving\n", ready, all);
        jbuf_puts (&body, ready == all ? "ok\n" : line);
    }
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

//  429 Too Many Requests, with Retry-After when the wait is known (RFC
//  6585). lws has no name for the status and adds no headers to its own
//  answers, so this one is written here, as lws_return_http_status writes
//  its own: headers and body in one write. A WebSocket upgrade is
//  HTTP/1.1. Returns what the upgrade's callback returns for a request
//  it answered, or -1 (lws hangs up) if the answer could not be written.
static int
s_too_many (struct lws *wsi, int64_t retry_s, const char *text)
{
    static const char status[] = HTTP_STATUS_TOO_MANY_REQUESTS;
    static const char type[] = "text/plain; charset=utf-8";
    unsigned char buf[LWS_PRE + 512];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    char length[24], retry[24];
    size_t body = strlen (text);
    int length_n = snprintf (length, sizeof length, "%zu", body);
    int retry_n = snprintf (retry, sizeof retry, "%lld", (long long) retry_s);
    if (lws_add_http_header_by_name (wsi, NULL, (const unsigned char *) status,
                                     (int) sizeof status - 1, &p, end)
        || lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                         (const unsigned char *) type, (int) sizeof type - 1,
                                         &p, end)
        || lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                         (const unsigned char *) length, length_n, &p, end)
        || (retry_s > 0
            && lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_RETRY_AFTER,
                                             (const unsigned char *) retry, retry_n, &p, end))
        || lws_finalize_http_header (wsi, &p, end) || (size_t) (end - p) < body)
        return -1;
    memcpy (p, text, body);
    p += body;
    int n = (int) (p - start);
    return lws_write (wsi, start, (size_t) n, LWS_WRITE_HTTP) == n ? 1 : -1;
}

//  The edge's room and the limits per address come after every other
//  check: only an upgrade the edge would take costs its address a token.
//  (upgrade_check saw the edge full already if it was; here the place is
//  taken, under the lock the workers share.) Returns what the lws callback
//  must return.
static int
s_admit_peer (struct lws *wsi)
{
    int64_t retry_ms;
    switch (peer_admit (wsi, &retry_ms)) {
        case PEER_FULL:
            net_edge.m->connections_rejected++;
            lws_return_http_status (wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
                                    "too many connections");
            return 1;
        case PEER_ADDRESS_FULL:
            return s_too_many (wsi, 0, "too many connections from this address "
                               "(see --max-connections-per-ip)\n");
        case PEER_ADDRESS_RATE:
            return s_too_many (wsi, (retry_ms + 999) / 1000,
                               "too many new connections from this address: retry after the "
                               "time in Retry-After (see --max-connects-per-ip-per-second)\n");
        default:
            return 0;
    }
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
    upgrade_policy_t policy = { .allow_origin = net_edge.cfg->allow_origin,
                                .max_header_bytes = net_edge.cfg->max_header,
                                .tls_only = net_edge.cfg->tls_cert != NULL,
                                .connections = (long) shm_admitted (net_edge.shm),
                                .max_connections = net_edge.shm->max_connections };
    upgrade_verdict_t v = upgrade_check (&req, &policy);
    switch (v.reason) {
        case UPGRADE_ACCEPT:
            return s_admit_peer (wsi);
        case UPGRADE_NOT_WEBSOCKET:
            return -1;
        case UPGRADE_HEADERS_TOO_LARGE:
            net_edge.m->headers_too_large++;
            hlog_debug ("refused an upgrade with %zu bytes of headers (--max-header-bytes %zu)",
                        req.header_bytes, policy.max_header_bytes);
            break;
        case UPGRADE_ORIGIN:
            net_edge.m->origins_rejected++;
            hlog_debug ("refused a WebSocket from origin %s", req.origin ? req.origin : "(long)");
            break;
        case UPGRADE_FULL:
            net_edge.m->connections_rejected++;
            break;
        default:
            break;
    }
    lws_return_http_status (wsi, (unsigned) v.status, v.text);
    return 1;
}

int
http_callback (struct lws *wsi, enum lws_callback_reasons reason, conn_t *c, void *in, int *rc)
{
    switch (reason) {
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            *rc = s_confirm_upgrade (wsi, in);
            return 1;

        case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
            //  Every plain HTTP request (upgrades are checked in
            //  s_confirm_upgrade), static files included. The answer is
            //  short; lws sends it before it closes the connection.
            *rc = s_headers_too_large (wsi);
            return 1;

        case LWS_CALLBACK_HTTP:
            *rc = s_http (wsi, c);
            return 1;

        case LWS_CALLBACK_HTTP_WRITEABLE:
            if (!c || !c->http_body)
                return 0;
            *rc = 0;
            if (lws_write (wsi, (unsigned char *) c->http_body + LWS_PRE, c->http_len,
                           LWS_WRITE_HTTP_FINAL) < 0)
                *rc = -1;
            free (c->http_body);
            c->http_body = NULL;
            if (*rc == 0 && lws_http_transaction_completed (wsi))
                *rc = -1;
            return 1;

        case LWS_CALLBACK_CLOSED_HTTP:
            if (c) {
                free (c->http_body);
                c->http_body = NULL;
            }
            return 0;

        default:
            return 0;
    }
}
