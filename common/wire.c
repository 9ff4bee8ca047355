/*  wire.c: validation of topics and msgpack payloads. See wire.h.
 *
 *  msgpack-c allocates the elements of an array or map as soon as it reads
 *  the header, so a ten-byte message that declares four billion elements
 *  asks for gigabytes. The check below walks the encoding without
 *  allocating, and refuses any count that the remaining bytes cannot hold
 *  (every element takes at least one byte).
 */
#include "wire.h"

#include <string.h>

const char *
wire_strerror (wire_err_t err)
{
    switch (err) {
        case WIRE_OK: return "ok";
        case WIRE_TOPIC_EMPTY: return "topic is empty";
        case WIRE_TOPIC_TOO_LONG: return "topic is longer than 255 bytes";
        case WIRE_TOPIC_NUL: return "topic contains a NUL byte";
        case WIRE_TOPIC_UTF8: return "topic is not valid UTF-8";
        case WIRE_TOPIC_RESERVED: return "topics beginning with \"$herald/\" are reserved";
        case WIRE_MP_TRUNCATED: return "msgpack value is truncated";
        case WIRE_MP_TRAILING: return "bytes follow the msgpack value";
        case WIRE_MP_TOO_DEEP: return "msgpack value is nested more than 32 deep";
        case WIRE_MP_BAD_BYTE: return "msgpack value contains the never-used byte 0xc1";
        case WIRE_MP_NOT_MAP: return "metadata is not a msgpack map";
        case WIRE_FRAMES: return "a message must have 2 or 3 frames";
    }
    return "unknown wire error";
}

size_t
wire_utf8_seq (const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80) return 1;
    else if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; }
    else return 0;
    if (n - 1 < need)
        return 0;
    for (size_t k = 1; k <= need; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    //  Reject overlong forms, surrogates and code points past U+10FFFF.
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff
        || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need + 1;
}

int
wire_utf8_valid (const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = wire_utf8_seq (s + i, len - i);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

wire_err_t
wire_topic_check (const char *topic, size_t len)
{
    if (len == 0)
        return WIRE_TOPIC_EMPTY;
    if (len > WIRE_TOPIC_MAX)
        return WIRE_TOPIC_TOO_LONG;
    if (memchr (topic, 0, len))
        return WIRE_TOPIC_NUL;
    if (!wire_utf8_valid (topic, len))
        return WIRE_TOPIC_UTF8;
    return WIRE_OK;
}

int
wire_topic_reserved (const char *topic, size_t len)
{
    size_t plen = sizeof WIRE_RESERVED_PREFIX - 1;
    return len >= plen && memcmp (topic, WIRE_RESERVED_PREFIX, plen) == 0;
}

int
wire_topic_ack (const char *topic, size_t len)
{
    size_t plen = sizeof WIRE_ACK_PREFIX - 1;
    return len >= plen && memcmp (topic, WIRE_ACK_PREFIX, plen) == 0;
}

//  The FNV-1a parameters for 64 bits (offset basis and prime), as Fowler,
//  Noll and Vo publish them: simple enough for any language to compute
//  the same owner, and stable across versions, which a topic's owner must
//  be.
#define S_FNV_BASIS 0xcbf29ce484222325ull
#define S_FNV_PRIME 0x100000001b3ull

uint64_t
wire_fnv1a64 (const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = S_FNV_BASIS;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= S_FNV_PRIME;
    }
    return h;
}

size_t
wire_topic_owner (const char *topic, size_t len, size_t n)
{
    return n ? (size_t) (wire_fnv1a64 (topic, len) % n) : 0;
}

void
wire_ack_encode (uint64_t count, unsigned char out[WIRE_ACK_PAYLOAD])
{
    out[0] = 0xcf;
    for (int i = 0; i < 8; i++)
        out[1 + i] = (unsigned char) (count >> (56 - 8 * i));
}

int
wire_ack_decode (const void *buf, size_t len, uint64_t *count)
{
    const unsigned char *p = buf;
    if (len == 1 && p[0] <= 0x7f) {
        *count = p[0];
        return 0;
    }
    int n = len ? (p[0] == 0xcc ? 1 : p[0] == 0xcd ? 2 : p[0] == 0xce ? 4 : p[0] == 0xcf ? 8 : 0)
                : 0;
    if (n == 0 || len != (size_t) n + 1)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[1 + i];
    *count = v;
    return 0;
}

//  Big-endian reads of a length field of n bytes at p.
static uint64_t
s_be (const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

//  Walks one value at *pos. A container's declared count must fit in the
//  bytes left, and every element is then walked, so a buffer that passes
//  describes no more values than it has bytes.
static wire_err_t
s_skip (const unsigned char *p, size_t len, size_t *pos, int depth)
{
    if (*pos >= len)
        return WIRE_MP_TRUNCATED;
    unsigned char c = p[(*pos)++];
    size_t left = len - *pos;
    uint64_t skip = 0;          //  bytes of body to skip
    uint64_t items = 0;         //  child values that follow
    int hdr = 0;                //  bytes of length field

    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return WIRE_OK;                             //  fixint, nil, bool
    if (c >= 0xa0 && c <= 0xbf) skip = c & 0x1f;    //  fixstr
    else if (c >= 0x90 && c <= 0x9f) items = c & 0x0f;          //  fixarray
    else if (c >= 0x80 && c <= 0x8f) items = 2 * (uint64_t) (c & 0x0f);  //  fixmap
    else switch (c) {
        case 0xc1: return WIRE_MP_BAD_BYTE;
        case 0xc4: case 0xd9: hdr = 1; break;       //  bin8, str8
        case 0xc5: case 0xda: hdr = 2; break;       //  bin16, str16
        case 0xc6: case 0xdb: hdr = 4; break;       //  bin32, str32
        case 0xc7: hdr = 1; skip = 1; break;        //  ext8: len, type
        case 0xc8: hdr = 2; skip = 1; break;
        case 0xc9: hdr = 4; skip = 1; break;
        case 0xca: skip = 4; break;                 //  float32
        case 0xcb: skip = 8; break;                 //  float64
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xd4: skip = 2; break;                 //  fixext1..16: type + data
        case 0xd5: skip = 3; break;
        case 0xd6: skip = 5; break;
        case 0xd7: skip = 9; break;
        case 0xd8: skip = 17; break;
        case 0xdc: hdr = 2; items = 1; break;       //  array16/32, map16/32:
        case 0xdd: hdr = 4; items = 1; break;       //  items is a marker here
        case 0xde: hdr = 2; items = 2; break;
        case 0xdf: hdr = 4; items = 2; break;
        default: return WIRE_MP_BAD_BYTE;           //  unreachable
    }
    if (hdr) {
        if (left < (size_t) hdr)
            return WIRE_MP_TRUNCATED;
        uint64_t n = s_be (p + *pos, hdr);
        *pos += (size_t) hdr;
        left -= (size_t) hdr;
        if (c >= 0xdc)
            items = items * n;      //  elements, or key+value pairs
        else
            skip += n;
    }
    if (skip) {
        if (skip > left)
            return WIRE_MP_TRUNCATED;
        *pos += (size_t) skip;
        return WIRE_OK;
    }
    int container = (c >= 0x80 && c <= 0x9f) || c >= 0xdc;
    if (!container)
        return WIRE_OK;
    if (depth >= WIRE_MAX_DEPTH)
        return WIRE_MP_TOO_DEEP;
    if (items > left)
        return WIRE_MP_TRUNCATED;
    for (uint64_t i = 0; i < items; i++) {
        wire_err_t rc = s_skip (p, len, pos, depth + 1);
        if (rc != WIRE_OK)
            return rc;
    }
    return WIRE_OK;
}

wire_err_t
wire_msgpack_check (const void *buf, size_t len)
{
    size_t pos = 0;
    if (len == 0)
        return WIRE_MP_TRUNCATED;
    wire_err_t rc = s_skip ((const unsigned char *) buf, len, &pos, 0);
    if (rc == WIRE_OK && pos != len)
        rc = WIRE_MP_TRAILING;
    return rc;
}

wire_err_t
wire_metadata_check (const void *buf, size_t len)
{
    wire_err_t rc = wire_msgpack_check (buf, len);
    if (rc != WIRE_OK)
        return rc;
    unsigned char c = *(const unsigned char *) buf;
    if (!((c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf))
        return WIRE_MP_NOT_MAP;
    return WIRE_OK;
}

void
wire_stamp_encode (uint64_t epoch, uint64_t offset, unsigned char out[WIRE_STAMP_SIZE])
{
    unsigned char *p = out;
    *p++ = 0x82;                                    //  fixmap, 2 pairs
    *p++ = 0xa5;
    memcpy (p, "epoch", 5);
    p += 5;
    wire_ack_encode (epoch, p);                     //  uint64
    p += WIRE_ACK_PAYLOAD;
    *p++ = 0xa6;
    memcpy (p, "offset", 6);
    p += 6;
    wire_ack_encode (offset, p);
}

//  The str at *pos (a fixstr or str8, as keys are), advancing past it.
//  Returns its length with *s set, or -1 if the value there is another.
static int
s_key (const unsigned char *p, size_t len, size_t *pos, const char **s)
{
    if (*pos >= len)
        return -1;
    size_t n, at = *pos + 1;
    if (p[*pos] >= 0xa0 && p[*pos] <= 0xbf)
        n = p[*pos] & 0x1f;
    else if (p[*pos] == 0xd9 && at < len)
        n = p[at++];
    else
        return -1;
    if (n > len - at)
        return -1;
    *s = (const char *) p + at;
    *pos = at + n;
    return (int) n;
}

int
wire_stamp_decode (const void *buf, size_t len, uint64_t *epoch, uint64_t *offset)
{
    const unsigned char *p = buf;
    if (wire_metadata_check (buf, len) != WIRE_OK)
        return -1;
    size_t pos = 1;
    uint64_t pairs;
    if (p[0] <= 0x8f)
        pairs = p[0] & 0x0f;
    else {
        int hdr = p[0] == 0xde ? 2 : 4;
        pairs = s_be (p + 1, hdr);
        pos += (size_t) hdr;
    }
    int found = 0;
    for (uint64_t i = 0; i < pairs; i++) {
        const char *key = NULL;
        int klen = s_key (p, len, &pos, &key);
        //  (The check above passed, so every key and value is whole.)
        if (klen < 0 && s_skip (p, len, &pos, 1) != WIRE_OK)
            return -1;
        size_t start = pos;
        if (s_skip (p, len, &pos, 1) != WIRE_OK)
            return -1;
        uint64_t *dst = klen == 5 && memcmp (key, "epoch", 5) == 0    ? epoch
                        : klen == 6 && memcmp (key, "offset", 6) == 0 ? offset
                                                                       : NULL;
        if (!dst)
            continue;
        if (wire_ack_decode (p + start, pos - start, dst) != 0)
            return -1;
        found |= dst == epoch ? 1 : 2;
    }
    return found == 3 ? 0 : -1;
}

//  An unsigned number of base 10 or 16 (lowercase) in 1..digits_max
//  characters. Returns 0, or -1 if the bytes hold anything else.
static int
s_number (const char *p, size_t n, int base, size_t digits_max, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > digits_max)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0'
                : base == 16 && p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10
                                                           : -1;
        if (d < 0 || (base == 10 && v > (UINT64_MAX - (uint64_t) d) / 10))
            return -1;
        v = v * (uint64_t) base + (uint64_t) d;
    }
    *out = v;
    return 0;
}

const char *
wire_since_parse (const void *const data[], const size_t len[], int count, uint64_t *epoch,
                  uint64_t *offset)
{
    if (count != 4 || len[0] != 5 || memcmp (data[0], "SINCE", 5) != 0)
        return "expected [\"SINCE\", topic, epoch, offset]";
    if (wire_topic_check (data[1], len[1]) != WIRE_OK)
        return "the topic breaks the wire format's rules";
    if (s_number (data[2], len[2], 16, 16, epoch) != 0)
        return "the epoch must be 1 to 16 lowercase hex digits";
    if (s_number (data[3], len[3], 10, 20, offset) != 0)
        return "the offset must be a decimal number below 2^64";
    return NULL;
}

int
wire_recv (void *socket, zmq_msg_t frames[WIRE_FRAMES_MAX], int *nframes)
{
    for (int i = 0; i < WIRE_FRAMES_MAX; i++)
        zmq_msg_init (&frames[i]);
    *nframes = 0;
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t extra, *dst = n < WIRE_FRAMES_MAX ? &frames[n] : &extra;
        if (dst == &extra)
            zmq_msg_init (&extra);
        int rc = zmq_msg_recv (dst, socket, ZMQ_DONTWAIT);
        if (rc >= 0)
            more = zmq_msg_more (dst);
        if (dst == &extra)
            zmq_msg_close (&extra);
        if (rc < 0) {
            //  ZeroMQ delivers a message whole or not at all, so a failure
            //  past its first frame is a broken socket, not a short read.
            if (n == 0)
                return -1;
            return 0;
        }
        n++;
    }
    *nframes = n;
    return 0;
}

wire_err_t
wire_frames_check (const zmq_msg_t *frames, int nframes, int reserved_ok)
{
    if (nframes < 2 || nframes > WIRE_FRAMES_MAX)
        return WIRE_FRAMES;
    const char *topic = zmq_msg_data ((zmq_msg_t *) &frames[0]);
    size_t len = zmq_msg_size ((zmq_msg_t *) &frames[0]);
    wire_err_t rc = wire_topic_check (topic, len);
    if (rc == WIRE_OK && !reserved_ok && wire_topic_reserved (topic, len))
        rc = WIRE_TOPIC_RESERVED;
    return rc;
}
