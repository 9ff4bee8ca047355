/*  jbuf.c: growable buffer and JSON writers. See jbuf.h.
 *
 *  The limit is a promise about text, not about memory: it is checked
 *  against the bytes a writer has actually written, never against a
 *  writer's worst case (a string may need six bytes per input byte, but
 *  most need one). The allocation is kept within JBUF_SLACK of the limit,
 *  so a limited buffer never holds much more memory than its limit.
 */
#include "jbuf.h"
#include "wire.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
jbuf_init (jbuf_t *b, size_t limit)
{
    memset (b, 0, sizeof *b);
    b->limit = limit;
}

void
jbuf_free (jbuf_t *b)
{
    free (b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

//  Grows the allocation to at least need bytes, without looking at the
//  limit: callers check the limit against what they write. Doubling keeps
//  appends amortised O(1); under a limit the allocation stops at
//  limit + JBUF_SLACK, which is enough for any writer's working room.
static int
s_grow (jbuf_t *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (b->limit && b->limit <= SIZE_MAX - JBUF_SLACK && cap > b->limit + JBUF_SLACK)
        cap = need > b->limit + JBUF_SLACK ? need : b->limit + JBUF_SLACK;
    char *data = realloc (b->data, cap);
    if (!data) {
        b->failed = 1;
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

char *
jbuf_take (jbuf_t *b, size_t *len)
{
    //  The terminating NUL is not part of the text: it does not count
    //  against the limit.
    if (b->failed || b->len == SIZE_MAX || s_grow (b, b->len + 1) != 0)
        return NULL;
    b->data[b->len] = 0;
    char *data = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return data;
}

void
jbuf_reset (jbuf_t *b)
{
    b->len = 0;
    b->failed = 0;
}

int
jbuf_failed (const jbuf_t *b)
{
    return b->failed;
}

int
jbuf_reserve (jbuf_t *b, size_t n)
{
    if (b->failed)
        return -1;
    if (n > SIZE_MAX - b->len || (b->limit && b->len + n > b->limit)) {
        b->failed = 1;
        return -1;
    }
    return s_grow (b, b->len + n);
}

void
jbuf_put (jbuf_t *b, const void *data, size_t n)
{
    if (n == 0 || jbuf_reserve (b, n) != 0)
        return;
    memcpy (b->data + b->len, data, n);
    b->len += n;
}

void
jbuf_putc (jbuf_t *b, char c)
{
    //  The allocation may run past the limit (JBUF_SLACK), so the fast
    //  path checks both.
    if (b->len < b->cap && (!b->limit || b->len < b->limit) && !b->failed) {
        b->data[b->len++] = c;
        return;
    }
    jbuf_put (b, &c, 1);
}

void
jbuf_puts (jbuf_t *b, const char *s)
{
    jbuf_put (b, s, strlen (s));
}

//  Escapes s[*at..end) into o, which has room for 6 bytes per input byte
//  plus 3 (a UTF-8 sequence that starts before end may run up to 3 bytes
//  past it; n is where the input really ends). Returns the new end of o,
//  and sets *at past the last byte escaped.
static char *
s_escape (char *o, const unsigned char *s, size_t *at, size_t end, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = *at;
    while (i < end) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = (char) c;
            i++;
        }
        else if (c < 0x80) {
            *o++ = '\\';
            switch (c) {
                case '"': *o++ = '"'; break;
                case '\\': *o++ = '\\'; break;
                case '\n': *o++ = 'n'; break;
                case '\r': *o++ = 'r'; break;
                case '\t': *o++ = 't'; break;
                case '\b': *o++ = 'b'; break;
                case '\f': *o++ = 'f'; break;
                default:
                    *o++ = 'u'; *o++ = '0'; *o++ = '0';
                    *o++ = hex[c >> 4]; *o++ = hex[c & 15];
            }
            i++;
        }
        else {
            size_t k = wire_utf8_seq (s + i, n - i);
            if (k) {
                memcpy (o, s + i, k);
                o += k;
                i += k;
            }
            else {
                memcpy (o, "\xef\xbf\xbd", 3);      //  U+FFFD
                o += 3;
                i++;
            }
        }
    }
    *at = i;
    return o;
}

void
jbuf_json_string (jbuf_t *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *) str;
    if (b->failed)
        return;
    //  The string is escaped a chunk at a time. Each chunk reserves its
    //  worst case (6 bytes per input byte, and the quotes) as working room,
    //  which keeps the inner loop free of capacity checks, but the limit is
    //  checked only against what was written, after every chunk, so a long
    //  string over the limit stops within one chunk of it. A short string
    //  is one chunk: one reservation, one pass.
    size_t start = b->len, i = 0;
    do {
        size_t end = n - i > JBUF_STRING_CHUNK ? i + JBUF_STRING_CHUNK : n;
        size_t room = 6 * (end - i) + 3 + 2;
        if (room > SIZE_MAX - b->len || s_grow (b, b->len + room) != 0) {
            b->failed = 1;
            break;
        }
        char *o = b->data + b->len;
        if (i == 0)
            *o++ = '"';
        b->len = (size_t) (s_escape (o, s, &i, end, n) - b->data);
        //  At the limit already leaves no room for the closing quote.
        if (b->limit && b->len >= b->limit)
            b->failed = 1;
    } while (i < n && !b->failed);
    if (b->failed) {
        b->len = start;         //  nothing of a string that did not fit
        return;
    }
    b->data[b->len++] = '"';    //  within the last chunk's room
}

void
jbuf_json_int (jbuf_t *b, int64_t v)
{
    char tmp[24];
    int n = snprintf (tmp, sizeof tmp, "%" PRId64, v);
    jbuf_put (b, tmp, (size_t) n);
}

void
jbuf_json_uint (jbuf_t *b, uint64_t v)
{
    char tmp[24];
    int n = snprintf (tmp, sizeof tmp, "%" PRIu64, v);
    jbuf_put (b, tmp, (size_t) n);
}

void
jbuf_json_double (jbuf_t *b, double v)
{
    if (!isfinite (v)) {
        jbuf_put (b, "null", 4);
        return;
    }
    char tmp[32];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf (tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod (tmp, NULL) == v)
            break;
    }
    jbuf_put (b, tmp, (size_t) n);
}

void
jbuf_json_base64 (jbuf_t *b, const void *data, size_t n)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = data;
    //  Base64's length is known exactly, so the limit check on the
    //  reservation is a check on what will be written.
    if (n > SIZE_MAX / 2 || jbuf_reserve (b, (n + 2) / 3 * 4 + 2) != 0)
        return;
    char *o = b->data + b->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t) s[i] << 16 | (uint32_t) s[i + 1] << 8 | s[i + 2];
        *o++ = tbl[v >> 18]; *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63]; *o++ = tbl[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t) s[i] << 16;
        *o++ = tbl[v >> 18]; *o++ = tbl[(v >> 12) & 63]; *o++ = '='; *o++ = '=';
    }
    else if (n - i == 2) {
        uint32_t v = (uint32_t) s[i] << 16 | (uint32_t) s[i + 1] << 8;
        *o++ = tbl[v >> 18]; *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63]; *o++ = '=';
    }
    *o++ = '"';
    b->len = (size_t) (o - b->data);
}
