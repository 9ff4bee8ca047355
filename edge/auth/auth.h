/*  auth.h: who a client is, and what it may subscribe to.
 *
 *  JSON Web Tokens (RFC 7519) signed with JWS (RFC 7515): a key set
 *  built from the bytes of --jwt-key and --jwt-secret files, the check
 *  of a token (its signature, its algorithm against the key, and its
 *  claims), the identity a good token gives, where a token is found in
 *  what a client sends, and topic patterns with NATS's rules.
 *
 *  Pure code: bytes in, no files, no clock (the caller passes now_ms).
 *  The signatures are OpenSSL's (EVP_DigestVerify, HMAC and
 *  CRYPTO_memcmp); this module parses, pins and checks around them.
 *
 *  Thread-safety: a key set is immutable once built and may be shared
 *  by readers; an identity is immutable. Nothing here has global state.
 */
#ifndef HERALD_AUTH_H
#define HERALD_AUTH_H

#include "patterns.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

//  The longest token looked at; a longer one is AUTH_MALFORMED.
#define AUTH_MAX_TOKEN 8192

//  Why a token was refused, as one list: XX (NAME, label) gives
//  AUTH_NAME, and the label is the reason in the edge's metrics
//  (herald_edge_auth_total{result}) and logs. Values only grow at the end.
#define AUTH_RC_MAP(XX)                                                       \
    XX (OK, "ok")                                                             \
    XX (MISSING, "missing")             /* no token where one is needed */    \
    XX (MALFORMED, "malformed")         /* not a compact JWS, bad JSON, ... */\
    XX (ALGORITHM, "algorithm")         /* alg not allowed ("none", ...) */   \
    XX (UNKNOWN_KEY, "unknown_key")     /* no key with its kid, or fits alg */\
    XX (SIGNATURE, "signature")         /* the signature does not verify */   \
    XX (EXPIRED, "expired")             /* exp passed (leeway included) */    \
    XX (NOT_YET_VALID, "not_yet_valid") /* nbf or iat in the future */        \
    XX (ISSUER, "issuer")               /* iss is not --jwt-issuer */         \
    XX (AUDIENCE, "audience")           /* aud does not hold --jwt-audience */\
    XX (CLAIMS, "claims")               /* a claim has the wrong type */      \
    XX (SUBJECT, "subject")             /* a refresh named another sub */     \
    XX (INTERNAL, "internal")           /* out of memory */

#define AUTH_RC_ENUM_ITEM(name, label) AUTH_##name,
typedef enum { AUTH_RC_MAP (AUTH_RC_ENUM_ITEM) AUTH_RC_COUNT } auth_rc_t;
#undef AUTH_RC_ENUM_ITEM

/*  The label of rc ("expired"), or "unknown". */
const char *auth_rc_label (auth_rc_t rc);

//  ---------------------------------------------------------------------
//  Key sets

typedef struct auth_keys auth_keys_t;

auth_keys_t *auth_keys_new (void);
void auth_keys_destroy (auth_keys_t **self_p);

/*  Adds the public keys in buf (len bytes; the contents of a --jwt-key
 *  file named name, for messages). Either PEM public keys (one or more
 *  SubjectPublicKeyInfo blocks: RSA of 2048 to 8192 bits, or EC on P-256,
 *  P-384 or P-521), which have no kid and may verify any token whose alg
 *  fits them; or a JWKS document ({"keys": [...]}, told apart by its
 *  first non-blank byte, '{'), whose RSA and EC keys are chosen by kid,
 *  honouring each key's "alg", "use" and "key_ops".
 *  - A JWKS key with "use" other than "sig", or "key_ops" without
 *    "verify", is skipped: providers publish such keys beside their
 *    signing keys. A document with no key left is refused.
 *  - A JWKS key with private parts, of another kty (oct, OKP), with an
 *    "alg" that is not in the table or does not fit it, is refused, and
 *    so is a PEM private key, certificate or PKCS#1 key (why[] says how
 *    to get the SubjectPublicKeyInfo with openssl).
 *  - EC "x" and "y" shorter than the curve's size are taken as missing
 *    their leading zero bytes, as some encoders (PyJWT 2.6) write them.
 *  Returns the number of keys added (1 or more), or -1 with why[] saying
 *  what is wrong, naming the file and the key ("jwks.json: key 2 (kid
 *  \"a\"): has private parts ..."); a refused file adds no key at all. */
int auth_keys_add_public (auth_keys_t *self, const char *name, const void *buf, size_t len,
                          char *why, size_t why_len);

/*  Adds an HMAC secret for HS256/384/512: the bytes of a --jwt-secret
 *  file, less one trailing newline (\n or \r\n). It must be at least 32
 *  bytes (RFC 7518 3.2), and must not hold "-----BEGIN " (a PEM key given
 *  as a secret would let anyone with the public key sign tokens). It has
 *  no kid. Returns 1, or -1 with why[]. */
int auth_keys_add_secret (auth_keys_t *self, const char *name, const void *buf, size_t len,
                          char *why, size_t why_len);

/*  Keys in the set. */
size_t auth_keys_count (const auth_keys_t *self);

//  ---------------------------------------------------------------------
//  Verifying a token

typedef struct {
    const char *issuer;         //  iss must equal it; NULL: not checked
    const char *audience;       //  aud (string or array) must hold it; NULL: not checked
    int64_t leeway_ms;          //  allowed clock skew for exp, nbf and iat
    //  The claim holding the topic patterns the client may subscribe to:
    //  a path of dot-separated keys into the claims ("topics", or
    //  "herald.topics"; each key under 256 bytes). Its value is an array
    //  of pattern strings (or one string, one pattern). NULL or absent
    //  from the token: no patterns.
    const char *topics_claim;
} auth_config_t;

/*  What a good token says. */
typedef struct auth_identity auth_identity_t;

/*  Checks a compact JWS token (len bytes, not NUL-terminated) at now_ms:
 *  - NULL is AUTH_MISSING; then its length (AUTH_MAX_TOKEN), three
 *    base64url parts (no padding, no other characters, zero spare bits;
 *    AUTH_MALFORMED otherwise);
 *  - the header: a JSON object with no duplicate keys, "alg" a string
 *    and one of HS256/384/512, RS256/384/512, PS256/384/512,
 *    ES256/384/512 (exact case; "none" and any other string is
 *    AUTH_ALGORITHM), "kid" a string if present, no "crit" (a missing
 *    alg, a kid of another type or a crit is AUTH_MALFORMED). Fields that
 *    point at keys (jku, jwk, x5u, x5c) are ignored;
 *  - a key that fits the alg: the keys with the token's kid and those
 *    without a kid (PEM keys, secrets), or every key if the token names
 *    none; HMAC algorithms only with secrets, RSA only with RSA keys, ES
 *    only with the matching curve, a JWK's "alg" only for that alg
 *    (AUTH_UNKNOWN_KEY if none fits; keys may be NULL);
 *  - the signature (AUTH_SIGNATURE if no fitting key verifies it);
 *  - then the claims: a JSON object with no duplicate keys; exp, nbf and
 *    iat, where present, numbers (AUTH_CLAIMS otherwise): exp <= now -
 *    leeway is AUTH_EXPIRED, nbf or iat > now + leeway AUTH_NOT_YET_VALID;
 *    iss a string and aud a string or an array of strings wherever
 *    present, and against the config (missing when asked for: AUTH_ISSUER,
 *    AUTH_AUDIENCE); sub, if present, a string; the topics claim, if
 *    present, a string or an array of strings that parse as patterns,
 *    under keys that are objects (AUTH_CLAIMS otherwise).
 *  config may be NULL: no issuer, audience, leeway or topics.
 *  On AUTH_OK, *identity is a new identity (free it with
 *  auth_identity_destroy); otherwise *identity is NULL. OpenSSL's error
 *  queue is left as it was found. */
auth_rc_t auth_verify (const auth_keys_t *keys, const auth_config_t *config, const char *token,
                       size_t len, int64_t now_ms, auth_identity_t **identity);

void auth_identity_destroy (auth_identity_t **self_p);

/*  The sub claim, or NULL if the token has none. */
const char *auth_identity_sub (const auth_identity_t *self);

/*  When the token expires (exp in ms, leeway not added), or INT64_MAX if
 *  it has no exp. */
int64_t auth_identity_expires (const auth_identity_t *self);

/*  The token's claims: a JSON object, owned by the identity. */
const json_t *auth_identity_claims (const auth_identity_t *self);

/*  1 if the topics claim allows topic (len bytes), else 0. */
int auth_identity_allows (const auth_identity_t *self, const char *topic, size_t len);

//  ---------------------------------------------------------------------
//  Where a token comes from

/*  From a connection_init payload (an object, or NULL): the string
 *  "token", else "authToken", else "Authorization" or "authorization"
 *  holding "Bearer <token>" (the scheme without regard to case). Returns
 *  the token (pointing into payload) with *len, or NULL if there is
 *  none. The first of those fields present decides: if it is not a
 *  string (null included), or an Authorization value is not a Bearer
 *  one, returns NULL and sets *bad to 1. An empty "token" string is
 *  returned as it is (len 0), which auth_verify finds malformed. */
const char *auth_token_from_init (const json_t *payload, size_t *len, int *bad);

/*  From an Authorization header value (len bytes): the token of
 *  "Bearer <token>", or NULL. The scheme is compared without case, blanks
 *  around the value and between scheme and token are allowed, and the
 *  token must be one word. */
const char *auth_token_from_header (const char *value, size_t value_len, size_t *len);

/*  From a Cookie header value (len bytes): the value of the first cookie
 *  called name (compared exactly: "xtoken" is not "token"), with its
 *  double quotes removed, or NULL if there is none or it is empty. */
const char *auth_token_from_cookie (const char *value, size_t value_len, const char *name,
                                    size_t *len);

#endif
