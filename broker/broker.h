/*  broker.h: the herald-broker engine, a ZeroMQ forwarder with counters.
 *
 *  Ingress: a PULL socket for libherald publishers (lossless at connect)
 *  and an XSUB socket for any ZeroMQ PUB publisher. Egress: an XPUB
 *  socket for subscribers and edges. Subscriptions that reach the egress
 *  are passed on to the XSUB side, so PUB publishers (and an upstream
 *  broker) send only what someone wants. docs/broker.md is the operator's
 *  guide.
 *
 *  Every socket speaks ZMTP 3 only: a ZAP domain is set on each, which makes
 *  ZeroMQ refuse the older protocol versions, whose peers send no greeting
 *  (so that any byte stream, an HTTP request for one, would parse as
 *  frames). The broker's own ZAP handler names each egress connection, and
 *  peers.c keeps the egress's subscriptions within their limits.
 *
 *  Each event from a publisher is numbered in its topic (history.c), and
 *  the stats socket answers requests for the recent events of a topic.
 */
#ifndef HERALD_BROKER_H
#define HERALD_BROKER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *ingress;        //  comma-separated endpoints to bind; "" = none
    const char *egress;
    const char *xsub;
    const char *stats;          //  ROUTER for the counters and SINCE; "" = none
    const char *upstream;       //  another broker's egress to connect; "" = none
    int ingress_hwm;            //  messages, per publisher connection
    int egress_hwm;             //  messages, per subscriber connection
    size_t max_payload;         //  bytes in any one frame
    int stats_interval;         //  seconds between counter log lines; 0 = never
    int drain_ms;               //  at shutdown, time allowed to flush egress
    int hold_ms;                //  after start, time publishers' messages wait
    size_t max_peer_subscriptions;  //  per egress connection
    size_t max_subscriptions;   //  all egress connections together
    //  CURVE (docs/broker.md, "Authentication"): with curve_secret set,
    //  every socket is a CURVE server and both directories are required.
    const char *curve_secret;       //  the broker's secret certificate, or NULL
    const char *curve_publishers;   //  public certificates allowed on ingress, xsub
    const char *curve_subscribers;  //  public certificates allowed on egress, stats
    //  Resumable subscriptions (history.h, docs/recovery.md).
    const char *history_topics;     //  patterns whose recent events are kept
    size_t history_size;            //  events kept per topic
    int history_ttl;                //  seconds an event is kept; 0 for ever
    size_t history_bytes;           //  memory for all kept events
    size_t history_max_topics;      //  topics numbered at once
    size_t history_batch;           //  events in one answer at most
    size_t history_batch_bytes;     //  payload bytes in one answer at most
    const char *upstream_curve_server;  //  the upstream's public certificate, or NULL
    const char *upstream_curve_cert;    //  this broker's secret certificate there;
                                        //  NULL: curve_secret
} broker_config_t;

typedef struct {
    uint64_t in_push;           //  messages received on the PULL ingress
    uint64_t in_pub;            //  messages received on the XSUB ingress
    uint64_t forwarded;         //  messages sent on to the egress
    uint64_t dropped;           //  messages at least one subscriber missed (queue full)
    uint64_t malformed;         //  messages refused for breaking the wire format
    uint64_t unrouted;          //  messages forwarded that no subscription matched
    uint64_t subscriptions;     //  distinct topics subscribed at the egress now
    uint64_t subscriptions_refused; //  subscriptions refused (bad topic, over a limit)
    uint64_t peers;             //  egress connections now
    uint64_t peers_disconnected;    //  egress connections closed for refused subscriptions
    uint64_t sync_answered;     //  subscription confirmations sent
    uint64_t acks;              //  publishers' confirmation markers received
    uint64_t unnumbered;        //  events forwarded without an offset (memory)
    uint64_t history_requests_malformed;
} broker_counters_t;

typedef struct broker broker_t;

/*  Create the sockets and bind them. Logs the reason and returns NULL on
 *  failure. */
broker_t *broker_new (const broker_config_t *config);

/*  Forward until SIGINT or SIGTERM, which must be blocked in every thread
 *  before the call (broker_block_signals does it). SIGUSR1 logs the
 *  counters; SIGHUP reads the CURVE allowlists again. Returns 0 after a clean shutdown, -1 on a fatal error. */
int broker_run (broker_t *self);

void broker_destroy (broker_t **self_p);

const broker_counters_t *broker_counters (broker_t *self);

/*  Block the signals broker_run handles, in this thread and the threads it
 *  will create. Call first thing in main(). */
void broker_block_signals (void);

#endif
