/*  edge.h: herald-edge's configuration and entry point.
 *
 *  main.c fills an edge_config_t from the command line; edge_run
 *  (supervisor.c) calls edge_prepare (startup.c), which checks what the
 *  edge needs, then forks the workers, each of which serves (edge_serve,
 *  net/server.c) until SIGINT or SIGTERM. docs/edge.md documents every
 *  field as a flag, and docs/architecture.md the parts.
 */
#ifndef HERALD_EDGE_H
#define HERALD_EDGE_H

#include <stddef.h>

#include "opts.h"

typedef struct {
    int workers;                //  worker processes (--workers, "auto" resolved)
    const char *host;           //  interface to listen on; "" for all
    int port;
    const char *broker;         //  the broker's egress endpoint
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
typedef struct shm shm_t;

//  Descriptors beyond the connections: listeners, the broker link, files
//  being served.
#define EDGE_SPARE_FDS 256

/*  Before serving: ignores SIGPIPE, raises the descriptor limit (each
 *  process's) to what --max-connections needs, loads the schema and the
 *  key files (into *keys) and checks that the TLS files can be read.
 *  *per_worker gets the connections one worker can hold (its descriptor
 *  limit), *total those the edge takes: --max-connections, or less if
 *  the workers together cannot hold that many (logged). Returns the
 *  schema, or NULL (with the problem logged, and *keys NULL). */
gql_schema_t *edge_prepare (const edge_config_t *config, int *per_worker, int *total,
                            auth_keys_t **keys);

/*  Reads every --jwt-key and --jwt-secret file into a new key set. Returns
 *  it, or NULL with why[] naming the file and what is wrong with it (the
 *  edge then keeps the keys it has, or does not start). */
auth_keys_t *edge_load_keys (const edge_config_t *config, char *why, size_t why_len);

/*  The supervisor: prepares, forks config->workers workers, starts again
 *  any that dies, and passes signals on, until SIGINT or SIGTERM. Returns
 *  the process exit status: 0 after a clean shutdown, 1 if the edge could
 *  not start (or a worker did not stop cleanly). */
int edge_run (const edge_config_t *config);

/*  What the supervisor hands a worker it forked. */
typedef struct {
    int index;                  //  0 .. workers - 1
    int listen_fd;              //  its listening socket (taken)
    int ready_fd;               //  written once the worker serves
    int max_connections;        //  what this process can hold
    shm_t *shm;                 //  what the workers share (net/shm.h)
    gql_schema_t *schema;       //  taken
    auth_keys_t *keys;          //  taken
} edge_worker_t;

/*  A worker: serves until SIGINT or SIGTERM, then drains. Returns its
 *  exit status: 0 after a clean shutdown, 1 if it could not start. */
int edge_serve (const edge_config_t *config, edge_worker_t *worker);

/*  --check: load the schema and check that the TLS files can be read, then
 *  print each subscription field with its topic template to stdout.
 *  Returns 0, or 1 (with the problem logged) if the edge could not start. */
int edge_check (const edge_config_t *config);

#endif
