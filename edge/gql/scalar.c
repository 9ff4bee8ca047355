/*  scalar.c: input coercion of the built-in scalars (spec 3.5), one set of
 *  rules for literals in a document (values.c) and for variable values
 *  sent as JSON (variables.c).
 *
 *  Each caller describes its value in a gql_scalar_in_t, asks whether the
 *  scalar takes it, words the refusal its own way (a literal's messages
 *  and a variable's differ, as in graphql-js), and then takes the value.
 *  Result coercion, from payloads to responses, is execute.c's.
 */
#include "gql_internal.h"

#include <math.h>
#include <stdio.h>

//  2^53: past it a double no longer holds every whole number, so a real
//  that big cannot stand for an exact ID.
#define S_EXACT_MAX 9007199254740992.0

//  A real that may count as a whole number (see whole_is_int).
static int
s_whole (const gql_scalar_in_t *in)
{
    return in->kind == GQL_IN_FLOAT && in->whole_is_int && in->f == floor (in->f);
}

gql_scalar_rc_t
gql_scalar_check (gql_scalar_t scalar, const gql_scalar_in_t *in)
{
    switch (scalar) {
        case GQL_S_INT:
            if (in->kind == GQL_IN_INT)
                return in->fits && in->i >= INT32_MIN && in->i <= INT32_MAX ? GQL_SCALAR_OK
                                                                            : GQL_SCALAR_RANGE;
            if (s_whole (in))
                return in->f >= INT32_MIN && in->f <= INT32_MAX ? GQL_SCALAR_OK : GQL_SCALAR_RANGE;
            return GQL_SCALAR_WRONG;
        case GQL_S_FLOAT:
            if (in->kind != GQL_IN_INT && in->kind != GQL_IN_FLOAT)
                return GQL_SCALAR_WRONG;
            return isfinite (in->f) ? GQL_SCALAR_OK : GQL_SCALAR_INFINITE;
        case GQL_S_STRING:
            return in->kind == GQL_IN_STRING ? GQL_SCALAR_OK : GQL_SCALAR_WRONG;
        case GQL_S_BOOLEAN:
            return in->kind == GQL_IN_BOOLEAN ? GQL_SCALAR_OK : GQL_SCALAR_WRONG;
        case GQL_S_ID:
            if (in->kind == GQL_IN_STRING || (in->kind == GQL_IN_INT && (in->fits || in->s)))
                return GQL_SCALAR_OK;
            if (s_whole (in) && isfinite (in->f) && fabs (in->f) <= S_EXACT_MAX)
                return GQL_SCALAR_OK;
            return GQL_SCALAR_WRONG;
        case GQL_S_CUSTOM:
            break;
    }
    return GQL_SCALAR_OK;
}

gql_cval_t *
gql_cval_new (gql_arena_t *a, gql_errs_t *e, gql_ckind_t kind)
{
    gql_cval_t *r = gql_alloc (a, sizeof *r);
    if (!r)
        e->oom = 1;
    else
        r->kind = kind;
    return r;
}

gql_cval_t *
gql_cval_object (gql_arena_t *a, gql_errs_t *e, uint32_t n)
{
    gql_cval_t *r = gql_cval_new (a, e, GQL_C_OBJECT);
    if (r && (!(r->items = gql_alloc_array (a, n, sizeof *r->items))
              || !(r->keys = gql_alloc_array (a, n, sizeof *r->keys)))) {
        e->oom = 1;
        return NULL;
    }
    return r;
}

gql_cval_t *
gql_cval_list (gql_arena_t *a, gql_errs_t *e, size_t n)
{
    gql_cval_t *r = n <= UINT32_MAX ? gql_cval_new (a, e, GQL_C_LIST) : NULL;
    if (!r || !(r->items = gql_alloc_array (a, n, sizeof *r->items))) {
        e->oom = 1;
        return NULL;
    }
    return r;
}

//  A string value of s, copied into a when copy is set.
static const gql_cval_t *
s_string (gql_arena_t *a, gql_errs_t *e, const char *s, size_t len, int copy)
{
    gql_cval_t *r = gql_cval_new (a, e, GQL_C_STRING);
    if (!r)
        return NULL;
    if (copy && !(s = gql_strndup (a, s ? s : "", len))) {
        e->oom = 1;
        return NULL;
    }
    r->s = s;
    r->len = len;
    return r;
}

//  An ID given as a number: its decimal text (a literal's own digits).
static const gql_cval_t *
s_id_number (gql_arena_t *a, gql_errs_t *e, const gql_scalar_in_t *in)
{
    if (in->kind == GQL_IN_INT && in->s)
        return s_string (a, e, in->s, in->len, in->copy);
    char tmp[24];
    int n = snprintf (tmp, sizeof tmp, "%lld",
                      in->kind == GQL_IN_INT ? (long long) in->i : (long long) in->f);
    return s_string (a, e, tmp, (size_t) n, 1);
}

const gql_cval_t *
gql_scalar_coerce (gql_arena_t *a, gql_errs_t *e, gql_scalar_t scalar, const gql_scalar_in_t *in)
{
    gql_cval_t *r;
    switch (scalar) {
        case GQL_S_INT:
            if ((r = gql_cval_new (a, e, GQL_C_INT)))
                r->i = in->kind == GQL_IN_INT ? in->i : (int64_t) in->f;
            return r;
        case GQL_S_FLOAT:
            if ((r = gql_cval_new (a, e, GQL_C_FLOAT)))
                r->f = in->f;
            return r;
        case GQL_S_STRING:
            return s_string (a, e, in->s, in->len, in->copy);
        case GQL_S_BOOLEAN:
            if ((r = gql_cval_new (a, e, GQL_C_BOOLEAN)))
                r->i = in->i;
            return r;
        case GQL_S_ID:
            return in->kind == GQL_IN_STRING ? s_string (a, e, in->s, in->len, in->copy)
                                             : s_id_number (a, e, in);
        case GQL_S_CUSTOM:
            break;
    }
    //  A custom scalar takes the value as it is; an integer too big for
    //  64 bits becomes a real.
    switch (in->kind) {
        case GQL_IN_INT:
            if (in->fits) {
                if ((r = gql_cval_new (a, e, GQL_C_INT)))
                    r->i = in->i;
                return r;
            }
            __attribute__ ((fallthrough));
        case GQL_IN_FLOAT:
            if ((r = gql_cval_new (a, e, GQL_C_FLOAT)))
                r->f = in->f;
            return r;
        case GQL_IN_STRING:
        case GQL_IN_ENUM:
            return s_string (a, e, in->s, in->len, in->copy);
        case GQL_IN_BOOLEAN:
            if ((r = gql_cval_new (a, e, GQL_C_BOOLEAN)))
                r->i = in->i;
            return r;
        case GQL_IN_OTHER:
            break;
    }
    return &gql_cval_null;
}
