/*  wsframe.h: follows the frame headers of a client's WebSocket stream, to
 *  tell whether every frame is masked.
 *
 *  RFC 6455 5.1: a client masks every frame it sends, and a server closes
 *  the connection (1002) on one that is not. libwebsockets 4.1 unmasks
 *  what is masked and takes the rest as it is, saying nothing, so the edge
 *  reads the same bytes beside it (readhook.c) and checks them here.
 *
 *  Pure code: it sees bytes, keeps a dozen bytes of state, and never
 *  buffers. It only follows frame boundaries; lws checks the rest.
 */
#ifndef HERALD_WSFRAME_H
#define HERALD_WSFRAME_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t payload;           //  payload bytes still to come, or the length so far
    uint8_t count;              //  length or key bytes still to come
    uint8_t stage;              //  which part of a frame comes next
    uint8_t unmasked;           //  a frame without a mask was seen (stays set)
} wsframe_t;

/*  A stream at the start of its first frame (a zeroed wsframe_t is one). */
void wsframe_init (wsframe_t *self);

/*  Follow n more bytes of the stream. Returns 1 once a frame without a
 *  mask has been seen (and from then on), else 0. */
int wsframe_feed (wsframe_t *self, const unsigned char *data, size_t n);

#endif
