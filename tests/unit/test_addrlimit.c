/*  test_addrlimit.c: the limits per client address (edge/session/addrlimit.c):
 *  keys, the connection count, the token bucket and its Retry-After, that
 *  a release counts once, that memory stays bounded under a flood from
 *  many addresses, that a full table refuses to hold more, and that a
 *  table laid out in a shared mapping works from several processes (as
 *  herald-edge's workers use it).
 */
#include "addrlimit.h"
#include "testutil.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static addrlimit_key_t
s_v4 (unsigned a, unsigned b, unsigned c, unsigned d)
{
    unsigned char bytes[4] = { (unsigned char) a, (unsigned char) b, (unsigned char) c,
                               (unsigned char) d };
    addrlimit_key_t key;
    addrlimit_key (&key, bytes, 4);
    return key;
}

//  2001:db8::N, N up to 2^32.
static addrlimit_key_t
s_v6 (unsigned n)
{
    unsigned char bytes[16] = { 0x20, 0x01, 0x0d, 0xb8 };
    bytes[12] = (unsigned char) (n >> 24);
    bytes[13] = (unsigned char) (n >> 16);
    bytes[14] = (unsigned char) (n >> 8);
    bytes[15] = (unsigned char) n;
    addrlimit_key_t key;
    addrlimit_key (&key, bytes, 16);
    return key;
}

static addrlimit_t *
s_table (int max_connections, int rate, int burst, size_t max_idle)
{
    addrlimit_config_t cfg = { .max_connections = max_connections, .rate = rate,
                               .burst = burst, .max_idle = max_idle, .max_held = 20000,
                               .seed = 12345 };
    return addrlimit_new (&cfg);
}

static addrlimit_verdict_t
s_admit (addrlimit_t *t, addrlimit_key_t key, int64_t now)
{
    int64_t retry;
    return addrlimit_admit (t, &key, now, &retry);
}

static void
test_keys (void)
{
    unsigned char mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 };
    addrlimit_key_t a = s_v4 (127, 0, 0, 1), b;
    CHECK_INT (addrlimit_key (&b, mapped, 16), 0);
    CHECK (memcmp (a.bytes, b.bytes, 16) == 0);
    addrlimit_key_t c = s_v4 (127, 0, 0, 2);
    CHECK (memcmp (a.bytes, c.bytes, 16) != 0);
    CHECK_INT (addrlimit_key (&b, mapped, 5), -1);
    CHECK_INT (addrlimit_key (&b, mapped, 0), -1);

    //  One IPv4 address, whichever way it is spelled, is one address.
    addrlimit_t *t = s_table (1, 0, 0, 8);
    REQUIRE (t);
    addrlimit_key_t v6 = s_v6 (1);
    addrlimit_entry_t *held = addrlimit_hold (t, &a, 0);
    CHECK (held != NULL);
    addrlimit_key (&b, mapped, 16);
    CHECK_INT (s_admit (t, b, 0), ADDRLIMIT_CONNECTIONS);
    CHECK_INT (addrlimit_connections (t, &b), 1);
    CHECK_INT (s_admit (t, c, 0), ADDRLIMIT_OK);
    CHECK_INT (s_admit (t, v6, 0), ADDRLIMIT_OK);
    addrlimit_release (t, &held, 0);
    addrlimit_destroy (&t);
    CHECK (t == NULL);
    addrlimit_destroy (&t);
}

static void
test_connections (void)
{
    addrlimit_t *t = s_table (2, 0, 0, 8);
    REQUIRE (t);
    addrlimit_key_t a = s_v4 (10, 0, 0, 1), b = s_v4 (10, 0, 0, 2);
    addrlimit_entry_t *held[3];
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_OK);
    held[0] = addrlimit_hold (t, &a, 0);
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_OK);
    held[1] = addrlimit_hold (t, &a, 0);
    int64_t retry = -1;
    CHECK_INT (addrlimit_admit (t, &a, 0, &retry), ADDRLIMIT_CONNECTIONS);
    CHECK_INT (retry, 0);
    CHECK_INT (s_admit (t, b, 0), ADDRLIMIT_OK);      //  another address is not counted
    held[2] = addrlimit_hold (t, &b, 0);
    CHECK (held[0] == held[1] && held[0] != held[2]);
    CHECK_INT (addrlimit_stats (t)->entries, 2);

    //  Closing one makes room; the entry goes with the last connection.
    addrlimit_release (t, &held[0], 0);
    CHECK (held[0] == NULL);
    CHECK_INT (addrlimit_connections (t, &a), 1);
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_OK);
    addrlimit_release (t, &held[1], 0);
    addrlimit_release (t, &held[2], 0);
    CHECK_INT (addrlimit_stats (t)->entries, 0);
    CHECK_INT (addrlimit_stats (t)->idle, 0);
    addrlimit_destroy (&t);
}

static void
test_release_counts_once (void)
{
    addrlimit_t *t = s_table (2, 0, 0, 8);
    REQUIRE (t);
    addrlimit_key_t a = s_v4 (10, 0, 0, 1);
    addrlimit_entry_t *first = addrlimit_hold (t, &a, 0);
    addrlimit_entry_t *second = addrlimit_hold (t, &a, 0);
    addrlimit_release (t, &first, 0);
    addrlimit_release (t, &first, 0);           //  NULL now: does nothing
    CHECK_INT (addrlimit_connections (t, &a), 1);
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_OK);
    addrlimit_release (t, &second, 0);
    CHECK_INT (addrlimit_connections (t, &a), 0);
    CHECK_INT (addrlimit_stats (t)->entries, 0);
    addrlimit_destroy (&t);
}

static void
test_rate (void)
{
    addrlimit_t *t = s_table (0, 2, 3, 8);       //  2 a second, bursts of 3
    REQUIRE (t);
    addrlimit_key_t a = s_v4 (10, 0, 0, 1), b = s_v4 (10, 0, 0, 2);
    for (int i = 0; i < 3; i++)
        CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_OK);
    int64_t retry = 0;
    CHECK_INT (addrlimit_admit (t, &a, 0, &retry), ADDRLIMIT_RATE);
    CHECK_INT (retry, 500);
    //  Refusals take no token: half a second later there is one.
    for (int i = 0; i < 10; i++)
        CHECK_INT (s_admit (t, a, 100), ADDRLIMIT_RATE);
    CHECK_INT (addrlimit_admit (t, &a, 250, &retry), ADDRLIMIT_RATE);
    CHECK (retry >= 250 && retry <= 251);
    CHECK_INT (s_admit (t, a, 501), ADDRLIMIT_OK);
    CHECK_INT (s_admit (t, a, 501), ADDRLIMIT_RATE);
    CHECK_INT (s_admit (t, b, 501), ADDRLIMIT_OK);    //  another address has its own bucket
    //  The bucket holds no more than the burst, however long the wait.
    for (int i = 0; i < 3; i++)
        CHECK_INT (s_admit (t, a, 100000), ADDRLIMIT_OK);
    CHECK_INT (s_admit (t, a, 100000), ADDRLIMIT_RATE);
    addrlimit_destroy (&t);
}

static void
test_both_limits (void)
{
    addrlimit_t *t = s_table (1, 1, 2, 8);
    REQUIRE (t);
    addrlimit_key_t a = s_v4 (10, 0, 0, 1);
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_OK);
    addrlimit_entry_t *held = addrlimit_hold (t, &a, 0);
    //  Refused for its connections, the address keeps its token.
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_CONNECTIONS);
    addrlimit_release (t, &held, 0);
    CHECK_INT (addrlimit_stats (t)->idle, 1);         //  its bucket is not full yet
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_OK);
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_RATE);
    addrlimit_destroy (&t);
}

static void
test_entries_freed_when_full (void)
{
    addrlimit_t *t = s_table (0, 1, 2, 8);
    REQUIRE (t);
    addrlimit_key_t a = s_v4 (10, 0, 0, 1), b = s_v4 (10, 0, 0, 2);
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_OK);
    addrlimit_entry_t *held = addrlimit_hold (t, &a, 0);
    CHECK_INT (addrlimit_stats (t)->idle, 0);
    addrlimit_release (t, &held, 500);
    //  Half a token short: remembered, or a reconnect would get a full
    //  bucket.
    CHECK_INT (addrlimit_stats (t)->entries, 1);
    CHECK_INT (addrlimit_stats (t)->idle, 1);
    //  Once its bucket is full again it goes, at the next call.
    CHECK_INT (s_admit (t, b, 900), ADDRLIMIT_OK);
    CHECK_INT (addrlimit_stats (t)->entries, 2);
    CHECK_INT (s_admit (t, b, 2000), ADDRLIMIT_OK);
    CHECK_INT (addrlimit_stats (t)->entries, 1);      //  a went; b is refilling
    CHECK_INT (addrlimit_stats (t)->forgotten, 0);

    //  Without a rate nothing is kept for an address with no connection.
    addrlimit_t *plain = s_table (5, 0, 0, 8);
    REQUIRE (plain);
    CHECK_INT (s_admit (plain, a, 0), ADDRLIMIT_OK);
    CHECK_INT (addrlimit_stats (plain)->entries, 0);
    held = addrlimit_hold (plain, &a, 0);
    addrlimit_release (plain, &held, 0);
    CHECK_INT (addrlimit_stats (plain)->entries, 0);
    addrlimit_destroy (&plain);
    addrlimit_destroy (&t);
}

//  A flood from many addresses (an IPv6 attacker has a whole /64) keeps
//  at most max_idle entries beside those that hold connections, and
//  forgets the least recently used first.
static void
test_flood_is_bounded (void)
{
    addrlimit_t *t = s_table (4, 1, 1, 16);
    REQUIRE (t);
    addrlimit_entry_t *held[10];
    for (unsigned i = 0; i < 10; i++) {
        addrlimit_key_t k = s_v6 (i);
        CHECK_INT (s_admit (t, k, 0), ADDRLIMIT_OK);
        held[i] = addrlimit_hold (t, &k, 0);
    }
    for (unsigned i = 1000; i < 101000; i++) {
        addrlimit_key_t k = s_v6 (i);
        CHECK_INT (s_admit (t, k, 0), ADDRLIMIT_OK);
        REQUIRE (addrlimit_stats (t)->entries <= 10 + 16);
    }
    CHECK_INT (addrlimit_stats (t)->idle, 16);
    CHECK_INT (addrlimit_stats (t)->forgotten, 100000 - 16);
    //  What connections hold is never forgotten.
    for (unsigned i = 0; i < 10; i++) {
        addrlimit_key_t k = s_v6 (i);
        CHECK_INT (addrlimit_connections (t, &k), 1);
    }
    //  The most recent are remembered (their buckets are empty), the
    //  oldest forgotten (a fresh bucket).
    CHECK_INT (s_admit (t, s_v6 (100999), 0), ADDRLIMIT_RATE);
    CHECK_INT (s_admit (t, s_v6 (1000), 0), ADDRLIMIT_OK);
    //  A refused address that keeps knocking stays remembered.
    for (unsigned i = 200000; i < 200100; i++) {
        CHECK_INT (s_admit (t, s_v6 (100999), 0), ADDRLIMIT_RATE);
        s_admit (t, s_v6 (i), 0);
    }
    CHECK_INT (s_admit (t, s_v6 (100999), 0), ADDRLIMIT_RATE);
    for (unsigned i = 0; i < 10; i++)
        addrlimit_release (t, &held[i], 0);
    CHECK (addrlimit_stats (t)->entries <= 16);
    //  Once every bucket is full again, the table empties as it is used.
    for (int i = 0; i < 20; i++)
        s_admit (t, s_v6 (300000), 10000 + i);
    CHECK_INT (addrlimit_stats (t)->entries, 1);
    addrlimit_destroy (&t);
}

//  Many addresses holding connections: the table holds them, and empties.
static void
test_many_held (void)
{
    addrlimit_t *t = s_table (3, 0, 0, 8);
    REQUIRE (t);
    enum { N = 20000 };
    static addrlimit_entry_t *held[N];
    for (unsigned i = 0; i < N; i++) {
        addrlimit_key_t k = i % 2 ? s_v6 (i) : s_v4 (10, (i >> 16) & 255, (i >> 8) & 255, i & 255);
        held[i] = addrlimit_hold (t, &k, 0);
        REQUIRE (held[i]);
    }
    CHECK_INT (addrlimit_stats (t)->entries, N);
    for (unsigned i = 0; i < N; i++) {
        addrlimit_key_t k = i % 2 ? s_v6 (i) : s_v4 (10, (i >> 16) & 255, (i >> 8) & 255, i & 255);
        CHECK_INT (addrlimit_connections (t, &k), 1);
    }
    for (unsigned i = 0; i < N; i++)
        addrlimit_release (t, &held[i], 0);
    CHECK_INT (addrlimit_stats (t)->entries, 0);
    addrlimit_destroy (&t);
}

//  More addresses holding connections than max_held: an idle entry is
//  forgotten to make room, and once none is left, hold refuses (and
//  admit lets the connection go ahead uncounted).
static void
test_full (void)
{
    addrlimit_config_t cfg = { .max_connections = 1, .rate = 1, .burst = 1, .max_idle = 2,
                               .max_held = 2, .seed = 7 };
    addrlimit_t *t = addrlimit_new (&cfg);
    REQUIRE (t);
    addrlimit_key_t k[5] = { s_v4 (10, 0, 0, 1), s_v4 (10, 0, 0, 2), s_v4 (10, 0, 0, 3),
                             s_v4 (10, 0, 0, 4), s_v4 (10, 0, 0, 5) };
    addrlimit_entry_t *held[4];
    for (int i = 0; i < 4; i++) {
        CHECK_INT (s_admit (t, k[i], 0), ADDRLIMIT_OK);
        held[i] = addrlimit_hold (t, &k[i], 0);
        REQUIRE (held[i]);
    }
    CHECK_INT (addrlimit_stats (t)->entries, 4);
    //  Every entry holds a connection: no room for a fifth address.
    CHECK_INT (s_admit (t, k[4], 0), ADDRLIMIT_OK);
    CHECK (addrlimit_hold (t, &k[4], 0) == NULL);
    //  One lets go: its entry stays idle (its bucket is empty), and is
    //  forgotten for the new address.
    addrlimit_release (t, &held[0], 0);
    CHECK_INT (addrlimit_stats (t)->idle, 1);
    addrlimit_entry_t *fifth = addrlimit_hold (t, &k[4], 0);
    REQUIRE (fifth);
    CHECK_INT (addrlimit_stats (t)->forgotten, 1);
    CHECK_INT (addrlimit_connections (t, &k[0]), 0);
    CHECK_INT (addrlimit_connections (t, &k[4]), 1);
    for (int i = 1; i < 4; i++)
        addrlimit_release (t, &held[i], 0);
    addrlimit_release (t, &fifth, 0);
    addrlimit_destroy (&t);
}

//  A reset forgets everything and moves the epoch.
static void
test_reset (void)
{
    addrlimit_t *t = s_table (1, 0, 0, 8);
    REQUIRE (t);
    addrlimit_key_t a = s_v4 (10, 0, 0, 1);
    addrlimit_entry_t *held = addrlimit_hold (t, &a, 0);
    REQUIRE (held);
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_CONNECTIONS);
    CHECK_INT ((int) addrlimit_epoch (t), 0);
    addrlimit_reset (t);
    CHECK_INT ((int) addrlimit_epoch (t), 1);
    CHECK_INT (addrlimit_stats (t)->entries, 0);
    CHECK_INT (addrlimit_stats (t)->forgotten, 1);
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_OK);
    held = addrlimit_hold (t, &a, 0);
    REQUIRE (held);
    addrlimit_release (t, &held, 0);
    CHECK_INT (addrlimit_stats (t)->entries, 0);
    addrlimit_destroy (&t);
}

//  The table in memory the caller gives: too little is refused, and in a
//  shared mapping, what a child process holds the parent sees, and what
//  the parent then releases the child sees gone.
static void
test_shared_mapping (void)
{
    addrlimit_config_t cfg = { .max_connections = 2, .max_idle = 4, .max_held = 4, .seed = 9 };
    size_t size = addrlimit_size (&cfg);
    REQUIRE (size > 0);
    void *mem = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE (mem != MAP_FAILED);
    CHECK (addrlimit_init (mem, size - 1, &cfg) == NULL);
    addrlimit_t *t = addrlimit_init (mem, size, &cfg);
    REQUIRE (t == mem);
    addrlimit_key_t a = s_v4 (192, 0, 2, 1);
    int pipes[2];
    REQUIRE (pipe (pipes) == 0);
    pid_t pid = fork ();
    REQUIRE (pid >= 0);
    if (pid == 0) {
        //  The child holds two connections and hands the entry back.
        addrlimit_entry_t *e1 = addrlimit_hold (t, &a, 0);
        addrlimit_entry_t *e2 = addrlimit_hold (t, &a, 0);
        int ok = e1 && e1 == e2 && write (pipes[1], &e1, sizeof e1) == (ssize_t) sizeof e1;
        _exit (ok ? 0 : 1);
    }
    int status = -1;
    REQUIRE (waitpid (pid, &status, 0) == pid);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    addrlimit_entry_t *e = NULL;
    REQUIRE (read (pipes[0], &e, sizeof e) == (ssize_t) sizeof e);
    CHECK_INT (addrlimit_connections (t, &a), 2);
    CHECK_INT (s_admit (t, a, 0), ADDRLIMIT_CONNECTIONS);
    addrlimit_entry_t *copy = e;
    addrlimit_release (t, &e, 0);
    addrlimit_release (t, &copy, 0);
    pid = fork ();
    REQUIRE (pid >= 0);
    if (pid == 0)
        _exit (addrlimit_connections (t, &a) == 0 && addrlimit_stats (t)->entries == 0 ? 0 : 1);
    REQUIRE (waitpid (pid, &status, 0) == pid);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    close (pipes[0]);
    close (pipes[1]);
    munmap (mem, size);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_keys);
    RUN (test_connections);
    RUN (test_release_counts_once);
    RUN (test_rate);
    RUN (test_both_limits);
    RUN (test_entries_freed_when_full);
    RUN (test_flood_is_bounded);
    RUN (test_many_held);
    RUN (test_full);
    RUN (test_reset);
    RUN (test_shared_mapping);
    return TEST_RESULT ();
}
