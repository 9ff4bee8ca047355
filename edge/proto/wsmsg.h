/*  wsmsg.h: a client's WebSocket message, put back together from the
 *  pieces libwebsockets hands over.
 *
 *  lws delivers a message in pieces: its fragments (RFC 6455 5.4), and
 *  parts of a frame larger than the receive buffer. A message that comes
 *  in one piece is used where it lies; one in several is gathered here,
 *  within a limit, into a buffer that is freed once the message is read,
 *  so that idle connections hold none. Pure code: no I/O.
 */
#ifndef HERALD_WSMSG_H
#define HERALD_WSMSG_H

#include <stddef.h>

typedef struct {
    size_t max;                 //  the largest message, bytes
    char *data;                 //  the pieces so far
    size_t len;
    size_t cap;
    int binary;                 //  the message is binary (its first frame's opcode)
    int refused;                //  too big: its remaining pieces are dropped
} wsmsg_t;

typedef enum {
    WSMSG_MORE,                 //  part of a message: wait for the rest
    WSMSG_DONE,                 //  a whole message is in *msg
    WSMSG_TOO_BIG,              //  the message is over max (close 1009)
    WSMSG_NOMEM,                //  out of memory (close 4500)
    WSMSG_DROPPED               //  a piece of a message already refused
} wsmsg_rc_t;

/*  Adds one piece: first and last say whether it begins and ends a
 *  message, binary whether the message is binary (read with first). On
 *  WSMSG_DONE, *msg and *msg_len hold the whole message, valid until the
 *  next call or wsmsg_release. */
wsmsg_rc_t wsmsg_add (wsmsg_t *m, const char *in, size_t len, int first, int last,
                      int binary, const char **msg, size_t *msg_len);

/*  Frees the buffer, after a message has been read (and at close). */
void wsmsg_release (wsmsg_t *m);

#endif
