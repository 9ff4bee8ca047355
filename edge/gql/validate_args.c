/*  validate_args.c: the rules for the arguments and directives at one
 *  place, which both the validator and the schema loader (for directive
 *  applications in the SDL) apply: Argument Names and Uniqueness,
 *  Required Arguments, Directives Are Defined, In Valid Locations and
 *  Unique Per Location, and Values of Correct Type through values.c.
 */
#include "gql_internal.h"

void
gql_check_args (gql_errs_t *e, const gql_vec_t *args, const gql_vec_t *defs, uint32_t loc,
                int is_directive, const char *field, const char *owner, gql_vec_t *usages,
                int const_ctx)
{
    gql_names_t names;
    gql_names_init (&names, e->arena, args, offsetof (gql_arg_t, name), &e->work);
    for (uint32_t i = 0; i < args->n; i++) {
        const gql_arg_t *arg = args->items[i];
        //  A repeated name is reported against its first use.
        const gql_arg_t *first = gql_names_find (&names, arg->name, &e->work);
        if (first && first != arg)
            gql_err2 (e, first->loc, arg->loc, "There can be only one argument named \"%s\".",
                      arg->name);
        const gql_input_t *def = defs ? gql_input_find (defs, arg->name) : NULL;
        GQL_WORK (e, defs ? defs->n : 0);
        if (!def && defs) {
            //  Suggestions cost time; skip them once errors are no longer kept.
            gql_err (e, arg->loc, "Unknown argument \"%s\" on %s \"%s\".%s", arg->name,
                     is_directive ? "directive" : "field", owner,
                     e->full
                         ? ""
                         : gql_suggest (e->arena, arg->name, defs, offsetof (gql_input_t, name)));
        }
        gql_check_literal (e, arg->value, def ? def->type : NULL, def && def->def_ast, usages,
                           const_ctx);
    }
    for (uint32_t i = 0; defs && i < defs->n; i++) {
        const gql_input_t *def = defs->items[i];
        if (def->type->kind != GQL_T_NONNULL || def->def_ast || def->def)
            continue;
        int found = gql_names_find (&names, def->name, &e->work) != NULL;
        if (!found)
            gql_err (e, loc,
                     "%s \"%s\" argument \"%s\" of type \"%s\" is required, but it was not "
                     "provided.",
                     is_directive ? "Directive" : "Field", field, def->name,
                     gql_tref_str (e->arena, def->type));
    }
}

void
gql_check_directives (const gql_schema_t *s, gql_errs_t *e, const gql_vec_t *dirs,
                      uint32_t location, gql_vec_t *usages, int const_ctx)
{
    gql_names_t names;
    gql_names_init (&names, e->arena, dirs, offsetof (gql_directive_t, name), &e->work);
    for (uint32_t i = 0; i < dirs->n; i++) {
        const gql_directive_t *d = dirs->items[i];
        GQL_WORK (e, 1);
        const gql_dirdef_t *def = gql_schema_directive (s, d->name);
        const char *at = gql_sprintf (e->arena, "@%s", d->name);
        if (!at) {
            e->oom = 1;
            return;
        }
        if (!def) {
            gql_err (e, d->loc, "Unknown directive \"@%s\".", d->name);
            gql_check_args (e, &d->args, NULL, d->loc, 1, at, at, usages, const_ctx);
            continue;
        }
        if (!(def->locations & location))
            gql_err (e, d->loc, "Directive \"@%s\" may not be used on %s.", d->name,
                     gql_dirloc_name (location));
        if (!def->repeatable) {
            const gql_directive_t *prev = gql_names_find (&names, d->name, &e->work);
            if (prev && prev != d)
                gql_err2 (e, prev->loc, d->loc,
                          "The directive \"@%s\" can only be used once at this location.", d->name);
        }
        gql_check_args (e, &d->args, &def->args, d->loc, 1, at, at, usages, const_ctx);
    }
}
