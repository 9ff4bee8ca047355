/*  claims.c: the claims of a token whose signature holds (RFC 7519 4.1),
 *  and the identity they give: the times with their leeway, the issuer
 *  and audience the operator asked for, the types of the registered
 *  claims, and the topic patterns the token grants.
 *
 *  Times are NumericDates in seconds (integers or not) and are compared
 *  in milliseconds, saturating rather than wrapping at the ends of
 *  int64_t, so that a huge or negative value is only very late or very
 *  early, never the other way round.
 */
#include "auth_internal.h"

#include <stdlib.h>
#include <string.h>

struct auth_identity {
    json_t *claims;
    const char *sub;            //  in claims, or NULL
    int64_t expires;            //  exp in ms, or INT64_MAX
    patterns_t *patterns;  //  NULL: none
};

static int64_t
s_add (int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

//  A NumericDate in ms. Returns 0, -1 if v is not a number, 1 if absent.
static int
s_time_ms (const json_t *claims, const char *name, int64_t *ms)
{
    const json_t *v = json_object_get (claims, name);
    if (!v)
        return 1;
    if (json_is_integer (v)) {
        json_int_t s = json_integer_value (v);
        *ms = s > INT64_MAX / 1000 ? INT64_MAX : s < INT64_MIN / 1000 ? INT64_MIN : s * 1000;
        return 0;
    }
    if (!json_is_real (v))
        return -1;
    //  Doubles at or beyond +-2^63 do not convert; JSON has no NaN.
    double d = json_real_value (v) * 1000.0;
    *ms = d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : (int64_t) d;
    return 0;
}

//  exp, nbf and iat.
static auth_rc_t
s_check_times (const json_t *claims, const auth_config_t *config, int64_t now_ms,
               int64_t *expires)
{
    int64_t leeway = config && config->leeway_ms > 0 ? config->leeway_ms : 0;
    int64_t exp = INT64_MAX, nbf = INT64_MIN, iat = INT64_MIN;
    int has_exp = s_time_ms (claims, "exp", &exp);
    if (has_exp < 0 || s_time_ms (claims, "nbf", &nbf) < 0 || s_time_ms (claims, "iat", &iat) < 0)
        return AUTH_CLAIMS;
    //  RFC 7519 4.1.4: not accepted on or after exp.
    if (has_exp == 0 && exp <= s_add (now_ms, -leeway))
        return AUTH_EXPIRED;
    if (nbf > s_add (now_ms, leeway) || iat > s_add (now_ms, leeway))
        return AUTH_NOT_YET_VALID;
    *expires = exp;
    return AUTH_OK;
}

//  1 if aud (a string or an array of strings) holds want, 0 if not, -1
//  if it has the wrong type.
static int
s_audience_has (const json_t *aud, const char *want)
{
    if (json_is_string (aud))
        return want && strcmp (json_string_value (aud), want) == 0;
    if (!json_is_array (aud))
        return -1;
    int hit = 0;
    size_t i;
    const json_t *one;
    json_array_foreach (aud, i, one) {
        if (!json_is_string (one))
            return -1;
        hit |= want && strcmp (json_string_value (one), want) == 0;
    }
    return hit;
}

//  iss, aud and sub: their types always, their values as configured.
static auth_rc_t
s_check_names (const json_t *claims, const auth_config_t *config)
{
    const json_t *iss = json_object_get (claims, "iss");
    const json_t *aud = json_object_get (claims, "aud");
    const json_t *sub = json_object_get (claims, "sub");
    int aud_hit = aud ? s_audience_has (aud, config ? config->audience : NULL) : 0;
    if ((iss && !json_is_string (iss)) || (sub && !json_is_string (sub)) || aud_hit < 0)
        return AUTH_CLAIMS;
    if (config && config->issuer
        && (!iss || strcmp (json_string_value (iss), config->issuer) != 0))
        return AUTH_ISSUER;
    if (config && config->audience && !aud_hit)
        return AUTH_AUDIENCE;
    return AUTH_OK;
}

//  The value at a dot-separated path of keys, NULL if absent; *bad if a
//  step on the way is not an object.
static const json_t *
s_lookup (const json_t *claims, const char *path, int *bad)
{
    const json_t *at = claims;
    char key[256];
    while (at) {
        size_t n = strcspn (path, ".");
        if (n >= sizeof key) {
            *bad = 1;
            return NULL;
        }
        memcpy (key, path, n);
        key[n] = '\0';
        at = json_object_get (at, key);
        if (path[n] == '\0')
            return at;
        if (at && !json_is_object (at)) {
            *bad = 1;
            return NULL;
        }
        path += n + 1;
    }
    return NULL;
}

//  Patterns from a claim's value: one string is one pattern, an array
//  holds strings. Returns NULL if the value is of another type or a
//  pattern is malformed (or memory ran out: *nomem is then 1).
static patterns_t *
s_patterns_from_json (const json_t *value, int *nomem)
{
    patterns_t *self = patterns_new ();
    size_t i, n = json_is_array (value) ? json_array_size (value) : 1;
    *nomem = !self;
    for (i = 0; self && i < n; i++) {
        const json_t *one = json_is_array (value) ? json_array_get (value, i) : value;
        if (!json_is_string (one))
            break;
        const char *bad = patterns_add (self, json_string_value (one), json_string_length (one));
        if (bad) {
            *nomem = strcmp (bad, "out of memory") == 0;
            break;
        }
    }
    if (self && i < n)
        patterns_destroy (&self);
    return self;
}

auth_rc_t
auth_claims_check (json_t *claims, const auth_config_t *config, int64_t now_ms,
                   auth_identity_t **identity)
{
    auth_identity_t *self = NULL;
    int64_t expires = INT64_MAX;
    auth_rc_t rc = s_check_times (claims, config, now_ms, &expires);
    if (rc != AUTH_OK || (rc = s_check_names (claims, config)) != AUTH_OK)
        goto out;
    int bad = 0, nomem = 0;
    const json_t *topics = config && config->topics_claim
                               ? s_lookup (claims, config->topics_claim, &bad)
                               : NULL;
    rc = AUTH_INTERNAL;
    if (!(self = calloc (1, sizeof *self)))
        goto out;
    if (topics && !(self->patterns = s_patterns_from_json (topics, &nomem)))
        bad = 1;
    if (bad) {
        rc = nomem ? AUTH_INTERNAL : AUTH_CLAIMS;
        goto out;
    }
    self->claims = claims;
    claims = NULL;
    self->sub = json_string_value (json_object_get (self->claims, "sub"));
    self->expires = expires;
    *identity = self;
    self = NULL;
    rc = AUTH_OK;
out:
    auth_identity_destroy (&self);
    json_decref (claims);
    return rc;
}

void
auth_identity_destroy (auth_identity_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    auth_identity_t *self = *self_p;
    patterns_destroy (&self->patterns);
    json_decref (self->claims);
    free (self);
    *self_p = NULL;
}

const char *
auth_identity_sub (const auth_identity_t *self)
{
    return self ? self->sub : NULL;
}

int64_t
auth_identity_expires (const auth_identity_t *self)
{
    return self ? self->expires : INT64_MAX;
}

const json_t *
auth_identity_claims (const auth_identity_t *self)
{
    return self ? self->claims : NULL;
}

int
auth_identity_allows (const auth_identity_t *self, const char *topic, size_t len)
{
    return self ? patterns_match (self->patterns, topic, len) : 0;
}
