/*  fuzz_wsframe.c: libFuzzer harness for the client-frame header follower
 *  (edge/proto/wsframe.c). The first byte picks how the rest is split into
 *  reads; the answer must not depend on the split. Oracle: a reference
 *  walk over the whole buffer, written for clarity rather than streaming.
 */
#include "wsframe.h"

#include <stdint.h>
#include <stdlib.h>

//  1 if some frame header in p[0..n) lacks the mask bit.
static int
s_reference (const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i + 1 < n) {
        unsigned char b1 = p[i + 1];
        if (!(b1 & 0x80))
            return 1;
        size_t hdr = 2;
        uint64_t len = b1 & 0x7f;
        if (len >= 126) {
            size_t extra = len == 126 ? 2 : 8;
            if (i + hdr + extra > n)
                return 0;
            len = 0;
            for (size_t k = 0; k < extra; k++)
                len = (len << 8) | p[i + hdr + k];
            hdr += extra;
        }
        hdr += 4;
        if (len > n || i + hdr + len > n)
            return 0;
        i += hdr + (size_t) len;
    }
    return 0;
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = (size_t) data[0] % 16 + 1;
    const unsigned char *p = data + 1;
    size_t n = size - 1;
    wsframe_t f;
    wsframe_init (&f);
    int seen = 0;
    for (size_t i = 0; i < n; i += piece)
        seen = wsframe_feed (&f, p + i, n - i < piece ? n - i : piece);
    if (seen != s_reference (p, n))
        abort ();
    return 0;
}
