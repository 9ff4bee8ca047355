/*  fuzz_frames.c: libFuzzer harness for the broker's message reading and
 *  checks (wire_recv, wire_frames_check), over a real ZeroMQ inproc pipe.
 *
 *  Input: byte 0 is the number of frames (0..7) and the reserved-topic
 *  flag; then each frame is a length byte and that many bytes. The frames
 *  go out as one message and are read back as the broker reads them.
 *  Oracles: wire_recv returns the same number of frames, keeps the first
 *  three byte for byte, and the check agrees with the wire rules applied
 *  directly. The whole input is also read as a confirmation marker's
 *  payload (wire_ack_decode, bytes a broker sends back to a publisher):
 *  what it accepts encodes and decodes back to the same count; and as a
 *  metadata frame's numbering (wire_stamp_decode): what it accepts is a
 *  well-formed map, and its epoch and offset survive the broker's own
 *  encoding. The frames are also read as a history request
 *  (wire_since_parse, bytes any ZeroMQ peer sends the broker): what it
 *  accepts has four frames and a valid topic, and its epoch and offset
 *  read back the same from the broker's own writing of them.
 */
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static void *s_ctx, *s_push, *s_pull;

static void
s_setup (void)
{
    s_ctx = zmq_ctx_new ();
    s_push = zmq_socket (s_ctx, ZMQ_PUSH);
    s_pull = zmq_socket (s_ctx, ZMQ_PULL);
    if (zmq_bind (s_pull, "inproc://fuzz-frames") != 0
        || zmq_connect (s_push, "inproc://fuzz-frames") != 0)
        abort ();
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    if (!s_ctx)
        s_setup ();
    uint64_t count, again;
    if (wire_ack_decode (data, size, &count) == 0) {
        unsigned char payload[WIRE_ACK_PAYLOAD];
        wire_ack_encode (count, payload);
        if (wire_ack_decode (payload, sizeof payload, &again) != 0 || again != count)
            abort ();
    }
    uint64_t epoch, offset, e2, o2;
    if (wire_stamp_decode (data, size, &epoch, &offset) == 0) {
        unsigned char stamp[WIRE_STAMP_SIZE];
        wire_stamp_encode (epoch, offset, stamp);
        if (wire_metadata_check (data, size) != WIRE_OK
            || wire_stamp_decode (stamp, sizeof stamp, &e2, &o2) != 0 || e2 != epoch
            || o2 != offset)
            abort ();
    }
    if (size < 1)
        return 0;
    int want = data[0] & 7, reserved_ok = (data[0] >> 3) & 1;
    const unsigned char *frame[8];
    size_t len[8];
    size_t pos = 1;
    for (int i = 0; i < want; i++) {
        size_t n = pos < size ? data[pos++] : 0;
        if (n > size - pos)
            n = size - pos;
        frame[i] = data + pos;
        len[i] = n;
        pos += n;
    }
    const void *fdata[8];
    for (int i = 0; i < want; i++)
        fdata[i] = frame[i];
    if (wire_since_parse (fdata, len, want, &epoch, &offset) == NULL) {
        char et[17], ot[21];
        const void *req[4] = { "SINCE", frame[1], et, ot };
        size_t alen[4] = { 5, len[1], 0, 0 };
        alen[2] = (size_t) snprintf (et, sizeof et, "%016llx", (unsigned long long) epoch);
        alen[3] = (size_t) snprintf (ot, sizeof ot, "%llu", (unsigned long long) offset);
        if (want != 4 || wire_topic_check ((const char *) frame[1], len[1]) != WIRE_OK
            || wire_since_parse (req, alen, 4, &e2, &o2) != NULL || e2 != epoch
            || o2 != offset)
            abort ();
    }
    if (want == 0) {
        //  Nothing to send: a read must find nothing waiting.
        zmq_msg_t frames[WIRE_FRAMES_MAX];
        int n;
        if (wire_recv (s_pull, frames, &n) == 0 || zmq_errno () != EAGAIN)
            abort ();
        for (int k = 0; k < WIRE_FRAMES_MAX; k++)
            zmq_msg_close (&frames[k]);
        return 0;
    }
    for (int i = 0; i < want; i++)
        if (zmq_send (s_push, frame[i], len[i], i < want - 1 ? ZMQ_SNDMORE : 0) < 0)
            abort ();
    zmq_msg_t frames[WIRE_FRAMES_MAX];
    int n = -1;
    //  inproc delivers at once, but not necessarily before this call.
    while (wire_recv (s_pull, frames, &n) != 0) {
        if (zmq_errno () != EAGAIN)
            abort ();
        for (int k = 0; k < WIRE_FRAMES_MAX; k++)
            zmq_msg_close (&frames[k]);
    }
    if (n != want)
        abort ();
    for (int i = 0; i < want && i < WIRE_FRAMES_MAX; i++)
        if (zmq_msg_size (&frames[i]) != len[i]
            || (len[i] && memcmp (zmq_msg_data (&frames[i]), frame[i], len[i]) != 0))
            abort ();
    wire_err_t expect = WIRE_FRAMES;
    if (want >= 2 && want <= 3) {
        expect = wire_topic_check ((const char *) frame[0], len[0]);
        if (expect == WIRE_OK && !reserved_ok && wire_topic_reserved ((const char *) frame[0], len[0]))
            expect = WIRE_TOPIC_RESERVED;
    }
    if (wire_frames_check (frames, n, reserved_ok) != expect)
        abort ();
    for (int k = 0; k < WIRE_FRAMES_MAX; k++)
        zmq_msg_close (&frames[k]);
    return 0;
}
