/*  session.h: one client's operations, whatever the transport.
 *
 *  A session is the set of subscriptions one client has running: their
 *  ids, and the limits that apply to them (how many at once, how long a
 *  document, how fast they may be started). It owns the id table and its
 *  rules, and the client's identity: the token it gave at connect (or a
 *  fresh one since), which decides what topics it may subscribe to. A transport (proto/ for the two WebSocket protocols) reads its
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

#include "auth.h"

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
    //  Authentication (--auth): off, tokens are not looked at and every
    //  topic is open; optional, a client without a token may subscribe to
    //  public_topics only; required, a client must give a good token.
    //  With a token, a client may subscribe to public_topics and to what
    //  its token's topics claim allows.
    enum { SESSION_AUTH_OFF, SESSION_AUTH_OPTIONAL, SESSION_AUTH_REQUIRED } auth;
    auth_config_t token;                    //  the token checks
    const patterns_t *public_topics;   //  borrowed; NULL: none
    //  The time that tokens' exp, nbf and iat are read against: the wall
    //  clock in ms since the epoch (the other now_ms are monotonic). NULL:
    //  the system's.
    int64_t (*wall_ms) (void);
} session_config_t;

typedef struct {
    uint64_t refused;           //  operations refused: invalid GraphQL, limits, failures
    uint64_t rate_limited;      //  operations refused by the rate limit
    uint64_t forbidden;         //  operations refused because their topic is not allowed
    uint64_t revoked;           //  operations ended by a refresh that no longer allows them
    uint64_t expired;           //  sessions ended because their token expired
    uint64_t auth[AUTH_RC_COUNT];       //  tokens at connect, by result (AUTH_OK included)
    uint64_t refresh[AUTH_RC_COUNT];    //  tokens in a refresh, by result
} session_stats_t;

/*  schema and hub are borrowed, and must outlive the sessions. */
sessions_t *sessions_new (const session_config_t *config, const gql_schema_t *schema,
                          hub_t *hub);
void sessions_destroy (sessions_t **self_p);
const session_stats_t *sessions_stats (const sessions_t *self);

/*  From now on the sessions keep their stats at where, as hub_place_stats. */
void sessions_place_stats (sessions_t *self, session_stats_t *where);

/*  The keys that tokens are checked with (borrowed; NULL: none, so every
 *  token is AUTH_UNKNOWN_KEY). May be replaced at any time between calls
 *  (a key reload); identities already given stay. */
void sessions_set_keys (sessions_t *self, const auth_keys_t *keys);

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

/*  Who the client is, from the token it gave when it connected (len
 *  bytes; NULL if it gave none), checked now (wall_ms). Call it before the
 *  first session_start. With --auth off it returns AUTH_OK and looks at
 *  nothing; with optional, no token is AUTH_OK (an anonymous client) and
 *  a token must be good; with required, no token is AUTH_MISSING. Each
 *  check is counted in the stats' auth[] (an anonymous client is not).
 *  Anything but AUTH_OK: the transport refuses the client
 *  (graphql-transport-ws closes 4403). */
auth_rc_t session_authenticate (session_t *self, const char *token, size_t len);

/*  An operation that a refresh ended: the transport tells the client with
 *  errors (a JSON array) for id. It must not start or stop anything. */
typedef void (session_revoked_fn) (void *ctx, const char *id, const char *errors);

/*  A fresh token on a live session (a Herald extension: see docs/edge.md).
 *  It must pass every check of session_authenticate and name the same sub
 *  as the session's token (AUTH_SUBJECT otherwise); an anonymous session
 *  may take any good token. On AUTH_OK the session takes the token's
 *  expiry and permissions, and every running operation that these no
 *  longer allow is reported to revoked and stopped. On failure the
 *  session is unchanged, and the transport ends it. Counted in the
 *  stats' refresh[]. With --auth off, AUTH_OK and nothing changes. */
auth_rc_t session_refresh (session_t *self, const char *token, size_t len,
                           session_revoked_fn *revoked, void *ctx);

/*  How long until the session's token expires, the leeway included, in
 *  ms (0 if it has): the transport ends the session then. -1 if never
 *  (no token, or one without exp). */
int64_t session_expires_in (const session_t *self);

/*  The transport ends the session because its token expired: counts it. */
void session_expired (session_t *self);

/*  The sub claim of the session's token, or NULL. */
const char *session_subject (const session_t *self);

#endif
