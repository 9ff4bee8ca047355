/*  upstream.h: herald-edge's link to the broker, a libherald subscriber
 *  driven from the edge's libuv loop.
 */
#ifndef HERALD_UPSTREAM_H
#define HERALD_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct upstream upstream_t;

typedef void (upstream_event_fn) (void *ctx, const char *topic, const void *payload,
                                  size_t size);

/*  Connect to a broker's egress. Each event arrives through on_event, from
 *  the loop. hwm bounds the events queued in libherald, received and not
 *  yet handled: past it ZeroMQ stops reading, and the broker queues (then
 *  drops, and counts) what the edge cannot take. Returns NULL (and logs
 *  why) on failure. */
upstream_t *upstream_new (uv_loop_t *loop, const char *endpoint, int hwm,
                          upstream_event_fn *on_event, void *ctx);

/*  Close the loop handles; the upstream is freed once they are closed.
 *  Accepts NULL. */
void upstream_close (upstream_t *self);

int upstream_subscribe (upstream_t *self, const char *topic);
void upstream_unsubscribe (upstream_t *self, const char *topic);

/*  1 while the link to the broker is up, else 0. The edge logs each change
 *  (checked every half second). */
int upstream_connected (const upstream_t *self);

/*  Messages libherald skipped as malformed or too big. */
uint64_t upstream_skipped (const upstream_t *self);

#endif
