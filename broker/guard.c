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
#include "curve.h"
#include "log.h"

#include <czmq.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MONITOR_ENDPOINT "inproc://herald-broker-egress-monitor"
#define ZAP_FRAMES 8            //  up to the mechanism; credentials follow
#define KICK_FDS 64             //  descriptors closed at most per refusal
#define HANDSHAKE_MONITORS 4    //  one per socket role at most
#define WARN_MS 1000            //  at most one warning of each kind a second
//  The handshake events the monitors report with CURVE on.
#define HANDSHAKE_EVENTS (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)

//  The two sides of the broker, each with its CURVE allowlist.
enum { SIDE_PUBLISH, SIDE_SUBSCRIBE, SIDES };

typedef struct {
    zsock_t *pair;
    const char *role;           //  static: the broker's role names
} s_hs_monitor_t;

struct guard {
    zsock_t *zap;
    zsock_t *monitor;
    peers_t *peers;
    uint64_t disconnects;
    char last_kicked[32];       //  one refusal is enough to disconnect a peer
    int64_t last_warned;
    uint64_t unlogged;          //  disconnects since the last warning
    //  CURVE: the allowlist directories and CZMQ's stores of them.
    int curve;
    char *dirs[SIDES];
    zcertstore_t *stores[SIDES];
    s_hs_monitor_t hs[HANDSHAKE_MONITORS];
    int hs_n;
    uint64_t denials[GUARD_DENIALS];
    int64_t denial_warned;
    uint64_t denials_unlogged;  //  refusals since the last warning
};

#define S_DENIAL_TEXT(name, key, text) text,
static const char *s_denial_text[] = { GUARD_DENIAL_MAP (S_DENIAL_TEXT) };
#undef S_DENIAL_TEXT

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
    for (int i = 0; i < self->hs_n; i++)
        zsock_destroy (&self->hs[i].pair);
    for (int i = 0; i < SIDES; i++) {
        zcertstore_destroy (&self->stores[i]);
        free (self->dirs[i]);
    }
    zsock_destroy (&self->zap);
    peers_destroy (&self->peers);
    free (self);
    *self_p = NULL;
}

//  How many distinct keys the certificates under dir allow, as CZMQ's
//  store will read them; a secret certificate found there is worth a
//  warning, since an allowlist needs public certificates only.
static size_t
s_count_keys (const char *dir)
{
    zdir_t *d = zdir_new (dir, NULL);
    zfile_t **files = d ? zdir_flatten (d) : NULL;
    zhashx_t *keys = zhashx_new ();
    for (size_t i = 0; files && keys && files[i]; i++) {
        const char *path = zfile_filename (files[i], NULL);
        zcert_t *cert = zcert_load (path);
        if (cert && strcmp (zcert_secret_txt (cert), "0000000000000000000000000000000000000000"))
            hlog_warn ("%s holds a secret key: an allowlist needs only public certificates "
                       "(NAME, not NAME_secret)", path);
        if (cert)
            zhashx_insert (keys, zcert_public_txt (cert), (void *) "");
        zcert_destroy (&cert);
    }
    size_t n = keys ? zhashx_size (keys) : 0;
    zhashx_destroy (&keys);
    zdir_flatten_free (&files);
    zdir_destroy (&d);
    return n;
}

//  Reads both allowlists into new stores, replacing the old ones only if
//  both could be read. Returns 0, or -1 (logged).
static int
s_load_stores (guard_t *self)
{
    static const char *flags[SIDES] = { "--curve-publishers", "--curve-subscribers" };
    zcertstore_t *stores[SIDES] = { NULL, NULL };
    int rc = 0;
    for (int i = 0; i < SIDES && rc == 0; i++) {
        struct stat st;
        int found = stat (self->dirs[i], &st) == 0;
        if (!found || !S_ISDIR (st.st_mode)) {
            hlog_error ("%s %s: %s", flags[i], self->dirs[i],
                        found ? "not a directory" : strerror (errno));
            rc = -1;
        }
        else if (!(stores[i] = zcertstore_new (self->dirs[i])))
            rc = -1;
        else {
            size_t n = s_count_keys (self->dirs[i]);
            hlog (n ? HLOG_INFO : HLOG_WARN, "%s %s: %zu key%s allowed to %s", flags[i],
                  self->dirs[i], n, n == 1 ? "" : "s",
                  i == SIDE_PUBLISH ? "publish" : "subscribe");
        }
    }
    for (int i = 0; i < SIDES; i++) {
        if (rc == 0)
            zcertstore_destroy (&self->stores[i]);
        else
            zcertstore_destroy (&stores[i]);
        if (rc == 0)
            self->stores[i] = stores[i];
    }
    return rc;
}

int
guard_curve (guard_t *self, const char *publishers, const char *subscribers)
{
    self->dirs[SIDE_PUBLISH] = strdup (publishers);
    self->dirs[SIDE_SUBSCRIBE] = strdup (subscribers);
    if (!self->dirs[SIDE_PUBLISH] || !self->dirs[SIDE_SUBSCRIBE] || s_load_stores (self) != 0)
        return -1;
    self->curve = 1;
    return 0;
}

int
guard_reload (guard_t *self)
{
    if (!self->curve) {
        hlog_info ("SIGHUP: no CURVE allowlists to reload (the broker runs without "
                   "--curve-secret)");
        return 0;
    }
    hlog_info ("SIGHUP: reading the CURVE allowlists again");
    if (s_load_stores (self) != 0) {
        hlog_error ("kept the allowlists read before");
        return -1;
    }
    return 0;
}

int
guard_watch (guard_t *self, void *egress)
{
    int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED
                 | (self->curve ? HANDSHAKE_EVENTS : 0);
    if (zmq_socket_monitor (egress, MONITOR_ENDPOINT, events) != 0
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

//  Reads one event from a monitor without waiting: its number, and its
//  value (a descriptor, or a protocol error code). Returns 0, or -1 if none
//  is waiting.
static int
s_monitor_event (void *h, uint16_t *id, uint32_t *value)
{
    zmq_msg_t event, endpoint;
    zmq_msg_init (&event);
    if (zmq_msg_recv (&event, h, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&event);
        return -1;
    }
    //  Two frames: 16-bit event and 32-bit value, then the endpoint.
    *id = 0;
    *value = 0;
    if (zmq_msg_size (&event) == 6) {
        memcpy (id, zmq_msg_data (&event), 2);
        memcpy (value, (char *) zmq_msg_data (&event) + 2, 4);
    }
    int more = zmq_msg_more (&event);
    zmq_msg_close (&event);
    if (more) {
        zmq_msg_init (&endpoint);
        zmq_msg_recv (&endpoint, h, 0);
        zmq_msg_close (&endpoint);
    }
    return 0;
}

//  Counts a refused handshake and logs it, at most once every WARN_MS: a
//  client refused reconnects and is refused again within a second, and a
//  flood of them must not become a flood of log lines.
static void
s_denied (guard_t *self, guard_denial_t why, const char *role, const char *addr,
          const char *key)
{
    self->denials[why]++;
    int64_t now = zclock_mono ();
    if (now - self->denial_warned < WARN_MS) {
        self->denials_unlogged++;
        return;
    }
    hlog_warn ("refused a handshake on the %s socket%s%s: %s%s%s%s", role,
               addr ? " from " : "", addr ? addr : "", s_denial_text[why],
               key ? " (public key " : "", key ? key : "", key ? ")" : "");
    if (self->denials_unlogged)
        hlog_warn ("(and %llu more handshakes refused since the last warning; "
                   "`herald stats` counts them all)",
                   (unsigned long long) self->denials_unlogged);
    self->denial_warned = now;
    self->denials_unlogged = 0;
}

//  A handshake that failed before the ZAP handler was asked: a plaintext
//  peer meeting a CURVE server, a CURVE one that cannot be decrypted (it
//  was given another server key), or one the client broke off (a
//  plaintext client that saw the mismatch first and hung up).
static void
s_handshake_failed (guard_t *self, const char *role, uint16_t event, uint32_t error)
{
    guard_denial_t why = event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ? GUARD_DENIED_ABANDONED
                         : error == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                         ? GUARD_DENIED_PLAINTEXT : GUARD_DENIED_HANDSHAKE;
    s_denied (self, why, role, NULL, NULL);
}

void
guard_on_monitor (guard_t *self)
{
    void *h = zsock_resolve (self->monitor);
    uint16_t id;
    uint32_t value;
    while (s_monitor_event (h, &id, &value) == 0) {
        char addr[64];
        int port;
        if (id == ZMQ_EVENT_ACCEPTED && s_peer_of ((int) value, addr, sizeof addr, &port) == 0) {
            hlog_debug ("egress accepted descriptor %u from \"%s\" port %d", value, addr, port);
            peers_accepted (self->peers, (int) value, addr, port);
        }
        else if (id == ZMQ_EVENT_DISCONNECTED)
            peers_disconnected (self->peers, (int) value);
        else if (id & HANDSHAKE_EVENTS)
            s_handshake_failed (self, "egress", id, value);
    }
}

int
guard_watch_handshakes (guard_t *self, void *socket, const char *role)
{
    if (self->hs_n == HANDSHAKE_MONITORS)
        return -1;
    s_hs_monitor_t *m = &self->hs[self->hs_n];
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://herald-broker-%s-handshakes", role);
    if (zmq_socket_monitor (socket, endpoint, HANDSHAKE_EVENTS) != 0
        || !(m->pair = zsock_new (ZMQ_PAIR)) || zsock_connect (m->pair, "%s", endpoint) != 0) {
        hlog_error ("cannot monitor the %s socket: %s", role, zmq_strerror (zmq_errno ()));
        zsock_destroy (&m->pair);
        return -1;
    }
    m->role = role;
    self->hs_n++;
    return 0;
}

int
guard_handshake_monitors (const guard_t *self)
{
    return self->hs_n;
}

void *
guard_handshake_socket (guard_t *self, int i)
{
    return zsock_resolve (self->hs[i].pair);
}

void
guard_on_handshakes (guard_t *self, int i)
{
    uint16_t id;
    uint32_t value;
    while (s_monitor_event (zsock_resolve (self->hs[i].pair), &id, &value) == 0)
        if (id & HANDSHAKE_EVENTS)
            s_handshake_failed (self, self->hs[i].role, id, value);
}

const uint64_t *
guard_denials (const guard_t *self)
{
    return self->denials;
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

//  The side a socket role belongs to, whose allowlist its clients need.
static int
s_side (const char *role)
{
    return strcmp (role, "ingress") == 0 || strcmp (role, "xsub") == 0 ? SIDE_PUBLISH
                                                                        : SIDE_SUBSCRIBE;
}

//  Whether a CURVE client may use a socket of the role's side; counts and
//  logs a refusal. key is the client's public key as the ZAP request
//  carries it: 32 bytes, or whatever else the request held.
static int
s_curve_allows (guard_t *self, const char *role, const char *addr, const char *mechanism,
                const unsigned char *key, size_t key_len)
{
    if (strcmp (mechanism, "CURVE") != 0 || key_len != 32) {
        s_denied (self, GUARD_DENIED_PLAINTEXT, role, addr, NULL);
        return 0;
    }
    char z85[CURVE_KEY_TEXT];
    zmq_z85_encode (z85, key, 32);
    int side = s_side (role);
    if (zcertstore_lookup (self->stores[side], z85))
        return 1;
    s_denied (self, zcertstore_lookup (self->stores[1 - side], z85)
              ? GUARD_DENIED_WRONG_SIDE : GUARD_DENIED_UNKNOWN_KEY, role, addr, z85);
    return 0;
}

static void
s_zap_reply (void *h, const char *routing, size_t routing_len, const char *request,
             size_t request_len, int ok, const char *user)
{
    zmq_send (h, routing, routing_len, ZMQ_SNDMORE);
    zmq_send (h, "", 0, ZMQ_SNDMORE);
    zmq_send (h, "1.0", 3, ZMQ_SNDMORE);
    zmq_send (h, request, request_len, ZMQ_SNDMORE);
    zmq_send (h, ok ? "200" : "400", 3, ZMQ_SNDMORE);
    zmq_send (h, ok ? "OK" : "not allowed", ok ? 2 : 11, ZMQ_SNDMORE);
    zmq_send (h, user, strlen (user), ZMQ_SNDMORE);
    zmq_send (h, "", 0, 0);
}

//  Answers one ZAP request. Without CURVE every handshake is let through
//  (the ZAP domain is there to refuse old protocol versions); with it, only
//  a key the role's side allows. Egress connections are named. Returns -1
//  when there is no request waiting.
static int
s_zap_one (guard_t *self, void *h)
{
    //  The routing id, then the request proper (ZAP 1.0, RFC 27), then the
    //  mechanism's credentials: for CURVE, the client's public key.
    char frames[ZAP_FRAMES][256];
    size_t lens[ZAP_FRAMES];
    char credentials[64] = "";
    size_t credentials_len = 0;
    int n = 0, more = 1;
    while (more && n < ZAP_FRAMES) {
        more = s_frame (h, frames[n], sizeof frames[n], &lens[n]);
        if (more < 0)
            return n == 0 ? -1 : 0;
        n++;
    }
    if (more == 1)
        more = s_frame (h, credentials, sizeof credentials, &credentials_len);
    char unused[1];
    while (more == 1)
        more = s_frame (h, unused, sizeof unused, NULL);
    if (n < ZAP_FRAMES || strcmp (frames[2], "1.0") != 0) {
        hlog_warn ("ignored a malformed ZAP request (%d frames)", n);
        return 0;
    }
    const char *domain = frames[4], *addr = frames[5], *mechanism = frames[7];
    const char *user = "";
    if (strcmp (domain, "egress") == 0) {
        //  The monitor reports the descriptor before ZeroMQ asks us about
        //  its handshake; take its news first. A connection about to be
        //  refused is named too, so that the books pair every descriptor.
        guard_on_monitor (self);
        user = peers_identify (self->peers, addr);
        if (!user)
            user = "";
        hlog_debug ("egress handshake from \"%s\": %s", addr, user);
    }
    int ok = !self->curve
             || s_curve_allows (self, domain, addr, mechanism, (unsigned char *) credentials,
                                credentials_len);
    s_zap_reply (h, frames[0], lens[0], frames[3], lens[3], ok, ok ? user : "");
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
