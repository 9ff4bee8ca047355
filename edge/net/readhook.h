/*  readhook.h: the bytes libwebsockets reads from clients, seen on their
 *  way in, to check that every client frame is masked (proto/wsframe.h).
 *
 *  libwebsockets reads with recv(2) and, over TLS, SSL_read(3). herald-edge
 *  defines both (readhook.c): each calls the C library's or OpenSSL's own,
 *  then, for a connection being watched and only in the thread that runs
 *  the edge's loop, follows the frame headers in what was read. Nothing
 *  else changes: other descriptors and other threads (ZeroMQ's) pass
 *  straight through.
 */
#ifndef HERALD_READHOOK_H
#define HERALD_READHOOK_H

#include <stdint.h>

/*  Call once, from the thread that runs the loop, before any connection. */
void readhook_init (void);

/*  Start following the WebSocket frames read on fd, from the next byte
 *  read: call when a connection becomes a WebSocket. owner is handed back
 *  by readhook_next_unmasked. */
void readhook_watch (int fd, void *owner);

/*  Stop, when the connection closes. */
void readhook_unwatch (int fd);

/*  How many reads on fd have returned bytes since it was watched: the
 *  edge's pings (ws.c) take a change as the client being alive, whatever
 *  it sent (a pong, which lws answers without a callback of ours, too). */
uint64_t readhook_reads (int fd);

/*  1 if a frame without a mask has been read on fd. */
int readhook_unmasked (int fd);

/*  The owner of a connection that sent an unmasked frame since the last
 *  call, or NULL; each is reported once. */
void *readhook_next_unmasked (void);

/*  Free the table (at exit). */
void readhook_shutdown (void);

#endif
