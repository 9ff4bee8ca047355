/*  validate.c: the spec's section 5 over an executable document.
 *
 *  One walk over every operation and fragment definition does the local
 *  rules (fields, arguments, directives, values, fragment targets and type
 *  conditions) and notes, per definition, its fragment spreads and
 *  variable usages. The rules that look across definitions (fragments
 *  used, spread cycles, variables defined, used and allowed, the single
 *  root field of a subscription) then work from those notes
 *  (validate_across.c). The rules for one place's arguments and
 *  directives are in validate_args.c, field merging in overlap.c.
 *  Uniqueness and lookups by name go through maps (gql_names_t), so no
 *  rule costs the product of two sizes of the document.
 */
#include "gql_internal.h"
#include "validate.h"

#include <string.h>

static const char *s_opnames[] = { "query", "mutation", "subscription" };

static void
s_oom (gql_val_t *v)
{
    v->e->oom = 1;
}

//  ---------------------------------------------------------------------
//  The walk

static void s_selset (gql_val_t *v, gql_selset_t *ss, const gql_type_t *type);

static const char *
s_inline_hint (gql_val_t *v, const gql_type_t *parent, const char *name)
{
    //  On an abstract type, a field that some possible types have is
    //  reached through an inline fragment.
    if (!gql_type_is_abstract (parent))
        return "";
    jbuf_t b;
    jbuf_init (&b, 0);
    int n = 0;
    for (uint32_t i = 0; i < parent->possible.n && n < 5; i++) {
        const gql_type_t *o = parent->possible.items[i];
        if (!gql_type_field (o, name))
            continue;
        jbuf_puts (&b, n ? ", \"" : " Did you mean to use an inline fragment on \"");
        jbuf_puts (&b, o->name);
        jbuf_putc (&b, '"');
        n++;
    }
    if (n)
        jbuf_puts (&b, "?");
    const char *out = n && !jbuf_failed (&b) ? gql_strndup (v->a, b.data, b.len) : "";
    jbuf_free (&b);
    return out ? out : "";
}

static void
s_field (gql_val_t *v, gql_sel_t *sel, const gql_type_t *parent)
{
    gql_check_directives (v->s, v->e, &sel->directives, GQL_DL_FIELD, &v->info->usages, 0);
    sel->parent = parent;
    const gql_field_t *def = NULL;
    if (parent) {
        if (strcmp (sel->name, "__typename") == 0)
            def = &v->s->typename_field;
        else if (parent->kind == GQL_K_OBJECT || parent->kind == GQL_K_INTERFACE)
            def = gql_type_field (parent, sel->name);
        if (!def && !v->e->full) {
            //  Suggestions cost time; skip them once errors are no longer kept.
            const char *hint = s_inline_hint (v, parent, sel->name);
            if (!*hint)
                hint = gql_suggest (v->a, sel->name, &parent->fields, offsetof (gql_field_t, name));
            gql_err (v->e, sel->loc, "Cannot query field \"%s\" on type \"%s\".%s", sel->name,
                     parent->name, hint);
        }
    }
    sel->def = def;
    const char *owner = def ? gql_sprintf (v->a, "%s.%s", parent->name, sel->name) : sel->name;
    gql_check_args (v->e, &sel->args, def ? &def->args : NULL, sel->loc, 0, sel->name,
                    owner ? owner : "?", &v->info->usages, 0);
    const gql_type_t *named = def ? gql_tref_named (def->type) : NULL;
    if (named && gql_type_is_leaf (named) && sel->selset)
        gql_err (v->e, sel->selset->loc,
                 "Field \"%s\" must not have a selection since type \"%s\" has no subfields.",
                 sel->name, gql_tref_str (v->a, def->type));
    if (named && !gql_type_is_leaf (named) && !sel->selset)
        gql_err (v->e, sel->loc,
                 "Field \"%s\" of type \"%s\" must have a selection of subfields. Did you mean "
                 "\"%s { ... }\"?",
                 sel->name, gql_tref_str (v->a, def->type), sel->name);
    if (sel->selset)
        s_selset (v, sel->selset, named && !gql_type_is_leaf (named) ? named : NULL);
}

static void
s_selset (gql_val_t *v, gql_selset_t *ss, const gql_type_t *type)
{
    GQL_WORK (v->e, ss->items.n);
    for (uint32_t i = 0; i < ss->items.n; i++) {
        gql_sel_t *sel = ss->items.items[i];
        switch (sel->kind) {
            case GQL_SEL_FIELD:
                s_field (v, sel, type);
                break;
            case GQL_SEL_SPREAD: {
                gql_check_directives (v->s, v->e, &sel->directives, GQL_DL_FRAGMENT_SPREAD,
                                      &v->info->usages, 0);
                gql_fragment_t *f = gql_map_get (&v->frags, sel->name, strlen (sel->name));
                if (!f) {
                    gql_err (v->e, sel->name_loc, "Unknown fragment \"%s\".", sel->name);
                    break;
                }
                sel->frag = f;
                if (gql_vec_push (v->a, &v->info->spreads, sel) != 0)
                    s_oom (v);
                if (type && f->type && !gql_types_overlap (type, f->type))
                    gql_err (v->e, sel->loc,
                             "Fragment \"%s\" cannot be spread here as objects of type \"%s\" can "
                             "never be of type \"%s\".",
                             f->name, type->name, f->type->name);
                break;
            }
            case GQL_SEL_INLINE: {
                gql_check_directives (v->s, v->e, &sel->directives, GQL_DL_INLINE_FRAGMENT,
                                      &v->info->usages, 0);
                const gql_type_t *inner = type;
                if (sel->type_cond) {
                    const gql_type_t *t = gql_schema_type (v->s, sel->type_cond);
                    inner = NULL;
                    if (!t)
                        gql_err (v->e, sel->type_cond_loc, "Unknown type \"%s\".%s", sel->type_cond,
                                 gql_suggest (v->a, sel->type_cond, &v->type_names, GQL_NAME_SELF));
                    else if (!gql_type_is_composite (t))
                        gql_err (v->e, sel->type_cond_loc,
                                 "Fragment cannot condition on non composite type \"%s\".",
                                 t->name);
                    else {
                        sel->cond = t;
                        inner = t;
                        if (type && !gql_types_overlap (type, t))
                            gql_err (v->e, sel->loc,
                                     "Fragment cannot be spread here as objects of type \"%s\" can "
                                     "never be of type \"%s\".",
                                     type->name, t->name);
                    }
                }
                s_selset (v, sel->selset, inner);
                break;
            }
        }
    }
}

//  ---------------------------------------------------------------------
//  Definitions

static void
s_fragment (gql_val_t *v, gql_fragment_t *f)
{
    const gql_type_t *t = gql_schema_type (v->s, f->type_cond);
    if (!t)
        gql_err (v->e, f->type_cond_loc, "Unknown type \"%s\".%s", f->type_cond,
                 gql_suggest (v->a, f->type_cond, &v->type_names, GQL_NAME_SELF));
    else if (!gql_type_is_composite (t))
        gql_err (v->e, f->type_cond_loc,
                 "Fragment \"%s\" cannot condition on non composite type \"%s\".", f->name,
                 t->name);
    else
        f->type = t;
    v->info = &f->info;
    gql_check_directives (v->s, v->e, &f->directives, GQL_DL_FRAGMENT_DEFINITION, &f->info.usages,
                          0);
    s_selset (v, f->selset, f->type);
}

static const gql_type_t *
s_root (const gql_schema_t *s, gql_optype_t op)
{
    return op == GQL_OP_QUERY ? s->query : op == GQL_OP_MUTATION ? s->mutation : s->subscription;
}

static void
s_operation (gql_val_t *v, gql_operation_t *op)
{
    v->info = &op->info;
    gql_names_t names;
    gql_names_init (&names, v->a, &op->vardefs, offsetof (gql_vardef_t, name), &v->e->work);
    for (uint32_t i = 0; i < op->vardefs.n; i++) {
        gql_vardef_t *vd = op->vardefs.items[i];
        const gql_vardef_t *prev = gql_names_find (&names, vd->name, &v->e->work);
        if (prev && prev != vd)
            gql_err2 (v->e, prev->loc, vd->loc, "There can be only one variable named \"$%s\".",
                      vd->name);
        const gql_typeref_t *unknown = NULL;
        const gql_tref_t *t = gql_tref_resolve (v->a, v->s, vd->type, &unknown);
        if (!t && unknown)
            gql_err (v->e, unknown->loc, "Unknown type \"%s\".%s", unknown->name,
                     gql_suggest (v->a, unknown->name, &v->type_names, GQL_NAME_SELF));
        else if (!t)
            s_oom (v);
        else if (!gql_type_is_input (gql_tref_named (t)))
            gql_err (v->e, vd->type->loc, "Variable \"$%s\" cannot be non-input type \"%s\".",
                     vd->name, gql_tref_str (v->a, t));
        else {
            vd->rtype = t;
            if (vd->def)
                gql_check_literal (v->e, vd->def, t, 0, NULL, 1);
        }
        gql_check_directives (v->s, v->e, &vd->directives, GQL_DL_VARIABLE_DEFINITION, NULL, 1);
    }
    static const uint32_t where[] = { GQL_DL_QUERY, GQL_DL_MUTATION, GQL_DL_SUBSCRIPTION };
    gql_check_directives (v->s, v->e, &op->directives, where[op->op], &op->info.usages, 0);
    const gql_type_t *root = s_root (v->s, op->op);
    if (!root)
        gql_err (v->e, op->loc,
                 "The schema defines no %s root type: herald-edge serves subscriptions only; send "
                 "queries and mutations to your GraphQL server.",
                 s_opnames[op->op]);
    s_selset (v, op->selset, root);
}

//  Executable Definitions, Operation Name Uniqueness and Fragment Name
//  Uniqueness, listing the operations and fragments on the way.
static void
s_definitions (gql_val_t *v)
{
    gql_arena_t *a = v->a;
    gql_errs_t *e = v->e;
    const gql_doc_t *doc = v->doc;
    gql_map_t op_names = { 0 };
    for (uint32_t i = 0; i < doc->defs.n; i++) {
        gql_def_t *d = doc->defs.items[i];
        GQL_WORK (e, 1);
        if (d->kind == GQL_D_OPERATION) {
            gql_operation_t *op = d->u.op;
            void *prev = NULL;
            int rc =
                op->name ? gql_map_put (a, &op_names, op->name, strlen (op->name), op, &prev) : 1;
            if (rc == 0)
                gql_err2 (e, ((gql_operation_t *) prev)->loc, op->loc,
                          "There can be only one operation named \"%s\".", op->name);
            if (rc < 0 || gql_vec_push (a, &v->ops, op) != 0)
                s_oom (v);
        }
        else if (d->kind == GQL_D_FRAGMENT) {
            gql_fragment_t *f = d->u.frag;
            f->index = v->frag_list.n;
            void *old = NULL;
            int rc = gql_map_put (a, &v->frags, f->name, strlen (f->name), f, &old);
            if (rc == 0)
                gql_err2 (e, ((gql_fragment_t *) old)->loc, f->loc,
                          "There can be only one fragment named \"%s\".", f->name);
            if (rc < 0 || gql_vec_push (a, &v->frag_list, f) != 0)
                s_oom (v);
        }
        else if (d->kind == GQL_D_SCHEMA)
            gql_err (e, d->loc, "The schema definition is not executable.");
        else {
            const char *name = d->kind == GQL_D_TYPE ? d->u.type->name : d->u.directive->name;
            gql_err (e, d->loc, "The \"%s\" definition is not executable.", name);
        }
    }
}

int
gql_validate (gql_arena_t *a, const gql_schema_t *s, gql_doc_t *doc, gql_errs_t *e)
{
    gql_val_t val = { .a = a, .s = s, .doc = doc, .e = e };
    gql_val_t *v = &val;
    int before = gql_errs_count (e);
    for (uint32_t i = 0; i < s->types.n; i++)
        if (gql_vec_push (a, &v->type_names, (void *) ((gql_type_t *) s->types.items[i])->name)
            != 0)
            s_oom (v);
    s_definitions (v);
    //  Lone Anonymous Operation.
    for (uint32_t i = 0; i < v->ops.n; i++) {
        const gql_operation_t *op = v->ops.items[i];
        if (!op->name && v->ops.n > 1)
            gql_err (e, op->loc, "This anonymous operation must be the only defined operation.");
    }
    v->stamps = gql_alloc_array (a, v->frag_list.n + 1, sizeof *v->stamps);
    v->to_usage = gql_alloc (a, v->frag_list.n + 1);
    if (!v->stamps || !v->to_usage)
        s_oom (v);
    if (e->oom)
        return gql_errs_count (e) - before;
    for (uint32_t i = 0; i < v->frag_list.n; i++)
        s_fragment (v, v->frag_list.items[i]);
    for (uint32_t i = 0; i < v->ops.n; i++)
        s_operation (v, v->ops.items[i]);
    if (gql_validate_across (v) != 0)
        return gql_errs_count (e) - before;
    gql_check_overlaps (a, s, doc, e);
    return gql_errs_count (e) - before;
}
