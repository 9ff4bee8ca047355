/*  values.c: input literals checked (spec 5.6: Values of Correct Type,
 *  Input Object Field Names, Uniqueness and Required Fields) and printed
 *  for messages. Their coercion is in values_coerce.c.
 *
 *  Checking is validation: it reports every problem with its location and
 *  records where variables are used.
 */
#include "gql_internal.h"

#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  Printing

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

//  ---------------------------------------------------------------------
//  Numbers

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
gql_scalar_in_t
gql_literal_scalar_in (const gql_value_t *v)
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

//  ---------------------------------------------------------------------
//  Checking

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
            n += s_check_untyped (e, ((gql_arg_t *) v->items.items[i])->value, usages, const_ctx,
                                  depth + 1);
    return n;
}

static int
s_bad_value (gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type, const char *detail)
{
    gql_err (e, v->loc, "Expected value of type \"%s\", found %s%s%s",
             gql_tref_str (e->arena, type), gql_value_str (e->arena, v), detail ? "; " : ".",
             detail ? detail : "");
    return 1;
}

static int
s_check_scalar (gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type,
                gql_vec_t *usages, int const_ctx, int depth)
{
    if (type->type->scalar == GQL_S_CUSTOM)
        return s_check_untyped (e, v, usages, const_ctx, depth);
    gql_scalar_in_t in = gql_literal_scalar_in (v);
    switch (gql_scalar_check (type->type->scalar, &in)) {
        case GQL_SCALAR_OK:
            return 0;
        case GQL_SCALAR_RANGE:
            return s_bad_value (e, v, type,
                                "Int cannot represent non 32-bit signed integer value.");
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
            gql_err2 (e, g->loc, f->loc, "There can be only one input field named \"%s\".",
                      f->name);
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
