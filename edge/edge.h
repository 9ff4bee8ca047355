/*  edge.h: herald-edge's configuration and entry point.
 *
 *  main.c fills an edge_config_t from the command line; edge_prepare
 *  (startup.c) checks what the edge needs, and edge_run (net/server.c)
 *  serves until SIGINT or SIGTERM. docs/edge.md documents every field as
 *  a flag, and docs/architecture.md the parts.
 */
#ifndef HERALD_EDGE_H
#define HERALD_EDGE_H

#include <stddef.h>

#include "opts.h"

typedef struct {
    const char *host;           //  interface to listen on; "" for all
    int port;
    const char *broker;         //  the broker's egress endpoint, or a list of them
    const char *schema_path;
    const char *static_dir;     //  served at /, or NULL
    const char *tls_cert;       //  PEM certificate (chain) for wss://, or NULL
    const char *tls_key;        //  its PEM private key, or NULL
    const char *allow_origin;   //  comma-separated origins, or "*" for any
    int init_timeout_ms;        //  graphql-transport-ws connection_init wait
    int handshake_timeout_s;    //  TLS and HTTP handshakes must finish in this time
    int legacy_ka_ms;           //  legacy protocol "ka" interval; 0: off
    int ping_interval_s;        //  WebSocket ping after this much silence; 0: off
    int ping_timeout_s;         //  close if nothing heard this long after a ping
    size_t max_message;         //  largest WebSocket message from a client, bytes
    size_t max_query;           //  largest GraphQL document, bytes
    int max_depth;              //  deepest field nesting in a selection
    int max_fields;             //  field selections written in one document
    int max_subscriptions;      //  per connection
    int max_connections;        //  WebSocket connections at once
    int max_connections_given;  //  set on the command line (else a default)
    size_t max_queue_messages;  //  outbound messages queued per connection
    size_t max_queue_bytes;     //  outbound bytes queued per connection
    size_t max_result;          //  largest rendered result, bytes
    size_t max_header;          //  largest HTTP request head (line and headers), bytes
    int subscribe_rate;         //  subscribes a second per connection (token bucket)
    int subscribe_burst;        //  and the bucket's size
    int close_timeout_s;        //  a closing connection is freed within this time
    int upstream_hwm;           //  events queued from the broker, in libherald
    int broker_heartbeat_ms;    //  ZMTP heartbeats on the broker links; 0: libherald's
    int broker_heartbeat_timeout_ms;
    int check;                  //  --check: check the configuration, then exit
    //  Authentication (docs/edge.md, "Authentication")
    const char *auth;           //  "required", "optional", "off"; NULL: required with keys
    opt_list_t jwt_keys;        //  PEM public keys or JWKS files
    opt_list_t jwt_secrets;     //  HMAC secret files
    int jwt_leeway_s;
    const char *jwt_issuer;     //  or NULL
    const char *jwt_audience;   //  or NULL
    const char *jwt_cookie;     //  the cookie that may hold the token, or NULL
    const char *jwt_topics_claim;
    const char *public_topics;  //  comma-separated patterns, or NULL
    int max_connections_per_ip; //  WebSocket connections at once per client address; 0: off
    int connect_rate_per_ip;    //  new connections a second per address (token bucket); 0: off
    int connect_burst_per_ip;   //  and the bucket's size
    const char *curve_server;   //  the broker's public certificate (CURVE), or NULL
    const char *curve_cert;     //  the edge's secret certificate there, or NULL
} edge_config_t;

typedef struct gql_schema gql_schema_t;
typedef struct auth_keys auth_keys_t;

//  Descriptors beyond the connections: listeners, the broker link, files
//  being served.
#define EDGE_SPARE_FDS 256

/*  Before serving: ignores SIGPIPE, raises the descriptor limit to what
 *  --max-connections needs (*max_connections gets what the limit allows),
 *  loads the schema and the key files (into *keys) and checks that the
 *  TLS files can be read. Returns the schema, or NULL (with the problem
 *  logged, and *keys NULL). */
gql_schema_t *edge_prepare (const edge_config_t *config, int *max_connections,
                            auth_keys_t **keys);

/*  Reads every --jwt-key and --jwt-secret file into a new key set. Returns
 *  it, or NULL with why[] naming the file and what is wrong with it (the
 *  edge then keeps the keys it has, or does not start). */
auth_keys_t *edge_load_keys (const edge_config_t *config, char *why, size_t why_len);

/*  Serve until SIGINT or SIGTERM. Returns the process exit status: 0 after
 *  a clean shutdown, 1 if the edge could not start. */
int edge_run (const edge_config_t *config);

/*  --check: load the schema and check that the TLS files can be read, then
 *  print each subscription field with its topic template to stdout.
 *  Returns 0, or 1 (with the problem logged) if the edge could not start. */
int edge_check (const edge_config_t *config);

#endif
