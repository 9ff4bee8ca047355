/*  session.h: one client's operations, whatever the transport.
 *
 *  A session is the set of subscriptions one client has running: their
 *  ids, and the limits that apply to them (how many at once, how long a
 *  document, how fast they may be started). It owns the id table and its
 *  rules. A transport (proto/ for the two WebSocket protocols) reads its
 *  wire format and calls session_start and session_stop; it gets each
 *  rendered result back through the session_out_fn it gave, and frames
 *  it. Starting an operation (its limits, gql_prepare, the hub, and so
 *  the broker) happens here, once for every transport.
 *
 *  The sessions_t holds what every session of the edge shares: the
 *  schema, the limits, the hub, and the counters. Pure code: no I/O.
 */
#ifndef HERALD_SESSION_H
#define HERALD_SESSION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gql_schema gql_schema_t;
typedef struct hub hub_t;
typedef struct sessions sessions_t;
typedef struct session session_t;

typedef struct {
    int max_subscriptions;      //  operations at once, per session
    size_t max_query;           //  longest GraphQL document, bytes
    int max_depth;              //  gql_limits_t's
    int max_fields;
    //  Subscribe rate limit, a token bucket per session: subscribe_rate
    //  tokens a second, holding at most subscribe_burst (subscribe_rate
    //  if 0). An operation without a token is refused with an error; one
    //  that comes after subscribe_burst refusals in a row is
    //  SESSION_FLOOD. 0: no limit.
    int subscribe_rate;
    int subscribe_burst;
} session_config_t;

typedef struct {
    uint64_t refused;           //  operations refused: invalid GraphQL, limits, failures
    uint64_t rate_limited;      //  operations refused by the rate limit
} session_stats_t;

/*  schema and hub are borrowed, and must outlive the sessions. */
sessions_t *sessions_new (const session_config_t *config, const gql_schema_t *schema,
                          hub_t *hub);
void sessions_destroy (sessions_t **self_p);
const session_stats_t *sessions_stats (const sessions_t *self);

/*  How a session treats an id that is already running. */
typedef enum {
    SESSION_IDS_UNIQUE,         //  refused: SESSION_DUPLICATE (graphql-transport-ws: 4409)
    SESSION_IDS_REPLACE         //  the running one stops first (subscriptions-transport-ws)
} session_ids_t;

/*  One rendered result for an operation: the prefix that the transport
 *  gave when it started the operation, then the result's JSON. The
 *  transport closes the message and queues it. It must not start or stop
 *  anything from inside the call. The hub calls it directly (it is the
 *  hub_deliver_fn of the operation's subscription), so an event passes
 *  from the hub to the transport with no stop between. */
typedef void (session_out_fn) (void *ctx, const char *prefix, size_t prefix_len,
                               const char *body, size_t body_len);

session_t *session_new (sessions_t *sessions, session_ids_t ids, session_out_fn *out,
                        void *ctx, int64_t now_ms);
/*  Stops every operation, and frees the session. Accepts NULL. */
void session_destroy (session_t **self_p);

/*  An operation, as a transport read it from its wire format. */
typedef struct {
    const char *id;             //  non-empty
    const char *query;
    size_t query_len;
    const char *operation_name; //  or NULL
    const json_t *variables;    //  an object, or NULL
    const json_t *extensions;   //  an object, or NULL
    //  The transport's text before each result of this operation (copied).
    const char *prefix;
    size_t prefix_len;
} session_op_t;

typedef enum {
    SESSION_STARTED = 0,
    SESSION_REFUSED,            //  *errors: the GraphQL errors (a JSON array) to send
    SESSION_DUPLICATE,          //  the id is running (SESSION_IDS_UNIQUE)
    SESSION_FLOOD,              //  refused by the rate limit too often in a row: end the session
    SESSION_FAILED              //  out of memory
} session_rc_t;

/*  Starts an operation at now_ms. On SESSION_REFUSED, *errors is a
 *  malloc'ed JSON array of GraphQL errors for the client (else NULL):
 *  the transport frames it, and the id is free again. */
session_rc_t session_start (session_t *self, const session_op_t *op, int64_t now_ms,
                            char **errors);

/*  Stops a running operation. Returns 1 if it was running, else 0. */
int session_stop (session_t *self, const char *id);

/*  Operations running now. */
int session_count (const session_t *self);

#endif
