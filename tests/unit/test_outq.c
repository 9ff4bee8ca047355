/*  test_outq.c: the outbound queue (edge/session/outq.c): framing,
 *  packing into chunks, partial writes, and the counters that the
 *  slow-consumer bounds read.
 */
#include "outq.h"
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int
s_push1 (outq_t *q, const char *text, size_t len)
{
    return outq_push (q, &text, &len, 1);
}

static void
test_empty (void)
{
    outq_t q = { 0 };
    size_t len = 99;
    CHECK (outq_peek (&q, &len) == NULL);
    CHECK_INT (len, 0);
    outq_consume (&q, 10);                      //  nothing to take: no harm
    outq_clear (&q);
    CHECK_INT (q.bytes, 0);
}

static void
test_frames_and_packing (void)
{
    outq_t q = { 0 };
    const char *parts[3] = { "{\"a\":", "1", "}" };
    size_t lens[3] = { 5, 1, 1 };
    REQUIRE (outq_push (&q, parts, lens, 3) == 0);
    REQUIRE (s_push1 (&q, "xy", 2) == 0);
    CHECK_INT (q.messages, 2);
    CHECK_INT (q.bytes, 2 + 7 + 2 + 2);
    size_t len;
    const char *data = outq_peek (&q, &len);
    //  Both messages, back to back, each behind a 2-byte text frame header.
    REQUIRE (data && len == 13);
    CHECK (memcmp (data, "\x81\x07{\"a\":1}\x81\x02xy", 13) == 0);
    //  A partial write leaves the rest in place.
    outq_consume (&q, 4);
    data = outq_peek (&q, &len);
    CHECK_INT (len, 9);
    CHECK (memcmp (data, "a\":1}", 5) == 0);
    CHECK_INT (q.bytes, 9);
    CHECK_INT (q.messages, 2);                  //  counted out with their chunk
    outq_consume (&q, len);
    CHECK (outq_peek (&q, &len) == NULL);
    CHECK_INT (q.messages, 0);
    CHECK_INT (q.bytes, 0);
    CHECK (q.head == NULL && q.tail == NULL);
}

static void
test_header_sizes (void)
{
    size_t sizes[] = { 125, 126, 65535, 65536 };
    size_t headers[] = { 2, 4, 4, OUTQ_HEADER_MAX };
    char *text = malloc (65536);
    REQUIRE (text);
    memset (text, 'x', 65536);
    for (int i = 0; i < 4; i++) {
        outq_t q = { 0 };
        REQUIRE (s_push1 (&q, text, sizes[i]) == 0);
        size_t len;
        const unsigned char *h = (const unsigned char *) outq_peek (&q, &len);
        CHECK_INT (len, headers[i] + sizes[i]);
        CHECK_INT (h[0], 0x81);
        if (headers[i] == 2)
            CHECK_INT (h[1], sizes[i]);
        else if (headers[i] == 4)
            CHECK_INT (h[1] == 126 && ((size_t) h[2] << 8 | h[3]) == sizes[i], 1);
        else
            CHECK_INT (h[1] == 127 && h[7] == 1 && h[8] == 0 && h[9] == 0, 1);
        outq_clear (&q);
    }
    free (text);
}

static void
test_chunks (void)
{
    //  Messages fill a chunk, then the next; one larger than a chunk gets
    //  its own. A peek returns at most one chunk.
    outq_t q = { 0 };
    char text[1000];
    memset (text, 'm', sizeof text);
    int per_chunk = OUTQ_CHUNK / (4 + (int) sizeof text);
    for (int i = 0; i < per_chunk + 1; i++)
        REQUIRE (s_push1 (&q, text, sizeof text) == 0);
    size_t len;
    outq_peek (&q, &len);
    CHECK_INT (len, (size_t) per_chunk * (4 + sizeof text));
    char *big = calloc (1, OUTQ_CHUNK * 2);
    REQUIRE (big);
    REQUIRE (s_push1 (&q, big, OUTQ_CHUNK * 2) == 0);
    free (big);
    outq_consume (&q, len);
    outq_peek (&q, &len);
    CHECK_INT (len, 4 + sizeof text);
    outq_consume (&q, len);
    outq_peek (&q, &len);
    CHECK_INT (len, 4 + OUTQ_CHUNK * 2);           //  126 and a 16-bit length
    CHECK_INT (q.messages, 1);
    outq_clear (&q);
    CHECK_INT (q.messages, 0);
    CHECK (outq_peek (&q, &len) == NULL);
}

static void
test_headroom (void)
{
    //  Chunks keep room before their data for the writer (LWS_PRE), so
    //  the bytes just before a peek may be written over.
    outq_set_headroom (16);
    outq_shutdown ();                           //  chunks made before have none
    outq_t q = { 0 };
    REQUIRE (s_push1 (&q, "hi", 2) == 0);
    size_t len;
    char *data = (char *) outq_peek (&q, &len);
    memset (data - 16, 0, 16);
    CHECK (memcmp (data, "\x81\x02hi", 4) == 0);
    outq_clear (&q);
}

static void
test_too_large (void)
{
    outq_t q = { 0 };
    const char *parts[2] = { "a", "b" };
    size_t lens[2] = { SIZE_MAX / 2, SIZE_MAX / 2 };
    CHECK_INT (outq_push (&q, parts, lens, 2), -1);
    CHECK (q.head == NULL);
    CHECK_INT (q.messages, 0);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_empty);
    RUN (test_frames_and_packing);
    RUN (test_header_sizes);
    RUN (test_chunks);
    RUN (test_headroom);
    RUN (test_too_large);
    outq_shutdown ();
    return TEST_RESULT ();
}
