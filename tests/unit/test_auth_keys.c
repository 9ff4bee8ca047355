/*  test_auth_keys.c: key sets from --jwt-key and --jwt-secret files
 *  (edge/auth/keys.c and jwks.c), on files openssl and PyJWT made: what
 *  is read, what is skipped, what is refused and what the refusal tells
 *  an operator, and that a refused file leaves the set as it was.
 *
 *  ./unit_auth_keys FIXTURE_DIR [TEST]
 */
#include "auth_fixture.h"

//  Adding file to a new set fails, and why names the file and holds text.
static void
s_refused (const char *file, const char *text)
{
    auth_keys_t *keys = auth_keys_new ();
    char why[512] = "";
    int rc = fx_add (keys, file, why, sizeof why);
    CHECK_INT (rc, -1);
    CHECK_INT (auth_keys_count (keys), 0);
    if (!strstr (why, text) || strncmp (why, file, strlen (file)) != 0) {
        fprintf (stderr, "  %s: why is \"%s\", expected it to hold \"%s\"\n", file, why, text);
        t_failures++;
    }
    auth_keys_destroy (&keys);
}

static void
test_counts (void)
{
    //  jwks.json has 8 keys, of which one is for encryption and one has
    //  key_ops without "verify": both skipped.
    const char *files[] = { "jwks.json", "two.pub.pem", "rsa.pub.pem", "ec521.pub.pem",
                            "hs.key" };
    const int counts[] = { 6, 2, 1, 1, 1 };
    auth_keys_t *keys = auth_keys_new ();
    char why[512];
    int total = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        CHECK_INT (fx_add (keys, files[i], why, sizeof why), counts[i]);
        total += counts[i];
    }
    CHECK_INT (auth_keys_count (keys), total);
    CHECK_INT (auth_keys_count (NULL), 0);
    //  A refused file adds nothing, even keys it had that were good.
    CHECK_INT (fx_add (keys, "jwks_private.json", why, sizeof why), -1);
    CHECK_INT (auth_keys_count (keys), total);
    auth_keys_destroy (&keys);
    CHECK (keys == NULL);
}

static void
test_pem_refused (void)
{
    s_refused ("rsa.pem", "is a private key");
    s_refused ("ec256.pem", "is a private key");
    s_refused ("ed25519.pem", "is a private key");
    s_refused ("rsa1024.pub.pem", "fewer than 2048 bits");
    s_refused ("k256.pub.pem", "curve other than P-256");
    s_refused ("ed25519.pub.pem", "not an RSA or EC key");
    s_refused ("rsa.pkcs1.pem", "PKCS#1");
    s_refused ("cert.pem", "certificate");
    s_refused ("manifest", "not a PEM public key or a JWKS document");
    //  A good block, then a cut one: the file is refused, naming the block.
    size_t len = 0;
    char *pem = fx_file ("rsa2.pub.pem", &len);
    REQUIRE (pem);
    char buf[4096];
    int n = snprintf (buf, sizeof buf, "%s-----BEGIN PUBLIC KEY-----\nMIIB\n", pem);
    auth_keys_t *keys = auth_keys_new ();
    char why[512] = "";
    CHECK_INT (auth_keys_add_public (keys, "cut.pem", buf, (size_t) n, why, sizeof why), -1);
    CHECK_STR (why, "cut.pem: PEM block 2 is not readable");
    CHECK_INT (auth_keys_count (keys), 0);
    auth_keys_destroy (&keys);
    free (pem);
}

static void
test_jwks_refused (void)
{
    s_refused ("jwks_private.json", "key 2 (kid \"p\"): has private parts");
    s_refused ("jwks_okp.json", "key 1: \"kty\" is not RSA or EC");
    s_refused ("jwks_badalg.json", "key 1 (kid \"rsa1\"): its \"alg\" does not fit the key");
    s_refused ("jwks_curvealg.json", "its \"alg\" does not fit the key");
    s_refused ("jwks_small.json", "key 1: an RSA key of fewer than 2048 bits");
    s_refused ("jwks_onlyenc.json", "no key in it is for verifying");
    s_refused ("jwks_dup.json", "not a JWKS document");
    s_refused ("jwks_nokeys.json", "needs a \"keys\" array");
    s_refused ("jwks_huge.json", "key 1: \"n\" or \"e\" is missing, not base64url or too long");
}

//  Adds text (len bytes) as a public key; returns the add's result.
static int
s_add_text (const char *text, size_t len, char *why, size_t why_len)
{
    auth_keys_t *keys = auth_keys_new ();
    int rc = auth_keys_add_public (keys, "inline", text, len, why, why_len);
    auth_keys_destroy (&keys);
    return rc;
}

static void
test_jwk_shapes (void)
{
    const char *docs[] = {
        "{\"keys\":[5]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":7,\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"use\":1}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"key_ops\":\"verify\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQA=\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"none\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AQAB\",\"y\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAB\",\"y\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
        "{\"keys\":[]}",
        "{\"keys\":{}}",
        "{",
        "   ",
    };
    char why[512];
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        why[0] = '\0';
        int rc = s_add_text (docs[i], strlen (docs[i]), why, sizeof why);
        if (rc != -1 || strncmp (why, "inline: ", 8) != 0)
            fprintf (stderr, "  %s: %d, \"%s\"\n", docs[i], rc, why);
        CHECK (rc == -1 && strncmp (why, "inline: ", 8) == 0);
    }
    CHECK_INT (s_add_text (NULL, 0, why, sizeof why), -1);
    CHECK_INT (s_add_text ("{}", 2, NULL, 0), -1);
    //  why is cut to its size, and still a string.
    char small[12];
    CHECK_INT (s_add_text ("{\"keys\":[]}", 11, small, sizeof small), -1);
    CHECK_INT (strlen (small), sizeof small - 1);
}

static void
test_secrets (void)
{
    s_refused ("hs_short.key", "31 bytes; HMAC needs at least 32");
    s_refused ("pem_as_secret.key", "looks like a PEM key");
    //  One trailing newline goes, \n or \r\n; a second one stays.
    size_t len = 0;
    char *secret = fx_file ("hs.key", &len);
    REQUIRE (secret && len == 41);
    char buf[64];
    char why[512];
    const char *tails[] = { "", "\n", "\r\n", "\n\n", "\r" };
    const auth_rc_t want[] = { AUTH_OK, AUTH_OK, AUTH_OK, AUTH_SIGNATURE, AUTH_SIGNATURE };
    for (size_t i = 0; i < sizeof tails / sizeof *tails; i++) {
        auth_keys_t *keys = auth_keys_new ();
        int n = snprintf (buf, sizeof buf, "%.40s%s", secret, tails[i]);
        CHECK_INT (auth_keys_add_secret (keys, "s", buf, (size_t) n, why, sizeof why), 1);
        CHECK_RC (fx_verify (keys, NULL, "HS256", fx_now_ms), want[i]);
        auth_keys_destroy (&keys);
    }
    //  32 bytes pass, 31 do not, however long the file with its newline.
    auth_keys_t *keys = auth_keys_new ();
    CHECK_INT (auth_keys_add_secret (keys, "s", secret, 32, why, sizeof why), 1);
    memcpy (buf, secret, 31);
    buf[31] = '\n';
    CHECK_INT (auth_keys_add_secret (keys, "s", buf, 32, why, sizeof why), -1);
    CHECK_INT (auth_keys_add_secret (keys, "s", NULL, 0, why, sizeof why), -1);
    CHECK_INT (auth_keys_count (keys), 1);
    auth_keys_destroy (&keys);
    free (secret);
}

int
main (int argc, char **argv)
{
    if (fx_load (argc, argv) != 0)
        return 1;
    TEST_INIT (argc - 1, argv + 1);
    RUN (test_counts);
    RUN (test_pem_refused);
    RUN (test_jwks_refused);
    RUN (test_jwk_shapes);
    RUN (test_secrets);
    free (fx_manifest);
    return TEST_RESULT ();
}
