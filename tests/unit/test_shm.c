/*  test_shm.c: the mapping herald-edge's workers share (edge/net/shm.c):
 *  admissions against the edge's total and a worker's own room, holds in
 *  the table of addresses and their handles (stale after a reset), the
 *  sums over the slots, a dead worker retired (its counters kept, its
 *  gauges, places and holds given back), the key reloads every worker has
 *  done, all of it from processes forked after the mapping was made, and
 *  the lock taken over from a process that died holding it.
 */
#include "shm.h"
#include "testutil.h"

#include <sys/wait.h>
#include <unistd.h>

static addrlimit_key_t
s_key (unsigned last)
{
    unsigned char bytes[4] = { 10, 0, 0, (unsigned char) last };
    addrlimit_key_t key;
    addrlimit_key (&key, bytes, 4);
    return key;
}

static int
s_admit (shm_t *shm, int w)
{
    shm_lock (shm);
    int rc = shm_admit (shm, w);
    shm_unlock (shm);
    return rc;
}

//  The edge's total, and each worker's own room.
static void
test_admissions (void)
{
    shm_t *shm = shm_new (2, 5, 3, NULL);
    REQUIRE (shm);
    for (int i = 0; i < 3; i++)
        CHECK_INT (s_admit (shm, 0), 0);
    CHECK_INT (s_admit (shm, 0), -1);           //  worker 0 is full
    CHECK_INT (s_admit (shm, 1), 0);
    CHECK_INT (s_admit (shm, 1), 0);
    CHECK_INT (s_admit (shm, 1), -1);           //  the edge is full
    CHECK_INT ((int) shm_admitted (shm), 5);
    shm_release (shm, 0);
    CHECK_INT (s_admit (shm, 1), 0);
    CHECK_INT ((int) atomic_load (&shm->slots[1].admitted), 3);
    shm_destroy (&shm);
    CHECK (shm == NULL);
    shm_destroy (&shm);
}

//  Holds: a handle per connection, let go once; a reset makes every
//  handle given before it stale.
static void
test_holds (void)
{
    addrlimit_config_t ac = { .max_connections = 2, .max_idle = 8, .max_held = 8, .seed = 1 };
    shm_t *shm = shm_new (2, 8, 4, &ac);
    REQUIRE (shm && shm->addrs);
    addrlimit_key_t a = s_key (1);
    shm_lock (shm);
    uint64_t h1 = shm_hold (shm, 0, &a, 0);
    uint64_t h2 = shm_hold (shm, 1, &a, 0);
    CHECK (h1 && h2 && h1 != SHM_ADMITTED);
    CHECK_INT (addrlimit_connections (shm->addrs, &a), 2);
    int64_t retry;
    CHECK_INT (addrlimit_admit (shm->addrs, &a, 0, &retry), ADDRLIMIT_CONNECTIONS);
    shm_unhold (shm, 0, h1, 0);
    shm_unhold (shm, 0, h1, 0);                 //  once only
    CHECK_INT (addrlimit_connections (shm->addrs, &a), 1);
    //  The record is used again, with another generation.
    uint64_t h3 = shm_hold (shm, 0, &a, 0);
    CHECK (h3 && h3 != h1 && (uint32_t) h3 == (uint32_t) h1);
    shm_unhold (shm, 0, h1, 0);                 //  stale: nothing
    CHECK_INT (addrlimit_connections (shm->addrs, &a), 2);
    //  A worker holds at most its own room.
    addrlimit_key_t b = s_key (2), c = s_key (3), d = s_key (4);
    CHECK (shm_hold (shm, 0, &b, 0) && shm_hold (shm, 0, &c, 0) && shm_hold (shm, 0, &d, 0));
    CHECK (shm_hold (shm, 0, &d, 0) == 0);
    addrlimit_reset (shm->addrs);
    shm_unlock (shm);
    shm_destroy (&shm);
}

//  Sums over the slots and the retired counts; a dead worker's counters
//  stay, its gauges, places and holds go.
static void
test_retire (void)
{
    addrlimit_config_t ac = { .max_connections = 1, .max_idle = 8, .max_held = 8, .seed = 2 };
    shm_t *shm = shm_new (2, 10, 10, &ac);
    REQUIRE (shm);
    for (int w = 0; w < 2; w++) {
        shm_slot_start (shm, w);
        atomic_store (&shm->slots[w].state, SHM_READY);
        shm->slots[w].stats.m.connections = 3;
        shm->slots[w].stats.m.connections_total = 10 + (uint64_t) w;
        shm->slots[w].stats.hub.topics = 2;
        shm->slots[w].stats.hub.deliveries = 100;
        shm->slots[w].stats.sessions.auth[AUTH_OK] = 4;
    }
    addrlimit_key_t a = s_key (9);
    shm_lock (shm);
    CHECK_INT (shm_admit (shm, 1), 0);
    uint64_t held = shm_hold (shm, 1, &a, 0);
    shm_unlock (shm);
    CHECK (held != 0);
    shm_stats_t t;
    shm_sum (shm, &t);
    CHECK_INT ((int) t.m.connections, 6);
    CHECK_INT ((int) t.m.connections_total, 21);
    CHECK_INT ((int) t.hub.topics, 4);
    CHECK_INT ((int) t.hub.deliveries, 200);
    CHECK_INT ((int) t.sessions.auth[AUTH_OK], 8);
    CHECK_INT (shm_ready (shm), 2);
    shm_slot_retire (shm, 1, 0);
    shm_sum (shm, &t);
    CHECK_INT ((int) t.m.connections, 3);       //  gauges: the live worker's
    CHECK_INT ((int) t.hub.topics, 2);
    CHECK_INT ((int) t.m.connections_total, 21);    //  counters: kept
    CHECK_INT ((int) t.hub.deliveries, 200);
    CHECK_INT ((int) shm_admitted (shm), 0);
    CHECK_INT (addrlimit_connections (shm->addrs, &a), 0);
    CHECK_INT (shm_ready (shm), 1);
    //  Started again, it counts from nothing; the sums go on.
    shm_slot_start (shm, 1);
    shm->slots[1].stats.m.connections_total = 1;
    shm_sum (shm, &t);
    CHECK_INT ((int) t.m.connections_total, 22);
    shm_destroy (&shm);
}

//  The reloads every serving worker has done: the least of them, and a
//  worker started later counts as having done them all.
static void
test_key_reloads (void)
{
    shm_t *shm = shm_new (2, 10, 10, NULL);
    REQUIRE (shm);
    for (int w = 0; w < 2; w++) {
        shm_slot_start (shm, w);
        atomic_store (&shm->slots[w].state, SHM_READY);
    }
    atomic_store (&shm->reload_gen, 2);
    atomic_store (&shm->slots[0].reloads, 2);
    atomic_store (&shm->slots[1].reloads, 1);
    CHECK_INT ((int) shm_key_reloads (shm), 1);
    atomic_store (&shm->slots[1].reloads, 2);
    CHECK_INT ((int) shm_key_reloads (shm), 2);
    shm_slot_retire (shm, 1, 0);
    atomic_store (&shm->reload_gen, 3);
    shm_slot_start (shm, 1);
    CHECK_INT ((int) atomic_load (&shm->slots[1].reloads), 3);
    CHECK_INT ((int) shm_key_reloads (shm), 2);
    shm_destroy (&shm);
}

//  Forked processes share it: children take places and hold an address,
//  the parent sees them, and retiring a child that died gives them back.
static void
test_across_fork (void)
{
    addrlimit_config_t ac = { .max_connections = 4, .max_idle = 8, .max_held = 8, .seed = 3 };
    shm_t *shm = shm_new (2, 3, 3, &ac);
    REQUIRE (shm);
    addrlimit_key_t a = s_key (7);
    pid_t pids[2];
    for (int w = 0; w < 2; w++) {
        shm_slot_start (shm, w);
        pids[w] = fork ();
        REQUIRE (pids[w] >= 0);
        if (pids[w] == 0) {
            int ok = 1;
            for (int i = 0; i < 2; i++) {
                shm_lock (shm);
                int admitted = shm_admit (shm, w) == 0;
                if (admitted && !shm_hold (shm, w, &a, 0))
                    ok = 0;
                shm_unlock (shm);
                //  Of four tries against a total of three, the second
                //  child's second is refused.
                ok &= admitted == !(w == 1 && i == 1);
            }
            shm->slots[w].stats.m.connections_total = 2;
            _exit (ok ? 0 : 1);
        }
        int status;
        REQUIRE (waitpid (pids[w], &status, 0) == pids[w]);
        CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
    CHECK_INT ((int) shm_admitted (shm), 3);
    CHECK_INT (addrlimit_connections (shm->addrs, &a), 3);
    shm_slot_retire (shm, 0, 0);
    CHECK_INT ((int) shm_admitted (shm), 1);
    CHECK_INT (addrlimit_connections (shm->addrs, &a), 1);
    shm_slot_retire (shm, 1, 0);
    CHECK_INT (addrlimit_connections (shm->addrs, &a), 0);
    shm_stats_t t;
    shm_sum (shm, &t);
    CHECK_INT ((int) t.m.connections_total, 4);
    shm_destroy (&shm);
}

//  A worker that dies holding the lock: the next to take it finds it so,
//  starts the table of addresses again, and every handle from before is
//  stale (a release of one does nothing).
static void
test_owner_died (void)
{
    addrlimit_config_t ac = { .max_connections = 1, .max_idle = 8, .max_held = 8, .seed = 4 };
    shm_t *shm = shm_new (2, 10, 10, &ac);
    REQUIRE (shm);
    addrlimit_key_t a = s_key (5);
    shm_lock (shm);
    uint64_t held = shm_hold (shm, 0, &a, 0);
    shm_unlock (shm);
    REQUIRE (held);
    pid_t pid = fork ();
    REQUIRE (pid >= 0);
    if (pid == 0) {
        shm_lock (shm);
        _exit (0);                              //  without unlocking
    }
    int status;
    REQUIRE (waitpid (pid, &status, 0) == pid);
    shm_lock (shm);
    CHECK_INT ((int) atomic_load (&shm->lock_recoveries), 1);
    CHECK_INT (addrlimit_connections (shm->addrs, &a), 0);
    uint64_t again = shm_hold (shm, 0, &a, 0);
    CHECK (again && again != held);
    shm_unhold (shm, 0, held, 0);
    CHECK_INT (addrlimit_connections (shm->addrs, &a), 1);
    shm_unhold (shm, 0, again, 0);
    CHECK_INT (addrlimit_connections (shm->addrs, &a), 0);
    shm_unlock (shm);
    //  And the lock works as before.
    shm_lock (shm);
    shm_unlock (shm);
    CHECK_INT ((int) atomic_load (&shm->lock_recoveries), 1);
    shm_destroy (&shm);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_admissions);
    RUN (test_holds);
    RUN (test_retire);
    RUN (test_key_reloads);
    RUN (test_across_fork);
    RUN (test_owner_died);
    return TEST_RESULT ();
}
