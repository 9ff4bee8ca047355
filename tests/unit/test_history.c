/*  test_history.c: topics' numbering and recent events (broker/history.c):
 *  offsets per topic, epochs, answers to "after offset O in epoch E" and
 *  their batches, and each bound (per topic, age, memory, topics) with
 *  what it makes unavailable, and events numbered by another broker.
 */
#include "history.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>

static history_t *
s_new (const char *topics, size_t size, int64_t ttl_ms, size_t bytes, size_t max_topics)
{
    history_config_t c = { topics, size, ttl_ms, bytes, max_topics };
    char why[128];
    history_t *h = history_new (&c, 42, why, sizeof why);
    if (!h)
        fprintf (stderr, "history_new: %s\n", why);
    return h;
}

//  Publishes the event "<topic>#<n>" and returns its offset (0 on failure).
static uint64_t
s_pub (history_t *h, const char *topic, int64_t now, uint64_t *epoch)
{
    uint64_t e, o;
    char payload[300];
    static unsigned n;
    int len = snprintf (payload, sizeof payload, "%s#%u", topic, ++n);
    if (history_stamp (h, topic, strlen (topic), payload, (size_t) len, now, &e, &o) != 0)
        return 0;
    if (epoch)
        *epoch = e;
    return o;
}

//  history_since into a local batch of 8.
typedef struct {
    history_answer_t a;
    history_event_t ev[8];
    size_t n;
    uint64_t epoch, last;
} s_since_t;

static s_since_t
s_since (history_t *h, const char *topic, uint64_t epoch, uint64_t offset, int64_t now,
         size_t max, size_t max_bytes)
{
    s_since_t r;
    r.a = history_since (h, topic, strlen (topic), epoch, offset, now, r.ev, max, max_bytes,
                         &r.n, &r.epoch, &r.last);
    return r;
}

static void
test_offsets_and_epochs (void)
{
    history_t *h = s_new (">", 10, 0, 1 << 20, 100);
    REQUIRE (h);
    uint64_t ea, eb, e;
    CHECK_INT (s_pub (h, "a", 0, &ea), 1);
    CHECK_INT (s_pub (h, "a", 0, &e), 2);
    CHECK (e == ea);
    CHECK_INT (s_pub (h, "b", 0, &eb), 1);
    CHECK (eb != ea && ea != 0 && eb != 0);
    CHECK_INT (s_pub (h, "a", 0, NULL), 3);
    //  Another broker start (another seed) gives other epochs.
    history_config_t c = { ">", 10, 0, 1 << 20, 100 };
    char why[64];
    history_t *h2 = history_new (&c, 43, why, sizeof why);
    REQUIRE (h2);
    uint64_t e2;
    CHECK_INT (s_pub (h2, "a", 0, &e2), 1);
    CHECK (e2 != ea);
    history_destroy (&h2);
    history_destroy (&h);
    CHECK (h == NULL);
    history_destroy (&h);
}

static void
test_since (void)
{
    history_t *h = s_new (">", 10, 0, 1 << 20, 100);
    REQUIRE (h);
    uint64_t e;
    for (int i = 0; i < 5; i++)
        s_pub (h, "t", 0, &e);
    //  After 2: 3, 4, 5, in order, with the payloads kept.
    s_since_t r = s_since (h, "t", e, 2, 0, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_OK);
    REQUIRE (r.n == 3);
    CHECK_INT (r.ev[0].offset, 3);
    CHECK_INT (r.ev[2].offset, 5);
    CHECK (r.ev[0].len > 2 && memcmp (r.ev[0].payload, "t#", 2) == 0);
    CHECK (r.epoch == e);
    CHECK_INT (r.last, 5);
    //  Nothing missed.
    r = s_since (h, "t", e, 5, 0, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_OK);
    CHECK_INT (r.n, 0);
    //  From the start of the epoch.
    r = s_since (h, "t", e, 0, 0, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_OK);
    CHECK_INT (r.n, 5);
    //  Batches: at most max events, and at most max_bytes (but one).
    r = s_since (h, "t", e, 0, 0, 2, 1 << 20);
    CHECK_INT (r.n, 2);
    CHECK_INT (r.ev[1].offset, 2);
    r = s_since (h, "t", e, 0, 0, 8, 1);
    CHECK_INT (r.n, 1);
    //  Another epoch, an offset past the last, a topic never seen.
    r = s_since (h, "t", e + 1, 2, 0, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_GONE);
    CHECK (r.epoch == e);
    CHECK_INT (r.last, 5);
    r = s_since (h, "t", e, 6, 0, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_GONE);
    r = s_since (h, "u", e, 0, 0, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_GONE);
    CHECK_INT (r.epoch, 0);
    CHECK_INT (r.last, 0);
    history_stats_t st;
    history_stats (h, &st);
    CHECK_INT (st.replays, 5);
    CHECK_INT (st.replayed, 11);
    CHECK_INT (st.gone, 3);
    CHECK_INT (st.events, 5);
    CHECK_INT (st.topics, 1);
    CHECK_INT (st.topics_kept, 1);
    history_destroy (&h);
}

static void
test_per_topic_size (void)
{
    history_t *h = s_new (">", 3, 0, 1 << 20, 100);
    REQUIRE (h);
    uint64_t e;
    for (int i = 0; i < 7; i++)
        s_pub (h, "t", 0, &e);
    //  4..7 kept (3 of them: 5, 6, 7); after 4 is whole, after 3 is not.
    s_since_t r = s_since (h, "t", e, 4, 0, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_OK);
    CHECK_INT (r.n, 3);
    CHECK_INT (r.ev[0].offset, 5);
    r = s_since (h, "t", e, 3, 0, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_GONE);
    CHECK_INT (r.last, 7);
    history_stats_t st;
    history_stats (h, &st);
    CHECK_INT (st.events, 3);
    CHECK_INT (st.trimmed, 4);
    history_destroy (&h);
}

static void
test_ttl (void)
{
    history_t *h = s_new (">", 100, 1000, 1 << 20, 100);
    REQUIRE (h);
    uint64_t e;
    s_pub (h, "t", 0, &e);
    s_pub (h, "t", 500, &e);
    s_pub (h, "t", 900, &e);
    //  At 1,200 the first is 1.2 s old: gone; the others are not.
    s_since_t r = s_since (h, "t", e, 0, 1200, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_GONE);
    r = s_since (h, "t", e, 1, 1200, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_OK);
    CHECK_INT (r.n, 2);
    //  At 2,000 none is left, but nothing was missed after 3.
    r = s_since (h, "t", e, 2, 2000, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_GONE);
    r = s_since (h, "t", e, 3, 2000, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_OK);
    CHECK_INT (r.n, 0);
    history_stats_t st;
    history_stats (h, &st);
    CHECK_INT (st.events, 0);
    CHECK_INT (st.bytes, 0);
    CHECK_INT (st.topics_kept, 0);
    CHECK_INT (st.topics, 1);
    history_destroy (&h);
}

static void
test_memory_budget (void)
{
    //  Room for about 4 events of ~10 bytes: the oldest overall go first,
    //  whichever their topic.
    history_t *h = s_new (">", 100, 0, 4 * (10 + 56) + 30, 100);
    REQUIRE (h);
    uint64_t ea, eb;
    s_pub (h, "a", 0, &ea);       //  a 1
    s_pub (h, "b", 0, &eb);       //  b 1
    s_pub (h, "a", 0, &ea);       //  a 2
    s_pub (h, "b", 0, &eb);       //  b 2
    s_pub (h, "b", 0, &eb);       //  b 3: a 1 goes
    history_stats_t st;
    history_stats (h, &st);
    CHECK (st.bytes <= 4 * (10 + 56) + 30);
    CHECK_INT (st.events, 4);
    CHECK_INT (s_since (h, "a", ea, 0, 0, 8, 1 << 20).a, HISTORY_GONE);
    CHECK_INT (s_since (h, "a", ea, 1, 0, 8, 1 << 20).n, 1);
    CHECK_INT (s_since (h, "b", eb, 0, 0, 8, 1 << 20).n, 3);
    //  An event larger than the whole budget is not kept, and nor are its
    //  topic's older ones: what is kept stays consecutive.
    char big[600];
    memset (big, 'x', sizeof big);
    uint64_t e, o;
    CHECK_INT (history_stamp (h, "b", 1, big, sizeof big, 0, &e, &o), 0);
    CHECK_INT (o, 4);
    CHECK_INT (s_since (h, "b", eb, 3, 0, 8, 1 << 20).a, HISTORY_GONE);
    CHECK_INT (s_since (h, "b", eb, 4, 0, 8, 1 << 20).a, HISTORY_OK);
    CHECK_INT (s_since (h, "a", ea, 1, 0, 8, 1 << 20).n, 1);
    history_destroy (&h);
}

static void
test_patterns (void)
{
    history_t *h = s_new ("chat.*, user.>", 10, 0, 1 << 20, 100);
    REQUIRE (h);
    uint64_t e;
    //  Every topic is numbered; only the matching ones are kept.
    CHECK_INT (s_pub (h, "ticker", 0, &e), 1);
    CHECK_INT (s_pub (h, "ticker", 0, &e), 2);
    CHECK_INT (s_since (h, "ticker", e, 1, 0, 8, 1 << 20).a, HISTORY_GONE);
    CHECK_INT (s_since (h, "ticker", e, 2, 0, 8, 1 << 20).a, HISTORY_OK);
    s_pub (h, "chat.general", 0, &e);
    CHECK_INT (s_since (h, "chat.general", e, 0, 0, 8, 1 << 20).n, 1);
    s_pub (h, "user.alice.inbox", 0, &e);
    CHECK_INT (s_since (h, "user.alice.inbox", e, 0, 0, 8, 1 << 20).n, 1);
    history_destroy (&h);
    //  None kept with "" or with a size of 0; a malformed list is refused.
    h = s_new ("", 10, 0, 1 << 20, 100);
    REQUIRE (h);
    s_pub (h, "chat.general", 0, &e);
    CHECK_INT (s_since (h, "chat.general", e, 0, 0, 8, 1 << 20).a, HISTORY_GONE);
    history_destroy (&h);
    h = s_new (">", 0, 0, 1 << 20, 100);
    REQUIRE (h);
    s_pub (h, "chat.general", 0, &e);
    CHECK_INT (s_since (h, "chat.general", e, 0, 0, 8, 1 << 20).a, HISTORY_GONE);
    history_destroy (&h);
    history_config_t c = { "a..b", 10, 0, 1 << 20, 100 };
    char why[128] = "";
    CHECK (history_new (&c, 1, why, sizeof why) == NULL);
    CHECK (strstr (why, "empty segment") != NULL);
}

static void
test_max_topics (void)
{
    history_t *h = s_new (">", 10, 0, 1 << 20, 2);
    REQUIRE (h);
    uint64_t ea, eb, ec;
    s_pub (h, "a", 0, &ea);
    s_pub (h, "b", 0, &eb);
    s_pub (h, "a", 0, &ea);       //  b is now the least recent
    s_pub (h, "c", 0, &ec);       //  b is forgotten
    history_stats_t st;
    history_stats (h, &st);
    CHECK_INT (st.topics, 2);
    CHECK_INT (st.forgotten, 1);
    CHECK_INT (st.events, 3);
    CHECK_INT (s_since (h, "b", eb, 0, 0, 8, 1 << 20).a, HISTORY_GONE);
    CHECK_INT (s_since (h, "a", ea, 0, 0, 8, 1 << 20).n, 2);
    //  b's next event starts again at 1, in a new epoch.
    uint64_t eb2;
    CHECK_INT (s_pub (h, "b", 0, &eb2), 1);
    CHECK (eb2 != eb);
    history_destroy (&h);
}

//  Many topics and events through a small ring: the ring grows, wraps and
//  answers by arithmetic, checked against the offsets.
static void
test_ring_wraps (void)
{
    history_t *h = s_new (">", 50, 0, 1 << 24, 1000);
    REQUIRE (h);
    char topic[16];
    uint64_t e[20];
    for (int round = 0; round < 130; round++)
        for (int t = 0; t < 20; t++) {
            snprintf (topic, sizeof topic, "t%d", t);
            CHECK_INT (s_pub (h, topic, round, &e[t]), round + 1);
        }
    for (int t = 0; t < 20; t++) {
        snprintf (topic, sizeof topic, "t%d", t);
        s_since_t r = s_since (h, topic, e[t], 80, 200, 8, 1 << 20);
        CHECK_INT (r.a, HISTORY_OK);
        REQUIRE (r.n == 8);
        for (size_t i = 0; i < r.n; i++)
            CHECK_INT (r.ev[i].offset, 81 + i);
        CHECK_INT (s_since (h, topic, e[t], 79, 200, 8, 1 << 20).a, HISTORY_GONE);
    }
    history_stats_t st;
    history_stats (h, &st);
    CHECK_INT (st.events, 20 * 50);
    history_destroy (&h);
}

//  Events numbered elsewhere (an upstream broker's) are kept under their
//  own numbering; what breaks the sequence lets go of the older ones.
static void
test_mirror (void)
{
    history_t *h = s_new (">", 10, 0, 1 << 20, 100);
    REQUIRE (h);
    const uint64_t up = 0x1234;
    for (uint64_t o = 5; o <= 8; o++)
        CHECK_INT (history_mirror (h, "t", 1, up, o, "x", 1, 0), 0);
    s_since_t r = s_since (h, "t", up, 5, 0, 8, 1 << 20);
    CHECK_INT (r.a, HISTORY_OK);
    CHECK_INT (r.n, 3);
    CHECK_INT (r.ev[0].offset, 6);
    CHECK (r.epoch == up);
    CHECK_INT (r.last, 8);
    //  Nothing before the first one seen here.
    CHECK_INT (s_since (h, "t", up, 3, 0, 8, 1 << 20).a, HISTORY_GONE);
    //  A gap: only what follows it is kept.
    history_mirror (h, "t", 1, up, 10, "y", 1, 0);
    CHECK_INT (s_since (h, "t", up, 8, 0, 8, 1 << 20).a, HISTORY_GONE);
    CHECK_INT (s_since (h, "t", up, 9, 0, 8, 1 << 20).n, 1);
    //  Another epoch (the upstream restarted).
    history_mirror (h, "t", 1, up + 1, 1, "z", 1, 0);
    CHECK_INT (s_since (h, "t", up, 9, 0, 8, 1 << 20).a, HISTORY_GONE);
    r = s_since (h, "t", up + 1, 0, 0, 8, 1 << 20);
    CHECK_INT (r.n, 1);
    history_stats_t st;
    history_stats (h, &st);
    CHECK_INT (st.events, 1);
    history_destroy (&h);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_offsets_and_epochs);
    RUN (test_since);
    RUN (test_per_topic_size);
    RUN (test_ttl);
    RUN (test_memory_budget);
    RUN (test_patterns);
    RUN (test_max_topics);
    RUN (test_ring_wraps);
    RUN (test_mirror);
    return TEST_RESULT ();
}
