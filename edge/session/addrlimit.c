/*  addrlimit.c: the limits per client address. See addrlimit.h.
 *
 *  A hash table of entries, chained, keyed by the 16 address bytes, in one
 *  block of the caller's memory with a pool of entries after it. The
 *  hash is seeded with a secret: a client that picks its addresses (an
 *  IPv6 /64 holds 2^64 of them) cannot aim them all at one chain. Entries
 *  that hold no connection are also on a list, least recently used first,
 *  which is both the order in which their buckets fill up again (to be
 *  freed) and the order in which they are forgotten past max_idle.
 */
#include "addrlimit.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

//  Entries freed by one call once their bucket is full again: a few, so
//  that no call does more than a bounded amount of work, yet the list
//  drains faster than one new address a call can fill it.
#define S_SWEEP 2
#define S_MIN_BUCKETS 64

struct addrlimit_entry {
    addrlimit_key_t key;
    struct addrlimit_entry *next;       //  in its hash chain, or in the free list
    struct addrlimit_entry *idle_prev;  //  in the idle list, while it holds no connection
    struct addrlimit_entry *idle_next;
    double tokens;                      //  the bucket, as of tokens_at
    int64_t tokens_at;
    int connections;
    int idle;
};

//  One block: this header, then the buckets, then the entries.
struct addrlimit {
    addrlimit_config_t config;
    addrlimit_entry_t **buckets;
    size_t nbuckets;                    //  a power of two
    addrlimit_entry_t *pool;            //  capacity entries
    size_t capacity;
    size_t used;                        //  entries of the pool ever handed out
    addrlimit_entry_t *free_list;       //  entries handed out and freed since
    addrlimit_entry_t *idle_head;       //  used least recently
    addrlimit_entry_t *idle_tail;
    addrlimit_stats_t stats;
    uint64_t epoch;
    int own;                            //  from addrlimit_new: free() it
};

#define S_ALIGN(n) (((n) + alignof (max_align_t) - 1) & ~(alignof (max_align_t) - 1))

int
addrlimit_key (addrlimit_key_t *key, const void *bytes, size_t len)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (len == 16)
        memcpy (key->bytes, bytes, 16);
    else if (len == 4) {
        memcpy (key->bytes, mapped, sizeof mapped);
        memcpy (key->bytes + 12, bytes, 4);
    }
    else
        return -1;
    return 0;
}

//  The configuration as the table uses it: at least one entry of each kind.
static addrlimit_config_t
s_normal (const addrlimit_config_t *config)
{
    addrlimit_config_t c = *config;
    if (c.burst < 1)
        c.burst = c.rate;
    if (c.max_idle < 1)
        c.max_idle = 1;
    if (c.max_held < 1)
        c.max_held = 1;
    return c;
}

//  The layout of a table: entries and buckets. Returns the bytes, or 0 on
//  overflow.
static size_t
s_layout (const addrlimit_config_t *c, size_t *capacity, size_t *nbuckets)
{
    const size_t big = SIZE_MAX / 4 / sizeof (addrlimit_entry_t);
    if (c->max_held > big || c->max_idle > big - c->max_held)
        return 0;
    *capacity = c->max_held + c->max_idle;
    *nbuckets = S_MIN_BUCKETS;
    while (*nbuckets < *capacity)
        *nbuckets *= 2;
    return S_ALIGN (sizeof (addrlimit_t)) + S_ALIGN (*nbuckets * sizeof (addrlimit_entry_t *))
           + *capacity * sizeof (addrlimit_entry_t);
}

size_t
addrlimit_size (const addrlimit_config_t *config)
{
    addrlimit_config_t c = s_normal (config);
    size_t capacity, nbuckets;
    return s_layout (&c, &capacity, &nbuckets);
}

addrlimit_t *
addrlimit_init (void *mem, size_t size, const addrlimit_config_t *config)
{
    addrlimit_config_t c = s_normal (config);
    size_t capacity, nbuckets, need = s_layout (&c, &capacity, &nbuckets);
    if (!mem || need == 0 || size < need)
        return NULL;
    addrlimit_t *self = mem;
    memset (self, 0, sizeof *self);
    self->config = c;
    self->buckets = (addrlimit_entry_t **) ((char *) mem + S_ALIGN (sizeof *self));
    self->nbuckets = nbuckets;
    self->pool = (addrlimit_entry_t *) ((char *) self->buckets
                                        + S_ALIGN (nbuckets * sizeof *self->buckets));
    self->capacity = capacity;
    //  The entries are written as they are first handed out, so pages of
    //  the pool that no address ever needs are never touched.
    memset (self->buckets, 0, nbuckets * sizeof *self->buckets);
    return self;
}

addrlimit_t *
addrlimit_new (const addrlimit_config_t *config)
{
    size_t size = addrlimit_size (config);
    void *mem = size ? malloc (size) : NULL;
    addrlimit_t *self = addrlimit_init (mem, size, config);
    if (!self) {
        free (mem);
        return NULL;
    }
    self->own = 1;
    return self;
}

void
addrlimit_destroy (addrlimit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->own)
        free (*self_p);
    *self_p = NULL;
}

void
addrlimit_reset (addrlimit_t *self)
{
    self->stats.forgotten += self->stats.entries;
    self->stats.entries = self->stats.idle = 0;
    memset (self->buckets, 0, self->nbuckets * sizeof *self->buckets);
    self->used = 0;
    self->free_list = NULL;
    self->idle_head = self->idle_tail = NULL;
    self->epoch++;
}

uint64_t
addrlimit_epoch (const addrlimit_t *self)
{
    return self->epoch;
}

//  splitmix64's finaliser: every input bit moves every output bit.
static uint64_t
s_mix (uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static size_t
s_bucket (const addrlimit_t *self, const addrlimit_key_t *key)
{
    uint64_t hi, lo;
    memcpy (&hi, key->bytes, 8);
    memcpy (&lo, key->bytes + 8, 8);
    uint64_t h = s_mix (s_mix (hi ^ self->config.seed) ^ lo ^ (self->config.seed >> 7));
    return (size_t) h & (self->nbuckets - 1);
}

//  The link that points at key's entry (or the chain's end, if absent).
static addrlimit_entry_t **
s_link (const addrlimit_t *self, const addrlimit_key_t *key)
{
    addrlimit_entry_t **link = &self->buckets[s_bucket (self, key)];
    while (*link && memcmp ((*link)->key.bytes, key->bytes, sizeof key->bytes) != 0)
        link = &(*link)->next;
    return link;
}

static void s_free (addrlimit_t *self, addrlimit_entry_t *e);

//  An entry from the pool: a freed one, else one never used, else the
//  idle entry used least recently, forgotten. NULL if every entry holds
//  connections.
static addrlimit_entry_t *
s_take (addrlimit_t *self)
{
    if (!self->free_list && self->used == self->capacity && self->idle_head) {
        s_free (self, self->idle_head);
        self->stats.forgotten++;
    }
    addrlimit_entry_t *e = self->free_list;
    if (e)
        self->free_list = e->next;
    else if (self->used < self->capacity)
        e = &self->pool[self->used++];
    return e;
}

static addrlimit_entry_t *
s_insert (addrlimit_t *self, const addrlimit_key_t *key, int64_t now)
{
    addrlimit_entry_t *e = s_take (self);
    if (!e)
        return NULL;
    memset (e, 0, sizeof *e);
    e->key = *key;
    e->tokens = self->config.burst;
    e->tokens_at = now;
    addrlimit_entry_t **head = &self->buckets[s_bucket (self, key)];
    e->next = *head;
    *head = e;
    self->stats.entries++;
    return e;
}

static void
s_idle_remove (addrlimit_t *self, addrlimit_entry_t *e)
{
    if (!e->idle)
        return;
    if (e->idle_prev)
        e->idle_prev->idle_next = e->idle_next;
    else
        self->idle_head = e->idle_next;
    if (e->idle_next)
        e->idle_next->idle_prev = e->idle_prev;
    else
        self->idle_tail = e->idle_prev;
    e->idle_prev = e->idle_next = NULL;
    e->idle = 0;
    self->stats.idle--;
}

static void
s_free (addrlimit_t *self, addrlimit_entry_t *e)
{
    addrlimit_entry_t **link = s_link (self, &e->key);
    *link = e->next;
    s_idle_remove (self, e);
    e->next = self->free_list;
    self->free_list = e;
    self->stats.entries--;
}

//  Puts e last in the idle list (the most recently used), then forgets
//  the least recently used past max_idle. e itself, being last, stays.
static void
s_idle_touch (addrlimit_t *self, addrlimit_entry_t *e)
{
    s_idle_remove (self, e);
    e->idle = 1;
    e->idle_prev = self->idle_tail;
    if (self->idle_tail)
        self->idle_tail->idle_next = e;
    else
        self->idle_head = e;
    self->idle_tail = e;
    self->stats.idle++;
    while (self->stats.idle > self->config.max_idle) {
        s_free (self, self->idle_head);
        self->stats.forgotten++;
    }
}

static void
s_refill (const addrlimit_t *self, addrlimit_entry_t *e, int64_t now)
{
    if (self->config.rate <= 0 || now <= e->tokens_at)
        return;
    e->tokens += (double) (now - e->tokens_at) * self->config.rate / 1000.0;
    if (e->tokens > self->config.burst)
        e->tokens = self->config.burst;
    e->tokens_at = now;
}

//  Whether an entry that holds no connection can go: nothing it knows
//  would differ from a new entry's.
static int
s_needless (const addrlimit_t *self, addrlimit_entry_t *e, int64_t now)
{
    s_refill (self, e, now);
    return e->connections == 0
           && (self->config.rate <= 0 || e->tokens >= self->config.burst);
}

//  Frees the first idle entries whose bucket is full again.
static void
s_sweep (addrlimit_t *self, int64_t now)
{
    for (int i = 0; i < S_SWEEP && self->idle_head; i++) {
        if (!s_needless (self, self->idle_head, now))
            return;
        s_free (self, self->idle_head);
    }
}

addrlimit_verdict_t
addrlimit_admit (addrlimit_t *self, const addrlimit_key_t *key, int64_t now_ms,
                 int64_t *retry_ms)
{
    const addrlimit_config_t *cfg = &self->config;
    *retry_ms = 0;
    s_sweep (self, now_ms);
    addrlimit_entry_t *e = *s_link (self, key);
    if (e && cfg->max_connections > 0 && e->connections >= cfg->max_connections)
        return ADDRLIMIT_CONNECTIONS;
    if (cfg->rate <= 0)
        return ADDRLIMIT_OK;
    if (!e && !(e = s_insert (self, key, now_ms)))
        return ADDRLIMIT_OK;
    s_refill (self, e, now_ms);
    //  An entry that holds no connection (a new one too, until a
    //  connection holds it) is idle, and now the most recently used: a
    //  refused address that keeps knocking is the last to be forgotten.
    if (e->connections == 0)
        s_idle_touch (self, e);
    if (e->tokens >= 1.0) {
        e->tokens -= 1.0;
        return ADDRLIMIT_OK;
    }
    //  Rounded up: after that long the token is there.
    double wait = (1.0 - e->tokens) * 1000.0 / cfg->rate;
    *retry_ms = (int64_t) wait;
    if ((double) *retry_ms < wait)
        (*retry_ms)++;
    return ADDRLIMIT_RATE;
}

addrlimit_entry_t *
addrlimit_hold (addrlimit_t *self, const addrlimit_key_t *key, int64_t now_ms)
{
    addrlimit_entry_t *e = *s_link (self, key);
    if (!e && !(e = s_insert (self, key, now_ms)))
        return NULL;
    s_idle_remove (self, e);
    e->connections++;
    return e;
}

void
addrlimit_release (addrlimit_t *self, addrlimit_entry_t **entry_p, int64_t now_ms)
{
    addrlimit_entry_t *e = *entry_p;
    if (!e)
        return;
    *entry_p = NULL;
    if (e->connections > 0)
        e->connections--;
    if (e->connections == 0) {
        if (s_needless (self, e, now_ms))
            s_free (self, e);
        else
            s_idle_touch (self, e);
    }
    s_sweep (self, now_ms);
}

int
addrlimit_connections (const addrlimit_t *self, const addrlimit_key_t *key)
{
    const addrlimit_entry_t *e = *s_link (self, key);
    return e ? e->connections : 0;
}

const addrlimit_stats_t *
addrlimit_stats (const addrlimit_t *self)
{
    return &self->stats;
}
