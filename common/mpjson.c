/*  mpjson.c: JSON <-> msgpack. See mpjson.h. */
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

static void
s_write_key (jbuf_t *b, const msgpack_object *k)
{
    if (k->type == MSGPACK_OBJECT_STR) {
        jbuf_json_string (b, k->via.str.ptr, k->via.str.size);
        return;
    }
    //  JSON keys are strings: use the key's own JSON text.
    jbuf_t tmp;
    jbuf_init (&tmp, 0);
    mpjson_write (&tmp, k);
    if (jbuf_failed (&tmp))
        b->failed = 1;
    else
        jbuf_json_string (b, tmp.data, tmp.len);
    jbuf_free (&tmp);
}

static void
s_write_timestamp (jbuf_t *b, const msgpack_object *o)
{
    msgpack_timestamp ts;
    struct tm tm;
    time_t secs;
    char text[64];
    if (!msgpack_object_to_timestamp (o, &ts) || (secs = (time_t) ts.tv_sec, !gmtime_r (&secs, &tm))) {
        jbuf_json_base64 (b, o->via.ext.ptr, o->via.ext.size);
        return;
    }
    size_t n = strftime (text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (ts.tv_nsec)
        n += (size_t) snprintf (text + n, sizeof text - n, ".%09u", (unsigned) ts.tv_nsec);
    snprintf (text + n, sizeof text - n, "Z");
    jbuf_json_string (b, text, strlen (text));
}

void
mpjson_write (jbuf_t *b, const msgpack_object *o)
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
            jbuf_putc (b, '[');
            for (uint32_t i = 0; i < o->via.array.size; i++) {
                if (i)
                    jbuf_putc (b, ',');
                mpjson_write (b, &o->via.array.ptr[i]);
            }
            jbuf_putc (b, ']');
            break;
        case MSGPACK_OBJECT_MAP:
            jbuf_putc (b, '{');
            for (uint32_t i = 0; i < o->via.map.size; i++) {
                if (i)
                    jbuf_putc (b, ',');
                s_write_key (b, &o->via.map.ptr[i].key);
                jbuf_putc (b, ':');
                mpjson_write (b, &o->via.map.ptr[i].val);
            }
            jbuf_putc (b, '}');
            break;
    }
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
