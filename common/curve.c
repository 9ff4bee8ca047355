/*  curve.c: reading and applying CURVE keys. See curve.h.
 *
 *  zcert_load is lenient: a file that is not a certificate, or one whose
 *  key text is cut short, loads as a certificate of zero bytes, or not at
 *  all, without saying which. So the keys it returns are checked here: a
 *  public key of all zeros is no key, and a secret key must give back its
 *  public key (zmq_curve_public derives it), which also catches a pair
 *  edited by hand.
 */
#include "curve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

int
curve_available (void)
{
    return zmq_has ("curve") ? 1 : 0;
}

static int
s_zero (const byte *key)
{
    for (int i = 0; i < 32; i++)
        if (key[i])
            return 0;
    return 1;
}

//  Whether text is 40 characters of Z85 that decode to a key.
static int
s_z85_key (const char *text)
{
    byte key[32];
    return strlen (text) == 40 && zmq_z85_decode (key, text) != NULL;
}

//  Loads a certificate with a reason for each way it can fail.
static zcert_t *
s_load (const char *path, char *err, size_t err_len)
{
    char secret[1024];
    snprintf (secret, sizeof secret, "%s_secret", path);
    if (access (path, R_OK) != 0 && access (secret, R_OK) != 0) {
        snprintf (err, err_len, "cannot read \"%s\": %s", path, strerror (errno));
        return NULL;
    }
    zcert_t *cert = zcert_load (path);
    if (!cert || s_zero (zcert_public_key (cert))) {
        snprintf (err, err_len, "\"%s\" is not a CURVE certificate (zcert format, as "
                  "`herald keygen` writes)", path);
        zcert_destroy (&cert);
    }
    return cert;
}

int
curve_public_key (const char *what, char key[CURVE_KEY_TEXT], char *err, size_t err_len)
{
    if (access (what, F_OK) != 0 && s_z85_key (what)) {
        snprintf (key, CURVE_KEY_TEXT, "%s", what);
        return 0;
    }
    zcert_t *cert = s_load (what, err, err_len);
    if (!cert)
        return -1;
    snprintf (key, CURVE_KEY_TEXT, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return 0;
}

zcert_t *
curve_secret_cert (const char *path, char *err, size_t err_len)
{
    zcert_t *cert = s_load (path, err, err_len);
    if (!cert)
        return NULL;
    char derived[CURVE_KEY_TEXT];
    if (s_zero (zcert_secret_key (cert))) {
        snprintf (err, err_len, "\"%s\" holds no secret key: give the secret certificate "
                  "(NAME_secret, as `herald keygen NAME` writes)", path);
        zcert_destroy (&cert);
    }
    else if (zmq_curve_public (derived, zcert_secret_txt (cert)) != 0
             || strcmp (derived, zcert_public_txt (cert)) != 0) {
        snprintf (err, err_len, "\"%s\": its secret key does not belong to its public key",
                  path);
        zcert_destroy (&cert);
    }
    return cert;
}

int
curve_apply (void *socket, const char *server_key, zcert_t *cert)
{
    int as_server = server_key == NULL;
    if (zmq_setsockopt (socket, ZMQ_CURVE_PUBLICKEY, zcert_public_key (cert), 32) != 0
        || zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, zcert_secret_key (cert), 32) != 0)
        return -1;
    if (as_server)
        return zmq_setsockopt (socket, ZMQ_CURVE_SERVER, &as_server, sizeof as_server);
    //  Setting the server's key makes the socket a client.
    return zmq_setsockopt (socket, ZMQ_CURVE_SERVERKEY, server_key, 40);
}

int
curve_clear (void *socket)
{
    //  ZMQ_CURVE_SERVER 0 also turns the mechanism back to NULL.
    int off = 0;
    return zmq_setsockopt (socket, ZMQ_CURVE_SERVER, &off, sizeof off);
}
