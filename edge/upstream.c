/*  upstream.c: the broker subscription of herald-edge. See upstream.h.
 *
 *  libherald's descriptor is watched with a uv_poll. It signals edges, not
 *  levels, so every wake-up drains the subscriber until it is empty. A
 *  drain stops after a batch, to keep the loop serving sockets during a
 *  flood, and a uv_idle handle brings it back on the next loop turn.
 *  After a subscription changes the descriptor may have been reset too, so
 *  the same idle handle schedules a drain then.
 */
#include "upstream.h"
#include "herald.h"
#include "log.h"

#include <stdlib.h>

#define BATCH 1024

struct upstream {
    uv_poll_t poll;
    uv_idle_t idle;
    int open_handles;
    herald_subscriber_t *sub;
    upstream_event_fn *on_event;
    void *ctx;
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
        self->on_event (self->ctx, herald_event_topic (ev), payload, size);
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

upstream_t *
upstream_new (uv_loop_t *loop, const char *endpoint, upstream_event_fn *on_event, void *ctx)
{
    upstream_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    int err, fd;
    self->on_event = on_event;
    self->ctx = ctx;
    self->sub = herald_subscriber_new (endpoint, &err);
    if (!self->sub || herald_subscriber_fd (self->sub, &fd) != HERALD_OK) {
        hlog_error ("cannot subscribe to the broker at %s: %s", endpoint, herald_errmsg ());
        herald_subscriber_destroy (&self->sub);
        free (self);
        return NULL;
    }
    //  The edge keeps up with its own queues; let the library queue
    //  freely rather than lose events at this hop.
    herald_subscriber_set_option (self->sub, HERALD_OPT_HWM, 0);
    uv_poll_init (loop, &self->poll, fd);
    uv_idle_init (loop, &self->idle);
    self->poll.data = self->idle.data = self;
    self->open_handles = 2;
    uv_poll_start (&self->poll, UV_READABLE, s_on_poll);
    return self;
}

static void
s_on_closed (uv_handle_t *handle)
{
    upstream_t *self = handle->data;
    if (--self->open_handles == 0) {
        herald_subscriber_destroy (&self->sub);
        free (self);
    }
}

void
upstream_close (upstream_t *self)
{
    if (!self)
        return;
    uv_close ((uv_handle_t *) &self->poll, s_on_closed);
    uv_close ((uv_handle_t *) &self->idle, s_on_closed);
}

int
upstream_subscribe (upstream_t *self, const char *topic)
{
    if (herald_subscribe (self->sub, topic) != HERALD_OK) {
        hlog_warn ("cannot subscribe to topic %s: %s", topic, herald_errmsg ());
        return -1;
    }
    hlog_debug ("subscribed upstream to %s", topic);
    uv_idle_start (&self->idle, s_on_idle);
    return 0;
}

void
upstream_unsubscribe (upstream_t *self, const char *topic)
{
    herald_unsubscribe (self->sub, topic);
    hlog_debug ("unsubscribed upstream from %s", topic);
    uv_idle_start (&self->idle, s_on_idle);
}

uint64_t
upstream_skipped (const upstream_t *self)
{
    return herald_subscriber_skipped (self->sub);
}
