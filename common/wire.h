/*  wire.h: the rules of the backbone's wire format, shared by libherald,
 *  the broker and the edge.
 *
 *  A message is two or three ZeroMQ frames: [topic][payload][metadata].
 *  - topic: 1..WIRE_TOPIC_MAX bytes of UTF-8, with no NUL;
 *  - payload: exactly one msgpack value, nested at most WIRE_MAX_DEPTH deep;
 *  - metadata (optional): one msgpack map.
 *  docs/wire.md is the reader's version of this file.
 */
#ifndef HERALD_WIRE_H
#define HERALD_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#define WIRE_TOPIC_MAX 255              //  bytes, not counting any NUL
#define WIRE_PAYLOAD_MAX (1u << 20)     //  default payload limit, bytes
#define WIRE_PAYLOAD_HARD_MAX (256u << 20)
#define WIRE_MAX_DEPTH 32               //  nested arrays and maps

//  Topics that begin with this prefix are the backbone's own (subscription
//  confirmations). Applications cannot publish to them.
#define WIRE_RESERVED_PREFIX "$herald/"
#define WIRE_SYNC_PREFIX "$herald/sync/"
//  A publisher's confirmation markers (docs/wire.md, "Confirming what was
//  published"): the one kind of reserved topic that publishers may send.
#define WIRE_ACK_PREFIX "$herald/ack/"
//  A marker's payload: msgpack uint64 (0xcf and 8 bytes, big-endian).
#define WIRE_ACK_PAYLOAD 9
//  A confirmation's payload: msgpack nil.
#define WIRE_MSGPACK_NIL 0xc0

typedef enum {
    WIRE_OK = 0,
    WIRE_TOPIC_EMPTY,
    WIRE_TOPIC_TOO_LONG,
    WIRE_TOPIC_NUL,
    WIRE_TOPIC_UTF8,
    WIRE_TOPIC_RESERVED,
    WIRE_MP_TRUNCATED,
    WIRE_MP_TRAILING,
    WIRE_MP_TOO_DEEP,
    WIRE_MP_BAD_BYTE,
    WIRE_MP_NOT_MAP,
    WIRE_FRAMES
} wire_err_t;

#define WIRE_FRAMES_MAX 3               //  topic, payload, metadata

/*  A sentence describing a wire_err_t, for logs and error messages. */
const char *wire_strerror (wire_err_t err);

/*  Length (1..4) of the well-formed UTF-8 sequence at s, which has n > 0
 *  bytes left, or 0 if the bytes there are not one. */
size_t wire_utf8_seq (const unsigned char *s, size_t n);

/*  1 if [s, s+len) is well-formed UTF-8 (no overlongs, no surrogates). */
int wire_utf8_valid (const char *s, size_t len);

/*  Check a topic as bytes. Reserved topics pass; see wire_topic_reserved. */
wire_err_t wire_topic_check (const char *topic, size_t len);

/*  1 if the topic begins with WIRE_RESERVED_PREFIX. */
int wire_topic_reserved (const char *topic, size_t len);

/*  1 if the topic begins with WIRE_ACK_PREFIX. */
int wire_topic_ack (const char *topic, size_t len);

/*  FNV-1a, 64 bits, over len bytes (docs/wire.md gives test vectors). */
uint64_t wire_fnv1a64 (const void *data, size_t len);

/*  The index in a list of n > 0 brokers of the broker that owns a topic:
 *  wire_fnv1a64 of the topic's bytes, modulo n. */
size_t wire_topic_owner (const char *topic, size_t len, size_t n);

/*  A confirmation marker's payload for count, in out[WIRE_ACK_PAYLOAD]. */
void wire_ack_encode (uint64_t count, unsigned char out[WIRE_ACK_PAYLOAD]);

/*  Read a marker's payload: any msgpack unsigned integer (a positive
 *  fixint, uint 8, 16, 32 or 64). Returns 0 with *count set, or -1. */
int wire_ack_decode (const void *buf, size_t len, uint64_t *count);

/*  A topic's numbering, which its broker writes as the metadata frame of
 *  each event it forwards (docs/wire.md, "Offsets and epochs"): the map
 *  {"epoch": uint64, "offset": uint64}, in WIRE_STAMP_SIZE bytes. */
#define WIRE_STAMP_SIZE 32
void wire_stamp_encode (uint64_t epoch, uint64_t offset, unsigned char out[WIRE_STAMP_SIZE]);

/*  Read a metadata frame's numbering: any msgpack map holding the keys
 *  "epoch" and "offset" with unsigned integers, in any order, among
 *  others. Returns 0 with both set, or -1 (not a map, a key missing or
 *  of another type, malformed msgpack). */
int wire_stamp_decode (const void *buf, size_t len, uint64_t *epoch, uint64_t *offset);

/*  A request for a topic's recent events (docs/wire.md, "Offsets and
 *  epochs"): count frames, data[i] of len[i] bytes (at most the first four
 *  are read): "SINCE", the topic, the epoch as 1 to 16 lowercase hex
 *  digits, the offset in decimal below 2^64. Returns NULL with *epoch and
 *  *offset set, or why the request is malformed. */
const char *wire_since_parse (const void *const data[], const size_t len[], int count,
                              uint64_t *epoch, uint64_t *offset);

/*  Check that [buf, buf+len) holds exactly one msgpack value, nested at most
 *  WIRE_MAX_DEPTH deep, whose every declared length fits in the buffer.
 *  After this passes, msgpack-c can unpack the value without being asked
 *  for more memory than the input could describe. */
wire_err_t wire_msgpack_check (const void *buf, size_t len);

/*  As wire_msgpack_check, and the value must be a map. */
wire_err_t wire_metadata_check (const void *buf, size_t len);

/*  Receive one whole message from a ZeroMQ socket without waiting. frames
 *  are initialised here, and the caller closes all WIRE_FRAMES_MAX of them
 *  whatever the result. Frames past the third are read and dropped, so
 *  that none is taken for the next message. Returns -1 (zmq_errno() says
 *  why; EAGAIN when none is waiting) if no message was read; else 0 with
 *  *nframes the number of frames the message had, or 0 if it broke off. */
int wire_recv (void *socket, zmq_msg_t frames[WIRE_FRAMES_MAX], int *nframes);

/*  The checks every hop makes on a message it forwards: 2 or 3 frames and a
 *  valid topic, which may be a reserved one only if reserved_ok. (The
 *  payload is checked where it is read: subscribers and the edge.) */
wire_err_t wire_frames_check (const zmq_msg_t *frames, int nframes, int reserved_ok);

#endif
