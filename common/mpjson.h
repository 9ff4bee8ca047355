/*  mpjson.h: conversion between JSON text and msgpack.
 *
 *  JSON to msgpack: parsed with jansson (integers stay integers, reals
 *  become float64, object key order is kept) and packed with msgpack-c.
 *  msgpack to JSON: written directly from msgpack-c's object tree. Types
 *  JSON lacks are mapped as docs/wire.md describes: bin as base64, the
 *  timestamp extension as an RFC 3339 string, other extensions as base64
 *  of their data, non-string map keys as one string holding their text
 *  (see mpjson.c), NaN and the infinities as null.
 *
 *  Bounds. Containers nest at most WIRE_MAX_DEPTH deep (wire_msgpack_check
 *  refuses deeper input). The JSON text of a msgpack value of n bytes is
 *  at most MPJSON_OUT_PER_BYTE * n + MPJSON_OUT_EXTRA bytes, so time and
 *  memory are linear in the input whatever its shape. The worst case is a
 *  map of false to false: 2 bytes become "false":false, with a comma, 14.
 *  Strings need at most 6 bytes per byte, or 7 inside a non-string key
 *  (\u0001 with its backslash escaped once more).
 */
#ifndef HERALD_MPJSON_H
#define HERALD_MPJSON_H

#include <msgpack.h>
#include <stddef.h>

#include "jbuf.h"

#define MPJSON_OUT_PER_BYTE 7
#define MPJSON_OUT_EXTRA 0

/*  Pack JSON text (any JSON value) into out, which the caller has
 *  initialised. Returns 0, or -1 with a sentence in err such as
 *  "invalid JSON at line 1, column 9: unexpected token near '}'". */
int mpjson_from_json (const char *json, size_t len, msgpack_sbuffer *out,
                      char *err, size_t errlen);

/*  Append the JSON text of one unpacked msgpack object, within the
 *  bounds above. A tree nested deeper than WIRE_MAX_DEPTH (which unpacking
 *  checked input never gives) fails the buffer. */
void mpjson_write (jbuf_t *b, const msgpack_object *o);

/*  Convert a msgpack value that passed wire_msgpack_check to JSON text.
 *  Returns 0 and a malloc'ed, NUL-terminated string in *out, or -1 if the
 *  input is invalid or memory ran out. */
int mpjson_to_json (const void *mp, size_t len, char **out, size_t *outlen);

#endif
