/*  schema.c: SDL text to a schema model, with the type-system validation
 *  a server needs before it can trust its schema (spec section 3).
 *
 *  The model is built in passes over the parsed document: create every
 *  named type and directive, fill in members (definitions and `extend`
 *  forms, in document order), find the root types, check implementations,
 *  unions and input cycles, coerce default values, check every directive
 *  application, and compile each subscription field's @topic template
 *  (topic.c).
 *  All errors are collected, so an operator sees every problem at once.
 */
#include "gql_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    gql_schema_t *s;
    gql_arena_t *a;
    gql_errs_t *e;
    gql_doc_t *doc;
    gql_vec_t type_names;       //  for suggestions
} s_build_t;

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

static const char *
s_kind_name (gql_kind_t k)
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

// -- building ------------------------------------------------------------------------

static int
s_oom (s_build_t *b)
{
    b->e->oom = 1;
    return -1;
}

static int
s_reserved (s_build_t *b, const char *name, uint32_t loc)
{
    if (name[0] == '_' && name[1] == '_') {
        gql_err (b->e, loc, "name \"%s\" is reserved: names starting with \"__\" belong to "
                 "introspection", name);
        return 1;
    }
    return 0;
}

static gql_type_t *
s_add_type (s_build_t *b, gql_kind_t kind, const char *name, uint32_t loc, int builtin)
{
    gql_type_t *t = gql_alloc (b->a, sizeof *t);
    if (!t) {
        s_oom (b);
        return NULL;
    }
    t->kind = kind;
    t->name = name;
    t->loc = loc;
    t->builtin = builtin;
    void *old = NULL;
    int rc = gql_map_put (b->a, &b->s->type_map, name, strlen (name), t, &old);
    if (rc < 0) {
        s_oom (b);
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
    if (gql_vec_push (b->a, &b->s->types, t) != 0 || gql_vec_push (b->a, &b->type_names, (void *) name) != 0) {
        s_oom (b);
        return NULL;
    }
    return t;
}

static gql_tref_t *
s_tref (s_build_t *b, gql_tkind_t kind, const gql_type_t *type, const gql_tref_t *of)
{
    gql_tref_t *t = gql_alloc (b->a, sizeof *t);
    if (!t) {
        s_oom (b);
        return NULL;
    }
    t->kind = kind;
    t->type = type;
    t->of = of;
    return t;
}

static gql_dirdef_t *
s_add_directive (s_build_t *b, const char *name, uint32_t loc, uint32_t locations, int builtin)
{
    gql_dirdef_t *d = gql_alloc (b->a, sizeof *d);
    if (!d) {
        s_oom (b);
        return NULL;
    }
    d->name = name;
    d->loc = loc;
    d->locations = locations;
    d->builtin = builtin;
    if (gql_map_put (b->a, &b->s->directive_map, name, strlen (name), d, NULL) < 0
        || gql_vec_push (b->a, &b->s->directives, d) != 0) {
        s_oom (b);
        return NULL;
    }
    return d;
}

static int
s_add_arg (s_build_t *b, gql_vec_t *args, const char *name, const gql_tref_t *type, const gql_cval_t *def)
{
    gql_input_t *in = gql_alloc (b->a, sizeof *in);
    if (!in || !type || gql_vec_push (b->a, args, in) != 0)
        return s_oom (b);
    in->name = name;
    in->loc = GQL_NOLOC;
    in->type = type;
    in->def = def;
    return 0;
}

static int
s_builtins (s_build_t *b)
{
    static const struct { const char *name; gql_scalar_t scalar; } scalars[] = {
        { "Int", GQL_S_INT }, { "Float", GQL_S_FLOAT }, { "String", GQL_S_STRING },
        { "Boolean", GQL_S_BOOLEAN }, { "ID", GQL_S_ID },
    };
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        gql_type_t *t = s_add_type (b, GQL_K_SCALAR, scalars[i].name, GQL_NOLOC, 1);
        if (!t)
            return -1;
        t->scalar = scalars[i].scalar;
    }
    gql_schema_t *s = b->s;
    s->t_string = gql_schema_type (s, "String");
    s->t_boolean = gql_schema_type (s, "Boolean");
    const gql_tref_t *boolean_nn = s_tref (b, GQL_T_NONNULL, NULL, s_tref (b, GQL_T_NAMED, s->t_boolean, NULL));
    const gql_tref_t *string = s_tref (b, GQL_T_NAMED, s->t_string, NULL);
    const gql_tref_t *string_nn = s_tref (b, GQL_T_NONNULL, NULL, string);
    gql_cval_t *reason = gql_alloc (b->a, sizeof *reason);
    if (!boolean_nn || !string_nn || !reason)
        return s_oom (b);
    reason->kind = GQL_C_STRING;
    reason->s = "No longer supported";
    reason->len = strlen (reason->s);
    uint32_t cond = GQL_DL_FIELD | GQL_DL_FRAGMENT_SPREAD | GQL_DL_INLINE_FRAGMENT;
    gql_dirdef_t *d;
    if (!(d = s_add_directive (b, "skip", GQL_NOLOC, cond, 1)) || s_add_arg (b, &d->args, "if", boolean_nn, NULL))
        return -1;
    s->d_skip = d;
    if (!(d = s_add_directive (b, "include", GQL_NOLOC, cond, 1)) || s_add_arg (b, &d->args, "if", boolean_nn, NULL))
        return -1;
    s->d_include = d;
    if (!(d = s_add_directive (b, "deprecated", GQL_NOLOC, GQL_DL_FIELD_DEFINITION | GQL_DL_ARGUMENT_DEFINITION
                                | GQL_DL_INPUT_FIELD_DEFINITION | GQL_DL_ENUM_VALUE, 1))
        || s_add_arg (b, &d->args, "reason", string, reason))
        return -1;
    if (!(d = s_add_directive (b, "specifiedBy", GQL_NOLOC, GQL_DL_SCALAR, 1))
        || s_add_arg (b, &d->args, "url", string_nn, NULL))
        return -1;
    s->typename_field.name = "__typename";
    s->typename_field.loc = GQL_NOLOC;
    s->typename_field.type = string_nn;
    return 0;
}

static void
s_unknown_type (s_build_t *b, const char *name, uint32_t loc)
{
    const char *hint = gql_suggest (b->a, name, &b->type_names, GQL_NAME_SELF);
    gql_err (b->e, loc, "unknown type \"%s\"%s%s", name, *hint ? "." : "", hint);
}

static const gql_tref_t *
s_resolve (s_build_t *b, const gql_typeref_t *ast)
{
    const gql_typeref_t *unknown = NULL;
    const gql_tref_t *t = gql_tref_resolve (b->a, b->s, ast, &unknown);
    if (!t && unknown)
        s_unknown_type (b, unknown->name, unknown->loc);
    else if (!t)
        s_oom (b);
    return t;
}

//  Argument or input field definitions into gql_input_t.
static void
s_inputs (s_build_t *b, gql_vec_t *out, gql_map_t *map, const gql_vec_t *ivdefs,
          const char *what, const char *owner)
{
    for (uint32_t i = 0; i < ivdefs->n; i++) {
        const gql_ivdef_t *iv = ivdefs->items[i];
        s_reserved (b, iv->name, iv->loc);
        int dup = 0;
        for (uint32_t j = 0; j < out->n && !dup; j++)
            dup = strcmp (((gql_input_t *) out->items[j])->name, iv->name) == 0;
        if (dup) {
            gql_err (b->e, iv->loc, "%s \"%s%s\" is defined more than once", what, owner,
                     strcmp (what, "argument") == 0 ? gql_sprintf (b->a, "(%s:)", iv->name)
                                                    : gql_sprintf (b->a, ".%s", iv->name));
            continue;
        }
        const gql_tref_t *type = s_resolve (b, iv->type);
        if (!type)
            continue;
        const gql_type_t *named = gql_tref_named (type);
        if (!gql_type_is_input (named)) {
            gql_err (b->e, iv->type->loc, "the type of %s \"%s%s\" must be an input type, not %s \"%s\"",
                     what, owner, strcmp (what, "argument") == 0 ? gql_sprintf (b->a, "(%s:)", iv->name)
                                                                 : gql_sprintf (b->a, ".%s", iv->name),
                     s_kind_name (named->kind), named->name);
            continue;
        }
        gql_input_t *in = gql_alloc (b->a, sizeof *in);
        if (!in || gql_vec_push (b->a, out, in) != 0
            || (map && gql_map_put (b->a, map, iv->name, strlen (iv->name), in, NULL) < 0)) {
            s_oom (b);
            return;
        }
        in->name = iv->name;
        in->loc = iv->loc;
        in->type = type;
        in->def_ast = iv->def;
    }
}

static void
s_fill_fields (s_build_t *b, gql_type_t *t, const gql_tdef_t *td)
{
    for (uint32_t i = 0; i < td->fields.n; i++) {
        const gql_fdef_t *fd = td->fields.items[i];
        s_reserved (b, fd->name, fd->loc);
        gql_field_t *f = gql_alloc (b->a, sizeof *f);
        if (!f) {
            s_oom (b);
            return;
        }
        f->name = fd->name;
        f->loc = fd->loc;
        f->owner = t;
        f->ast = fd;
        int rc = gql_map_put (b->a, &t->field_map, fd->name, strlen (fd->name), f, NULL);
        if (rc < 0) {
            s_oom (b);
            return;
        }
        if (rc == 0) {
            gql_err (b->e, fd->loc, "field \"%s.%s\" is defined more than once", t->name, fd->name);
            continue;
        }
        if (gql_vec_push (b->a, &t->fields, f) != 0) {
            s_oom (b);
            return;
        }
        f->type = s_resolve (b, fd->type);
        if (f->type && !gql_type_is_output (gql_tref_named (f->type)))
            gql_err (b->e, fd->type->loc, "the type of field \"%s.%s\" must be an output type, not "
                     "input object \"%s\"", t->name, fd->name, gql_tref_named (f->type)->name);
        s_inputs (b, &f->args, NULL, &fd->args, "argument", gql_sprintf (b->a, "%s.%s", t->name, fd->name));
    }
}

static void
s_fill_interfaces (s_build_t *b, gql_type_t *t, const gql_tdef_t *td)
{
    for (uint32_t i = 0; i < td->interfaces.n; i++) {
        const gql_nameref_t *n = td->interfaces.items[i];
        gql_type_t *it = (gql_type_t *) gql_schema_type (b->s, n->name);
        if (!it) {
            s_unknown_type (b, n->name, n->loc);
            continue;
        }
        if (it->kind != GQL_K_INTERFACE) {
            gql_err (b->e, n->loc, "type \"%s\" cannot implement \"%s\": it is %s %s, not an interface",
                     t->name, it->name, it->kind == GQL_K_INPUT || it->kind == GQL_K_OBJECT
                     || it->kind == GQL_K_ENUM ? "an" : "a", s_kind_name (it->kind));
            continue;
        }
        if (it == t) {
            gql_err (b->e, n->loc, "type \"%s\" cannot implement itself", t->name);
            continue;
        }
        int dup = 0;
        for (uint32_t j = 0; j < t->interfaces.n && !dup; j++)
            dup = t->interfaces.items[j] == it;
        if (dup) {
            gql_err (b->e, n->loc, "type \"%s\" implements \"%s\" more than once", t->name, it->name);
            continue;
        }
        if (gql_vec_push (b->a, &t->interfaces, it) != 0)
            s_oom (b);
    }
}

static void
s_fill (s_build_t *b, gql_type_t *t, const gql_tdef_t *td)
{
    switch (t->kind) {
        case GQL_K_OBJECT:
        case GQL_K_INTERFACE:
            s_fill_interfaces (b, t, td);
            s_fill_fields (b, t, td);
            break;
        case GQL_K_UNION:
            for (uint32_t i = 0; i < td->members.n; i++) {
                const gql_nameref_t *n = td->members.items[i];
                gql_type_t *m = (gql_type_t *) gql_schema_type (b->s, n->name);
                if (!m) {
                    s_unknown_type (b, n->name, n->loc);
                    continue;
                }
                if (m->kind != GQL_K_OBJECT) {
                    gql_err (b->e, n->loc, "union \"%s\" can only include object types, and \"%s\" is %s %s",
                             t->name, m->name, m->kind == GQL_K_INPUT || m->kind == GQL_K_INTERFACE
                             || m->kind == GQL_K_ENUM ? "an" : "a", s_kind_name (m->kind));
                    continue;
                }
                int dup = 0;
                for (uint32_t j = 0; j < t->possible.n && !dup; j++)
                    dup = t->possible.items[j] == m;
                if (dup)
                    gql_err (b->e, n->loc, "union \"%s\" includes \"%s\" more than once", t->name, m->name);
                else if (gql_vec_push (b->a, &t->possible, m) != 0)
                    s_oom (b);
            }
            break;
        case GQL_K_ENUM:
            for (uint32_t i = 0; i < td->values.n; i++) {
                const gql_evdef_t *ev = td->values.items[i];
                s_reserved (b, ev->name, ev->loc);
                int rc = gql_map_put (b->a, &t->value_map, ev->name, strlen (ev->name), (void *) ev->name, NULL);
                if (rc < 0)
                    s_oom (b);
                else if (rc == 0)
                    gql_err (b->e, ev->loc, "enum value \"%s.%s\" is defined more than once", t->name, ev->name);
                else if (gql_vec_push (b->a, &t->values, (void *) ev->name) != 0)
                    s_oom (b);
            }
            break;
        case GQL_K_INPUT:
            s_inputs (b, &t->inputs, &t->input_map, &td->inputs, "input field", t->name);
            break;
        case GQL_K_SCALAR:
            break;
    }
}

//  A user's own declaration of @topic is welcome (tools that check the
//  SDL need one), but it must be the one herald understands.
static void
s_check_topic_decl (s_build_t *b, const gql_dirdef_t *d)
{
    const gql_input_t *name = gql_input_find (&d->args, "name");
    if (!name || name->type->kind != GQL_T_NONNULL || name->type->of->kind != GQL_T_NAMED
        || name->type->of->type != b->s->t_string || !(d->locations & GQL_DL_FIELD_DEFINITION)) {
        gql_err (b->e, d->loc, "directive \"@topic\" must be declared as "
                 "\"directive @topic(name: String!) on FIELD_DEFINITION\"");
        return;
    }
    for (uint32_t i = 0; i < d->args.n; i++) {
        const gql_input_t *in = d->args.items[i];
        if (in != name && in->type->kind == GQL_T_NONNULL && !in->def_ast)
            gql_err (b->e, in->loc, "directive \"@topic\" may not have other required arguments");
    }
}

static void
s_directive_defs (s_build_t *b)
{
    static const char *const builtin[] = { "skip", "include", "deprecated", "specifiedBy" };
    //  Create them all first: one directive's arguments cannot refer to
    //  another, but application checks below need every definition.
    for (uint32_t i = 0; i < b->doc->defs.n; i++) {
        const gql_def_t *def = b->doc->defs.items[i];
        if (def->kind != GQL_D_DIRECTIVE)
            continue;
        const gql_ddef_t *dd = def->u.directive;
        s_reserved (b, dd->name, dd->loc);
        int is_builtin = 0;
        for (size_t j = 0; j < sizeof builtin / sizeof builtin[0]; j++)
            is_builtin |= strcmp (dd->name, builtin[j]) == 0;
        if (is_builtin) {
            gql_err (b->e, dd->loc, "directive \"@%s\" is built in and cannot be redefined", dd->name);
            continue;
        }
        const gql_dirdef_t *old = gql_schema_directive (b->s, dd->name);
        if (old) {
            gql_err2 (b->e, dd->loc, old->loc, "directive \"@%s\" is defined more than once", dd->name);
            continue;
        }
        uint32_t locations = 0;
        for (uint32_t j = 0; j < dd->locations.n; j++) {
            const gql_nameref_t *n = dd->locations.items[j];
            uint32_t bit = gql_dirloc_bit (n->name);
            if (locations & bit)
                gql_err (b->e, n->loc, "directive \"@%s\" lists location %s more than once", dd->name, n->name);
            locations |= bit;
        }
        gql_dirdef_t *d = s_add_directive (b, dd->name, dd->loc, locations, 0);
        if (!d)
            return;
        d->repeatable = dd->repeatable;
        s_inputs (b, &d->args, NULL, &dd->args, "argument", gql_sprintf (b->a, "@%s", dd->name));
        if (strcmp (dd->name, "topic") == 0)
            s_check_topic_decl (b, d);
    }
    if (!gql_schema_directive (b->s, "topic")) {
        const gql_tref_t *string_nn = b->s->typename_field.type;
        gql_dirdef_t *d = s_add_directive (b, "topic", GQL_NOLOC, GQL_DL_FIELD_DEFINITION, 1);
        if (d)
            s_add_arg (b, &d->args, "name", string_nn, NULL);
    }
}

static void
s_types (s_build_t *b)
{
    //  Pass 1: every named type, so that members can refer to any of them.
    for (uint32_t i = 0; i < b->doc->defs.n; i++) {
        const gql_def_t *def = b->doc->defs.items[i];
        if (def->kind == GQL_D_OPERATION || def->kind == GQL_D_FRAGMENT) {
            gql_err (b->e, def->loc, "executable definitions (operations and fragments) are not "
                     "allowed in a schema");
            continue;
        }
        if (def->kind != GQL_D_TYPE || def->u.type->extend)
            continue;
        const gql_tdef_t *td = def->u.type;
        if (s_reserved (b, td->name, td->loc))
            continue;
        s_add_type (b, td->kind, td->name, td->loc, 0);
    }
    //  Pass 2: members, from definitions and extensions in order.
    for (uint32_t i = 0; i < b->doc->defs.n; i++) {
        const gql_def_t *def = b->doc->defs.items[i];
        if (def->kind != GQL_D_TYPE)
            continue;
        const gql_tdef_t *td = def->u.type;
        gql_type_t *t = (gql_type_t *) gql_schema_type (b->s, td->name);
        if (!t && !td->extend)
            ;                   //  a reserved name, already reported
        else if (!t)
            gql_err (b->e, td->loc, "cannot extend type \"%s\": it is not defined", td->name);
        else if (td->extend && t->kind != td->kind)
            gql_err (b->e, td->loc, "cannot extend \"%s\" as %s %s: it is %s %s", td->name,
                     td->kind == GQL_K_OBJECT || td->kind == GQL_K_INTERFACE || td->kind == GQL_K_INPUT
                     || td->kind == GQL_K_ENUM ? "an" : "a", s_kind_name (td->kind),
                     t->kind == GQL_K_OBJECT || t->kind == GQL_K_INTERFACE || t->kind == GQL_K_INPUT
                     || t->kind == GQL_K_ENUM ? "an" : "a", s_kind_name (t->kind));
        else if (!td->extend && t->loc != td->loc)
            ;                   //  a duplicate definition, already reported
        else
            s_fill (b, t, td);
    }
}

static void
s_roots (s_build_t *b)
{
    gql_schema_t *s = b->s;
    const gql_type_t **slot[] = { &s->query, &s->mutation, &s->subscription };
    static const char *const opname[] = { "query", "mutation", "subscription" };
    int have_schema = 0;
    uint32_t schema_loc = GQL_NOLOC;
    for (uint32_t i = 0; i < b->doc->defs.n; i++) {
        const gql_def_t *def = b->doc->defs.items[i];
        if (def->kind != GQL_D_SCHEMA)
            continue;
        const gql_sdef_t *sd = def->u.schema;
        if (!sd->extend) {
            if (have_schema) {
                gql_err2 (b->e, sd->loc, schema_loc, "there can be only one schema definition");
                continue;
            }
            have_schema = 1;
            schema_loc = sd->loc;
        }
        for (uint32_t j = 0; j < sd->ops.n; j++) {
            const gql_opref_t *o = sd->ops.items[j];
            const gql_type_t *t = gql_schema_type (s, o->type);
            if (*slot[o->op]) {
                gql_err (b->e, o->loc, "the %s root type is defined more than once", opname[o->op]);
                continue;
            }
            if (!t) {
                s_unknown_type (b, o->type, o->loc);
                continue;
            }
            if (t->kind != GQL_K_OBJECT) {
                gql_err (b->e, o->loc, "the %s root type must be an object type, and \"%s\" is %s %s",
                         opname[o->op], t->name, t->kind == GQL_K_INTERFACE || t->kind == GQL_K_INPUT
                         || t->kind == GQL_K_ENUM ? "an" : "a", s_kind_name (t->kind));
                continue;
            }
            *slot[o->op] = t;
        }
    }
    if (!have_schema) {
        //  Without a schema definition the roots are found by name.
        static const char *const names[] = { "Query", "Mutation", "Subscription" };
        for (int k = 0; k < 3; k++) {
            const gql_type_t *t = gql_schema_type (s, names[k]);
            if (!t || *slot[k])
                continue;
            if (t->kind != GQL_K_OBJECT)
                gql_err (b->e, t->loc, "the %s root type must be an object type, and \"%s\" is %s %s",
                         opname[k], t->name, t->kind == GQL_K_INTERFACE || t->kind == GQL_K_INPUT
                         || t->kind == GQL_K_ENUM ? "an" : "a", s_kind_name (t->kind));
            else
                *slot[k] = t;
        }
    }
    if (!s->subscription)
        gql_err (b->e, GQL_NOLOC, "the schema has no subscription root type: define "
                 "\"type Subscription\", or name one in \"schema { subscription: ... }\"");
    //  Spec 3.3.1: the root types must all be different types.
    for (int k = 0; k < 3; k++)
        for (int j = k + 1; j < 3; j++)
            if (*slot[k] && *slot[k] == *slot[j])
                gql_err (b->e, (*slot[k])->loc, "\"%s\" cannot be both the %s and the %s root type",
                         (*slot[k])->name, opname[k], opname[j]);
}

//  Spec 3.6.x IsValidImplementation: t must provide every field of the
//  interface it, with a compatible type and the same arguments.
static void
s_check_implementation (s_build_t *b, const gql_type_t *t, const gql_type_t *it)
{
    for (uint32_t i = 0; i < it->interfaces.n; i++) {
        const gql_type_t *j = it->interfaces.items[i];
        int found = j == t;
        for (uint32_t k = 0; k < t->interfaces.n && !found; k++)
            found = t->interfaces.items[k] == j;
        if (!found)
            gql_err (b->e, t->loc, "type \"%s\" must implement \"%s\" because it is implemented by \"%s\"",
                     t->name, j->name, it->name);
    }
    for (uint32_t i = 0; i < it->fields.n; i++) {
        const gql_field_t *f = it->fields.items[i];
        const gql_field_t *g = gql_type_field (t, f->name);
        if (!g) {
            gql_err2 (b->e, t->loc, f->loc, "interface field \"%s.%s\" expected but \"%s\" does not provide it",
                      it->name, f->name, t->name);
            continue;
        }
        if (!f->type || !g->type)
            continue;
        if (!gql_tref_subtype (g->type, f->type))
            gql_err2 (b->e, g->loc, f->loc, "interface field \"%s.%s\" expects type \"%s\" but \"%s.%s\" "
                      "is type \"%s\"", it->name, f->name, gql_tref_str (b->a, f->type), t->name, g->name,
                      gql_tref_str (b->a, g->type));
        for (uint32_t k = 0; k < f->args.n; k++) {
            const gql_input_t *fa = f->args.items[k];
            const gql_input_t *ga = gql_input_find (&g->args, fa->name);
            if (!ga)
                gql_err2 (b->e, g->loc, fa->loc, "interface field argument \"%s.%s(%s:)\" expected but "
                          "\"%s.%s\" does not provide it", it->name, f->name, fa->name, t->name, g->name);
            else if (!gql_tref_equal (fa->type, ga->type))
                gql_err2 (b->e, ga->loc, fa->loc, "interface field argument \"%s.%s(%s:)\" expects type "
                          "\"%s\" but \"%s.%s(%s:)\" is type \"%s\"", it->name, f->name, fa->name,
                          gql_tref_str (b->a, fa->type), t->name, g->name, ga->name,
                          gql_tref_str (b->a, ga->type));
        }
        for (uint32_t k = 0; k < g->args.n; k++) {
            const gql_input_t *ga = g->args.items[k];
            if (ga->type->kind == GQL_T_NONNULL && !ga->def_ast && !gql_input_find (&f->args, ga->name))
                gql_err2 (b->e, ga->loc, f->loc, "field \"%s.%s\" includes required argument \"%s\" that "
                          "is missing from the interface field \"%s.%s\"", t->name, g->name, ga->name,
                          it->name, f->name);
        }
    }
}

//  An input object may not require itself through non-null fields: no
//  finite value could be written.
static int
s_input_cycle (s_build_t *b, const gql_type_t *start, const gql_type_t *t, uint8_t *seen,
               const char **path, int depth)
{
    if (depth >= GQL_MAX_NESTING)
        return 0;
    seen[t->index] = 1;
    for (uint32_t i = 0; i < t->inputs.n; i++) {
        const gql_input_t *in = t->inputs.items[i];
        if (in->type->kind != GQL_T_NONNULL || in->type->of->kind != GQL_T_NAMED)
            continue;
        const gql_type_t *ft = in->type->of->type;
        if (ft->kind != GQL_K_INPUT)
            continue;
        path[depth] = in->name;
        if (ft == start) {
            jbuf_t p;
            jbuf_init (&p, 0);
            for (int k = 0; k <= depth; k++) {
                if (k)
                    jbuf_putc (&p, '.');
                jbuf_puts (&p, path[k]);
            }
            gql_err (b->e, start->loc, "input object \"%s\" cannot refer to itself through a series "
                     "of non-null fields: \"%.*s\"", start->name, (int) p.len, p.data ? p.data : "");
            jbuf_free (&p);
            return 1;
        }
        if (!seen[ft->index] && s_input_cycle (b, start, ft, seen, path, depth + 1))
            return 1;
    }
    return 0;
}

static void
s_check_types (s_build_t *b)
{
    gql_schema_t *s = b->s;
    uint32_t nbytes = (s->types.n + 7) / 8;
    //  Possible types of abstract types, as lists and bitmaps.
    for (uint32_t i = 0; i < s->types.n; i++) {
        gql_type_t *t = s->types.items[i];
        if (t->kind == GQL_K_OBJECT && gql_vec_push (b->a, &t->possible, t) != 0)
            s_oom (b);
        if (gql_type_is_abstract (t) && !(t->possible_bits = gql_alloc (b->a, nbytes)))
            s_oom (b);
    }
    if (b->e->oom)
        return;
    for (uint32_t i = 0; i < s->types.n; i++) {
        gql_type_t *t = s->types.items[i];
        if (t->kind != GQL_K_OBJECT)
            continue;
        for (uint32_t j = 0; j < t->interfaces.n; j++) {
            gql_type_t *it = t->interfaces.items[j];
            if (gql_vec_push (b->a, &it->possible, t) != 0)
                s_oom (b);
        }
    }
    for (uint32_t i = 0; i < s->types.n; i++) {
        gql_type_t *t = s->types.items[i];
        for (uint32_t j = 0; t->possible_bits && j < t->possible.n; j++) {
            const gql_type_t *o = t->possible.items[j];
            t->possible_bits[o->index / 8] |= (uint8_t) (1u << (o->index % 8));
        }
    }
    uint8_t *seen = gql_alloc (b->a, s->types.n ? s->types.n : 1);
    const char **path = gql_alloc_array (b->a, GQL_MAX_NESTING, sizeof *path);
    if (!seen || !path) {
        s_oom (b);
        return;
    }
    for (uint32_t i = 0; i < s->types.n; i++) {
        const gql_type_t *t = s->types.items[i];
        switch (t->kind) {
            case GQL_K_OBJECT:
            case GQL_K_INTERFACE:
                if (t->fields.n == 0)
                    gql_err (b->e, t->loc, "%s \"%s\" must define one or more fields", s_kind_name (t->kind),
                             t->name);
                for (uint32_t j = 0; j < t->interfaces.n; j++)
                    s_check_implementation (b, t, t->interfaces.items[j]);
                break;
            case GQL_K_UNION:
                if (t->possible.n == 0)
                    gql_err (b->e, t->loc, "union \"%s\" must have one or more member types", t->name);
                break;
            case GQL_K_ENUM:
                if (t->values.n == 0)
                    gql_err (b->e, t->loc, "enum \"%s\" must define one or more values", t->name);
                break;
            case GQL_K_INPUT:
                if (t->inputs.n == 0)
                    gql_err (b->e, t->loc, "input object \"%s\" must define one or more fields", t->name);
                memset (seen, 0, s->types.n);
                s_input_cycle (b, t, t, seen, path, 0);
                break;
            case GQL_K_SCALAR:
                break;
        }
    }
}

//  Check and coerce the default values of arguments and input fields.
static void
s_defaults (s_build_t *b, gql_vec_t *inputs)
{
    for (uint32_t i = 0; i < inputs->n; i++) {
        gql_input_t *in = inputs->items[i];
        if (!in->def_ast || in->def)
            continue;
        if (gql_check_literal (b->e, in->def_ast, in->type, 0, NULL, 1) == 0)
            in->def = gql_coerce_literal (b->a, b->e, in->def_ast, in->type, NULL);
    }
}

static void
s_all_defaults (s_build_t *b)
{
    gql_schema_t *s = b->s;
    for (uint32_t i = 0; i < s->types.n; i++) {
        gql_type_t *t = s->types.items[i];
        s_defaults (b, &t->inputs);
        for (uint32_t j = 0; j < t->fields.n; j++)
            s_defaults (b, &((gql_field_t *) t->fields.items[j])->args);
    }
    for (uint32_t i = 0; i < s->directives.n; i++)
        s_defaults (b, &((gql_dirdef_t *) s->directives.items[i])->args);
}

static void
s_applications (s_build_t *b)
{
    for (uint32_t i = 0; i < b->doc->defs.n; i++) {
        const gql_def_t *def = b->doc->defs.items[i];
        const gql_schema_t *s = b->s;
        if (def->kind == GQL_D_SCHEMA)
            gql_check_directives (s, b->e, &def->u.schema->directives, GQL_DL_SCHEMA, NULL, 1);
        if (def->kind == GQL_D_DIRECTIVE)
            for (uint32_t j = 0; j < def->u.directive->args.n; j++)
                gql_check_directives (s, b->e, &((gql_ivdef_t *) def->u.directive->args.items[j])->directives,
                                      GQL_DL_ARGUMENT_DEFINITION, NULL, 1);
        if (def->kind != GQL_D_TYPE)
            continue;
        const gql_tdef_t *td = def->u.type;
        static const uint32_t where[] = {
            [GQL_K_SCALAR] = GQL_DL_SCALAR, [GQL_K_OBJECT] = GQL_DL_OBJECT,
            [GQL_K_INTERFACE] = GQL_DL_INTERFACE, [GQL_K_UNION] = GQL_DL_UNION,
            [GQL_K_ENUM] = GQL_DL_ENUM, [GQL_K_INPUT] = GQL_DL_INPUT_OBJECT,
        };
        gql_check_directives (s, b->e, &td->directives, where[td->kind], NULL, 1);
        for (uint32_t j = 0; j < td->fields.n; j++) {
            const gql_fdef_t *fd = td->fields.items[j];
            gql_check_directives (s, b->e, &fd->directives, GQL_DL_FIELD_DEFINITION, NULL, 1);
            for (uint32_t k = 0; k < fd->args.n; k++)
                gql_check_directives (s, b->e, &((gql_ivdef_t *) fd->args.items[k])->directives,
                                      GQL_DL_ARGUMENT_DEFINITION, NULL, 1);
        }
        for (uint32_t j = 0; j < td->values.n; j++)
            gql_check_directives (s, b->e, &((gql_evdef_t *) td->values.items[j])->directives,
                                  GQL_DL_ENUM_VALUE, NULL, 1);
        for (uint32_t j = 0; j < td->inputs.n; j++)
            gql_check_directives (s, b->e, &((gql_ivdef_t *) td->inputs.items[j])->directives,
                                  GQL_DL_INPUT_FIELD_DEFINITION, NULL, 1);
    }
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
    s_build_t b = { .s = s, .a = &s->arena, .e = &errs };
    b.doc = gql_parse (&s->arena, sdl, len, &errs);
    if (!b.doc)
        goto out;
    if (s_builtins (&b) != 0)
        goto out;
    s_types (&b);
    s_directive_defs (&b);
    if (gql_errs_count (&errs))
        goto out;               //  later passes assume every type resolved
    s_roots (&b);
    s_check_types (&b);
    s_all_defaults (&b);
    s_applications (&b);
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
