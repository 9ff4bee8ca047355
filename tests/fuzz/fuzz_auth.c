/*  fuzz_auth.c: libFuzzer harness for edge/auth. Each input is, in turn:
 *  - a token for auth_verify, against a fixed key set (an RSA and an EC
 *    public key and a secret, embedded below; the seeds in
 *    corpus/fuzz_auth are signed by their private halves);
 *  - when it has exactly one dot, "header.payload" that the harness
 *    signs with HS256 and the secret, so that mutated claims get past the
 *    signature and into the claims checks;
 *  - the contents of a --jwt-key and of a --jwt-secret file;
 *  - a --public-topics list and a topic;
 *  - an Authorization header, a Cookie header and a connection_init
 *    payload.
 *  Besides the sanitizers, it checks what auth.h promises: an identity
 *  with AUTH_OK and only then, counts that match, tokens that point
 *  inside what they were found in, and a plain pattern matching itself.
 */
#include "auth.h"

#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS 1700000000000LL

static const char s_rsa_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsxX5RpmW3gwqdNHNgJXr\n"
    "gfEYagDiMd6BxAaHKxC0KHzbfxR+Cz7a6xMPVfoFfkimUhzwL6y88SNTBTNZCPBU\n"
    "OLsYmDWiUTUiQjXv8vPCTbYLJyPNkWViHTtniixZ9GxeYaFMwuX33qzBOu08Xvmw\n"
    "orY36QZOcWd8IlYqY5JkI8Yq4eUIsKc6j8KLCbBY/3Kp4PWGueTT+5sccATbQYRP\n"
    "k2FCineU+my2muVMBnVVjLJkWuoZXhBlK0IDe4M0tUgJmDODXLR/7t1lL8F6rsE4\n"
    "nzNApgUQECG+/LKPep1eU7iEhXjSnD/B2yroZiyCdUkPaH6uNcWA1KuG1E9bjohf\n"
    "BwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char s_ec_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFlbZXKsY4L/MBlq6oKHwkdhZt8lj\n"
    "l9e71qyNAGBcD5uWheRrGC7TPk7AH5myCEW98N3gHgbxmE8a4ZaVmjNa7w==\n"
    "-----END PUBLIC KEY-----\n";
static const char s_secret[] = "fuzz-auth-secret-0123456789abcdef";

static const auth_config_t s_config = {
    .issuer = "https://issuer.example",
    .audience = "herald",
    .leeway_ms = 30000,
    .topics_claim = "topics",
};
static auth_keys_t *s_keys;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    char why[256] = "";
    (void) argc;
    (void) argv;
    s_keys = auth_keys_new ();
    if (!s_keys || auth_keys_add_public (s_keys, "rsa", s_rsa_pem, strlen (s_rsa_pem), why,
                                         sizeof why) != 1
        || auth_keys_add_public (s_keys, "ec", s_ec_pem, strlen (s_ec_pem), why, sizeof why) != 1
        || auth_keys_add_secret (s_keys, "secret", s_secret, strlen (s_secret), why,
                                 sizeof why) != 1) {
        fprintf (stderr, "fuzz_auth: the fixed keys do not load: %s\n", why);
        abort ();
    }
    return 0;
}

static void
s_verify (const char *token, size_t len)
{
    auth_identity_t *id = NULL;
    auth_rc_t rc = auth_verify (s_keys, &s_config, token, len, NOW_MS, &id);
    if ((unsigned) rc >= AUTH_RC_COUNT || (rc == AUTH_OK) != (id != NULL))
        abort ();
    if (!id)
        return;
    //  Not expired, leeway included.
    if (!json_is_object (auth_identity_claims (id)) || auth_identity_expires (id) <= NOW_MS - 30000)
        abort ();
    const char *sub = auth_identity_sub (id);
    if (sub)
        auth_identity_allows (id, sub, strlen (sub));
    auth_identity_allows (id, "news.today", 10);
    auth_identity_destroy (&id);
}

//  Signs "header.payload" (len bytes) with HS256 and verifies the token.
static void
s_verify_signed (const char *in, size_t len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789-_";
    static char token[AUTH_MAX_TOKEN + 64];
    unsigned char mac[32];
    unsigned mac_len = 0;
    const char *dot = memchr (in, '.', len);
    if (!dot || memchr (dot + 1, '.', len - (size_t) (dot + 1 - in)) || len > AUTH_MAX_TOKEN)
        return;
    if (!HMAC (EVP_sha256 (), s_secret, (int) strlen (s_secret), (const unsigned char *) in, len,
               mac, &mac_len))
        abort ();
    memcpy (token, in, len);
    size_t n = len;
    token[n++] = '.';
    unsigned acc = 0, bits = 0;
    for (unsigned i = 0; i < mac_len; i++) {
        acc = (acc << 8 | mac[i]) & 0xffff;
        for (bits += 8; bits >= 6; bits -= 6)
            token[n++] = alphabet[(acc >> (bits - 6)) & 63];
    }
    if (bits)
        token[n++] = alphabet[(acc << (6 - bits)) & 63];
    s_verify (token, n);
}

static void
s_keys_from (const char *data, size_t size)
{
    char why[256];
    auth_keys_t *keys = auth_keys_new ();
    int rc = auth_keys_add_public (keys, "input", data, size, why, sizeof why);
    if ((rc < 0 ? 0 : (size_t) rc) != auth_keys_count (keys) || rc == 0)
        abort ();
    rc = auth_keys_add_secret (keys, "input", data, size, why, sizeof why);
    if (rc != 1 && rc != -1)
        abort ();
    auth_keys_destroy (&keys);
}

static void
s_patterns (const char *data, size_t size)
{
    char *text = strndup (data, size);
    char why[256];
    if (!text)
        return;
    patterns_t *p = patterns_parse (text, why, sizeof why);
    size_t len = strlen (text);
    patterns_match (p, data, size);
    //  A single pattern with no wildcard matches itself.
    if (p && len && !strpbrk (text, ",*> \t") && !patterns_match (p, text, len))
        abort ();
    patterns_destroy (&p);
    free (text);
}

static int
s_inside (const char *p, size_t len, const char *data, size_t size)
{
    return !p || (p >= data && len <= size && (size_t) (p - data) <= size - len);
}

static void
s_tokens (const char *data, size_t size)
{
    size_t len = 0;
    const char *t = auth_token_from_header (data, size, &len);
    if (!s_inside (t, len, data, size))
        abort ();
    t = auth_token_from_cookie (data, size, "token", &len);
    if (!s_inside (t, len, data, size) || (t && !len))
        abort ();
    json_t *payload = json_loadb (data, size, 0, NULL);
    int bad = 0;
    t = auth_token_from_init (payload, &len, &bad);
    if ((t && bad) || (bad != 0 && bad != 1))
        abort ();
    if (t)
        s_verify (t, len);
    json_decref (payload);
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    const char *in = (const char *) data;
    s_verify (in, size);
    s_verify_signed (in, size);
    s_keys_from (in, size);
    s_patterns (in, size);
    s_tokens (in, size);
    return 0;
}
