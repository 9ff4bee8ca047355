/*  outq.h: a connection's outbound queue of WebSocket messages.
 *
 *  Messages are framed on the way in (server frames are unmasked: a
 *  2-, 4- or 10-byte header, then the payload) and packed back to back into
 *  chunks, so that one socket write carries as many whole messages as fit
 *  in a chunk. An empty queue holds no memory; chunks come from a small
 *  free list shared by all queues of the (single-threaded) edge.
 */
#ifndef HERALD_OUTQ_H
#define HERALD_OUTQ_H

#include <stddef.h>

#define OUTQ_CHUNK 16384        //  bytes of messages per chunk (larger ones get their own)
#define OUTQ_HEADER_MAX 10      //  the largest frame header: what a message costs beyond its text

typedef struct outq_chunk outq_chunk_t;

typedef struct {
    outq_chunk_t *head;
    outq_chunk_t *tail;
    size_t bytes;               //  bytes queued and not yet taken
    size_t messages;            //  messages queued and not yet taken
} outq_t;

/*  Bytes of free space kept before each chunk's data, for writers that
 *  need headroom (libwebsockets' LWS_PRE). Set once, before any push. */
void outq_set_headroom (size_t headroom);

/*  Queue one text message made of n parts, concatenated. Returns 0, or -1
 *  if memory ran out (the queue is unchanged). */
int outq_push (outq_t *q, const char *const *parts, const size_t *lens, int n);

/*  The next bytes to write (whole messages, at most one chunk), or NULL
 *  when the queue is empty. */
const char *outq_peek (outq_t *q, size_t *len);

/*  Drop the first n bytes returned by outq_peek, once written. */
void outq_consume (outq_t *q, size_t n);

void outq_clear (outq_t *q);

/*  Free the shared free list (at exit, so that leak checkers stay quiet). */
void outq_shutdown (void);

#endif
