/*  addrlimit.c: the limits per client address. See addrlimit.h.
 *
 *  A hash table of entries, chained, keyed by the 16 address bytes. The
 *  hash is seeded with a secret: a client that picks its addresses (an
 *  IPv6 /64 holds 2^64 of them) cannot aim them all at one chain. Entries
 *  that hold no connection are also on a list, least recently used first,
 *  which is both the order in which their buckets fill up again (to be
 *  freed) and the order in which they are forgotten past max_idle.
 */
#include "addrlimit.h"

#include <stdlib.h>
#include <string.h>

//  Entries freed by one call once their bucket is full again: a few, so
//  that no call does more than a bounded amount of work, yet the list
//  drains faster than one new address a call can fill it.
#define S_SWEEP 2
#define S_INITIAL_BUCKETS 64

struct addrlimit_entry {
    addrlimit_key_t key;
    struct addrlimit_entry *next;       //  in its hash chain
    struct addrlimit_entry *idle_prev;  //  in the idle list, while it holds no connection
    struct addrlimit_entry *idle_next;
    double tokens;                      //  the bucket, as of tokens_at
    int64_t tokens_at;
    int connections;
    int idle;
};

struct addrlimit {
    addrlimit_config_t config;
    addrlimit_entry_t **buckets;
    size_t nbuckets;                    //  a power of two
    addrlimit_entry_t *idle_head;       //  used least recently
    addrlimit_entry_t *idle_tail;
    addrlimit_stats_t stats;
};

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

addrlimit_t *
addrlimit_new (const addrlimit_config_t *config)
{
    addrlimit_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    if (self->config.burst < 1)
        self->config.burst = self->config.rate;
    if (self->config.max_idle < 1)
        self->config.max_idle = 1;
    self->nbuckets = S_INITIAL_BUCKETS;
    self->buckets = calloc (self->nbuckets, sizeof *self->buckets);
    if (!self->buckets) {
        free (self);
        return NULL;
    }
    return self;
}

void
addrlimit_destroy (addrlimit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    addrlimit_t *self = *self_p;
    for (size_t i = 0; i < self->nbuckets; i++)
        for (addrlimit_entry_t *e = self->buckets[i], *next; e; e = next) {
            next = e->next;
            free (e);
        }
    free (self->buckets);
    free (self);
    *self_p = NULL;
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

//  Doubles the buckets once there are more entries than buckets. Without
//  memory for that the chains just grow longer.
static void
s_grow (addrlimit_t *self)
{
    if (self->stats.entries <= self->nbuckets || self->nbuckets > SIZE_MAX / 2 / sizeof (void *))
        return;
    size_t old_n = self->nbuckets;
    addrlimit_entry_t **old = self->buckets;
    addrlimit_entry_t **fresh = calloc (old_n * 2, sizeof *fresh);
    if (!fresh)
        return;
    self->buckets = fresh;
    self->nbuckets = old_n * 2;
    for (size_t i = 0; i < old_n; i++)
        for (addrlimit_entry_t *e = old[i], *next; e; e = next) {
            next = e->next;
            addrlimit_entry_t **head = &fresh[s_bucket (self, &e->key)];
            e->next = *head;
            *head = e;
        }
    free (old);
}

static addrlimit_entry_t *
s_insert (addrlimit_t *self, const addrlimit_key_t *key, int64_t now)
{
    addrlimit_entry_t *e = calloc (1, sizeof *e);
    if (!e)
        return NULL;
    e->key = *key;
    e->tokens = self->config.burst;
    e->tokens_at = now;
    addrlimit_entry_t **head = &self->buckets[s_bucket (self, key)];
    e->next = *head;
    *head = e;
    self->stats.entries++;
    s_grow (self);
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
    free (e);
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
