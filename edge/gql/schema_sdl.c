/*  schema_sdl.c: the schema loader's reading of the SDL: named types and
 *  their members (fields, arguments, interfaces, union members, enum
 *  values, input fields), directive definitions and the root operation
 *  types, each definition and `extend` form in document order. See
 *  schema.c for the passes.
 */
#include "gql_internal.h"
#include "schema_build.h"

#include <string.h>

static void
s_unknown_type (gql_build_t *b, const char *name, uint32_t loc)
{
    const char *hint = gql_suggest (b->a, name, &b->type_names, GQL_NAME_SELF);
    gql_err (b->e, loc, "unknown type \"%s\"%s%s", name, *hint ? "." : "", hint);
}

static const gql_tref_t *
s_resolve (gql_build_t *b, const gql_typeref_t *ast)
{
    const gql_typeref_t *unknown = NULL;
    const gql_tref_t *t = gql_tref_resolve (b->a, b->s, ast, &unknown);
    if (!t && unknown)
        s_unknown_type (b, unknown->name, unknown->loc);
    else if (!t)
        gql_build_oom (b);
    return t;
}

//  Argument or input field definitions into gql_input_t.
static void
s_inputs (gql_build_t *b, gql_vec_t *out, gql_map_t *map, const gql_vec_t *ivdefs,
          const char *what, const char *owner)
{
    for (uint32_t i = 0; i < ivdefs->n; i++) {
        const gql_ivdef_t *iv = ivdefs->items[i];
        gql_build_reserved (b, iv->name, iv->loc);
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
            gql_err (b->e, iv->type->loc,
                     "the type of %s \"%s%s\" must be an input type, not %s \"%s\"", what, owner,
                     strcmp (what, "argument") == 0 ? gql_sprintf (b->a, "(%s:)", iv->name)
                                                    : gql_sprintf (b->a, ".%s", iv->name),
                     gql_build_kind_name (named->kind), named->name);
            continue;
        }
        gql_input_t *in = gql_alloc (b->a, sizeof *in);
        if (!in || gql_vec_push (b->a, out, in) != 0
            || (map && gql_map_put (b->a, map, iv->name, strlen (iv->name), in, NULL) < 0)) {
            gql_build_oom (b);
            return;
        }
        in->name = iv->name;
        in->loc = iv->loc;
        in->type = type;
        in->def_ast = iv->def;
    }
}

static void
s_fill_fields (gql_build_t *b, gql_type_t *t, const gql_tdef_t *td)
{
    for (uint32_t i = 0; i < td->fields.n; i++) {
        const gql_fdef_t *fd = td->fields.items[i];
        gql_build_reserved (b, fd->name, fd->loc);
        gql_field_t *f = gql_alloc (b->a, sizeof *f);
        if (!f) {
            gql_build_oom (b);
            return;
        }
        f->name = fd->name;
        f->loc = fd->loc;
        f->owner = t;
        f->ast = fd;
        int rc = gql_map_put (b->a, &t->field_map, fd->name, strlen (fd->name), f, NULL);
        if (rc < 0) {
            gql_build_oom (b);
            return;
        }
        if (rc == 0) {
            gql_err (b->e, fd->loc, "field \"%s.%s\" is defined more than once", t->name, fd->name);
            continue;
        }
        if (gql_vec_push (b->a, &t->fields, f) != 0) {
            gql_build_oom (b);
            return;
        }
        f->type = s_resolve (b, fd->type);
        if (f->type && !gql_type_is_output (gql_tref_named (f->type)))
            gql_err (b->e, fd->type->loc, "the type of field \"%s.%s\" must be an output type, not "
                     "input object \"%s\"", t->name, fd->name, gql_tref_named (f->type)->name);
        s_inputs (b, &f->args, NULL, &fd->args, "argument",
                  gql_sprintf (b->a, "%s.%s", t->name, fd->name));
    }
}

static void
s_fill_interfaces (gql_build_t *b, gql_type_t *t, const gql_tdef_t *td)
{
    for (uint32_t i = 0; i < td->interfaces.n; i++) {
        const gql_nameref_t *n = td->interfaces.items[i];
        gql_type_t *it = (gql_type_t *) gql_schema_type (b->s, n->name);
        if (!it) {
            s_unknown_type (b, n->name, n->loc);
            continue;
        }
        if (it->kind != GQL_K_INTERFACE) {
            gql_err (b->e, n->loc,
                     "type \"%s\" cannot implement \"%s\": it is %s %s, not an interface", t->name,
                     it->name, gql_build_kind_article (it->kind), gql_build_kind_name (it->kind));
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
            gql_err (b->e, n->loc, "type \"%s\" implements \"%s\" more than once", t->name,
                     it->name);
            continue;
        }
        if (gql_vec_push (b->a, &t->interfaces, it) != 0)
            gql_build_oom (b);
    }
}

static void
s_fill_members (gql_build_t *b, gql_type_t *t, const gql_tdef_t *td)
{
    for (uint32_t i = 0; i < td->members.n; i++) {
        const gql_nameref_t *n = td->members.items[i];
        gql_type_t *m = (gql_type_t *) gql_schema_type (b->s, n->name);
        if (!m) {
            s_unknown_type (b, n->name, n->loc);
            continue;
        }
        if (m->kind != GQL_K_OBJECT) {
            gql_err (b->e, n->loc,
                     "union \"%s\" can only include object types, and \"%s\" is %s %s", t->name,
                     m->name, gql_build_kind_article (m->kind), gql_build_kind_name (m->kind));
            continue;
        }
        int dup = 0;
        for (uint32_t j = 0; j < t->possible.n && !dup; j++)
            dup = t->possible.items[j] == m;
        if (dup)
            gql_err (b->e, n->loc, "union \"%s\" includes \"%s\" more than once", t->name, m->name);
        else if (gql_vec_push (b->a, &t->possible, m) != 0)
            gql_build_oom (b);
    }
}

static void
s_fill_values (gql_build_t *b, gql_type_t *t, const gql_tdef_t *td)
{
    for (uint32_t i = 0; i < td->values.n; i++) {
        const gql_evdef_t *ev = td->values.items[i];
        gql_build_reserved (b, ev->name, ev->loc);
        int rc =
            gql_map_put (b->a, &t->value_map, ev->name, strlen (ev->name), (void *) ev->name, NULL);
        if (rc < 0)
            gql_build_oom (b);
        else if (rc == 0)
            gql_err (b->e, ev->loc, "enum value \"%s.%s\" is defined more than once", t->name,
                     ev->name);
        else if (gql_vec_push (b->a, &t->values, (void *) ev->name) != 0)
            gql_build_oom (b);
    }
}

static void
s_fill (gql_build_t *b, gql_type_t *t, const gql_tdef_t *td)
{
    switch (t->kind) {
        case GQL_K_OBJECT:
        case GQL_K_INTERFACE:
            s_fill_interfaces (b, t, td);
            s_fill_fields (b, t, td);
            break;
        case GQL_K_UNION:
            s_fill_members (b, t, td);
            break;
        case GQL_K_ENUM:
            s_fill_values (b, t, td);
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
s_check_topic_decl (gql_build_t *b, const gql_dirdef_t *d)
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

void
gql_build_directive_defs (gql_build_t *b)
{
    static const char *const builtin[] = { "skip", "include", "deprecated", "specifiedBy" };
    //  Create them all first: one directive's arguments cannot refer to
    //  another, but application checks below need every definition.
    for (uint32_t i = 0; i < b->doc->defs.n; i++) {
        const gql_def_t *def = b->doc->defs.items[i];
        if (def->kind != GQL_D_DIRECTIVE)
            continue;
        const gql_ddef_t *dd = def->u.directive;
        gql_build_reserved (b, dd->name, dd->loc);
        int is_builtin = 0;
        for (size_t j = 0; j < sizeof builtin / sizeof builtin[0]; j++)
            is_builtin |= strcmp (dd->name, builtin[j]) == 0;
        if (is_builtin) {
            gql_err (b->e, dd->loc, "directive \"@%s\" is built in and cannot be redefined",
                     dd->name);
            continue;
        }
        const gql_dirdef_t *old = gql_schema_directive (b->s, dd->name);
        if (old) {
            gql_err2 (b->e, dd->loc, old->loc, "directive \"@%s\" is defined more than once",
                      dd->name);
            continue;
        }
        uint32_t locations = 0;
        for (uint32_t j = 0; j < dd->locations.n; j++) {
            const gql_nameref_t *n = dd->locations.items[j];
            uint32_t bit = gql_dirloc_bit (n->name);
            if (locations & bit)
                gql_err (b->e, n->loc, "directive \"@%s\" lists location %s more than once",
                         dd->name, n->name);
            locations |= bit;
        }
        gql_dirdef_t *d = gql_build_add_directive (b, dd->name, dd->loc, locations, 0);
        if (!d)
            return;
        d->repeatable = dd->repeatable;
        s_inputs (b, &d->args, NULL, &dd->args, "argument", gql_sprintf (b->a, "@%s", dd->name));
        if (strcmp (dd->name, "topic") == 0)
            s_check_topic_decl (b, d);
    }
    if (!gql_schema_directive (b->s, "topic")) {
        const gql_tref_t *string_nn = b->s->typename_field.type;
        gql_dirdef_t *d =
            gql_build_add_directive (b, "topic", GQL_NOLOC, GQL_DL_FIELD_DEFINITION, 1);
        if (d)
            gql_build_add_arg (b, &d->args, "name", string_nn, NULL);
    }
}

void
gql_build_types (gql_build_t *b)
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
        if (gql_build_reserved (b, td->name, td->loc))
            continue;
        gql_build_add_type (b, td->kind, td->name, td->loc, 0);
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
                     gql_build_kind_article (td->kind), gql_build_kind_name (td->kind),
                     gql_build_kind_article (t->kind), gql_build_kind_name (t->kind));
        else if (!td->extend && t->loc != td->loc)
            ;                   //  a duplicate definition, already reported
        else
            s_fill (b, t, td);
    }
}

static const char *const s_opname[] = { "query", "mutation", "subscription" };

//  Without a schema definition the roots are found by name.
static void
s_roots_by_name (gql_build_t *b, const gql_type_t **slot[3])
{
    gql_schema_t *s = b->s;
    static const char *const names[] = { "Query", "Mutation", "Subscription" };
    for (int k = 0; k < 3; k++) {
        const gql_type_t *t = gql_schema_type (s, names[k]);
        if (!t || *slot[k])
            continue;
        if (t->kind != GQL_K_OBJECT)
            gql_err (b->e, t->loc, "the %s root type must be an object type, and \"%s\" is %s %s",
                     s_opname[k], t->name, gql_build_kind_article (t->kind),
                     gql_build_kind_name (t->kind));
        else
            *slot[k] = t;
    }
}

void
gql_build_roots (gql_build_t *b)
{
    gql_schema_t *s = b->s;
    const gql_type_t **slot[] = { &s->query, &s->mutation, &s->subscription };
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
                gql_err (b->e, o->loc, "the %s root type is defined more than once",
                         s_opname[o->op]);
                continue;
            }
            if (!t) {
                s_unknown_type (b, o->type, o->loc);
                continue;
            }
            if (t->kind != GQL_K_OBJECT) {
                gql_err (b->e, o->loc,
                         "the %s root type must be an object type, and \"%s\" is %s %s",
                         s_opname[o->op], t->name, gql_build_kind_article (t->kind),
                         gql_build_kind_name (t->kind));
                continue;
            }
            *slot[o->op] = t;
        }
    }
    if (!have_schema)
        s_roots_by_name (b, slot);
    if (!s->subscription)
        gql_err (b->e, GQL_NOLOC, "the schema has no subscription root type: define "
                 "\"type Subscription\", or name one in \"schema { subscription: ... }\"");
    //  Spec 3.3.1: the root types must all be different types.
    for (int k = 0; k < 3; k++)
        for (int j = k + 1; j < 3; j++)
            if (*slot[k] && *slot[k] == *slot[j])
                gql_err (b->e, (*slot[k])->loc, "\"%s\" cannot be both the %s and the %s root type",
                         (*slot[k])->name, s_opname[k], s_opname[j]);
}
