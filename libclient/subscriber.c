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

struct herald_subscriber {
    void *ctx;
    void *pipe;                 //  the caller's end of the relay's PAIR
    herald__relay_t *relay;
    uint64_t consumed;          //  messages read from the PAIR
    zhashx_t *topics;           //  subscribed topics; the values are unused
    uint64_t skipped;           //  besides the relay's
    //  Confirmation state: subscribe() bumps sub_gen; a token confirms the
    //  generation it was issued at, for as long as no connection drops.
    uint64_t sub_gen;
    uint64_t confirmed_gen;
    uint64_t confirmed_drops;
    uint64_t token_gen;
    uint64_t token_drops;
    int token_live;
    char token[64];
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
    void *sock, *monitor;
    char used[1024];
    rc = herald__socket_open (ZMQ_SUB, endpoint, "HERALD_SUB_ENDPOINT",
                              HERALD_DEFAULT_SUB_ENDPOINT, curve, &self->ctx, &sock, &monitor,
                              used, sizeof used);
    if (rc == HERALD_OK)
        rc = herald__relay_start (self->ctx, sock, monitor, used, &self->relay, &self->pipe);
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
    return self && self->relay ? herald__relay_connected (self->relay) : 0;
}

int
herald_subscriber_refused (const herald_subscriber_t *self)
{
    return self && self->relay ? herald__relay_refused (self->relay) : 0;
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

//  Subscribe to a new token, covering every subscription made so far.
static int
s_token_issue (herald_subscriber_t *self)
{
    uint64_t r;
    if (getrandom (&r, sizeof r, 0) != sizeof r)
        r = (uint64_t) time (NULL) ^ ((uint64_t) getpid () << 32) ^ (uint64_t) (uintptr_t) self;
    if (self->token_live)
        s_zmq_sub (self, ZMQ_UNSUBSCRIBE, self->token, strlen (self->token));
    snprintf (self->token, sizeof self->token, WIRE_SYNC_PREFIX "%016llx",
              (unsigned long long) r);
    self->token_live = 0;
    //  Taken before subscribing, so that a drop in between voids the token.
    uint64_t drops = herald__relay_drops (self->relay);
    int rc = s_zmq_sub (self, ZMQ_SUBSCRIBE, self->token, strlen (self->token));
    if (rc == HERALD_OK) {
        self->token_live = 1;
        self->token_gen = self->sub_gen;
        self->token_drops = drops;
    }
    return rc;
}

static void
s_token_answered (herald_subscriber_t *self)
{
    //  An answer after a dropped connection may have overtaken the other
    //  subscriptions; herald_subscriber_sync then asks again.
    if (self->token_drops == herald__relay_drops (self->relay)) {
        self->confirmed_gen = self->token_gen;
        self->confirmed_drops = self->token_drops;
    }
    self->token_live = 0;
    s_zmq_sub (self, ZMQ_UNSUBSCRIBE, self->token, strlen (self->token));
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
        if (self->token_live && strcmp (ev->topic, self->token) == 0)
            s_token_answered (self);
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

int
herald_subscriber_sync (herald_subscriber_t *self, int timeout_ms)
{
    if (!self)
        return herald__fail (HERALD_ERR_INVALID, "subscriber is NULL");
    int64_t deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    while (1) {
        uint64_t drops = herald__relay_drops (self->relay);
        if (self->confirmed_gen == self->sub_gen && self->confirmed_drops == drops)
            return HERALD_OK;
        if (!self->token_live || self->token_gen != self->sub_gen
            || self->token_drops != drops) {
            int rc = s_token_issue (self);
            if (rc != HERALD_OK)
                return rc;
        }
        herald_event_t *ev;
        int rc = s_read_one (self, &ev);
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
        rc = s_wait (self, deadline);
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

void
herald_event_destroy (herald_event_t **event)
{
    if (!event || !*event)
        return;
    s_event_free (*event);
    *event = NULL;
}
