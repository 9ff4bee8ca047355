/*  values.c: input literals, checked and coerced (spec 5.6 and 3.x input
 *  coercion), and printed for messages.
 *
 *  Checking is validation: it reports every problem with its location and
 *  records where variables are used. Coercion runs after validation, on
 *  literals known to be well typed, and turns them into gql_cval_t values
 *  with variables substituted; the only errors left for it are the ones
 *  that depend on runtime variable values (a null where null cannot go).
 */
#include "gql_internal.h"

#include <stdlib.h>
#include <string.h>

const gql_cval_t gql_cval_null = { .kind = GQL_C_NULL };
//  The value of a variable that was not provided: callers treat it as
//  "no value" (a default applies), which differs from null.
static const gql_cval_t s_absent = { .kind = GQL_C_NULL };

// -- printing -----------------------------------------------------------------

static void
s_print_value (jbuf_t *b, const gql_value_t *v, int depth)
{
    if (depth > GQL_MAX_NESTING || b->len > 200) {
        jbuf_puts (b, "...");
        return;
    }
    switch (v->kind) {
        case GQL_V_VARIABLE:
            jbuf_putc (b, '$');
            jbuf_put (b, v->text, v->len);
            break;
        case GQL_V_INT:
        case GQL_V_FLOAT:
        case GQL_V_ENUM:
            jbuf_put (b, v->text, v->len);
            break;
        case GQL_V_STRING:
            jbuf_json_string (b, v->text, v->len);
            break;
        case GQL_V_BOOLEAN:
            jbuf_puts (b, v->boolean ? "true" : "false");
            break;
        case GQL_V_NULL:
            jbuf_puts (b, "null");
            break;
        case GQL_V_LIST:
            jbuf_putc (b, '[');
            for (uint32_t i = 0; i < v->items.n; i++) {
                if (i)
                    jbuf_puts (b, ", ");
                s_print_value (b, v->items.items[i], depth + 1);
            }
            jbuf_putc (b, ']');
            break;
        case GQL_V_OBJECT:
            jbuf_putc (b, '{');
            for (uint32_t i = 0; i < v->items.n; i++) {
                const gql_arg_t *f = v->items.items[i];
                if (i)
                    jbuf_puts (b, ", ");
                jbuf_puts (b, f->name);
                jbuf_puts (b, ": ");
                s_print_value (b, f->value, depth + 1);
            }
            jbuf_putc (b, '}');
            break;
    }
}

const char *
gql_value_str (gql_arena_t *a, const gql_value_t *v)
{
    jbuf_t b;
    jbuf_init (&b, 0);
    s_print_value (&b, v, 0);
    const char *out = jbuf_failed (&b) ? NULL : gql_strndup (a, b.data, b.len);
    jbuf_free (&b);
    return out ? out : "?";
}

int
gql_value_equal (const gql_value_t *a, const gql_value_t *b, gql_errs_t *e)
{
    GQL_WORK (e, 1);
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
        case GQL_V_NULL:
            return 1;
        case GQL_V_BOOLEAN:
            return a->boolean == b->boolean;
        case GQL_V_LIST:
            if (a->items.n != b->items.n)
                return 0;
            for (uint32_t i = 0; i < a->items.n; i++)
                if (!gql_value_equal (a->items.items[i], b->items.items[i], e))
                    return 0;
            return 1;
        case GQL_V_OBJECT: {
            if (a->items.n != b->items.n)
                return 0;
            //  Each field of a against the first field of b with its name.
            gql_names_t in_b;
            gql_names_init (&in_b, e->arena, &b->items, offsetof (gql_arg_t, name), &e->work);
            for (uint32_t i = 0; i < a->items.n; i++) {
                const gql_arg_t *fa = a->items.items[i];
                const gql_arg_t *fb = gql_names_find (&in_b, fa->name, &e->work);
                if (!fb || !gql_value_equal (fa->value, fb->value, e))
                    return 0;
            }
            return 1;
        }
        default:
            return a->len == b->len && memcmp (a->text, b->text, a->len) == 0;
    }
}

// -- numbers --------------------------------------------------------------------

//  An IntValue's text as a 64-bit integer; -1 if it does not fit.
static int
s_parse_int64 (const char *text, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && text[i] == '-') {
        neg = 1;
        i++;
    }
    if (i == len)
        return -1;
    uint64_t v = 0;
    uint64_t max = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    for (; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        unsigned d = (unsigned) (text[i] - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t) (0 - v) : (int64_t) v;
    return 0;
}

//  A literal as the scalar rules (scalar.c) see it.
static gql_scalar_in_t
s_scalar_in (const gql_value_t *v)
{
    gql_scalar_in_t in = { .kind = GQL_IN_OTHER };
    switch (v->kind) {
        case GQL_V_INT:
            in.kind = GQL_IN_INT;
            in.fits = s_parse_int64 (v->text, v->len, &in.i) == 0;
            //  A whole number that fits converts to the double strtod
            //  would read, but for "-0" (-0.0), and much faster.
            in.f = in.fits && in.i != 0 ? (double) in.i : strtod (v->text, NULL);
            in.s = v->text;
            in.len = v->len;
            break;
        case GQL_V_FLOAT:
            in.kind = GQL_IN_FLOAT;
            in.f = strtod (v->text, NULL);
            break;
        case GQL_V_STRING:
        case GQL_V_ENUM:
            in.kind = v->kind == GQL_V_STRING ? GQL_IN_STRING : GQL_IN_ENUM;
            in.s = v->text;
            in.len = v->len;
            break;
        case GQL_V_BOOLEAN:
            in.kind = GQL_IN_BOOLEAN;
            in.i = v->boolean;
            break;
        default:
            break;
    }
    return in;
}

// -- checking -------------------------------------------------------------------

static int
s_check (gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type, int loc_default,
         gql_vec_t *usages, int const_ctx, int depth);

//  Record variable usages inside a literal whose type is unknown or a
//  custom scalar (any shape goes there).
static int
s_check_untyped (gql_errs_t *e, const gql_value_t *v, gql_vec_t *usages, int const_ctx, int depth)
{
    if (depth > GQL_MAX_NESTING)
        return 0;
    int n = 0;
    GQL_WORK (e, 1 + v->items.n);
    if (v->kind == GQL_V_VARIABLE)
        return s_check (e, v, NULL, 0, usages, const_ctx, depth);
    if (v->kind == GQL_V_LIST)
        for (uint32_t i = 0; i < v->items.n; i++)
            n += s_check_untyped (e, v->items.items[i], usages, const_ctx, depth + 1);
    if (v->kind == GQL_V_OBJECT)
        for (uint32_t i = 0; i < v->items.n; i++)
            n += s_check_untyped (e, ((gql_arg_t *) v->items.items[i])->value, usages, const_ctx, depth + 1);
    return n;
}

static int
s_bad_value (gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type, const char *detail)
{
    gql_err (e, v->loc, "Expected value of type \"%s\", found %s%s%s", gql_tref_str (e->arena, type),
             gql_value_str (e->arena, v), detail ? "; " : ".", detail ? detail : "");
    return 1;
}

static int
s_check_scalar (gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type,
                gql_vec_t *usages, int const_ctx, int depth)
{
    if (type->type->scalar == GQL_S_CUSTOM)
        return s_check_untyped (e, v, usages, const_ctx, depth);
    gql_scalar_in_t in = s_scalar_in (v);
    switch (gql_scalar_check (type->type->scalar, &in)) {
        case GQL_SCALAR_OK:
            return 0;
        case GQL_SCALAR_RANGE:
            return s_bad_value (e, v, type, "Int cannot represent non 32-bit signed integer value.");
        case GQL_SCALAR_INFINITE:
            return s_bad_value (e, v, type, "Float cannot represent a value that is not finite.");
        case GQL_SCALAR_WRONG:
            break;
    }
    return s_bad_value (e, v, type, NULL);
}

//  A variable where a value of type goes: an error in a constant, else a
//  usage to record for the rules on variables.
static int
s_check_variable (gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type, int loc_default,
                  gql_vec_t *usages, int const_ctx)
{
    if (const_ctx) {
        gql_err (e, v->loc, "Unexpected variable \"$%s\" in constant value.", v->text);
        return 1;
    }
    if (usages) {
        gql_varuse_t *u = gql_alloc (e->arena, sizeof *u);
        if (!u || gql_vec_push (e->arena, usages, u) != 0) {
            e->oom = 1;
            return 1;
        }
        u->name = v->text;
        u->loc = v->loc;
        u->type = type;
        u->loc_default = loc_default;
    }
    return 0;
}

//  An object literal for input object type t: Input Object Field Names,
//  Field Uniqueness and Required Fields, then each field's value.
static int
s_check_object (gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type, gql_vec_t *usages,
                int const_ctx, int depth)
{
    const gql_type_t *t = type->type;
    if (v->kind != GQL_V_OBJECT)
        return s_bad_value (e, v, type, NULL);
    int n = 0;
    gql_names_t names;
    gql_names_init (&names, e->arena, &v->items, offsetof (gql_arg_t, name), &e->work);
    for (uint32_t i = 0; i < v->items.n; i++) {
        const gql_arg_t *f = v->items.items[i];
        const gql_input_t *def = gql_map_get (&t->input_map, f->name, strlen (f->name));
        //  A repeated name is reported against its first use.
        const gql_arg_t *g = gql_names_find (&names, f->name, &e->work);
        GQL_WORK (e, 1);
        if (g && g != f) {
            gql_err2 (e, g->loc, f->loc, "There can be only one input field named \"%s\".", f->name);
            n++;
        }
        if (!def) {
            //  Suggestions cost time; skip them once errors are no longer kept.
            gql_err (e, f->loc, "Field \"%s\" is not defined by type \"%s\".%s", f->name, t->name,
                     e->full ? "" : gql_suggest (e->arena, f->name, &t->inputs,
                                                 offsetof (gql_input_t, name)));
            n++;
            n += s_check_untyped (e, f->value, usages, const_ctx, depth + 1);
            continue;
        }
        n += s_check (e, f->value, def->type, def->def_ast != NULL, usages, const_ctx, depth + 1);
    }
    for (uint32_t j = 0; j < t->inputs.n; j++) {
        const gql_input_t *def = t->inputs.items[j];
        if (def->type->kind != GQL_T_NONNULL || def->def_ast)
            continue;
        int found = gql_names_find (&names, def->name, &e->work) != NULL;
        if (!found) {
            gql_err (e, v->loc, "Field \"%s.%s\" of required type \"%s\" was not provided.",
                     t->name, def->name, gql_tref_str (e->arena, def->type));
            n++;
        }
    }
    return n;
}

static int
s_check_enum (gql_errs_t *e, const gql_value_t *v, const gql_type_t *t)
{
    if (v->kind == GQL_V_ENUM) {
        if (gql_map_get (&t->value_map, v->text, v->len))
            return 0;
        gql_err (e, v->loc, "Value \"%s\" does not exist in \"%s\" enum.%s", v->text, t->name,
                 gql_suggest (e->arena, v->text, &t->values, GQL_NAME_SELF));
        return 1;
    }
    gql_err (e, v->loc, "Enum \"%s\" cannot represent non-enum value: %s.", t->name,
             gql_value_str (e->arena, v));
    return 1;
}

static int
s_check (gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type, int loc_default,
         gql_vec_t *usages, int const_ctx, int depth)
{
    if (depth > GQL_MAX_NESTING)
        return 0;               //  the parser refuses deeper values
    if (v->kind == GQL_V_VARIABLE)
        return s_check_variable (e, v, type, loc_default, usages, const_ctx);
    if (!type)
        return s_check_untyped (e, v, usages, const_ctx, depth);
    if (type->kind == GQL_T_NONNULL) {
        if (v->kind == GQL_V_NULL)
            return s_bad_value (e, v, type, NULL);
        return s_check (e, v, type->of, 0, usages, const_ctx, depth);
    }
    if (v->kind == GQL_V_NULL)
        return 0;
    if (type->kind == GQL_T_LIST) {
        if (v->kind != GQL_V_LIST)
            return s_check (e, v, type->of, 0, usages, const_ctx, depth + 1);
        int n = 0;
        GQL_WORK (e, v->items.n);
        for (uint32_t i = 0; i < v->items.n; i++)
            n += s_check (e, v->items.items[i], type->of, 0, usages, const_ctx, depth + 1);
        return n;
    }
    switch (type->type->kind) {
        case GQL_K_INPUT:
            return s_check_object (e, v, type, usages, const_ctx, depth);
        case GQL_K_ENUM:
            return s_check_enum (e, v, type->type);
        case GQL_K_SCALAR:
            return s_check_scalar (e, v, type, usages, const_ctx, depth);
        default:
            return 0;           //  not an input type: reported elsewhere
    }
}

int
gql_check_literal (gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type, int loc_default,
                   gql_vec_t *usages, int const_ctx)
{
    return s_check (e, v, type, loc_default, usages, const_ctx, 0);
}

// -- coercion -------------------------------------------------------------------

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

static gql_cval_t *
s_cval (s_coerce_t *c, gql_ckind_t kind)
{
    gql_cval_t *v = gql_alloc (c->a, sizeof *v);
    if (!v)
        c->e->oom = 1;
    else
        v->kind = kind;
    return v;
}

static const gql_cval_t *s_coerce (s_coerce_t *c, const gql_value_t *v, const gql_tref_t *type, int depth);

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
            gql_scalar_in_t in = s_scalar_in (v);
            return gql_scalar_coerce (c->a, c->e, GQL_S_CUSTOM, &in);
        }
        case GQL_V_LIST:
        case GQL_V_OBJECT: {
            int obj = v->kind == GQL_V_OBJECT;
            if (!(r = s_cval (c, obj ? GQL_C_OBJECT : GQL_C_LIST)))
                return NULL;
            r->items = gql_alloc_array (c->a, v->items.n, sizeof *r->items);
            r->keys = obj ? gql_alloc_array (c->a, v->items.n, sizeof *r->keys) : NULL;
            if (!r->items || (obj && !r->keys)) {
                c->e->oom = 1;
                return NULL;
            }
            for (uint32_t j = 0; j < v->items.n; j++) {
                const gql_value_t *item = obj ? ((gql_arg_t *) v->items.items[j])->value : v->items.items[j];
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
    if (!(r = s_cval (c, GQL_C_LIST)) || !(r->items = gql_alloc_array (c->a, n ? n : 1, sizeof *r->items))) {
        c->e->oom = 1;
        return NULL;
    }
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
    gql_cval_t *r;
    if (!(r = s_cval (c, GQL_C_OBJECT)) || !(r->items = gql_alloc_array (c->a, nf, sizeof *r->items))
        || !(r->keys = gql_alloc_array (c->a, nf, sizeof *r->keys))) {
        c->e->oom = 1;
        return NULL;
    }
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
            if (!(r = s_cval (c, GQL_C_ENUM)))
                return NULL;
            r->s = v->text;
            r->len = v->len;
            return r;
        case GQL_K_SCALAR:
            if (t->scalar == GQL_S_CUSTOM)
                return s_untyped (c, v, depth);
            in = s_scalar_in (v);
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
                    gql_err (e, arg->value->loc, "Argument \"%s\" of required type \"%s\" was provided the "
                             "variable \"$%s\" which was not provided a runtime value.", def->name,
                             gql_tref_str (a, def->type), arg->value->text);
                else
                    gql_err (e, loc, "%s argument \"%s\" of type \"%s\" is required, but it was not "
                             "provided.", what, def->name, gql_tref_str (a, def->type));
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
