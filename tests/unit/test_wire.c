/*  test_wire.c: the wire format's rules (common/wire.c), the JSON writers
 *  (common/jbuf.c) and JSON <-> msgpack conversion (common/mpjson.c).
 */
#include "jbuf.h"
#include "mpjson.h"
#include "testutil.h"
#include "wire.h"

#include <math.h>
#include <stdlib.h>

static void
test_topic_rules (void)
{
    CHECK_INT (wire_topic_check ("chat.general", 12), WIRE_OK);
    CHECK_INT (wire_topic_check ("", 0), WIRE_TOPIC_EMPTY);
    CHECK_INT (wire_topic_check ("a\0b", 3), WIRE_TOPIC_NUL);
    CHECK_INT (wire_topic_check ("\xff", 1), WIRE_TOPIC_UTF8);
    CHECK_INT (wire_topic_check ("caf\xc3\xa9", 5), WIRE_OK);
    char big[300];
    memset (big, 'a', sizeof big);
    CHECK_INT (wire_topic_check (big, 255), WIRE_OK);
    CHECK_INT (wire_topic_check (big, 256), WIRE_TOPIC_TOO_LONG);
    CHECK (wire_topic_reserved ("$herald/sync/1", 14));
    CHECK (!wire_topic_reserved ("$herald", 7));
    CHECK (!wire_topic_reserved ("chat", 4));
}

static void
test_utf8 (void)
{
    CHECK (wire_utf8_valid ("plain", 5));
    CHECK (wire_utf8_valid ("\xe2\x82\xac", 3));            //  U+20AC
    CHECK (wire_utf8_valid ("\xf0\x9f\x98\x80", 4));        //  U+1F600
    CHECK (!wire_utf8_valid ("\xc0\xaf", 2));               //  overlong '/'
    CHECK (!wire_utf8_valid ("\xe0\x80\xaf", 3));           //  overlong
    CHECK (!wire_utf8_valid ("\xed\xa0\x80", 3));           //  surrogate
    CHECK (!wire_utf8_valid ("\xf4\x90\x80\x80", 4));       //  past U+10FFFF
    CHECK (!wire_utf8_valid ("\xe2\x82", 2));               //  truncated
    CHECK (!wire_utf8_valid ("\x80", 1));                   //  lone continuation
}

static void
test_msgpack_check (void)
{
    CHECK_INT (wire_msgpack_check ("\xc0", 1), WIRE_OK);
    CHECK_INT (wire_msgpack_check ("\x81\xa1k\x01", 4), WIRE_OK);
    CHECK_INT (wire_msgpack_check ("", 0), WIRE_MP_TRUNCATED);
    CHECK_INT (wire_msgpack_check ("\xc0\xc0", 2), WIRE_MP_TRAILING);
    CHECK_INT (wire_msgpack_check ("\xc1", 1), WIRE_MP_BAD_BYTE);
    CHECK_INT (wire_msgpack_check ("\xa5hi", 3), WIRE_MP_TRUNCATED);
    CHECK_INT (wire_msgpack_check ("\xcb\x00", 2), WIRE_MP_TRUNCATED);
    //  An array32 that claims four billion elements in a few bytes.
    CHECK_INT (wire_msgpack_check ("\xdd\xff\xff\xff\xff\xc0", 6), WIRE_MP_TRUNCATED);
    //  A map32 that claims 2^31 pairs.
    CHECK_INT (wire_msgpack_check ("\xdf\x80\x00\x00\x00\xc0\xc0", 7), WIRE_MP_TRUNCATED);
    //  A str32 longer than the buffer.
    CHECK_INT (wire_msgpack_check ("\xdb\xff\xff\xff\xff" "ab", 7), WIRE_MP_TRUNCATED);
    //  ext8 with its type byte and body.
    CHECK_INT (wire_msgpack_check ("\xc7\x02\x05" "ab", 5), WIRE_OK);
    CHECK_INT (wire_msgpack_check ("\xc7\x02\x05" "a", 4), WIRE_MP_TRUNCATED);

    //  Depth: 32 nested one-element arrays pass, 33 do not.
    unsigned char deep[40];
    memset (deep, 0x91, sizeof deep);
    deep[32] = 0xc0;
    CHECK_INT (wire_msgpack_check (deep, 33), WIRE_OK);
    deep[32] = 0x91;
    deep[33] = 0xc0;
    CHECK_INT (wire_msgpack_check (deep, 34), WIRE_MP_TOO_DEEP);

    CHECK_INT (wire_metadata_check ("\x80", 1), WIRE_OK);
    CHECK_INT (wire_metadata_check ("\x90", 1), WIRE_MP_NOT_MAP);
}

static char *
s_to_json (const char *mp, size_t len)
{
    char *out = NULL;
    size_t n;
    if (mpjson_to_json (mp, len, &out, &n) != 0)
        return NULL;
    CHECK_INT (n, strlen (out));
    return out;
}

static void
s_roundtrip (const char *json, const char *expect)
{
    msgpack_sbuffer sb;
    char err[256];
    msgpack_sbuffer_init (&sb);
    REQUIRE (mpjson_from_json (json, strlen (json), &sb, err, sizeof err) == 0);
    char *back = s_to_json (sb.data, sb.size);
    CHECK_STR (back, expect ? expect : json);
    free (back);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_json_roundtrip (void)
{
    s_roundtrip ("{\"id\":\"1\",\"text\":\"hi\",\"n\":[1,-2,2.5,null,true,false]}", NULL);
    s_roundtrip ("\"plain string\"", NULL);
    s_roundtrip ("42", NULL);
    s_roundtrip ("[]", NULL);
    s_roundtrip ("{}", NULL);
    s_roundtrip ("0.1", NULL);
    s_roundtrip ("1e300", "1e+300");
    s_roundtrip ("-9223372036854775808", NULL);
    s_roundtrip ("\"tab\\tquote\\\"nul\\u0000\"", NULL);
    s_roundtrip ("\"\\u00e9\\u20ac\"", "\"\xc3\xa9\xe2\x82\xac\"");
    //  Key order is kept.
    s_roundtrip ("{\"b\":1,\"a\":2}", NULL);
}

static void
test_json_errors (void)
{
    msgpack_sbuffer sb;
    char err[256];
    msgpack_sbuffer_init (&sb);
    CHECK (mpjson_from_json ("{\"a\":}", 6, &sb, err, sizeof err) != 0);
    CHECK (strstr (err, "line 1, column 6") != NULL);
    CHECK (mpjson_from_json ("", 0, &sb, err, sizeof err) != 0);
    CHECK (mpjson_from_json ("[1,", 3, &sb, err, sizeof err) != 0);
    CHECK (mpjson_from_json ("1 2", 3, &sb, err, sizeof err) != 0);
    CHECK (mpjson_from_json ("99999999999999999999", 20, &sb, err, sizeof err) != 0);

    //  33 nested arrays are one too many for msgpack-c to unpack.
    char deep[80];
    memset (deep, '[', 33);
    memset (deep + 33, ']', 33);
    CHECK (mpjson_from_json (deep, 66, &sb, err, sizeof err) != 0);
    CHECK (strstr (err, "nested") != NULL);
    CHECK (mpjson_from_json (deep + 1, 64, &sb, err, sizeof err) == 0);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_msgpack_to_json_types (void)
{
    char *s;
    //  bin8 "abc" becomes base64.
    s = s_to_json ("\xc4\x03" "abc", 5);
    CHECK_STR (s, "\"YWJj\"");
    free (s);
    //  Integer map keys become strings.
    s = s_to_json ("\x82\x01\xa1x\xc0\xc3", 6);
    CHECK_STR (s, "{\"1\":\"x\",\"null\":true}");
    free (s);
    //  float64 NaN becomes null.
    s = s_to_json ("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 9);
    CHECK_STR (s, "null");
    free (s);
    //  uint64 max is kept exactly.
    s = s_to_json ("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9);
    CHECK_STR (s, "18446744073709551615");
    free (s);
    //  Timestamp extension (-1), 32-bit seconds.
    s = s_to_json ("\xd6\xff\x00\x00\x00\x00", 6);
    CHECK_STR (s, "\"1970-01-01T00:00:00Z\"");
    free (s);
    //  Invalid UTF-8 in a string is replaced, never passed through.
    s = s_to_json ("\xa2\xff" "a", 3);
    CHECK_STR (s, "\"\xef\xbf\xbd" "a\"");
    free (s);
    //  Invalid input is refused.
    char *out = NULL;
    size_t n;
    CHECK (mpjson_to_json ("\xdd\xff\xff\xff\xff", 5, &out, &n) != 0);
    CHECK (out == NULL);
}

static void
test_jbuf (void)
{
    jbuf_t b;
    jbuf_init (&b, 0);
    jbuf_json_string (&b, "a\"\\\n\x01", 5);
    jbuf_putc (&b, 0);
    CHECK_STR (b.data, "\"a\\\"\\\\\\n\\u0001\"");
    jbuf_reset (&b);
    jbuf_json_double (&b, 0.1);
    jbuf_putc (&b, ' ');
    jbuf_json_double (&b, 1e21);
    jbuf_putc (&b, ' ');
    jbuf_json_double (&b, INFINITY);
    jbuf_putc (&b, 0);
    CHECK_STR (b.data, "0.1 1e+21 null");
    jbuf_reset (&b);
    jbuf_json_base64 (&b, "ab", 2);
    jbuf_json_base64 (&b, "", 0);
    jbuf_putc (&b, 0);
    CHECK_STR (b.data, "\"YWI=\"\"\"");
    jbuf_free (&b);

    //  A limit makes the buffer fail, and stay failed.
    jbuf_init (&b, 8);
    jbuf_puts (&b, "12345");
    CHECK (!jbuf_failed (&b));
    jbuf_puts (&b, "6789");
    CHECK (jbuf_failed (&b));
    jbuf_puts (&b, "x");
    CHECK_INT (b.len, 5);
    CHECK (jbuf_take (&b, NULL) == NULL);
    jbuf_free (&b);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_topic_rules);
    RUN (test_utf8);
    RUN (test_msgpack_check);
    RUN (test_json_roundtrip);
    RUN (test_json_errors);
    RUN (test_msgpack_to_json_types);
    RUN (test_jbuf);
    return TEST_RESULT ();
}
