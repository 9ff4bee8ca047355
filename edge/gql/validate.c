/*  validate.c: the spec's section 5 over an executable document.
 *
 *  One walk over every operation and fragment definition does the local
 *  rules (fields, arguments, directives, values, fragment targets and type
 *  conditions) and notes, per definition, its fragment spreads and
 *  variable usages. The rules that look across definitions (fragments
 *  used, spread cycles, variables defined, used and allowed, the single
 *  root field of a subscription) then work from those notes. Field
 *  merging is in overlap.c. Walks that follow fragment spreads use
 *  explicit stacks or a depth bound, so a long chain of fragments cannot
 *  exhaust the C stack. Uniqueness and lookups by name go through maps
 *  (gql_names_t), and fragment walks mark fragments with a stamp per walk
 *  rather than clearing a table, so no rule costs the product of two
 *  sizes of the document.
 */
#include "gql_internal.h"

#include <string.h>

typedef struct {
    gql_arena_t *a;
    const gql_schema_t *s;
    gql_doc_t *doc;
    gql_errs_t *e;
    gql_map_t frags;            //  name -> first gql_fragment_t of that name
    gql_vec_t frag_list;        //  every fragment definition
    gql_vec_t ops;              //  every operation
    gql_bodyinfo_t *info;       //  notes of the definition being walked
    gql_vec_t type_names;       //  for suggestions
    uint32_t *stamps;           //  per fragment index: the walk that last reached it
    uint32_t stamp;             //  the current walk
    uint8_t *to_usage;          //  per fragment index: some variable usage is reachable from it
} s_val_t;

//  Start a walk over fragments: each is reached at most once per walk,
//  with no clearing between walks (clearing per operation would cost the
//  number of fragments for each operation).
static void
s_new_walk (s_val_t *v)
{
    v->stamp++;
}

//  1 the first time this walk reaches f, 0 after.
static int
s_first_visit (s_val_t *v, const gql_fragment_t *f)
{
    GQL_WORK (v->e, 1);
    if (v->stamps[f->index] == v->stamp)
        return 0;
    v->stamps[f->index] = v->stamp;
    return 1;
}

static const char *s_opnames[] = { "query", "mutation", "subscription" };

static void
s_oom (s_val_t *v)
{
    v->e->oom = 1;
}

// -- arguments and directives ---------------------------------------------------

void
gql_check_args (gql_errs_t *e, const gql_vec_t *args, const gql_vec_t *defs, uint32_t loc,
                int is_directive, const char *field, const char *owner, gql_vec_t *usages, int const_ctx)
{
    gql_names_t names;
    gql_names_init (&names, e->arena, args, offsetof (gql_arg_t, name), &e->work);
    for (uint32_t i = 0; i < args->n; i++) {
        const gql_arg_t *arg = args->items[i];
        //  A repeated name is reported against its first use.
        const gql_arg_t *first = gql_names_find (&names, arg->name, &e->work);
        if (first && first != arg)
            gql_err2 (e, first->loc, arg->loc, "There can be only one argument named \"%s\".", arg->name);
        const gql_input_t *def = defs ? gql_input_find (defs, arg->name) : NULL;
        GQL_WORK (e, defs ? defs->n : 0);
        if (!def && defs) {
            //  Suggestions cost time; skip them once errors are no longer kept.
            gql_err (e, arg->loc, "Unknown argument \"%s\" on %s \"%s\".%s", arg->name,
                     is_directive ? "directive" : "field", owner,
                     e->full ? "" : gql_suggest (e->arena, arg->name, defs, offsetof (gql_input_t, name)));
        }
        gql_check_literal (e, arg->value, def ? def->type : NULL, def && def->def_ast, usages, const_ctx);
    }
    for (uint32_t i = 0; defs && i < defs->n; i++) {
        const gql_input_t *def = defs->items[i];
        if (def->type->kind != GQL_T_NONNULL || def->def_ast || def->def)
            continue;
        int found = gql_names_find (&names, def->name, &e->work) != NULL;
        if (!found)
            gql_err (e, loc, "%s \"%s\" argument \"%s\" of type \"%s\" is required, but it was not provided.",
                     is_directive ? "Directive" : "Field", field, def->name, gql_tref_str (e->arena, def->type));
    }
}

void
gql_check_directives (const gql_schema_t *s, gql_errs_t *e, const gql_vec_t *dirs, uint32_t location,
                      gql_vec_t *usages, int const_ctx)
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
            gql_err (e, d->loc, "Directive \"@%s\" may not be used on %s.", d->name, gql_dirloc_name (location));
        if (!def->repeatable) {
            const gql_directive_t *prev = gql_names_find (&names, d->name, &e->work);
            if (prev && prev != d)
                gql_err2 (e, prev->loc, d->loc, "The directive \"@%s\" can only be used once at this "
                          "location.", d->name);
        }
        gql_check_args (e, &d->args, &def->args, d->loc, 1, at, at, usages, const_ctx);
    }
}

// -- the walk -------------------------------------------------------------------

static void s_selset (s_val_t *v, gql_selset_t *ss, const gql_type_t *type);

static const char *
s_inline_hint (s_val_t *v, const gql_type_t *parent, const char *name)
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
s_field (s_val_t *v, gql_sel_t *sel, const gql_type_t *parent)
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
            gql_err (v->e, sel->loc, "Cannot query field \"%s\" on type \"%s\".%s", sel->name, parent->name, hint);
        }
    }
    sel->def = def;
    const char *owner = def ? gql_sprintf (v->a, "%s.%s", parent->name, sel->name) : sel->name;
    gql_check_args (v->e, &sel->args, def ? &def->args : NULL, sel->loc, 0, sel->name, owner ? owner : "?",
                    &v->info->usages, 0);
    const gql_type_t *named = def ? gql_tref_named (def->type) : NULL;
    if (named && gql_type_is_leaf (named) && sel->selset)
        gql_err (v->e, sel->selset->loc, "Field \"%s\" must not have a selection since type \"%s\" has no "
                 "subfields.", sel->name, gql_tref_str (v->a, def->type));
    if (named && !gql_type_is_leaf (named) && !sel->selset)
        gql_err (v->e, sel->loc, "Field \"%s\" of type \"%s\" must have a selection of subfields. Did you "
                 "mean \"%s { ... }\"?", sel->name, gql_tref_str (v->a, def->type), sel->name);
    if (sel->selset)
        s_selset (v, sel->selset, named && !gql_type_is_leaf (named) ? named : NULL);
}

static void
s_selset (s_val_t *v, gql_selset_t *ss, const gql_type_t *type)
{
    GQL_WORK (v->e, ss->items.n);
    for (uint32_t i = 0; i < ss->items.n; i++) {
        gql_sel_t *sel = ss->items.items[i];
        switch (sel->kind) {
            case GQL_SEL_FIELD:
                s_field (v, sel, type);
                break;
            case GQL_SEL_SPREAD: {
                gql_check_directives (v->s, v->e, &sel->directives, GQL_DL_FRAGMENT_SPREAD, &v->info->usages, 0);
                gql_fragment_t *f = gql_map_get (&v->frags, sel->name, strlen (sel->name));
                if (!f) {
                    gql_err (v->e, sel->name_loc, "Unknown fragment \"%s\".", sel->name);
                    break;
                }
                sel->frag = f;
                if (gql_vec_push (v->a, &v->info->spreads, sel) != 0)
                    s_oom (v);
                if (type && f->type && !gql_types_overlap (type, f->type))
                    gql_err (v->e, sel->loc, "Fragment \"%s\" cannot be spread here as objects of type \"%s\" "
                             "can never be of type \"%s\".", f->name, type->name, f->type->name);
                break;
            }
            case GQL_SEL_INLINE: {
                gql_check_directives (v->s, v->e, &sel->directives, GQL_DL_INLINE_FRAGMENT, &v->info->usages, 0);
                const gql_type_t *inner = type;
                if (sel->type_cond) {
                    const gql_type_t *t = gql_schema_type (v->s, sel->type_cond);
                    inner = NULL;
                    if (!t)
                        gql_err (v->e, sel->type_cond_loc, "Unknown type \"%s\".%s", sel->type_cond,
                                 gql_suggest (v->a, sel->type_cond, &v->type_names, GQL_NAME_SELF));
                    else if (!gql_type_is_composite (t))
                        gql_err (v->e, sel->type_cond_loc, "Fragment cannot condition on non composite "
                                 "type \"%s\".", t->name);
                    else {
                        sel->cond = t;
                        inner = t;
                        if (type && !gql_types_overlap (type, t))
                            gql_err (v->e, sel->loc, "Fragment cannot be spread here as objects of type "
                                     "\"%s\" can never be of type \"%s\".", type->name, t->name);
                    }
                }
                s_selset (v, sel->selset, inner);
                break;
            }
        }
    }
}

// -- definitions ----------------------------------------------------------------

static void
s_fragment (s_val_t *v, gql_fragment_t *f)
{
    const gql_type_t *t = gql_schema_type (v->s, f->type_cond);
    if (!t)
        gql_err (v->e, f->type_cond_loc, "Unknown type \"%s\".%s", f->type_cond,
                 gql_suggest (v->a, f->type_cond, &v->type_names, GQL_NAME_SELF));
    else if (!gql_type_is_composite (t))
        gql_err (v->e, f->type_cond_loc, "Fragment \"%s\" cannot condition on non composite type \"%s\".",
                 f->name, t->name);
    else
        f->type = t;
    v->info = &f->info;
    gql_check_directives (v->s, v->e, &f->directives, GQL_DL_FRAGMENT_DEFINITION, &f->info.usages, 0);
    s_selset (v, f->selset, f->type);
}

static const gql_type_t *
s_root (const gql_schema_t *s, gql_optype_t op)
{
    return op == GQL_OP_QUERY ? s->query : op == GQL_OP_MUTATION ? s->mutation : s->subscription;
}

static void
s_operation (s_val_t *v, gql_operation_t *op)
{
    v->info = &op->info;
    gql_names_t names;
    gql_names_init (&names, v->a, &op->vardefs, offsetof (gql_vardef_t, name), &v->e->work);
    for (uint32_t i = 0; i < op->vardefs.n; i++) {
        gql_vardef_t *vd = op->vardefs.items[i];
        const gql_vardef_t *prev = gql_names_find (&names, vd->name, &v->e->work);
        if (prev && prev != vd)
            gql_err2 (v->e, prev->loc, vd->loc, "There can be only one variable named \"$%s\".", vd->name);
        const gql_typeref_t *unknown = NULL;
        const gql_tref_t *t = gql_tref_resolve (v->a, v->s, vd->type, &unknown);
        if (!t && unknown)
            gql_err (v->e, unknown->loc, "Unknown type \"%s\".%s", unknown->name,
                     gql_suggest (v->a, unknown->name, &v->type_names, GQL_NAME_SELF));
        else if (!t)
            s_oom (v);
        else if (!gql_type_is_input (gql_tref_named (t)))
            gql_err (v->e, vd->type->loc, "Variable \"$%s\" cannot be non-input type \"%s\".", vd->name,
                     gql_tref_str (v->a, t));
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
        gql_err (v->e, op->loc, "The schema defines no %s root type: herald-edge serves subscriptions "
                 "only; send queries and mutations to your GraphQL server.", s_opnames[op->op]);
    s_selset (v, op->selset, root);
}

// -- Subscription Single Root Field ---------------------------------------------

typedef struct {
    const char *key;
    gql_sel_t *first;
} s_rootgroup_t;

//  CollectSubscriptionFields: the root fields, through fragments, with no
//  @skip or @include allowed (spec, September 2025 edition: the rule that
//  replaced evaluating them with no variables in October 2021).
static void
s_collect_root (s_val_t *v, const char *what, const gql_selset_t *ss, const gql_type_t *root,
                gql_vec_t *groups, gql_map_t *by_key, int depth)
{
    if (depth > GQL_MAX_NESTING) {
        gql_err (v->e, ss->loc, "Fragments are nested too deeply (more than %d levels).", GQL_MAX_NESTING);
        return;
    }
    GQL_WORK (v->e, ss->items.n);
    for (uint32_t i = 0; i < ss->items.n; i++) {
        gql_sel_t *sel = ss->items.items[i];
        GQL_WORK (v->e, sel->directives.n);
        for (uint32_t j = 0; j < sel->directives.n; j++) {
            const gql_directive_t *d = sel->directives.items[j];
            if (strcmp (d->name, "skip") == 0 || strcmp (d->name, "include") == 0)
                gql_err (v->e, d->loc, "%s must not use @skip or @include directives in the top level "
                         "selection.", what);
        }
        switch (sel->kind) {
            case GQL_SEL_FIELD: {
                const char *key = sel->alias ? sel->alias : sel->name;
                GQL_WORK (v->e, 1);
                if (gql_map_get (by_key, key, strlen (key)))
                    break;      //  the same response key: one root field
                s_rootgroup_t *g = gql_alloc (v->a, sizeof *g);
                if (!g || gql_vec_push (v->a, groups, g) != 0
                    || gql_map_put (v->a, by_key, key, strlen (key), g, NULL) < 0) {
                    s_oom (v);
                    return;
                }
                g->key = key;
                g->first = sel;
                break;
            }
            case GQL_SEL_SPREAD: {
                gql_fragment_t *f = sel->frag;
                if (!f || !s_first_visit (v, f))
                    break;
                if (f->type && gql_type_possible (f->type, root))
                    s_collect_root (v, what, f->selset, root, groups, by_key, depth + 1);
                break;
            }
            case GQL_SEL_INLINE:
                if (!sel->type_cond || (sel->cond && gql_type_possible (sel->cond, root)))
                    s_collect_root (v, what, sel->selset, root, groups, by_key, depth + 1);
                break;
        }
    }
}

static void
s_single_root (s_val_t *v, const gql_operation_t *op)
{
    const gql_type_t *root = v->s->subscription;
    gql_vec_t groups = { 0 };
    gql_map_t by_key = { 0 };
    const char *what = op->name ? gql_sprintf (v->a, "Subscription \"%s\"", op->name) : "Anonymous Subscription";
    if (!what) {
        s_oom (v);
        return;
    }
    s_new_walk (v);
    s_collect_root (v, what, op->selset, root, &groups, &by_key, 0);
    if (groups.n > 1) {
        //  Point at the fields past the first.
        uint32_t locs[GQL_ERR_MAXLOC];
        int n = 0;
        for (uint32_t i = 1; i < groups.n && n < GQL_ERR_MAXLOC; i++) {
            const s_rootgroup_t *g = groups.items[i];
            locs[n++] = g->first->loc;
        }
        gql_errn (v->e, locs, n, "%s must select only one top level field.", what);
    }
    for (uint32_t i = 0; i < groups.n; i++) {
        const s_rootgroup_t *g = groups.items[i];
        if (strncmp (g->first->name, "__", 2) == 0)
            gql_err (v->e, g->first->loc, "%s must not select an introspection top level field.", what);
    }
}

// -- rules across definitions ----------------------------------------------------

//  Fragments reachable from an operation, each once, by an explicit
//  worklist (no recursion), in the order the variable rules report them.
//  Only fragments from which some variable usage is reachable are
//  followed (v->to_usage): the others add no usage, and leaving them out
//  changes neither which of the rest are reached nor their order, since
//  every fragment they reach has no usage either. Many operations that
//  share a long chain of fragments without variables are then cheap.
//  Returns a vector of gql_fragment_t *.
static int
s_reachable (s_val_t *v, const gql_operation_t *op, gql_vec_t *out)
{
    s_new_walk (v);
    gql_vec_t stack = { 0 };
    for (uint32_t i = 0; i < op->info.spreads.n; i++) {
        gql_fragment_t *f = ((gql_sel_t *) op->info.spreads.items[i])->frag;
        GQL_WORK (v->e, 1);
        if (v->to_usage[f->index] && gql_vec_push (v->a, &stack, f) != 0)
            return -1;
    }
    while (stack.n) {
        gql_fragment_t *f = stack.items[--stack.n];
        if (!s_first_visit (v, f))
            continue;
        if (gql_vec_push (v->a, out, f) != 0)
            return -1;
        GQL_WORK (v->e, f->info.spreads.n);
        for (uint32_t i = 0; i < f->info.spreads.n; i++) {
            gql_fragment_t *g = ((gql_sel_t *) f->info.spreads.items[i])->frag;
            if (v->stamps[g->index] != v->stamp && v->to_usage[g->index] && gql_vec_push (v->a, &stack, g) != 0)
                return -1;
        }
    }
    return 0;
}

//  v->to_usage for every fragment: some variable usage is in it or in a
//  fragment it reaches. Found backwards from the fragments with usages,
//  over reversed spread edges, so cycles need no care.
static int
s_to_usage (s_val_t *v)
{
    uint32_t n = v->frag_list.n;
    gql_vec_t *spread_by = gql_alloc_array (v->a, n + 1, sizeof *spread_by);
    gql_vec_t todo = { 0 };
    if (!spread_by)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        gql_fragment_t *f = v->frag_list.items[i];
        GQL_WORK (v->e, 1 + f->info.spreads.n);
        for (uint32_t j = 0; j < f->info.spreads.n; j++) {
            gql_fragment_t *g = ((gql_sel_t *) f->info.spreads.items[j])->frag;
            if (gql_vec_push (v->a, &spread_by[g->index], f) != 0)
                return -1;
        }
        if (f->info.usages.n) {
            v->to_usage[f->index] = 1;
            if (gql_vec_push (v->a, &todo, f) != 0)
                return -1;
        }
    }
    while (todo.n) {
        gql_fragment_t *f = todo.items[--todo.n];
        const gql_vec_t *by = &spread_by[f->index];
        GQL_WORK (v->e, by->n);
        for (uint32_t j = 0; j < by->n; j++) {
            gql_fragment_t *g = by->items[j];
            if (!v->to_usage[g->index]) {
                v->to_usage[g->index] = 1;
                if (gql_vec_push (v->a, &todo, g) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

//  Fragments Must Be Used: used[i] is set for every fragment that some
//  operation reaches, in one walk from all of them.
static int
s_mark_used (s_val_t *v, uint8_t *used)
{
    gql_vec_t stack = { 0 };
    for (uint32_t i = 0; i < v->ops.n; i++) {
        const gql_operation_t *op = v->ops.items[i];
        GQL_WORK (v->e, op->info.spreads.n);
        for (uint32_t j = 0; j < op->info.spreads.n; j++)
            if (gql_vec_push (v->a, &stack, ((gql_sel_t *) op->info.spreads.items[j])->frag) != 0)
                return -1;
    }
    while (stack.n) {
        gql_fragment_t *f = stack.items[--stack.n];
        if (used[f->index])
            continue;
        used[f->index] = 1;
        GQL_WORK (v->e, f->info.spreads.n);
        for (uint32_t i = 0; i < f->info.spreads.n; i++) {
            gql_fragment_t *g = ((gql_sel_t *) f->info.spreads.items[i])->frag;
            if (!used[g->index] && gql_vec_push (v->a, &stack, g) != 0)
                return -1;
        }
    }
    return 0;
}

//  Spec 5.8.5 IsVariableUsageAllowed and AreTypesCompatible.
static int
s_types_compatible (const gql_tref_t *var, const gql_tref_t *loc)
{
    if (loc->kind == GQL_T_NONNULL) {
        if (var->kind != GQL_T_NONNULL)
            return 0;
        return s_types_compatible (var->of, loc->of);
    }
    if (var->kind == GQL_T_NONNULL)
        return s_types_compatible (var->of, loc);
    if (loc->kind == GQL_T_LIST) {
        if (var->kind != GQL_T_LIST)
            return 0;
        return s_types_compatible (var->of, loc->of);
    }
    if (var->kind == GQL_T_LIST)
        return 0;
    return var->type == loc->type;
}

static int
s_usage_allowed (const gql_vardef_t *vd, const gql_varuse_t *u)
{
    const gql_tref_t *loc = u->type;
    if (loc->kind == GQL_T_NONNULL && vd->rtype->kind != GQL_T_NONNULL) {
        int var_default = vd->def && vd->def->kind != GQL_V_NULL;
        if (!var_default && !u->loc_default)
            return 0;
        return s_types_compatible (vd->rtype, loc->of);
    }
    return s_types_compatible (vd->rtype, loc);
}

static void
s_variables (s_val_t *v, const gql_operation_t *op, const gql_vec_t *frags)
{
    //  Every usage in the operation and the fragments it reaches.
    gql_vec_t uses = { 0 };
    GQL_WORK (v->e, op->info.usages.n + frags->n);
    for (uint32_t i = 0; i < op->info.usages.n; i++)
        if (gql_vec_push (v->a, &uses, op->info.usages.items[i]) != 0)
            return s_oom (v);
    for (uint32_t i = 0; i < frags->n; i++) {
        const gql_fragment_t *f = frags->items[i];
        GQL_WORK (v->e, f->info.usages.n);
        for (uint32_t j = 0; j < f->info.usages.n; j++)
            if (gql_vec_push (v->a, &uses, f->info.usages.items[j]) != 0)
                return s_oom (v);
    }
    //  Each usage against the first definition of its name; the names
    //  used, for the definitions never used.
    gql_names_t defs;
    gql_names_init (&defs, v->a, &op->vardefs, offsetof (gql_vardef_t, name), &v->e->work);
    gql_map_t used = { 0 };
    for (uint32_t i = 0; i < uses.n; i++) {
        const gql_varuse_t *u = uses.items[i];
        const gql_vardef_t *vd = gql_names_find (&defs, u->name, &v->e->work);
        GQL_WORK (v->e, 1);
        if (gql_map_put (v->a, &used, u->name, strlen (u->name), (void *) u, NULL) < 0)
            return s_oom (v);
        if (!vd) {
            if (op->name)
                gql_err2 (v->e, u->loc, op->loc, "Variable \"$%s\" is not defined by operation \"%s\".",
                          u->name, op->name);
            else
                gql_err2 (v->e, u->loc, op->loc, "Variable \"$%s\" is not defined.", u->name);
            continue;
        }
        if (vd->rtype && u->type && !s_usage_allowed (vd, u))
            gql_err2 (v->e, vd->loc, u->loc, "Variable \"$%s\" of type \"%s\" used in position expecting "
                      "type \"%s\".", u->name, gql_tref_str (v->a, vd->rtype), gql_tref_str (v->a, u->type));
    }
    for (uint32_t j = 0; j < op->vardefs.n; j++) {
        const gql_vardef_t *vd = op->vardefs.items[j];
        GQL_WORK (v->e, 1);
        if (!gql_map_get (&used, vd->name, strlen (vd->name))) {
            if (op->name)
                gql_err (v->e, vd->loc, "Variable \"$%s\" is never used in operation \"%s\".", vd->name, op->name);
            else
                gql_err (v->e, vd->loc, "Variable \"$%s\" is never used.", vd->name);
        }
    }
}

//  Fragment Spreads Must Not Form Cycles: a depth-first search with an
//  explicit stack; each cycle is reported from the fragment where the
//  search first enters it.
static void
s_cycles (s_val_t *v)
{
    uint32_t n = v->frag_list.n;
    uint8_t *visited = gql_alloc (v->a, n + 1);
    int32_t *on_path = gql_alloc_array (v->a, n + 1, sizeof *on_path);
    gql_fragment_t **path = gql_alloc_array (v->a, n + 1, sizeof *path);
    gql_sel_t **via = gql_alloc_array (v->a, n + 1, sizeof *via);
    uint32_t *next = gql_alloc_array (v->a, n + 1, sizeof *next);
    if (!visited || !on_path || !path || !via || !next)
        return s_oom (v);
    for (uint32_t i = 0; i < n; i++)
        on_path[i] = -1;
    for (uint32_t start = 0; start < n; start++) {
        gql_fragment_t *f0 = v->frag_list.items[start];
        if (visited[f0->index] || gql_map_get (&v->frags, f0->name, strlen (f0->name)) != f0)
            continue;
        uint32_t depth = 0;
        path[0] = f0;
        next[0] = 0;
        visited[f0->index] = 1;
        on_path[f0->index] = 0;
        while (1) {
            gql_fragment_t *f = path[depth];
            if (next[depth] == f->info.spreads.n) {
                on_path[f->index] = -1;
                if (depth == 0)
                    break;
                depth--;
                continue;
            }
            gql_sel_t *spread = f->info.spreads.items[next[depth]++];
            gql_fragment_t *g = spread->frag;
            GQL_WORK (v->e, 1);
            if (on_path[g->index] >= 0 && v->e->full)
                continue;       //  no longer kept: spare naming the path
            if (on_path[g->index] >= 0) {
                //  A cycle: g ... f -> g. Name the fragments in between.
                GQL_WORK (v->e, depth - (uint32_t) on_path[g->index]);
                uint32_t from = (uint32_t) on_path[g->index];
                jbuf_t b;
                jbuf_init (&b, 0);
                for (uint32_t k = from + 1; k <= depth; k++) {
                    jbuf_puts (&b, k == from + 1 ? " via \"" : ", \"");
                    jbuf_puts (&b, path[k]->name);
                    jbuf_putc (&b, '"');
                }
                uint32_t locs[GQL_ERR_MAXLOC];
                int nl = 0;
                for (uint32_t k = from + 1; k <= depth && nl < GQL_ERR_MAXLOC - 1; k++)
                    locs[nl++] = via[k]->loc;
                locs[nl++] = spread->loc;
                const char *msg = gql_sprintf (v->a, "Cannot spread fragment \"%s\" within itself%.*s.",
                                               g->name, (int) b.len, b.data ? b.data : "");
                jbuf_free (&b);
                if (msg)
                    gql_errn (v->e, locs, nl, "%s", msg);
                continue;
            }
            if (visited[g->index])
                continue;
            visited[g->index] = 1;
            depth++;
            path[depth] = g;
            via[depth] = spread;
            next[depth] = 0;
            on_path[g->index] = (int32_t) depth;
        }
    }
}

//  Executable Definitions, Operation Name Uniqueness and Fragment Name
//  Uniqueness, listing the operations and fragments on the way.
static void
s_definitions (s_val_t *v)
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
            int rc = op->name ? gql_map_put (a, &op_names, op->name, strlen (op->name), op, &prev) : 1;
            if (rc == 0)
                gql_err2 (e, ((gql_operation_t *) prev)->loc, op->loc, "There can be only one operation named "
                          "\"%s\".", op->name);
            if (rc < 0 || gql_vec_push (a, &v->ops, op) != 0)
                s_oom (v);
        }
        else if (d->kind == GQL_D_FRAGMENT) {
            gql_fragment_t *f = d->u.frag;
            f->index = v->frag_list.n;
            void *old = NULL;
            int rc = gql_map_put (a, &v->frags, f->name, strlen (f->name), f, &old);
            if (rc == 0)
                gql_err2 (e, ((gql_fragment_t *) old)->loc, f->loc, "There can be only one fragment named "
                          "\"%s\".", f->name);
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
    s_val_t val = { .a = a, .s = s, .doc = doc, .e = e };
    s_val_t *v = &val;
    int before = gql_errs_count (e);
    for (uint32_t i = 0; i < s->types.n; i++)
        if (gql_vec_push (a, &v->type_names, (void *) ((gql_type_t *) s->types.items[i])->name) != 0)
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
    //  Subscription Single Root Field.
    for (uint32_t i = 0; i < v->ops.n; i++) {
        const gql_operation_t *op = v->ops.items[i];
        if (op->op == GQL_OP_SUBSCRIPTION)
            s_single_root (v, op);
    }
    //  Fragments Must Be Used; the variable rules.
    uint8_t *used = gql_alloc (a, v->frag_list.n + 1);
    if (!used || s_mark_used (v, used) != 0 || s_to_usage (v) != 0) {
        s_oom (v);
        return gql_errs_count (e) - before;
    }
    for (uint32_t i = 0; i < v->ops.n; i++) {
        const gql_operation_t *op = v->ops.items[i];
        gql_vec_t frags = { 0 };
        if (s_reachable (v, op, &frags) != 0) {
            s_oom (v);
            break;
        }
        s_variables (v, op, &frags);
    }
    GQL_WORK (e, v->frag_list.n);
    for (uint32_t i = 0; i < v->frag_list.n; i++) {
        const gql_fragment_t *f = v->frag_list.items[i];
        if (!used[f->index] && gql_map_get (&v->frags, f->name, strlen (f->name)) == f)
            gql_err (e, f->loc, "Fragment \"%s\" is never used.", f->name);
    }
    s_cycles (v);
    gql_check_overlaps (a, s, doc, e);
    return gql_errs_count (e) - before;
}
