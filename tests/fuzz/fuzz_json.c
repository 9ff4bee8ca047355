/*  fuzz_json.c: libFuzzer harness for JSON-to-msgpack packing, the path
 *  of herald_publish_json. Oracles: a packed value passes the wire checks
 *  and converts back to JSON equal to the input (numbers by value), within
 *  the conversion's documented bound (MPJSON_OUT_PER_BYTE).
 */
#include "mpjson.h"
#include "wire.h"

#include <jansson.h>
#include <stdlib.h>

//  Equal as JSON values, where numbers compare by value: a float64 that
//  holds an integer is written without a fraction, and reads back as one.
static int
s_equal (json_t *a, json_t *b)
{
    if (json_is_number (a) && json_is_number (b))
        return json_number_value (a) == json_number_value (b)
               || (json_is_integer (a) && json_is_integer (b)
                   && json_integer_value (a) == json_integer_value (b));
    if (json_typeof (a) != json_typeof (b))
        return 0;
    if (json_is_array (a)) {
        if (json_array_size (a) != json_array_size (b))
            return 0;
        for (size_t i = 0; i < json_array_size (a); i++)
            if (!s_equal (json_array_get (a, i), json_array_get (b, i)))
                return 0;
        return 1;
    }
    if (json_is_object (a)) {
        const char *key;
        json_t *v;
        if (json_object_size (a) != json_object_size (b))
            return 0;
        json_object_foreach (a, key, v) {
            json_t *w = json_object_get (b, key);
            if (!w || !s_equal (v, w))
                return 0;
        }
        return 1;
    }
    return json_equal (a, b);
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    msgpack_sbuffer sb;
    char err[256];
    msgpack_sbuffer_init (&sb);
    if (mpjson_from_json ((const char *) data, size, &sb, err, sizeof err) == 0) {
        if (wire_msgpack_check (sb.data, sb.size) != WIRE_OK)
            abort ();
        char *json = NULL;
        size_t len = 0;
        if (mpjson_to_json (sb.data, sb.size, &json, &len) != 0
            || len > MPJSON_OUT_PER_BYTE * sb.size + MPJSON_OUT_EXTRA)
            abort ();
        json_error_t jerr;
        int flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
        json_t *a = json_loadb ((const char *) data, size, flags, &jerr);
        json_t *b = json_loadb (json, len, flags, &jerr);
        if (!a || !b || !s_equal (a, b))
            abort ();
        json_decref (a);
        json_decref (b);
        free (json);
    }
    msgpack_sbuffer_destroy (&sb);
    return 0;
}
