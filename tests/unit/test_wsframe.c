/*  test_wsframe.c: following client WebSocket frame headers
 *  (edge/proto/wsframe.c): masked frames of every length form pass, an
 *  unmasked one is caught wherever the bytes are split.
 */
#include "testutil.h"
#include "wsframe.h"

#include <stdint.h>
#include <string.h>

//  Appends one masked (or not) frame with a payload of n bytes to out.
static size_t
s_frame (unsigned char *out, int opcode, size_t n, int masked)
{
    size_t k = 0;
    out[k++] = (unsigned char) (0x80 | opcode);
    unsigned char m = masked ? 0x80 : 0;
    if (n < 126)
        out[k++] = (unsigned char) (m | n);
    else if (n < 65536) {
        out[k++] = m | 126;
        out[k++] = (unsigned char) (n >> 8);
        out[k++] = (unsigned char) n;
    }
    else {
        out[k++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[k++] = (unsigned char) ((uint64_t) n >> (8 * i));
    }
    if (masked) {
        memcpy (out + k, "\x12\x34\x56\x78", 4);
        k += 4;
    }
    //  Payload bytes that look like headers: 0x00 (unmasked) among them.
    memset (out + k, 0, n);
    return k + n;
}

static unsigned char s_stream[300000];

static void
test_masked_frames_pass (void)
{
    size_t len = 0;
    size_t sizes[] = { 0, 1, 125, 126, 127, 65535, 65536, 70000 };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        len += s_frame (s_stream + len, 1, sizes[i], 1);
    len += s_frame (s_stream + len, 9, 4, 1);     //  a ping
    len += s_frame (s_stream + len, 8, 2, 1);     //  a close
    //  Whole, then a byte at a time, then in odd pieces.
    wsframe_t f;
    wsframe_init (&f);
    CHECK_INT (wsframe_feed (&f, s_stream, len), 0);
    CHECK_INT (f.stage, 0);
    wsframe_init (&f);
    for (size_t i = 0; i < len; i++)
        REQUIRE (wsframe_feed (&f, s_stream + i, 1) == 0);
    wsframe_init (&f);
    for (size_t i = 0; i < len; i += 7)
        REQUIRE (wsframe_feed (&f, s_stream + i, len - i < 7 ? len - i : 7) == 0);
    CHECK_INT (f.stage, 0);
}

static void
test_unmasked_frame_is_caught (void)
{
    for (size_t at = 0; at < 3; at++) {
        size_t len = 0;
        len += s_frame (s_stream + len, 1, 300, 1);
        if (at == 1)
            len += s_frame (s_stream + len, 9, 0, 0);     //  an unmasked ping
        len += s_frame (s_stream + len, 1, 70000, at != 2);
        len += s_frame (s_stream + len, 1, 10, at != 0);
        for (size_t piece = 1; piece < 20; piece += 6) {
            wsframe_t f;
            wsframe_init (&f);
            int seen = 0;
            for (size_t i = 0; i < len; i += piece)
                seen = wsframe_feed (&f, s_stream + i, len - i < piece ? len - i : piece);
            CHECK_INT (seen, 1);
            CHECK_INT (f.unmasked, 1);
        }
    }
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_masked_frames_pass);
    RUN (test_unmasked_frame_is_caught);
    return TEST_RESULT ();
}
