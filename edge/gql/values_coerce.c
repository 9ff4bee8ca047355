/*  values_coerce.c: input literals coerced (spec 3.x input coercion), and
 *  CoerceArgumentValues for a field's or directive's arguments.
 *
 *  Coercion runs after validation (values.c), on literals known to be well
 *  typed, and turns them into gql_cval_t values with variables
 *  substituted; the only errors left for it are the ones that depend on
 *  runtime variable values (a null where null cannot go).
 */
#include "gql_internal.h"

#include <string.h>

const gql_cval_t gql_cval_null = { .kind = GQL_C_NULL };
//  The value of a variable that was not provided: callers treat it as
//  "no value" (a default applies), which differs from null.
static const gql_cval_t s_absent = { .kind = GQL_C_NULL };

const gql_cval_t *
gql_vars_get (const gql_vars_t *vars, const char *name, int *provided)
{
    *provided = 0;
    if (!vars || !vars->defs)
        return NULL;
    //  The first definition of the name (a later one is a validation
    //  error, so only the first is coerced), by the index once there are
    //  many.
    uint32_t i = 0, n = vars->defs->n;
    if (vars->index.cap) {
        uintptr_t at = (uintptr_t) gql_map_get (&vars->index, name, strlen (name));
        if (vars->work)
            *vars->work += 1;
        if (!at)
            return NULL;
        i = (uint32_t) (at - 1);
        n = i + 1;
    }
    for (; i < n; i++) {
        const gql_vardef_t *vd = vars->defs->items[i];
        if (vars->work)
            *vars->work += 1;
        if (strcmp (vd->name, name) == 0) {
            if (vars->vals[i]) {
                *provided = 1;
                return vars->vals[i];
            }
            return NULL;
        }
    }
    return NULL;
}

typedef struct {
    gql_arena_t *a;
    gql_errs_t *e;
    const gql_vars_t *vars;
} s_coerce_t;

static const gql_cval_t *s_coerce (s_coerce_t *c, const gql_value_t *v, const gql_tref_t *type,
                                   int depth);

//  An input field's or argument's default, coerced (defaults may refer to
//  other input types' defaults, so they are coerced when used).
static const gql_cval_t *
s_default (s_coerce_t *c, const gql_input_t *def, int depth)
{
    if (def->def)
        return def->def;
    gql_vars_t none = { 0 };
    s_coerce_t cc = { c->a, c->e, &none };
    return s_coerce (&cc, def->def_ast, def->type, depth + 1);
}

//  A literal of unknown shape (custom scalars), variables substituted.
static const gql_cval_t *
s_untyped (s_coerce_t *c, const gql_value_t *v, int depth)
{
    if (depth > GQL_MAX_NESTING) {
        gql_err (c->e, v->loc, "Value is nested too deeply.");
        return NULL;
    }
    gql_cval_t *r;
    switch (v->kind) {
        case GQL_V_VARIABLE: {
            int provided;
            const gql_cval_t *val = gql_vars_get (c->vars, v->text, &provided);
            return provided ? val : &s_absent;
        }
        case GQL_V_NULL:
            return &gql_cval_null;
        case GQL_V_INT:
        case GQL_V_FLOAT:
        case GQL_V_STRING:
        case GQL_V_ENUM:
        case GQL_V_BOOLEAN: {
            gql_scalar_in_t in = gql_literal_scalar_in (v);
            return gql_scalar_coerce (c->a, c->e, GQL_S_CUSTOM, &in);
        }
        case GQL_V_LIST:
        case GQL_V_OBJECT: {
            int obj = v->kind == GQL_V_OBJECT;
            r = obj ? gql_cval_object (c->a, c->e, v->items.n)
                    : gql_cval_list (c->a, c->e, v->items.n);
            if (!r)
                return NULL;
            for (uint32_t j = 0; j < v->items.n; j++) {
                const gql_value_t *item =
                    obj ? ((gql_arg_t *) v->items.items[j])->value : v->items.items[j];
                const gql_cval_t *iv = s_untyped (c, item, depth + 1);
                if (!iv)
                    return NULL;
                if (iv == &s_absent) {
                    if (obj)
                        continue;       //  an object field without a value is left out
                    iv = &gql_cval_null;
                }
                if (obj)
                    r->keys[r->n] = ((gql_arg_t *) v->items.items[j])->name;
                r->items[r->n++] = (gql_cval_t *) iv;
            }
            return r;
        }
    }
    return NULL;
}

//  A list literal, or a single value where a list goes (a list of one).
static const gql_cval_t *
s_coerce_list (s_coerce_t *c, const gql_value_t *v, const gql_tref_t *type, int depth)
{
    const gql_value_t *const *items = (const gql_value_t *const *) v->items.items;
    uint32_t n = v->items.n;
    if (v->kind != GQL_V_LIST) {
        items = &v;
        n = 1;
    }
    gql_cval_t *r;
    if (!(r = gql_cval_list (c->a, c->e, n)))
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        const gql_cval_t *iv = s_coerce (c, items[i], type->of, depth + 1);
        if (!iv)
            return NULL;
        if (iv == &s_absent) {
            //  A list item that is an unprovided variable is null.
            if (type->of->kind == GQL_T_NONNULL) {
                gql_err (c->e, items[i]->loc, "Variable \"$%s\" was not provided, but it is used "
                         "in a position that expects the non-null type \"%s\".", items[i]->text,
                         gql_tref_str (c->a, type->of));
                return NULL;
            }
            iv = &gql_cval_null;
        }
        r->items[r->n++] = (gql_cval_t *) iv;
    }
    return r;
}

//  An object literal of input object type t: its fields in t's order,
//  defaults filled in, absent optional fields left out.
static const gql_cval_t *
s_coerce_object (s_coerce_t *c, const gql_value_t *v, const gql_type_t *t, int depth)
{
    uint32_t nf = t->inputs.n;
    gql_cval_t *r = gql_cval_object (c->a, c->e, nf);
    if (!r)
        return NULL;
    gql_names_t names;
    gql_names_init (&names, c->a, &v->items, offsetof (gql_arg_t, name), &c->e->work);
    for (uint32_t j = 0; j < nf; j++) {
        const gql_input_t *def = t->inputs.items[j];
        const gql_arg_t *f = gql_names_find (&names, def->name, &c->e->work);
        const gql_value_t *fv = f ? f->value : NULL;
        const gql_cval_t *val = fv ? s_coerce (c, fv, def->type, depth + 1) : &s_absent;
        if (!val)
            return NULL;
        if (val == &s_absent) {
            if (def->def_ast || def->def) {
                if (!(val = s_default (c, def, depth)))
                    return NULL;
            }
            else if (def->type->kind == GQL_T_NONNULL) {
                gql_err (c->e, fv ? fv->loc : v->loc, "Field \"%s.%s\" of required type \"%s\" "
                         "was not provided.", t->name, def->name, gql_tref_str (c->a, def->type));
                return NULL;
            }
            else
                continue;
        }
        r->keys[r->n] = def->name;
        r->items[r->n++] = (gql_cval_t *) val;
    }
    return r;
}

static const gql_cval_t *
s_coerce (s_coerce_t *c, const gql_value_t *v, const gql_tref_t *type, int depth)
{
    if (depth > GQL_MAX_NESTING) {
        gql_err (c->e, v->loc, "Value is nested too deeply (a default value may refer to itself).");
        return NULL;
    }
    if (v->kind == GQL_V_VARIABLE) {
        int provided;
        const gql_cval_t *val = gql_vars_get (c->vars, v->text, &provided);
        if (!provided)
            return &s_absent;
        if (val->kind == GQL_C_NULL && type->kind == GQL_T_NONNULL) {
            gql_err (c->e, v->loc, "Variable \"$%s\" is null, but it is used in a position that "
                     "expects the non-null type \"%s\".", v->text, gql_tref_str (c->a, type));
            return NULL;
        }
        return val;
    }
    if (type->kind == GQL_T_NONNULL) {
        const gql_cval_t *r = s_coerce (c, v, type->of, depth);
        if (r && r->kind == GQL_C_NULL) {
            gql_err (c->e, v->loc, "Expected a value of the non-null type \"%s\", found null.",
                     gql_tref_str (c->a, type));
            return NULL;
        }
        return r;
    }
    if (v->kind == GQL_V_NULL)
        return &gql_cval_null;
    if (type->kind == GQL_T_LIST)
        return s_coerce_list (c, v, type, depth);
    const gql_type_t *t = type->type;
    gql_cval_t *r;
    gql_scalar_in_t in;
    switch (t->kind) {
        case GQL_K_INPUT:
            return s_coerce_object (c, v, t, depth);
        case GQL_K_ENUM:
            if (!(r = gql_cval_new (c->a, c->e, GQL_C_ENUM)))
                return NULL;
            r->s = v->text;
            r->len = v->len;
            return r;
        case GQL_K_SCALAR:
            if (t->scalar == GQL_S_CUSTOM)
                return s_untyped (c, v, depth);
            in = gql_literal_scalar_in (v);
            return gql_scalar_coerce (c->a, c->e, t->scalar, &in);
        default:
            return NULL;
    }
}

const gql_cval_t *
gql_coerce_literal (gql_arena_t *a, gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type,
                    const gql_vars_t *vars)
{
    s_coerce_t c = { a, e, vars };
    const gql_cval_t *r = s_coerce (&c, v, type, 0);
    if (r == &s_absent)
        r = &gql_cval_null;     //  a lone unprovided variable: callers check first
    return r;
}

int
gql_coerce_args (gql_arena_t *a, gql_errs_t *e, const gql_vec_t *args, const gql_vec_t *defs,
                 const gql_vars_t *vars, uint32_t loc, const char *what, const gql_cval_t **out)
{
    s_coerce_t c = { a, e, vars };
    int rc = 0;
    gql_names_t names;
    gql_names_init (&names, a, args, offsetof (gql_arg_t, name), &e->work);
    for (uint32_t i = 0; i < defs->n; i++) {
        const gql_input_t *def = defs->items[i];
        const gql_arg_t *arg = gql_names_find (&names, def->name, &e->work);
        const gql_cval_t *val = arg ? s_coerce (&c, arg->value, def->type, 0) : &s_absent;
        if (!val) {
            rc = -1;
            continue;
        }
        if (val == &s_absent) {
            if (def->def_ast || def->def)
                val = s_default (&c, def, 0);
            else if (def->type->kind == GQL_T_NONNULL) {
                if (arg)
                    gql_err (e, arg->value->loc,
                             "Argument \"%s\" of required type \"%s\" was provided the variable "
                             "\"$%s\" which was not provided a runtime value.",
                             def->name, gql_tref_str (a, def->type), arg->value->text);
                else
                    gql_err (e, loc,
                             "%s argument \"%s\" of type \"%s\" is required, but it was not "
                             "provided.",
                             what, def->name, gql_tref_str (a, def->type));
                rc = -1;
                continue;
            }
            else
                val = NULL;
        }
        out[i] = val;
    }
    return rc;
}
