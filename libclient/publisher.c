/*  publisher.c: herald_publisher_t, which sends events to the broker.
 *
 *  The socket is a ZeroMQ PUSH connected to the broker's PULL ingress.
 *  Unlike PUB, a PUSH socket queues messages from the moment it is
 *  created, before the connection is up, so a process that publishes once
 *  and exits loses nothing; destroy then waits, up to the linger time,
 *  for the queue to drain. A full queue blocks the caller for at most the
 *  send timeout and then reports HERALD_ERR_AGAIN, so backpressure is
 *  visible instead of silent.
 *
 *  Close tells whether the flush finished. The publisher's context is its
 *  own, so terminating it returns as soon as the socket's queue has gone
 *  into the connection, or at the deadline, when ZeroMQ drops the rest:
 *  returning before the deadline is the proof. ZeroMQ's timers run on a
 *  clock of millisecond steps that it reads lazily, so its deadline can
 *  come a little early; only a return more than S_MARGIN_US before ours
 *  counts. A socket monitor, read at close, says whether the broker was
 *  ever connected.
 *
 *  Given a list of brokers, the publisher hands everything to its links
 *  (links.c), which route each topic to a live broker and confirm by echo
 *  what each broker forwarded; this file then only checks the arguments
 *  and holds the lock.
 */
#include "private.h"
#include "mpjson.h"
#include "wire.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

//  How often, at most, a refused publisher connects again.
#define S_RECONNECT_US 1000000

static int64_t s_now_us (void);

//  How much earlier than the linger time ZeroMQ's linger timer may fire
//  (a few ms at most), and so how long before the deadline the context
//  must have ended for close to vouch for the flush.
#define S_MARGIN_US 5000

struct herald_publisher {
    pthread_mutex_t lock;       //  serialises use of sock and buf
    void *ctx;
    void *sock;
    void *monitor;              //  the socket's connection events
    int linger_ms;
    size_t max_payload;
    uint64_t published;         //  messages queued by publish
    msgpack_sbuffer buf;        //  reused by herald_publish_json
    int ever_connected;         //  a handshake succeeded once (the monitor says)
    int refused;                //  the broker refused the last handshake
    int ever_refused;           //  it refused one at some time (what was queued then went)
    int given_up;               //  and libzmq gave the connection up (ZAP 400)
    int64_t reconnected_us;     //  when s_again last connected again
    int connected;              //  handshake done, not dropped since
    uint64_t drops;             //  times the connection dropped after it was up
    herald__heartbeat_t hb;     //  as last set
    int send_timeout_ms;
    herald__links_t *links;     //  with a list of brokers; then sock is NULL
    char endpoint[256];
};

//  Takes the monitor's news. Called with the lock held, or at close.
static void
s_watch (herald_publisher_t *self)
{
    int event;
    while (self->monitor && (event = herald__monitor_read (self->monitor)) != 0) {
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            self->ever_connected = 1;
            self->connected = 1;
            self->refused = 0;
        }
        else if (event == ZMQ_EVENT_DISCONNECTED) {
            self->drops += self->connected;
            self->connected = 0;
        }
        else if (HERALD__REFUSED (event)) {
            self->refused = 1;
            self->ever_refused = 1;
            self->given_up = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
        }
    }
}

//  A publisher connected to endpoint, over CURVE if curve names files.
static herald_publisher_t *
s_new (const char *endpoint, const herald__curve_t *curve, int *err)
{
    int rc = HERALD_ERR_NOMEM;
    herald_publisher_t *self = calloc (1, sizeof *self);
    if (!self) {
        herald__fail (rc, NULL);
        goto out;
    }
    pthread_mutex_init (&self->lock, NULL);
    self->linger_ms = HERALD_DEFAULT_LINGER_MS;
    self->send_timeout_ms = HERALD_DEFAULT_SEND_TIMEOUT_MS;
    self->max_payload = WIRE_PAYLOAD_MAX;
    self->hb = (herald__heartbeat_t) HERALD__HEARTBEAT_ONE;
    msgpack_sbuffer_init (&self->buf);
    const char *resolved = herald__endpoint_resolve (endpoint, "HERALD_PUB_ENDPOINT",
                                                     HERALD_DEFAULT_PUB_ENDPOINT);
    if (strchr (resolved, ',')) {
        herald__endpoints_t eps;
        rc = herald__endpoints_split (resolved, &eps);
        if (rc == HERALD_OK)
            rc = herald__links_new (&eps, curve, &self->lock, &self->links);
        goto check;
    }
    rc = herald__socket_open (ZMQ_PUSH, endpoint, "HERALD_PUB_ENDPOINT",
                              HERALD_DEFAULT_PUB_ENDPOINT, curve, &self->ctx, &self->sock,
                              &self->monitor, self->endpoint, sizeof self->endpoint);
    if (rc == HERALD_OK)
        rc = herald__setsockopt_int (self->sock, ZMQ_SNDTIMEO, HERALD_DEFAULT_SEND_TIMEOUT_MS);
check:
    if (rc != HERALD_OK)
        herald_publisher_destroy (&self);
out:
    if (err)
        *err = rc;
    return self;
}

herald_publisher_t *
herald_publisher_new (const char *endpoint, int *err)
{
    return s_new (endpoint, NULL, err);
}

herald_publisher_t *
herald_publisher_new_secure (const char *endpoint, const char *server, const char *client_cert,
                             int *err)
{
    herald__curve_t curve;
    int rc = herald__curve_resolve (&curve, server, client_cert);
    if (rc != HERALD_OK) {
        if (err)
            *err = rc;
        return NULL;
    }
    return s_new (endpoint, &curve, err);
}

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  Takes the monitor's news and, while messages wait for a first
//  handshake, waits for its outcome within the linger time, so that close
//  can tell a broker that refused from one that was not there. Returns
//  what is left of the linger time (-1: forever).
static int
s_await_handshake (herald_publisher_t *self)
{
    int64_t deadline = s_now_us () + (int64_t) self->linger_ms * 1000;
    s_watch (self);
    while (self->monitor && self->published && !self->ever_connected && !self->refused) {
        int64_t left = self->linger_ms < 0 ? -1 : (deadline - s_now_us ()) / 1000;
        if (self->linger_ms >= 0 && left <= 0)
            break;
        zmq_pollitem_t item = { self->monitor, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long) left) < 0 && zmq_errno () != EINTR)
            break;
        s_watch (self);
    }
    if (self->linger_ms < 0)
        return -1;
    int64_t left = (deadline - s_now_us ()) / 1000;
    return left > 0 ? (int) left : 0;
}

//  Flushes for at most the linger time and releases everything. Returns
//  1 if every queued message went into the connection, else 0, and sets
//  *connected to whether a connection was ever made (else -1 if the broker
//  refused the handshakes). Nothing goes out without a handshake, so with
//  none there is no flush to vouch for, however fast the context ended
//  (after a refusal libzmq drops the queue at once).
static int
s_shutdown (herald_publisher_t *self, int *connected)
{
    int linger = s_await_handshake (self);
    *connected = self->ever_connected ? 1 : self->refused ? -1 : 0;
    herald__monitor_close (self->sock, &self->monitor);
    if (*connected < 0)
        linger = 0;             //  what is queued can never go
    if (self->sock && zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger) != 0)
        linger = 0;             //  (cannot fail on a live socket)
    int64_t start = s_now_us ();
    herald__socket_close (&self->ctx, &self->sock);
    int64_t took = s_now_us () - start;
    //  A refusal drops what was queued then, so none of it is vouched for.
    int flushed = self->published == 0
                  || (*connected == 1 && !self->ever_refused
                      && (linger < 0 || took + S_MARGIN_US < (int64_t) linger * 1000));
    msgpack_sbuffer_destroy (&self->buf);
    pthread_mutex_destroy (&self->lock);
    return flushed;
}

//  With a list of brokers: waits for the confirmations, releases
//  everything, and returns herald__links_close's answer.
static int
s_shutdown_links (herald_publisher_t *self)
{
    int rc = herald__links_close (&self->links, self->linger_ms);
    msgpack_sbuffer_destroy (&self->buf);
    pthread_mutex_destroy (&self->lock);
    return rc;
}

void
herald_publisher_destroy (herald_publisher_t **pub)
{
    if (!pub || !*pub)
        return;
    int connected;
    if ((*pub)->links)
        s_shutdown_links (*pub);
    else
        s_shutdown (*pub, &connected);
    free (*pub);
    *pub = NULL;
}

int
herald_publisher_close (herald_publisher_t **pub)
{
    if (!pub)
        return herald__fail (HERALD_ERR_INVALID, "NULL argument");
    herald_publisher_t *self = *pub;
    if (!self)
        return HERALD_OK;
    *pub = NULL;
    int connected;
    int rc = HERALD_OK;
    unsigned long long n = (unsigned long long) self->published;
    if (self->links) {
        rc = s_shutdown_links (self);
        free (self);
        return rc;
    }
    if (!s_shutdown (self, &connected)) {
        const char *s = n == 1 ? "" : "s";
        if (connected < 0)
            rc = herald__fail (HERALD_ERR_UNSENT,
                               "%llu message%s not sent: the broker at %s refused this "
                               "publisher's handshake (with CURVE: its key is not allowed to "
                               "publish there; or one side uses CURVE and the other not), "
                               "so nothing could be sent", n, s, self->endpoint);
        else if (!connected)
            rc = herald__fail (HERALD_ERR_UNSENT,
                               "%llu message%s not sent: the broker at %s was never "
                               "connected; dropped when the linger time (%d ms) ran out",
                               n, s, self->endpoint, self->linger_ms);
        else if (self->ever_refused)
            rc = herald__fail (HERALD_ERR_UNSENT,
                               "messages may not have been sent: of %llu message%s published, "
                               "those queued before the broker at %s refused a handshake of "
                               "this publisher were dropped (it was let in again later)",
                               n, s, self->endpoint);
        else if ((int64_t) self->linger_ms * 1000 > S_MARGIN_US)
            rc = herald__fail (HERALD_ERR_UNSENT,
                               "messages not sent: of %llu message%s published, some were "
                               "still queued when the linger time (%d ms) ran out and were "
                               "dropped (the broker at %s had been connected)",
                               n, s, self->linger_ms, self->endpoint);
        else
            rc = herald__fail (HERALD_ERR_UNSENT,
                               "messages may not have been sent: %llu message%s published, "
                               "and a linger time of %d ms is too short to confirm that "
                               "none was still queued (the broker at %s had been connected)",
                               n, s, self->linger_ms, self->endpoint);
    }
    free (self);
    return rc;
}

//  New heartbeats for the one endpoint's socket. ZeroMQ takes them when it
//  connects: made again now if nothing was published yet (so nothing
//  queued is dropped), else they wait for a connect that never comes.
//  Called with the lock held.
static int
s_heartbeat_one (herald_publisher_t *self, int option, int value)
{
    if (option == HERALD_OPT_HEARTBEAT_MS)
        self->hb.ivl = value;
    else
        self->hb.timeout = value;
    self->hb.ttl = 1;
    int rc = herald__heartbeat_apply (self->sock, &self->hb);
    if (rc == HERALD_OK && self->published == 0 && !self->refused) {
        zmq_disconnect (self->sock, self->endpoint);
        zmq_connect (self->sock, self->endpoint);
    }
    return rc;
}

int
herald_publisher_set_option (herald_publisher_t *self, int option, int64_t value)
{
    if (!self)
        return herald__fail (HERALD_ERR_INVALID, "publisher is NULL");
    int rc = HERALD_OK;
    pthread_mutex_lock (&self->lock);
    switch (option) {
        case HERALD_OPT_LINGER_MS:
            if (value < -1 || value > INT32_MAX)
                rc = herald__fail (HERALD_ERR_INVALID, "linger must be -1 or 0..2^31-1 ms");
            else
                self->linger_ms = (int) value;
            break;
        case HERALD_OPT_SEND_TIMEOUT_MS:
            if (value < -1 || value > INT32_MAX)
                rc = herald__fail (HERALD_ERR_INVALID, "send timeout must be -1 or 0..2^31-1 ms");
            else if (self->links)
                self->send_timeout_ms = (int) value;
            else
                rc = herald__setsockopt_int (self->sock, ZMQ_SNDTIMEO, (int) value);
            break;
        case HERALD_OPT_HWM:
            if (value < 0 || value > INT32_MAX)
                rc = herald__fail (HERALD_ERR_INVALID, "hwm must be 0..2^31-1 messages");
            else if (self->links)
                rc = herald__links_set (self->links, option, (int) value);
            else
                rc = herald__setsockopt_int (self->sock, ZMQ_SNDHWM, (int) value);
            break;
        case HERALD_OPT_HEARTBEAT_MS:
        case HERALD_OPT_HEARTBEAT_TIMEOUT_MS:
            if (value < 1 || value > HERALD_HEARTBEAT_MAX_MS)
                rc = herald__fail (HERALD_ERR_INVALID, "heartbeat times must be 1..%d ms",
                                   HERALD_HEARTBEAT_MAX_MS);
            else if (self->links)
                rc = herald__links_set (self->links, option, (int) value);
            else
                rc = s_heartbeat_one (self, option, (int) value);
            break;
        case HERALD_OPT_MAX_PAYLOAD:
            if (value < 1 || value > WIRE_PAYLOAD_HARD_MAX)
                rc = herald__fail (HERALD_ERR_INVALID, "max payload must be 1..%u bytes",
                                   WIRE_PAYLOAD_HARD_MAX);
            else
                self->max_payload = (size_t) value;
            break;
        default:
            rc = herald__fail (HERALD_ERR_INVALID, "option %d does not apply to a publisher",
                               option);
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

//  After the broker refused a handshake (ZAP status 400), libzmq gives
//  the connection up: it drops the queue, and may keep a pipe that takes
//  messages with no connection behind it. So while refused, each publish
//  takes the monitor's news, and connects again once a second (as libzmq's
//  own reconnections go), for a key the broker allows later (SIGHUP). A
//  publisher never refused does none of this. Called with the lock held.
static void
s_retry (herald_publisher_t *self)
{
    s_watch (self);
    int64_t now = s_now_us ();
    if (self->refused && self->given_up && now - self->reconnected_us >= S_RECONNECT_US) {
        zmq_disconnect (self->sock, self->endpoint);
        zmq_connect (self->sock, self->endpoint);
        self->given_up = 0;
        self->reconnected_us = now;
    }
}

//  A send that found no room: the queue is full, or the broker refused
//  the handshake and there is no queue. Says which. Called with the lock
//  held.
static int
s_again (herald_publisher_t *self)
{
    s_retry (self);
    if (self->refused)
        return herald__fail (HERALD_ERR_AGAIN, "publish: the broker at %s refused this "
                             "publisher's handshake (its CURVE key is not allowed to publish "
                             "there); the message was not sent", self->endpoint);
    return herald__fail (HERALD_ERR_AGAIN, "publish: the queue to the broker stayed full for "
                         "the send timeout; the message was not sent");
}

//  Sends [topic][payload] as one message. Called with the lock held.
static int
s_send (herald_publisher_t *self, const char *topic, size_t tlen, const void *data,
        size_t size)
{
    if (size > self->max_payload)
        return herald__fail (HERALD_ERR_TOO_BIG, "payload is %zu bytes; the limit is %zu",
                             size, self->max_payload);
    wire_err_t werr = wire_msgpack_check (data, size);
    if (werr != WIRE_OK)
        return herald__fail (HERALD_ERR_MSGPACK, "invalid msgpack: %s", wire_strerror (werr));
    if (self->links) {
        int rc = herald__links_send (self->links, topic, tlen, data, size,
                                     self->send_timeout_ms);
        self->published += rc == HERALD_OK;
        return rc;
    }
    //  While refused, libzmq may still take a message into a pipe that no
    //  connection will ever drain: refuse it here, and say why.
    if (self->refused) {
        s_retry (self);
        if (self->refused)
            return s_again (self);
    }
    //  Once the first frame is queued the rest of the message always is:
    //  ZeroMQ counts its queue limit in whole messages.
    if (zmq_send (self->sock, topic, tlen, ZMQ_SNDMORE) < 0) {
        int rc = herald__zmq_fail ("publish");
        if (rc == HERALD_ERR_AGAIN)
            rc = s_again (self);
        return rc;
    }
    if (zmq_send (self->sock, data, size, 0) < 0)
        return herald__zmq_fail ("publish");
    self->published++;
    return HERALD_OK;
}

int
herald_publish (herald_publisher_t *self, const char *topic, const void *data, size_t size)
{
    size_t tlen;
    if (!self)
        return herald__fail (HERALD_ERR_INVALID, "publisher is NULL");
    if (!data && size)
        return herald__fail (HERALD_ERR_INVALID, "data is NULL");
    int rc = herald__check_topic (topic, &tlen, 0);
    if (rc != HERALD_OK)
        return rc;
    pthread_mutex_lock (&self->lock);
    rc = s_send (self, topic, tlen, data, size);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int
herald_publish_json (herald_publisher_t *self, const char *topic, const char *json,
                     size_t len)
{
    size_t tlen;
    char err[256];
    if (!self)
        return herald__fail (HERALD_ERR_INVALID, "publisher is NULL");
    if (!json)
        return herald__fail (HERALD_ERR_INVALID, "json is NULL");
    int rc = herald__check_topic (topic, &tlen, 0);
    if (rc != HERALD_OK)
        return rc;
    pthread_mutex_lock (&self->lock);
    self->buf.size = 0;
    if (mpjson_from_json (json, len, &self->buf, err, sizeof err) != 0)
        rc = herald__fail (HERALD_ERR_JSON, "%s", err);
    else
        rc = s_send (self, topic, tlen, self->buf.data, self->buf.size);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int
herald_publisher_brokers (const herald_publisher_t *self)
{
    return !self ? 0 : self->links ? herald__links_count (self->links) : 1;
}

const char *
herald_publisher_broker_endpoint (const herald_publisher_t *self, int i)
{
    if (!self)
        return NULL;
    if (self->links)
        return herald__links_endpoint (self->links, i);
    return i == 0 ? self->endpoint : NULL;
}

int
herald_publisher_broker_up (herald_publisher_t *self, int i)
{
    if (!self)
        return 0;
    pthread_mutex_lock (&self->lock);
    int up = 0;
    if (self->links)
        up = herald__links_up (self->links, i);
    else if (i == 0) {
        s_watch (self);
        up = self->connected;
    }
    pthread_mutex_unlock (&self->lock);
    return up;
}

uint64_t
herald_publisher_stat (herald_publisher_t *self, int i, int which)
{
    if (!self)
        return 0;
    pthread_mutex_lock (&self->lock);
    uint64_t v = 0;
    if (self->links)
        v = herald__links_stat (self->links, i, which);
    else if (i == 0 || i == -1) {
        s_watch (self);
        v = which == HERALD_STAT_SENT ? self->published
            : which == HERALD_STAT_FAILOVERS ? self->drops : 0;
    }
    pthread_mutex_unlock (&self->lock);
    return v;
}
