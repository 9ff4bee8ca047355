/*  mpjson.c: JSON <-> msgpack, for libherald's JSON calls and the edge's
 *  rendering of custom scalars. See mpjson.h, and docs/wire.md for the
 *  mapping of msgpack types that JSON lacks. Output is linear in input
 *  (MPJSON_OUT_PER_BYTE), whatever the nesting, so hostile payloads cost
 *  no more than their size.
 */
#include "mpjson.h"
#include "wire.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int
s_pack (msgpack_packer *pk, const json_t *v, int depth, char *err, size_t errlen)
{
    switch (json_typeof (v)) {
        case JSON_NULL: return msgpack_pack_nil (pk);
        case JSON_TRUE: return msgpack_pack_true (pk);
        case JSON_FALSE: return msgpack_pack_false (pk);
        case JSON_INTEGER: return msgpack_pack_int64 (pk, json_integer_value (v));
        case JSON_REAL: return msgpack_pack_double (pk, json_real_value (v));
        case JSON_STRING: {
            size_t n = json_string_length (v);
            if (msgpack_pack_str (pk, n) != 0)
                return -1;
            return msgpack_pack_str_body (pk, json_string_value (v), n);
        }
        default:
            break;
    }
    if (depth >= WIRE_MAX_DEPTH) {
        snprintf (err, errlen, "invalid JSON: nested more than %d deep", WIRE_MAX_DEPTH);
        return -1;
    }
    if (json_is_array (v)) {
        size_t i;
        json_t *item;
        if (msgpack_pack_array (pk, json_array_size (v)) != 0)
            return -1;
        json_array_foreach (v, i, item)
            if (s_pack (pk, item, depth + 1, err, errlen) != 0)
                return -1;
        return 0;
    }
    const char *key;
    json_t *item;
    if (msgpack_pack_map (pk, json_object_size (v)) != 0)
        return -1;
    json_object_foreach ((json_t *) v, key, item) {
        size_t n = strlen (key);
        if (msgpack_pack_str (pk, n) != 0 || msgpack_pack_str_body (pk, key, n) != 0
            || s_pack (pk, item, depth + 1, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int
mpjson_from_json (const char *json, size_t len, msgpack_sbuffer *out, char *err,
                  size_t errlen)
{
    json_error_t jerr;
    //  Any JSON value may be a payload; strings may contain \u0000.
    json_t *root = json_loadb (json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root) {
        snprintf (err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line,
                  jerr.column, jerr.text);
        return -1;
    }
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    err[0] = 0;
    int rc = s_pack (&pk, root, 0, err, errlen);
    if (rc != 0 && err[0] == 0)
        snprintf (err, errlen, "out of memory while packing");
    json_decref (root);
    return rc;
}

static void s_write (jbuf_t *b, const msgpack_object *o, int depth, int in_key);

//  Escapes, in place, the key text written since from: its only characters
//  that a JSON string cannot hold as they are are '"' and '\\' (the text
//  is made of JSON literals and already-escaped strings), so each gets a
//  backslash in front. One backward pass, no second buffer.
static void
s_escape_key_text (jbuf_t *b, size_t from)
{
    if (jbuf_failed (b))
        return;
    size_t extra = 0;
    for (size_t i = from; i < b->len; i++)
        extra += b->data[i] == '"' || b->data[i] == '\\';
    if (extra == 0 || jbuf_reserve (b, extra) != 0)
        return;
    char *o = b->data + b->len + extra;
    for (size_t i = b->len; i > from; i--) {
        char c = b->data[i - 1];
        *--o = c;
        if (c == '"' || c == '\\')
            *--o = '\\';
    }
    b->len += extra;
}

//  JSON object keys are strings, so a key of another type becomes one
//  string holding its text: nil "null", 5 "5", the array [1,"a"]
//  "[1,\"a\"]". The text of a container key is written as JSON, except
//  that its own non-string keys are their bare text ({5:nil} inside a key
//  is {5:null}), and the whole key is escaped exactly once, here at the
//  outermost key. Quoting each inner key as a string in its own right would
//  escape it once per level of nesting, doubling its backslashes each
//  time: 27 levels in 55 bytes of msgpack would become 268 MB of JSON.
//  Written this way a key costs at most MPJSON_OUT_PER_BYTE bytes per byte
//  of msgpack, like any other value, and any key without a map of
//  non-string keys inside it reads as the JSON of that value, as a string.
static void
s_write_key (jbuf_t *b, const msgpack_object *k, int depth, int in_key)
{
    if (k->type == MSGPACK_OBJECT_STR) {
        jbuf_json_string (b, k->via.str.ptr, k->via.str.size);
        return;
    }
    if (in_key) {
        s_write (b, k, depth, 1);       //  escaped by the outermost key
        return;
    }
    jbuf_putc (b, '"');
    size_t from = b->len;
    s_write (b, k, depth, 1);
    s_escape_key_text (b, from);
    jbuf_putc (b, '"');
}

static void
s_write_timestamp (jbuf_t *b, const msgpack_object *o)
{
    msgpack_timestamp ts;
    struct tm tm;
    time_t secs;
    char text[64];
    //  Nanoseconds of 10^9 or more are not a time: such an extension is
    //  written as its data, like any other.
    if (!msgpack_object_to_timestamp (o, &ts) || ts.tv_nsec > 999999999
        || (secs = (time_t) ts.tv_sec, !gmtime_r (&secs, &tm))) {
        jbuf_json_base64 (b, o->via.ext.ptr, o->via.ext.size);
        return;
    }
    size_t n = strftime (text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (ts.tv_nsec)
        n += (size_t) snprintf (text + n, sizeof text - n, ".%09u", (unsigned) ts.tv_nsec);
    snprintf (text + n, sizeof text - n, "Z");
    jbuf_json_string (b, text, strlen (text));
}

//  in_key: o is (part of) a non-string map key, whose text the outermost
//  key escapes as a whole. depth counts the containers around o.
static void
s_write (jbuf_t *b, const msgpack_object *o, int depth, int in_key)
{
    switch (o->type) {
        case MSGPACK_OBJECT_NIL: jbuf_put (b, "null", 4); break;
        case MSGPACK_OBJECT_BOOLEAN:
            if (o->via.boolean) jbuf_put (b, "true", 4);
            else jbuf_put (b, "false", 5);
            break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER: jbuf_json_uint (b, o->via.u64); break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: jbuf_json_int (b, o->via.i64); break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64: jbuf_json_double (b, o->via.f64); break;
        case MSGPACK_OBJECT_STR: jbuf_json_string (b, o->via.str.ptr, o->via.str.size); break;
        case MSGPACK_OBJECT_BIN: jbuf_json_base64 (b, o->via.bin.ptr, o->via.bin.size); break;
        case MSGPACK_OBJECT_EXT:
            if (o->via.ext.type == -1)
                s_write_timestamp (b, o);
            else
                jbuf_json_base64 (b, o->via.ext.ptr, o->via.ext.size);
            break;
        case MSGPACK_OBJECT_ARRAY:
        case MSGPACK_OBJECT_MAP:
            //  Checked input is never this deep (wire_msgpack_check, and
            //  msgpack-c cannot unpack deeper); an object tree built by
            //  hand may be, and fails the buffer rather than the stack.
            if (depth >= WIRE_MAX_DEPTH) {
                b->failed = 1;
                return;
            }
            if (o->type == MSGPACK_OBJECT_ARRAY) {
                jbuf_putc (b, '[');
                for (uint32_t i = 0; i < o->via.array.size; i++) {
                    if (i)
                        jbuf_putc (b, ',');
                    s_write (b, &o->via.array.ptr[i], depth + 1, in_key);
                }
                jbuf_putc (b, ']');
                break;
            }
            jbuf_putc (b, '{');
            for (uint32_t i = 0; i < o->via.map.size; i++) {
                if (i)
                    jbuf_putc (b, ',');
                s_write_key (b, &o->via.map.ptr[i].key, depth + 1, in_key);
                jbuf_putc (b, ':');
                s_write (b, &o->via.map.ptr[i].val, depth + 1, in_key);
            }
            jbuf_putc (b, '}');
            break;
    }
}

void
mpjson_write (jbuf_t *b, const msgpack_object *o)
{
    s_write (b, o, 0, 0);
}

int
mpjson_to_json (const void *mp, size_t len, char **out, size_t *outlen)
{
    if (wire_msgpack_check (mp, len) != WIRE_OK)
        return -1;
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    int rc = -1;
    if (msgpack_unpack_next (&u, mp, len, &off) == MSGPACK_UNPACK_SUCCESS) {
        jbuf_t b;
        jbuf_init (&b, 0);
        mpjson_write (&b, &u.data);
        *out = jbuf_take (&b, outlen);
        jbuf_free (&b);
        rc = *out ? 0 : -1;
    }
    msgpack_unpacked_destroy (&u);
    return rc;
}
