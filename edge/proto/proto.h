/*  proto.h: the GraphQL-over-WebSocket protocol state machines.
 *
 *  Two protocols, told apart by the WebSocket subprotocol:
 *  - PROTO_TRANSPORT_WS: "graphql-transport-ws" (graphql-ws, PROTOCOL.md);
 *  - PROTO_LEGACY_WS: "graphql-ws" (subscriptions-transport-ws).
 *
 *  Each is a transport over the session layer (session/session.h): it
 *  reads the client's text messages and turns them into session calls,
 *  and frames what the session sends back (results, errors, complete).
 *  Pure code: it reads messages and the clock, and writes only through
 *  the callbacks in proto_ops_t. It owns no socket and no timer; the
 *  socket glue (net/ws.c) provides those, which keeps this unit-testable
 *  and fuzzable.
 */
#ifndef HERALD_PROTO_H
#define HERALD_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "jbuf.h"
#include "session.h"

typedef enum {
    PROTO_TRANSPORT_WS = 1,     //  graphql-transport-ws
    PROTO_LEGACY_WS = 2         //  graphql-ws (subscriptions-transport-ws)
} proto_kind_t;

//  The close codes the edge sends (graphql-transport-ws's, and WebSocket's
//  own), as one list: XX (NAME, code) gives PROTO_CLOSE_NAME, and /metrics
//  counts each one (herald_edge_closes_total{code}). docs/edge.md says when
//  each is sent. A code joins the list when something sends it.
#define PROTO_CLOSE_MAP(XX)                                                  \
    XX (NORMAL, 1000)                                                        \
    XX (GOING_AWAY, 1001)                                                    \
    XX (PROTOCOL_ERROR, 1002)                                                \
    XX (TOO_BIG, 1009)                                                       \
    XX (BAD_REQUEST, 4400)                                                   \
    XX (UNAUTHORIZED, 4401)                                                  \
    XX (FORBIDDEN, 4403)                                                     \
    XX (SUBPROTOCOL, 4406)                                                   \
    XX (INIT_TIMEOUT, 4408)                                                  \
    XX (DUPLICATE_ID, 4409)                                                  \
    XX (TOO_MANY_REQUESTS, 4429)                                             \
    XX (INTERNAL, 4500)                                                      \
    XX (SLOW_CONSUMER, 4503)

#define PROTO_CLOSE_ENUM_ITEM(name, code) PROTO_CLOSE_##name = code,
enum proto_close {
    PROTO_CLOSE_MAP (PROTO_CLOSE_ENUM_ITEM)
    //  4429 also answers a second connection_init.
    PROTO_CLOSE_TOO_MANY_INITS = PROTO_CLOSE_TOO_MANY_REQUESTS
};
#undef PROTO_CLOSE_ENUM_ITEM

/*  What a state machine asks of its connection. ctx is the connection's. */
typedef struct {
    /*  Queue one text message, made of n parts concatenated. */
    void (*send) (void *ctx, const char *const *parts, const size_t *lens, int n);
    /*  Close the socket with a close code and reason. The state machine
     *  calls nothing else afterwards. */
    void (*close) (void *ctx, int code, const char *reason);
} proto_ops_t;

typedef struct {
    int64_t init_timeout_ms;    //  close 4408 if no connection_init in time; 0: never
    int64_t keepalive_ms;       //  legacy protocol "ka" interval; 0: never
} proto_config_t;

typedef struct proto_conn proto_conn_t;

/*  A connection's state machine, with its session (session.h) in
 *  sessions. Returns NULL if memory ran out. */
proto_conn_t *proto_new (proto_kind_t kind, const proto_config_t *config,
                         const proto_ops_t *ops, void *ctx, sessions_t *sessions,
                         int64_t now_ms);
/*  Ends the session (stopping its subscriptions), and frees the state
 *  machine. Accepts NULL. */
void proto_destroy (proto_conn_t **self_p);

/*  The same in memory that the connection holds: proto_size () bytes,
 *  aligned for any type. Every result a subscription delivers reads the
 *  state machine, so keeping it beside the connection's own fields saves
 *  a cache miss per delivery. proto_init returns NULL if memory ran out;
 *  proto_fini ends the session (and accepts NULL). */
size_t proto_size (void);
proto_conn_t *proto_init (void *mem, proto_kind_t kind, const proto_config_t *config,
                          const proto_ops_t *ops, void *ctx, sessions_t *sessions,
                          int64_t now_ms);
void proto_fini (proto_conn_t *self);

/*  The token that the connection's upgrade request carried (its
 *  Authorization header, or the --jwt-cookie cookie), copied: the session
 *  takes it at connection_init when the init payload holds none. Returns
 *  0, or -1 if memory ran out. */
int proto_set_token (proto_conn_t *self, const char *token, size_t len);

/*  Feed one complete message from the client. */
void proto_on_text (proto_conn_t *self, const char *data, size_t len, int64_t now_ms);
void proto_on_binary (proto_conn_t *self, int64_t now_ms);

/*  The next time proto_on_timer must be called, or -1 for none. */
int64_t proto_deadline (const proto_conn_t *self);
void proto_on_timer (proto_conn_t *self, int64_t now_ms);

/*  1 once the connection is acknowledged (subscriptions may run). */
int proto_acknowledged (const proto_conn_t *self);

/*  The text that goes before a rendered result to make a whole message
 *  for subscription id: '{"id":"…","type":"next","payload":' (or "data"
 *  for the legacy protocol). The message ends with PROTO_RESULT_SUFFIX. */
void proto_result_prefix (proto_kind_t kind, const char *id, jbuf_t *out);
#define PROTO_RESULT_SUFFIX "}"

#endif
