/*  variables.c: CoerceVariableValues (spec 6.1.2) over the JSON object a
 *  client sent, with the input coercion rules of section 3 for scalars,
 *  enums, lists and input objects.
 *
 *  Values are copied into the arena: the caller's json_t may be freed as
 *  soon as gql_prepare returns. Errors name the variable, the path inside
 *  its value and the offending value, and point at the variable's
 *  definition.
 */
#include "gql_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_jpath {
    const struct s_jpath *up;
    const char *key;            //  field name, or NULL for an index
    size_t index;
} s_jpath_t;

typedef struct {
    gql_arena_t *a;
    gql_errs_t *e;
    const gql_vardef_t *vd;
} s_vc_t;

static void
s_path_print (jbuf_t *b, const s_jpath_t *p)
{
    if (!p)
        return;
    s_path_print (b, p->up);
    if (p->key) {
        jbuf_putc (b, '.');
        jbuf_puts (b, p->key);
    }
    else {
        char tmp[32];
        int n = snprintf (tmp, sizeof tmp, "[%zu]", p->index);
        jbuf_put (b, tmp, (size_t) n);
    }
}

//  "Variable "$x" got invalid value 1.5 at "x.a[0]"; <detail>"
static void
s_fail (s_vc_t *c, const json_t *v, const s_jpath_t *path, const char *fmt, ...) GQL_PRINTF (4, 5);

static void
s_fail (s_vc_t *c, const json_t *v, const s_jpath_t *path, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *detail = gql_vsprintf (c->a, fmt, ap);
    va_end (ap);
    char *text = v ? json_dumps (v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    jbuf_t p;
    jbuf_init (&p, 0);
    s_path_print (&p, path);
    size_t tlen = text ? strlen (text) : 0;
    gql_err (c->e, c->vd->loc, "Variable \"$%s\" got invalid value %.*s%s%s%s%.*s%s; %s",
             c->vd->name, (int) (tlen > 100 ? 100 : tlen), text ? text : "?",
             tlen > 100 ? "..." : "", path ? " at \"" : "", path ? c->vd->name : "", (int) p.len,
             p.data ? p.data : "", path ? "\"" : "", detail ? detail : "invalid value");
    jbuf_free (&p);
    free (text);
}

static const gql_cval_t *
s_string (s_vc_t *c, gql_ckind_t kind, const char *s, size_t len)
{
    gql_cval_t *r = gql_cval_new (c->a, c->e, kind);
    if (r && !(r->s = gql_strndup (c->a, s, len))) {
        c->e->oom = 1;
        return NULL;
    }
    if (r)
        r->len = len;
    return r;
}

//  A JSON value as the scalar rules (scalar.c) see it. Strings are copied:
//  the json_t does not outlive gql_prepare.
static gql_scalar_in_t
s_scalar_in (const json_t *v)
{
    //  A real that is a whole number is an integer, as JSON numbers from
    //  JavaScript are (1.0).
    gql_scalar_in_t in = { .kind = GQL_IN_OTHER, .whole_is_int = 1, .copy = 1 };
    switch (json_typeof (v)) {
        case JSON_INTEGER:
            in.kind = GQL_IN_INT;
            in.i = json_integer_value (v);
            in.fits = 1;
            in.f = (double) in.i;
            break;
        case JSON_REAL:
            in.kind = GQL_IN_FLOAT;
            in.f = json_real_value (v);
            break;
        case JSON_STRING:
            in.kind = GQL_IN_STRING;
            in.s = json_string_value (v);
            in.len = json_string_length (v);
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            in.kind = GQL_IN_BOOLEAN;
            in.i = json_is_true (v);
            break;
        default:
            break;
    }
    return in;
}

static const gql_cval_t *s_coerce (s_vc_t *c, const json_t *v, const gql_tref_t *type,
                                   const s_jpath_t *path, int depth);

//  Custom scalars take any JSON value as it is.
static const gql_cval_t *
s_untyped (s_vc_t *c, const json_t *v, const s_jpath_t *path, int depth)
{
    if (depth > GQL_MAX_NESTING) {
        s_fail (c, NULL, path, "the value is nested too deeply.");
        return NULL;
    }
    gql_cval_t *r;
    switch (json_typeof (v)) {
        case JSON_NULL:
            return &gql_cval_null;
        case JSON_TRUE:
        case JSON_FALSE:
        case JSON_INTEGER:
        case JSON_REAL:
        case JSON_STRING: {
            gql_scalar_in_t in = s_scalar_in (v);
            return gql_scalar_coerce (c->a, c->e, GQL_S_CUSTOM, &in);
        }
        case JSON_ARRAY: {
            size_t n = json_array_size (v);
            if (!(r = gql_cval_list (c->a, c->e, n)))
                return NULL;
            for (size_t i = 0; i < n; i++) {
                s_jpath_t p = { path, NULL, i };
                const gql_cval_t *item = s_untyped (c, json_array_get (v, i), &p, depth + 1);
                if (!item)
                    return NULL;
                r->items[r->n++] = (gql_cval_t *) item;
            }
            return r;
        }
        case JSON_OBJECT: {
            size_t n = json_object_size (v);
            if (!(r = gql_cval_new (c->a, c->e, GQL_C_OBJECT)) || n > UINT32_MAX
                || !(r->items = gql_alloc_array (c->a, n, sizeof *r->items))
                || !(r->keys = gql_alloc_array (c->a, n, sizeof *r->keys))) {
                c->e->oom = 1;
                return NULL;
            }
            const char *key;
            json_t *val;
            json_object_foreach ((json_t *) v, key, val) {
                s_jpath_t p = { path, key, 0 };
                const gql_cval_t *item = s_untyped (c, val, &p, depth + 1);
                if (!item || !(r->keys[r->n] = gql_strdup (c->a, key))) {
                    if (item)
                        c->e->oom = 1;
                    return NULL;
                }
                r->items[r->n++] = (gql_cval_t *) item;
            }
            return r;
        }
    }
    return NULL;
}

//  How a variable's value is told that a built-in scalar refuses it.
static const char *
s_scalar_error (gql_scalar_t scalar, gql_scalar_rc_t rc)
{
    switch (scalar) {
        case GQL_S_INT:
            return rc == GQL_SCALAR_RANGE ? "Int cannot represent non 32-bit signed integer value."
                                          : "Int cannot represent non-integer value.";
        case GQL_S_FLOAT:
            return "Float cannot represent non numeric value.";
        case GQL_S_STRING:
            return "String cannot represent a non string value.";
        case GQL_S_BOOLEAN:
            return "Boolean cannot represent a non boolean value.";
        case GQL_S_ID:
            return "ID cannot represent a non-string and non-integer value.";
        case GQL_S_CUSTOM:
            break;              //  takes any value
    }
    return "invalid value";
}

static const gql_cval_t *
s_scalar (s_vc_t *c, const json_t *v, const gql_type_t *t, const s_jpath_t *path, int depth)
{
    if (t->scalar == GQL_S_CUSTOM)
        return s_untyped (c, v, path, depth);
    gql_scalar_in_t in = s_scalar_in (v);
    gql_scalar_rc_t rc = gql_scalar_check (t->scalar, &in);
    if (rc != GQL_SCALAR_OK) {
        s_fail (c, v, path, "%s", s_scalar_error (t->scalar, rc));
        return NULL;
    }
    return gql_scalar_coerce (c->a, c->e, t->scalar, &in);
}

//  A JSON array where a list goes, or a single value (a list of one).
static const gql_cval_t *
s_coerce_list (s_vc_t *c, const json_t *v, const gql_tref_t *type, const s_jpath_t *path, int depth)
{
    gql_cval_t *r;
    size_t n = json_is_array (v) ? json_array_size (v) : 1;
    if (!(r = gql_cval_list (c->a, c->e, n)))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s_jpath_t p = { path, NULL, i };
        const gql_cval_t *item = json_is_array (v)
            ? s_coerce (c, json_array_get (v, i), type->of, &p, depth + 1)
            : s_coerce (c, v, type->of, path, depth + 1);
        if (!item)
            return NULL;
        r->items[r->n++] = (gql_cval_t *) item;
    }
    return r;
}

static const gql_cval_t *
s_enum (s_vc_t *c, const json_t *v, const gql_type_t *t, const s_jpath_t *path)
{
    if (!json_is_string (v)) {
        s_fail (c, v, path, "Enum \"%s\" cannot represent non-string value.", t->name);
        return NULL;
    }
    if (!gql_map_get (&t->value_map, json_string_value (v), json_string_length (v))) {
        s_fail (c, v, path, "Value \"%s\" does not exist in \"%s\" enum.%s", json_string_value (v),
                t->name, gql_suggest (c->a, json_string_value (v), &t->values, GQL_NAME_SELF));
        return NULL;
    }
    return s_string (c, GQL_C_ENUM, json_string_value (v), json_string_length (v));
}

//  A JSON object for input object type t: no unknown fields, then t's
//  fields in order, defaults filled in, absent optional fields left out.
static const gql_cval_t *
s_coerce_object (s_vc_t *c, const json_t *v, const gql_type_t *t, const s_jpath_t *path, int depth)
{
    if (!json_is_object (v)) {
        s_fail (c, v, path, "Expected type \"%s\" to be an object.", t->name);
        return NULL;
    }
    const char *key;
    json_t *val;
    json_object_foreach ((json_t *) v, key, val) {
        if (!gql_map_get (&t->input_map, key, strlen (key))) {
            s_fail (c, v, path, "Field \"%s\" is not defined by type \"%s\".%s", key, t->name,
                    gql_suggest (c->a, key, &t->inputs, offsetof (gql_input_t, name)));
            return NULL;
        }
    }
    uint32_t nf = t->inputs.n;
    gql_cval_t *r = gql_cval_object (c->a, c->e, nf);
    if (!r)
        return NULL;
    for (uint32_t j = 0; j < nf; j++) {
        const gql_input_t *def = t->inputs.items[j];
        const json_t *fv = json_object_get (v, def->name);
        const gql_cval_t *item;
        if (fv) {
            s_jpath_t p = { path, def->name, 0 };
            item = s_coerce (c, fv, def->type, &p, depth + 1);
        }
        else if (def->def)
            item = def->def;
        else if (def->def_ast)
            item = gql_coerce_literal (c->a, c->e, def->def_ast, def->type, NULL);
        else if (def->type->kind == GQL_T_NONNULL) {
            s_fail (c, v, path, "Field \"%s\" of required type \"%s\" was not provided.", def->name,
                    gql_tref_str (c->a, def->type));
            return NULL;
        }
        else
            continue;
        if (!item)
            return NULL;
        r->keys[r->n] = def->name;
        r->items[r->n++] = (gql_cval_t *) item;
    }
    return r;
}

static const gql_cval_t *
s_coerce (s_vc_t *c, const json_t *v, const gql_tref_t *type, const s_jpath_t *path, int depth)
{
    if (depth > GQL_MAX_NESTING) {
        s_fail (c, NULL, path, "the value is nested too deeply.");
        return NULL;
    }
    if (type->kind == GQL_T_NONNULL) {
        if (json_is_null (v)) {
            s_fail (c, v, path, "Expected non-nullable type \"%s\" not to be null.",
                    gql_tref_str (c->a, type));
            return NULL;
        }
        return s_coerce (c, v, type->of, path, depth);
    }
    if (json_is_null (v))
        return &gql_cval_null;
    if (type->kind == GQL_T_LIST)
        return s_coerce_list (c, v, type, path, depth);
    const gql_type_t *t = type->type;
    switch (t->kind) {
        case GQL_K_SCALAR:
            return s_scalar (c, v, t, path, depth);
        case GQL_K_ENUM:
            return s_enum (c, v, t, path);
        case GQL_K_INPUT:
            return s_coerce_object (c, v, t, path, depth);
        default:
            return NULL;
    }
}

int
gql_coerce_variables (gql_arena_t *a, gql_errs_t *e, const gql_operation_t *op,
                      const json_t *values, gql_vars_t *vars)
{
    vars->defs = &op->vardefs;
    vars->vals = gql_alloc_array (a, op->vardefs.n + 1, sizeof *vars->vals);
    vars->work = &e->work;
    if (!vars->vals) {
        e->oom = 1;
        return -1;
    }
    //  Planning looks variables up by name once per use.
    for (uint32_t i = 0; op->vardefs.n > GQL_SCAN_MAX && i < op->vardefs.n; i++) {
        const gql_vardef_t *vd = op->vardefs.items[i];
        GQL_WORK (e, 1);
        if (gql_map_put (a, &vars->index, vd->name, strlen (vd->name), (void *) (uintptr_t) (i + 1),
                         NULL)
            < 0) {
            e->oom = 1;
            return -1;
        }
    }
    if (values && !json_is_object (values)) {
        gql_err (e, GQL_NOLOC, "Variables must be provided as a JSON object.");
        return -1;
    }
    int rc = 0;
    for (uint32_t i = 0; i < op->vardefs.n; i++) {
        const gql_vardef_t *vd = op->vardefs.items[i];
        s_vc_t c = { a, e, vd };
        const json_t *v = values ? json_object_get (values, vd->name) : NULL;
        if (!v) {
            if (vd->def) {
                if (!(vars->vals[i] = gql_coerce_literal (a, e, vd->def, vd->rtype, NULL)))
                    rc = -1;
            }
            else if (vd->rtype->kind == GQL_T_NONNULL) {
                gql_err (e, vd->loc, "Variable \"$%s\" of required type \"%s\" was not provided.",
                         vd->name, gql_tref_str (a, vd->rtype));
                rc = -1;
            }
            continue;
        }
        if (json_is_null (v) && vd->rtype->kind == GQL_T_NONNULL) {
            gql_err (e, vd->loc, "Variable \"$%s\" of non-null type \"%s\" must not be null.",
                     vd->name, gql_tref_str (a, vd->rtype));
            rc = -1;
            continue;
        }
        if (!(vars->vals[i] = s_coerce (&c, v, vd->rtype, NULL, 0)))
            rc = -1;
    }
    return rc;
}
