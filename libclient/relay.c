/*  relay.c: a subscriber's background thread, which owns its SUB socket.
 *
 *  libzmq does a socket's connection work (attaching the pipe of a new
 *  connection and sending the subscriptions again after a reconnect) only
 *  while the application is inside a call on that socket. A SUB used
 *  straight from the caller's thread therefore renews its subscriptions
 *  only at the caller's next receive, and whatever the broker published
 *  in between is lost. The relay is always waiting in zmq_poll on the SUB,
 *  so a reconnect is handled the moment it happens.
 *
 *  The relay also checks each message against the wire format and the
 *  payload limit, and drops and counts what fails, so that this work is
 *  done beside the caller's thread rather than in its herald_recv. The
 *  rest go to the caller over an inproc PAIR; zmq_msg_send hands a frame's
 *  buffer on rather than copying it. Each message goes as exactly three
 *  frames, [topic][payload][metadata], the last empty when there is none
 *  (metadata is a msgpack map, never empty). Whatever the SUB holds when
 *  the relay looks, up to RELAY_BATCH messages, goes as one multipart
 *  bundle: the caller reads it three frames at a time, and the PAIR wakes
 *  the caller once per bundle instead of once per message, which is what
 *  lets it catch up with a backlog quickly. A bundle ends as soon as the
 *  SUB has nothing more, so a lone event is not held back.
 *
 *  Subscribe and unsubscribe commands come the other way on the same PAIR,
 *  so they reach the SUB in the order they were made. (The high-water mark
 *  is not a command but an atomic that the relay applies whenever it
 *  wakes, which is before any message is relayed: a send on the caller's
 *  end can use up the edge of its descriptor, which the caller is told to
 *  expect after subscribing, not after setting an option.)
 *
 *  Backpressure is counted here rather than left to the PAIR's high-water
 *  mark, which libzmq counts in whole bundles and, while a bundle is read,
 *  answers with a command per frame. The relay counts the messages it has
 *  sent and the caller those it has read (once per bundle); at RELAY_LIMIT
 *  (or HERALD_OPT_HWM, if lower)
 *  in transit the relay stops reading the SUB and pauses, and the caller,
 *  having read down to half that, wakes it with a resume command. Meanwhile
 *  the SUB's queue fills up to HERALD_OPT_HWM: the broker sees a full
 *  subscriber and counts the drops, as without a relay.
 *
 *  A monitor on the SUB reports handshakes, refused ones included, and
 *  disconnections; the relay keeps them in atomics that any thread may
 *  read.
 *
 *  With a list of brokers the relay holds one SUB per broker, each with
 *  its monitor and its state, and relays from all of them alike (each
 *  topic comes from one broker at a time: the one the publishers route it
 *  to). Subscriptions go to every SUB; the caller's confirmation tokens go
 *  to one each ('s' and 'u' commands), so that sync knows which broker
 *  answered.
 *
 *  This is a plain thread rather than a CZMQ zactor: a zactor's pipe lives
 *  in CZMQ's process-wide context, whose set-up installs signal handlers
 *  and whose exit handler reports leftover sockets, neither of which a
 *  library should do to its host, and each subscriber keeps a context of
 *  its own.
 */
#include "private.h"
#include "wire.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

//  The most messages in transit from the relay to the caller; less when
//  HERALD_OPT_HWM is lower, so that the option bounds what is held in the
//  caller's process (the SUB's queue and this), not only the SUB's queue.
#define RELAY_LIMIT 1000
//  The most messages in a bundle; also how many are relayed before the
//  relay looks at commands and events again, so that a flood cannot hold
//  up a subscribe.
#define RELAY_BATCH 256

#define RELAY_ENDPOINT "inproc://herald-relay"
//  After the broker refuses a handshake (ZAP status 400), libzmq gives the
//  connection up for good; the relay connects again after this long, so
//  that a key the broker allows later (SIGHUP) gets in without a restart.
#define RELAY_REFUSED_RETRY_MS 1000

//  One broker's SUB and what its monitor said.
typedef struct {
    void *sub;                  //  the SUB to the broker; the thread's
    void *monitor;              //  its connection events; the thread's
    int connected;              //  atomic: handshake done, not dropped since
    int greeted;                //  atomic: a handshake was ever done
    int refused;                //  atomic: the last handshake was refused
    uint64_t drops;             //  atomic: disconnections seen
    int64_t retry_at;           //  the thread's: when to connect again; 0 never
    char endpoint[1024];        //  as connected
} s_link_t;

struct herald__relay {
    pthread_t thread;
    int n;                      //  brokers
    s_link_t link[HERALD_BROKERS_MAX];
    void *pipe;                 //  the relay's end of the PAIR; the thread's
    zmq_msg_t msg[3];           //  the message being relayed
    int frames;                 //  as read from the SUB
    zmq_msg_t tail;             //  the last frame of the bundle so far, unsent
    uint64_t relayed;           //  atomic: messages sent to the caller
    uint64_t consumed;          //  atomic: messages the caller has read
    int paused;                 //  atomic: the relay waits for a resume
    int hwm;                    //  atomic: the SUB's ZMQ_RCVHWM wanted
    int hwm_set;                //  the thread's: the one in force
    size_t max_payload;         //  atomic: HERALD_OPT_MAX_PAYLOAD
    uint64_t skipped;           //  atomic: messages dropped as invalid
};

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  New heartbeats for every link: ZeroMQ reads them when it connects, so
//  each link is made again (the SUB sends its subscriptions anew).
static void
s_heartbeat (herald__relay_t *self, const unsigned char *arg, size_t size)
{
    herald__heartbeat_t hb;
    if (size != sizeof hb)
        return;
    memcpy (&hb, arg, sizeof hb);
    for (int i = 0; i < self->n; i++) {
        s_link_t *l = &self->link[i];
        herald__heartbeat_apply (l->sub, &hb);
        zmq_disconnect (l->sub, l->endpoint);
        zmq_connect (l->sub, l->endpoint);
    }
}

//  Applies one command: an opcode byte and its argument.
static void
s_command (herald__relay_t *self, const unsigned char *data, size_t size)
{
    if (size < 1)
        return;
    int one = data[0] == HERALD__RELAY_SUBSCRIBE_ONE || data[0] == HERALD__RELAY_UNSUBSCRIBE_ONE;
    if (one && (size < 2 || data[1] >= self->n))
        return;
    switch (data[0]) {
        case HERALD__RELAY_SUBSCRIBE:
        case HERALD__RELAY_UNSUBSCRIBE:
            for (int i = 0; i < self->n; i++)
                zmq_setsockopt (self->link[i].sub, data[0] == HERALD__RELAY_SUBSCRIBE
                                ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE, data + 1, size - 1);
            break;
        case HERALD__RELAY_SUBSCRIBE_ONE:
        case HERALD__RELAY_UNSUBSCRIBE_ONE:
            zmq_setsockopt (self->link[data[1]].sub, data[0] == HERALD__RELAY_SUBSCRIBE_ONE
                            ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE, data + 2, size - 2);
            break;
        case HERALD__RELAY_HEARTBEAT:
            s_heartbeat (self, data + 1, size - 1);
            break;
        case HERALD__RELAY_RESUME:
            break;              //  waking up was the point
    }
}

//  Applies every waiting command. Returns -1 once the context is shut
//  down (herald__relay_stop), else 0.
static int
s_commands (herald__relay_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    int rc = 0;
    while (1) {
        if (zmq_msg_recv (&msg, self->pipe, ZMQ_DONTWAIT) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            if (zmq_errno () != EAGAIN)
                rc = -1;
            break;
        }
        s_command (self, zmq_msg_data (&msg), zmq_msg_size (&msg));
    }
    zmq_msg_close (&msg);
    return rc;
}

static void
s_events (s_link_t *l)
{
    int event;
    while ((event = herald__monitor_read (l->monitor)) != 0) {
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            __atomic_store_n (&l->connected, 1, __ATOMIC_RELEASE);
            __atomic_store_n (&l->greeted, 1, __ATOMIC_RELEASE);
            __atomic_store_n (&l->refused, 0, __ATOMIC_RELEASE);
        }
        else if (HERALD__REFUSED (event)) {
            __atomic_store_n (&l->refused, 1, __ATOMIC_RELEASE);
            if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
                l->retry_at = s_now_ms () + RELAY_REFUSED_RETRY_MS;
        }
        else if (event == ZMQ_EVENT_DISCONNECTED) {
            //  Counted even when no handshake had been done: the SUB sends
            //  its subscriptions again after any dropped connection.
            __atomic_store_n (&l->connected, 0, __ATOMIC_RELEASE);
            __atomic_add_fetch (&l->drops, 1, __ATOMIC_RELEASE);
        }
    }
}

//  Sends the frame, retrying when a signal interrupts. The PAIR has no
//  high-water mark, so only a context shutting down fails it.
static int
s_send (herald__relay_t *self, zmq_msg_t *frame, int flags)
{
    while (zmq_msg_send (frame, self->pipe, flags) < 0)
        if (zmq_errno () != EINTR)
            return -1;
    return 0;
}

//  Reads a whole message from the SUB without waiting (wire_recv keeps
//  three frames at most, and initialises them: s_clear left them empty).
//  Returns 0 if nothing is waiting.
static int
s_read (herald__relay_t *self, void *sub)
{
    return wire_recv (sub, self->msg, &self->frames) == 0;
}

//  The checks every hop makes, and the payload's and metadata's own.
//  Reserved topics pass: the broker's confirmations of subscriptions.
static int
s_valid (herald__relay_t *self)
{
    zmq_msg_t *m = self->msg;
    size_t max = __atomic_load_n (&self->max_payload, __ATOMIC_RELAXED);
    return wire_frames_check (m, self->frames, 1) == WIRE_OK
           && zmq_msg_size (&m[1]) <= max
           && wire_msgpack_check (zmq_msg_data (&m[1]), zmq_msg_size (&m[1])) == WIRE_OK
           && (self->frames < 3
               || wire_metadata_check (zmq_msg_data (&m[2]), zmq_msg_size (&m[2])) == WIRE_OK);
}

//  Empties the message's frames for the next one.
static void
s_clear (herald__relay_t *self)
{
    for (int i = 0; i < 3; i++) {
        zmq_msg_close (&self->msg[i]);
        zmq_msg_init (&self->msg[i]);
    }
    self->frames = 0;
}

//  Relays one bundle of up to 'room' messages from a SUB. Returns how
//  many it relayed.
static uint64_t
s_forward (herald__relay_t *self, void *sub, uint64_t room)
{
    uint64_t bundled = 0;
    for (int reads = 0; bundled < room && reads < RELAY_BATCH && s_read (self, sub); reads++) {
        if (!s_valid (self)) {
            __atomic_add_fetch (&self->skipped, 1, __ATOMIC_RELAXED);
            s_clear (self);
            continue;
        }
        if (bundled > 0)
            s_send (self, &self->tail, ZMQ_SNDMORE);
        s_send (self, &self->msg[0], ZMQ_SNDMORE);
        s_send (self, &self->msg[1], ZMQ_SNDMORE);
        //  The metadata frame (empty if none) goes with the next message
        //  or as the end of the bundle, whichever comes.
        zmq_msg_move (&self->tail, &self->msg[2]);
        s_clear (self);
        bundled++;
    }
    if (bundled > 0) {
        s_send (self, &self->tail, 0);
        __atomic_add_fetch (&self->relayed, bundled, __ATOMIC_SEQ_CST);
    }
    return bundled;
}

static uint64_t
s_limit (const herald__relay_t *self)
{
    int hwm = __atomic_load_n (&self->hwm, __ATOMIC_ACQUIRE);
    return hwm > 0 && hwm < RELAY_LIMIT ? (uint64_t) hwm : RELAY_LIMIT;
}

//  How many more messages may be relayed now; 0 pauses the relay until
//  the caller has read down to half the limit (herald__relay_consumed).
static uint64_t
s_room (herald__relay_t *self)
{
    uint64_t limit = s_limit (self);
    uint64_t in_transit = self->relayed - __atomic_load_n (&self->consumed, __ATOMIC_SEQ_CST);
    if (in_transit < limit)
        return limit - in_transit < RELAY_BATCH ? limit - in_transit : RELAY_BATCH;
    __atomic_store_n (&self->paused, 1, __ATOMIC_SEQ_CST);
    //  The caller may have read meanwhile without seeing the pause.
    in_transit = self->relayed - __atomic_load_n (&self->consumed, __ATOMIC_SEQ_CST);
    if (in_transit <= limit / 2) {
        __atomic_store_n (&self->paused, 0, __ATOMIC_SEQ_CST);
        return limit - in_transit < RELAY_BATCH ? limit - in_transit : RELAY_BATCH;
    }
    return 0;
}

//  Connects again the links whose refusal's wait is over, and returns
//  how long the poll may wait for the next one (-1: none is due).
static long
s_retry (herald__relay_t *self)
{
    long timeout = -1;
    int64_t now = s_now_ms ();
    for (int i = 0; i < self->n; i++) {
        s_link_t *l = &self->link[i];
        if (!l->retry_at)
            continue;
        if (now >= l->retry_at) {
            //  (The disconnect ends whatever is left of the refused one, so
            //  that there is never a second connection.)
            zmq_disconnect (l->sub, l->endpoint);
            zmq_connect (l->sub, l->endpoint);
            l->retry_at = 0;
        }
        else if (timeout < 0 || l->retry_at - now < timeout)
            timeout = (long) (l->retry_at - now);
    }
    return timeout;
}

static void
s_apply_hwm (herald__relay_t *self)
{
    int hwm = __atomic_load_n (&self->hwm, __ATOMIC_ACQUIRE);
    if (hwm == self->hwm_set)
        return;
    for (int i = 0; i < self->n; i++)
        zmq_setsockopt (self->link[i].sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    self->hwm_set = hwm;
}

static void *
s_run (void *arg)
{
    herald__relay_t *self = arg;
    //  [0] the pipe, then each link's monitor, then each link's SUB.
    zmq_pollitem_t items[1 + 2 * HERALD_BROKERS_MAX];
    int n = self->n;
    items[0] = (zmq_pollitem_t) { self->pipe, 0, ZMQ_POLLIN, 0 };
    for (int i = 0; i < n; i++) {
        items[1 + i] = (zmq_pollitem_t) { self->link[i].monitor, 0, ZMQ_POLLIN, 0 };
        items[1 + n + i] = (zmq_pollitem_t) { self->link[i].sub, 0, ZMQ_POLLIN, 0 };
    }
    while (1) {
        s_apply_hwm (self);
        //  With no room, the SUBs are not read: that is the backpressure.
        uint64_t room = s_room (self);
        long timeout = s_retry (self);
        if (zmq_poll (items, room ? 1 + 2 * n : 1 + n, timeout) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;              //  ETERM: the context is shutting down
        }
        s_retry (self);
        //  Events first: a new connection's handshake is then known before
        //  anything that came on it is relayed.
        for (int i = 0; i < n; i++)
            if (items[1 + i].revents & ZMQ_POLLIN)
                s_events (&self->link[i]);
        if ((items[0].revents & ZMQ_POLLIN) && s_commands (self) != 0)
            break;
        for (int i = 0; i < n && room; i++)
            if (items[1 + n + i].revents & ZMQ_POLLIN)
                room -= s_forward (self, self->link[i].sub, room);
    }
    s_clear (self);
    zmq_msg_close (&self->tail);
    for (int i = 0; i < n; i++) {
        herald__monitor_close (self->link[i].sub, &self->link[i].monitor);
        zmq_close (self->link[i].sub);
        self->link[i].sub = NULL;
    }
    zmq_close (self->pipe);
    self->pipe = NULL;
    return NULL;
}

//  Creates both ends of the PAIR, with no high-water marks: commands are
//  few and always read, and the relay bounds the events itself.
static int
s_pair (void *ctx, void **mine, void **theirs)
{
    int rc = HERALD_OK;
    *mine = zmq_socket (ctx, ZMQ_PAIR);
    *theirs = zmq_socket (ctx, ZMQ_PAIR);
    if (!*mine || !*theirs)
        rc = herald__zmq_fail ("zmq_socket");
    if (rc == HERALD_OK) rc = herald__setsockopt_int (*theirs, ZMQ_LINGER, 0);
    if (rc == HERALD_OK) rc = herald__setsockopt_int (*theirs, ZMQ_SNDHWM, 0);
    if (rc == HERALD_OK) rc = herald__setsockopt_int (*theirs, ZMQ_RCVHWM, 0);
    if (rc == HERALD_OK) rc = herald__setsockopt_int (*mine, ZMQ_LINGER, 0);
    if (rc == HERALD_OK) rc = herald__setsockopt_int (*mine, ZMQ_SNDHWM, 0);
    if (rc == HERALD_OK) rc = herald__setsockopt_int (*mine, ZMQ_RCVHWM, 0);
    if (rc == HERALD_OK && zmq_bind (*theirs, RELAY_ENDPOINT) != 0)
        rc = herald__zmq_fail ("zmq_bind (relay)");
    if (rc == HERALD_OK && zmq_connect (*mine, RELAY_ENDPOINT) != 0)
        rc = herald__zmq_fail ("zmq_connect (relay)");
    return rc;
}

int
herald__relay_start (void *ctx, int n, void *const *subs, void *const *monitors,
                     const char *const *endpoints, herald__relay_t **relay, void **pipe)
{
    *relay = NULL;
    *pipe = NULL;
    herald__relay_t *self = calloc (1, sizeof *self);
    int rc = self ? HERALD_OK : herald__fail (HERALD_ERR_NOMEM, NULL);
    if (rc == HERALD_OK) {
        self->n = n;
        for (int i = 0; i < n; i++) {
            self->link[i].sub = subs[i];
            self->link[i].monitor = monitors[i];
            snprintf (self->link[i].endpoint, sizeof self->link[i].endpoint, "%s", endpoints[i]);
        }
        self->hwm = self->hwm_set = HERALD_DEFAULT_HWM;     //  as herald__socket_open set it
        self->max_payload = WIRE_PAYLOAD_MAX;
        for (int i = 0; i < 3; i++)
            zmq_msg_init (&self->msg[i]);
        zmq_msg_init (&self->tail);
        rc = s_pair (ctx, &self->pipe, pipe);
    }
    if (rc == HERALD_OK) {
        //  The thread blocks every signal, as ZeroMQ's own threads do, so
        //  that signals meant for the application reach its threads and
        //  interrupt its blocking calls.
        sigset_t all, old;
        sigfillset (&all);
        pthread_sigmask (SIG_SETMASK, &all, &old);
        int e = pthread_create (&self->thread, NULL, s_run, self);
        pthread_sigmask (SIG_SETMASK, &old, NULL);
        if (e != 0)
            rc = herald__fail (e == ENOMEM || e == EAGAIN ? HERALD_ERR_NOMEM : HERALD_ERR_TRANSPORT,
                               "cannot start the subscriber's thread: %s", strerror (e));
    }
    if (rc == HERALD_OK) {
        *relay = self;
        return rc;
    }
    //  The thread never ran: close what it would have closed.
    for (int i = 0; i < n; i++) {
        void *monitor = monitors[i];
        herald__monitor_close (subs[i], &monitor);
        zmq_close (subs[i]);
    }
    if (self) {
        if (self->pipe)
            zmq_close (self->pipe);
        s_clear (self);
        zmq_msg_close (&self->tail);
        free (self);
    }
    if (*pipe)
        zmq_close (*pipe);
    *pipe = NULL;
    return rc;
}

int
herald__relay_command (void *pipe, int op, const void *arg, size_t len)
{
    unsigned char buf[2 + HERALD_TOPIC_MAX];
    if (len > HERALD_TOPIC_MAX + 1)
        return herald__fail (HERALD_ERR_INVALID, "command argument too long");
    buf[0] = (unsigned char) op;
    if (len)
        memcpy (buf + 1, arg, len);
    //  The command queue has no limit, so this never waits.
    while (zmq_send (pipe, buf, 1 + len, ZMQ_DONTWAIT) < 0)
        if (zmq_errno () != EINTR)
            return herald__zmq_fail ("command to the subscriber's thread");
    return HERALD_OK;
}

void
herald__relay_set_hwm (herald__relay_t *self, int hwm)
{
    __atomic_store_n (&self->hwm, hwm, __ATOMIC_RELEASE);
}

void
herald__relay_consumed (herald__relay_t *self, void *pipe, uint64_t total)
{
    __atomic_store_n (&self->consumed, total, __ATOMIC_SEQ_CST);
    if (__atomic_load_n (&self->paused, __ATOMIC_SEQ_CST)
        && __atomic_load_n (&self->relayed, __ATOMIC_SEQ_CST) - total <= s_limit (self) / 2
        && __atomic_exchange_n (&self->paused, 0, __ATOMIC_SEQ_CST))
        herald__relay_command (pipe, HERALD__RELAY_RESUME, NULL, 0);
}

void
herald__relay_set_max_payload (herald__relay_t *self, size_t max)
{
    __atomic_store_n (&self->max_payload, max, __ATOMIC_RELAXED);
}

uint64_t
herald__relay_skipped (const herald__relay_t *self)
{
    return __atomic_load_n (&self->skipped, __ATOMIC_RELAXED);
}

//  A flag of one broker's (i >= 0), or whether any broker has it (-1).
static int
s_any (const herald__relay_t *self, int i, size_t offset)
{
    int lo = i < 0 ? 0 : i, hi = i < 0 ? self->n : i + 1, any = 0;
    for (int k = lo; k < hi && k < self->n; k++)
        any |= __atomic_load_n ((const int *) ((const char *) &self->link[k] + offset),
                                __ATOMIC_ACQUIRE);
    return any;
}

int
herald__relay_refused (const herald__relay_t *self, int i)
{
    return s_any (self, i, offsetof (s_link_t, refused));
}

int
herald__relay_connected (const herald__relay_t *self, int i)
{
    return s_any (self, i, offsetof (s_link_t, connected));
}

int
herald__relay_greeted (const herald__relay_t *self, int i)
{
    return s_any (self, i, offsetof (s_link_t, greeted));
}

uint64_t
herald__relay_drops (const herald__relay_t *self, int i)
{
    uint64_t sum = 0;
    int lo = i < 0 ? 0 : i, hi = i < 0 ? self->n : i + 1;
    for (int k = lo; k < hi && k < self->n; k++)
        sum += __atomic_load_n (&self->link[k].drops, __ATOMIC_ACQUIRE);
    return sum;
}

int
herald__relay_brokers (const herald__relay_t *self)
{
    return self->n;
}

const char *
herald__relay_endpoint (const herald__relay_t *self, int i)
{
    return i >= 0 && i < self->n ? self->link[i].endpoint : NULL;
}

void
herald__relay_stop (herald__relay_t **relay, void *ctx)
{
    if (!*relay)
        return;
    //  Shutting the context down ends the relay's zmq_poll with ETERM.
    zmq_ctx_shutdown (ctx);
    pthread_join ((*relay)->thread, NULL);
    free (*relay);
    *relay = NULL;
}
