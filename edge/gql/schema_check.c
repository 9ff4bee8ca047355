/*  schema_check.c: the type-system validation that runs once the schema
 *  is read (schema_sdl.c): interfaces implemented as declared, unions and
 *  enums not empty, no input object that requires itself, default values
 *  of the right type, and every directive application in a valid place
 *  with valid arguments.
 */
#include "gql_internal.h"
#include "schema_build.h"

#include <string.h>

//  Spec 3.6.x IsValidImplementation: t must provide every field of the
//  interface it, with a compatible type and the same arguments.
static void
s_check_implementation (gql_build_t *b, const gql_type_t *t, const gql_type_t *it)
{
    for (uint32_t i = 0; i < it->interfaces.n; i++) {
        const gql_type_t *j = it->interfaces.items[i];
        int found = j == t;
        for (uint32_t k = 0; k < t->interfaces.n && !found; k++)
            found = t->interfaces.items[k] == j;
        if (!found)
            gql_err (b->e, t->loc,
                     "type \"%s\" must implement \"%s\" because it is implemented by \"%s\"",
                     t->name, j->name, it->name);
    }
    for (uint32_t i = 0; i < it->fields.n; i++) {
        const gql_field_t *f = it->fields.items[i];
        const gql_field_t *g = gql_type_field (t, f->name);
        if (!g) {
            gql_err2 (b->e, t->loc, f->loc,
                      "interface field \"%s.%s\" expected but \"%s\" does not provide it", it->name,
                      f->name, t->name);
            continue;
        }
        if (!f->type || !g->type)
            continue;
        if (!gql_tref_subtype (g->type, f->type))
            gql_err2 (b->e, g->loc, f->loc,
                      "interface field \"%s.%s\" expects type \"%s\" but \"%s.%s\" is type \"%s\"",
                      it->name, f->name, gql_tref_str (b->a, f->type), t->name, g->name,
                      gql_tref_str (b->a, g->type));
        for (uint32_t k = 0; k < f->args.n; k++) {
            const gql_input_t *fa = f->args.items[k];
            const gql_input_t *ga = gql_input_find (&g->args, fa->name);
            if (!ga)
                gql_err2 (b->e, g->loc, fa->loc,
                          "interface field argument \"%s.%s(%s:)\" expected but \"%s.%s\" does not "
                          "provide it",
                          it->name, f->name, fa->name, t->name, g->name);
            else if (!gql_tref_equal (fa->type, ga->type))
                gql_err2 (b->e, ga->loc, fa->loc,
                          "interface field argument \"%s.%s(%s:)\" expects type \"%s\" but "
                          "\"%s.%s(%s:)\" is type \"%s\"",
                          it->name, f->name, fa->name, gql_tref_str (b->a, fa->type), t->name,
                          g->name, ga->name, gql_tref_str (b->a, ga->type));
        }
        for (uint32_t k = 0; k < g->args.n; k++) {
            const gql_input_t *ga = g->args.items[k];
            if (ga->type->kind == GQL_T_NONNULL && !ga->def_ast
                && !gql_input_find (&f->args, ga->name))
                gql_err2 (b->e, ga->loc, f->loc,
                          "field \"%s.%s\" includes required argument \"%s\" that is missing from "
                          "the interface field \"%s.%s\"",
                          t->name, g->name, ga->name, it->name, f->name);
        }
    }
}

//  An input object may not require itself through non-null fields: no
//  finite value could be written.
static int
s_input_cycle (gql_build_t *b, const gql_type_t *start, const gql_type_t *t, uint8_t *seen,
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
            gql_err (b->e, start->loc,
                     "input object \"%s\" cannot refer to itself through a series of non-null "
                     "fields: \"%.*s\"",
                     start->name, (int) p.len, p.data ? p.data : "");
            jbuf_free (&p);
            return 1;
        }
        if (!seen[ft->index] && s_input_cycle (b, start, ft, seen, path, depth + 1))
            return 1;
    }
    return 0;
}

//  Possible types of abstract types, as lists and bitmaps. Returns -1 if
//  memory ran out before the lists could be made.
static int
s_possible_types (gql_build_t *b)
{
    gql_schema_t *s = b->s;
    uint32_t nbytes = (s->types.n + 7) / 8;
    for (uint32_t i = 0; i < s->types.n; i++) {
        gql_type_t *t = s->types.items[i];
        if (t->kind == GQL_K_OBJECT && gql_vec_push (b->a, &t->possible, t) != 0)
            gql_build_oom (b);
        if (gql_type_is_abstract (t) && !(t->possible_bits = gql_alloc (b->a, nbytes)))
            gql_build_oom (b);
    }
    if (b->e->oom)
        return -1;
    for (uint32_t i = 0; i < s->types.n; i++) {
        gql_type_t *t = s->types.items[i];
        if (t->kind != GQL_K_OBJECT)
            continue;
        for (uint32_t j = 0; j < t->interfaces.n; j++) {
            gql_type_t *it = t->interfaces.items[j];
            if (gql_vec_push (b->a, &it->possible, t) != 0)
                gql_build_oom (b);
        }
    }
    for (uint32_t i = 0; i < s->types.n; i++) {
        gql_type_t *t = s->types.items[i];
        for (uint32_t j = 0; t->possible_bits && j < t->possible.n; j++) {
            const gql_type_t *o = t->possible.items[j];
            t->possible_bits[o->index / 8] |= (uint8_t) (1u << (o->index % 8));
        }
    }
    return 0;
}

void
gql_build_check_types (gql_build_t *b)
{
    gql_schema_t *s = b->s;
    if (s_possible_types (b) != 0)
        return;
    uint8_t *seen = gql_alloc (b->a, s->types.n ? s->types.n : 1);
    const char **path = gql_alloc_array (b->a, GQL_MAX_NESTING, sizeof *path);
    if (!seen || !path) {
        gql_build_oom (b);
        return;
    }
    for (uint32_t i = 0; i < s->types.n; i++) {
        const gql_type_t *t = s->types.items[i];
        switch (t->kind) {
            case GQL_K_OBJECT:
            case GQL_K_INTERFACE:
                if (t->fields.n == 0)
                    gql_err (b->e, t->loc, "%s \"%s\" must define one or more fields",
                             gql_build_kind_name (t->kind), t->name);
                for (uint32_t j = 0; j < t->interfaces.n; j++)
                    s_check_implementation (b, t, t->interfaces.items[j]);
                break;
            case GQL_K_UNION:
                if (t->possible.n == 0)
                    gql_err (b->e, t->loc, "union \"%s\" must have one or more member types",
                             t->name);
                break;
            case GQL_K_ENUM:
                if (t->values.n == 0)
                    gql_err (b->e, t->loc, "enum \"%s\" must define one or more values", t->name);
                break;
            case GQL_K_INPUT:
                if (t->inputs.n == 0)
                    gql_err (b->e, t->loc, "input object \"%s\" must define one or more fields",
                             t->name);
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
s_defaults (gql_build_t *b, gql_vec_t *inputs)
{
    for (uint32_t i = 0; i < inputs->n; i++) {
        gql_input_t *in = inputs->items[i];
        if (!in->def_ast || in->def)
            continue;
        if (gql_check_literal (b->e, in->def_ast, in->type, 0, NULL, 1) == 0)
            in->def = gql_coerce_literal (b->a, b->e, in->def_ast, in->type, NULL);
    }
}

void
gql_build_defaults (gql_build_t *b)
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

void
gql_build_applications (gql_build_t *b)
{
    for (uint32_t i = 0; i < b->doc->defs.n; i++) {
        const gql_def_t *def = b->doc->defs.items[i];
        const gql_schema_t *s = b->s;
        if (def->kind == GQL_D_SCHEMA)
            gql_check_directives (s, b->e, &def->u.schema->directives, GQL_DL_SCHEMA, NULL, 1);
        if (def->kind == GQL_D_DIRECTIVE)
            for (uint32_t j = 0; j < def->u.directive->args.n; j++)
                gql_check_directives (s, b->e,
                                      &((gql_ivdef_t *) def->u.directive->args.items[j])
                                           ->directives,
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
