/*  schema.c: SDL text to a schema model (spec section 3), and the model's
 *  own tables: its types and directives by name, the built-in scalars and
 *  directives, and the directive locations.
 *
 *  gql_schema_new runs the loader's passes over the parsed document:
 *  create every named type and directive and fill in members, definitions
 *  and `extend` forms in document order (schema_sdl.c); find the root
 *  types; check implementations, unions and input cycles, coerce default
 *  values and check every directive application (schema_check.c); and
 *  compile each subscription field's @topic template (topic.c). All
 *  errors are collected, so an operator sees every problem at once.
 */
#include "gql_internal.h"
#include "schema_build.h"

#include <stdlib.h>
#include <string.h>

static const char *const s_dirloc_names[] = {
    "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
    "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA", "SCALAR", "OBJECT", "FIELD_DEFINITION",
    "ARGUMENT_DEFINITION", "INTERFACE", "UNION", "ENUM", "ENUM_VALUE", "INPUT_OBJECT",
    "INPUT_FIELD_DEFINITION",
};

const char *
gql_dirloc_name (uint32_t bit)
{
    for (uint32_t i = 0; i < sizeof s_dirloc_names / sizeof s_dirloc_names[0]; i++)
        if (bit == 1u << i)
            return s_dirloc_names[i];
    return "?";
}

uint32_t
gql_dirloc_bit (const char *name)
{
    for (uint32_t i = 0; i < sizeof s_dirloc_names / sizeof s_dirloc_names[0]; i++)
        if (strcmp (name, s_dirloc_names[i]) == 0)
            return 1u << i;
    return 0;
}

const char *
gql_build_kind_name (gql_kind_t k)
{
    switch (k) {
        case GQL_K_SCALAR: return "scalar";
        case GQL_K_OBJECT: return "object type";
        case GQL_K_INTERFACE: return "interface";
        case GQL_K_UNION: return "union";
        case GQL_K_ENUM: return "enum";
        case GQL_K_INPUT: return "input object";
    }
    return "?";
}

const char *
gql_build_kind_article (gql_kind_t k)
{
    return strchr ("aeiou", gql_build_kind_name (k)[0]) ? "an" : "a";
}
int
gql_build_oom (gql_build_t *b)
{
    b->e->oom = 1;
    return -1;
}

int
gql_build_reserved (gql_build_t *b, const char *name, uint32_t loc)
{
    if (name[0] == '_' && name[1] == '_') {
        gql_err (b->e, loc, "name \"%s\" is reserved: names starting with \"__\" belong to "
                 "introspection", name);
        return 1;
    }
    return 0;
}

gql_type_t *
gql_build_add_type (gql_build_t *b, gql_kind_t kind, const char *name, uint32_t loc, int builtin)
{
    gql_type_t *t = gql_alloc (b->a, sizeof *t);
    if (!t) {
        gql_build_oom (b);
        return NULL;
    }
    t->kind = kind;
    t->name = name;
    t->loc = loc;
    t->builtin = builtin;
    void *old = NULL;
    int rc = gql_map_put (b->a, &b->s->type_map, name, strlen (name), t, &old);
    if (rc < 0) {
        gql_build_oom (b);
        return NULL;
    }
    if (rc == 0) {
        const gql_type_t *o = old;
        if (o->builtin)
            gql_err (b->e, loc, "type \"%s\" is built in and cannot be redefined", name);
        else
            gql_err2 (b->e, loc, o->loc, "type \"%s\" is defined more than once", name);
        return NULL;
    }
    t->index = b->s->types.n;
    if (gql_vec_push (b->a, &b->s->types, t) != 0
        || gql_vec_push (b->a, &b->type_names, (void *) name) != 0) {
        gql_build_oom (b);
        return NULL;
    }
    return t;
}

static gql_tref_t *
s_tref (gql_build_t *b, gql_tkind_t kind, const gql_type_t *type, const gql_tref_t *of)
{
    gql_tref_t *t = gql_alloc (b->a, sizeof *t);
    if (!t) {
        gql_build_oom (b);
        return NULL;
    }
    t->kind = kind;
    t->type = type;
    t->of = of;
    return t;
}

gql_dirdef_t *
gql_build_add_directive (gql_build_t *b, const char *name, uint32_t loc, uint32_t locations,
                         int builtin)
{
    gql_dirdef_t *d = gql_alloc (b->a, sizeof *d);
    if (!d) {
        gql_build_oom (b);
        return NULL;
    }
    d->name = name;
    d->loc = loc;
    d->locations = locations;
    d->builtin = builtin;
    if (gql_map_put (b->a, &b->s->directive_map, name, strlen (name), d, NULL) < 0
        || gql_vec_push (b->a, &b->s->directives, d) != 0) {
        gql_build_oom (b);
        return NULL;
    }
    return d;
}

int
gql_build_add_arg (gql_build_t *b, gql_vec_t *args, const char *name, const gql_tref_t *type,
                   const gql_cval_t *def)
{
    gql_input_t *in = gql_alloc (b->a, sizeof *in);
    if (!in || !type || gql_vec_push (b->a, args, in) != 0)
        return gql_build_oom (b);
    in->name = name;
    in->loc = GQL_NOLOC;
    in->type = type;
    in->def = def;
    return 0;
}

static int
s_builtins (gql_build_t *b)
{
    static const struct { const char *name; gql_scalar_t scalar; } scalars[] = {
        { "Int", GQL_S_INT }, { "Float", GQL_S_FLOAT }, { "String", GQL_S_STRING },
        { "Boolean", GQL_S_BOOLEAN }, { "ID", GQL_S_ID },
    };
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        gql_type_t *t = gql_build_add_type (b, GQL_K_SCALAR, scalars[i].name, GQL_NOLOC, 1);
        if (!t)
            return -1;
        t->scalar = scalars[i].scalar;
    }
    gql_schema_t *s = b->s;
    s->t_string = gql_schema_type (s, "String");
    s->t_boolean = gql_schema_type (s, "Boolean");
    const gql_tref_t *boolean_nn =
        s_tref (b, GQL_T_NONNULL, NULL, s_tref (b, GQL_T_NAMED, s->t_boolean, NULL));
    const gql_tref_t *string = s_tref (b, GQL_T_NAMED, s->t_string, NULL);
    const gql_tref_t *string_nn = s_tref (b, GQL_T_NONNULL, NULL, string);
    gql_cval_t *reason = gql_alloc (b->a, sizeof *reason);
    if (!boolean_nn || !string_nn || !reason)
        return gql_build_oom (b);
    reason->kind = GQL_C_STRING;
    reason->s = "No longer supported";
    reason->len = strlen (reason->s);
    uint32_t cond = GQL_DL_FIELD | GQL_DL_FRAGMENT_SPREAD | GQL_DL_INLINE_FRAGMENT;
    gql_dirdef_t *d;
    if (!(d = gql_build_add_directive (b, "skip", GQL_NOLOC, cond, 1))
        || gql_build_add_arg (b, &d->args, "if", boolean_nn, NULL))
        return -1;
    s->d_skip = d;
    if (!(d = gql_build_add_directive (b, "include", GQL_NOLOC, cond, 1))
        || gql_build_add_arg (b, &d->args, "if", boolean_nn, NULL))
        return -1;
    s->d_include = d;
    if (!(d = gql_build_add_directive (b, "deprecated", GQL_NOLOC,
                                       GQL_DL_FIELD_DEFINITION | GQL_DL_ARGUMENT_DEFINITION
                                           | GQL_DL_INPUT_FIELD_DEFINITION | GQL_DL_ENUM_VALUE,
                                       1))
        || gql_build_add_arg (b, &d->args, "reason", string, reason))
        return -1;
    if (!(d = gql_build_add_directive (b, "specifiedBy", GQL_NOLOC, GQL_DL_SCALAR, 1))
        || gql_build_add_arg (b, &d->args, "url", string_nn, NULL))
        return -1;
    s->typename_field.name = "__typename";
    s->typename_field.loc = GQL_NOLOC;
    s->typename_field.type = string_nn;
    return 0;
}

gql_schema_t *
gql_schema_new (const char *sdl, size_t len, char **err)
{
    if (!sdl) {
        sdl = "";
        len = 0;
    }
    gql_schema_t *s = calloc (1, sizeof *s);
    gql_arena_t tmp;
    gql_arena_init (&tmp, 4096);
    gql_errs_t errs;
    gql_errs_init (&errs, &tmp);
    gql_src_t src = { .text = sdl, .len = len };
    if (err)
        *err = NULL;
    if (!s) {
        errs.oom = 1;
        goto out;
    }
    gql_arena_init (&s->arena, 4096);
    gql_build_t b = { .s = s, .a = &s->arena, .e = &errs };
    b.doc = gql_parse (&s->arena, sdl, len, &errs);
    if (!b.doc)
        goto out;
    if (s_builtins (&b) != 0)
        goto out;
    gql_build_types (&b);
    gql_build_directive_defs (&b);
    if (gql_errs_count (&errs))
        goto out;               //  later passes assume every type resolved
    gql_build_roots (&b);
    gql_build_check_types (&b);
    gql_build_defaults (&b);
    gql_build_applications (&b);
    gql_topic_compile (s, &errs);
out:
    if (!s || gql_errs_count (&errs)) {
        if (err)
            *err = gql_errs_text (&errs, &src);
        if (s)
            gql_arena_free (&s->arena);
        free (s);
        s = NULL;
    }
    gql_arena_free (&tmp);
    return s;
}

void
gql_schema_destroy (gql_schema_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gql_arena_free (&(*self_p)->arena);
    free (*self_p);
    *self_p = NULL;
}

int
gql_schema_subscription_field (const gql_schema_t *self, size_t i, const char **name,
                               char *topic, size_t size)
{
    const gql_type_t *root = self ? self->subscription : NULL;
    if (!root || i >= root->fields.n || !topic || size == 0)
        return -1;
    const gql_field_t *f = root->fields.items[i];
    *name = f->name;
    return gql_topic_template (f, topic, size);
}
