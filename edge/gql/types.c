/*  types.c: queries on the schema model, which every stage after schema.c
 *  asks: types, fields, directives and inputs by name, the kinds of a
 *  type, possible types, and type references compared, resolved and
 *  printed ("[String!]").
 */
#include "gql_internal.h"

#include <string.h>

const gql_type_t *
gql_schema_type (const gql_schema_t *s, const char *name)
{
    return gql_map_get (&s->type_map, name, strlen (name));
}

const gql_dirdef_t *
gql_schema_directive (const gql_schema_t *s, const char *name)
{
    return gql_map_get (&s->directive_map, name, strlen (name));
}

const gql_field_t *
gql_type_field (const gql_type_t *t, const char *name)
{
    return gql_map_get (&t->field_map, name, strlen (name));
}

const gql_input_t *
gql_input_find (const gql_vec_t *inputs, const char *name)
{
    for (uint32_t i = 0; i < inputs->n; i++) {
        const gql_input_t *in = inputs->items[i];
        if (strcmp (in->name, name) == 0)
            return in;
    }
    return NULL;
}

int
gql_type_is_composite (const gql_type_t *t)
{
    return t->kind == GQL_K_OBJECT || t->kind == GQL_K_INTERFACE || t->kind == GQL_K_UNION;
}

int
gql_type_is_abstract (const gql_type_t *t)
{
    return t->kind == GQL_K_INTERFACE || t->kind == GQL_K_UNION;
}

int
gql_type_is_leaf (const gql_type_t *t)
{
    return t->kind == GQL_K_SCALAR || t->kind == GQL_K_ENUM;
}

int
gql_type_is_input (const gql_type_t *t)
{
    return t->kind == GQL_K_SCALAR || t->kind == GQL_K_ENUM || t->kind == GQL_K_INPUT;
}

int
gql_type_is_output (const gql_type_t *t)
{
    return t->kind != GQL_K_INPUT;
}

int
gql_type_possible (const gql_type_t *t, const gql_type_t *o)
{
    if (t == o)
        return t->kind == GQL_K_OBJECT;
    if (!t->possible_bits || o->kind != GQL_K_OBJECT)
        return 0;
    return (t->possible_bits[o->index / 8] >> (o->index % 8)) & 1;
}

int
gql_types_overlap (const gql_type_t *a, const gql_type_t *b)
{
    if (a == b)
        return 1;
    for (uint32_t i = 0; i < a->possible.n; i++)
        if (gql_type_possible (b, a->possible.items[i]))
            return 1;
    return 0;
}

const gql_type_t *
gql_tref_named (const gql_tref_t *t)
{
    while (t && t->kind != GQL_T_NAMED)
        t = t->of;
    return t ? t->type : NULL;
}

int
gql_tref_equal (const gql_tref_t *a, const gql_tref_t *b)
{
    while (a && b) {
        if (a->kind != b->kind)
            return 0;
        if (a->kind == GQL_T_NAMED)
            return a->type == b->type;
        a = a->of;
        b = b->of;
    }
    return a == b;
}

int
gql_tref_subtype (const gql_tref_t *sub, const gql_tref_t *super)
{
    if (sub->kind == GQL_T_NONNULL)
        return gql_tref_subtype (sub->of, super->kind == GQL_T_NONNULL ? super->of : super);
    if (super->kind == GQL_T_NONNULL)
        return 0;
    if (sub->kind == GQL_T_LIST || super->kind == GQL_T_LIST)
        return sub->kind == super->kind && gql_tref_subtype (sub->of, super->of);
    if (sub->type == super->type)
        return 1;
    if (super->type->kind == GQL_K_UNION)
        return gql_type_possible (super->type, sub->type);
    if (super->type->kind == GQL_K_INTERFACE)
        for (uint32_t i = 0; i < sub->type->interfaces.n; i++)
            if (sub->type->interfaces.items[i] == super->type)
                return 1;
    return 0;
}

static void
s_tref_print (jbuf_t *b, const gql_tref_t *t)
{
    switch (t->kind) {
        case GQL_T_NAMED:
            jbuf_puts (b, t->type->name);
            break;
        case GQL_T_LIST:
            jbuf_putc (b, '[');
            s_tref_print (b, t->of);
            jbuf_putc (b, ']');
            break;
        case GQL_T_NONNULL:
            s_tref_print (b, t->of);
            jbuf_putc (b, '!');
            break;
    }
}

const char *
gql_tref_str (gql_arena_t *a, const gql_tref_t *t)
{
    if (!t)
        return "?";
    jbuf_t b;
    jbuf_init (&b, 0);
    s_tref_print (&b, t);
    const char *out = jbuf_failed (&b) ? NULL : gql_strndup (a, b.data, b.len);
    jbuf_free (&b);
    return out ? out : "?";
}

const gql_tref_t *
gql_tref_resolve (gql_arena_t *a, const gql_schema_t *s, const gql_typeref_t *ast,
                  const gql_typeref_t **unknown)
{
    gql_tref_t *t = gql_alloc (a, sizeof *t);
    if (!t)
        return NULL;
    t->kind = ast->kind;
    if (ast->kind == GQL_T_NAMED) {
        t->type = gql_schema_type (s, ast->name);
        if (!t->type) {
            *unknown = ast;
            return NULL;
        }
        return t;
    }
    t->of = gql_tref_resolve (a, s, ast->of, unknown);
    return t->of ? t : NULL;
}
