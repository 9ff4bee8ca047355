/*  private.h: what libherald's source files share and no one else sees. */
#ifndef HERALD_PRIVATE_H
#define HERALD_PRIVATE_H

#include "herald.h"

#include <pthread.h>
#include <stddef.h>
#include <zmq.h>

#define HERALD_DEFAULT_LINGER_MS 2000
#define HERALD_DEFAULT_SEND_TIMEOUT_MS 1000
#define HERALD_DEFAULT_HWM 100000

//  The most brokers in a list, and the longest endpoint in one.
#define HERALD_BROKERS_MAX 16
#define HERALD__ENDPOINT_MAX 256

//  ZMTP heartbeats: a PING every ivl ms; no answer within timeout ms ends
//  the connection; with ttl, the broker is asked to do likewise. One
//  endpoint keeps the values it always had; a list of brokers uses the
//  options' defaults (herald.h), so that its failover is quick.
typedef struct {
    int ivl;
    int timeout;
    int ttl;
} herald__heartbeat_t;
#define HERALD__HEARTBEAT_ONE { 5000, 15000, 0 }
#define HERALD__HEARTBEAT_MS 500
#define HERALD__HEARTBEAT_TIMEOUT_MS 1500
#define HERALD_HEARTBEAT_MAX_MS 600000

/*  Record a failure for herald_errmsg and return err. The message is
 *  formatted like printf; NULL means herald_strerror(err). */
int herald__fail (int err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/*  Map the current zmq_errno() to a herald_err_t, recording the failure. */
int herald__zmq_fail (const char *what);

/*  Check a caller's topic. Returns HERALD_OK or HERALD_ERR_TOPIC. */
int herald__check_topic (const char *topic, size_t *len, int allow_reserved);

/*  The CURVE files a _new_secure call names, after the environment's
 *  fallbacks: both NULL for plaintext. */
typedef struct {
    const char *server;         //  the broker's public certificate, or its key
    const char *cert;           //  the client's secret certificate
} herald__curve_t;

/*  Fill curve from the caller's arguments (NULL or "" selects
 *  $HERALD_CURVE_SERVER and $HERALD_CURVE_CERT). Returns HERALD_OK, or
 *  HERALD_ERR_KEY if only one of the two is there. */
int herald__curve_resolve (herald__curve_t *curve, const char *server, const char *cert);

/*  The endpoint a call means: endpoint, else $env if set and not empty,
 *  else fallback. */
const char *herald__endpoint_resolve (const char *endpoint, const char *env,
                                      const char *fallback);

/*  A list of brokers: endpoints separated by commas. */
typedef struct {
    int n;
    char ep[HERALD_BROKERS_MAX][HERALD__ENDPOINT_MAX];
} herald__endpoints_t;

/*  Split a list at its commas, dropping the spaces around each entry and
 *  making "host:port" tcp. Returns HERALD_OK, or HERALD_ERR_ENDPOINT for
 *  an empty entry, more than HERALD_BROKERS_MAX, one too long, or one
 *  listed twice. */
int herald__endpoints_split (const char *list, herald__endpoints_t *out);

/*  Set the heartbeat options on a socket; they apply to connections made
 *  (zmq_connect) after this. */
int herald__heartbeat_apply (void *sock, const herald__heartbeat_t *hb);

/*  A socket of 'type' in ctx, with the options every libherald socket
 *  shares, the heartbeats hb, and CURVE's if 'curve' names files (it may
 *  be NULL); not connected. endpoint is only looked at (IPv6). If
 *  'monitor' is not NULL, it receives a PAIR on which the socket reports
 *  'events', at monitor_addr (unique in ctx). */
int herald__socket_new (void *ctx, int type, const char *endpoint, const herald__curve_t *curve,
                        const herald__heartbeat_t *hb, const char *monitor_addr, int events,
                        void **sock, void **monitor);

/*  zmq_connect, recording a failure as HERALD_ERR_ENDPOINT (or NOMEM). */
int herald__connect (void *sock, const char *endpoint);

/*  Create a context and a socket of 'type' connected to 'endpoint' (NULL
 *  means the environment variable 'env', else 'fallback'), with the
 *  options every libherald socket shares, and CURVE's if 'curve' names
 *  files (it may be NULL). The endpoint as connected is copied to 'used'
 *  (for messages) unless it is NULL. If 'monitor' is not NULL, it receives
 *  a PAIR socket on which the socket reports its connection events
 *  (HERALD__EVENTS), set up before connecting so that none is missed. */
int herald__socket_open (int type, const char *endpoint, const char *env,
                         const char *fallback, const herald__curve_t *curve, void **ctx,
                         void **sock, void **monitor, char *used, size_t used_size);

/*  The connection events that libherald watches: a refused handshake
 *  (CURVE) is one, to tell "refused" from "no broker". */
#define HERALD__EVENTS (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED         \
                        | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH                            \
                        | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)

/*  1 for the events that mean the broker refused the handshake. */
#define HERALD__REFUSED(event) ((event) == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH                 \
                                || (event) == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)

/*  Read one event from a monitor without waiting. Returns its ZMQ_EVENT_
 *  number, or 0 if none is waiting. */
int herald__monitor_read (void *monitor);

/*  Stop monitoring 'sock' and close the monitor (which may be NULL). */
void herald__monitor_close (void *sock, void **monitor);

/*  Close the socket and terminate its context. The context's termination
 *  waits for the socket's linger: this is where a publisher flushes. */
void herald__socket_close (void **ctx, void **sock);

/*  Set an integer ZeroMQ option, recording a failure. */
int herald__setsockopt_int (void *sock, int option, int value);

/*  A publisher's links to a list of brokers (links.c): a PUSH and a
 *  confirmation SUB for each, topics routed to their owners, loss
 *  counted. Each call but close is made with the publisher's lock held;
 *  the links' thread takes the same lock. */
typedef struct herald__links herald__links_t;

/*  Connect to every broker of eps (n > 1), and start the links' thread,
 *  which serialises with the callers on lock. Returns HERALD_OK with *out
 *  set, or an error (HERALD_ERR_ENDPOINT: $HERALD_CONFIRM_ENDPOINT does
 *  not list as many brokers). */
int herald__links_new (const herald__endpoints_t *eps, const herald__curve_t *curve,
                       pthread_mutex_t *lock, herald__links_t **out);

/*  Send one event to the first live broker from its topic's owner on,
 *  waiting up to timeout_ms (-1: forever) for one. */
int herald__links_send (herald__links_t *self, const char *topic, size_t tlen,
                        const void *data, size_t size, int timeout_ms);

/*  Set an option that the links hold (HWM, heartbeats). */
int herald__links_set (herald__links_t *self, int option, int value);

/*  Stop the links' thread, wait up to linger_ms (-1: forever) for every
 *  event to be confirmed, then release everything. Called without the
 *  lock, as nothing else may use the publisher any more. Returns HERALD_OK if every event was, else
 *  HERALD_ERR_UNSENT (herald_errmsg says how many were not, and why). */
int herald__links_close (herald__links_t **self, int linger_ms);

/*  The accessors behind herald_publisher_brokers and its neighbours. They
 *  take the links' news first. */
int herald__links_count (const herald__links_t *self);
const char *herald__links_endpoint (const herald__links_t *self, int i);
int herald__links_up (herald__links_t *self, int i);
uint64_t herald__links_stat (herald__links_t *self, int i, int which);

/*  The relay (relay.c): a subscriber's background thread, which owns the
 *  SUB socket and passes on the messages that keep the wire format's rules
 *  over an inproc PAIR. */
typedef struct herald__relay herald__relay_t;

/*  Commands to the relay: (un)subscribe, whose argument is the topic's
 *  bytes, at every broker; the same at one broker, whose index is the
 *  argument's first byte; resume (herald__relay_consumed sends it); and
 *  new heartbeats (a herald__heartbeat_t), with which every link is made
 *  again. */
#define HERALD__RELAY_SUBSCRIBE 'S'
#define HERALD__RELAY_UNSUBSCRIBE 'U'
#define HERALD__RELAY_SUBSCRIBE_ONE 's'
#define HERALD__RELAY_UNSUBSCRIBE_ONE 'u'
#define HERALD__RELAY_RESUME 'R'
#define HERALD__RELAY_HEARTBEAT 'H'

/*  Start a relay for n brokers: subs[i], a SUB socket of 'ctx' connected
 *  to endpoints[i], and monitors[i], its connection events; the relay
 *  owns them from now on, whatever the result. On HERALD_OK, *pipe is the
 *  caller's end of the PAIR: messages arrive on it as
 *  [topic][payload][metadata or empty], in multipart bundles of any
 *  number of them, and herald__relay_command sends on it. */
int herald__relay_start (void *ctx, int n, void *const *subs, void *const *monitors,
                         const char *const *endpoints, herald__relay_t **relay, void **pipe);

/*  Send a command (HERALD__RELAY_...) with an argument of len bytes, at
 *  most HERALD_TOPIC_MAX + 1. Never waits. */
int herald__relay_command (void *pipe, int op, const void *arg, size_t len);

/*  Set the SUBs' ZMQ_RCVHWM; it applies before the next message is
 *  relayed. Any thread. */
void herald__relay_set_hwm (herald__relay_t *relay, int hwm);

/*  Tell the relay that the caller has read 'total' messages from the
 *  PAIR so far (at least at the end of each bundle), so that it can go on
 *  relaying. Caller's thread. */
void herald__relay_consumed (herald__relay_t *relay, void *pipe, uint64_t total);

/*  Set the largest payload the relay passes on; larger ones are skipped,
 *  like those that break the wire format. Any thread. */
void herald__relay_set_max_payload (herald__relay_t *relay, size_t max);

/*  How many messages the relay skipped so far. Any thread. */
uint64_t herald__relay_skipped (const herald__relay_t *relay);

/*  For broker i, or with i = -1 for any of them: 1 while connected, else
 *  0. Any thread. */
int herald__relay_connected (const herald__relay_t *relay, int i);

/*  For broker i, or any (-1): 1 if it refused the most recent handshake,
 *  else 0. Any thread. */
int herald__relay_refused (const herald__relay_t *relay, int i);

/*  For broker i, or any (-1): 1 once a handshake has ever been done with
 *  it, else 0. Any thread. */
int herald__relay_greeted (const herald__relay_t *relay, int i);

/*  How many times broker i's connection has dropped so far (-1: all of
 *  them together). Any thread. */
uint64_t herald__relay_drops (const herald__relay_t *relay, int i);

/*  How many brokers, and broker i's endpoint (NULL out of range). */
int herald__relay_brokers (const herald__relay_t *relay);
const char *herald__relay_endpoint (const herald__relay_t *relay, int i);

/*  Stop the relay and release it: this shuts 'ctx' down, so the caller
 *  then only closes its end of the PAIR and terminates the context.
 *  Accepts *relay == NULL. */
void herald__relay_stop (herald__relay_t **relay, void *ctx);

#endif
