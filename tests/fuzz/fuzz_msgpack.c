/*  fuzz_msgpack.c: libFuzzer harness for the msgpack checks and the
 *  msgpack-to-JSON conversion that libherald and the edge run on every
 *  payload from the network. Oracles: whatever wire_msgpack_check accepts,
 *  msgpack-c unpacks whole, and the JSON produced from it parses.
 */
#include "mpjson.h"
#include "wire.h"

#include <jansson.h>
#include <stdlib.h>

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
    msgpack_unpacked_destroy (&u);

    char *json = NULL;
    size_t len = 0;
    if (mpjson_to_json (data, size, &json, &len) != 0)
        abort ();
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
