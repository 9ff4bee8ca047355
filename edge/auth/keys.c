/*  keys.c: the key set, built from the bytes of --jwt-key and
 *  --jwt-secret files: PEM public keys here, JWKS documents in jwks.c,
 *  HMAC secrets here. Every refusal says which file, which key and what
 *  to do, because an operator reads it at start-up or on a reload.
 *
 *  A failed add leaves the set as it was, so a caller can build a new
 *  set and keep the old one if any file is wrong.
 */
#include "auth_internal.h"

#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  RFC 7518 3.2: an HMAC key at least as long as the hash; 32 bytes is
//  what HS256 needs, and we ask it of every secret.
#define AUTH_SECRET_MIN 32
#define AUTH_RSA_MIN_BITS 2048
//  Larger keys are unheard of for tokens, and each check of one (at load
//  and for every token) costs the cube of its size.
#define AUTH_RSA_MAX_BITS 8192

//  OpenSSL's names of the curves JWS uses, and the JWA names.
static const struct {
    const char *openssl, *jwa;
} s_curves[] = {
    { "prime256v1", "P-256" },
    { "secp384r1", "P-384" },
    { "secp521r1", "P-521" },
};

auth_keys_t *
auth_keys_new (void)
{
    return calloc (1, sizeof (auth_keys_t));
}

void
auth_keys_destroy (auth_keys_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    auth_keys_t *self = *self_p;
    auth_keys_truncate (self, 0);
    free (self->items);
    free (self);
    *self_p = NULL;
}

size_t
auth_keys_count (const auth_keys_t *self)
{
    return self ? self->count : 0;
}

static void
s_key_free (auth_key_t *key)
{
    free (key->kid);
    EVP_PKEY_free (key->pkey);
    if (key->secret)
        OPENSSL_cleanse (key->secret, key->secret_len);
    free (key->secret);
    memset (key, 0, sizeof *key);
}

int
auth_keys_push (auth_keys_t *self, auth_key_t *key)
{
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 4;
        auth_key_t *items = cap < SIZE_MAX / sizeof *items
                                ? realloc (self->items, cap * sizeof *items)
                                : NULL;
        if (!items) {
            s_key_free (key);
            return -1;
        }
        self->items = items;
        self->cap = cap;
    }
    self->items[self->count++] = *key;
    memset (key, 0, sizeof *key);
    return 0;
}

void
auth_keys_truncate (auth_keys_t *self, size_t count)
{
    while (self->count > count)
        s_key_free (&self->items[--self->count]);
}

int
auth_key_classify (auth_key_t *key, const char **reason)
{
    int bits = EVP_PKEY_get_bits (key->pkey);
    int rsa = EVP_PKEY_get_base_id (key->pkey) == EVP_PKEY_RSA;
    *reason = rsa && bits < AUTH_RSA_MIN_BITS ? "an RSA key of fewer than 2048 bits"
              : rsa && bits > AUTH_RSA_MAX_BITS ? "an RSA key of more than 8192 bits"
                                                : NULL;
    if (*reason)
        return -1;
    //  The size is checked first, since the check of a large RSA key is
    //  slow.
    EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey (NULL, key->pkey, NULL);
    int ok = check && EVP_PKEY_public_check (check) == 1;
    EVP_PKEY_CTX_free (check);
    *reason = "the public key does not pass OpenSSL's check";
    if (!ok)
        return -1;
    if (rsa) {
        key->kind = AUTH_KIND_RSA;
        return 0;
    }
    char group[64];
    size_t group_len = 0;
    *reason = "not an RSA or EC key (RSA-PSS-only, EdDSA and others are not supported)";
    if (EVP_PKEY_get_base_id (key->pkey) != EVP_PKEY_EC)
        return -1;
    *reason = "an EC key on a curve other than P-256, P-384 or P-521";
    if (EVP_PKEY_get_group_name (key->pkey, group, sizeof group, &group_len) != 1)
        return -1;
    for (size_t i = 0; i < sizeof s_curves / sizeof *s_curves; i++)
        if (strcmp (group, s_curves[i].openssl) == 0) {
            key->kind = AUTH_KIND_EC;
            key->curve = s_curves[i].jwa;
            return 0;
        }
    return -1;
}

//  What to tell an operator who gave a PEM block of this type.
static const char *
s_pem_advice (const char *type)
{
    size_t n = strlen (type);
    if (n >= 11 && strcmp (type + n - 11, "PRIVATE KEY") == 0)
        return "is a private key: give its public key (openssl pkey -in KEY -pubout)";
    if (strcmp (type, "RSA PUBLIC KEY") == 0)
        return "is a PKCS#1 RSA key: convert it (openssl rsa -RSAPublicKey_in -in KEY -pubout)";
    if (strcmp (type, "CERTIFICATE") == 0)
        return "is a certificate: give its public key (openssl x509 -in CERT -pubkey -noout)";
    return "is not a PUBLIC KEY";
}

//  One PEM block of a --jwt-key file: a SubjectPublicKeyInfo.
static int
s_pem_block (auth_keys_t *self, const char *name, int index, const char *type,
             const unsigned char *der, long der_len, char *why, size_t why_len)
{
    const char *reason = NULL;
    auth_key_t key = { 0 };
    if (strcmp (type, "PUBLIC KEY") != 0)
        return auth_why (why, why_len, name, "PEM block %d (%s) %s", index, type,
                         s_pem_advice (type));
    if (!(key.pkey = d2i_PUBKEY (NULL, &der, der_len)))
        return auth_why (why, why_len, name, "PEM block %d: not a readable public key", index);
    if (auth_key_classify (&key, &reason) != 0) {
        s_key_free (&key);
        return auth_why (why, why_len, name, "PEM block %d: %s", index, reason);
    }
    if (auth_keys_push (self, &key) != 0)
        return auth_why (why, why_len, name, "out of memory");
    return 0;
}

//  Every PEM block in buf. Returns the number of keys added, or -1.
static int
s_add_pem (auth_keys_t *self, const char *name, const void *buf, size_t len, char *why,
           size_t why_len)
{
    if (len > INT_MAX)
        return auth_why (why, why_len, name, "too large for a key file");
    BIO *bio = BIO_new_mem_buf (buf, (int) len);
    int added = 0, rc = 0;
    if (!bio)
        return auth_why (why, why_len, name, "out of memory");
    for (int index = 1; rc == 0; index++) {
        char *type = NULL, *header = NULL;
        unsigned char *der = NULL;
        long der_len = 0;
        if (PEM_read_bio (bio, &type, &header, &der, &der_len) != 1) {
            //  The end of the file, once a block was read, is no error.
            unsigned long err = ERR_peek_last_error ();
            if (added && ERR_GET_REASON (err) == PEM_R_NO_START_LINE)
                break;
            rc = added ? auth_why (why, why_len, name, "PEM block %d is not readable", index)
                       : auth_why (why, why_len, name, "not a PEM public key or a JWKS document");
            break;
        }
        rc = s_pem_block (self, name, index, type, der, der_len, why, why_len);
        added += rc == 0;
        OPENSSL_free (type);
        OPENSSL_free (header);
        OPENSSL_free (der);
    }
    BIO_free (bio);
    return rc == 0 ? added : -1;
}

int
auth_keys_add_public (auth_keys_t *self, const char *name, const void *buf, size_t len,
                      char *why, size_t why_len)
{
    size_t before = self->count, i = 0;
    const char *text = buf;
    while (i < len && text[i] && strchr (" \t\r\n", text[i]))
        i++;
    ERR_set_mark ();
    int rc = !buf || i == len ? auth_why (why, why_len, name, "empty")
             : text[i] == '{' ? auth_jwks_add (self, name, buf, len, why, why_len)
                              : s_add_pem (self, name, buf, len, why, why_len);
    ERR_pop_to_mark ();
    if (rc < 0)
        auth_keys_truncate (self, before);
    return rc;
}

//  Whether buf (len bytes) holds text, as a PEM key would have.
static int
s_holds (const char *buf, size_t len, const char *text)
{
    size_t n = strlen (text);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp (buf + i, text, n) == 0)
            return 1;
    return 0;
}

int
auth_keys_add_secret (auth_keys_t *self, const char *name, const void *buf, size_t len,
                      char *why, size_t why_len)
{
    const char *text = buf;
    if (len && text[len - 1] == '\n')
        len -= len >= 2 && text[len - 2] == '\r' ? 2 : 1;
    if (!buf || len < AUTH_SECRET_MIN)
        return auth_why (why, why_len, name, "a secret of %zu bytes; HMAC needs at least %d",
                         buf ? len : 0, AUTH_SECRET_MIN);
    if (len > INT_MAX)
        return auth_why (why, why_len, name, "too large for a secret");
    //  A public key given as a secret would let anyone who has the key
    //  sign tokens: the very confusion the algorithm table prevents.
    if (s_holds (text, len, "-----BEGIN "))
        return auth_why (why, why_len, name, "looks like a PEM key: give it with --jwt-key");
    auth_key_t key = { .kind = AUTH_KIND_HMAC, .secret_len = len };
    if (!(key.secret = malloc (len)))
        return auth_why (why, why_len, name, "out of memory");
    memcpy (key.secret, text, len);
    if (auth_keys_push (self, &key) != 0)
        return auth_why (why, why_len, name, "out of memory");
    return 1;
}

int
auth_why (char *why, size_t why_len, const char *name, const char *fmt, ...)
{
    if (!why || !why_len)
        return -1;
    int n = snprintf (why, why_len, "%s: ", name ? name : "(unnamed)");
    if (n >= 0 && (size_t) n < why_len) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (why + n, why_len - (size_t) n, fmt, args);
        va_end (args);
    }
    return -1;
}
