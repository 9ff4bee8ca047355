/*  peers.h: the broker's account of who subscribes to what on its egress.
 *
 *  ZeroMQ's XPUB keeps every subscription it is sent, a trie node per byte,
 *  with no limit per peer. The broker therefore watches the egress: each
 *  connection is named at its handshake (the broker's ZAP handler gives it
 *  a user id such as "egress-7"), every subscription and cancellation
 *  arrives tagged with that name, and this module keeps the books. It says
 *  when a peer goes over its limits, so that the broker can disconnect it,
 *  and it knows which topics have a subscriber at all.
 *
 *  The link from a name to a descriptor (needed to disconnect a peer) comes
 *  from two sources that ZeroMQ does not tie together: the socket monitor
 *  reports each accepted descriptor, and the ZAP request reports the
 *  peer's address without its port. When one connection from an address
 *  is in its handshake, the match is exact. When several handshake at once
 *  from one address, they form a group, and disconnecting one member
 *  disconnects the group; the group narrows as its members close.
 *
 *  Pure bookkeeping: no sockets, no clock. broker.c feeds it events.
 */
#ifndef HERALD_PEERS_H
#define HERALD_PEERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t max_per_peer;        //  subscriptions one egress connection may hold
    size_t max_total;           //  subscriptions all of them may hold together
} peers_limits_t;

typedef enum {
    PEERS_OK = 0,
    PEERS_BAD_TOPIC,            //  longer than a topic can be, or holds a NUL
    PEERS_PEER_FULL,            //  the peer is at max_per_peer
    PEERS_ALL_FULL              //  the egress is at max_total
} peers_verdict_t;

typedef struct {
    uint64_t topics;            //  distinct topics subscribed, sync tokens aside
    uint64_t subscriptions;     //  (peer, topic) pairs held
    uint64_t peers;             //  named egress connections now
    uint64_t refused;           //  subscriptions refused (bad topic or over a limit)
} peers_stats_t;

typedef struct peers peers_t;

peers_t *peers_new (const peers_limits_t *limits);
void peers_destroy (peers_t **self_p);

/*  The socket monitor saw the egress accept descriptor fd from addr:port
 *  (addr as getnameinfo writes it with NI_NUMERICHOST, which is how
 *  ZeroMQ writes a ZAP request's address). */
void peers_accepted (peers_t *self, int fd, const char *addr, int port);

/*  The socket monitor saw descriptor fd close. */
void peers_disconnected (peers_t *self, int fd);

/*  A ZAP request for an egress handshake from addr: returns the user id to
 *  give that connection (owned by self), or NULL if memory ran out. */
const char *peers_identify (peers_t *self, const char *addr);

/*  A (un)subscription read from the egress. id is the connection's user id,
 *  or NULL for one ZeroMQ makes by itself when a connection closes. Returns
 *  PEERS_OK, or why the subscription is refused: the caller disconnects the
 *  peer (peers_fds), whose subscriptions ZeroMQ then cancels. Sets *changed
 *  (if not NULL) to 1 when a (peer, topic) pair entered or left the books:
 *  only those are passed upstream, so that what a refused subscription
 *  and its cancellation do never reaches another broker. */
peers_verdict_t peers_subscription (peers_t *self, const char *id, int subscribe,
                                    const char *topic, size_t len, int *changed);

/*  The descriptors to close to disconnect the peer named id: one, or the
 *  members of its group. Writes at most max of them to fds and returns how
 *  many there are; port_of gives each one's port, to check before closing
 *  that the descriptor was not reused. */
size_t peers_fds (const peers_t *self, const char *id, int *fds, size_t max);
int peers_port_of (const peers_t *self, int fd);

/*  1 if some subscription on the egress matches topic: ZeroMQ matches by
 *  prefix, so any subscribed prefix of it counts. */
int peers_routed (const peers_t *self, const char *topic, size_t len);

const peers_stats_t *peers_stats (peers_t *self);

/*  Why a verdict refuses, for the log. */
const char *peers_verdict_text (peers_verdict_t verdict);

#endif
