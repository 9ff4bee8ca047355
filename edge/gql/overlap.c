/*  overlap.c: Field Selection Merging (spec 5.3.2), the rule that fields
 *  sharing a response key, anywhere fragments bring them together, must
 *  be one field: SameResponseShape and FieldsInSetCanMerge.
 *
 *  The spec states the rule over pairs; comparing every pair is quadratic
 *  per level and exponential through nesting. Because both relations are
 *  transitive within the groups that the spec compares, this file checks
 *  each group of same-key fields against one representative instead:
 *    - shape: every field against the first, then the union of all their
 *      sub-selections recursively (SameResponseShape is an equivalence);
 *    - name and arguments: fields on the same object type, and every field
 *      on an abstract (or unknown) parent type, must agree with one
 *      representative; fields on two different object types need not;
 *      the recursion merges each object-type subgroup with the abstract
 *      members, exactly the pairs the spec merges.
 *  A work counter bounds the whole check (GQL_MAX_MERGE_WORK).
 */
#include "gql_internal.h"

#include <string.h>

typedef struct {
    gql_arena_t *a;
    gql_errs_t *e;
    uint32_t *frag_stamp;       //  per fragment index: the collection that last expanded it
    uint32_t nfrags;
    uint32_t stamp;
    long work;
    int gave_up;
} s_ov_t;

//  The keys from the top-level group down, for "subfields ... conflict".
typedef struct s_chain {
    const struct s_chain *up;
    const char *key;
    uint32_t loc1, loc2;
} s_chain_t;

typedef struct {
    const char *key;
    gql_vec_t members;          //  gql_sel_t * fields
} s_group_t;

static const char *
s_key (const gql_sel_t *sel)
{
    return sel->alias ? sel->alias : sel->name;
}

static int
s_budget (s_ov_t *ov, long n)
{
    ov->work += n;
    if (ov->work > GQL_MAX_MERGE_WORK) {
        if (!ov->gave_up)
            gql_err (ov->e, GQL_NOLOC, "The document is too complex to check that its fields can be merged.");
        ov->gave_up = 1;
    }
    return ov->gave_up ? -1 : 0;
}

static void
s_collect (s_ov_t *ov, const gql_selset_t *ss, gql_vec_t *out, int depth)
{
    if (!ss || depth > GQL_MAX_NESTING || ov->gave_up)
        return;
    if (s_budget (ov, ss->items.n) != 0)
        return;
    for (uint32_t i = 0; i < ss->items.n; i++) {
        gql_sel_t *sel = ss->items.items[i];
        switch (sel->kind) {
            case GQL_SEL_FIELD:
                if (gql_vec_push (ov->a, out, sel) != 0)
                    ov->e->oom = 1;
                break;
            case GQL_SEL_SPREAD:
                if (!sel->frag || sel->frag->index >= ov->nfrags || ov->frag_stamp[sel->frag->index] == ov->stamp)
                    break;
                ov->frag_stamp[sel->frag->index] = ov->stamp;
                s_collect (ov, sel->frag->selset, out, depth + 1);
                break;
            case GQL_SEL_INLINE:
                s_collect (ov, sel->selset, out, depth + 1);
                break;
        }
    }
}

//  The fields of the sub-selections of members, in one collection (a
//  fragment spread in two of them is expanded once).
static void
s_collect_subs (s_ov_t *ov, gql_sel_t *const *members, uint32_t n, gql_vec_t *out)
{
    ov->stamp++;
    for (uint32_t i = 0; i < n; i++)
        s_collect (ov, members[i]->selset, out, 0);
}

//  Group fields by response key, in order of first appearance; the same
//  node twice (through two paths) counts once.
static void
s_group (s_ov_t *ov, const gql_vec_t *fields, gql_vec_t *groups)
{
    gql_map_t map = { 0 };
    for (uint32_t i = 0; i < fields->n; i++) {
        gql_sel_t *sel = fields->items[i];
        const char *key = s_key (sel);
        s_group_t *g = gql_map_get (&map, key, strlen (key));
        if (!g) {
            if (!(g = gql_alloc (ov->a, sizeof *g)) || gql_map_put (ov->a, &map, key, strlen (key), g, NULL) < 0
                || gql_vec_push (ov->a, groups, g) != 0) {
                ov->e->oom = 1;
                return;
            }
            g->key = key;
        }
        int dup = 0;
        for (uint32_t j = 0; j < g->members.n && !dup; j++)
            dup = g->members.items[j] == sel;
        if (!dup && gql_vec_push (ov->a, &g->members, sel) != 0)
            ov->e->oom = 1;
    }
}

static void
s_report (s_ov_t *ov, const s_chain_t *chain, const char *key, const char *reason,
          const gql_sel_t *a, const gql_sel_t *b)
{
    //  Collect the chain top-down.
    const s_chain_t *links[GQL_MAX_NESTING + 2];
    int n = 0;
    for (const s_chain_t *c = chain; c && n < GQL_MAX_NESTING; c = c->up)
        links[n++] = c;
    jbuf_t m;
    jbuf_init (&m, 0);
    uint32_t locs[4];
    int nl = 0;
    for (int i = n - 1; i >= 0; i--) {
        jbuf_puts (&m, i == n - 1 ? "Fields \"" : "subfields \"");
        jbuf_puts (&m, links[i]->key);
        jbuf_puts (&m, "\" conflict because ");
    }
    if (n) {
        locs[nl++] = links[n - 1]->loc1;
        locs[nl++] = links[n - 1]->loc2;
    }
    jbuf_puts (&m, n ? "subfields \"" : "Fields \"");
    jbuf_puts (&m, key);
    jbuf_puts (&m, "\" conflict because ");
    jbuf_puts (&m, reason);
    jbuf_puts (&m, ". Use different aliases on the fields to fetch both if this was intentional.");
    locs[nl++] = a->loc;
    locs[nl++] = b->loc;
    if (jbuf_failed (&m))
        ov->e->oom = 1;
    else
        gql_errn (ov->e, locs, nl, "%.*s", (int) m.len, m.data);
    jbuf_free (&m);
}

//  One level of SameResponseShape: NULL if the types agree, else the
//  reason they do not.
static const char *
s_shape_differs (s_ov_t *ov, const gql_tref_t *ta, const gql_tref_t *tb)
{
    const gql_tref_t *a = ta, *b = tb;
    while (1) {
        if ((a->kind == GQL_T_NONNULL) != (b->kind == GQL_T_NONNULL))
            break;
        if (a->kind == GQL_T_NONNULL) {
            a = a->of;
            b = b->of;
            continue;
        }
        if ((a->kind == GQL_T_LIST) != (b->kind == GQL_T_LIST))
            break;
        if (a->kind == GQL_T_LIST) {
            a = a->of;
            b = b->of;
            continue;
        }
        if (gql_type_is_leaf (a->type) || gql_type_is_leaf (b->type)) {
            if (a->type == b->type)
                return NULL;
            break;
        }
        return NULL;
    }
    return gql_sprintf (ov->a, "they return conflicting types \"%s\" and \"%s\"", gql_tref_str (ov->a, ta),
                        gql_tref_str (ov->a, tb));
}

static void s_shape (s_ov_t *ov, const s_group_t *g, const s_chain_t *chain, int depth);

static void
s_shape_subs (s_ov_t *ov, gql_sel_t *const *members, uint32_t n, const s_chain_t *chain, int depth)
{
    gql_vec_t fields = { 0 }, groups = { 0 };
    s_collect_subs (ov, members, n, &fields);
    s_group (ov, &fields, &groups);
    for (uint32_t i = 0; i < groups.n && !ov->gave_up; i++) {
        const s_group_t *g = groups.items[i];
        if (g->members.n > 1)
            s_shape (ov, g, chain, depth + 1);
    }
}

static void
s_shape (s_ov_t *ov, const s_group_t *g, const s_chain_t *chain, int depth)
{
    if (depth > GQL_MAX_NESTING || s_budget (ov, g->members.n) != 0)
        return;
    const gql_sel_t *ref = NULL;
    gql_vec_t typed = { 0 };
    for (uint32_t i = 0; i < g->members.n; i++) {
        gql_sel_t *m = g->members.items[i];
        if (!m->def)
            continue;           //  unknown fields are reported elsewhere
        if (!ref)
            ref = m;
        else {
            const char *why = s_shape_differs (ov, ref->def->type, m->def->type);
            if (why) {
                s_report (ov, chain, g->key, why, ref, m);
                return;
            }
        }
        if (m->selset && gql_vec_push (ov->a, &typed, m) != 0)
            ov->e->oom = 1;
    }
    if (!ref || typed.n < 2 || gql_type_is_leaf (gql_tref_named (ref->def->type)))
        return;
    s_chain_t link = { chain, g->key, ((gql_sel_t *) typed.items[0])->loc, ((gql_sel_t *) typed.items[1])->loc };
    s_shape_subs (ov, (gql_sel_t *const *) typed.items, typed.n, &link, depth);
}

static int
s_args_equal (const gql_sel_t *a, const gql_sel_t *b)
{
    if (a->args.n != b->args.n)
        return 0;
    for (uint32_t i = 0; i < a->args.n; i++) {
        const gql_arg_t *x = a->args.items[i];
        const gql_arg_t *y = NULL;
        for (uint32_t j = 0; j < b->args.n && !y; j++)
            if (strcmp (((gql_arg_t *) b->args.items[j])->name, x->name) == 0)
                y = b->args.items[j];
        if (!y || !gql_value_equal (x->value, y->value))
            return 0;
    }
    return 1;
}

static void s_merge_set (s_ov_t *ov, const gql_vec_t *fields, const s_chain_t *chain, int depth);

//  Fields on ref's footing must be the same field with the same arguments.
static int
s_same_field (s_ov_t *ov, const s_chain_t *chain, const char *key, const gql_sel_t *ref, const gql_sel_t *m)
{
    if (strcmp (ref->name, m->name) != 0) {
        s_report (ov, chain, key, gql_sprintf (ov->a, "\"%s\" and \"%s\" are different fields", ref->name,
                                               m->name), ref, m);
        return 0;
    }
    if (!s_args_equal (ref, m)) {
        s_report (ov, chain, key, "they have differing arguments", ref, m);
        return 0;
    }
    return 1;
}

static void
s_merge_group (s_ov_t *ov, const s_group_t *g, const s_chain_t *chain, int depth)
{
    if (s_budget (ov, g->members.n) != 0)
        return;
    //  Split the members: on an abstract or unknown parent, or by object type.
    gql_vec_t abstract = { 0 }, parents = { 0 };
    for (uint32_t i = 0; i < g->members.n; i++) {
        gql_sel_t *m = g->members.items[i];
        if (!m->parent || m->parent->kind != GQL_K_OBJECT) {
            if (gql_vec_push (ov->a, &abstract, m) != 0)
                ov->e->oom = 1;
            continue;
        }
        int seen = 0;
        for (uint32_t j = 0; j < parents.n && !seen; j++)
            seen = parents.items[j] == m->parent;
        if (!seen && gql_vec_push (ov->a, &parents, (void *) m->parent) != 0)
            ov->e->oom = 1;
    }
    if (ov->e->oom)
        return;
    const gql_sel_t *ref0 = abstract.n ? abstract.items[0] : NULL;
    //  Every member against the abstract representative, or, without one,
    //  each object-type subgroup against its own first member.
    for (uint32_t j = 0; j < parents.n || (j == 0 && parents.n == 0); j++) {
        const gql_type_t *p = parents.n ? parents.items[j] : NULL;
        gql_vec_t sub = { 0 };
        const gql_sel_t *ref = ref0;
        for (uint32_t i = 0; i < g->members.n; i++) {
            gql_sel_t *m = g->members.items[i];
            int in = p ? m->parent == p : 0;
            int abs = !m->parent || m->parent->kind != GQL_K_OBJECT;
            if (!in && !abs)
                continue;
            if (!ref)
                ref = m;
            else if (m != ref && !s_same_field (ov, chain, g->key, ref, m))
                return;
            if (m->selset && gql_vec_push (ov->a, &sub, m) != 0)
                ov->e->oom = 1;
        }
        if (sub.n < 2 || ov->gave_up)
            continue;
        gql_vec_t fields = { 0 };
        s_collect_subs (ov, (gql_sel_t *const *) sub.items, sub.n, &fields);
        s_chain_t link = { chain, g->key, ((gql_sel_t *) sub.items[0])->loc, ((gql_sel_t *) sub.items[1])->loc };
        s_merge_set (ov, &fields, &link, depth + 1);
    }
}

static void
s_merge_set (s_ov_t *ov, const gql_vec_t *fields, const s_chain_t *chain, int depth)
{
    if (depth > GQL_MAX_NESTING || ov->gave_up)
        return;
    gql_vec_t groups = { 0 };
    s_group (ov, fields, &groups);
    for (uint32_t i = 0; i < groups.n && !ov->gave_up; i++) {
        const s_group_t *g = groups.items[i];
        if (g->members.n > 1)
            s_merge_group (ov, g, chain, depth);
    }
}

//  FieldsInSetCanMerge for one selection set of the document, with the
//  shape check (done once, from the top).
static void
s_check_selset (s_ov_t *ov, const gql_selset_t *ss)
{
    gql_vec_t fields = { 0 }, groups = { 0 };
    ov->stamp++;
    s_collect (ov, ss, &fields, 0);
    s_group (ov, &fields, &groups);
    for (uint32_t i = 0; i < groups.n && !ov->gave_up; i++) {
        const s_group_t *g = groups.items[i];
        if (g->members.n < 2)
            continue;
        //  Different fields or arguments are the likelier mistake, so
        //  they are reported in preference to the shape they cause.
        int before = gql_errs_count (ov->e);
        s_merge_group (ov, g, NULL, 0);
        if (gql_errs_count (ov->e) == before)
            s_shape (ov, g, NULL, 0);
    }
}

//  Every selection set in the document, each checked on its own.
static void
s_walk (s_ov_t *ov, const gql_selset_t *ss, int depth)
{
    if (!ss || depth > GQL_MAX_NESTING || ov->gave_up)
        return;
    s_check_selset (ov, ss);
    for (uint32_t i = 0; i < ss->items.n; i++) {
        const gql_sel_t *sel = ss->items.items[i];
        if (sel->kind != GQL_SEL_SPREAD)
            s_walk (ov, sel->selset, depth + 1);
    }
}

void
gql_check_overlaps (gql_arena_t *a, const gql_schema_t *s, gql_doc_t *doc, gql_errs_t *e)
{
    (void) s;
    s_ov_t ov = { .a = a, .e = e };
    for (uint32_t i = 0; i < doc->defs.n; i++)
        if (((gql_def_t *) doc->defs.items[i])->kind == GQL_D_FRAGMENT)
            ov.nfrags++;
    ov.frag_stamp = gql_alloc_array (a, ov.nfrags + 1, sizeof *ov.frag_stamp);
    if (!ov.frag_stamp) {
        e->oom = 1;
        return;
    }
    for (uint32_t i = 0; i < doc->defs.n; i++) {
        const gql_def_t *d = doc->defs.items[i];
        if (d->kind == GQL_D_OPERATION)
            s_walk (&ov, d->u.op->selset, 0);
        else if (d->kind == GQL_D_FRAGMENT)
            s_walk (&ov, d->u.frag->selset, 0);
    }
}
