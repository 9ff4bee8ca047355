/*  validate_across.c: the rules that look across the definitions of an
 *  executable document, from the notes the walk (validate.c) leaves on
 *  each definition: Subscription Single Root Field, Fragments Must Be
 *  Used, All Variables Defined and Used, All Variable Usages Are Allowed,
 *  and Fragment Spreads Must Not Form Cycles.
 *
 *  Walks that follow fragment spreads use explicit stacks or a depth
 *  bound, so a long chain of fragments cannot exhaust the C stack, and
 *  they mark fragments with a stamp per walk rather than clearing a
 *  table, so no rule costs the product of two sizes of the document.
 */
#include "gql_internal.h"
#include "validate.h"

#include <string.h>

//  Start a walk over fragments: each is reached at most once per walk,
//  with no clearing between walks (clearing per operation would cost the
//  number of fragments for each operation).
static void
s_new_walk (gql_val_t *v)
{
    v->stamp++;
}

//  1 the first time this walk reaches f, 0 after.
static int
s_first_visit (gql_val_t *v, const gql_fragment_t *f)
{
    GQL_WORK (v->e, 1);
    if (v->stamps[f->index] == v->stamp)
        return 0;
    v->stamps[f->index] = v->stamp;
    return 1;
}

static void
s_oom (gql_val_t *v)
{
    v->e->oom = 1;
}

//  ---------------------------------------------------------------------
//  Subscription Single Root Field

typedef struct {
    const char *key;
    gql_sel_t *first;
} s_rootgroup_t;

//  CollectSubscriptionFields: the root fields, through fragments, with no
//  @skip or @include allowed (spec, September 2025 edition: the rule that
//  replaced evaluating them with no variables in October 2021).
static void
s_collect_root (gql_val_t *v, const char *what, const gql_selset_t *ss, const gql_type_t *root,
                gql_vec_t *groups, gql_map_t *by_key, int depth)
{
    if (depth > GQL_MAX_NESTING) {
        gql_err (v->e, ss->loc, "Fragments are nested too deeply (more than %d levels).",
                 GQL_MAX_NESTING);
        return;
    }
    GQL_WORK (v->e, ss->items.n);
    for (uint32_t i = 0; i < ss->items.n; i++) {
        gql_sel_t *sel = ss->items.items[i];
        GQL_WORK (v->e, sel->directives.n);
        for (uint32_t j = 0; j < sel->directives.n; j++) {
            const gql_directive_t *d = sel->directives.items[j];
            if (strcmp (d->name, "skip") == 0 || strcmp (d->name, "include") == 0)
                gql_err (v->e, d->loc,
                         "%s must not use @skip or @include directives in the top level selection.",
                         what);
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
s_single_root (gql_val_t *v, const gql_operation_t *op)
{
    const gql_type_t *root = v->s->subscription;
    gql_vec_t groups = { 0 };
    gql_map_t by_key = { 0 };
    const char *what =
        op->name ? gql_sprintf (v->a, "Subscription \"%s\"", op->name) : "Anonymous Subscription";
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
            gql_err (v->e, g->first->loc, "%s must not select an introspection top level field.",
                     what);
    }
}

//  ---------------------------------------------------------------------
//  Fragments used, the variable rules, cycles

//  Fragments reachable from an operation, each once, by an explicit
//  worklist (no recursion), in the order the variable rules report them.
//  Only fragments from which some variable usage is reachable are
//  followed (v->to_usage): the others add no usage, and leaving them out
//  changes neither which of the rest are reached nor their order, since
//  every fragment they reach has no usage either. Many operations that
//  share a long chain of fragments without variables are then cheap.
//  Returns a vector of gql_fragment_t *.
static int
s_reachable (gql_val_t *v, const gql_operation_t *op, gql_vec_t *out)
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
            if (v->stamps[g->index] != v->stamp && v->to_usage[g->index]
                && gql_vec_push (v->a, &stack, g) != 0)
                return -1;
        }
    }
    return 0;
}

//  v->to_usage for every fragment: some variable usage is in it or in a
//  fragment it reaches. Found backwards from the fragments with usages,
//  over reversed spread edges, so cycles need no care.
static int
s_to_usage (gql_val_t *v)
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
s_mark_used (gql_val_t *v, uint8_t *used)
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
s_variables (gql_val_t *v, const gql_operation_t *op, const gql_vec_t *frags)
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
                gql_err2 (v->e, u->loc, op->loc,
                          "Variable \"$%s\" is not defined by operation \"%s\".", u->name,
                          op->name);
            else
                gql_err2 (v->e, u->loc, op->loc, "Variable \"$%s\" is not defined.", u->name);
            continue;
        }
        if (vd->rtype && u->type && !s_usage_allowed (vd, u))
            gql_err2 (v->e, vd->loc, u->loc,
                      "Variable \"$%s\" of type \"%s\" used in position expecting type \"%s\".",
                      u->name, gql_tref_str (v->a, vd->rtype), gql_tref_str (v->a, u->type));
    }
    for (uint32_t j = 0; j < op->vardefs.n; j++) {
        const gql_vardef_t *vd = op->vardefs.items[j];
        GQL_WORK (v->e, 1);
        if (!gql_map_get (&used, vd->name, strlen (vd->name))) {
            if (op->name)
                gql_err (v->e, vd->loc, "Variable \"$%s\" is never used in operation \"%s\".",
                         vd->name, op->name);
            else
                gql_err (v->e, vd->loc, "Variable \"$%s\" is never used.", vd->name);
        }
    }
}

//  Fragment Spreads Must Not Form Cycles: a depth-first search with an
//  explicit stack; each cycle is reported from the fragment where the
//  search first enters it.
static void
s_cycles (gql_val_t *v)
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
                const char *msg =
                    gql_sprintf (v->a, "Cannot spread fragment \"%s\" within itself%.*s.", g->name,
                                 (int) b.len, b.data ? b.data : "");
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

int
gql_validate_across (gql_val_t *v)
{
    gql_errs_t *e = v->e;
    //  Subscription Single Root Field.
    for (uint32_t i = 0; i < v->ops.n; i++) {
        const gql_operation_t *op = v->ops.items[i];
        if (op->op == GQL_OP_SUBSCRIPTION)
            s_single_root (v, op);
    }
    //  Fragments Must Be Used; the variable rules.
    uint8_t *used = gql_alloc (v->a, v->frag_list.n + 1);
    if (!used || s_mark_used (v, used) != 0 || s_to_usage (v) != 0) {
        s_oom (v);
        return -1;
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
    return 0;
}
