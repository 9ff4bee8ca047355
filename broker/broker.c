/*  broker.c: the herald-broker forwarding loop. See broker.h.
 *
 *  One thread polls every socket. Each readable ingress is drained in
 *  batches, every message is checked against the wire format (frame
 *  count, topic) and sent on to the egress.
 *
 *  Drops are counted, not guessed: the egress runs with ZMQ_XPUB_NODROP,
 *  so a send that would overflow some subscriber's queue fails with
 *  EAGAIN instead of vanishing. The broker then counts the drop and sends
 *  the message again in lossy mode, which delivers it to every subscriber
 *  that has room. A slow subscriber therefore never stalls the others.
 *
 *  Publishers' confirmation markers ("$herald/ack/<token>") are forwarded
 *  like events, from the ingress to whoever subscribed: the publisher
 *  that sent them, which learns that everything it sent before reached
 *  this broker and was forwarded (docs/wire.md). No other reserved topic
 *  is taken from a publisher.
 *
 *  Subscriptions to "$herald/sync/<token>" are answered with one message
 *  on that topic (unless an upstream broker is configured, which answers
 *  instead), which lets a subscriber know its subscriptions are in place.
 *
 *  The egress reports every subscription and cancellation (verbose mode),
 *  each tagged with its sender, to guard.c, which keeps them within the
 *  limits. Those it keeps, and their cancellations, are passed on to the
 *  XSUB side, whose own count sends upstream only the first subscription
 *  of a topic and its last cancellation.
 *
 *  After a restart the broker holds publishers' messages for --hold-ms
 *  before it reads them, so that the subscribers that reconnect with them
 *  are subscribed again first: a message forwarded before then would match
 *  no one and be lost.
 */
#include "broker.h"
#include "curve.h"
#include "guard.h"
#include "history.h"
#include "log.h"
#include "wire.h"

#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define BATCH 512               //  messages per socket per poll round

//  The largest frame the egress reads. Subscribers send only subscriptions
//  (a flag byte and a topic of at most WIRE_TOPIC_MAX bytes, or ZMTP 3.1's
//  SUBSCRIBE command, 10 bytes longer) and handshake commands, which the
//  margin covers, CURVE's included. ZeroMQ drops a peer that sends a larger
//  frame before storing any of it.
#define EGRESS_FRAME_MAX 1024
//  Subscriptions queued from one egress connection before ZeroMQ stops
//  reading it, and the kernel's receive buffer behind them. (Only
//  subscriptions travel in that direction.) ZeroMQ's XPUB stores every
//  subscription it takes off that queue, in bursts that last as long as the
//  queue stays full, before the broker has seen them: with a long queue a
//  flooding peer got 2M subscriptions stored while the broker had read its
//  first 100k. A short one keeps ZeroMQ within a few hundred of what the
//  broker has checked, at a cost of about a third more time to take a
//  legitimate peer's 90k subscriptions.
#define EGRESS_RCVHWM 10
#define EGRESS_RCVBUF 65536

struct broker {
    broker_config_t config;
    zsock_t *ingress;
    zsock_t *xsub;
    zsock_t *egress;
    zsock_t *stats;
    void *ingress_h;            //  raw libzmq handles, for the hot path
    void *xsub_h;
    void *egress_h;
    guard_t *guard;
    history_t *history;
    history_event_t *batch;     //  an answer's events, history_batch of them
    zcert_t *cert;              //  the broker's key pair, with CURVE on
    int64_t started;
    broker_counters_t counters;
};

void
broker_block_signals (void)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGUSR1);
    sigaddset (&set, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &set, NULL);
}

//  Binds a socket to each endpoint of a comma-separated list, logging the
//  address actually bound (useful when the port was given as '*').
static int
s_bind_all (zsock_t *sock, const char *role, const char *endpoints)
{
    char *list = strdup (endpoints);
    int rc = list ? 0 : -1;
    char *save = NULL;
    for (char *ep = list ? strtok_r (list, ",", &save) : NULL; ep && rc == 0;
         ep = strtok_r (NULL, ",", &save)) {
        while (*ep == ' ')
            ep++;
        if (zsock_bind (sock, "%s", ep) < 0) {
            hlog_error ("cannot bind %s to %s: %s", role, ep, zmq_strerror (zmq_errno ()));
            rc = -1;
        }
        else
            hlog_info ("%s listening on %s", role, zsock_endpoint (sock));
    }
    free (list);
    return rc;
}

//  A socket with the options every broker socket has. Its ZAP domain (the
//  role's name) makes ZeroMQ refuse peers older than ZMTP 3.0, and with
//  CURVE tells the ZAP handler which allowlist applies. The egress's
//  refused handshakes are watched by its own monitor (guard_watch).
static zsock_t *
s_socket (broker_t *self, int type, const char *role)
{
    const broker_config_t *cfg = &self->config;
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        hlog_error ("cannot create the %s socket: %s", role, zmq_strerror (zmq_errno ()));
        return NULL;
    }
    zsock_set_zap_domain (sock, role);
    if (self->cert && (curve_apply (zsock_resolve (sock), NULL, self->cert) != 0
                       || (strcmp (role, "egress") != 0
                           && guard_watch_handshakes (self->guard, zsock_resolve (sock),
                                                      role) != 0))) {
        hlog_error ("cannot make the %s socket a CURVE server: %s", role,
                    zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        return NULL;
    }
    zsock_set_maxmsgsize (sock, (int) cfg->max_payload);
    zsock_set_heartbeat_ivl (sock, 5000);
    zsock_set_heartbeat_timeout (sock, 15000);
    zsock_set_rcvhwm (sock, cfg->ingress_hwm);
    zsock_set_sndhwm (sock, cfg->egress_hwm);
    return sock;
}

static zsock_t *
s_socket_bound (broker_t *self, int type, const char *role, const char *endpoints)
{
    zsock_t *sock = s_socket (self, type, role);
    if (sock && endpoints && *endpoints && s_bind_all (sock, role, endpoints) != 0)
        zsock_destroy (&sock);
    return sock;
}

//  With --curve-secret: checks that this libzmq has CURVE, loads the
//  broker's key pair and the allowlists. Returns 0, or -1 (logged).
static int
s_curve_start (broker_t *self)
{
    const broker_config_t *cfg = &self->config;
    char err[512];
    if (!cfg->curve_secret)
        return 0;
    if (!zsys_has_curve ()) {
        hlog_error ("--curve-secret: this libzmq was built without CURVE (zsys_has_curve() "
                    "is false); install a libzmq built with libsodium, or run without CURVE");
        return -1;
    }
    self->cert = curve_secret_cert (cfg->curve_secret, err, sizeof err);
    if (!self->cert) {
        hlog_error ("--curve-secret: %s", err);
        return -1;
    }
    if (guard_curve (self->guard, cfg->curve_publishers, cfg->curve_subscribers) != 0)
        return -1;
    hlog_info ("CURVE on every endpoint, as server key %s", zcert_public_txt (self->cert));
    return 0;
}

//  Connects the XSUB to the upstream broker's egress, as a CURVE client if
//  --upstream-curve-server is given. The socket's binds were made as a
//  CURVE server (or plaintext); ZeroMQ takes a socket's security options
//  when it binds or connects, so changing them now affects this connection
//  only, its reconnections included. Returns 0, or -1 (logged).
static int
s_upstream_connect (broker_t *self)
{
    const broker_config_t *cfg = &self->config;
    void *h = zsock_resolve (self->xsub);
    char err[512], key[CURVE_KEY_TEXT];
    int rc = 0;
    zcert_t *cert = NULL;
    if (cfg->upstream_curve_server) {
        const char *path = cfg->upstream_curve_cert ? cfg->upstream_curve_cert
                                                    : cfg->curve_secret;
        if (!zsys_has_curve ()) {
            hlog_error ("--upstream-curve-server: this libzmq was built without CURVE");
            return -1;
        }
        if (curve_public_key (cfg->upstream_curve_server, key, err, sizeof err) != 0) {
            hlog_error ("--upstream-curve-server: %s", err);
            return -1;
        }
        if (!(cert = curve_secret_cert (path, err, sizeof err))) {
            hlog_error ("%s: %s", cfg->upstream_curve_cert ? "--upstream-curve-cert"
                                                           : "--curve-secret", err);
            return -1;
        }
        rc = curve_apply (h, key, cert);
    }
    else if (self->cert)
        rc = curve_clear (h);
    if (rc == 0)
        rc = zsock_connect (self->xsub, "%s", cfg->upstream);
    if (rc != 0)
        hlog_error ("cannot connect to upstream %s: %s", cfg->upstream,
                    zmq_strerror (zmq_errno ()));
    else
        hlog_info ("relaying from upstream broker %s%s%s", cfg->upstream,
                   cert ? ", over CURVE as key " : "", cert ? zcert_public_txt (cert) : "");
    zcert_destroy (&cert);
    return rc;
}

//  The topics' numbering, with epochs drawn at random at each start.
//  Returns 0, or -1 (logged).
static int
s_history_start (broker_t *self)
{
    const broker_config_t *cfg = &self->config;
    history_config_t hc = { cfg->history_topics, cfg->history_size,
                            (int64_t) cfg->history_ttl * 1000, cfg->history_bytes,
                            cfg->history_max_topics };
    uint64_t seed;
    char why[256];
    if (getrandom (&seed, sizeof seed, 0) != (ssize_t) sizeof seed) {
        hlog_error ("getrandom: %s", strerror (errno));
        return -1;
    }
    if (!(self->history = history_new (&hc, seed, why, sizeof why))) {
        hlog_error ("--history-topics: %s", why);
        return -1;
    }
    if (!(self->batch = calloc (cfg->history_batch, sizeof *self->batch))) {
        hlog_error ("out of memory");
        return -1;
    }
    return 0;
}

broker_t *
broker_new (const broker_config_t *config)
{
    broker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    self->started = zclock_mono ();
    const broker_config_t *cfg = &self->config;

    if (s_history_start (self) != 0)
        goto fail;
    //  The ZAP handler first, so that no handshake happens without it.
    peers_limits_t limits = { cfg->max_peer_subscriptions, cfg->max_subscriptions };
    self->guard = guard_new (&limits);
    if (!self->guard || s_curve_start (self) != 0)
        goto fail;
    self->egress = s_socket (self, ZMQ_XPUB, "egress");
    if (!self->egress)
        goto fail;
    zsock_set_xpub_nodrop (self->egress, 1);
    zsock_set_xpub_verboser (self->egress, 1);
    zsock_set_maxmsgsize (self->egress, EGRESS_FRAME_MAX);
    zsock_set_rcvhwm (self->egress, EGRESS_RCVHWM);
    zsock_set_rcvbuf (self->egress, EGRESS_RCVBUF);
    zsock_set_linger (self->egress, cfg->drain_ms);
    self->egress_h = zsock_resolve (self->egress);
    if (guard_watch (self->guard, self->egress_h) != 0
        || s_bind_all (self->egress, "egress", cfg->egress) != 0)
        goto fail;

    if (*cfg->ingress) {
        self->ingress = s_socket_bound (self, ZMQ_PULL, "ingress", cfg->ingress);
        if (!self->ingress)
            goto fail;
        self->ingress_h = zsock_resolve (self->ingress);
    }
    if (*cfg->xsub || *cfg->upstream) {
        self->xsub = s_socket_bound (self, ZMQ_XSUB, "xsub", cfg->xsub);
        if (!self->xsub)
            goto fail;
        self->xsub_h = zsock_resolve (self->xsub);
        if (*cfg->upstream && s_upstream_connect (self) != 0)
            goto fail;
    }
    if (*cfg->stats) {
        self->stats = s_socket_bound (self, ZMQ_ROUTER, "stats", cfg->stats);
        if (!self->stats)
            goto fail;
        zsock_set_maxmsgsize (self->stats, 4096);
    }
    return self;
fail:
    broker_destroy (&self);
    return NULL;
}

void
broker_destroy (broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_t *self = *self_p;
    zsock_destroy (&self->stats);
    zsock_destroy (&self->ingress);
    zsock_destroy (&self->xsub);
    zsock_destroy (&self->egress);
    guard_destroy (&self->guard);
    history_destroy (&self->history);
    free (self->batch);
    zcert_destroy (&self->cert);
    free (self);
    *self_p = NULL;
}

const broker_counters_t *
broker_counters (broker_t *self)
{
    const peers_stats_t *ps = guard_stats (self->guard);
    self->counters.subscriptions = ps->topics;
    self->counters.subscriptions_refused = ps->refused;
    self->counters.peers = ps->peers;
    self->counters.peers_disconnected = guard_disconnects (self->guard);
    return &self->counters;
}

//  Sends a complete message on the egress, counting a drop if some
//  subscriber's queue could not take it. The caller closes the frames
//  after (those sent are empty by then).
static void
s_egress_send (broker_t *self, zmq_msg_t *frames, int n)
{
    for (int i = 0; i < n; i++) {
        int flags = ZMQ_DONTWAIT | (i < n - 1 ? ZMQ_SNDMORE : 0);
        int rc = zmq_msg_send (&frames[i], self->egress_h, flags);
        if (rc < 0 && i == 0 && zmq_errno () == EAGAIN) {
            //  Some matching subscriber is full: deliver to the others.
            self->counters.dropped++;
            zsock_set_xpub_nodrop (self->egress, 0);
            rc = zmq_msg_send (&frames[i], self->egress_h, flags);
            zsock_set_xpub_nodrop (self->egress, 1);
        }
        if (rc < 0) {
            //  Only the first frame can be refused; ZeroMQ queues the rest
            //  of a message once its first frame is in. Log anything else.
            hlog_warn ("egress send failed: %s", zmq_strerror (zmq_errno ()));
            return;
        }
    }
    self->counters.forwarded++;
}

//  Numbers an event (docs/wire.md, "Offsets and epochs"): its metadata
//  frame becomes its topic's epoch and next offset, whatever the
//  publisher put there. An event relayed from the upstream broker keeps
//  the numbering its first broker gave it, and is kept under it.
static void
s_stamp (broker_t *self, zmq_msg_t *frames, int *n, int relayed, int64_t now)
{
    uint64_t epoch, offset;
    if (relayed && *n == 3
        && wire_stamp_decode (zmq_msg_data (&frames[2]), zmq_msg_size (&frames[2]), &epoch,
                              &offset) == 0) {
        //  Kept here too, so that this broker's SINCE answers for it.
        if (history_mirror (self->history, zmq_msg_data (&frames[0]), zmq_msg_size (&frames[0]),
                            epoch, offset, zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]),
                            now) != 0)
            self->counters.unnumbered++;
        return;
    }
    if (*n == 3) {
        zmq_msg_close (&frames[2]);
        zmq_msg_init (&frames[2]);
        *n = 2;
    }
    if (history_stamp (self->history, zmq_msg_data (&frames[0]), zmq_msg_size (&frames[0]),
                       zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]), now, &epoch,
                       &offset) != 0) {
        //  Out of memory: forwarded unnumbered, which subscribers see.
        self->counters.unnumbered++;
        return;
    }
    if (zmq_msg_init_size (&frames[2], WIRE_STAMP_SIZE) != 0) {
        //  (The offset is spent: subscribers see a gap, which the history
        //  fills.)
        zmq_msg_init (&frames[2]);
        self->counters.unnumbered++;
        return;
    }
    wire_stamp_encode (epoch, offset, zmq_msg_data (&frames[2]));
    *n = 3;
}

//  Reads up to BATCH messages from an ingress socket and forwards the
//  well-formed ones. Returns how many it read, or -1 on a fatal error.
static int
s_pump (broker_t *self, void *from, uint64_t *received, int trusted_reserved)
{
    //  One clock reading per batch: the history's ages need no finer.
    int64_t now = zclock_mono ();
    for (int m = 0; m < BATCH; m++) {
        zmq_msg_t frames[WIRE_FRAMES_MAX];
        int n;
        if (wire_recv (from, frames, &n) != 0) {
            for (int k = 0; k < WIRE_FRAMES_MAX; k++)
                zmq_msg_close (&frames[k]);
            if (zmq_errno () == EAGAIN || zmq_errno () == EINTR)
                return m;
            hlog_error ("ingress receive failed: %s", zmq_strerror (zmq_errno ()));
            return -1;
        }
        (*received)++;
        //  A publisher's confirmation markers are the one reserved topic it
        //  may send: forwarded like its events, they come back to it.
        int ack = n >= 1 && wire_topic_ack (zmq_msg_data (&frames[0]),
                                            zmq_msg_size (&frames[0]));
        wire_err_t werr = wire_frames_check (frames, n, trusted_reserved || ack);
        if (werr == WIRE_OK && ack)
            self->counters.acks++;
        if (werr != WIRE_OK) {
            self->counters.malformed++;
            hlog_debug ("refused a message: %s", wire_strerror (werr));
        }
        else {
            if (!ack)
                s_stamp (self, frames, &n, trusted_reserved, now);
            if (!guard_routed (self->guard, zmq_msg_data (&frames[0]),
                               zmq_msg_size (&frames[0])))
                self->counters.unrouted++;
            s_egress_send (self, frames, n);
        }
        //  What was sent is empty now; closing it is a no-op.
        for (int k = 0; k < WIRE_FRAMES_MAX; k++)
            zmq_msg_close (&frames[k]);
    }
    return BATCH;
}

//  Answers a confirmation token as the last broker on its path: the
//  token's topic comes back on the egress with a nil payload.
static void
s_answer_sync (broker_t *self, const char *topic, size_t tlen)
{
    zmq_msg_t frames[2];
    const unsigned char nil = WIRE_MSGPACK_NIL;
    zmq_msg_init_size (&frames[0], tlen);
    memcpy (zmq_msg_data (&frames[0]), topic, tlen);
    zmq_msg_init_size (&frames[1], 1);
    memcpy (zmq_msg_data (&frames[1]), &nil, 1);
    s_egress_send (self, frames, 2);
    zmq_msg_close (&frames[0]);
    zmq_msg_close (&frames[1]);
    self->counters.sync_answered++;
}

//  Handles one subscription or cancellation (a 1 or 0 byte, then the
//  topic): books it, passes it upstream, and answers a confirmation token.
static void
s_egress_subscription (broker_t *self, zmq_msg_t *msg)
{
    const unsigned char *data = zmq_msg_data (msg);
    size_t size = zmq_msg_size (msg);
    const char *topic = (const char *) data + 1;
    size_t tlen = size - 1;
    int subscribe = data[0] == 1;
    int is_sync = tlen > sizeof WIRE_SYNC_PREFIX - 1
                  && memcmp (topic, WIRE_SYNC_PREFIX, sizeof WIRE_SYNC_PREFIX - 1) == 0;
    int kept = guard_on_subscription (self->guard, msg, subscribe, topic, tlen);
    if (!is_sync)
        hlog_debug ("%s %.*s%s", subscribe ? "subscribe" : "unsubscribe",
                    (int) (tlen < 300 ? tlen : 300), topic,
                    kept ? "" : " (refused or repeated)");
    if (kept && self->xsub_h)
        zmq_send (self->xsub_h, data, size, ZMQ_DONTWAIT);
    if (kept && is_sync && subscribe && !*self->config.upstream
        && wire_topic_check (topic, tlen) == WIRE_OK)
        s_answer_sync (self, topic, tlen);
}

//  Reads and drops the rest of a multipart message. Returns how many
//  frames it read.
static int
s_discard_more (void *h)
{
    int more = 1, frames = 0;
    while (more) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, h, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            break;
        }
        more = zmq_msg_more (&msg);
        zmq_msg_close (&msg);
        frames++;
    }
    return frames;
}

//  Handles subscription messages arriving on the egress: counts topics,
//  passes them upstream, and answers confirmation tokens.
static void
s_egress_read (broker_t *self)
{
    //  ZeroMQ moves subscriptions from a peer's queue into an unbounded one
    //  of its own as soon as it sees them: read them at least as fast.
    for (int m = 0; m < 16 * BATCH; m++) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->egress_h, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            return;
        }
        int more = zmq_msg_more (&msg);
        const unsigned char *data = zmq_msg_data (&msg);
        size_t size = zmq_msg_size (&msg);
        if (!more && size >= 1 && (data[0] == 0 || data[0] == 1))
            s_egress_subscription (self, &msg);
        else
            self->counters.malformed++;
        zmq_msg_close (&msg);
        //  Drop the rest of any multipart message a raw peer sent.
        if (more)
            s_discard_more (self->egress_h);
    }
}

#define S_DENIAL_KEY(name, key, text) key,
#define S_JSON_MAX 4096

//  The counters as one JSON object in buf. Returns its length.
static int
s_counters_json (broker_t *self, char *buf, size_t size)
{
    const broker_counters_t *c = broker_counters (self);
    int n = snprintf (buf, size,
                     "{\"version\":\"%s\",\"uptime_seconds\":%lld,"
                     "\"messages_in\":%llu,\"messages_in_push\":%llu,"
                     "\"messages_in_pub\":%llu,\"messages_forwarded\":%llu,"
                     "\"messages_dropped\":%llu,\"messages_malformed\":%llu,"
                     "\"messages_unrouted\":%llu,"
                     "\"subscriptions\":%llu,\"subscriptions_refused\":%llu,"
                     "\"egress_peers\":%llu,\"egress_peers_disconnected\":%llu,"
                     "\"sync_answered\":%llu,\"acks_forwarded\":%llu",
                     HERALD_BROKER_VERSION,
                     (long long) ((zclock_mono () - self->started) / 1000),
                     (unsigned long long) (c->in_push + c->in_pub),
                     (unsigned long long) c->in_push, (unsigned long long) c->in_pub,
                     (unsigned long long) c->forwarded, (unsigned long long) c->dropped,
                     (unsigned long long) c->malformed, (unsigned long long) c->unrouted,
                     (unsigned long long) c->subscriptions,
                     (unsigned long long) c->subscriptions_refused,
                     (unsigned long long) c->peers,
                     (unsigned long long) c->peers_disconnected,
                     (unsigned long long) c->sync_answered,
                     (unsigned long long) c->acks);
    //  Refused handshakes, one key per reason (guard.h's list).
    const uint64_t *denied = guard_denials (self->guard);
    static const char *keys[] = { GUARD_DENIAL_MAP (S_DENIAL_KEY) };
    history_stats_t h;
    history_stats (self->history, &h);
    n += snprintf (buf + n, size - (size_t) n,
                   ",\"messages_unnumbered\":%llu,\"history_topics\":%llu,"
                   "\"history_topics_kept\":%llu,\"history_events\":%llu,"
                   "\"history_bytes\":%llu,\"history_trimmed\":%llu,"
                   "\"history_topics_forgotten\":%llu,\"history_replays\":%llu,"
                   "\"history_replayed\":%llu,\"history_gone\":%llu,"
                   "\"history_requests_malformed\":%llu",
                   (unsigned long long) c->unnumbered, (unsigned long long) h.topics,
                   (unsigned long long) h.topics_kept, (unsigned long long) h.events,
                   (unsigned long long) h.bytes, (unsigned long long) h.trimmed,
                   (unsigned long long) h.forgotten, (unsigned long long) h.replays,
                   (unsigned long long) h.replayed, (unsigned long long) h.gone,
                   (unsigned long long) c->history_requests_malformed);
    n += snprintf (buf + n, size - (size_t) n, ",\"curve\":%s", self->cert ? "true" : "false");
    for (int i = 0; i < GUARD_DENIALS && (size_t) n < size; i++)
        n += snprintf (buf + n, size - (size_t) n, ",\"%s\":%llu", keys[i],
                       (unsigned long long) denied[i]);
    if ((size_t) n < size)
        n += snprintf (buf + n, size - (size_t) n, "}");
    return n < (int) size ? n : (int) size - 1;
}

static void
s_log_counters (broker_t *self)
{
    char json[S_JSON_MAX];
    s_counters_json (self, json, sizeof json);
    hlog_info ("counters %s", json);
}

//  History requests, on the stats socket (docs/wire.md, "Offsets and
//  epochs"): a REQ sends ["SINCE", topic, epoch as 16 hex digits, offset
//  in decimal] and gets ["OK", epoch, last offset, payload...] (the events
//  after offset, consecutive), ["GONE", epoch, last offset] or ["ERROR",
//  why]. The epoch and last offset are the topic's now.
#define S_HISTORY_FRAMES 6      //  identity, empty, and the four above

static void
s_history_reply (broker_t *self, zmq_msg_t *id, const char *status, uint64_t epoch,
                 uint64_t last, const history_event_t *events, size_t n, const char *why)
{
    void *h = zsock_resolve (self->stats);
    char e[17], o[21];
    snprintf (e, sizeof e, "%016llx", (unsigned long long) epoch);
    snprintf (o, sizeof o, "%llu", (unsigned long long) last);
    //  A peer gone meanwhile, or one whose queue is full, loses its answer;
    //  the REQ asks again after its own timeout.
    zmq_msg_send (id, h, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (h, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (why) {
        zmq_send (h, status, strlen (status), ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send (h, why, strlen (why), ZMQ_DONTWAIT);
        return;
    }
    zmq_send (h, status, strlen (status), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (h, e, 16, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (h, o, strlen (o), (n ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    for (size_t i = 0; i < n; i++)
        zmq_send (h, events[i].payload, events[i].len,
                  (i + 1 < n ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
}

//  Answers one request, whose frames f[0..n) the REQ envelope opens.
static void
s_history_answer (broker_t *self, zmq_msg_t *f, int n)
{
    const broker_config_t *cfg = &self->config;
    uint64_t epoch, offset;
    const void *data[4];
    size_t len[4];
    for (int i = 0; i < 4; i++) {
        data[i] = zmq_msg_data (&f[2 + i]);
        len[i] = zmq_msg_size (&f[2 + i]);
    }
    const char *why = zmq_msg_size (&f[1]) != 0
                          ? "expected [\"SINCE\", topic, epoch, offset]"
                          : wire_since_parse (data, len, n - 2, &epoch, &offset);
    if (why) {
        self->counters.history_requests_malformed++;
        if (n >= 2 && zmq_msg_size (&f[1]) == 0)
            s_history_reply (self, &f[0], "ERROR", 0, 0, NULL, 0, why);
        return;
    }
    size_t got;
    uint64_t cur_epoch, cur_last;
    history_answer_t a = history_since (self->history, data[1], len[1], epoch, offset,
                                        zclock_mono (), self->batch, cfg->history_batch,
                                        cfg->history_batch_bytes, &got, &cur_epoch, &cur_last);
    s_history_reply (self, &f[0], a == HISTORY_OK ? "OK" : "GONE", cur_epoch, cur_last,
                     self->batch, got, NULL);
}

//  Answers the requests on the stats socket, on the requester's envelope:
//  SINCE as above, anything else with the counters as JSON. A request
//  that is not a well-formed REQ envelope is ignored.
static void
s_stats_read (broker_t *self)
{
    void *h = zsock_resolve (self->stats);
    for (int m = 0; m < 64; m++) {
        zmq_msg_t f[S_HISTORY_FRAMES];
        int n = 0, more = 1;
        for (int i = 0; i < S_HISTORY_FRAMES; i++)
            zmq_msg_init (&f[i]);
        while (more && n < S_HISTORY_FRAMES) {
            if (zmq_msg_recv (&f[n], h, ZMQ_DONTWAIT) < 0)
                break;
            more = zmq_msg_more (&f[n]);
            n++;
        }
        if (more && n == S_HISTORY_FRAMES)
            n += s_discard_more (h);
        int since = n >= 3 && zmq_msg_size (&f[2]) == 5
                    && memcmp (zmq_msg_data (&f[2]), "SINCE", 5) == 0;
        if (since)
            s_history_answer (self, f, n);
        else if (n >= 3) {
            char json[S_JSON_MAX];
            int len = s_counters_json (self, json, sizeof json);
            zmq_msg_send (&f[0], h, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send (h, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send (h, json, (size_t) len, ZMQ_DONTWAIT);
        }
        for (int i = 0; i < S_HISTORY_FRAMES; i++)
            zmq_msg_close (&f[i]);
        if (n == 0)
            return;
    }
}

//  The sockets broker_run polls; absent ones keep index -1.
typedef struct {
    zmq_pollitem_t items[12];
    int n;
    int signal, egress, ingress, xsub, stats, zap, monitor;
    int handshakes, handshakes_n;   //  the first handshake monitor, and how many
} s_poll_t;

static int
s_poll_add (s_poll_t *p, void *socket, int fd)
{
    p->items[p->n] = (zmq_pollitem_t) { socket, fd, ZMQ_POLLIN, 0 };
    return p->n++;
}

static void
s_poll_init (broker_t *self, s_poll_t *p, int sfd)
{
    memset (p, 0, sizeof *p);
    p->ingress = p->xsub = p->stats = -1;
    p->signal = s_poll_add (p, NULL, sfd);
    p->zap = s_poll_add (p, guard_zap_socket (self->guard), 0);
    p->monitor = s_poll_add (p, guard_monitor_socket (self->guard), 0);
    p->egress = s_poll_add (p, self->egress_h, 0);
    if (self->ingress_h)
        p->ingress = s_poll_add (p, self->ingress_h, 0);
    if (self->xsub_h)
        p->xsub = s_poll_add (p, self->xsub_h, 0);
    if (self->stats)
        p->stats = s_poll_add (p, zsock_resolve (self->stats), 0);
    p->handshakes = p->n;
    p->handshakes_n = guard_handshake_monitors (self->guard);
    for (int i = 0; i < p->handshakes_n; i++)
        s_poll_add (p, guard_handshake_socket (self->guard, i), 0);
}

//  Whether the publishers' sockets are read: not while they are held.
static void
s_poll_hold (s_poll_t *p, int hold)
{
    if (p->ingress >= 0)
        p->items[p->ingress].events = hold ? 0 : ZMQ_POLLIN;
    if (p->xsub >= 0)
        p->items[p->xsub].events = hold ? 0 : ZMQ_POLLIN;
}

static int
s_ready (const s_poll_t *p, int i)
{
    return i >= 0 && (p->items[i].revents & ZMQ_POLLIN);
}

//  Reads the signals that arrived. Returns the name of the one that stops
//  the broker, or NULL.
static const char *
s_signals (broker_t *self, int sfd)
{
    const char *why = NULL;
    struct signalfd_siginfo si;
    while (read (sfd, &si, sizeof si) == (ssize_t) sizeof si) {
        if (si.ssi_signo == SIGUSR1)
            s_log_counters (self);
        else if (si.ssi_signo == SIGHUP)
            guard_reload (self->guard);
        else
            why = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
    }
    return why;
}

//  Forwards what has already arrived, so that a restart loses only what was
//  still on the wire; egress linger then flushes it.
static void
s_drain (broker_t *self, int xsub_trusted)
{
    while (self->ingress_h && s_pump (self, self->ingress_h, &self->counters.in_push, 0) == BATCH)
        ;
    while (self->xsub_h
           && s_pump (self, self->xsub_h, &self->counters.in_pub, xsub_trusted) == BATCH)
        ;
}

//  A signalfd for the signals the broker acts on (main blocks them), or -1.
static int
s_signalfd_open (void)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGUSR1);
    sigaddset (&set, SIGHUP);
    int sfd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        hlog_error ("signalfd: %s", strerror (errno));
    return sfd;
}

//  How long the poll may wait: until the next counters' log or the end of
//  the hold, whichever comes first (-1: neither is due).
static long
s_timeout (int64_t now, int64_t next_log, int64_t hold_until)
{
    int64_t wake = next_log;
    if (hold_until > now && (wake < 0 || hold_until < wake))
        wake = hold_until;
    return wake < 0 ? -1 : wake > now ? (long) (wake - now) : 0;
}

//  Serves each socket the poll found ready. Returns -1 if forwarding
//  failed, else 0; sets *why when a signal asks the broker to stop.
static int
s_serve (broker_t *self, const s_poll_t *p, int sfd, int xsub_trusted, const char **why)
{
    int rc = 0;
    if (s_ready (p, p->monitor))
        guard_on_monitor (self->guard);
    if (s_ready (p, p->zap))
        guard_on_zap (self->guard);
    if (s_ready (p, p->egress))
        s_egress_read (self);
    if (s_ready (p, p->ingress) && s_pump (self, self->ingress_h, &self->counters.in_push, 0) < 0)
        rc = -1;
    if (s_ready (p, p->xsub)
        && s_pump (self, self->xsub_h, &self->counters.in_pub, xsub_trusted) < 0)
        rc = -1;
    for (int i = 0; i < p->handshakes_n; i++)
        if (s_ready (p, p->handshakes + i))
            guard_on_handshakes (self->guard, i);
    //  After the handshake monitors, so that a refusal just made is counted.
    if (s_ready (p, p->stats))
        s_stats_read (self);
    if (s_ready (p, p->signal))
        *why = s_signals (self, sfd);
    return rc;
}

int
broker_run (broker_t *self)
{
    int sfd = s_signalfd_open ();
    if (sfd < 0)
        return -1;
    s_poll_t p;
    s_poll_init (self, &p, sfd);
    //  An upstream broker legitimately sends confirmation answers.
    const int xsub_trusted = *self->config.upstream != 0;
    int64_t interval = (int64_t) self->config.stats_interval * 1000;
    int64_t next_log = interval ? zclock_mono () + interval : -1;
    int64_t hold_until = self->started + self->config.hold_ms;
    if (self->config.hold_ms > 0) {
        hlog_info ("holding publishers' messages for %d ms, so that subscribers "
                   "reconnecting after a restart are subscribed first (--hold-ms)",
                   self->config.hold_ms);
        s_poll_hold (&p, 1);
    }
    int rc = 0;
    const char *why = NULL;
    while (!why && rc == 0) {
        int64_t now = zclock_mono ();
        if (zmq_poll (p.items, p.n, s_timeout (now, next_log, hold_until)) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            hlog_error ("poll failed: %s", zmq_strerror (zmq_errno ()));
            rc = -1;
            break;
        }
        now = zclock_mono ();
        if (hold_until > 0 && now >= hold_until) {
            s_poll_hold (&p, 0);
            hold_until = 0;
        }
        rc = s_serve (self, &p, sfd, xsub_trusted, &why);
        if (next_log >= 0 && now >= next_log) {
            s_log_counters (self);
            next_log = now + interval;
        }
    }
    if (why) {
        hlog_info ("%s: draining and shutting down", why);
        s_drain (self, xsub_trusted);
        s_log_counters (self);
    }
    close (sfd);
    return rc;
}
