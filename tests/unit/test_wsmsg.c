/*  test_wsmsg.c: reassembly of client messages (edge/proto/wsmsg.c):
 *  whole messages in place, pieces gathered, the limit, and no buffer
 *  kept once a message is read.
 */
#include "testutil.h"
#include "wsmsg.h"

#include <stdlib.h>
#include <string.h>

static void
test_whole_message_in_place (void)
{
    wsmsg_t m = { .max = 10 };
    const char *msg = NULL;
    size_t len = 0;
    const char in[] = "0123456789";
    CHECK_INT (wsmsg_add (&m, in, 10, 1, 1, 0, &msg, &len), WSMSG_DONE);
    CHECK (msg == in);                          //  not copied
    CHECK_INT (len, 10);
    CHECK (m.data == NULL);
    CHECK_INT (wsmsg_add (&m, in, 11, 1, 1, 0, &msg, &len), WSMSG_TOO_BIG);
    CHECK_INT (wsmsg_add (&m, in, 3, 1, 1, 1, &msg, &len), WSMSG_DONE);
    CHECK_INT (m.binary, 1);
}

static void
test_pieces (void)
{
    wsmsg_t m = { .max = 100 };
    const char *msg = NULL;
    size_t len = 0;
    CHECK_INT (wsmsg_add (&m, "{\"type\"", 7, 1, 0, 0, &msg, &len), WSMSG_MORE);
    CHECK_INT (wsmsg_add (&m, "", 0, 0, 0, 0, &msg, &len), WSMSG_MORE);
    CHECK_INT (wsmsg_add (&m, ":\"ping\"}", 8, 0, 1, 1, &msg, &len), WSMSG_DONE);
    CHECK_INT (len, 15);
    CHECK (memcmp (msg, "{\"type\":\"ping\"}", 15) == 0);
    //  The opcode is the first frame's.
    CHECK_INT (m.binary, 0);
    wsmsg_release (&m);
    CHECK (m.data == NULL);
    CHECK_INT (m.cap, 0);
    //  A new message starts over.
    CHECK_INT (wsmsg_add (&m, "ab", 2, 1, 0, 0, &msg, &len), WSMSG_MORE);
    CHECK_INT (wsmsg_add (&m, "c", 1, 0, 1, 0, &msg, &len), WSMSG_DONE);
    CHECK (len == 3 && memcmp (msg, "abc", 3) == 0);
    wsmsg_release (&m);
    //  An empty message in pieces is an empty string, not NULL.
    CHECK_INT (wsmsg_add (&m, "", 0, 1, 0, 0, &msg, &len), WSMSG_MORE);
    CHECK_INT (wsmsg_add (&m, "", 0, 0, 1, 0, &msg, &len), WSMSG_DONE);
    CHECK (msg != NULL && len == 0);
    wsmsg_release (&m);
}

static void
test_limit (void)
{
    //  The limit holds for the whole message, exactly: max bytes pass.
    wsmsg_t m = { .max = 2000 };
    char piece[1000];
    memset (piece, 'x', sizeof piece);
    const char *msg;
    size_t len;
    CHECK_INT (wsmsg_add (&m, piece, 1000, 1, 0, 0, &msg, &len), WSMSG_MORE);
    CHECK_INT (wsmsg_add (&m, piece, 1000, 0, 1, 0, &msg, &len), WSMSG_DONE);
    CHECK_INT (len, 2000);
    wsmsg_release (&m);
    CHECK_INT (wsmsg_add (&m, piece, 1000, 1, 0, 0, &msg, &len), WSMSG_MORE);
    CHECK_INT (wsmsg_add (&m, piece, 1000, 0, 0, 0, &msg, &len), WSMSG_MORE);
    CHECK_INT (wsmsg_add (&m, piece, 1, 0, 0, 0, &msg, &len), WSMSG_TOO_BIG);
    //  The rest of a refused message is dropped, and costs nothing.
    CHECK_INT (wsmsg_add (&m, piece, 1000, 0, 1, 0, &msg, &len), WSMSG_DROPPED);
    CHECK (m.len <= m.max);
    //  The next message is read again.
    CHECK_INT (wsmsg_add (&m, "ok", 2, 1, 1, 0, &msg, &len), WSMSG_DONE);
    CHECK (len == 2 && memcmp (msg, "ok", 2) == 0);
    wsmsg_release (&m);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_whole_message_in_place);
    RUN (test_pieces);
    RUN (test_limit);
    return TEST_RESULT ();
}
