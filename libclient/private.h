/*  private.h: what libherald's source files share and no one else sees. */
#ifndef HERALD_PRIVATE_H
#define HERALD_PRIVATE_H

#include "herald.h"

#include <stddef.h>
#include <zmq.h>

#define HERALD_DEFAULT_LINGER_MS 2000
#define HERALD_DEFAULT_SEND_TIMEOUT_MS 1000
#define HERALD_DEFAULT_HWM 100000

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

/*  The relay (relay.c): a subscriber's background thread, which owns the
 *  SUB socket and passes on the messages that keep the wire format's rules
 *  over an inproc PAIR. */
typedef struct herald__relay herald__relay_t;

/*  Commands to the relay: (un)subscribe, whose argument is the topic's
 *  bytes, and resume (herald__relay_consumed sends it). */
#define HERALD__RELAY_SUBSCRIBE 'S'
#define HERALD__RELAY_UNSUBSCRIBE 'U'
#define HERALD__RELAY_RESUME 'R'

/*  Start a relay for 'sub', a SUB socket of 'ctx' connected to
 *  'endpoint', and 'monitor', its connection events; the relay owns both
 *  from now on, whatever the result. On HERALD_OK, *pipe is the caller's end of the PAIR: messages
 *  arrive on it as [topic][payload][metadata or empty], in multipart
 *  bundles of any number of them, and herald__relay_command sends on it. */
int herald__relay_start (void *ctx, void *sub, void *monitor, const char *endpoint,
                         herald__relay_t **relay, void **pipe);

/*  Send a command (HERALD__RELAY_...) with an argument of len bytes, at
 *  most HERALD_TOPIC_MAX. Never waits. */
int herald__relay_command (void *pipe, int op, const void *arg, size_t len);

/*  Set the SUB's ZMQ_RCVHWM; it applies before the next message is
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

/*  1 while connected to the broker, else 0. Any thread. */
int herald__relay_connected (const herald__relay_t *relay);

/*  1 if the broker refused the most recent handshake, else 0. Any
 *  thread. */
int herald__relay_refused (const herald__relay_t *relay);

/*  How many times a connection has dropped so far. Any thread. */
uint64_t herald__relay_drops (const herald__relay_t *relay);

/*  Stop the relay and release it: this shuts 'ctx' down, so the caller
 *  then only closes its end of the PAIR and terminates the context.
 *  Accepts *relay == NULL. */
void herald__relay_stop (herald__relay_t **relay, void *ctx);

#endif
