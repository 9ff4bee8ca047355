/*  jws.c: the check of a compact JWS (RFC 7515): the token's three parts,
 *  strict base64url, the header, the table of allowed algorithms, the
 *  choice of key, and the signature, which is OpenSSL's to verify. The
 *  claims are read only once the signature holds (claims.c).
 *
 *  The algorithm is pinned by the table, not taken on trust: each name
 *  is tied to a kind of key (and ES to a curve), so a public key's bytes
 *  are never an HMAC secret and "none" is not a name at all. Header
 *  fields that point at keys (jku, jwk, x5u, x5c) are ignored: only the
 *  operator's keys are used.
 */
#include "auth_internal.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <string.h>

static const auth_alg_t s_algs[] = {
    { "HS256", AUTH_KIND_HMAC, "SHA256" },
    { "HS384", AUTH_KIND_HMAC, "SHA384" },
    { "HS512", AUTH_KIND_HMAC, "SHA512" },
    { "RS256", AUTH_KIND_RSA, "SHA256" },
    { "RS384", AUTH_KIND_RSA, "SHA384" },
    { "RS512", AUTH_KIND_RSA, "SHA512" },
    { "PS256", AUTH_KIND_RSA, "SHA256", 1 },
    { "PS384", AUTH_KIND_RSA, "SHA384", 1 },
    { "PS512", AUTH_KIND_RSA, "SHA512", 1 },
    { "ES256", AUTH_KIND_EC, "SHA256", 0, "P-256", 32 },
    { "ES384", AUTH_KIND_EC, "SHA384", 0, "P-384", 48 },
    { "ES512", AUTH_KIND_EC, "SHA512", 0, "P-521", 66 },
};

#define AUTH_RC_LABEL_ITEM(name, label) label,
static const char *s_labels[] = { AUTH_RC_MAP (AUTH_RC_LABEL_ITEM) };
#undef AUTH_RC_LABEL_ITEM

const char *
auth_rc_label (auth_rc_t rc)
{
    return (unsigned) rc < AUTH_RC_COUNT ? s_labels[rc] : "unknown";
}

const auth_alg_t *
auth_alg_find (const char *name)
{
    for (size_t i = 0; name && i < sizeof s_algs / sizeof *s_algs; i++)
        if (strcmp (name, s_algs[i].name) == 0)
            return &s_algs[i];
    return NULL;
}

long
auth_b64url_decode (const char *in, size_t len, unsigned char *out)
{
    //  A length of 1 mod 4 leaves 6 bits, less than a byte: never valid.
    if (len % 4 == 1)
        return -1;
    unsigned acc = 0, bits = 0;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) in[i];
        int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                : c >= 'a' && c <= 'z' ? c - 'a' + 26
                : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '-'             ? 62
                : c == '_'             ? 63
                                       : -1;
        if (v < 0)
            return -1;
        acc = (acc << 6 | (unsigned) v) & 0xfff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char) (acc >> bits);
        }
    }
    //  The unused low bits of the last character must be zero, so that
    //  each value has one spelling only.
    if (bits && (acc & ((1u << bits) - 1)))
        return -1;
    return n;
}

json_t *
auth_b64url_object (const char *in, size_t len, unsigned char *buf)
{
    long n = auth_b64url_decode (in, len, buf);
    if (n < 0)
        return NULL;
    json_t *js = json_loadb ((const char *) buf, (size_t) n, JSON_REJECT_DUPLICATES, NULL);
    if (js && !json_is_object (js)) {
        json_decref (js);
        js = NULL;
    }
    return js;
}

//  A JWS ECDSA signature is r || s of fixed size; OpenSSL wants the DER
//  ECDSA-Sig-Value. Returns its length with *der (OPENSSL_free), or -1.
static int
s_ecdsa_der (const unsigned char *sig, size_t n, unsigned char **der)
{
    ECDSA_SIG *es = ECDSA_SIG_new ();
    BIGNUM *r = BN_bin2bn (sig, (int) n, NULL);
    BIGNUM *s = BN_bin2bn (sig + n, (int) n, NULL);
    int len = -1;
    if (!es || !r || !s || ECDSA_SIG_set0 (es, r, s) != 1) {
        BN_free (r);
        BN_free (s);
        goto out;
    }
    len = i2d_ECDSA_SIG (es, der);
out:
    ECDSA_SIG_free (es);
    return len > 0 ? len : -1;
}

//  1 if sig is key's signature of in by alg, else 0.
static int
s_signature_ok (const auth_key_t *key, const auth_alg_t *alg, const char *in, size_t in_len,
                const unsigned char *sig, size_t sig_len)
{
    if (alg->kind == AUTH_KIND_HMAC) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        if (!HMAC (EVP_get_digestbyname (alg->digest), key->secret, (int) key->secret_len,
                   (const unsigned char *) in, in_len, mac, &mac_len))
            return 0;
        return mac_len == sig_len && CRYPTO_memcmp (mac, sig, sig_len) == 0;
    }
    unsigned char *der = NULL;
    int ok = 0;
    if (alg->kind == AUTH_KIND_EC) {
        if (sig_len != 2 * alg->ec_len)
            return 0;
        int der_len = s_ecdsa_der (sig, alg->ec_len, &der);
        if (der_len < 0)
            return 0;
        sig = der;
        sig_len = (size_t) der_len;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new ();
    EVP_PKEY_CTX *pctx = NULL;
    if (!md || EVP_DigestVerifyInit_ex (md, &pctx, alg->digest, NULL, NULL, key->pkey, NULL) != 1)
        goto out;
    //  RFC 7518 3.5: MGF1 with the same digest (OpenSSL's default once the
    //  digest is set) and a salt as long as the digest.
    if (alg->pss
        && (EVP_PKEY_CTX_set_rsa_padding (pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen (pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
        goto out;
    ok = EVP_DigestVerify (md, sig, sig_len, (const unsigned char *) in, in_len) == 1;
out:
    EVP_MD_CTX_free (md);
    OPENSSL_free (der);
    return ok;
}

//  Whether key may check a token of alg that names kid (or none).
static int
s_key_fits (const auth_key_t *key, const auth_alg_t *alg, const char *kid)
{
    //  A key without a kid (a PEM file, a secret) is the operator's word
    //  for any token; a token's kid only narrows the keys that have one.
    if (kid && key->kid && strcmp (kid, key->kid) != 0)
        return 0;
    if (key->kind != alg->kind || (key->alg && key->alg != alg))
        return 0;
    return alg->kind != AUTH_KIND_EC || strcmp (key->curve, alg->curve) == 0;
}

//  Tries each key that fits. AUTH_OK, AUTH_UNKNOWN_KEY or AUTH_SIGNATURE.
static auth_rc_t
s_check_signature (const auth_keys_t *keys, const auth_alg_t *alg, const char *kid,
                   const char *in, size_t in_len, const unsigned char *sig, size_t sig_len)
{
    auth_rc_t rc = AUTH_UNKNOWN_KEY;
    for (size_t i = 0; keys && i < keys->count; i++) {
        if (!s_key_fits (&keys->items[i], alg, kid))
            continue;
        if (s_signature_ok (&keys->items[i], alg, in, in_len, sig, sig_len))
            return AUTH_OK;
        rc = AUTH_SIGNATURE;
    }
    return rc;
}

//  The header's algorithm and kid (which point into header).
static auth_rc_t
s_read_header (const json_t *header, const auth_alg_t **alg, const char **kid)
{
    const json_t *name = json_object_get (header, "alg");
    const json_t *kid_js = json_object_get (header, "kid");
    //  No extension is understood, so any "crit" makes the token one we
    //  must not accept (RFC 7515 4.1.11); that includes "b64": false.
    if (!json_is_string (name) || (kid_js && !json_is_string (kid_js))
        || json_object_get (header, "crit"))
        return AUTH_MALFORMED;
    *alg = auth_alg_find (json_string_value (name));
    *kid = json_string_value (kid_js);
    return *alg ? AUTH_OK : AUTH_ALGORITHM;
}

auth_rc_t
auth_verify (const auth_keys_t *keys, const auth_config_t *config, const char *token, size_t len,
             int64_t now_ms, auth_identity_t **identity)
{
    unsigned char buf[AUTH_B64_MAX (AUTH_MAX_TOKEN)];
    json_t *header = NULL, *claims = NULL;
    *identity = NULL;
    if (!token)
        return AUTH_MISSING;
    const char *dot1 = len <= AUTH_MAX_TOKEN ? memchr (token, '.', len) : NULL;
    const char *dot2 = dot1 ? memchr (dot1 + 1, '.', len - (size_t) (dot1 + 1 - token)) : NULL;
    const char *sig_b64 = dot2 ? dot2 + 1 : NULL;
    size_t sig_b64_len = dot2 ? len - (size_t) (sig_b64 - token) : 0;
    if (!dot2 || memchr (sig_b64, '.', sig_b64_len))
        return AUTH_MALFORMED;
    //  A failed check leaves reasons on OpenSSL's per-thread error queue,
    //  which the TLS code of the same thread would then read as its own.
    ERR_set_mark ();
    const auth_alg_t *alg = NULL;
    const char *kid = NULL;
    auth_rc_t rc = AUTH_MALFORMED;
    if (!(header = auth_b64url_object (token, (size_t) (dot1 - token), buf)))
        goto out;
    if ((rc = s_read_header (header, &alg, &kid)) != AUTH_OK)
        goto out;
    long sig_len = auth_b64url_decode (sig_b64, sig_b64_len, buf);
    if (sig_len <= 0) {
        rc = AUTH_MALFORMED;
        goto out;
    }
    rc = s_check_signature (keys, alg, kid, token, (size_t) (dot2 - token), buf, (size_t) sig_len);
    if (rc != AUTH_OK)
        goto out;
    if (!(claims = auth_b64url_object (dot1 + 1, (size_t) (dot2 - dot1 - 1), buf))) {
        rc = AUTH_MALFORMED;
        goto out;
    }
    rc = auth_claims_check (claims, config, now_ms, identity);
out:
    json_decref (header);
    ERR_pop_to_mark ();
    return rc;
}
