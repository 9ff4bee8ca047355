/*  upstream.c: the broker subscription of herald-edge. See upstream.h.
 *
 *  libherald's descriptor is watched with a uv_poll. It signals edges, not
 *  levels, so every wake-up drains the subscriber until it is empty. A
 *  drain stops after a batch, to keep the loop serving sockets during a
 *  flood, and a uv_idle handle brings it back on the next loop turn.
 *  After a subscription changes the descriptor may have been reset too, so
 *  the same idle handle schedules a drain then.
 *
 *  A uv_timer polls libherald's view of the broker connection every
 *  LINK_POLL_MS and logs each change, so that an operator sees the link go
 *  down and come back (and /metrics shows it as a gauge), and whether the
 *  broker refused it (CURVE: --curve-server and --curve-cert).
 *
 *  --broker may be a list of brokers: libherald then holds a link to each
 *  and the edge receives each event once, from whichever broker its
 *  publisher sent it to. Each link's changes are logged with its endpoint.
 */
#include "upstream.h"
#include "herald.h"
#include "hub.h"
#include "log.h"
#include "net.h"

#include <stdlib.h>
#include <string.h>

#define BATCH 1024
#define LINK_POLL_MS 500
#define LINK_GRACE_TICKS 4      //  2 s

//  What the link timer last saw of one broker's link.
typedef struct {
    int checked;                //  the timer has reported a state
    int connected;              //  as it last saw it
    int64_t down_since;         //  uv_now when the link was seen down; -1: up
} s_link_t;

struct upstream {
    uv_poll_t poll;
    uv_idle_t idle;
    uv_timer_t link_timer;
    int ticks;                  //  timer runs so far, up to LINK_GRACE_TICKS
    int refused;                //  the broker's refusal, as last seen
    size_t n;                   //  brokers
    s_link_t *links;
    char *endpoint;
    int open_handles;
    herald_subscriber_t *sub;
    hub_t *hub;
};

static void s_on_idle (uv_idle_t *handle);

static void
s_drain (upstream_t *self)
{
    for (int i = 0; i < BATCH; i++) {
        herald_event_t *ev;
        int rc = herald_recv (self->sub, &ev, 0);
        if (rc != HERALD_OK) {
            if (rc != HERALD_ERR_TIMEOUT)
                hlog_warn ("upstream receive failed: %s", herald_errmsg ());
            uv_idle_stop (&self->idle);
            return;
        }
        size_t size;
        const void *payload = herald_event_payload (ev, &size);
        hub_publish (self->hub, herald_event_topic (ev), payload, size);
        herald_event_destroy (&ev);
    }
    //  More may be waiting: come back on the next loop turn.
    uv_idle_start (&self->idle, s_on_idle);
}

static void
s_on_poll (uv_poll_t *handle, int status, int events)
{
    (void) status;
    (void) events;
    s_drain (handle->data);
}

static void
s_on_idle (uv_idle_t *handle)
{
    s_drain (handle->data);
}

//  Says once per refusal that the broker turned the link away: libherald
//  keeps retrying, and the warning names what to check.
static void
s_check_refused (upstream_t *self)
{
    int refused = herald_subscriber_refused (self->sub);
    if (refused && !self->refused)
        hlog_warn ("the broker at %s refused the link: not authorised (CURVE: is "
                   "--curve-server its public certificate, and the public half of "
                   "--curve-cert in its --curve-subscribers?); retrying", self->endpoint);
    self->refused = refused;
}

//  Logs one broker's link when it changed.
static void
s_check_link (upstream_t *self, size_t i, uint64_t at)
{
    s_link_t *l = &self->links[i];
    int now = herald_subscriber_broker_connected (self->sub, (int) i);
    const char *endpoint = herald_subscriber_broker_endpoint (self->sub, (int) i);
    if (l->checked && now == l->connected)
        return;
    //  At start, give the first handshake a moment before calling the
    //  broker missing.
    if (!l->checked && !now && self->ticks < LINK_GRACE_TICKS)
        return;
    int first = !l->checked;
    l->checked = 1;
    l->connected = now;
    if (now && l->down_since < 0)
        hlog_info ("connected to the broker at %s", endpoint);
    else if (now) {
        hlog_info ("the broker link to %s is back after %.1f s", endpoint,
                   (double) (at - (uint64_t) l->down_since) / 1000.0);
        l->down_since = -1;
    }
    else if (self->n > 1) {
        hlog_warn (first ? "no broker at %s yet: retrying; its topics go to the next broker "
                           "in the list meanwhile"
                         : "the broker link to %s is down: its topics go to the next broker "
                           "in the list until it is back", endpoint);
        l->down_since = (int64_t) at;
    }
    else {
        hlog_warn (first ? "no broker at %s yet: retrying, no events until it answers"
                         : "the broker link to %s is down: no events until it is back",
                   endpoint);
        l->down_since = (int64_t) at;
    }
}

static void
s_on_link_timer (uv_timer_t *handle)
{
    upstream_t *self = handle->data;
    s_check_refused (self);
    if (self->ticks < LINK_GRACE_TICKS)
        self->ticks++;
    uint64_t at = uv_now (handle->loop);
    for (size_t i = 0; i < self->n; i++)
        s_check_link (self, i, at);
}

//  Frees an upstream whose loop handles were never opened.
static void
s_free (upstream_t *self)
{
    herald_subscriber_destroy (&self->sub);
    free (self->links);
    free (self->endpoint);
    free (self);
}

upstream_t *
upstream_new (uv_loop_t *loop, const char *endpoint, int hwm)
{
    upstream_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    int err, fd;
    self->endpoint = strdup (endpoint);
    //  The CURVE files come from the configuration (upstream.h's callers
    //  know nothing of them); NULL ones are plaintext.
    const edge_config_t *cfg = net_edge.cfg;
    self->sub = self->endpoint ? herald_subscriber_new_secure (endpoint, cfg->curve_server,
                                                               cfg->curve_cert, &err)
                               : NULL;
    if (!self->sub || herald_subscriber_fd (self->sub, &fd) != HERALD_OK) {
        hlog_error ("cannot subscribe to the broker at %s: %s", endpoint, herald_errmsg ());
        s_free (self);
        return NULL;
    }
    self->n = (size_t) herald_subscriber_brokers (self->sub);
    self->links = calloc (self->n, sizeof *self->links);
    if (!self->links) {
        hlog_error ("out of memory");
        s_free (self);
        return NULL;
    }
    for (size_t i = 0; i < self->n; i++)
        self->links[i].down_since = -1;
    //  A bounded queue: when the edge falls behind (a stall, a burst of
    //  large events), TCP pushes back to the broker, whose own queue for
    //  the edge takes the rest and whose drops are counted there
    //  (messages_dropped in `herald stats`), instead of the edge's
    //  memory growing without bound.
    //  Heartbeats before the first subscription: setting them makes the
    //  links again.
    if ((cfg->broker_heartbeat_ms
         && herald_subscriber_set_option (self->sub, HERALD_OPT_HEARTBEAT_MS,
                                          cfg->broker_heartbeat_ms) != HERALD_OK)
        || (cfg->broker_heartbeat_timeout_ms
            && herald_subscriber_set_option (self->sub, HERALD_OPT_HEARTBEAT_TIMEOUT_MS,
                                             cfg->broker_heartbeat_timeout_ms) != HERALD_OK)) {
        hlog_error ("cannot set the broker heartbeats: %s", herald_errmsg ());
        s_free (self);
        return NULL;
    }
    if (herald_subscriber_set_option (self->sub, HERALD_OPT_HWM, hwm) != HERALD_OK) {
        hlog_error ("cannot set the upstream queue bound: %s", herald_errmsg ());
        s_free (self);
        return NULL;
    }
    //  uv_poll_init is the one that can fail (a descriptor epoll refuses);
    //  the idle and timer handles cannot, once the loop exists.
    err = uv_poll_init (loop, &self->poll, fd);
    if (err != 0) {
        hlog_error ("cannot watch the broker link: %s", uv_strerror (err));
        s_free (self);
        return NULL;
    }
    uv_idle_init (loop, &self->idle);
    uv_timer_init (loop, &self->link_timer);
    self->poll.data = self->idle.data = self->link_timer.data = self;
    self->open_handles = 3;
    return self;
}

void
upstream_start (upstream_t *self, hub_t *hub)
{
    self->hub = hub;
    uv_poll_start (&self->poll, UV_READABLE, s_on_poll);
    uv_timer_start (&self->link_timer, s_on_link_timer, LINK_POLL_MS, LINK_POLL_MS);
}

static void
s_on_closed (uv_handle_t *handle)
{
    upstream_t *self = handle->data;
    if (--self->open_handles == 0)
        s_free (self);
}

void
upstream_close (upstream_t *self)
{
    if (!self)
        return;
    uv_close ((uv_handle_t *) &self->poll, s_on_closed);
    uv_close ((uv_handle_t *) &self->idle, s_on_closed);
    uv_close ((uv_handle_t *) &self->link_timer, s_on_closed);
}

int
upstream_topic_add (void *ctx, const char *topic)
{
    upstream_t *self = ctx;
    if (herald_subscribe (self->sub, topic) != HERALD_OK) {
        hlog_warn ("cannot subscribe to topic %s: %s", topic, herald_errmsg ());
        return -1;
    }
    hlog_debug ("subscribed upstream to %s", topic);
    uv_idle_start (&self->idle, s_on_idle);
    return 0;
}

void
upstream_topic_remove (void *ctx, const char *topic)
{
    upstream_t *self = ctx;
    herald_unsubscribe (self->sub, topic);
    hlog_debug ("unsubscribed upstream from %s", topic);
    uv_idle_start (&self->idle, s_on_idle);
}

int
upstream_connected (const upstream_t *self)
{
    return herald_subscriber_connected (self->sub);
}

size_t
upstream_brokers (const upstream_t *self)
{
    return self->n;
}

const char *
upstream_broker_endpoint (const upstream_t *self, size_t i)
{
    return herald_subscriber_broker_endpoint (self->sub, (int) i);
}

int
upstream_broker_connected (const upstream_t *self, size_t i)
{
    return herald_subscriber_broker_connected (self->sub, (int) i);
}

uint64_t
upstream_skipped (const upstream_t *self)
{
    return herald_subscriber_skipped (self->sub);
}
