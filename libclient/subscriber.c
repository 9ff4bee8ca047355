/*  subscriber.c: herald_subscriber_t and herald_event_t, the caller's side.
 *
 *  The socket is a ZeroMQ SUB connected to the broker's XPUB egress; it
 *  belongs to the subscriber's relay thread (relay.c), and the caller
 *  reads the SUB's messages from the relay's PAIR and sends it the
 *  (un)subscriptions. The relay has already dropped (and counted) what
 *  breaks the wire format or the payload limit. ZeroMQ matches
 *  subscriptions by prefix, so every message is checked here against the
 *  set of subscribed topics and kept only on an exact match.
 *
 *  Confirmation (herald_subscriber_sync): the subscriber subscribes to a
 *  fresh token topic under "$herald/sync/". A broker answers such a
 *  subscription by publishing one message on it. Subscriptions travel in
 *  order on the connection, so when that answer arrives every earlier
 *  subscription is in place at the broker. After a dropped connection the
 *  SUB sends all its subscriptions again, in its own order rather than
 *  the order they were made, so an answer counts only if no connection
 *  dropped between the token's subscription and its answer.
 *
 *  With a list of brokers the relay holds a SUB for each, and each broker
 *  gets a token of its own ("<token>.<index>"), since each answers only
 *  for its own connection. sync then waits for the answer of every broker
 *  that is connected, and of at least one: one that is down has nothing
 *  to deliver, and its SUB subscribes again when it is back. A broker not
 *  yet reached is not taken for down until one heartbeat timeout after
 *  the subscriber was made: until then a publisher may well be sending
 *  it events, so sync waits for its answer too.
 */
#include "private.h"
#include "mpjson.h"
#include "wire.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

struct herald_event {
    herald_event_t *next;       //  in the subscriber's queue
    zmq_msg_t payload;
    zmq_msg_t meta;
    int has_meta;
    char *json;
    size_t json_len;
    char topic[HERALD_TOPIC_MAX + 1];
};

//  One broker's confirmation state: subscribe() bumps sub_gen; a token
//  confirms the generation it was issued at, for as long as that broker's
//  connection does not drop.
typedef struct {
    uint64_t confirmed_gen;
    uint64_t confirmed_drops;
    uint64_t token_gen;
    uint64_t token_drops;
    int token_live;
    char token[64];
} s_sync_t;

struct herald_subscriber {
    void *ctx;
    void *pipe;                 //  the caller's end of the relay's PAIR
    herald__relay_t *relay;
    int n;                      //  brokers
    herald__heartbeat_t hb;     //  as last set
    int64_t born;               //  zclock_mono () when made
    uint64_t consumed;          //  messages read from the PAIR
    zhashx_t *topics;           //  subscribed topics; the values are unused
    uint64_t skipped;           //  besides the relay's
    uint64_t sub_gen;
    s_sync_t sync[HERALD_BROKERS_MAX];
    //  Events that arrived while sync waited, oldest first.
    herald_event_t *head;
    herald_event_t *tail;
    herald_event_t *spare;      //  reused when a message is not delivered
};

static void
s_event_free (herald_event_t *ev)
{
    zmq_msg_close (&ev->payload);
    zmq_msg_close (&ev->meta);
    free (ev->json);
    free (ev);
}

//  One broker, as a subscriber has always been made.
static int
s_open_one (herald_subscriber_t *self, const char *endpoint, const herald__curve_t *curve)
{
    void *sock, *monitor;
    char used[1024];
    const char *used_p = used;
    static const herald__heartbeat_t one = HERALD__HEARTBEAT_ONE;
    self->n = 1;
    self->hb = one;
    int rc = herald__socket_open (ZMQ_SUB, endpoint, "HERALD_SUB_ENDPOINT",
                                  HERALD_DEFAULT_SUB_ENDPOINT, curve, &self->ctx, &sock, &monitor,
                                  used, sizeof used);
    if (rc == HERALD_OK)
        rc = herald__relay_start (self->ctx, 1, &sock, &monitor, &used_p, &self->relay,
                                  &self->pipe);
    return rc;
}

//  A SUB for each broker of the list, with the list's heartbeats, all in
//  one context.
static int
s_open_list (herald_subscriber_t *self, const char *list, const herald__curve_t *curve)
{
    herald__endpoints_t eps;
    void *subs[HERALD_BROKERS_MAX], *mons[HERALD_BROKERS_MAX];
    const char *names[HERALD_BROKERS_MAX];
    int made = 0;
    int rc = herald__endpoints_split (list, &eps);
    self->hb = (herald__heartbeat_t) { HERALD__HEARTBEAT_MS, HERALD__HEARTBEAT_TIMEOUT_MS, 1 };
    if (rc == HERALD_OK && !(self->ctx = zmq_ctx_new ()))
        rc = herald__zmq_fail ("zmq_ctx_new");
    for (; rc == HERALD_OK && made < eps.n; made++) {
        char addr[64];
        snprintf (addr, sizeof addr, "inproc://herald-monitor-%d", made);
        rc = herald__socket_new (self->ctx, ZMQ_SUB, eps.ep[made], curve, &self->hb, addr,
                                 HERALD__EVENTS, &subs[made], &mons[made]);
        if (rc == HERALD_OK && (rc = herald__connect (subs[made], eps.ep[made])) != HERALD_OK) {
            herald__monitor_close (subs[made], &mons[made]);
            zmq_close (subs[made]);
        }
        names[made] = eps.ep[made];
    }
    if (rc == HERALD_OK) {
        self->n = eps.n;
        return herald__relay_start (self->ctx, eps.n, subs, mons, names, &self->relay,
                                    &self->pipe);
    }
    //  (the failed one, made - 1, closed itself)
    for (int i = 0; i < made - 1; i++) {
        herald__monitor_close (subs[i], &mons[i]);
        zmq_close (subs[i]);
    }
    return rc;
}

//  A subscriber connected to endpoint, over CURVE if curve names files.
static herald_subscriber_t *
s_new (const char *endpoint, const herald__curve_t *curve, int *err)
{
    int rc = HERALD_ERR_NOMEM;
    herald_subscriber_t *self = calloc (1, sizeof *self);
    if (!self || !(self->topics = zhashx_new ())) {
        herald__fail (rc, NULL);
        goto fail;
    }
    self->born = zclock_mono ();
    const char *resolved = herald__endpoint_resolve (endpoint, "HERALD_SUB_ENDPOINT",
                                                     HERALD_DEFAULT_SUB_ENDPOINT);
    rc = strchr (resolved, ',') ? s_open_list (self, resolved, curve)
                                : s_open_one (self, endpoint, curve);
    if (rc == HERALD_OK)
        goto out;
fail:
    herald_subscriber_destroy (&self);
out:
    if (err)
        *err = rc;
    return self;
}

herald_subscriber_t *
herald_subscriber_new (const char *endpoint, int *err)
{
    return s_new (endpoint, NULL, err);
}

herald_subscriber_t *
herald_subscriber_new_secure (const char *endpoint, const char *server,
                              const char *client_cert, int *err)
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

void
herald_subscriber_destroy (herald_subscriber_t **sub)
{
    if (!sub || !*sub)
        return;
    herald_subscriber_t *self = *sub;
    herald__relay_stop (&self->relay, self->ctx);
    herald__socket_close (&self->ctx, &self->pipe);
    zhashx_destroy (&self->topics);
    while (self->head) {
        herald_event_t *ev = self->head;
        self->head = ev->next;
        s_event_free (ev);
    }
    free (self->spare);
    free (self);
    *sub = NULL;
}

int
herald_subscriber_set_option (herald_subscriber_t *self, int option, int64_t value)
{
    if (!self)
        return herald__fail (HERALD_ERR_INVALID, "subscriber is NULL");
    switch (option) {
        case HERALD_OPT_HWM: {
            if (value < 0 || value > INT32_MAX)
                return herald__fail (HERALD_ERR_INVALID, "hwm must be 0..2^31-1 messages");
            herald__relay_set_hwm (self->relay, (int) value);
            return HERALD_OK;
        }
        case HERALD_OPT_MAX_PAYLOAD:
            if (value < 1 || value > WIRE_PAYLOAD_HARD_MAX)
                return herald__fail (HERALD_ERR_INVALID, "max payload must be 1..%u bytes",
                                     WIRE_PAYLOAD_HARD_MAX);
            herald__relay_set_max_payload (self->relay, (size_t) value);
            return HERALD_OK;
        case HERALD_OPT_HEARTBEAT_MS:
        case HERALD_OPT_HEARTBEAT_TIMEOUT_MS:
            if (value < 1 || value > HERALD_HEARTBEAT_MAX_MS)
                return herald__fail (HERALD_ERR_INVALID, "heartbeat times must be 1..%d ms",
                                     HERALD_HEARTBEAT_MAX_MS);
            if (option == HERALD_OPT_HEARTBEAT_MS)
                self->hb.ivl = (int) value;
            else
                self->hb.timeout = (int) value;
            self->hb.ttl = 1;
            return herald__relay_command (self->pipe, HERALD__RELAY_HEARTBEAT, &self->hb,
                                          sizeof self->hb);
        default:
            return herald__fail (HERALD_ERR_INVALID,
                                 "option %d does not apply to a subscriber", option);
    }
}

//  (Un)subscribes through the relay, which applies it in order.
static int
s_zmq_sub (herald_subscriber_t *self, int option, const char *topic, size_t len)
{
    return herald__relay_command (self->pipe, option == ZMQ_SUBSCRIBE
                                  ? HERALD__RELAY_SUBSCRIBE : HERALD__RELAY_UNSUBSCRIBE,
                                  topic, len);
}

int
herald_subscribe (herald_subscriber_t *self, const char *topic)
{
    size_t len;
    if (!self)
        return herald__fail (HERALD_ERR_INVALID, "subscriber is NULL");
    int rc = herald__check_topic (topic, &len, 0);
    if (rc != HERALD_OK || zhashx_lookup (self->topics, topic))
        return rc;
    rc = s_zmq_sub (self, ZMQ_SUBSCRIBE, topic, len);
    if (rc == HERALD_OK && zhashx_insert (self->topics, topic, self) != 0) {
        s_zmq_sub (self, ZMQ_UNSUBSCRIBE, topic, len);
        rc = herald__fail (HERALD_ERR_NOMEM, NULL);
    }
    if (rc == HERALD_OK)
        self->sub_gen++;
    return rc;
}

int
herald_unsubscribe (herald_subscriber_t *self, const char *topic)
{
    size_t len;
    if (!self)
        return herald__fail (HERALD_ERR_INVALID, "subscriber is NULL");
    int rc = herald__check_topic (topic, &len, 0);
    if (rc != HERALD_OK || !zhashx_lookup (self->topics, topic))
        return rc;
    zhashx_delete (self->topics, topic);
    return s_zmq_sub (self, ZMQ_UNSUBSCRIBE, topic, len);
}

uint64_t
herald_subscriber_skipped (const herald_subscriber_t *self)
{
    return self && self->relay ? self->skipped + herald__relay_skipped (self->relay) : 0;
}

int
herald_subscriber_connected (const herald_subscriber_t *self)
{
    return self && self->relay ? herald__relay_connected (self->relay, -1) : 0;
}

int
herald_subscriber_refused (const herald_subscriber_t *self)
{
    return self && self->relay ? herald__relay_refused (self->relay, -1) : 0;
}

int
herald_subscriber_brokers (const herald_subscriber_t *self)
{
    return self && self->relay ? self->n : 0;
}

const char *
herald_subscriber_broker_endpoint (const herald_subscriber_t *self, int i)
{
    return self && self->relay ? herald__relay_endpoint (self->relay, i) : NULL;
}

int
herald_subscriber_broker_connected (const herald_subscriber_t *self, int i)
{
    if (!self || !self->relay || i < 0 || i >= self->n)
        return 0;
    return herald__relay_connected (self->relay, i);
}

int
herald_subscriber_fd (herald_subscriber_t *self, int *fd)
{
    if (!self || !fd)
        return herald__fail (HERALD_ERR_INVALID, "NULL argument");
    size_t size = sizeof *fd;
    if (zmq_getsockopt (self->pipe, ZMQ_FD, fd, &size) != 0)
        return herald__zmq_fail ("zmq_getsockopt(ZMQ_FD)");
    return HERALD_OK;
}

//  (Un)subscribes a token at broker i only.
static int
s_token_sub (herald_subscriber_t *self, int i, int subscribe)
{
    char arg[1 + sizeof self->sync[i].token];
    size_t len = strlen (self->sync[i].token);
    arg[0] = (char) i;
    memcpy (arg + 1, self->sync[i].token, len);
    return herald__relay_command (self->pipe, subscribe ? HERALD__RELAY_SUBSCRIBE_ONE
                                                        : HERALD__RELAY_UNSUBSCRIBE_ONE,
                                  arg, 1 + len);
}

//  Subscribe broker i to a new token, covering every subscription made so
//  far.
static int
s_token_issue (herald_subscriber_t *self, int i)
{
    s_sync_t *t = &self->sync[i];
    uint64_t r;
    if (getrandom (&r, sizeof r, 0) != sizeof r)
        r = (uint64_t) time (NULL) ^ ((uint64_t) getpid () << 32) ^ (uint64_t) (uintptr_t) self
            ^ (uint64_t) i;
    if (t->token_live)
        s_token_sub (self, i, 0);
    if (self->n == 1)
        snprintf (t->token, sizeof t->token, WIRE_SYNC_PREFIX "%016llx", (unsigned long long) r);
    else
        snprintf (t->token, sizeof t->token, WIRE_SYNC_PREFIX "%016llx.%d",
                  (unsigned long long) r, i);
    t->token_live = 0;
    //  Taken before subscribing, so that a drop in between voids the token.
    uint64_t drops = herald__relay_drops (self->relay, i);
    int rc = s_token_sub (self, i, 1);
    if (rc == HERALD_OK) {
        t->token_live = 1;
        t->token_gen = self->sub_gen;
        t->token_drops = drops;
    }
    return rc;
}

static void
s_token_answered (herald_subscriber_t *self, int i)
{
    s_sync_t *t = &self->sync[i];
    //  An answer after a dropped connection may have overtaken the other
    //  subscriptions; herald_subscriber_sync then asks again.
    if (t->token_drops == herald__relay_drops (self->relay, i)) {
        t->confirmed_gen = t->token_gen;
        t->confirmed_drops = t->token_drops;
    }
    t->token_live = 0;
    s_token_sub (self, i, 0);
}

//  Receives the next frame of a message whose first frame has come.
static int
s_recv_frame (herald_subscriber_t *self, zmq_msg_t *frame)
{
    while (zmq_msg_recv (frame, self->pipe, 0) < 0)
        if (zmq_errno () != EINTR)
            return herald__zmq_fail ("receive");
    return HERALD_OK;
}

//  Receives one message without waiting. Returns HERALD_OK with *out set
//  to an event to deliver, HERALD_OK with *out NULL if the message was
//  consumed here (a token answer, a topic not subscribed, a bad message),
//  HERALD_ERR_TIMEOUT if nothing is waiting, or another error.
static int
s_read_one (herald_subscriber_t *self, herald_event_t **out)
{
    *out = NULL;
    herald_event_t *ev = self->spare;
    self->spare = NULL;
    if (!ev && !(ev = malloc (sizeof *ev)))
        return herald__fail (HERALD_ERR_NOMEM, NULL);
    zmq_msg_t topic;
    zmq_msg_init (&topic);
    zmq_msg_init (&ev->payload);
    zmq_msg_init (&ev->meta);
    ev->has_meta = 0;
    ev->json = NULL;
    ev->next = NULL;

    int rc = HERALD_OK;
    if (zmq_msg_recv (&topic, self->pipe, ZMQ_DONTWAIT) < 0) {
        int e = zmq_errno ();
        rc = e == EAGAIN ? HERALD_ERR_TIMEOUT
             : e == EINTR ? HERALD_ERR_INTERRUPTED : herald__zmq_fail ("receive");
        goto done;
    }
    //  The relay passes on only messages that keep the wire format's rules,
    //  as three frames (the metadata's empty if there is none), in bundles
    //  that arrive whole.
    rc = s_recv_frame (self, &ev->payload);
    if (rc == HERALD_OK)
        rc = s_recv_frame (self, &ev->meta);
    if (rc != HERALD_OK)
        goto done;
    ev->has_meta = zmq_msg_size (&ev->meta) > 0;
    //  The end of a bundle: let the relay know how far the caller is.
    self->consumed++;
    if (!zmq_msg_more (&ev->meta))
        herald__relay_consumed (self->relay, self->pipe, self->consumed);

    size_t tlen = zmq_msg_size (&topic);
    const char *tdata = zmq_msg_data (&topic);
    if (tlen > HERALD_TOPIC_MAX) {      //  (cannot happen; the relay checked)
        self->skipped++;
        goto done;
    }
    memcpy (ev->topic, tdata, tlen);
    ev->topic[tlen] = 0;
    if (wire_topic_reserved (tdata, tlen)) {
        for (int i = 0; i < self->n; i++)
            if (self->sync[i].token_live && strcmp (ev->topic, self->sync[i].token) == 0)
                s_token_answered (self, i);
        goto done;
    }
    if (zhashx_lookup (self->topics, ev->topic)) {
        *out = ev;
        ev = NULL;
    }
done:
    zmq_msg_close (&topic);
    if (ev) {
        zmq_msg_close (&ev->payload);
        zmq_msg_close (&ev->meta);
        self->spare = ev;
    }
    return rc;
}

//  Waits until the socket may have input, or the deadline (-1: none).
static int
s_wait (herald_subscriber_t *self, int64_t deadline)
{
    long timeout = -1;
    if (deadline >= 0) {
        timeout = (long) (deadline - zclock_mono ());
        if (timeout <= 0)
            return herald__fail (HERALD_ERR_TIMEOUT, NULL);
    }
    zmq_pollitem_t item = { self->pipe, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, timeout) < 0)
        return herald__zmq_fail ("wait");
    return HERALD_OK;
}

int
herald_recv (herald_subscriber_t *self, herald_event_t **event, int timeout_ms)
{
    if (!self || !event)
        return herald__fail (HERALD_ERR_INVALID, "NULL argument");
    *event = NULL;
    if (self->head) {
        *event = self->head;
        self->head = self->head->next;
        if (!self->head)
            self->tail = NULL;
        (*event)->next = NULL;
        return HERALD_OK;
    }
    int64_t deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    while (1) {
        int rc = s_read_one (self, event);
        if (rc == HERALD_OK && *event)
            return HERALD_OK;
        if (rc == HERALD_OK)
            continue;
        if (rc != HERALD_ERR_TIMEOUT)
            return rc;
        if (timeout_ms == 0)
            return herald__fail (HERALD_ERR_TIMEOUT, NULL);
        rc = s_wait (self, deadline);
        if (rc != HERALD_OK)
            return rc;
    }
}

//  Whether broker i is one that the subscriber is still reaching for the
//  first time: never greeted nor refused, and the heartbeat timeout since
//  the subscriber was made has not yet run out.
static int
s_reaching (const herald_subscriber_t *self, int i)
{
    return !herald__relay_greeted (self->relay, i) && !herald__relay_refused (self->relay, i)
           && zclock_mono () < self->born + self->hb.timeout;
}

//  Whether sync is done: every broker that is connected has confirmed the
//  subscriptions, and at least one has (with one broker: it has). Issues a
//  fresh token to each broker that has not confirmed and holds none that
//  could.
static int
s_sync_check (herald_subscriber_t *self, int *rc)
{
    int done = 1, confirmed = 0;
    *rc = HERALD_OK;
    for (int i = 0; i < self->n && *rc == HERALD_OK; i++) {
        s_sync_t *t = &self->sync[i];
        uint64_t drops = herald__relay_drops (self->relay, i);
        if (t->confirmed_gen == self->sub_gen && t->confirmed_drops == drops) {
            confirmed++;
            continue;
        }
        if (self->n == 1 || herald__relay_connected (self->relay, i) || s_reaching (self, i))
            done = 0;
        if (!t->token_live || t->token_gen != self->sub_gen || t->token_drops != drops)
            *rc = s_token_issue (self, i);
    }
    return done && confirmed > 0;
}

int
herald_subscriber_sync (herald_subscriber_t *self, int timeout_ms)
{
    if (!self)
        return herald__fail (HERALD_ERR_INVALID, "subscriber is NULL");
    int64_t deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    while (1) {
        int rc;
        if (s_sync_check (self, &rc))
            return HERALD_OK;
        if (rc != HERALD_OK)
            return rc;
        herald_event_t *ev;
        rc = s_read_one (self, &ev);
        if (rc == HERALD_OK && ev) {
            if (self->tail)
                self->tail->next = ev;
            else
                self->head = ev;
            self->tail = ev;
            continue;
        }
        if (rc == HERALD_OK)
            continue;
        if (rc != HERALD_ERR_TIMEOUT)
            return rc;
        if (timeout_ms == 0)
            return herald__fail (HERALD_ERR_TIMEOUT,
                                 "the broker has not yet confirmed the subscriptions");
        //  With several brokers, one may come up or go down meanwhile,
        //  which no message announces: look again at least every 100 ms.
        int64_t wake = deadline;
        if (self->n > 1 && (wake < 0 || wake > zclock_mono () + 100))
            wake = zclock_mono () + 100;
        rc = s_wait (self, wake);
        if (rc == HERALD_ERR_TIMEOUT && wake != deadline)
            continue;
        if (rc == HERALD_ERR_TIMEOUT)
            return herald__fail (HERALD_ERR_TIMEOUT,
                                 "the broker did not confirm the subscriptions in time");
        if (rc != HERALD_OK)
            return rc;
    }
}

const char *
herald_event_topic (const herald_event_t *ev)
{
    return ev ? ev->topic : NULL;
}

const void *
herald_event_payload (const herald_event_t *ev, size_t *size)
{
    if (!ev)
        return NULL;
    if (size)
        *size = zmq_msg_size ((zmq_msg_t *) &ev->payload);
    return zmq_msg_data ((zmq_msg_t *) &ev->payload);
}

const char *
herald_event_json (herald_event_t *ev, size_t *len)
{
    if (!ev)
        return NULL;
    if (!ev->json
        && mpjson_to_json (zmq_msg_data (&ev->payload), zmq_msg_size (&ev->payload),
                           &ev->json, &ev->json_len) != 0) {
        herald__fail (HERALD_ERR_NOMEM, NULL);
        return NULL;
    }
    if (len)
        *len = ev->json_len;
    return ev->json;
}

const void *
herald_event_metadata (const herald_event_t *ev, size_t *size)
{
    if (!ev || !ev->has_meta)
        return NULL;
    if (size)
        *size = zmq_msg_size ((zmq_msg_t *) &ev->meta);
    return zmq_msg_data ((zmq_msg_t *) &ev->meta);
}

int
herald_event_stamp (const herald_event_t *ev, uint64_t *epoch, uint64_t *offset)
{
    if (!ev || !epoch || !offset)
        return herald__fail (HERALD_ERR_INVALID, "NULL argument");
    if (!ev->has_meta
        || wire_stamp_decode (zmq_msg_data ((zmq_msg_t *) &ev->meta),
                              zmq_msg_size ((zmq_msg_t *) &ev->meta), epoch, offset) != 0)
        return herald__fail (HERALD_ERR_INVALID, "the event carries no offset and epoch");
    return HERALD_OK;
}

void
herald_event_destroy (herald_event_t **event)
{
    if (!event || !*event)
        return;
    s_event_free (*event);
    *event = NULL;
}
