/*  client_test.c: libherald's C API against a running broker.
 *
 *  Usage: client_test INGRESS EGRESS [TEST]
 *  test_client.py starts the broker and runs this, plainly and under
 *  valgrind. Each test uses its own topics, so they do not interfere.
 */
#include "herald.h"
#include "testutil.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *s_ingress;
static const char *s_egress;

static herald_publisher_t *
s_pub (void)
{
    int err = -1;
    herald_publisher_t *pub = herald_publisher_new (s_ingress, &err);
    REQUIRE (pub);
    CHECK_INT (err, HERALD_OK);
    return pub;
}

static herald_subscriber_t *
s_sub (const char *topic)
{
    int err = -1;
    herald_subscriber_t *sub = herald_subscriber_new (s_egress, &err);
    REQUIRE (sub);
    CHECK_INT (err, HERALD_OK);
    if (topic) {
        CHECK_INT (herald_subscribe (sub, topic), HERALD_OK);
        CHECK_INT (herald_subscriber_sync (sub, 5000), HERALD_OK);
    }
    return sub;
}

static void
test_version_and_strerror (void)
{
    char expect[32];
    snprintf (expect, sizeof expect, "%d.%d.%d", HERALD_VERSION_MAJOR, HERALD_VERSION_MINOR,
              HERALD_VERSION_PATCH);
    CHECK_STR (herald_version (), expect);
    for (int code = HERALD_OK; code <= HERALD_ERR_UNSENT; code++) {
        CHECK (herald_strerror (code) != NULL);
        CHECK (strcmp (herald_strerror (code), "unknown error") != 0);
    }
    CHECK (strstr (herald_strerror (HERALD_ERR_UNSENT), "linger") != NULL);
    CHECK_STR (herald_strerror (9999), "unknown error");
    CHECK (herald_errmsg () != NULL);
}

static void
test_null_handles (void)
{
    herald_event_t *ev = NULL;
    int fd;
    size_t size;
    CHECK_INT (herald_publish (NULL, "t", "\xc0", 1), HERALD_ERR_INVALID);
    CHECK (strstr (herald_errmsg (), "NULL") != NULL);
    CHECK_INT (herald_publish_json (NULL, "t", "1", 1), HERALD_ERR_INVALID);
    CHECK_INT (herald_publisher_set_option (NULL, HERALD_OPT_HWM, 1), HERALD_ERR_INVALID);
    CHECK_INT (herald_subscribe (NULL, "t"), HERALD_ERR_INVALID);
    CHECK_INT (herald_unsubscribe (NULL, "t"), HERALD_ERR_INVALID);
    CHECK_INT (herald_subscriber_sync (NULL, 0), HERALD_ERR_INVALID);
    CHECK_INT (herald_subscriber_fd (NULL, &fd), HERALD_ERR_INVALID);
    CHECK_INT (herald_subscriber_set_option (NULL, HERALD_OPT_HWM, 1), HERALD_ERR_INVALID);
    CHECK_INT (herald_recv (NULL, &ev, 0), HERALD_ERR_INVALID);
    CHECK_INT (herald_subscriber_skipped (NULL), 0);
    CHECK (herald_event_topic (NULL) == NULL);
    CHECK (herald_event_payload (NULL, &size) == NULL);
    CHECK (herald_event_json (NULL, &size) == NULL);
    CHECK (herald_event_metadata (NULL, &size) == NULL);
    CHECK_INT (herald_json_to_msgpack (NULL, 0, NULL, NULL), HERALD_ERR_INVALID);
    CHECK_INT (herald_msgpack_to_json (NULL, 0, NULL, NULL), HERALD_ERR_INVALID);
    CHECK_INT (herald_publisher_close (NULL), HERALD_ERR_INVALID);
    CHECK (strstr (herald_errmsg (), "NULL") != NULL);
    herald_publisher_t *none = NULL;
    CHECK_INT (herald_publisher_close (&none), HERALD_OK);
    CHECK_INT (herald_subscriber_connected (NULL), 0);
    herald_publisher_destroy (NULL);
    herald_subscriber_destroy (NULL);
    herald_event_destroy (NULL);
    herald_event_destroy (&ev);
    herald_free (NULL);

    herald_publisher_t *pub = s_pub ();
    CHECK_INT (herald_publish (pub, NULL, "\xc0", 1), HERALD_ERR_INVALID);
    CHECK_INT (herald_publish (pub, "t", NULL, 1), HERALD_ERR_INVALID);
    CHECK_INT (herald_publish_json (pub, "t", NULL, 1), HERALD_ERR_INVALID);
    herald_publisher_destroy (&pub);
    CHECK (pub == NULL);
    herald_subscriber_t *sub = s_sub (NULL);
    CHECK_INT (herald_subscribe (sub, NULL), HERALD_ERR_INVALID);
    CHECK_INT (herald_recv (sub, NULL, 0), HERALD_ERR_INVALID);
    CHECK_INT (herald_subscriber_fd (sub, NULL), HERALD_ERR_INVALID);
    herald_subscriber_destroy (&sub);
    CHECK (sub == NULL);
}

static void
test_bad_topics (void)
{
    herald_publisher_t *pub = s_pub ();
    herald_subscriber_t *sub = s_sub (NULL);
    char topic[300];
    memset (topic, 'x', sizeof topic);
    topic[256] = 0;
    CHECK_INT (herald_publish_json (pub, "", "1", 1), HERALD_ERR_TOPIC);
    CHECK (strstr (herald_errmsg (), "empty") != NULL);
    CHECK_INT (herald_publish_json (pub, topic, "1", 1), HERALD_ERR_TOPIC);
    CHECK (strstr (herald_errmsg (), "255") != NULL);
    CHECK_INT (herald_publish_json (pub, "bad\xff", "1", 1), HERALD_ERR_TOPIC);
    CHECK (strstr (herald_errmsg (), "UTF-8") != NULL);
    CHECK_INT (herald_publish_json (pub, "$herald/sync/x", "1", 1), HERALD_ERR_TOPIC);
    CHECK (strstr (herald_errmsg (), "reserved") != NULL);
    CHECK_INT (herald_subscribe (sub, ""), HERALD_ERR_TOPIC);
    CHECK_INT (herald_subscribe (sub, topic), HERALD_ERR_TOPIC);
    CHECK_INT (herald_subscribe (sub, "$herald/sync/x"), HERALD_ERR_TOPIC);
    topic[255] = 0;
    CHECK_INT (herald_publish_json (pub, topic, "1", 1), HERALD_OK);
    CHECK_INT (herald_subscribe (sub, topic), HERALD_OK);
    herald_subscriber_destroy (&sub);
    herald_publisher_destroy (&pub);
}

static void
test_payload_limits (void)
{
    herald_publisher_t *pub = s_pub ();
    size_t big = 1048576 + 1;
    char *data = malloc (big);
    REQUIRE (data);
    //  A valid bin32 value one byte over the default limit.
    data[0] = (char) 0xc6;
    uint32_t n = (uint32_t) (big - 5);
    data[1] = (char) (n >> 24); data[2] = (char) (n >> 16);
    data[3] = (char) (n >> 8); data[4] = (char) n;
    memset (data + 5, 'a', big - 5);
    CHECK_INT (herald_publish (pub, "limits", data, big), HERALD_ERR_TOO_BIG);
    CHECK (strstr (herald_errmsg (), "limit is 1048576") != NULL);
    free (data);

    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_MAX_PAYLOAD, 8), HERALD_OK);
    CHECK_INT (herald_publish_json (pub, "limits", "\"1234567\"", 9), HERALD_OK);   //  8 bytes packed
    CHECK_INT (herald_publish_json (pub, "limits", "\"12345678\"", 10), HERALD_ERR_TOO_BIG);
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_MAX_PAYLOAD, 0), HERALD_ERR_INVALID);
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_MAX_PAYLOAD, 1LL << 40),
               HERALD_ERR_INVALID);
    herald_publisher_destroy (&pub);
}

static void
test_invalid_payloads (void)
{
    herald_publisher_t *pub = s_pub ();
    const char *bad = "{\"text\": \"hi\",}";
    CHECK_INT (herald_publish_json (pub, "t", bad, strlen (bad)), HERALD_ERR_JSON);
    CHECK (strstr (herald_errmsg (), "line 1, column 15") != NULL);
    CHECK_INT (herald_publish_json (pub, "t", "", 0), HERALD_ERR_JSON);
    CHECK_INT (herald_publish (pub, "t", "\xc1", 1), HERALD_ERR_MSGPACK);
    CHECK_INT (herald_publish (pub, "t", "\xc0\xc0", 2), HERALD_ERR_MSGPACK);
    CHECK (strstr (herald_errmsg (), "follow") != NULL);
    CHECK_INT (herald_publish (pub, "t", "\xdd\xff\xff\xff\xff", 5), HERALD_ERR_MSGPACK);
    CHECK_INT (herald_publish (pub, "t", "", 0), HERALD_ERR_MSGPACK);
    herald_publisher_destroy (&pub);
}

static void
test_options (void)
{
    herald_publisher_t *pub = s_pub ();
    herald_subscriber_t *sub = s_sub (NULL);
    CHECK_INT (herald_publisher_set_option (pub, 999, 1), HERALD_ERR_INVALID);
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_LINGER_MS, -2), HERALD_ERR_INVALID);
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_LINGER_MS, 100), HERALD_OK);
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_SEND_TIMEOUT_MS, -1), HERALD_OK);
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_HWM, -1), HERALD_ERR_INVALID);
    CHECK_INT (herald_subscriber_set_option (sub, HERALD_OPT_LINGER_MS, 1), HERALD_ERR_INVALID);
    CHECK_INT (herald_subscriber_set_option (sub, HERALD_OPT_SEND_TIMEOUT_MS, 1), HERALD_ERR_INVALID);
    CHECK_INT (herald_subscriber_set_option (sub, HERALD_OPT_HWM, 10), HERALD_OK);
    CHECK_INT (herald_subscriber_set_option (sub, HERALD_OPT_MAX_PAYLOAD, 100), HERALD_OK);
    herald_subscriber_destroy (&sub);
    herald_publisher_destroy (&pub);
}

static void
test_bad_endpoint (void)
{
    int err = 0;
    CHECK (herald_publisher_new ("bogus://nowhere", &err) == NULL);
    CHECK_INT (err, HERALD_ERR_ENDPOINT);
    CHECK (strstr (herald_errmsg (), "bogus://nowhere") != NULL);
    CHECK (herald_subscriber_new ("tcp://", &err) == NULL);
    CHECK_INT (err, HERALD_ERR_ENDPOINT);
    CHECK (herald_subscriber_new ("tcp://", NULL) == NULL);
}

static void
test_roundtrip (void)
{
    herald_subscriber_t *sub = s_sub ("client.roundtrip");
    herald_publisher_t *pub = s_pub ();
    const char *json = "{\"id\":\"1\",\"text\":\"hi\",\"n\":[1,2.5,null,true]}";
    CHECK_INT (herald_publish_json (pub, "client.roundtrip", json, strlen (json)), HERALD_OK);
    herald_event_t *ev = NULL;
    REQUIRE (herald_recv (sub, &ev, 5000) == HERALD_OK);
    CHECK_STR (herald_event_topic (ev), "client.roundtrip");
    size_t len = 0;
    CHECK_STR (herald_event_json (ev, &len), json);
    CHECK_INT (len, strlen (json));
    //  The payload is the same msgpack herald_json_to_msgpack makes.
    void *packed = NULL;
    size_t packed_size = 0, size = 0;
    REQUIRE (herald_json_to_msgpack (json, strlen (json), &packed, &packed_size) == HERALD_OK);
    const void *payload = herald_event_payload (ev, &size);
    CHECK_INT (size, packed_size);
    CHECK (memcmp (payload, packed, size) == 0);
    //  The metadata is the broker's numbering: {"epoch": uint64, "offset":
    //  uint64}, this topic's first event (docs/wire.md).
    const unsigned char *meta = herald_event_metadata (ev, &size);
    REQUIRE (meta != NULL);
    CHECK_INT (size, 32);
    CHECK_INT (meta[0], 0x82);
    CHECK (memcmp (meta + 1, "\xa5" "epoch", 6) == 0);
    CHECK (memcmp (meta + 16, "\xa6" "offset\xcf\0\0\0\0\0\0\0\x01", 16) == 0);
    uint64_t epoch = 0, offset = 0, epoch2 = 0;
    CHECK_INT (herald_event_stamp (ev, &epoch, &offset), HERALD_OK);
    CHECK (epoch != 0);
    CHECK_INT (offset, 1);
    CHECK_INT (herald_event_stamp (ev, NULL, &offset), HERALD_ERR_INVALID);
    CHECK_INT (herald_event_stamp (NULL, &epoch, &offset), HERALD_ERR_INVALID);
    herald_free (packed);
    herald_event_destroy (&ev);
    CHECK (ev == NULL);

    //  Raw msgpack goes through unchanged.
    CHECK_INT (herald_publish (pub, "client.roundtrip", "\x92\x01\xa1x", 4), HERALD_OK);
    REQUIRE (herald_recv (sub, &ev, 5000) == HERALD_OK);
    payload = herald_event_payload (ev, &size);
    CHECK_INT (size, 4);
    CHECK (memcmp (payload, "\x92\x01\xa1x", 4) == 0);
    CHECK_STR (herald_event_json (ev, NULL), "[1,\"x\"]");
    //  The topic's next offset, in the same epoch.
    CHECK_INT (herald_event_stamp (ev, &epoch2, &offset), HERALD_OK);
    CHECK (epoch2 == epoch);
    CHECK_INT (offset, 2);
    herald_event_destroy (&ev);
    herald_publisher_destroy (&pub);
    herald_subscriber_destroy (&sub);
}

static void
test_exact_topics (void)
{
    herald_subscriber_t *sub = s_sub ("client.chat.gen");
    herald_publisher_t *pub = s_pub ();
    for (int i = 0; i < 10; i++)
        CHECK_INT (herald_publish_json (pub, "client.chat.general", "1", 1), HERALD_OK);
    CHECK_INT (herald_publish_json (pub, "client.chat.gen", "2", 1), HERALD_OK);
    herald_event_t *ev = NULL;
    REQUIRE (herald_recv (sub, &ev, 5000) == HERALD_OK);
    CHECK_STR (herald_event_topic (ev), "client.chat.gen");
    CHECK_STR (herald_event_json (ev, NULL), "2");
    herald_event_destroy (&ev);
    CHECK_INT (herald_recv (sub, &ev, 200), HERALD_ERR_TIMEOUT);
    CHECK (ev == NULL);
    herald_publisher_destroy (&pub);
    herald_subscriber_destroy (&sub);
}

static void
test_unsubscribe (void)
{
    herald_subscriber_t *sub = s_sub ("client.unsub");
    herald_publisher_t *pub = s_pub ();
    CHECK_INT (herald_subscribe (sub, "client.unsub"), HERALD_OK);     //  twice is once
    CHECK_INT (herald_subscribe (sub, "client.unsub.other"), HERALD_OK);
    CHECK_INT (herald_unsubscribe (sub, "client.unsub"), HERALD_OK);
    CHECK_INT (herald_unsubscribe (sub, "client.never"), HERALD_OK);
    CHECK_INT (herald_subscriber_sync (sub, 5000), HERALD_OK);
    CHECK_INT (herald_publish_json (pub, "client.unsub", "1", 1), HERALD_OK);
    CHECK_INT (herald_publish_json (pub, "client.unsub.other", "2", 1), HERALD_OK);
    herald_event_t *ev = NULL;
    REQUIRE (herald_recv (sub, &ev, 5000) == HERALD_OK);
    CHECK_STR (herald_event_topic (ev), "client.unsub.other");
    herald_event_destroy (&ev);
    herald_publisher_destroy (&pub);
    herald_subscriber_destroy (&sub);
}

static void
test_sync_keeps_events (void)
{
    //  Events that arrive while sync waits are queued for recv, in order.
    herald_subscriber_t *sub = s_sub ("client.sync.a");
    herald_publisher_t *pub = s_pub ();
    char json[16];
    for (int i = 0; i < 5; i++) {
        snprintf (json, sizeof json, "%d", i);
        CHECK_INT (herald_publish_json (pub, "client.sync.a", json, strlen (json)), HERALD_OK);
    }
    //  Wait until the events have reached the subscriber's socket.
    int fd;
    CHECK_INT (herald_subscriber_fd (sub, &fd), HERALD_OK);
    CHECK (fd >= 0);
    CHECK_INT (herald_subscribe (sub, "client.sync.b"), HERALD_OK);
    CHECK_INT (herald_subscriber_sync (sub, 5000), HERALD_OK);
    CHECK_INT (herald_publish_json (pub, "client.sync.b", "99", 2), HERALD_OK);
    for (int i = 0; i < 5; i++) {
        herald_event_t *ev = NULL;
        REQUIRE (herald_recv (sub, &ev, 5000) == HERALD_OK);
        snprintf (json, sizeof json, "%d", i);
        CHECK_STR (herald_event_topic (ev), "client.sync.a");
        CHECK_STR (herald_event_json (ev, NULL), json);
        herald_event_destroy (&ev);
    }
    herald_event_t *ev = NULL;
    REQUIRE (herald_recv (sub, &ev, 5000) == HERALD_OK);
    CHECK_STR (herald_event_topic (ev), "client.sync.b");
    herald_event_destroy (&ev);
    herald_publisher_destroy (&pub);
    herald_subscriber_destroy (&sub);
}

static void
test_recv_timeout (void)
{
    herald_subscriber_t *sub = s_sub ("client.quiet");
    herald_event_t *ev = NULL;
    CHECK_INT (herald_recv (sub, &ev, 0), HERALD_ERR_TIMEOUT);
    CHECK_INT (herald_recv (sub, &ev, 50), HERALD_ERR_TIMEOUT);
    CHECK (ev == NULL);
    //  Nothing subscribed since the last sync: confirmed at once.
    CHECK_INT (herald_subscriber_sync (sub, 0), HERALD_OK);
    herald_subscriber_destroy (&sub);
}

static void
test_backpressure (void)
{
    //  Nothing listens on port 1: messages queue up to the high-water
    //  mark, after which publish reports backpressure.
    int err;
    herald_publisher_t *pub = herald_publisher_new ("tcp://127.0.0.1:1", &err);
    REQUIRE (pub);
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_HWM, 10), HERALD_OK);
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_SEND_TIMEOUT_MS, 0), HERALD_OK);
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_LINGER_MS, 0), HERALD_OK);
    int sent = 0, rc = HERALD_OK;
    while (sent < 1000 && (rc = herald_publish_json (pub, "client.bp", "1", 1)) == HERALD_OK)
        sent++;
    CHECK_INT (rc, HERALD_ERR_AGAIN);
    CHECK (sent >= 10 && sent < 1000);
    CHECK (strstr (herald_errmsg (), "send timeout") != NULL);
    herald_publisher_destroy (&pub);
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
    nanosleep (&ts, NULL);
}

//  Waits (up to 10 s) until herald_subscriber_connected says 'want'.
static int
s_wait_connected (herald_subscriber_t *sub, int want)
{
    for (int i = 0; i < 1000; i++) {
        if (herald_subscriber_connected (sub) == want)
            return 1;
        s_sleep_ms (10);
    }
    return 0;
}

static void
test_publisher_close (void)
{
    //  With the broker up, everything goes and close says so.
    herald_subscriber_t *sub = s_sub ("client.close");
    herald_publisher_t *pub = s_pub ();
    for (int i = 0; i < 100; i++)
        CHECK_INT (herald_publish_json (pub, "client.close", "1", 1), HERALD_OK);
    CHECK_INT (herald_publisher_close (&pub), HERALD_OK);
    CHECK (pub == NULL);
    CHECK_INT (herald_publisher_close (&pub), HERALD_OK);     //  closing twice
    for (int i = 0; i < 100; i++) {
        herald_event_t *ev = NULL;
        REQUIRE (herald_recv (sub, &ev, 5000) == HERALD_OK);
        herald_event_destroy (&ev);
    }
    //  Waiting forever is bounded by the flush itself.
    pub = s_pub ();
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_LINGER_MS, -1), HERALD_OK);
    CHECK_INT (herald_publish_json (pub, "client.close", "2", 1), HERALD_OK);
    CHECK_INT (herald_publisher_close (&pub), HERALD_OK);
    herald_event_t *ev = NULL;
    REQUIRE (herald_recv (sub, &ev, 5000) == HERALD_OK);
    herald_event_destroy (&ev);

    //  With no broker, nothing can go: the count and the cause are told.
    int err;
    pub = herald_publisher_new ("tcp://127.0.0.1:1", &err);
    REQUIRE (pub);
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_LINGER_MS, 100), HERALD_OK);
    for (int i = 0; i < 3; i++)
        CHECK_INT (herald_publish_json (pub, "client.close", "3", 1), HERALD_OK);
    CHECK_INT (herald_publisher_close (&pub), HERALD_ERR_UNSENT);
    CHECK (pub == NULL);
    CHECK (strstr (herald_errmsg (), "3 messages not sent") != NULL);
    CHECK (strstr (herald_errmsg (), "never connected") != NULL);
    CHECK (strstr (herald_errmsg (), "tcp://127.0.0.1:1") != NULL);
    //  Nothing published: nothing lost, broker or not.
    pub = herald_publisher_new ("tcp://127.0.0.1:1", &err);
    REQUIRE (pub);
    CHECK_INT (herald_publisher_close (&pub), HERALD_OK);

    //  A linger of 0 waits for nothing, so close cannot vouch for anything
    //  published, even to a connected broker.
    pub = s_pub ();
    CHECK_INT (herald_publish_json (pub, "client.close", "4", 1), HERALD_OK);
    REQUIRE (herald_recv (sub, &ev, 5000) == HERALD_OK);     //  connected by now
    herald_event_destroy (&ev);
    CHECK_INT (herald_publisher_set_option (pub, HERALD_OPT_LINGER_MS, 0), HERALD_OK);
    CHECK_INT (herald_publisher_close (&pub), HERALD_ERR_UNSENT);
    CHECK (strstr (herald_errmsg (), "had been connected") != NULL);
    herald_subscriber_destroy (&sub);
}

typedef struct {
    herald_subscriber_t *sub;
    volatile int stop;
    long seen_up;
} watcher_t;

//  Reads herald_subscriber_connected from a thread of its own while the
//  subscriber's thread is busy receiving.
static void *
s_watch (void *arg)
{
    watcher_t *w = arg;
    while (!w->stop) {
        if (herald_subscriber_connected (w->sub) == 1)
            w->seen_up++;
        s_sleep_ms (1);
    }
    return NULL;
}

static void
test_subscriber_connected (void)
{
    //  Nothing listens on port 1: never connected.
    int err;
    herald_subscriber_t *lonely = herald_subscriber_new ("tcp://127.0.0.1:1", &err);
    REQUIRE (lonely);
    CHECK_INT (herald_subscriber_connected (lonely), 0);
    CHECK_INT (herald_subscribe (lonely, "client.lonely"), HERALD_OK);
    CHECK_INT (herald_subscriber_sync (lonely, 200), HERALD_ERR_TIMEOUT);
    CHECK_INT (herald_subscriber_connected (lonely), 0);
    herald_subscriber_destroy (&lonely);

    herald_subscriber_t *sub = s_sub ("client.connected");
    CHECK (s_wait_connected (sub, 1));
    watcher_t w = { sub, 0, 0 };
    pthread_t t;
    REQUIRE (pthread_create (&t, NULL, s_watch, &w) == 0);
    herald_publisher_t *pub = s_pub ();
    for (int i = 0; i < 20; i++) {
        CHECK_INT (herald_publish_json (pub, "client.connected", "1", 1), HERALD_OK);
        herald_event_t *ev = NULL;
        CHECK_INT (herald_recv (sub, &ev, 5000), HERALD_OK);
        herald_event_destroy (&ev);
    }
    for (int i = 0; i < 10000 && w.seen_up == 0; i++)
        s_sleep_ms (1);
    w.stop = 1;
    pthread_join (t, NULL);
    CHECK (w.seen_up > 0);
    CHECK_INT (herald_subscriber_connected (sub), 1);
    herald_publisher_destroy (&pub);
    herald_subscriber_destroy (&sub);
}

static void
test_backlog_in_order (void)
{
    //  A backlog larger than the library holds in transit between its
    //  threads waits on the connection and arrives whole and in order.
    herald_subscriber_t *sub = s_sub (NULL);
    CHECK_INT (herald_subscriber_set_option (sub, HERALD_OPT_HWM, 0), HERALD_OK);
    CHECK_INT (herald_subscribe (sub, "client.backlog"), HERALD_OK);
    CHECK_INT (herald_subscriber_sync (sub, 5000), HERALD_OK);
    herald_publisher_t *pub = s_pub ();
    char json[32];
    int count = 5000;
    for (int i = 0; i < count; i++) {
        snprintf (json, sizeof json, "%d", i);
        CHECK_INT (herald_publish_json (pub, "client.backlog", json, strlen (json)), HERALD_OK);
    }
    CHECK_INT (herald_publisher_close (&pub), HERALD_OK);
    for (int i = 0; i < count; i++) {
        herald_event_t *ev = NULL;
        REQUIRE (herald_recv (sub, &ev, 5000) == HERALD_OK);
        snprintf (json, sizeof json, "%d", i);
        CHECK_STR (herald_event_json (ev, NULL), json);
        herald_event_destroy (&ev);
    }
    herald_event_t *ev = NULL;
    CHECK_INT (herald_recv (sub, &ev, 0), HERALD_ERR_TIMEOUT);
    herald_subscriber_destroy (&sub);
}

static void
test_conversions (void)
{
    void *mp = NULL;
    size_t size = 0, len = 0;
    char *json = NULL;
    CHECK_INT (herald_json_to_msgpack ("[1,2", 4, &mp, &size), HERALD_ERR_JSON);
    CHECK (strstr (herald_errmsg (), "line 1") != NULL);
    REQUIRE (herald_json_to_msgpack ("{\"a\":[true]}", 12, &mp, &size) == HERALD_OK);
    REQUIRE (herald_msgpack_to_json (mp, size, &json, &len) == HERALD_OK);
    CHECK_STR (json, "{\"a\":[true]}");
    CHECK_INT (len, 12);
    herald_free (json);
    herald_free (mp);
    CHECK_INT (herald_msgpack_to_json ("\x91", 1, &json, &len), HERALD_ERR_MSGPACK);
    CHECK (strstr (herald_errmsg (), "truncated") != NULL);
}

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: client_test INGRESS EGRESS [TEST]\n");
        return 2;
    }
    s_ingress = argv[1];
    s_egress = argv[2];
    TEST_INIT (argc - 2, argv + 2);
    RUN (test_version_and_strerror);
    RUN (test_null_handles);
    RUN (test_bad_topics);
    RUN (test_payload_limits);
    RUN (test_invalid_payloads);
    RUN (test_options);
    RUN (test_bad_endpoint);
    RUN (test_roundtrip);
    RUN (test_exact_topics);
    RUN (test_unsubscribe);
    RUN (test_sync_keeps_events);
    RUN (test_recv_timeout);
    RUN (test_backpressure);
    RUN (test_publisher_close);
    RUN (test_subscriber_connected);
    RUN (test_backlog_in_order);
    RUN (test_conversions);
    return TEST_RESULT ();
}
