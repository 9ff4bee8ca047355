/*  upstream.h: herald-edge's link to the broker, a libherald subscriber
 *  driven from the edge's libuv loop. Events go straight to the hub
 *  (session/hub.h); the hub's first and last subscriptions of a topic
 *  come straight here.
 */
#ifndef HERALD_UPSTREAM_H
#define HERALD_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct upstream upstream_t;
typedef struct hub hub_t;

/*  Connect to a broker's egress, or to each broker of a list of them
 *  ("tcp://a:7401,tcp://b:7401", as libherald takes it). hwm bounds the events queued in
 *  libherald, received and not yet handled: past it ZeroMQ stops reading,
 *  and the broker queues (then drops, and counts) what the edge cannot
 *  take. Returns NULL (and logs why) on failure. */
upstream_t *upstream_new (uv_loop_t *loop, const char *endpoint, int hwm);

/*  Start reading: each event goes to hub_publish, from the loop. */
void upstream_start (upstream_t *self, hub_t *hub);

/*  Close the loop handles; the upstream is freed once they are closed.
 *  Accepts NULL. */
void upstream_close (upstream_t *self);

/*  The hub's topic callbacks (hub_ops_t), with ctx the upstream: the
 *  first subscription of a topic subscribes at the broker, and the last
 *  one leaving unsubscribes. add returns 0, or -1 (logged) on failure. */
int upstream_topic_add (void *ctx, const char *topic);
void upstream_topic_remove (void *ctx, const char *topic);

/*  1 while the link to the broker is up, else 0; with a list, while at
 *  least one broker's is (the topics of one that is down go to the next).
 *  The edge logs each link's change, by endpoint (checked every half
 *  second). */
int upstream_connected (const upstream_t *self);

/*  How many brokers the edge is linked to (1 unless --broker is a list),
 *  broker i's endpoint (NULL out of range), and 1 while its link is up. */
size_t upstream_brokers (const upstream_t *self);
const char *upstream_broker_endpoint (const upstream_t *self, size_t i);
int upstream_broker_connected (const upstream_t *self, size_t i);

/*  Messages libherald skipped as malformed or too big. */
uint64_t upstream_skipped (const upstream_t *self);

#endif
