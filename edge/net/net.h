/*  net.h: what the files of herald-edge's socket glue share.
 *
 *  The glue is libwebsockets on a libuv loop, one per worker process, in
 *  these files:
 *    server.c    a worker: the context, the loop, signals (SIGHUP reloads
 *                the keys, SIGTERM drains), and lws's callback table;
 *    listen.c    the listening sockets, and a worker's accept loop;
 *    shm.c       what the workers share: counts, admissions, the table
 *                of addresses;
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
#include "shm.h"
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
    timerheap_slot_t ping;          //  when to look at its silence, in the edge's ping heap
    int64_t heard;                  //  when its reads were last seen to move (ms, zclock_mono)
    uint64_t reads;                 //  readhook_reads when last looked at
    int64_t ping_sent;              //  when our unanswered ping went; 0: none is out
    int ping_due;                   //  a ping waits for the socket to be writable
    int silent;                     //  no answer to a ping: drop it when writable
    lws_sorted_usec_list_t close_sul;   //  once closing: when to give up on the client
    wsmsg_t rx;                     //  a message being reassembled
    char *close_reason;             //  once closing (malloc'ed: idle connections hold none)
    char *http_body;                //  HTTP: the response body, after LWS_PRE
    size_t http_len;
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

typedef struct {
    const edge_config_t *cfg;
    struct lws_context *lws;
    struct lws_vhost *vhost;
    uv_loop_t loop;
    uv_signal_t sigint;
    uv_signal_t sigterm;
    uv_signal_t sighup;             //  reads the key files again
    uv_timer_t timer;               //  for the earliest protocol deadline (ws.c)
    timerheap_t *timers;            //  every connection's protocol deadline
    timerheap_t *pings;             //  every connection's next look at its silence (--ping-interval)
    uv_prepare_t prepare;           //  flushes queues before the loop waits
    uv_timer_t drain;               //  after SIGTERM: until the connections are closed
    int64_t drain_deadline;
    conn_t *flush_head;             //  connections with new output
    gql_schema_t *schema;
    hub_t *hub;
    sessions_t *sessions;
    upstream_t *upstream;
    auth_keys_t *keys;              //  what tokens are checked with (SIGHUP replaces them)
    patterns_t *public_topics; //  --public-topics, or NULL
    proto_config_t proto;
    int max_connections;            //  what this worker can hold (its descriptors)
    shm_t *shm;                     //  what the workers share
    int worker;                     //  this worker's slot in it
    shm_slot_t *slot;
    metrics_t *m;                   //  the slot's, which only this worker writes
    int ready_fd;                   //  tells the supervisor this worker serves
} edge_t;

//  One worker per process; lws and libuv callbacks find it here.
extern edge_t net_edge;

//  ws.c: lws's callback for a WebSocket connection's reasons.
int ws_callback (struct lws *wsi, enum lws_callback_reasons reason, conn_t *c, void *in,
                 size_t len);
//  ws.c: before the loop waits, writes every queue with new output.
void ws_flush (uv_prepare_t *handle);
//  ws.c: the protocol deadlines that are due (net_edge.timer's callback).
void ws_on_timer (uv_timer_t *handle);
//  ws.c: a connection told to go away (SIGTERM), from
//  lws_callback_all_protocol with LWS_CALLBACK_USER: closes it 1001.
void ws_going_away (conn_t *c);

//  http.c: lws's callback for HTTP reasons; returns 1 if it handled the
//  reason (and sets *rc to what lws must get).
int http_callback (struct lws *wsi, enum lws_callback_reasons reason, conn_t *c, void *in,
                   int *rc);

//  peer.c: admissions. Before an upgrade is taken: whether the edge has
//  room (--max-connections, over every worker) and the client's address
//  may connect (the limits per address, over every worker), counted and
//  logged if not; *retry_ms as addrlimit_admit gives it. PEER_OK holds a
//  place for the connection on its wsi, which peer_release (at
//  LWS_CALLBACK_WSI_DESTROY, whether or not the upgrade went through)
//  gives back, once.
typedef enum { PEER_OK = 0, PEER_FULL, PEER_ADDRESS_FULL, PEER_ADDRESS_RATE } peer_verdict_t;
peer_verdict_t peer_admit (struct lws *wsi, int64_t *retry_ms);
void peer_release (struct lws *wsi);

#endif
