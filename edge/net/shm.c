/*  shm.c: the mapping herald-edge's supervisor and workers share. See
 *  shm.h.
 *
 *  The sums of /metrics are read with a sequence count: the supervisor
 *  makes it odd while it moves a dead worker's counters into the retired
 *  sums, and a reader that saw it odd, or changed, reads again.
 */
#include "log.h"
#include "shm.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define S_WORDS(type) (sizeof (type) / sizeof (uint64_t))
_Static_assert (sizeof (shm_stats_t) % sizeof (uint64_t) == 0,
                "shm_stats_t must be made of 8-byte words");
_Static_assert (sizeof (size_t) == sizeof (uint64_t), "gauges are 8-byte words");

shm_t *
shm_new (int workers, int max_connections, int worker_connections,
         const addrlimit_config_t *addrs)
{
    size_t head = sizeof (shm_t) + (size_t) workers * sizeof (shm_slot_t);
    head = (head + 63) & ~(size_t) 63;
    size_t table = addrs ? addrlimit_size (addrs) : 0;
    size_t records = addrs ? (size_t) workers * (size_t) worker_connections
                                 * sizeof (shm_hold_rec_t) : 0;
    table = (table + 63) & ~(size_t) 63;
    if (addrs && table == 0) {
        hlog_error ("the table of addresses for --max-connections %d is too large",
                    max_connections);
        return NULL;
    }
    //  Anonymous shared memory is given pages as they are touched: the
    //  table of addresses costs what its entries in use take.
    void *mem = mmap (NULL, head + table + records, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                      -1, 0);
    if (mem == MAP_FAILED) {
        hlog_error ("cannot map the memory the workers share: %s", strerror (errno));
        return NULL;
    }
    shm_t *self = mem;
    self->size = head + table + records;
    self->workers = workers;
    self->max_connections = max_connections;
    self->worker_connections = worker_connections;
    pthread_mutexattr_t attr;
    int err = pthread_mutexattr_init (&attr);
    if (err == 0)
        err = pthread_mutexattr_setpshared (&attr, PTHREAD_PROCESS_SHARED);
    if (err == 0)
        err = pthread_mutexattr_setrobust (&attr, PTHREAD_MUTEX_ROBUST);
    if (err == 0)
        err = pthread_mutex_init (&self->lock, &attr);
    pthread_mutexattr_destroy (&attr);
    if (err == 0 && addrs
        && !(self->addrs = addrlimit_init ((char *) mem + head, table, addrs)))
        err = ENOMEM;
    if (err != 0) {
        hlog_error ("cannot set up the memory the workers share: %s", strerror (err));
        munmap (mem, self->size);
        return NULL;
    }
    if (addrs)
        for (int w = 0; w < workers; w++)
            self->slots[w].holds = (shm_hold_rec_t *) ((char *) mem + head + table)
                                   + (size_t) w * (size_t) worker_connections;
    return self;
}

void
shm_destroy (shm_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    munmap (*self_p, (*self_p)->size);
    *self_p = NULL;
}

//  Every record of every worker freed, and every handle given so far
//  made stale (with the table reset).
static void
s_holds_reset (shm_t *self)
{
    for (int w = 0; w < self->workers; w++) {
        shm_slot_t *slot = &self->slots[w];
        slot->holds_free = 0;
        for (uint32_t i = slot->holds_used; i > 0; i--) {
            shm_hold_rec_t *r = &slot->holds[i - 1];
            r->entry = NULL;
            r->gen++;
            r->next_free = slot->holds_free;
            slot->holds_free = i;
        }
    }
}

void
shm_lock (shm_t *self)
{
    int err = pthread_mutex_lock (&self->lock);
    if (err != EOWNERDEAD)
        return;
    //  A worker died inside a table operation: the counts of connections
    //  are sums over the slots, and safe, but the table may be half
    //  changed. Starting it again costs the limits per address their
    //  counts of what is open now; connections opened from now on count.
    if (self->addrs) {
        addrlimit_reset (self->addrs);
        s_holds_reset (self);
    }
    atomic_fetch_add (&self->lock_recoveries, 1);
    pthread_mutex_consistent (&self->lock);
    hlog_warn ("a worker died holding the lock of the limits per address: the limits "
               "per address count from zero again");
}

void
shm_unlock (shm_t *self)
{
    pthread_mutex_unlock (&self->lock);
}

uint64_t
shm_admitted (shm_t *self)
{
    uint64_t n = 0;
    for (int w = 0; w < self->workers; w++)
        n += atomic_load (&self->slots[w].admitted);
    return n;
}

//  Under the lock, so that two workers never both take the last place.
//  Each slot's count changes in one atomic step, so a worker that dies
//  anywhere in here leaves the counts right, and the supervisor clears
//  its slot.
int
shm_admit (shm_t *self, int w)
{
    shm_slot_t *slot = &self->slots[w];
    if (atomic_load (&slot->admitted) >= (uint64_t) self->worker_connections
        || shm_admitted (self) >= (uint64_t) self->max_connections)
        return -1;
    atomic_fetch_add (&slot->admitted, 1);
    return 0;
}

void
shm_release (shm_t *self, int w)
{
    shm_slot_t *slot = &self->slots[w];
    if (atomic_load (&slot->admitted) > 0)
        atomic_fetch_sub (&slot->admitted, 1);
}

uint64_t
shm_hold (shm_t *self, int w, const addrlimit_key_t *key, int64_t now_ms)
{
    shm_slot_t *slot = &self->slots[w];
    if (!self->addrs)
        return SHM_ADMITTED;
    uint32_t i;
    if (slot->holds_free) {
        i = slot->holds_free - 1;
        slot->holds_free = slot->holds[i].next_free;
    }
    else if (slot->holds_used < (uint32_t) self->worker_connections)
        i = slot->holds_used++;
    else
        return 0;
    shm_hold_rec_t *r = &slot->holds[i];
    r->entry = addrlimit_hold (self->addrs, key, now_ms);
    if (!r->entry) {
        r->next_free = slot->holds_free;
        slot->holds_free = i + 1;
        return 0;
    }
    r->gen++;
    return ((uint64_t) r->gen << 32) | (i + 1);
}

void
shm_unhold (shm_t *self, int w, uint64_t handle, int64_t now_ms)
{
    shm_slot_t *slot = &self->slots[w];
    uint32_t i = (uint32_t) handle - 1;
    if (handle == SHM_ADMITTED || !self->addrs || i >= slot->holds_used)
        return;
    shm_hold_rec_t *r = &slot->holds[i];
    if (!r->entry || r->gen != (uint32_t) (handle >> 32))
        return;
    addrlimit_release (self->addrs, &r->entry, now_ms);
    r->next_free = slot->holds_free;
    slot->holds_free = i + 1;
}

//  Under the lock: every hold of a worker that is gone.
static void
s_unhold_all (shm_t *self, int w, int64_t now_ms)
{
    shm_slot_t *slot = &self->slots[w];
    for (uint32_t i = 0; i < slot->holds_used; i++)
        if (slot->holds[i].entry)
            shm_unhold (self, w, ((uint64_t) slot->holds[i].gen << 32) | (i + 1), now_ms);
}

static void
s_add (shm_stats_t *to, const shm_stats_t *from)
{
    uint64_t *t = (uint64_t *) to;
    const volatile uint64_t *f = (const volatile uint64_t *) from;
    for (size_t i = 0; i < S_WORDS (shm_stats_t); i++)
        t[i] += f[i];
}

void
shm_sum (shm_t *self, shm_stats_t *total)
{
    //  A fold takes a few microseconds; past that many tries, a sum with
    //  one worker's counts in flight is better than none.
    for (int tries = 0; tries < 1000; tries++) {
        uint32_t seq = atomic_load_explicit (&self->seq, memory_order_acquire);
        if (seq & 1)
            continue;
        memset (total, 0, sizeof *total);
        s_add (total, &self->retired);
        for (int w = 0; w < self->workers; w++)
            s_add (total, &self->slots[w].stats);
        atomic_thread_fence (memory_order_acquire);
        if (atomic_load_explicit (&self->seq, memory_order_relaxed) == seq)
            return;
    }
}

uint64_t
shm_key_reloads (shm_t *self)
{
    uint64_t least = atomic_load (&self->reload_gen);
    for (int w = 0; w < self->workers; w++) {
        shm_slot_t *slot = &self->slots[w];
        uint64_t done = atomic_load (&slot->reloads);
        if (atomic_load (&slot->state) == SHM_READY && done < least)
            least = done;
    }
    return least;
}

int
shm_ready (shm_t *self)
{
    int n = 0;
    for (int w = 0; w < self->workers; w++)
        n += atomic_load (&self->slots[w].state) == SHM_READY;
    return n;
}

void
shm_slot_start (shm_t *self, int w)
{
    shm_slot_t *slot = &self->slots[w];
    atomic_store (&slot->pid, 0);
    atomic_store (&slot->broker_connected, 0);
    atomic_store (&slot->admitted, 0);
    //  A new worker starts with the keys the supervisor holds now.
    atomic_store (&slot->reloads, atomic_load (&self->reload_gen));
    atomic_store (&slot->keys, atomic_load (&self->keys));
    atomic_store (&slot->state, SHM_STARTING);
}

void
shm_slot_retire (shm_t *self, int w, int64_t now_ms)
{
    shm_slot_t *slot = &self->slots[w];
    atomic_store (&slot->state, SHM_EMPTY);
    if (self->addrs) {
        shm_lock (self);
        s_unhold_all (self, w, now_ms);
        shm_unlock (self);
    }
    atomic_fetch_add_explicit (&self->seq, 1, memory_order_acq_rel);
    s_add (&self->retired, &slot->stats);
    //  Gauges of a process that is gone are nothing.
    self->retired.m.connections = 0;
    self->retired.hub.topics = 0;
    self->retired.hub.groups = 0;
    self->retired.hub.subscriptions = 0;
    memset (&slot->stats, 0, sizeof slot->stats);
    atomic_fetch_add_explicit (&self->seq, 1, memory_order_acq_rel);
    atomic_store (&slot->admitted, 0);
    atomic_store (&slot->broker_connected, 0);
    atomic_store (&slot->pid, 0);
}
