/*  net.h: what the files of herald-edge's socket glue share.
 *
 *  The glue is libwebsockets on a libuv loop, in five files:
 *    server.c    the context, the loop, signals (SIGHUP reloads the keys),
 *                and lws's callback table;
 *    ws.c        a WebSocket connection: its protocol state machine, its
 *                outbound queue, its timers and its close;
 *    http.c      /healthz, /metrics, and the answers to refused upgrades;
 *    upstream.c  the broker link;
 *    peer.c      the limits per client address.
 *  Everything they drive (proto/, session/, gql/) is pure code.
 */
#ifndef HERALD_NET_H
#define HERALD_NET_H

#include "addrlimit.h"
#include "edge.h"
#include "gql.h"
#include "hub.h"
#include "outq.h"
#include "proto.h"
#include "session.h"
#include "timerheap.h"
#include "upstream.h"
#include "wsmsg.h"

#include <libwebsockets.h>
#include <uv.h>

//  The protocols, in lws's table order. New HTTP connections bind to the
//  first, which also takes WebSocket upgrades that offer no subprotocol,
//  so that those are accepted and then closed with 4406, as graphql-ws's
//  reference server does.
enum { PROTOCOL_REJECT = 0, PROTOCOL_TRANSPORT = 1, PROTOCOL_LEGACY = 2 };
#define REJECT_NAME "herald-http"

//  lws's per-session memory, for every protocol: a WebSocket connection,
//  or an HTTP request (which uses only http_body and http_len). Its size
//  is sizeof (conn_t) + proto_size (): the transport's state machine lives
//  at its end, right after the fields that every delivered result reads
//  (the queue, the close code, the flush list), so that a result costs
//  neighbouring cache lines rather than two objects apart.
typedef struct conn {
    int fd;                         //  the socket, watched by readhook.c
    int established;
    int slow;                       //  closing as a slow consumer
    int close_sent;                 //  the close has been handed to lws
    timerheap_slot_t deadline;      //  the protocol's next deadline, in the edge's heap
    lws_sorted_usec_list_t close_sul;   //  once closing: when to give up on the client
    wsmsg_t rx;                     //  a message being reassembled
    char *close_reason;             //  once closing (malloc'ed: idle connections hold none)
    char *http_body;                //  HTTP: the response body, after LWS_PRE
    size_t http_len;
    addrlimit_entry_t *peer;        //  its address's entry in the limits per address, or NULL
    //  What each delivered result reads.
    struct lws *wsi;
    proto_conn_t *proto;            //  the transport, in transport[]; NULL until established
    int close_code;                 //  0 while open
    int flush_listed;
    struct conn *flush_prev;        //  in the edge's list of queues to flush
    struct conn *flush_next;
    outq_t out;
    _Alignas (max_align_t) unsigned char transport[];
} conn_t;

//  Close codes counted in the metrics: every one the edge sends.
#define NET_CLOSE_CODE(name, code) +1
enum { NET_CLOSE_CODES = 0 PROTO_CLOSE_MAP (NET_CLOSE_CODE) };
#undef NET_CLOSE_CODE
extern const int net_close_codes[NET_CLOSE_CODES];

//  What the glue counts; the hub and the sessions count the rest.
typedef struct {
    size_t connections;
    uint64_t connections_total;
    uint64_t connections_rejected;
    uint64_t origins_rejected;
    uint64_t headers_too_large;
    uint64_t slow_consumers;
    uint64_t messages_out;
    uint64_t bytes_out;
    uint64_t closes[NET_CLOSE_CODES];
    uint64_t key_reloads;           //  SIGHUP: key files read again
    uint64_t key_reloads_failed;    //  ... and kept the old keys
    uint64_t ip_connections_rejected;
    uint64_t ip_rate_limited;
} metrics_t;

typedef struct {
    const edge_config_t *cfg;
    struct lws_context *lws;
    uv_loop_t loop;
    uv_signal_t sigint;
    uv_signal_t sigterm;
    uv_signal_t sighup;             //  reads the key files again
    uv_timer_t timer;               //  for the earliest protocol deadline (ws.c)
    timerheap_t *timers;            //  every connection's protocol deadline
    uv_prepare_t prepare;           //  flushes queues before the loop waits
    int handles;                    //  of the above, how many were opened
    conn_t *flush_head;             //  connections with new output
    gql_schema_t *schema;
    hub_t *hub;
    sessions_t *sessions;
    upstream_t *upstream;
    auth_keys_t *keys;              //  what tokens are checked with (SIGHUP replaces them)
    auth_patterns_t *public_topics; //  --public-topics, or NULL
    proto_config_t proto;
    int max_connections;            //  --max-connections, within the fd limit
    metrics_t m;
    addrlimit_t *addrs;             //  the limits per address; NULL while they are off
} edge_t;

//  One edge per process; lws and libuv callbacks find it here.
extern edge_t net_edge;

//  ws.c: lws's callback for a WebSocket connection's reasons.
int ws_callback (struct lws *wsi, enum lws_callback_reasons reason, conn_t *c, void *in,
                 size_t len);
//  ws.c: before the loop waits, writes every queue with new output.
void ws_flush (uv_prepare_t *handle);
//  ws.c: the protocol deadlines that are due (net_edge.timer's callback).
void ws_on_timer (uv_timer_t *handle);

//  http.c: lws's callback for HTTP reasons; returns 1 if it handled the
//  reason (and sets *rc to what lws must get).
int http_callback (struct lws *wsi, enum lws_callback_reasons reason, conn_t *c, void *in,
                   int *rc);

//  peer.c: the limits per client address. peer_start makes the table if
//  a limit is set (returns 0, or -1 logged); peer_stop frees it.
int peer_start (void);
void peer_stop (void);
//  Before an upgrade is taken: whether its address may connect (counted
//  and logged if not); *retry_ms as addrlimit_admit gives it.
addrlimit_verdict_t peer_admit (struct lws *wsi, int64_t *retry_ms);
//  When the WebSocket is established: c->peer holds its address. Returns
//  0, or -1 if memory ran out. peer_release, when it is freed, lets go
//  (once: a second call does nothing).
int peer_hold (conn_t *c);
void peer_release (conn_t *c);

#endif
