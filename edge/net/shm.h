/*  shm.h: what herald-edge's processes share: one mapping, made by the
 *  supervisor before it forks the workers (edge/supervisor.c), so that it
 *  is at the same address in every process.
 *
 *  In it:
 *    - a slot per worker, with that worker's counters and gauges, written
 *      by that worker alone and read by every worker that answers
 *      /metrics or /healthz, so that any of them answers for the whole
 *      edge, at once;
 *    - the counters of workers that died (folded in by the supervisor), so
 *      that the sums stay monotonic across restarts;
 *    - the connections each worker holds against --max-connections, which
 *      is the edge's total;
 *    - the limits per address (session/addrlimit.c), one table for every
 *      worker, and the lock that guards it and the admissions: a
 *      process-shared, robust mutex, so that a worker killed while it
 *      holds it does not stop the others.
 *
 *  Counters and gauges are 8-byte words that one process writes and
 *  others read: on the machines the edge runs on (x86-64, aarch64) such a
 *  load is never torn, and a sum read while a worker counts is a sum
 *  from a moment ago.
 */
#ifndef HERALD_SHM_H
#define HERALD_SHM_H

#include "addrlimit.h"
#include "hub.h"
#include "proto.h"
#include "session.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

//  Close codes counted in the metrics: every one the edge sends.
#define NET_CLOSE_CODE(name, code) +1
enum { NET_CLOSE_CODES = 0 PROTO_CLOSE_MAP (NET_CLOSE_CODE) };
#undef NET_CLOSE_CODE
extern const int net_close_codes[NET_CLOSE_CODES];

//  What the glue counts; the hub and the sessions count the rest.
typedef struct {
    size_t connections;             //  a gauge: open now
    uint64_t connections_total;
    uint64_t connections_rejected;
    uint64_t origins_rejected;
    uint64_t headers_too_large;
    uint64_t slow_consumers;
    uint64_t messages_out;
    uint64_t bytes_out;
    uint64_t closes[NET_CLOSE_CODES];
    uint64_t ip_connections_rejected;
    uint64_t ip_rate_limited;
    uint64_t events_skipped;        //  libherald's (upstream_skipped), copied each loop turn
} metrics_t;

//  A worker's counts: everything /metrics sums over the workers. Every
//  field is an 8-byte word, so that a dead worker's can be folded into
//  the retired sums as an array.
typedef struct {
    metrics_t m;
    hub_stats_t hub;
    session_stats_t sessions;
} shm_stats_t;

typedef enum {
    SHM_EMPTY = 0,      //  no process
    SHM_STARTING,       //  forked, not yet serving
    SHM_READY,          //  serving
    SHM_DRAINING        //  closing its connections, to exit
} shm_state_t;

//  The largest --workers.
#define SHM_MAX_WORKERS 256

//  A connection's hold on its address's entry in the table, one of its
//  worker's records, so that the supervisor can let go of a dead worker's.
typedef struct {
    addrlimit_entry_t *entry;               //  NULL while free
    uint32_t gen;                           //  counts the record's uses
    uint32_t next_free;                     //  index + 1 of the next free record, or 0
} shm_hold_rec_t;

typedef struct {
    _Alignas (64) _Atomic int state;        //  shm_state_t
    _Atomic int pid;
    _Atomic int broker_connected;           //  1 while its broker link is up
    _Atomic uint64_t admitted;              //  connections it holds against the total
    _Atomic uint64_t reloads;               //  the key reload generation it has acted on
    _Atomic uint64_t keys;                  //  keys its tokens are checked with
    //  Its holds in the table of addresses (changed under the lock).
    shm_hold_rec_t *holds;                  //  worker_connections records
    uint32_t holds_used;                    //  records ever handed out
    uint32_t holds_free;                    //  index + 1 of the first free one, or 0
    shm_stats_t stats;                      //  written by its worker only
} shm_slot_t;

typedef struct shm {
    pthread_mutex_t lock;           //  admissions and the table of addresses
    size_t size;                    //  of the mapping
    int workers;
    int max_connections;            //  the edge's total
    int worker_connections;         //  what one worker can hold (its descriptors)
    _Atomic uint32_t seq;           //  odd while a dead worker's counts are folded
    _Atomic uint64_t restarts;      //  workers started again after they died
    _Atomic uint64_t reload_gen;    //  SIGHUPs the supervisor has passed on
    _Atomic uint64_t reloads_failed;
    _Atomic uint64_t keys;          //  the keys the supervisor holds (what a new worker starts with)
    _Atomic uint64_t lock_recoveries;   //  the lock taken over from a dead worker
    shm_stats_t retired;            //  the counters of dead workers (gauges stay 0)
    addrlimit_t *addrs;             //  in the mapping, or NULL while the limits per address are off
    shm_slot_t slots[];
} shm_t;

_Static_assert (sizeof (void *) == sizeof (uint64_t), "handles are carried as pointers");

/*  Maps the region for this many workers: the total of connections, what
 *  one worker holds at most, and the table of addresses if addrs is not
 *  NULL. Returns NULL (logged) on failure. */
shm_t *shm_new (int workers, int max_connections, int worker_connections,
                const addrlimit_config_t *addrs);

/*  Unmaps it; accepts NULL and sets *self_p to NULL. */
void shm_destroy (shm_t **self_p);

/*  The lock. If its last holder died holding it, the table of addresses
 *  (which that worker may have left half-changed) is reset: limits per
 *  address count from zero again, and it is logged and counted. */
void shm_lock (shm_t *self);
void shm_unlock (shm_t *self);

/*  Under the lock: a new connection for worker w: 0 if the edge holds fewer than
 *  --max-connections and the worker fewer than it can, counting it; -1
 *  if either is full. shm_release gives it back. */
int shm_admit (shm_t *self, int w);
void shm_release (shm_t *self, int w);

/*  What a connection holds while it is admitted, as one 64-bit word: a
 *  record of its worker's (a generation and an index), or SHM_ADMITTED
 *  for a connection that holds no entry of the table. Never 0. */
#define SHM_ADMITTED UINT64_MAX

/*  Under the lock: worker w's connection from key holds its address's
 *  entry. Returns the handle, or 0 if the table is full. */
uint64_t shm_hold (shm_t *self, int w, const addrlimit_key_t *key, int64_t now_ms);

/*  Under the lock: lets go of what shm_hold gave (once; SHM_ADMITTED and
 *  handles from before a reset of the table do nothing). */
void shm_unhold (shm_t *self, int w, uint64_t handle, int64_t now_ms);

/*  The connections the edge holds against --max-connections now. */
uint64_t shm_admitted (shm_t *self);

/*  The sums over the workers, live and retired, as of one moment: no
 *  dead worker's counts counted twice or missed. */
void shm_sum (shm_t *self, shm_stats_t *total);

/*  The key reloads every serving worker has acted on. */
uint64_t shm_key_reloads (shm_t *self);

/*  Workers serving now. */
int shm_ready (shm_t *self);

/*  The supervisor, before it forks worker w: an empty slot, starting. */
void shm_slot_start (shm_t *self, int w);

/*  The supervisor, once worker w has exited: its counters go to the
 *  retired sums, its gauges and its connections to nothing, and its holds
 *  in the table of addresses are let go. */
void shm_slot_retire (shm_t *self, int w, int64_t now_ms);

#endif
