/*  auth_internal.h: what the files of edge/auth share and nothing else
 *  sees: a key as the set holds it, the table of algorithms, the strict
 *  base64url decoder, and the steps of auth_verify that live in their
 *  own files (the claims, the topic patterns).
 */
#ifndef HERALD_AUTH_INTERNAL_H
#define HERALD_AUTH_INTERNAL_H

#include "auth.h"

#include <openssl/evp.h>

typedef enum { AUTH_KIND_HMAC, AUTH_KIND_RSA, AUTH_KIND_EC } auth_kind_t;

//  One allowed JWS algorithm (RFC 7518 3.1) and what it may be used with.
typedef struct {
    const char *name;           //  "RS256", compared exactly
    auth_kind_t kind;
    const char *digest;         //  OpenSSL's name: "SHA256"
    int pss;                    //  RSASSA-PSS, salt as long as the digest
    const char *curve;          //  ES: the JWA name of the curve ("P-256")
    size_t ec_len;              //  ES: bytes of r and of s
} auth_alg_t;

//  The algorithm called name (exact case), or NULL: "none" is not one.
const auth_alg_t *auth_alg_find (const char *name);

typedef struct {
    char *kid;                  //  NULL: a PEM key or a secret
    auth_kind_t kind;
    EVP_PKEY *pkey;             //  RSA and EC keys
    unsigned char *secret;      //  HMAC keys
    size_t secret_len;
    const auth_alg_t *alg;      //  a JWK's "alg": only this one; else NULL
    const char *curve;          //  EC: the JWA name of the key's curve
} auth_key_t;

struct auth_keys {
    auth_key_t *items;
    size_t count, cap;
};

/*  Appends key (taking what it owns, even on failure). Returns 0, or -1
 *  if memory ran out. */
int auth_keys_push (auth_keys_t *self, auth_key_t *key);

/*  Drops the keys after the first count (undoing a failed add). */
void auth_keys_truncate (auth_keys_t *self, size_t count);

/*  Checks an RSA or EC public key against what we accept (RSA of 2048
 *  bits or more, EC on P-256/384/521) and fills key's kind and curve.
 *  Returns 0, or -1 with a short reason in *reason. */
int auth_key_classify (auth_key_t *key, const char **reason);

/*  Adds the keys of a JWKS document (keys.c has found a '{'). */
int auth_jwks_add (auth_keys_t *self, const char *name, const void *buf, size_t len, char *why,
                   size_t why_len);

//  The most bytes len base64url characters can decode to.
#define AUTH_B64_MAX(len) ((len) / 4 * 3 + 2)

/*  Decodes base64url strictly (RFC 7515 2: no padding, no white space, a
 *  length that is not 1 mod 4, zero trailing bits) into out, which holds
 *  AUTH_B64_MAX (len) bytes. Returns the length, or -1. */
long auth_b64url_decode (const char *in, size_t len, unsigned char *out);

/*  The JSON object that base64url text in (len bytes) encodes, with no
 *  duplicate keys, or NULL. buf holds AUTH_B64_MAX (len) bytes. */
json_t *auth_b64url_object (const char *in, size_t len, unsigned char *buf);

/*  The claims step of auth_verify, once the signature is good: takes
 *  claims (a reference) and, on AUTH_OK, makes *identity. */
auth_rc_t auth_claims_check (json_t *claims, const auth_config_t *config, int64_t now_ms,
                             auth_identity_t **identity);

/*  Writes "name: " and the formatted text into why (why_len bytes; NULL
 *  or 0: nothing). Always returns -1, for `return s_why (...)`. */
int auth_why (char *why, size_t why_len, const char *name, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

#endif
