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

//  The ownership hash, with the vectors docs/wire.md gives (FNV-1a 64's
//  published ones for "" and "a" among them), and the confirmation
//  marker's payload.
static void
test_owner_hash (void)
{
    CHECK (wire_fnv1a64 ("", 0) == 0xcbf29ce484222325ull);
    CHECK (wire_fnv1a64 ("a", 1) == 0xaf63dc4c8601ec8cull);
    CHECK (wire_fnv1a64 ("foobar", 6) == 0x85944171f73967e8ull);
    CHECK (wire_fnv1a64 ("chat.general", 12) == 0xf209bd58eee97a95ull);
    CHECK_INT (wire_topic_owner ("chat.general", 12, 2), 1);
    CHECK_INT (wire_topic_owner ("chat.general", 12, 3), 1);
    CHECK_INT (wire_topic_owner ("foobar", 6, 2), 0);
    CHECK_INT (wire_topic_owner ("a", 1, 1), 0);
    //  The bytes count, not a C string: an embedded byte changes the owner.
    CHECK (wire_fnv1a64 ("caf\xc3\xa9", 5) != wire_fnv1a64 ("cafe", 4));
    //  Spread: 1000 topics over 2 and 3 brokers, none starved.
    size_t count[3] = { 0 }, two[2] = { 0 };
    for (int i = 0; i < 1000; i++) {
        char topic[32];
        int n = snprintf (topic, sizeof topic, "room.%d", i);
        count[wire_topic_owner (topic, (size_t) n, 3)]++;
        two[wire_topic_owner (topic, (size_t) n, 2)]++;
    }
    for (int i = 0; i < 3; i++)
        CHECK (count[i] > 250);
    CHECK (two[0] > 400 && two[1] > 400);

    CHECK (wire_topic_ack ("$herald/ack/0123", 16));
    CHECK (!wire_topic_ack ("$herald/sync/0123", 17));
    CHECK (!wire_topic_ack ("$herald/ack", 11));
    unsigned char buf[WIRE_ACK_PAYLOAD];
    uint64_t v = 0;
    wire_ack_encode (0x0102030405060708ull, buf);
    CHECK_INT (buf[0], 0xcf);
    CHECK_INT (wire_msgpack_check (buf, sizeof buf), WIRE_OK);
    CHECK_INT (wire_ack_decode (buf, sizeof buf, &v), 0);
    CHECK (v == 0x0102030405060708ull);
    CHECK_INT (wire_ack_decode ("\x05", 1, &v), 0);
    CHECK_INT (v, 5);
    CHECK_INT (wire_ack_decode ("\xcd\x01\x00", 3, &v), 0);
    CHECK_INT (v, 256);
    CHECK_INT (wire_ack_decode ("\xcd\x01", 2, &v), -1);      //  cut short
    CHECK_INT (wire_ack_decode ("\xff", 1, &v), -1);           //  a negative fixint
    CHECK_INT (wire_ack_decode ("\xc0", 1, &v), -1);           //  nil
    CHECK_INT (wire_ack_decode ("", 0, &v), -1);
    CHECK_INT (wire_ack_decode ("\xcc\x01\x02", 3, &v), -1); //  trailing byte
}

//  A topic's numbering in the metadata frame (docs/wire.md, "Offsets and
//  epochs"): what the broker writes, and the maps any client may send.
static void
test_stamp (void)
{
    unsigned char buf[WIRE_STAMP_SIZE];
    uint64_t e = 0, o = 0;
    wire_stamp_encode (0xfedcba9876543210ull, 42, buf);
    CHECK_INT (wire_metadata_check (buf, sizeof buf), WIRE_OK);
    CHECK_INT (wire_stamp_decode (buf, sizeof buf, &e, &o), 0);
    CHECK (e == 0xfedcba9876543210ull);
    CHECK_INT (o, 42);
    //  {"offset": 7, "x": [1], "epoch": 3}: any order, other keys, small ints.
    static const char other[] = "\x83\xa6" "offset\x07\xa1x\x91\x01\xa5" "epoch\x03";
    CHECK_INT (wire_stamp_decode (other, sizeof other - 1, &e, &o), 0);
    CHECK_INT (e, 3);
    CHECK_INT (o, 7);
    //  A key that is not a string is skipped: {1: 2, "epoch": 1, "offset": 2}.
    static const char intkey[] = "\x83\x01\x02\xa5" "epoch\x01\xa6" "offset\x02";
    CHECK_INT (wire_stamp_decode (intkey, sizeof intkey - 1, &e, &o), 0);
    //  One missing, one of another type, not a map, cut short.
    static const char missing[] = "\x81\xa5" "epoch\x01";
    CHECK_INT (wire_stamp_decode (missing, sizeof missing - 1, &e, &o), -1);
    static const char negative[] = "\x82\xa5" "epoch\x01\xa6" "offset\xff";
    CHECK_INT (wire_stamp_decode (negative, sizeof negative - 1, &e, &o), -1);
    CHECK_INT (wire_stamp_decode ("\x91\x01", 2, &e, &o), -1);
    CHECK_INT (wire_stamp_decode (buf, sizeof buf - 1, &e, &o), -1);
    CHECK_INT (wire_stamp_decode ("", 0, &e, &o), -1);
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

//  The key bomb: level 0 is nil, level i is a map whose one key is level
//  i - 1 and whose value is nil (0x81 <level i-1> 0xc0).
static size_t
s_key_bomb (unsigned char *mp, int levels)
{
    size_t n = 0;
    for (int i = 0; i < levels; i++)
        mp[n++] = 0x81;
    mp[n++] = 0xc0;
    for (int i = 0; i < levels; i++)
        mp[n++] = 0xc0;
    return n;
}

static void
test_key_bomb (void)
{
    //  27 levels (55 bytes), 30, and the deepest the wire allows.
    const int levels[] = { 1, 2, 27, 30, WIRE_MAX_DEPTH };
    for (size_t t = 0; t < sizeof levels / sizeof levels[0]; t++) {
        int l = levels[t];
        unsigned char mp[2 * WIRE_MAX_DEPTH + 1];
        size_t len = s_key_bomb (mp, l);
        REQUIRE (wire_msgpack_check (mp, len) == WIRE_OK);
        char *out = NULL;
        size_t n = 0;
        REQUIRE (mpjson_to_json (mp, len, &out, &n) == 0);
        fprintf (stderr, "  %d levels: %zu bytes of msgpack, %zu of JSON\n", l, len, n);
        CHECK (n <= MPJSON_OUT_PER_BYTE * len + MPJSON_OUT_EXTRA);
        //  {"{{...{null:null}...:null}:null}":null}: the whole key is one
        //  string, escaped once; the inner keys are bare text.
        char expect[16 * WIRE_MAX_DEPTH + 16];
        size_t e = 0;
        expect[e++] = '{';
        expect[e++] = '"';
        for (int i = 1; i < l; i++)
            expect[e++] = '{';
        memcpy (expect + e, "null", 4);
        e += 4;
        for (int i = 1; i < l; i++) {
            memcpy (expect + e, ":null}", 6);
            e += 6;
        }
        memcpy (expect + e, "\":null}", 8);
        if (n <= MPJSON_OUT_PER_BYTE * len + MPJSON_OUT_EXTRA)
            CHECK_STR (out, expect);
        free (out);
    }
    //  One level too deep is refused by the check, before any conversion.
    unsigned char mp[2 * WIRE_MAX_DEPTH + 3];
    size_t len = s_key_bomb (mp, WIRE_MAX_DEPTH + 1);
    CHECK_INT (wire_msgpack_check (mp, len), WIRE_MP_TOO_DEEP);
    char *out = NULL;
    size_t n;
    CHECK (mpjson_to_json (mp, len, &out, &n) != 0);
}

static void
s_check_json (const char *mp, size_t len, const char *expect)
{
    char *s = s_to_json (mp, len);
    CHECK_STR (s, expect);
    if (s)
        CHECK (strlen (s) <= MPJSON_OUT_PER_BYTE * len + MPJSON_OUT_EXTRA);
    free (s);
}

//  docs/wire.md: a map key that is not a string becomes one string holding
//  its text, written as JSON except that inner non-string keys are bare.
static void
test_key_mapping (void)
{
    s_check_json ("\x81\xc0\x01", 3, "{\"null\":1}");
    s_check_json ("\x81\x05\x01", 3, "{\"5\":1}");
    s_check_json ("\x81\xfd\x01", 3, "{\"-3\":1}");
    s_check_json ("\x81\xc3\x01", 3, "{\"true\":1}");
    s_check_json ("\x81\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00\x01", 11, "{\"1.5\":1}");
    //  A Python tuple key (1, 2) arrives as an array.
    s_check_json ("\x81\x92\x01\x02\xa1x", 6, "{\"[1,2]\":\"x\"}");
    //  Strings inside a key keep their JSON quotes and escapes, escaped once more.
    s_check_json ("\x81\x91\xa3" "a\"b" "\x01", 7, "{\"[\\\"a\\\\\\\"b\\\"]\":1}");
    s_check_json ("\x81\x81\xa1k\x01\x02", 6, "{\"{\\\"k\\\":1}\":2}");
    //  A map with a non-string key inside a key: that inner key is bare.
    s_check_json ("\x81\x81\x05\xc0\x01", 5, "{\"{5:null}\":1}");
    s_check_json ("\x81\x91\x81\x92\x01\x02\xc3\x01", 8, "{\"[{[1,2]:true}]\":1}");
    //  bin and timestamp keys: their JSON strings, as the key's text.
    s_check_json ("\x81\xc4\x02" "ab" "\x01", 6, "{\"\\\"YWI=\\\"\":1}");
    s_check_json ("\x81\xd6\xff\x00\x00\x00\x00\x01", 8, "{\"\\\"1970-01-01T00:00:00Z\\\"\":1}");
    //  Control characters in a string inside a key: the costliest byte, 7.
    s_check_json ("\x81\x91\xa1\x01\xc0", 5, "{\"[\\\"\\\\u0001\\\"]\":null}");
}

//  The output bound holds at its worst cases: a map of false to false,
//  and control characters in a string inside a key.
static void
test_output_bound (void)
{
    enum { PAIRS = 1000 };
    char mp[3 + 2 * PAIRS];
    mp[0] = (char) 0xde;
    mp[1] = (char) (PAIRS >> 8);
    mp[2] = (char) (PAIRS & 0xff);
    memset (mp + 3, 0xc2, 2 * PAIRS);
    char *s = s_to_json (mp, sizeof mp);
    REQUIRE (s);
    CHECK_INT (strlen (s), 14 * PAIRS + 1);
    CHECK (strlen (s) <= MPJSON_OUT_PER_BYTE * sizeof mp + MPJSON_OUT_EXTRA);
    free (s);

    enum { CTRL = 1000 };
    char key[6 + CTRL];
    key[0] = (char) 0x81;       //  { [ str16 of CTRL bytes of 0x01 ] : nil }
    key[1] = (char) 0x91;
    key[2] = (char) 0xda;
    key[3] = (char) (CTRL >> 8);
    key[4] = (char) (CTRL & 0xff);
    memset (key + 5, 0x01, CTRL);
    key[5 + CTRL] = (char) 0xc0;
    s = s_to_json (key, sizeof key);
    REQUIRE (s);
    CHECK_INT (strlen (s), 7 * CTRL + 15);
    CHECK (strlen (s) <= MPJSON_OUT_PER_BYTE * sizeof key + MPJSON_OUT_EXTRA);
    free (s);
}

//  A hand-built object tree deeper than the wire allows fails the buffer
//  instead of recursing without bound.
static void
test_write_depth (void)
{
    msgpack_object o[WIRE_MAX_DEPTH + 2];
    for (int d = WIRE_MAX_DEPTH; d <= WIRE_MAX_DEPTH + 1; d++) {
        memset (o, 0, sizeof o);
        for (int i = 0; i < d; i++) {
            o[i].type = MSGPACK_OBJECT_ARRAY;
            o[i].via.array.size = 1;
            o[i].via.array.ptr = &o[i + 1];
        }
        o[d].type = MSGPACK_OBJECT_NIL;
        jbuf_t b;
        jbuf_init (&b, 0);
        mpjson_write (&b, &o[0]);
        CHECK_INT (jbuf_failed (&b), d > WIRE_MAX_DEPTH);
        if (d == WIRE_MAX_DEPTH)
            CHECK_INT (b.len, 2 * WIRE_MAX_DEPTH + 4);
        jbuf_free (&b);
    }
}

//  The limit counts bytes written, never a writer's worst case, and the
//  memory held stays near the limit.
static void
test_jbuf_limit_written (void)
{
    enum { LIMIT = 262144 };
    static char text[LIMIT + 1];
    memset (text, 'a', sizeof text);
    jbuf_t b;

    //  200 KB of plain text: 200,002 bytes with its quotes.
    jbuf_init (&b, LIMIT);
    jbuf_json_string (&b, text, 200000);
    CHECK (!jbuf_failed (&b));
    CHECK_INT (b.len, 200002);
    CHECK (b.cap <= LIMIT + JBUF_SLACK);
    jbuf_free (&b);

    //  Exactly the limit fits, and can be taken with its NUL.
    jbuf_init (&b, LIMIT);
    jbuf_json_string (&b, text, LIMIT - 2);
    CHECK (!jbuf_failed (&b));
    CHECK_INT (b.len, LIMIT);
    size_t n = 0;
    char *s = jbuf_take (&b, &n);
    CHECK (s != NULL);
    CHECK_INT (n, LIMIT);
    free (s);
    jbuf_free (&b);

    //  One byte over fails, and keeps nothing of the string.
    jbuf_init (&b, LIMIT);
    jbuf_puts (&b, "[");
    jbuf_json_string (&b, text, LIMIT - 2);
    CHECK (jbuf_failed (&b));
    CHECK_INT (b.len, 1);
    CHECK (b.cap <= LIMIT + JBUF_SLACK);
    jbuf_free (&b);

    //  Escapes count as written: 50,000 control characters are 300,002
    //  bytes, over the limit; 40,000 are 240,002, under it.
    memset (text, 0x01, sizeof text);
    jbuf_init (&b, LIMIT);
    jbuf_json_string (&b, text, 50000);
    CHECK (jbuf_failed (&b));
    CHECK (b.cap <= LIMIT + JBUF_SLACK);
    jbuf_free (&b);
    jbuf_init (&b, LIMIT);
    jbuf_json_string (&b, text, 40000);
    CHECK (!jbuf_failed (&b));
    CHECK_INT (b.len, 240002);
    jbuf_free (&b);

    //  Base64 and numbers are checked against their exact length too.
    jbuf_init (&b, 10);
    jbuf_json_base64 (&b, "abcdef", 6);         //  "YWJjZGVm": 10 bytes
    CHECK (!jbuf_failed (&b));
    CHECK_INT (b.len, 10);
    jbuf_json_int (&b, 1);
    CHECK (jbuf_failed (&b));
    jbuf_free (&b);
    jbuf_init (&b, 20);
    jbuf_json_uint (&b, UINT64_MAX);            //  20 digits
    CHECK (!jbuf_failed (&b));
    CHECK_INT (b.len, 20);
    jbuf_free (&b);

    //  Single characters respect the limit even where the allocation has
    //  room past it.
    jbuf_init (&b, 300);
    for (int i = 0; i < 400; i++)
        jbuf_putc (&b, 'x');
    CHECK (jbuf_failed (&b));
    CHECK_INT (b.len, 300);
    jbuf_free (&b);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_topic_rules);
    RUN (test_owner_hash);
    RUN (test_stamp);
    RUN (test_utf8);
    RUN (test_msgpack_check);
    RUN (test_json_roundtrip);
    RUN (test_json_errors);
    RUN (test_msgpack_to_json_types);
    RUN (test_jbuf);
    RUN (test_key_bomb);
    RUN (test_key_mapping);
    RUN (test_output_bound);
    RUN (test_write_depth);
    RUN (test_jbuf_limit_written);
    return TEST_RESULT ();
}
