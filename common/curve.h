/*  curve.h: reading CURVE keys for the broker, libherald and the herald
 *  command line, so that all three take the same files and say the same
 *  things about a bad one.
 *
 *  The files are CZMQ's certificates (zcert_save's format, as `herald
 *  keygen` writes them): NAME holds a public key, NAME_secret the pair.
 *  CZMQ reads them and libzmq does the cryptography; this module only
 *  checks what it is given before a socket is configured with it, since a
 *  mistake found at the handshake would show as a peer that never answers.
 */
#ifndef HERALD_CURVE_H
#define HERALD_CURVE_H

#include <czmq.h>
#include <stddef.h>

//  A key in Z85 text, and its NUL.
#define CURVE_KEY_TEXT 41

/*  1 if this libzmq was built with CURVE, else 0. */
int curve_available (void);

/*  The public key that 'what' names: a certificate file (public or
 *  secret), or, when no file of that name exists, the key itself as 40
 *  characters of Z85. Writes it to key as Z85 text. Returns 0, or -1 with
 *  a sentence in err ("cannot read ...: No such file or directory"). */
int curve_public_key (const char *what, char key[CURVE_KEY_TEXT], char *err, size_t err_len);

/*  The key pair in the secret certificate at path (zcert_load also finds
 *  PATH_secret when given PATH). Checks that there is a secret key and that
 *  it belongs to the public one. Returns the certificate, which the caller
 *  destroys, or NULL with a sentence in err. */
zcert_t *curve_secret_cert (const char *path, char *err, size_t err_len);

/*  Make a socket a CURVE client of the server whose public key is
 *  server_key (Z85 text), with cert's key pair; or, with server_key NULL,
 *  a CURVE server with cert's pair. Applies to the binds and connects that
 *  follow. Returns 0, or -1 with zmq_errno() set. */
int curve_apply (void *socket, const char *server_key, zcert_t *cert);

/*  Make a socket plaintext again, for the connects that follow. Returns 0
 *  or -1. */
int curve_clear (void *socket);

#endif
