/*  addrlimit.h: the limits per client address: how many WebSocket
 *  connections one address holds open at once, and how fast it may open
 *  new ones (a token bucket per address).
 *
 *  Pure: no sockets, no clock. The glue (net/peer.c) reads the peer's
 *  address from the socket, asks addrlimit_admit before it takes an
 *  upgrade, holds an entry for each WebSocket it then opens, and releases
 *  it when the connection is freed; it passes the time in milliseconds.
 *
 *  Memory is bounded whatever the peers do. An address has an entry while
 *  it holds connections, or while its bucket refills after connects; one
 *  with neither is freed. Entries that hold no connection are at most
 *  config.max_idle: past that, the one used least recently is forgotten
 *  (and counted), so a flood from many addresses costs at most the open
 *  connections plus max_idle entries.
 *
 *  The table lives in memory its caller gives (addrlimit_size bytes), all
 *  of it, entries included, with no allocation afterwards: so that it can
 *  be placed in a shared mapping made before fork(2) and used by every
 *  process that inherits it (herald-edge's workers), the caller holding a
 *  lock around each call. Pointers stay valid in every such process, as
 *  the mapping is at the same address in each.
 */
#ifndef HERALD_ADDRLIMIT_H
#define HERALD_ADDRLIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int max_connections;        //  open at once per address; 0: no limit
    int rate;                   //  connects a second per address; 0: no limit
    int burst;                  //  the bucket's size (less than 1: the rate)
    size_t max_idle;            //  entries that hold no connection (at least 1)
    size_t max_held;            //  addresses that hold connections at once (at least 1)
    uint64_t seed;              //  for the hash: a secret, random number
} addrlimit_config_t;

//  An address as the table keys it: 16 bytes, an IPv4 address in its
//  IPv4-mapped IPv6 form (::ffff:a.b.c.d), so that both spellings of one
//  IPv4 address are one key.
typedef struct {
    unsigned char bytes[16];
} addrlimit_key_t;

typedef struct addrlimit addrlimit_t;
typedef struct addrlimit_entry addrlimit_entry_t;

typedef enum {
    ADDRLIMIT_OK = 0,           //  take the connection
    ADDRLIMIT_CONNECTIONS,      //  the address holds max_connections already
    ADDRLIMIT_RATE              //  the address's bucket is empty
} addrlimit_verdict_t;

typedef struct {
    size_t entries;             //  addresses in the table
    size_t idle;                //  of those, holding no connection
    uint64_t forgotten;         //  idle entries dropped to stay within max_idle
} addrlimit_stats_t;

/*  Fills key from an address's bytes: 4 for IPv4, 16 for IPv6. Returns 0,
 *  or -1 for another length. */
int addrlimit_key (addrlimit_key_t *key, const void *bytes, size_t len);

/*  The bytes a table with this configuration takes: room for max_held +
 *  max_idle entries, and a bucket for each. 0 if that does not fit in a
 *  size_t. */
size_t addrlimit_size (const addrlimit_config_t *config);

/*  Lays out an empty table in mem, which holds size bytes (at least
 *  addrlimit_size), suitably aligned for any type. Returns the table (at
 *  mem), or NULL if size is too small. Nothing is allocated: the table is
 *  freed with mem. */
addrlimit_t *addrlimit_init (void *mem, size_t size, const addrlimit_config_t *config);

/*  A table in memory of its own, or NULL if memory ran out. */
addrlimit_t *addrlimit_new (const addrlimit_config_t *config);

/*  Frees a table from addrlimit_new; accepts NULL and sets *self_p to
 *  NULL. Entries held by connections must not be released afterwards. */
void addrlimit_destroy (addrlimit_t **self_p);

/*  Forgets every entry at once, as if the table were new (the forgotten
 *  count aside, which grows by the entries dropped): for a table a
 *  process may have left half-changed (it died holding the lock). Entries
 *  held before must not be released afterwards; addrlimit_epoch tells
 *  them apart. */
void addrlimit_reset (addrlimit_t *self);

/*  How many times the table was reset: an entry held when the epoch was
 *  another is gone. */
uint64_t addrlimit_epoch (const addrlimit_t *self);

/*  Whether a new connection from key may go ahead. ADDRLIMIT_OK takes one
 *  token from the address's bucket (when there is a rate); a refusal
 *  takes nothing. For ADDRLIMIT_RATE, *retry_ms is how long until the
 *  bucket holds a token again; otherwise it is 0. If the table has no room
 *  for a new entry the connection goes ahead, uncounted by the rate. */
addrlimit_verdict_t addrlimit_admit (addrlimit_t *self, const addrlimit_key_t *key,
                                     int64_t now_ms, int64_t *retry_ms);

/*  A connection from key is open: counts it, whatever the limits (the
 *  check was addrlimit_admit's). Returns its address's entry, which stays
 *  put until the last connection that holds it is released, or NULL if
 *  the table is full (more than max_held addresses hold connections, and
 *  no idle entry is left to forget). */
addrlimit_entry_t *addrlimit_hold (addrlimit_t *self, const addrlimit_key_t *key,
                                   int64_t now_ms);

/*  The connection that holds *entry_p is gone: counts it out, frees the
 *  entry if nothing needs it any more, and sets *entry_p to NULL (so a
 *  second call does nothing). */
void addrlimit_release (addrlimit_t *self, addrlimit_entry_t **entry_p, int64_t now_ms);

/*  The connections open from key now (0 for an address not in the table). */
int addrlimit_connections (const addrlimit_t *self, const addrlimit_key_t *key);

const addrlimit_stats_t *addrlimit_stats (const addrlimit_t *self);

#endif
