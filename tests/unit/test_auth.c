/*  test_auth.c: the signature side of auth_verify (edge/auth/jws.c), on
 *  tokens PyJWT made with keys openssl made (auth_tokens.py): every
 *  algorithm with its key, the choice of key by kid, the algorithms and
 *  keys refused (none, wrong case, confusion, the wrong curve), tampered
 *  tokens, and malformed ones down to single base64url characters.
 *
 *  ./unit_auth FIXTURE_DIR [TEST]
 */
#include "auth_fixture.h"

static const auth_config_t s_config = {
    .issuer = "https://issuer.example",
    .audience = "herald",
    .leeway_ms = 30000,
    .topics_claim = "topics",
};

static void
test_every_algorithm (void)
{
    const char *algs[] = { "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                           "ES256", "ES384", "ES512", "HS256", "HS384", "HS512" };
    auth_keys_t *keys = fx_keys ("jwks.json", "hs.key", NULL);
    for (size_t i = 0; i < sizeof algs / sizeof *algs; i++) {
        const char *token = fx_token (algs[i]);
        auth_identity_t *id = NULL;
        auth_rc_t rc = auth_verify (keys, &s_config, token, strlen (token), fx_now_ms, &id);
        if (rc != AUTH_OK)
            fprintf (stderr, "  %s: %s\n", algs[i], auth_rc_label (rc));
        CHECK_RC (rc, AUTH_OK);
        CHECK_STR (auth_identity_sub (id), "alice");
        CHECK_INT (auth_identity_expires (id), fx_now_ms + 600000);
        auth_identity_destroy (&id);
        CHECK (id == NULL);
    }
    auth_keys_destroy (&keys);
    CHECK (keys == NULL);
    auth_keys_destroy (&keys);
}

static void
test_pem_keys (void)
{
    //  Keys from PEM files have no kid: they check any token whose alg
    //  fits, whatever kid it names.
    auth_keys_t *keys = fx_keys ("two.pub.pem", NULL);
    CHECK_INT (auth_keys_count (keys), 2);
    CHECK_RC (fx_verify (keys, &s_config, "pem_RS256", fx_now_ms), AUTH_OK);
    CHECK_RC (fx_verify (keys, &s_config, "pem_PS512", fx_now_ms), AUTH_OK);
    CHECK_RC (fx_verify (keys, &s_config, "pem_ES384", fx_now_ms), AUTH_OK);
    CHECK_RC (fx_verify (keys, &s_config, "RS256", fx_now_ms), AUTH_SIGNATURE);
    CHECK_RC (fx_verify (keys, &s_config, "ES256", fx_now_ms), AUTH_UNKNOWN_KEY);
    CHECK_RC (fx_verify (keys, &s_config, "HS256", fx_now_ms), AUTH_UNKNOWN_KEY);
    auth_keys_destroy (&keys);
}

static void
test_kid (void)
{
    auth_keys_t *keys = fx_keys ("jwks.json", NULL);
    CHECK_RC (fx_verify (keys, &s_config, "kid_unknown", fx_now_ms), AUTH_UNKNOWN_KEY);
    //  The kid of an EC key does not serve an RS256 token.
    CHECK_RC (fx_verify (keys, &s_config, "kid_of_ec", fx_now_ms), AUTH_UNKNOWN_KEY);
    //  A JWK's "alg" narrows what it verifies.
    CHECK_RC (fx_verify (keys, &s_config, "rs256_rs256only", fx_now_ms), AUTH_OK);
    CHECK_RC (fx_verify (keys, &s_config, "ps256_rs256only", fx_now_ms), AUTH_UNKNOWN_KEY);
    //  Keys for encryption were skipped when the JWKS was read.
    CHECK_RC (fx_verify (keys, &s_config, "enc_kid", fx_now_ms), AUTH_UNKNOWN_KEY);
    CHECK_RC (fx_verify (keys, &s_config, "ops_kid", fx_now_ms), AUTH_UNKNOWN_KEY);
    //  x with its leading zero byte dropped, as PyJWT writes it.
    CHECK_RC (fx_verify (keys, &s_config, "short_ES256", fx_now_ms), AUTH_OK);
    auth_keys_destroy (&keys);
    //  With a PEM key beside the JWKS, an unknown kid is tried on it.
    keys = fx_keys ("jwks.json", "rsa2.pub.pem", NULL);
    CHECK_RC (fx_verify (keys, &s_config, "kid_unknown", fx_now_ms), AUTH_SIGNATURE);
    CHECK_RC (fx_verify (keys, &s_config, "pem_PS512", fx_now_ms), AUTH_OK);
    auth_keys_destroy (&keys);
}

static void
test_algorithms_refused (void)
{
    auth_keys_t *keys = fx_keys ("jwks.json", "hs.key", "rsa2.pub.pem", NULL);
    CHECK_RC (fx_verify (keys, &s_config, "none", fx_now_ms), AUTH_ALGORITHM);
    CHECK_RC (fx_verify (keys, &s_config, "hs256_lower", fx_now_ms), AUTH_ALGORITHM);
    CHECK_RC (fx_verify (keys, &s_config, "alg_missing", fx_now_ms), AUTH_MALFORMED);
    CHECK_RC (fx_verify (keys, &s_config, "alg_number", fx_now_ms), AUTH_MALFORMED);
    //  No key set at all, or an empty one: nothing fits.
    CHECK_RC (fx_verify (NULL, &s_config, "HS256", fx_now_ms), AUTH_UNKNOWN_KEY);
    auth_keys_t *empty = auth_keys_new ();
    CHECK_RC (fx_verify (empty, &s_config, "RS256", fx_now_ms), AUTH_UNKNOWN_KEY);
    auth_keys_destroy (&empty);
    auth_keys_destroy (&keys);
}

static void
test_confusion (void)
{
    //  HS256 keyed with the bytes of a public key's PEM file. A public
    //  key is never an HMAC key: with no secret nothing fits, and with
    //  one the MAC is simply wrong.
    const char *sets[][3] = { { "rsa.pub.pem", NULL }, { "jwks.json", NULL },
                              { "rsa.pub.pem", "hs.key", NULL } };
    const auth_rc_t want[] = { AUTH_UNKNOWN_KEY, AUTH_UNKNOWN_KEY, AUTH_SIGNATURE };
    for (size_t i = 0; i < 3; i++) {
        auth_keys_t *keys = fx_keys (sets[i][0], sets[i][1], NULL);
        CHECK_RC (fx_verify (keys, &s_config, "confused", fx_now_ms), want[i]);
        auth_keys_destroy (&keys);
    }
    auth_keys_t *keys = fx_keys ("rsa2.pub.pem", "hs.key", NULL);
    CHECK_RC (fx_verify (keys, &s_config, "confused_pem2", fx_now_ms), AUTH_SIGNATURE);
    auth_keys_destroy (&keys);
}

static void
test_curve_pinned (void)
{
    //  An ES512 header signed by a P-256 key (with SHA-512).
    auth_keys_t *keys = fx_keys ("jwks.json", NULL);
    CHECK_RC (fx_verify (keys, &s_config, "es512_p256", fx_now_ms), AUTH_UNKNOWN_KEY);
    CHECK_RC (fx_verify (keys, &s_config, "es512_p256_nokid", fx_now_ms), AUTH_SIGNATURE);
    auth_keys_destroy (&keys);
    keys = fx_keys ("ec256.pub.pem", NULL);
    CHECK_RC (fx_verify (keys, &s_config, "es512_p256_nokid", fx_now_ms), AUTH_UNKNOWN_KEY);
    CHECK_RC (fx_verify (keys, &s_config, "ES256", fx_now_ms), AUTH_OK);
    auth_keys_destroy (&keys);
}

static void
test_tampered (void)
{
    const char *names[] = { "tampered_payload_RS256", "tampered_sig_RS256",
                            "tampered_payload_PS256", "tampered_sig_PS256",
                            "tampered_payload_ES256", "tampered_sig_ES256",
                            "tampered_payload_HS256", "tampered_sig_HS256" };
    auth_keys_t *keys = fx_keys ("jwks.json", "hs.key", NULL);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        CHECK_RC (fx_verify (keys, &s_config, names[i], fx_now_ms), AUTH_SIGNATURE);
    auth_keys_destroy (&keys);
}

//  auth_verify on text (len bytes).
static auth_rc_t
s_verify_text (const auth_keys_t *keys, const char *text, size_t len)
{
    auth_identity_t *id = NULL;
    auth_rc_t rc = auth_verify (keys, &s_config, text, len, fx_now_ms, &id);
    CHECK ((rc == AUTH_OK) == (id != NULL));
    auth_identity_destroy (&id);
    return rc;
}

static void
test_malformed (void)
{
    const char *names[] = { "dup_header", "crit", "kid_number", "header_array",
                            "dup_claim", "claims_array", "claims_not_json", "over_size" };
    auth_keys_t *keys = fx_keys ("hs.key", NULL);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        CHECK_RC (fx_verify (keys, &s_config, names[i], fx_now_ms), AUTH_MALFORMED);
    CHECK_RC (fx_verify (keys, &s_config, "max_size", fx_now_ms), AUTH_OK);
    const char *shapes[] = { "", ".", "..", "...", "a", "a.b", "a.b.c.d", "e30.e30.", "e30..AA" };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        CHECK_RC (s_verify_text (keys, shapes[i], strlen (shapes[i])), AUTH_MALFORMED);
    CHECK_RC (s_verify_text (keys, NULL, 0), AUTH_MISSING);
    //  A good token with one more byte is over the limit whatever it is.
    static char big[AUTH_MAX_TOKEN + 2];
    memset (big, 'A', sizeof big);
    CHECK_RC (s_verify_text (keys, big, AUTH_MAX_TOKEN + 1), AUTH_MALFORMED);
    auth_keys_destroy (&keys);
}

//  c, a base64url character, with the lowest of its six bits flipped.
static char
s_flip_low_bit (char c)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *at = strchr (alphabet, c);
    return at ? alphabet[(at - alphabet) ^ 1] : c;
}

//  Verifies HS256 with its signature edited by edit (a char* and len).
#define EDITED(edit)                                                      \
    do {                                                                  \
        strcpy (t, fx_token ("HS256"));                                   \
        size_t n = strlen (t);                                            \
        char *sig = strrchr (t, '.') + 1;                                 \
        (void) sig;                                                       \
        edit;                                                             \
        rc = s_verify_text (keys, t, n);                                  \
    } while (0)

static void
test_base64url (void)
{
    auth_keys_t *keys = fx_keys ("hs.key", NULL);
    char t[AUTH_MAX_TOKEN + 8];
    auth_rc_t rc;
    EDITED ((void) 0);
    CHECK_RC (rc, AUTH_OK);
    //  The HS256 signature is 43 characters: 32 bytes and 2 spare bits.
    EDITED (CHECK_INT (strlen (sig), 43));
    EDITED (t[n++] = '=');                      //  padding
    CHECK_RC (rc, AUTH_MALFORMED);
    EDITED (sig[3] = '+');                      //  base64, not base64url
    CHECK_RC (rc, AUTH_MALFORMED);
    EDITED (sig[3] = '/');
    CHECK_RC (rc, AUTH_MALFORMED);
    EDITED (t[2] = ' ');                        //  in the header
    CHECK_RC (rc, AUTH_MALFORMED);
    EDITED (sig[5] = '\0');                     //  a NUL inside the length
    CHECK_RC (rc, AUTH_MALFORMED);
    //  A spare bit set spells the same bytes another way: refused, while
    //  a changed data bit is only a wrong signature.
    EDITED (sig[42] = s_flip_low_bit (sig[42]));
    CHECK_RC (rc, AUTH_MALFORMED);
    EDITED (sig[41] = s_flip_low_bit (sig[41]));
    CHECK_RC (rc, AUTH_SIGNATURE);
    EDITED (n -= 2);                            //  41 characters: 1 mod 4
    CHECK_RC (rc, AUTH_MALFORMED);
    EDITED ((n -= 1, sig[41] = 'A'));           //  42: 31 bytes, spare bits 0
    CHECK_RC (rc, AUTH_SIGNATURE);
    auth_keys_destroy (&keys);
}

static void
test_labels (void)
{
    CHECK_STR (auth_rc_label (AUTH_OK), "ok");
    CHECK_STR (auth_rc_label (AUTH_EXPIRED), "expired");
    CHECK_STR (auth_rc_label (AUTH_UNKNOWN_KEY), "unknown_key");
    CHECK_STR (auth_rc_label (AUTH_INTERNAL), "internal");
    CHECK_STR (auth_rc_label (AUTH_RC_COUNT), "unknown");
    CHECK_STR (auth_rc_label ((auth_rc_t) -1), "unknown");
    for (int i = 0; i < AUTH_RC_COUNT; i++)
        for (int j = 0; j < i; j++)
            CHECK (strcmp (auth_rc_label ((auth_rc_t) i), auth_rc_label ((auth_rc_t) j)) != 0);
}

int
main (int argc, char **argv)
{
    if (fx_load (argc, argv) != 0)
        return 1;
    TEST_INIT (argc - 1, argv + 1);
    RUN (test_every_algorithm);
    RUN (test_pem_keys);
    RUN (test_kid);
    RUN (test_algorithms_refused);
    RUN (test_confusion);
    RUN (test_curve_pinned);
    RUN (test_tampered);
    RUN (test_malformed);
    RUN (test_base64url);
    RUN (test_labels);
    free (fx_manifest);
    return TEST_RESULT ();
}
