/*  links.c: a publisher's links to a list of brokers, with no single point
 *  of failure.
 *
 *  For each broker the publisher holds a PUSH to its ingress, which
 *  carries events, and a SUB on its egress, which brings back the
 *  publisher's own confirmation markers. Each topic is owned by one broker
 *  (wire_topic_owner: FNV-1a of the topic, modulo the list's length) and
 *  goes to the first live broker from its owner on, in list order,
 *  wrapping around. "Live" is what the PUSH's monitor says: the handshake
 *  succeeded and the connection has not dropped since. ZMTP heartbeats
 *  (HERALD_OPT_HEARTBEAT_MS, _TIMEOUT_MS) make a dead broker's link drop
 *  within a bounded time even when its host vanishes silently. When the
 *  owner's link is back its topics go to it again.
 *
 *  Loss is counted here, by echo. Every HERALD__ACK_INTERVAL_US at most,
 *  and at close, the publisher sends on a broker's PUSH a marker on its
 *  private topic "$herald/ack/<token>" carrying how many events it has sent
 *  to that broker. The broker forwards the marker like any event, to the
 *  publisher's SUB, and a broker forwards what one connection sent in
 *  order: so when the marker comes back, every event before it was
 *  received and forwarded. When a link is seen to drop, what was sent to
 *  it and not confirmed is counted lost (in doubt: the broker may have
 *  forwarded some of it before it died), and what its PUSH still queues is
 *  dropped, so that it never arrives late, after the topics moved on.
 *
 *  The links' news (monitors, markers back, markers due) is taken at each
 *  call, under the publisher's lock, and calls that wait (a publish with
 *  nowhere to go, close) poll for it. A thread of the links' own does the
 *  same every S_TICK_MS under the same lock, so that a publisher that
 *  goes quiet still has its last events confirmed, and a drop counted,
 *  within that time; it touches the sockets only while it holds the lock,
 *  as ZeroMQ requires of a socket used from several threads.
 *
 *  A publisher created and used at once must still lose nothing: until a
 *  link's first handshake has had its outcome (or HERALD_OPT_HEARTBEAT_
 *  TIMEOUT_MS has passed), it is "pending", and a topic whose route meets
 *  a pending broker before a live one waits for it, within the send
 *  timeout.
 */
#include "private.h"
#include "wire.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

//  Markers go at most this often on each link.
#define S_ACK_INTERVAL_US 100000
//  A waiting call looks at the links' timers at least this often.
#define S_WAIT_MAX_MS 100
//  The links' thread takes their news this often; a publish, at most
//  this often (so a broker seen to drop gets at most that much more).
#define S_TICK_MS 100
#define S_REFRESH_US 1000
//  A link whose handshake the broker refused connects again after this.
#define S_RETRY_US 1000000
//  The PUSH's monitor also reports failed connection attempts, so that a
//  broker that is not there is known at once, not at a deadline.
#define S_PUSH_EVENTS (HERALD__EVENTS | ZMQ_EVENT_CONNECT_RETRIED)

enum { S_PENDING, S_UP, S_DOWN };

//  A broker that comes back gets its topics again only after it has been
//  up this long beyond the heartbeats' bound (HEARTBEAT_MS +
//  HEARTBEAT_TIMEOUT_MS): the time a subscriber with the same settings
//  takes to see the same fault, and libzmq's reconnect interval (at most
//  1 s) to link again and send its subscriptions. Moving back sooner would
//  send events to a broker that no subscriber is linked to yet, where they
//  are confirmed and reach no one.
#define S_FAILBACK_EXTRA_MS 1000

typedef struct {
    char endpoint[HERALD__ENDPOINT_MAX];    //  the ingress
    char egress[HERALD__ENDPOINT_MAX];      //  the confirmation link's, or ""
    void *push, *push_mon;
    void *sub, *sub_mon;                    //  NULL without an egress
    int state;
    int64_t pending_until;      //  a pending link counts as down after this
    int refused;                //  the broker refused the PUSH's handshake
    int given_up;               //  and libzmq gave it up (ZAP 400)
    int64_t retry_us;
    int ack_refused;            //  the broker refused the SUB's handshake
    int ack_given_up;
    int64_t ack_retry_us;
    //  sent = confirmed + lost + (sent - settled): each event sent is
    //  confirmed, counted lost, or still awaited.
    uint64_t sent;
    uint64_t settled;           //  the first 'settled' are confirmed or lost
    uint64_t confirmed;
    uint64_t lost;
    uint64_t rerouted;          //  sent here while their owner was not live
    uint64_t failovers;         //  times this link was seen to drop
    int settling;               //  up again after a drop, not yet owner again
    int64_t up_us;              //  when the handshake that ended the drop succeeded
    int64_t marked_us;          //  when the last marker went
} s_link_t;

struct herald__links {
    pthread_mutex_t *lock;      //  the publisher's: every use of a socket holds it
    pthread_t ticker;
    int ticking;                //  the thread runs
    pthread_mutex_t tick_lock;  //  guards stop, for the thread's timed wait
    pthread_cond_t tick;
    int stop;
    int64_t refreshed_us;       //  when s_refresh last ran
    void *ctx;
    int n;
    herald__heartbeat_t hb;
    char token[48];             //  "$herald/ack/<16 hex digits>"
    size_t token_len;
    s_link_t link[HERALD_BROKERS_MAX];
};

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  The broker's egress by its default layout: tcp://HOST:PORT+1. Empty if
//  the ingress is not tcp with a port.
static void
s_egress_of (const char *ingress, char *out, size_t size)
{
    out[0] = 0;
    const char *colon = strrchr (ingress, ':');
    if (strncmp (ingress, "tcp://", 6) != 0 || !colon || colon < ingress + 6)
        return;
    char *end;
    long port = strtol (colon + 1, &end, 10);
    if (end == colon + 1 || *end || port < 1 || port >= 65535)
        return;
    snprintf (out, size, "%.*s:%ld", (int) (colon - ingress), ingress, port + 1);
}

//  Each link's egress: $HERALD_CONFIRM_ENDPOINT's list if it is set, in
//  the same order, else the default layout's.
static int
s_egresses (herald__links_t *self)
{
    const char *env = getenv ("HERALD_CONFIRM_ENDPOINT");
    if (!env || !*env) {
        for (int i = 0; i < self->n; i++)
            s_egress_of (self->link[i].endpoint, self->link[i].egress,
                         sizeof self->link[i].egress);
        return HERALD_OK;
    }
    herald__endpoints_t eps;
    int rc = herald__endpoints_split (env, &eps);
    if (rc != HERALD_OK)
        return herald__fail (rc, "$HERALD_CONFIRM_ENDPOINT: %s", herald_errmsg ());
    if (eps.n != self->n)
        return herald__fail (HERALD_ERR_ENDPOINT, "$HERALD_CONFIRM_ENDPOINT lists %d brokers, "
                             "the endpoint %d: give each broker's egress, in the same order",
                             eps.n, self->n);
    for (int i = 0; i < self->n; i++)
        snprintf (self->link[i].egress, sizeof self->link[i].egress, "%s", eps.ep[i]);
    return HERALD_OK;
}

static void
s_pending (herald__links_t *self, s_link_t *l)
{
    l->state = S_PENDING;
    l->pending_until = s_now_us () + (int64_t) self->hb.timeout * 1000;
}

//  Broker i's PUSH and, if it has an egress, its confirmation SUB.
static int
s_link_open (herald__links_t *self, int i, const herald__curve_t *curve)
{
    s_link_t *l = &self->link[i];
    char addr[64];
    snprintf (addr, sizeof addr, "inproc://herald-link-%d", i);
    int rc = herald__socket_new (self->ctx, ZMQ_PUSH, l->endpoint, curve, &self->hb, addr,
                                 S_PUSH_EVENTS, &l->push, &l->push_mon);
    if (rc == HERALD_OK && *l->egress) {
        snprintf (addr, sizeof addr, "inproc://herald-ack-%d", i);
        rc = herald__socket_new (self->ctx, ZMQ_SUB, l->egress, curve, &self->hb, addr,
                                 HERALD__EVENTS, &l->sub, &l->sub_mon);
        if (rc == HERALD_OK
            && zmq_setsockopt (l->sub, ZMQ_SUBSCRIBE, self->token, self->token_len) != 0)
            rc = herald__zmq_fail ("zmq_setsockopt (ZMQ_SUBSCRIBE)");
        if (rc == HERALD_OK)
            rc = herald__connect (l->sub, l->egress);
    }
    if (rc == HERALD_OK)
        rc = herald__connect (l->push, l->endpoint);
    s_pending (self, l);
    return rc;
}

static void
s_link_close (s_link_t *l)
{
    if (l->push_mon)
        herald__monitor_close (l->push, &l->push_mon);
    if (l->sub_mon)
        herald__monitor_close (l->sub, &l->sub_mon);
    if (l->push)
        zmq_close (l->push);
    if (l->sub)
        zmq_close (l->sub);
    l->push = l->sub = NULL;
}

static void
s_release (herald__links_t *self)
{
    for (int i = 0; i < self->n; i++)
        s_link_close (&self->link[i]);
    void *none = NULL;
    herald__socket_close (&self->ctx, &none);
    free (self);
}

static void s_refresh (herald__links_t *self);

//  The links' thread: their news every S_TICK_MS, until stopped.
static void *
s_ticker (void *arg)
{
    herald__links_t *self = arg;
    pthread_mutex_lock (&self->tick_lock);
    while (!self->stop) {
        struct timespec at;
        clock_gettime (CLOCK_MONOTONIC, &at);
        at.tv_nsec += S_TICK_MS * 1000000L;
        if (at.tv_nsec >= 1000000000L) {
            at.tv_sec++;
            at.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait (&self->tick, &self->tick_lock, &at);
        if (self->stop)
            break;
        pthread_mutex_unlock (&self->tick_lock);
        pthread_mutex_lock (self->lock);
        s_refresh (self);
        pthread_mutex_unlock (self->lock);
        pthread_mutex_lock (&self->tick_lock);
    }
    pthread_mutex_unlock (&self->tick_lock);
    return NULL;
}

//  Starts the thread, with every signal blocked (as ZeroMQ's own threads
//  and the subscriber's relay do), so that signals reach the
//  application's threads.
static int
s_ticker_start (herald__links_t *self)
{
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->tick, &attr);
    pthread_condattr_destroy (&attr);
    pthread_mutex_init (&self->tick_lock, NULL);
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_SETMASK, &all, &old);
    int e = pthread_create (&self->ticker, NULL, s_ticker, self);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (e != 0)
        return herald__fail (e == ENOMEM || e == EAGAIN ? HERALD_ERR_NOMEM : HERALD_ERR_TRANSPORT,
                             "cannot start the publisher's thread: %s", strerror (e));
    self->ticking = 1;
    return HERALD_OK;
}

//  Stops the thread. Called without the publisher's lock.
static void
s_ticker_stop (herald__links_t *self)
{
    if (!self->ticking)
        return;
    pthread_mutex_lock (&self->tick_lock);
    self->stop = 1;
    pthread_cond_signal (&self->tick);
    pthread_mutex_unlock (&self->tick_lock);
    pthread_join (self->ticker, NULL);
    pthread_cond_destroy (&self->tick);
    pthread_mutex_destroy (&self->tick_lock);
    self->ticking = 0;
}

int
herald__links_new (const herald__endpoints_t *eps, const herald__curve_t *curve,
                   pthread_mutex_t *lock, herald__links_t **out)
{
    *out = NULL;
    herald__links_t *self = calloc (1, sizeof *self);
    if (!self)
        return herald__fail (HERALD_ERR_NOMEM, NULL);
    self->lock = lock;
    self->n = eps->n;
    self->hb = (herald__heartbeat_t) { HERALD__HEARTBEAT_MS, HERALD__HEARTBEAT_TIMEOUT_MS, 1 };
    uint64_t r;
    if (getrandom (&r, sizeof r, 0) != sizeof r)
        r = (uint64_t) time (NULL) ^ ((uint64_t) getpid () << 32) ^ (uint64_t) (uintptr_t) self;
    self->token_len = (size_t) snprintf (self->token, sizeof self->token,
                                         WIRE_ACK_PREFIX "%016llx", (unsigned long long) r);
    for (int i = 0; i < self->n; i++)
        snprintf (self->link[i].endpoint, sizeof self->link[i].endpoint, "%s", eps->ep[i]);
    int rc = s_egresses (self);
    if (rc == HERALD_OK && !(self->ctx = zmq_ctx_new ()))
        rc = herald__zmq_fail ("zmq_ctx_new");
    for (int i = 0; rc == HERALD_OK && i < self->n; i++)
        rc = s_link_open (self, i, curve);
    if (rc == HERALD_OK)
        rc = s_ticker_start (self);
    if (rc != HERALD_OK) {
        s_release (self);
        return rc;
    }
    *out = self;
    return HERALD_OK;
}

//  The link is seen to drop (or to fail before it was ever up).
static void
s_down (s_link_t *l)
{
    if (l->state == S_UP) {
        l->lost += l->sent - l->settled;
        l->settled = l->sent;
        l->failovers++;
        //  What the PUSH still queues would reach the broker when it is
        //  back, after newer events of the same topics went elsewhere: it
        //  is counted lost, so drop it (a disconnect ends the queue).
        zmq_disconnect (l->push, l->endpoint);
        zmq_connect (l->push, l->endpoint);
    }
    l->state = S_DOWN;
}

static void
s_push_events (s_link_t *l, int64_t now)
{
    int event;
    while ((event = herald__monitor_read (l->push_mon)) != 0) {
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            //  (A link may report more than one handshake: only the one
            //  that ends a drop starts the settling.)
            if (l->state != S_UP) {
                l->settling = l->state == S_DOWN && l->failovers > 0;
                l->up_us = now;
            }
            l->state = S_UP;
            l->refused = 0;
        }
        else if (HERALD__REFUSED (event)) {
            l->refused = 1;
            l->given_up = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
            l->retry_us = now;
            s_down (l);
        }
        else if (event == ZMQ_EVENT_DISCONNECTED || event == ZMQ_EVENT_CONNECT_RETRIED)
            s_down (l);
    }
}

static void
s_sub_events (s_link_t *l, int64_t now)
{
    int event;
    while ((event = herald__monitor_read (l->sub_mon)) != 0) {
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            l->ack_refused = 0;
        else if (HERALD__REFUSED (event)) {
            l->ack_refused = 1;
            l->ack_given_up = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
            l->ack_retry_us = now;
        }
    }
}

//  Takes the markers that came back. A marker confirms the events sent
//  before it, which are all those it counts.
static void
s_acks (herald__links_t *self, s_link_t *l)
{
    while (1) {
        zmq_msg_t frames[WIRE_FRAMES_MAX];
        int n;
        int got = wire_recv (l->sub, frames, &n) == 0;
        uint64_t count = 0;
        if (got && n >= 2 && zmq_msg_size (&frames[0]) == self->token_len
            && memcmp (zmq_msg_data (&frames[0]), self->token, self->token_len) == 0
            && wire_ack_decode (zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]),
                                &count) == 0
            && count > l->settled && count <= l->sent) {
            l->confirmed += count - l->settled;
            l->settled = count;
        }
        for (int k = 0; k < WIRE_FRAMES_MAX; k++)
            zmq_msg_close (&frames[k]);
        if (!got)
            return;
    }
}

//  Sends a marker if events await confirmation and the last marker is
//  older than the interval (it may have been lost: the SUB's subscription
//  not yet in place at the broker; markers count from the start, so a
//  later one makes up for it).
static void
s_mark (herald__links_t *self, s_link_t *l, int64_t now)
{
    if (l->state != S_UP || !l->sub || l->ack_refused || l->settled == l->sent
        || now - l->marked_us < S_ACK_INTERVAL_US)
        return;
    unsigned char payload[WIRE_ACK_PAYLOAD];
    wire_ack_encode (l->sent, payload);
    if (zmq_send (l->push, self->token, self->token_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return;                 //  the queue is full: the next call tries again
    zmq_send (l->push, payload, sizeof payload, 0);
    l->marked_us = now;
}

//  After the broker refused a handshake with ZAP status 400, libzmq gives
//  the connection up: connect again once a second, for a key the broker
//  allows later.
static void
s_retry (void *sock, const char *endpoint, int *given_up, int64_t *retry_us, int64_t now)
{
    if (*given_up && now - *retry_us >= S_RETRY_US) {
        zmq_disconnect (sock, endpoint);
        zmq_connect (sock, endpoint);
        *given_up = 0;
        *retry_us = now;
    }
}

//  Takes every link's news, and sends the markers that are due. Called
//  with the publisher's lock held.
static void
s_refresh (herald__links_t *self)
{
    int64_t now = s_now_us ();
    self->refreshed_us = now;
    for (int i = 0; i < self->n; i++) {
        s_link_t *l = &self->link[i];
        s_push_events (l, now);
        if (l->sub) {
            s_sub_events (l, now);
            s_acks (self, l);
            s_retry (l->sub, l->egress, &l->ack_given_up, &l->ack_retry_us, now);
        }
        if (l->state == S_PENDING && now >= l->pending_until)
            l->state = S_DOWN;
        int64_t settle_ms = (int64_t) self->hb.ivl + self->hb.timeout + S_FAILBACK_EXTRA_MS;
        if (l->settling && now - l->up_us >= settle_ms * 1000)
            l->settling = 0;
        s_retry (l->push, l->endpoint, &l->given_up, &l->retry_us, now);
        s_mark (self, l, now);
    }
}

//  The first live broker from owner on, in list order, passing over those
//  still settling after a return unless no other is live: its index; -1
//  if a pending one comes first (its first handshake is awaited), unless
//  past_pending; -2 if none is live or pending.
static int
s_route (const herald__links_t *self, size_t owner, int past_pending)
{
    int pending = 0, settling = -1;
    for (int k = 0; k < self->n; k++) {
        int i = (int) ((owner + (size_t) k) % (size_t) self->n);
        const s_link_t *l = &self->link[i];
        if (l->state == S_UP && !l->settling)
            return i;
        if (l->state == S_UP && settling < 0)
            settling = i;
        if (l->state == S_PENDING && !past_pending)
            return -1;
        pending |= l->state == S_PENDING;
    }
    if (settling >= 0)
        return settling;
    return pending ? -1 : -2;
}

//  Waits up to ms for news of any link, or for room on push if it is not
//  NULL.
static int
s_wait (herald__links_t *self, void *push, long ms)
{
    zmq_pollitem_t items[1 + 3 * HERALD_BROKERS_MAX];
    int k = 0;
    for (int i = 0; i < self->n; i++) {
        s_link_t *l = &self->link[i];
        items[k++] = (zmq_pollitem_t) { l->push_mon, 0, ZMQ_POLLIN, 0 };
        if (l->sub) {
            items[k++] = (zmq_pollitem_t) { l->sub_mon, 0, ZMQ_POLLIN, 0 };
            items[k++] = (zmq_pollitem_t) { l->sub, 0, ZMQ_POLLIN, 0 };
        }
    }
    if (push)
        items[k++] = (zmq_pollitem_t) { push, 0, ZMQ_POLLOUT, 0 };
    if (zmq_poll (items, k, ms) < 0)
        return herald__zmq_fail ("publish: wait");
    return HERALD_OK;
}

//  Each broker's state, for a message: "tcp://a:7400 (down), ...".
static void
s_describe (const herald__links_t *self, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < self->n && used < size; i++) {
        const s_link_t *l = &self->link[i];
        const char *state = l->refused ? "refused" : l->state == S_UP ? "up"
                            : l->state == S_PENDING ? "connecting" : "down";
        int w = snprintf (buf + used, size - used, "%s%s (%s)", i ? ", " : "", l->endpoint,
                          state);
        used += w > 0 ? (size_t) w : 0;
    }
}

//  A publish that found nowhere to go within the send timeout.
static int
s_again (const herald__links_t *self, int i)
{
    char brokers[400];
    if (i >= 0)
        return herald__fail (HERALD_ERR_AGAIN, "publish: the queue to the broker at %s stayed "
                             "full for the send timeout; the message was not sent",
                             self->link[i].endpoint);
    s_describe (self, brokers, sizeof brokers);
    if (i == -1)
        return herald__fail (HERALD_ERR_AGAIN, "publish: the first handshake with the broker "
                             "this topic goes to did not finish within the send timeout; the "
                             "message was not sent (brokers: %s)", brokers);
    return herald__fail (HERALD_ERR_AGAIN, "publish: no broker is reachable (%s); the message "
                         "was not sent", brokers);
}

int
herald__links_send (herald__links_t *self, const char *topic, size_t tlen, const void *data,
                    size_t size, int timeout_ms)
{
    int64_t now = s_now_us ();
    int64_t deadline = timeout_ms < 0 ? -1 : now + (int64_t) timeout_ms * 1000;
    size_t owner = wire_topic_owner (topic, tlen, (size_t) self->n);
    //  Taking the news costs more than a send: at most every S_REFRESH_US
    //  on the way in (the thread does it too), always after a wait.
    if (now - self->refreshed_us >= S_REFRESH_US)
        s_refresh (self);
    while (1) {
        //  Once the send timeout is out, a pending broker is no longer
        //  waited for: the next live one takes the event.
        int late = deadline >= 0 && now >= deadline;
        int i = s_route (self, owner, late);
        if (i >= 0) {
            s_link_t *l = &self->link[i];
            if (zmq_send (l->push, topic, tlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
                //  Once the first frame is queued the rest always is.
                if (zmq_send (l->push, data, size, 0) < 0)
                    return herald__zmq_fail ("publish");
                l->sent++;
                if ((size_t) i != owner)
                    l->rerouted++;
                s_mark (self, l, now);
                return HERALD_OK;
            }
            if (zmq_errno () != EAGAIN)
                return herald__zmq_fail ("publish");
        }
        if (late)
            return s_again (self, i);
        int64_t left = deadline < 0 ? S_WAIT_MAX_MS : (deadline - now + 999) / 1000;
        int rc = s_wait (self, i >= 0 ? self->link[i].push : NULL,
                         left < S_WAIT_MAX_MS ? (long) left : S_WAIT_MAX_MS);
        if (rc != HERALD_OK)
            return rc;
        s_refresh (self);
        now = s_now_us ();
    }
}

int
herald__links_set (herald__links_t *self, int option, int value)
{
    int rc = HERALD_OK;
    if (option == HERALD_OPT_HWM) {
        for (int i = 0; i < self->n && rc == HERALD_OK; i++)
            rc = herald__setsockopt_int (self->link[i].push, ZMQ_SNDHWM, value);
        return rc;
    }
    if (option == HERALD_OPT_HEARTBEAT_MS)
        self->hb.ivl = value;
    else
        self->hb.timeout = value;
    //  ZeroMQ takes heartbeats when it connects: a link that has carried
    //  nothing yet is made again now; the others take them when they are
    //  made again after a drop (s_down).
    for (int i = 0; i < self->n && rc == HERALD_OK; i++) {
        s_link_t *l = &self->link[i];
        rc = herald__heartbeat_apply (l->push, &self->hb);
        if (rc == HERALD_OK && l->sub)
            rc = herald__heartbeat_apply (l->sub, &self->hb);
        if (rc != HERALD_OK || l->sent)
            continue;
        zmq_disconnect (l->push, l->endpoint);
        zmq_connect (l->push, l->endpoint);
        if (l->sub) {
            zmq_disconnect (l->sub, l->egress);
            zmq_connect (l->sub, l->egress);
        }
        s_pending (self, l);
    }
    return rc;
}

//  1 if some link awaits confirmations that can still come.
static int
s_awaiting (const herald__links_t *self)
{
    for (int i = 0; i < self->n; i++) {
        const s_link_t *l = &self->link[i];
        if (l->settled < l->sent && l->sub && !l->ack_refused)
            return 1;
    }
    return 0;
}

//  Why some events could not be confirmed at all, for close's message.
static void
s_unconfirmable (const herald__links_t *self, char *buf, size_t size)
{
    buf[0] = 0;
    for (int i = 0; i < self->n; i++) {
        const s_link_t *l = &self->link[i];
        if (l->settled == l->sent)
            continue;
        if (!l->sub)
            snprintf (buf, size, "; the broker at %s has no known egress to confirm through "
                      "(set $HERALD_CONFIRM_ENDPOINT)", l->endpoint);
        else if (l->ack_refused)
            snprintf (buf, size, "; the broker at %s refused this publisher's confirmation "
                      "link (with CURVE, its key must also be allowed to subscribe there)",
                      l->endpoint);
        else
            continue;
        return;
    }
}

//  Waits within the linger time until every event is confirmed or counted
//  lost, or nothing more can be. Returns what is left of the linger time
//  (-1: forever).
static long
s_await_confirmations (herald__links_t *self, int linger_ms)
{
    int64_t deadline = linger_ms < 0 ? -1 : s_now_us () + (int64_t) linger_ms * 1000;
    while (1) {
        s_refresh (self);
        int64_t left = deadline < 0 ? S_WAIT_MAX_MS : (deadline - s_now_us ()) / 1000;
        if (!s_awaiting (self) || left <= 0)
            return deadline < 0 ? -1 : left > 0 ? (long) left : 0;
        //  (A signal only shortens one wait: close is bounded by the linger.)
        s_wait (self, NULL, left < S_WAIT_MAX_MS ? (long) left : S_WAIT_MAX_MS);
    }
}

int
herald__links_close (herald__links_t **self_p, int linger_ms)
{
    herald__links_t *self = *self_p;
    *self_p = NULL;
    s_ticker_stop (self);
    long left = s_await_confirmations (self, linger_ms);
    uint64_t sent = 0, confirmed = 0, lost = 0, failovers = 0;
    for (int i = 0; i < self->n; i++) {
        s_link_t *l = &self->link[i];
        sent += l->sent;
        confirmed += l->confirmed;
        lost += l->lost;
        failovers += l->failovers;
        //  What is not confirmed may still be on its way: ZeroMQ may go on
        //  flushing it for the rest of the linger time, unvouched for.
        int linger = l->state == S_UP && l->settled < l->sent ? (int) left : 0;
        zmq_setsockopt (l->push, ZMQ_LINGER, &linger, sizeof linger);
    }
    char why[300];
    s_unconfirmable (self, why, sizeof why);
    s_release (self);
    if (confirmed == sent)
        return HERALD_OK;
    unsigned long long missing = (unsigned long long) (sent - confirmed);
    return herald__fail (HERALD_ERR_UNSENT, "%llu of %llu event%s not confirmed by the brokers: "
                         "%llu counted lost when a broker's link dropped (%llu time%s), %llu "
                         "still unconfirmed at close (linger time %d ms)%s",
                         missing, (unsigned long long) sent, sent == 1 ? "" : "s",
                         (unsigned long long) lost, (unsigned long long) failovers,
                         failovers == 1 ? "" : "s", missing - (unsigned long long) lost,
                         linger_ms, why);
}

int
herald__links_count (const herald__links_t *self)
{
    return self->n;
}

const char *
herald__links_endpoint (const herald__links_t *self, int i)
{
    return i >= 0 && i < self->n ? self->link[i].endpoint : NULL;
}

int
herald__links_up (herald__links_t *self, int i)
{
    if (i < 0 || i >= self->n)
        return 0;
    s_refresh (self);
    return self->link[i].state == S_UP;
}

//  One counter of a link.
static uint64_t
s_stat (const s_link_t *l, int which)
{
    switch (which) {
        case HERALD_STAT_SENT: return l->sent;
        case HERALD_STAT_CONFIRMED: return l->confirmed;
        case HERALD_STAT_LOST: return l->lost;
        case HERALD_STAT_REROUTED: return l->rerouted;
        case HERALD_STAT_FAILOVERS: return l->failovers;
        default: return 0;
    }
}

uint64_t
herald__links_stat (herald__links_t *self, int i, int which)
{
    if (i < -1 || i >= self->n)
        return 0;
    s_refresh (self);
    if (i >= 0)
        return s_stat (&self->link[i], which);
    uint64_t sum = 0;
    for (int k = 0; k < self->n; k++)
        sum += s_stat (&self->link[k], which);
    return sum;
}
