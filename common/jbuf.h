/*  jbuf.h: a growable byte buffer with JSON writers.
 *
 *  Used to build JSON text without a DOM: libherald's msgpack-to-JSON path
 *  and the edge's result rendering. Errors are sticky: once an append fails
 *  (out of memory, or past the buffer's limit) every later append is a
 *  no-op and jbuf_failed() says so, so callers check once at the end.
 *
 *  A limit bounds the text: len never exceeds it, and it is checked
 *  against the bytes actually written, so a string that escapes to L bytes
 *  fits a limit of L whatever its worst case would have been. The
 *  allocation of a limited buffer stays within limit + JBUF_SLACK bytes
 *  (the working room of jbuf_json_string and jbuf_take's NUL).
 */
#ifndef HERALD_JBUF_H
#define HERALD_JBUF_H

#include <stddef.h>
#include <stdint.h>

//  jbuf_json_string escapes at most this many input bytes between two
//  checks of the limit, reserving 6 bytes for each as working room.
#define JBUF_STRING_CHUNK 4096
#define JBUF_SLACK (6 * JBUF_STRING_CHUNK + 8)

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t limit;       //  most bytes of text; 0 = no limit beyond SIZE_MAX
    int failed;
} jbuf_t;

void jbuf_init (jbuf_t *b, size_t limit);
void jbuf_free (jbuf_t *b);
/*  Hand the NUL-terminated data to the caller (free with free()), or
 *  NULL if the buffer failed. The NUL does not count against the limit. */
char *jbuf_take (jbuf_t *b, size_t *len);
void jbuf_reset (jbuf_t *b);
int jbuf_failed (const jbuf_t *b);
/*  Make room for n more bytes. Returns 0, or -1 (and fails the buffer)
 *  if len + n would pass the limit or memory ran out. */
int jbuf_reserve (jbuf_t *b, size_t n);

void jbuf_put (jbuf_t *b, const void *data, size_t n);
void jbuf_putc (jbuf_t *b, char c);
void jbuf_puts (jbuf_t *b, const char *s);

/*  A JSON string literal, quoted and escaped. Invalid UTF-8 sequences are
 *  written as U+FFFD, so the output is always valid JSON. If the literal
 *  does not fit the limit the buffer fails, with nothing of it kept, after
 *  at most JBUF_STRING_CHUNK input bytes past the point where it ran out. */
void jbuf_json_string (jbuf_t *b, const char *s, size_t n);
void jbuf_json_int (jbuf_t *b, int64_t v);
void jbuf_json_uint (jbuf_t *b, uint64_t v);
/*  The shortest text that reads back as the same double; null for NaN and
 *  infinities, which JSON cannot express. */
void jbuf_json_double (jbuf_t *b, double v);
/*  Base64 (RFC 4648, with padding) of data, as a JSON string. */
void jbuf_json_base64 (jbuf_t *b, const void *data, size_t n);

#endif
