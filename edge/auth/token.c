/*  token.c: where a client's token is, in what it sends: the payload of
 *  its connection_init, an Authorization header ("Bearer <token>", RFC
 *  6750 2.1) or a Cookie header (RFC 6265 4.2.1: "a=b; c=d", a value
 *  maybe in double quotes). Pure parsing: every result points into the
 *  caller's bytes, and nothing is checked here but the shape.
 */
#include "auth_internal.h"

#include <string.h>
#include <strings.h>

static int
s_blank (char c)
{
    return c == ' ' || c == '\t';
}

//  Trims blanks from both ends of *s (*len bytes).
static void
s_trim (const char **s, size_t *len)
{
    while (*len && s_blank (**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && s_blank ((*s)[*len - 1]))
        (*len)--;
}

const char *
auth_token_from_header (const char *value, size_t value_len, size_t *len)
{
    static const char scheme[] = "Bearer";
    const size_t n = sizeof scheme - 1;
    *len = 0;
    if (!value)
        return NULL;
    s_trim (&value, &value_len);
    //  The scheme is case-insensitive (RFC 7235 2.1), and one or more
    //  blanks part it from the token, which has none itself.
    if (value_len <= n || strncasecmp (value, scheme, n) != 0 || !s_blank (value[n]))
        return NULL;
    const char *token = value + n;
    size_t token_len = value_len - n;
    s_trim (&token, &token_len);
    for (size_t i = 0; i < token_len; i++)
        if (s_blank (token[i]) || token[i] == '\0')
            return NULL;
    if (!token_len)
        return NULL;
    *len = token_len;
    return token;
}

const char *
auth_token_from_init (const json_t *payload, size_t *len, int *bad)
{
    static const char *fields[] = { "token", "authToken", "Authorization", "authorization" };
    *len = 0;
    *bad = 0;
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const json_t *v = json_object_get (payload, fields[i]);
        if (!v)
            continue;
        const char *token = NULL;
        if (json_is_string (v) && i < 2) {
            token = json_string_value (v);
            *len = json_string_length (v);
        }
        else
        if (json_is_string (v))
            token = auth_token_from_header (json_string_value (v), json_string_length (v), len);
        //  A field that is there but holds no token is a client's
        //  mistake, not the absence of a token.
        *bad = token == NULL;
        return token;
    }
    return NULL;
}

const char *
auth_token_from_cookie (const char *value, size_t value_len, const char *name, size_t *len)
{
    size_t name_len = name ? strlen (name) : 0;
    *len = 0;
    if (!value || !name_len)
        return NULL;
    const char *end = value + value_len;
    for (const char *pair = value; pair < end;) {
        const char *semi = memchr (pair, ';', (size_t) (end - pair));
        const char *pair_end = semi ? semi : end;
        const char *eq = memchr (pair, '=', (size_t) (pair_end - pair));
        if (eq) {
            const char *key = pair, *val = eq + 1;
            size_t key_len = (size_t) (eq - pair), val_len = (size_t) (pair_end - val);
            s_trim (&key, &key_len);
            s_trim (&val, &val_len);
            if (val_len >= 2 && val[0] == '"' && val[val_len - 1] == '"') {
                val++;
                val_len -= 2;
            }
            //  Names are compared exactly, so "xtoken" is not "token". An
            //  empty value is how a cookie is cleared: no token.
            if (key_len == name_len && memcmp (key, name, name_len) == 0) {
                *len = val_len;
                return val_len ? val : NULL;
            }
        }
        pair = semi ? semi + 1 : end;
    }
    return NULL;
}
