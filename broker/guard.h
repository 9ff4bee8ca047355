/*  guard.h: the broker's ZAP handler and egress monitor.
 *
 *  ZeroMQ consults a ZAP handler (inproc://zeromq.zap.01) at every
 *  handshake of a socket that has a ZAP domain. The broker sets one on all
 *  its sockets, which makes ZeroMQ refuse peers that do not speak ZMTP 3,
 *  and answers every request itself: egress connections get a user id, so
 *  that each subscription the egress reads says who sent it. The egress's
 *  socket monitor reports the descriptors behind them. Both feed peers.c,
 *  and a peer that goes over its limits is disconnected here.
 */
#ifndef HERALD_GUARD_H
#define HERALD_GUARD_H

#include "peers.h"

#include <stddef.h>
#include <zmq.h>

typedef struct guard guard_t;

/*  Bind the ZAP handler. Call before any broker socket binds or connects,
 *  so that no handshake happens without it. Logs and returns NULL on
 *  failure. */
guard_t *guard_new (const peers_limits_t *limits);
void guard_destroy (guard_t **self_p);

/*  Start monitoring the egress (a raw libzmq socket). Call before it
 *  binds. Returns 0 or -1. */
int guard_watch (guard_t *self, void *egress);

/*  The sockets to poll for input, and what to do when they have some. */
void *guard_zap_socket (guard_t *self);
void *guard_monitor_socket (guard_t *self);
void guard_on_zap (guard_t *self);
void guard_on_monitor (guard_t *self);

/*  A (un)subscription read from the egress, with the message it came in
 *  (whose metadata names the peer). Refusals are counted in peers.c; the
 *  peer is disconnected and the refusal logged. Returns 1 if it changed
 *  what the egress's peers hold (a subscription kept, or the cancellation
 *  of one), which is what to pass upstream; 0 if refused or a repeat. */
int guard_on_subscription (guard_t *self, zmq_msg_t *msg, int subscribe, const char *topic,
                            size_t len);

/*  1 if a subscription on the egress matches topic. */
int guard_routed (const guard_t *self, const char *topic, size_t len);

const peers_stats_t *guard_stats (guard_t *self);

/*  Egress connections closed because of refused subscriptions. */
uint64_t guard_disconnects (const guard_t *self);

#endif
