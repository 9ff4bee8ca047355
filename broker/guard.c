/*  guard.c: the broker's ZAP handler and egress monitor. See guard.h.
 *
 *  A refused peer is disconnected on its descriptor, which ZeroMQ owns:
 *  ZeroMQ then sees the connection end, closes the descriptor itself and
 *  cancels the peer's subscriptions. Before that the descriptor is checked
 *  to still be the peer's (same remote port), since ZeroMQ may have closed
 *  it and accepted another under the same number in between.
 *
 *  A TCP connection is aborted (connect(2) to AF_UNSPEC: a reset, and what
 *  the kernel had queued from the peer is discarded). shutdown(2) alone
 *  would not do: Linux keeps taking a TCP peer's data after SHUT_RD, and
 *  ZeroMQ keeps reading it, and storing every subscription in it, until it
 *  finds the queue empty. A Unix socket's peer cannot write past SHUT_RD,
 *  so there shutdown(2) is enough.
 */
#define _GNU_SOURCE         //  struct ucred
#include "guard.h"
#include "log.h"

#include <czmq.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MONITOR_ENDPOINT "inproc://herald-broker-egress-monitor"
#define ZAP_FRAMES 8            //  up to the mechanism; credentials follow
#define KICK_FDS 64             //  descriptors closed at most per refusal

struct guard {
    zsock_t *zap;
    zsock_t *monitor;
    peers_t *peers;
    uint64_t disconnects;
    char last_kicked[32];       //  one refusal is enough to disconnect a peer
    int64_t last_warned;
    uint64_t unlogged;          //  disconnects since the last warning
};

guard_t *
guard_new (const peers_limits_t *limits)
{
    guard_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->peers = peers_new (limits);
    self->zap = zsock_new (ZMQ_ROUTER);
    if (!self->peers || !self->zap || zsock_bind (self->zap, ZAP_ENDPOINT) != 0) {
        hlog_error ("cannot start the ZAP handler at %s: %s", ZAP_ENDPOINT,
                    zmq_strerror (zmq_errno ()));
        guard_destroy (&self);
    }
    return self;
}

void
guard_destroy (guard_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    guard_t *self = *self_p;
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->zap);
    peers_destroy (&self->peers);
    free (self);
    *self_p = NULL;
}

int
guard_watch (guard_t *self, void *egress)
{
    if (zmq_socket_monitor (egress, MONITOR_ENDPOINT,
                            ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0
        || !(self->monitor = zsock_new (ZMQ_PAIR))
        || zsock_connect (self->monitor, MONITOR_ENDPOINT) != 0) {
        hlog_error ("cannot monitor the egress: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

void *
guard_zap_socket (guard_t *self)
{
    return zsock_resolve (self->zap);
}

void *
guard_monitor_socket (guard_t *self)
{
    return zsock_resolve (self->monitor);
}

//  A descriptor's peer as ZeroMQ writes it in ZAP requests (getnameinfo's
//  numeric host; for IPC, "localhost" and the peer's ":uid:gid:pid"), and
//  its port (for IPC its pid), which tells a reused descriptor. Returns 0,
//  or -1 if it has none (closed already).
static int
s_peer_of (int fd, char *addr, size_t addr_len, int *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char serv[16] = "0";
    addr[0] = 0;
    *port = 0;
    if (getpeername (fd, (struct sockaddr *) &ss, &len) != 0)
        return -1;
    int unix_domain = ss.ss_family == AF_UNIX;
    if (getnameinfo ((struct sockaddr *) &ss, len, addr, (socklen_t) addr_len,
                     unix_domain ? NULL : serv, unix_domain ? 0 : sizeof serv,
                     NI_NUMERICHOST | (unix_domain ? 0 : NI_NUMERICSERV)) != 0) {
        addr[0] = 0;
        return 0;
    }
    *port = atoi (serv);
    struct ucred cred;
    socklen_t size = sizeof cred;
    if (unix_domain && getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) == 0) {
        size_t n = strlen (addr);
        snprintf (addr + n, addr_len - n, ":%u:%u:%d", (unsigned) cred.uid, (unsigned) cred.gid,
                  (int) cred.pid);
        *port = (int) cred.pid;
    }
    return 0;
}

void
guard_on_monitor (guard_t *self)
{
    void *h = zsock_resolve (self->monitor);
    while (1) {
        zmq_msg_t event, endpoint;
        zmq_msg_init (&event);
        if (zmq_msg_recv (&event, h, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&event);
            return;
        }
        //  Two frames: 16-bit event and 32-bit value, then the endpoint.
        uint16_t id = 0;
        uint32_t value = 0;
        if (zmq_msg_size (&event) == 6) {
            memcpy (&id, zmq_msg_data (&event), 2);
            memcpy (&value, (char *) zmq_msg_data (&event) + 2, 4);
        }
        int more = zmq_msg_more (&event);
        zmq_msg_close (&event);
        if (more) {
            zmq_msg_init (&endpoint);
            zmq_msg_recv (&endpoint, h, 0);
            zmq_msg_close (&endpoint);
        }
        char addr[64];
        int port;
        if (id == ZMQ_EVENT_ACCEPTED && s_peer_of ((int) value, addr, sizeof addr, &port) == 0) {
            hlog_debug ("egress accepted descriptor %u from \"%s\" port %d", value, addr, port);
            peers_accepted (self->peers, (int) value, addr, port);
        }
        else if (id == ZMQ_EVENT_DISCONNECTED)
            peers_disconnected (self->peers, (int) value);
    }
}

//  Reads one frame into buf as a string, truncated to fit. Returns 1 if
//  more frames follow, 0 if not, -1 if there was none.
static int
s_frame (void *h, char *buf, size_t size, size_t *len)
{
    zmq_msg_t m;
    zmq_msg_init (&m);
    if (zmq_msg_recv (&m, h, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&m);
        return -1;
    }
    size_t n = zmq_msg_size (&m) < size - 1 ? zmq_msg_size (&m) : size - 1;
    memcpy (buf, zmq_msg_data (&m), n);
    buf[n] = 0;
    if (len)
        *len = n;
    int more = zmq_msg_more (&m);
    zmq_msg_close (&m);
    return more;
}

//  Answers one ZAP request: every handshake is let through (the ZAP domain
//  is there to refuse old protocol versions), and egress connections are
//  named. Returns -1 when there is no request waiting.
static int
s_zap_one (guard_t *self, void *h)
{
    //  The routing id, then the request proper (ZAP 1.0, RFC 27).
    char frames[ZAP_FRAMES][256];
    size_t lens[ZAP_FRAMES];
    int n = 0, more = 1;
    while (more && n < ZAP_FRAMES) {
        more = s_frame (h, frames[n], sizeof frames[n], &lens[n]);
        if (more < 0)
            return n == 0 ? -1 : 0;
        n++;
    }
    char unused[1];
    while (more == 1)
        more = s_frame (h, unused, sizeof unused, NULL);    //  credentials: none for NULL
    if (n < ZAP_FRAMES || strcmp (frames[2], "1.0") != 0) {
        hlog_warn ("ignored a malformed ZAP request (%d frames)", n);
        return 0;
    }
    const char *domain = frames[4], *addr = frames[5];
    const char *user = "";
    if (strcmp (domain, "egress") == 0) {
        //  The monitor reports the descriptor before ZeroMQ asks us about
        //  its handshake; take its news first.
        guard_on_monitor (self);
        user = peers_identify (self->peers, addr);
        if (!user)
            user = "";
        hlog_debug ("egress handshake from \"%s\": %s", addr, user);
    }
    zmq_send (h, frames[0], lens[0], ZMQ_SNDMORE);
    zmq_send (h, "", 0, ZMQ_SNDMORE);
    zmq_send (h, "1.0", 3, ZMQ_SNDMORE);
    zmq_send (h, frames[3], lens[3], ZMQ_SNDMORE);
    zmq_send (h, "200", 3, ZMQ_SNDMORE);
    zmq_send (h, "OK", 2, ZMQ_SNDMORE);
    zmq_send (h, user, strlen (user), ZMQ_SNDMORE);
    zmq_send (h, "", 0, 0);
    return 0;
}

void
guard_on_zap (guard_t *self)
{
    void *h = zsock_resolve (self->zap);
    for (int i = 0; i < 256 && s_zap_one (self, h) == 0; i++)
        ;
}

//  Ends the connection on fd now. Returns 0, or -1 if fd is not connected.
static int
s_abort (int fd)
{
    struct sockaddr unspec = { .sa_family = AF_UNSPEC };
    if (connect (fd, &unspec, sizeof unspec) == 0)
        return 0;
    return shutdown (fd, SHUT_RDWR);
}

static void
s_kick (guard_t *self, const char *user, peers_verdict_t verdict)
{
    if (strcmp (self->last_kicked, user) == 0)
        return;
    snprintf (self->last_kicked, sizeof self->last_kicked, "%s", user);
    int fds[KICK_FDS];
    size_t n = peers_fds (self->peers, user, fds, KICK_FDS);
    size_t closed = 0;
    char addr[64] = "";
    for (size_t i = 0; i < n && i < KICK_FDS; i++) {
        int port;
        if (s_peer_of (fds[i], addr, sizeof addr, &port) == 0
            && port == peers_port_of (self->peers, fds[i]) && s_abort (fds[i]) == 0)
            closed++;
    }
    self->disconnects++;
    //  A refused peer may reconnect and be refused again at once: one
    //  warning a second is enough to show it in the log.
    int64_t now = zclock_mono ();
    if (now - self->last_warned < 1000) {
        self->unlogged++;
        return;
    }
    hlog_warn ("disconnected egress peer %s%s%s (%zu of %zu connections): %s%s", user,
               *addr ? " from " : "", addr, closed, n, peers_verdict_text (verdict),
               self->unlogged ? " (and more since the last warning)" : "");
    self->last_warned = now;
    self->unlogged = 0;
}

int
guard_on_subscription (guard_t *self, zmq_msg_t *msg, int subscribe, const char *topic,
                       size_t len)
{
    const char *user = zmq_msg_gets (msg, "User-Id");
    if (user && !*user)
        user = NULL;
    //  ZeroMQ's own cancellations at a close come untagged, and may be read
    //  before the monitor's news of the close: take that news first.
    if (!user && !subscribe)
        guard_on_monitor (self);
    int changed = 0;
    peers_verdict_t verdict = peers_subscription (self->peers, user, subscribe, topic, len,
                                                  &changed);
    if (verdict != PEERS_OK && user)
        s_kick (self, user, verdict);
    return changed;
}

int
guard_routed (const guard_t *self, const char *topic, size_t len)
{
    return peers_routed (self->peers, topic, len);
}

const peers_stats_t *
guard_stats (guard_t *self)
{
    return peers_stats (self->peers);
}

uint64_t
guard_disconnects (const guard_t *self)
{
    return self->disconnects;
}
