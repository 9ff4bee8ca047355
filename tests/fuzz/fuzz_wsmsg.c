/*  fuzz_wsmsg.c: libFuzzer harness for message reassembly
 *  (edge/proto/wsmsg.c). The input is a run of pieces, each a header
 *  byte (bit 0: first, bit 1: last, bit 2: binary; the rest: a length up
 *  to 31) and that many bytes. A shadow copy of the message checks what
 *  comes out: a whole message is exactly its pieces, never over the
 *  limit, and a refused one drops its remaining pieces.
 */
#include "wsmsg.h"

#include <stdlib.h>
#include <string.h>

#define MAX 64

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    wsmsg_t m = { .max = MAX };
    char shadow[MAX];               //  the message so far, as it should be
    size_t shadow_len = 0;
    int shadow_binary = 0, refused = 0;
    while (size > 0) {
        int first = data[0] & 1, last = (data[0] >> 1) & 1, binary = (data[0] >> 2) & 1;
        size_t len = data[0] >> 3;
        data++;
        size--;
        if (len > size)
            len = size;
        if (first) {
            shadow_len = 0;
            shadow_binary = binary;
            refused = 0;
        }
        const char *msg = NULL;
        size_t msg_len = 0;
        wsmsg_rc_t rc = wsmsg_add (&m, (const char *) data, len, first, last, binary, &msg,
                                   &msg_len);
        if (m.len > m.max || (rc == WSMSG_DROPPED) != refused)
            abort ();
        if (rc == WSMSG_TOO_BIG) {
            //  Over the limit, and so refused for the rest of the message
            //  unless it came whole.
            if (shadow_len + len <= MAX)
                abort ();
            refused = !(first && last);
        }
        if (rc == WSMSG_MORE || rc == WSMSG_DONE) {
            if (shadow_len + len > MAX)
                abort ();
            memcpy (shadow + shadow_len, data, len);
            shadow_len += len;
        }
        if (rc == WSMSG_DONE) {
            if (!msg || msg_len != shadow_len || memcmp (msg, shadow, msg_len) != 0
                || m.binary != shadow_binary)
                abort ();
            wsmsg_release (&m);
            shadow_len = 0;
        }
        data += len;
        size -= len;
    }
    wsmsg_release (&m);
    return 0;
}
