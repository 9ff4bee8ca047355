/*  listen.h: herald-edge's listening sockets (see listen.c). */
#ifndef HERALD_LISTEN_H
#define HERALD_LISTEN_H

#include <libwebsockets.h>
#include <uv.h>

/*  A listening TCP socket on host ("" for every address) and port (0:
 *  the kernel picks one), with SO_REUSEPORT so that each worker can have
 *  its own on the same port. Returns the descriptor, with the port in
 *  *bound_port, or -1 (logged). */
int listen_open (const char *host, int port, int *bound_port);

/*  A worker's accept loop: every connection on fd goes to vhost. Returns
 *  0, or -1 (logged). The worker owns fd from now on. */
int listen_start (uv_loop_t *loop, int fd, struct lws_vhost *vhost);

/*  Stops accepting, and closes the worker's socket (the supervisor's copy
 *  stays until it closes it). Does nothing if not started. */
void listen_stop (void);

#endif
