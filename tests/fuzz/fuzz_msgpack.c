/*  fuzz_msgpack.c: libFuzzer harness for the msgpack checks and the
 *  msgpack-to-JSON conversion that libherald and the edge run on every
 *  payload from the network. Oracles: whatever wire_msgpack_check accepts,
 *  msgpack-c unpacks whole; the JSON produced from it parses; it is at
 *  most MPJSON_OUT_PER_BYTE bytes per input byte (+ MPJSON_OUT_EXTRA); and
 *  a buffer limited to exactly that length holds the same text, while one
 *  byte less fails without passing its limit or holding much more memory
 *  (the limit counts bytes written, not a writer's worst case).
 */
#include "mpjson.h"
#include "wire.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

//  Renders o into a buffer limited to limit bytes; returns whether it fit.
static int
s_render_limited (const msgpack_object *o, const char *json, size_t len, size_t limit)
{
    jbuf_t b;
    jbuf_init (&b, limit);
    mpjson_write (&b, o);
    int ok = !jbuf_failed (&b);
    if (b.len > limit || b.cap > limit + JBUF_SLACK)
        abort ();
    if (ok && (b.len != len || memcmp (b.data, json, len) != 0))
        abort ();
    jbuf_free (&b);
    return ok;
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    wire_metadata_check (data, size);
    if (wire_msgpack_check (data, size) != WIRE_OK)
        return 0;
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    if (msgpack_unpack_next (&u, (const char *) data, size, &off) != MSGPACK_UNPACK_SUCCESS
        || off != size)
        abort ();

    char *json = NULL;
    size_t len = 0;
    if (mpjson_to_json (data, size, &json, &len) != 0)
        abort ();
    if (len > MPJSON_OUT_PER_BYTE * size + MPJSON_OUT_EXTRA)
        abort ();
    //  A limit of 0 means none, so the short limit is tried from 2 bytes.
    if (!s_render_limited (&u.data, json, len, len)
        || (len > 1 && s_render_limited (&u.data, json, len, len - 1)))
        abort ();
    msgpack_unpacked_destroy (&u);

    json_error_t err;
    json_t *parsed = json_loadb (json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    //  jansson cannot hold object keys with NUL, or integers past
    //  INT64_MAX (msgpack's uint64), both of which JSON allows.
    if (!parsed && json_error_code (&err) != json_error_null_byte_in_key
        && json_error_code (&err) != json_error_numeric_overflow)
        abort ();
    json_decref (parsed);
    free (json);
    return 0;
}
