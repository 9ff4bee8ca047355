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
 *  Subscriptions to "$herald/sync/<token>" are answered with one message
 *  on that topic (unless an upstream broker is configured, which answers
 *  instead), which lets a subscriber know its subscriptions are in place.
 */
#include "broker.h"
#include "log.h"
#include "wire.h"

#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define BATCH 512               //  messages per socket per poll round

struct broker {
    broker_config_t config;
    zsock_t *ingress;
    zsock_t *xsub;
    zsock_t *egress;
    zsock_t *stats;
    void *ingress_h;            //  raw libzmq handles, for the hot path
    void *xsub_h;
    void *egress_h;
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

static zsock_t *
s_socket (int type, const char *role, const char *endpoints, const broker_config_t *cfg)
{
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        hlog_error ("cannot create the %s socket: %s", role, zmq_strerror (zmq_errno ()));
        return NULL;
    }
    zsock_set_maxmsgsize (sock, (int) cfg->max_payload);
    zsock_set_heartbeat_ivl (sock, 5000);
    zsock_set_heartbeat_timeout (sock, 15000);
    zsock_set_rcvhwm (sock, cfg->ingress_hwm);
    zsock_set_sndhwm (sock, cfg->egress_hwm);
    if (endpoints && *endpoints && s_bind_all (sock, role, endpoints) != 0)
        zsock_destroy (&sock);
    return sock;
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

    self->egress = s_socket (ZMQ_XPUB, "egress", cfg->egress, cfg);
    if (!self->egress)
        goto fail;
    zsock_set_xpub_nodrop (self->egress, 1);
    zsock_set_linger (self->egress, cfg->drain_ms);
    self->egress_h = zsock_resolve (self->egress);

    if (*cfg->ingress) {
        self->ingress = s_socket (ZMQ_PULL, "ingress", cfg->ingress, cfg);
        if (!self->ingress)
            goto fail;
        self->ingress_h = zsock_resolve (self->ingress);
    }
    if (*cfg->xsub || *cfg->upstream) {
        self->xsub = s_socket (ZMQ_XSUB, "xsub", cfg->xsub, cfg);
        if (!self->xsub)
            goto fail;
        self->xsub_h = zsock_resolve (self->xsub);
        if (*cfg->upstream) {
            if (zsock_connect (self->xsub, "%s", cfg->upstream) != 0) {
                hlog_error ("cannot connect to upstream %s: %s", cfg->upstream,
                            zmq_strerror (zmq_errno ()));
                goto fail;
            }
            hlog_info ("relaying from upstream broker %s", cfg->upstream);
        }
    }
    if (*cfg->stats) {
        self->stats = s_socket (ZMQ_ROUTER, "stats", cfg->stats, cfg);
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
    free (self);
    *self_p = NULL;
}

const broker_counters_t *
broker_counters (const broker_t *self)
{
    return &self->counters;
}

//  Sends a complete message on the egress, counting a drop if some
//  subscriber's queue could not take it. Takes ownership of the frames.
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
            for (int k = i; k < n; k++)
                zmq_msg_close (&frames[k]);
            return;
        }
    }
    self->counters.forwarded++;
}

//  Reads up to BATCH messages from an ingress socket and forwards the
//  well-formed ones. Returns how many it read, or -1 on a fatal error.
static int
s_pump (broker_t *self, void *from, uint64_t *received, int trusted_reserved)
{
    for (int m = 0; m < BATCH; m++) {
        zmq_msg_t frames[3];
        int n = 0, more = 1, rc = 0;
        while (more) {
            zmq_msg_t *dst = &frames[n < 3 ? n : 2];
            zmq_msg_t extra;
            if (n >= 3) {
                zmq_msg_init (&extra);
                dst = &extra;
            }
            else
                zmq_msg_init (dst);
            rc = zmq_msg_recv (dst, from, ZMQ_DONTWAIT);
            if (rc < 0) {
                zmq_msg_close (dst);
                break;
            }
            more = zmq_msg_more (dst);
            if (n >= 3)
                zmq_msg_close (&extra);
            n++;
        }
        if (rc < 0 && n == 0) {
            if (zmq_errno () == EAGAIN || zmq_errno () == EINTR)
                return m;
            hlog_error ("ingress receive failed: %s", zmq_strerror (zmq_errno ()));
            return -1;
        }
        (*received)++;
        int kept = n < 3 ? n : 3;
        wire_err_t werr = WIRE_OK;
        if (rc < 0 || n < 2 || n > 3)
            werr = WIRE_FRAMES;
        else {
            const char *topic = zmq_msg_data (&frames[0]);
            size_t tlen = zmq_msg_size (&frames[0]);
            werr = wire_topic_check (topic, tlen);
            if (werr == WIRE_OK && !trusted_reserved && wire_topic_reserved (topic, tlen))
                werr = WIRE_TOPIC_RESERVED;
        }
        if (werr != WIRE_OK) {
            self->counters.malformed++;
            hlog_debug ("refused a message: %s", wire_strerror (werr));
            for (int k = 0; k < kept; k++)
                zmq_msg_close (&frames[k]);
            continue;
        }
        s_egress_send (self, frames, n);
    }
    return BATCH;
}

//  Handles subscription messages arriving on the egress: counts topics,
//  passes them upstream, and answers confirmation tokens.
static void
s_egress_read (broker_t *self)
{
    for (int m = 0; m < BATCH; m++) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->egress_h, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            return;
        }
        int more = zmq_msg_more (&msg);
        const unsigned char *data = zmq_msg_data (&msg);
        size_t size = zmq_msg_size (&msg);
        if (!more && size >= 1 && (data[0] == 0 || data[0] == 1)) {
            const char *topic = (const char *) data + 1;
            size_t tlen = size - 1;
            int subscribe = data[0] == 1;
            int is_sync = tlen > sizeof WIRE_SYNC_PREFIX - 1
                          && memcmp (topic, WIRE_SYNC_PREFIX, sizeof WIRE_SYNC_PREFIX - 1) == 0;
            if (!is_sync) {
                if (subscribe)
                    self->counters.subscriptions++;
                else if (self->counters.subscriptions > 0)
                    self->counters.subscriptions--;
                hlog_debug ("%s %.*s", subscribe ? "subscribe" : "unsubscribe", (int) tlen,
                            topic);
            }
            if (self->xsub_h)
                zmq_send (self->xsub_h, data, size, ZMQ_DONTWAIT);
            if (is_sync && subscribe && !*self->config.upstream
                && wire_topic_check (topic, tlen) == WIRE_OK) {
                zmq_msg_t frames[2];
                const unsigned char nil = 0xc0;
                zmq_msg_init_size (&frames[0], tlen);
                memcpy (zmq_msg_data (&frames[0]), topic, tlen);
                zmq_msg_init_size (&frames[1], 1);
                memcpy (zmq_msg_data (&frames[1]), &nil, 1);
                s_egress_send (self, frames, 2);
                self->counters.sync_answered++;
            }
        }
        else
            self->counters.malformed++;
        zmq_msg_close (&msg);
        //  Drop the rest of any multipart message a raw peer sent.
        while (more) {
            zmq_msg_init (&msg);
            if (zmq_msg_recv (&msg, self->egress_h, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&msg);
                break;
            }
            more = zmq_msg_more (&msg);
            zmq_msg_close (&msg);
        }
    }
}

static int
s_counters_json (broker_t *self, char *buf, size_t size)
{
    const broker_counters_t *c = &self->counters;
    return snprintf (buf, size,
                     "{\"version\":\"%s\",\"uptime_seconds\":%lld,"
                     "\"messages_in\":%llu,\"messages_in_push\":%llu,"
                     "\"messages_in_pub\":%llu,\"messages_forwarded\":%llu,"
                     "\"messages_dropped\":%llu,\"messages_malformed\":%llu,"
                     "\"subscriptions\":%llu,\"sync_answered\":%llu}",
                     HERALD_BROKER_VERSION,
                     (long long) ((zclock_mono () - self->started) / 1000),
                     (unsigned long long) (c->in_push + c->in_pub),
                     (unsigned long long) c->in_push, (unsigned long long) c->in_pub,
                     (unsigned long long) c->forwarded, (unsigned long long) c->dropped,
                     (unsigned long long) c->malformed,
                     (unsigned long long) c->subscriptions,
                     (unsigned long long) c->sync_answered);
}

static void
s_log_counters (broker_t *self)
{
    char json[512];
    s_counters_json (self, json, sizeof json);
    hlog_info ("counters %s", json);
}

//  Answers any request on the stats socket with the counters as JSON. The
//  reply goes back on the requester's envelope; a request that is not a
//  well-formed REQ envelope is answered the same way or ignored.
static void
s_stats_read (broker_t *self)
{
    void *h = zsock_resolve (self->stats);
    for (int m = 0; m < 64; m++) {
        zmq_msg_t id;
        zmq_msg_init (&id);
        if (zmq_msg_recv (&id, h, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&id);
            return;
        }
        int more = zmq_msg_more (&id), frames = 0;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init (&part);
            if (zmq_msg_recv (&part, h, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&part);
                break;
            }
            more = zmq_msg_more (&part);
            zmq_msg_close (&part);
            frames++;
        }
        if (frames >= 2) {
            char json[512];
            int n = s_counters_json (self, json, sizeof json);
            zmq_msg_send (&id, h, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send (h, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send (h, json, (size_t) n, ZMQ_DONTWAIT);
        }
        zmq_msg_close (&id);
    }
}

int
broker_run (broker_t *self)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGUSR1);
    int sfd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        hlog_error ("signalfd: %s", strerror (errno));
        return -1;
    }
    //  Only the sockets that exist are polled; absent ones keep index -1.
    zmq_pollitem_t items[5];
    int n = 0, i_ingress = -1, i_xsub = -1, i_stats = -1;
    items[n++] = (zmq_pollitem_t) { NULL, sfd, ZMQ_POLLIN, 0 };
    const int i_signal = 0, i_egress = n;
    items[n++] = (zmq_pollitem_t) { self->egress_h, 0, ZMQ_POLLIN, 0 };
    if (self->ingress_h) {
        i_ingress = n;
        items[n++] = (zmq_pollitem_t) { self->ingress_h, 0, ZMQ_POLLIN, 0 };
    }
    if (self->xsub_h) {
        i_xsub = n;
        items[n++] = (zmq_pollitem_t) { self->xsub_h, 0, ZMQ_POLLIN, 0 };
    }
    if (self->stats) {
        i_stats = n;
        items[n++] = (zmq_pollitem_t) { zsock_resolve (self->stats), 0, ZMQ_POLLIN, 0 };
    }
    //  An upstream broker legitimately sends confirmation answers.
    const int xsub_trusted = *self->config.upstream != 0;
    int64_t interval = (int64_t) self->config.stats_interval * 1000;
    int64_t next_log = interval ? zclock_mono () + interval : -1;
    int rc = 0;
    const char *why = NULL;
    while (!why) {
        long timeout = next_log < 0 ? -1 : (long) (next_log - zclock_mono ());
        if (timeout < 0 && next_log >= 0)
            timeout = 0;
        if (zmq_poll (items, n, timeout) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            hlog_error ("poll failed: %s", zmq_strerror (zmq_errno ()));
            rc = -1;
            break;
        }
        if (items[i_egress].revents & ZMQ_POLLIN)
            s_egress_read (self);
        if (i_ingress >= 0 && items[i_ingress].revents & ZMQ_POLLIN
            && s_pump (self, self->ingress_h, &self->counters.in_push, 0) < 0) {
            rc = -1;
            break;
        }
        if (i_xsub >= 0 && items[i_xsub].revents & ZMQ_POLLIN
            && s_pump (self, self->xsub_h, &self->counters.in_pub, xsub_trusted) < 0) {
            rc = -1;
            break;
        }
        if (i_stats >= 0 && items[i_stats].revents & ZMQ_POLLIN)
            s_stats_read (self);
        if (items[i_signal].revents & ZMQ_POLLIN) {
            struct signalfd_siginfo si;
            while (read (sfd, &si, sizeof si) == (ssize_t) sizeof si) {
                if (si.ssi_signo == SIGUSR1)
                    s_log_counters (self);
                else
                    why = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
            }
        }
        if (next_log >= 0 && zclock_mono () >= next_log) {
            s_log_counters (self);
            next_log = zclock_mono () + interval;
        }
    }
    if (why) {
        //  Forward what has already arrived, so that a restart loses only
        //  what was still on the wire; egress linger then flushes it.
        hlog_info ("%s: draining and shutting down", why);
        while (self->ingress_h && s_pump (self, self->ingress_h, &self->counters.in_push, 0) == BATCH)
            ;
        while (self->xsub_h && s_pump (self, self->xsub_h, &self->counters.in_pub, xsub_trusted) == BATCH)
            ;
        s_log_counters (self);
    }
    close (sfd);
    return rc;
}
