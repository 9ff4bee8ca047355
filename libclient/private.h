/*  private.h: what libherald's source files share and no one else sees. */
#ifndef HERALD_PRIVATE_H
#define HERALD_PRIVATE_H

#include "herald.h"

#include <stddef.h>

#define HERALD_DEFAULT_LINGER_MS 2000
#define HERALD_DEFAULT_SEND_TIMEOUT_MS 1000
#define HERALD_DEFAULT_HWM 100000

/*  Record a failure for herald_errmsg and return err. The message is
 *  formatted like printf; NULL means herald_strerror(err). */
int herald__fail (int err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/*  Map the current zmq_errno() to a herald_err_t, recording the failure. */
int herald__zmq_fail (const char *what);

/*  Check a caller's topic. Returns HERALD_OK or HERALD_ERR_TOPIC. */
int herald__check_topic (const char *topic, size_t *len, int allow_reserved);

/*  Create a context and a socket of 'type' connected to 'endpoint' (NULL
 *  means the environment variable 'env', else 'fallback'), with the
 *  options every libherald socket shares. */
int herald__socket_open (int type, const char *endpoint, const char *env,
                         const char *fallback, void **ctx, void **sock);

/*  Close the socket and terminate its context. The context's termination
 *  waits for the socket's linger: this is where a publisher flushes. */
void herald__socket_close (void **ctx, void **sock);

/*  Set an integer ZeroMQ option, recording a failure. */
int herald__setsockopt_int (void *sock, int option, int value);

#endif
