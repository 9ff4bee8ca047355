/*  mpjson.h: conversion between JSON text and msgpack.
 *
 *  JSON to msgpack: parsed with jansson (integers stay integers, reals
 *  become float64, object key order is kept) and packed with msgpack-c.
 *  msgpack to JSON: written directly from msgpack-c's object tree. Types
 *  JSON lacks are mapped as docs/wire.md describes: bin as base64, the
 *  timestamp extension as an RFC 3339 string, other extensions as base64
 *  of their data, non-string map keys as their JSON text, NaN and the
 *  infinities as null.
 */
#ifndef HERALD_MPJSON_H
#define HERALD_MPJSON_H

#include <msgpack.h>
#include <stddef.h>

#include "jbuf.h"

/*  Pack JSON text (any JSON value) into out, which the caller has
 *  initialised. Returns 0, or -1 with a sentence in err such as
 *  "invalid JSON at line 1, column 9: unexpected token near '}'". */
int mpjson_from_json (const char *json, size_t len, msgpack_sbuffer *out,
                      char *err, size_t errlen);

/*  Append the JSON text of one unpacked msgpack object. */
void mpjson_write (jbuf_t *b, const msgpack_object *o);

/*  Convert a msgpack value that passed wire_msgpack_check to JSON text.
 *  Returns 0 and a malloc'ed, NUL-terminated string in *out, or -1 if the
 *  input is invalid or memory ran out. */
int mpjson_to_json (const void *mp, size_t len, char **out, size_t *outlen);

#endif
