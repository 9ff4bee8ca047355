/*  jwks.c: the keys of a JWKS document (RFC 7517), as an identity
 *  provider publishes them, made into OpenSSL keys with EVP_PKEY_fromdata.
 *
 *  A key meant for something other than verifying ("use": "enc", or
 *  "key_ops" without "verify") is skipped, not refused: providers list
 *  such keys beside their signing keys, and the file is still good. A
 *  key with private parts, of a kty we do not verify with, or that is
 *  otherwise wrong, makes the whole document refused, since it means the
 *  file is not what the operator thinks it is.
 */
#include "auth_internal.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

//  A JWK member's big-endian bytes (base64url), in a new buffer.
static unsigned char *
s_member (const json_t *jwk, const char *member, size_t *len)
{
    const json_t *v = json_object_get (jwk, member);
    size_t n = json_string_length (v);
    unsigned char *buf = json_is_string (v) && n ? malloc (AUTH_B64_MAX (n)) : NULL;
    long got = buf ? auth_b64url_decode (json_string_value (v), n, buf) : -1;
    if (got <= 0) {
        free (buf);
        return NULL;
    }
    *len = (size_t) got;
    return buf;
}

//  The RSA parameters n and e; NULL on failure.
static const char *
s_rsa_params (const json_t *jwk, OSSL_PARAM_BLD *bld, BIGNUM **n, BIGNUM **e)
{
    size_t n_len = 0, e_len = 0;
    unsigned char *n_buf = s_member (jwk, "n", &n_len), *e_buf = s_member (jwk, "e", &e_len);
    const char *reason = "\"n\" or \"e\" is missing, not base64url or too long";
    //  8192 bits is the most keys.c takes; refuse larger before the work.
    if (n_buf && e_buf && n_len <= 1024 && e_len <= 1024) {
        *n = BN_bin2bn (n_buf, (int) n_len, NULL);
        *e = BN_bin2bn (e_buf, (int) e_len, NULL);
        reason = *n && *e && OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_N, *n)
                         && OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_E, *e)
                     ? NULL
                     : "out of memory";
    }
    free (n_buf);
    free (e_buf);
    return reason;
}

//  The EC parameters: the curve and the point 04 || x || y, where x and
//  y are padded to the field's size. RFC 7518 6.2.1.2 wants them full
//  length, but some encoders drop leading zero bytes (PyJWT 2.6 does).
static const char *
s_ec_params (const json_t *jwk, OSSL_PARAM_BLD *bld, unsigned char *point, size_t *point_len)
{
    const char *crv = json_string_value (json_object_get (jwk, "crv"));
    const auth_alg_t *alg = !crv                         ? NULL
                            : strcmp (crv, "P-256") == 0 ? auth_alg_find ("ES256")
                            : strcmp (crv, "P-384") == 0 ? auth_alg_find ("ES384")
                            : strcmp (crv, "P-521") == 0 ? auth_alg_find ("ES512")
                                                         : NULL;
    if (!alg)
        return "\"crv\" is not P-256, P-384 or P-521";
    size_t want = alg->ec_len, x_len = 0, y_len = 0;
    unsigned char *x = s_member (jwk, "x", &x_len), *y = s_member (jwk, "y", &y_len);
    const char *reason = "\"x\" or \"y\" is missing, not base64url or too long";
    if (x && y && x_len <= want && y_len <= want) {
        memset (point, 0, 1 + 2 * want);
        point[0] = 0x04;
        memcpy (point + 1 + want - x_len, x, x_len);
        memcpy (point + 1 + 2 * want - y_len, y, y_len);
        *point_len = 1 + 2 * want;
        reason = OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME, crv, 0)
                         && OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY,
                                                              point, *point_len)
                     ? NULL
                     : "out of memory";
    }
    free (x);
    free (y);
    return reason;
}

//  A public RSA or EC key from jwk into key->pkey; NULL, or the reason.
static const char *
s_jwk_pkey (const json_t *jwk, const char *kty, auth_key_t *key)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new ();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = NULL, *e = NULL;
    unsigned char point[1 + 2 * 66];
    size_t point_len = 0;
    const char *reason = "out of memory";
    if (!bld)
        goto out;
    reason = strcmp (kty, "RSA") == 0 ? s_rsa_params (jwk, bld, &n, &e)
                                      : s_ec_params (jwk, bld, point, &point_len);
    if (reason)
        goto out;
    reason = "OpenSSL cannot make a key of it";
    ctx = EVP_PKEY_CTX_new_from_name (NULL, kty, NULL);
    if (!ctx || !(params = OSSL_PARAM_BLD_to_param (bld)) || EVP_PKEY_fromdata_init (ctx) != 1
        || EVP_PKEY_fromdata (ctx, &key->pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    if (auth_key_classify (key, &reason) == 0)
        reason = NULL;
out:
    OSSL_PARAM_free (params);
    OSSL_PARAM_BLD_free (bld);
    EVP_PKEY_CTX_free (ctx);
    BN_free (n);
    BN_free (e);
    return reason;
}

//  1 if jwk is for verifying, 0 if for something else, -1 if its "use"
//  or "key_ops" are of the wrong type.
static int
s_for_verifying (const json_t *jwk)
{
    const json_t *use = json_object_get (jwk, "use"), *ops = json_object_get (jwk, "key_ops");
    if ((use && !json_is_string (use)) || (ops && !json_is_array (ops)))
        return -1;
    int verify = !ops;
    size_t i;
    const json_t *op;
    json_array_foreach (ops, i, op) {
        if (!json_is_string (op))
            return -1;
        verify |= strcmp (json_string_value (op), "verify") == 0;
    }
    return verify && (!use || strcmp (json_string_value (use), "sig") == 0);
}

//  Why jwk cannot be read, before its key is made; NULL if it can.
static const char *
s_jwk_shape (const json_t *jwk, const char *kty)
{
    static const char *private_parts[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };
    const json_t *kid = json_object_get (jwk, "kid"), *alg = json_object_get (jwk, "alg");
    if (!json_is_object (jwk))
        return "not an object";
    for (size_t i = 0; i < sizeof private_parts / sizeof *private_parts; i++)
        if (json_object_get (jwk, private_parts[i]))
            return "has private parts: publish only the public key";
    if ((kid && !json_is_string (kid)) || (alg && !json_is_string (alg))
        || s_for_verifying (jwk) < 0)
        return "\"kid\", \"alg\", \"use\" or \"key_ops\" of the wrong type";
    if (!kty || (strcmp (kty, "RSA") != 0 && strcmp (kty, "EC") != 0))
        return "\"kty\" is not RSA or EC (HMAC secrets go in --jwt-secret files)";
    return NULL;
}

//  One JWK: 1 if added, 0 if skipped, -1 with why.
static int
s_jwk_add (auth_keys_t *self, const char *name, size_t index, const json_t *jwk, char *why,
           size_t why_len)
{
    const char *kty = json_string_value (json_object_get (jwk, "kty"));
    const char *kid = json_string_value (json_object_get (jwk, "kid"));
    const char *alg = json_string_value (json_object_get (jwk, "alg"));
    const char *reason = s_jwk_shape (jwk, kty);
    auth_key_t key = { 0 };
    if (!reason && !s_for_verifying (jwk))
        return 0;
    if (!reason && alg && !(key.alg = auth_alg_find (alg)))
        reason = "its \"alg\" is not a JWS algorithm we verify";
    if (!reason)
        reason = s_jwk_pkey (jwk, kty, &key);
    if (!reason && key.alg
        && (key.alg->kind != key.kind
            || (key.kind == AUTH_KIND_EC && strcmp (key.alg->curve, key.curve) != 0)))
        reason = "its \"alg\" does not fit the key";
    if (!reason && kid && !(key.kid = strdup (kid)))
        reason = "out of memory";
    if (!reason && auth_keys_push (self, &key) == 0)
        return 1;
    if (!reason)
        return auth_why (why, why_len, name, "out of memory");
    EVP_PKEY_free (key.pkey);
    free (key.kid);
    return auth_why (why, why_len, name, "key %zu%s%s%s: %s", index, kid ? " (kid \"" : "",
                     kid ? kid : "", kid ? "\")" : "", reason);
}

int
auth_jwks_add (auth_keys_t *self, const char *name, const void *buf, size_t len, char *why,
               size_t why_len)
{
    json_error_t error;
    json_t *doc = json_loadb (buf, len, JSON_REJECT_DUPLICATES, &error);
    const json_t *keys = json_object_get (doc, "keys"), *jwk;
    int added = 0, rc;
    size_t i;
    if (!doc) {
        rc = auth_why (why, why_len, name, "not a JWKS document: line %d: %s", error.line,
                       error.text);
        goto out;
    }
    rc = auth_why (why, why_len, name, "a JWKS document needs a \"keys\" array");
    if (!json_is_array (keys))
        goto out;
    json_array_foreach (keys, i, jwk) {
        if ((rc = s_jwk_add (self, name, i + 1, jwk, why, why_len)) < 0)
            goto out;
        added += rc;
    }
    rc = added ? added : auth_why (why, why_len, name, "no key in it is for verifying signatures");
out:
    json_decref (doc);
    return rc;
}
