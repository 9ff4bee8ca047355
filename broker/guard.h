/*  guard.h: the broker's ZAP handler and egress monitor.
 *
 *  ZeroMQ consults a ZAP handler (inproc://zeromq.zap.01) at every
 *  handshake of a socket that has a ZAP domain. The broker sets one on all
 *  its sockets, which makes ZeroMQ refuse peers that do not speak ZMTP 3,
 *  and answers every request itself: egress connections get a user id, so
 *  that each subscription the egress reads says who sent it. The egress's
 *  socket monitor reports the descriptors behind them. Both feed peers.c,
 *  and a peer that goes over its limits is disconnected here.
 *
 *  With CURVE on (guard_curve), the handler is also the broker's
 *  allowlist: the ZAP domain is the socket's role, and a client's public
 *  key passes only if the certificate directory of that role's side holds
 *  it (publishers: ingress and xsub; subscribers: egress and stats). A
 *  handler of our own rather than CZMQ's zauth, because zauth checks every
 *  CURVE handshake against one certificate store whatever the domain, so
 *  it cannot keep an edge's key off the publishing side; and a context has
 *  room for one ZAP handler, which the egress's naming already needs.
 *  ZeroMQ refuses a plaintext client before any ZAP request, so those
 *  refusals are read from a monitor on each socket instead. Which side
 *  sees the mismatch first is a race: when the client does, it hangs up,
 *  and the broker sees only a handshake broken off (ABANDONED below).
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

/*  Why a handshake was refused, as one list: XX (NAME, stats key, text for
 *  the log). The stats JSON and the log both come from it. */
#define GUARD_DENIAL_MAP(XX)                                                  \
    XX (PLAINTEXT, "auth_refused_plaintext",                                  \
        "a client without CURVE")                                             \
    XX (UNKNOWN_KEY, "auth_refused_unknown_key",                              \
        "a CURVE key in neither allowlist")                                   \
    XX (WRONG_SIDE, "auth_refused_wrong_side",                                \
        "a CURVE key allowed only on the other side")                         \
    XX (HANDSHAKE, "auth_refused_handshake",                                  \
        "a CURVE handshake that failed (a wrong server key, or garbage)")      \
    XX (ABANDONED, "auth_refused_abandoned",                                  \
        "a handshake the client broke off (a client without CURVE that saw "  \
        "the broker's CURVE greeting first)")

#define GUARD_DENIAL_ENUM(name, key, text) GUARD_DENIED_##name,
typedef enum { GUARD_DENIAL_MAP (GUARD_DENIAL_ENUM) GUARD_DENIALS } guard_denial_t;
#undef GUARD_DENIAL_ENUM

/*  Turn CURVE on: from now on a handshake passes only with a CURVE key
 *  whose public certificate is in publishers (for the ingress and xsub
 *  roles) or subscribers (egress, stats). Reads both directories now (they
 *  must exist) and logs how many keys each allows. Call before any socket
 *  binds. Returns 0, or -1 (logged). */
int guard_curve (guard_t *self, const char *publishers, const char *subscribers);

/*  Read the certificate directories again (SIGHUP), so that removed
 *  certificates are refused from the next handshake on. (CZMQ's store
 *  also notices most changes by itself at each lookup.) Connections made
 *  before stay. Returns 0, or -1 (logged) with the old lists kept. */
int guard_reload (guard_t *self);

/*  Count the refused handshakes of a socket other than the egress (whose
 *  monitor guard_watch sets up). Call before it binds, with CURVE on.
 *  Returns 0 or -1 (logged). */
int guard_watch_handshakes (guard_t *self, void *socket, const char *role);

/*  The monitors guard_watch_handshakes made: how many, each one's socket
 *  to poll, and what to do when it has input. */
int guard_handshake_monitors (const guard_t *self);
void *guard_handshake_socket (guard_t *self, int i);
void guard_on_handshakes (guard_t *self, int i);

/*  Handshakes refused so far, for each guard_denial_t. */
const uint64_t *guard_denials (const guard_t *self);

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
