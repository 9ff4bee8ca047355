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
 *
 *  Every selection set is checked on its own, as the spec says, but the
 *  set of an inline fragment holds a subset of the fields its enclosing
 *  set collects, so its pairs are a subset of the pairs already compared
 *  there: when the enclosing set's check found nothing (and saw every
 *  field), the inline fragment's check would find nothing either and is
 *  skipped. Without that, fields nested in inline fragments would be
 *  collected once per enclosing level.
 *
 *  A set that holds nothing but one fragment spread collects the same
 *  fields in the same order wherever it is, so its check is the same
 *  check each time. Its errors are then all already recorded after two
 *  runs (the second can add only the shape errors that the first one's
 *  new merge errors held back), and later runs are skipped: a fragment
 *  spread in many places is checked twice, not once per place.
 *
 *  Below the top, each check of merged sub-selections depends only on the
 *  fields merged (and is cut at GQL_MAX_NESTING), so one that found
 *  nothing at some depth would find nothing again at that depth or
 *  deeper: such repeats are skipped (gql_ov_seen_clean). Fragments that select
 *  several keys twice, each spreading the next fragment, would otherwise
 *  branch at every level. And once the error list is full nothing more
 *  can be recorded, so the check stops.
 *
 *  The collecting and grouping of fields, and that memo, are in
 *  overlap_collect.c; sets with one fragment beside fields of their own
 *  in overlap_fragment.c.
 */
#include "gql_internal.h"
#include "overlap.h"

#include <string.h>

static void
s_report (gql_ov_t *ov, const gql_ov_chain_t *chain, const char *key, const char *reason,
          const gql_sel_t *a, const gql_sel_t *b)
{
    //  Collect the chain top-down.
    const gql_ov_chain_t *links[GQL_MAX_NESTING + 2];
    int n = 0;
    ov->reports++;
    if (ov->e->full)
        return;                 //  it would not be kept: spare writing it
    for (const gql_ov_chain_t *c = chain; c && n < GQL_MAX_NESTING; c = c->up)
        links[n++] = c;
    GQL_WORK (ov->e, n);
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
s_shape_differs (gql_ov_t *ov, const gql_tref_t *ta, const gql_tref_t *tb)
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
    return gql_sprintf (ov->a, "they return conflicting types \"%s\" and \"%s\"",
                        gql_tref_str (ov->a, ta), gql_tref_str (ov->a, tb));
}

static void
s_shape_subs (gql_ov_t *ov, gql_sel_t *const *members, uint32_t n, const gql_ov_chain_t *chain,
              int depth)
{
    //  What a level builds is dropped when it is done, so memory follows
    //  the depth of the recursion, not the work of the whole check.
    gql_arena_mark_t mark = gql_arena_mark (ov->a);
    size_t klen;
    char *key = gql_ov_clean_key (ov, 's', members, n, &klen);
    long reports = ov->reports;
    if (!gql_ov_seen_clean (ov, key, klen, depth)) {
        gql_vec_t fields = { 0 }, groups = { 0 };
        gql_ov_collect_subs (ov, members, n, &fields);
        gql_ov_group (ov, &fields, &groups);
        for (uint32_t i = 0; i < groups.n && !ov->gave_up; i++) {
            const gql_ov_group_t *g = groups.items[i];
            if (g->members.n > 1)
                gql_ov_shape (ov, g, chain, depth + 1);
        }
        gql_ov_note_clean (ov, key, klen, depth, reports);
    }
    gql_arena_release (ov->a, mark);
}

void
gql_ov_shape (gql_ov_t *ov, const gql_ov_group_t *g, const gql_ov_chain_t *chain, int depth)
{
    if (depth > GQL_MAX_NESTING || gql_ov_budget (ov, g->members.n) != 0)
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
    gql_ov_chain_t link = { chain, g->key, ((gql_sel_t *) typed.items[0])->loc,
                            ((gql_sel_t *) typed.items[1])->loc };
    s_shape_subs (ov, (gql_sel_t *const *) typed.items, typed.n, &link, depth);
}

static int
s_args_equal (gql_ov_t *ov, const gql_sel_t *a, const gql_sel_t *b)
{
    if (a->args.n != b->args.n)
        return 0;
    //  Each argument of a against the first of b with its name.
    gql_names_t in_b;
    gql_names_init (&in_b, ov->a, &b->args, offsetof (gql_arg_t, name), &ov->e->work);
    for (uint32_t i = 0; i < a->args.n; i++) {
        const gql_arg_t *x = a->args.items[i];
        const gql_arg_t *y = gql_names_find (&in_b, x->name, &ov->e->work);
        if (!y || !gql_value_equal (x->value, y->value, ov->e))
            return 0;
    }
    return 1;
}

static void s_merge_set (gql_ov_t *ov, const gql_vec_t *fields, const gql_ov_chain_t *chain,
                         int depth);

//  Fields on ref's footing must be the same field with the same arguments.
static int
s_same_field (gql_ov_t *ov, const gql_ov_chain_t *chain, const char *key, const gql_sel_t *ref,
              const gql_sel_t *m)
{
    if (strcmp (ref->name, m->name) != 0) {
        s_report (ov, chain, key,
                  gql_sprintf (ov->a, "\"%s\" and \"%s\" are different fields", ref->name, m->name),
                  ref, m);
        return 0;
    }
    if (!s_args_equal (ov, ref, m)) {
        s_report (ov, chain, key, "they have differing arguments", ref, m);
        return 0;
    }
    return 1;
}

void
gql_ov_merge_group (gql_ov_t *ov, const gql_ov_group_t *g, const gql_ov_chain_t *chain, int depth)
{
    if (gql_ov_budget (ov, g->members.n) != 0)
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
        GQL_WORK (ov->e, parents.n);
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
        GQL_WORK (ov->e, g->members.n);
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
        gql_arena_mark_t mark = gql_arena_mark (ov->a);     //  as in s_shape_subs
        size_t klen;
        char *key = gql_ov_clean_key (ov, 'm', (gql_sel_t *const *) sub.items, sub.n, &klen);
        long reports = ov->reports;
        if (!gql_ov_seen_clean (ov, key, klen, depth)) {
            gql_vec_t fields = { 0 };
            gql_ov_collect_subs (ov, (gql_sel_t *const *) sub.items, sub.n, &fields);
            gql_ov_chain_t link = { chain, g->key, ((gql_sel_t *) sub.items[0])->loc,
                                    ((gql_sel_t *) sub.items[1])->loc };
            s_merge_set (ov, &fields, &link, depth + 1);
            gql_ov_note_clean (ov, key, klen, depth, reports);
        }
        gql_arena_release (ov->a, mark);
    }
}

static void
s_merge_set (gql_ov_t *ov, const gql_vec_t *fields, const gql_ov_chain_t *chain, int depth)
{
    if (depth > GQL_MAX_NESTING || ov->gave_up)
        return;
    gql_vec_t groups = { 0 };
    gql_ov_group (ov, fields, &groups);
    for (uint32_t i = 0; i < groups.n && !ov->gave_up; i++) {
        const gql_ov_group_t *g = groups.items[i];
        if (g->members.n > 1)
            gql_ov_merge_group (ov, g, chain, depth);
    }
}

//  FieldsInSetCanMerge for one selection set of the document, with the
//  shape check (done once, from the top). Returns 1 if it found no
//  conflict and saw every field of the set.
static int
s_check_selset (gql_ov_t *ov, const gql_selset_t *ss)
{
    //  What one check builds is dropped after it (errors are copied into
    //  their own list), so memory stays that of the largest check rather
    //  than the sum of all of them.
    gql_arena_t scratch, *keep = ov->a;
    gql_arena_init (&scratch, 4096);
    ov->a = &scratch;
    int fast = gql_ov_check_one_fragment (ov, ss);
    if (fast >= 0) {
        ov->a = keep;
        gql_arena_free (&scratch);
        return fast;
    }
    gql_vec_t fields = { 0 }, groups = { 0 };
    long reports = ov->reports;
    ov->truncated = 0;
    ov->stamp++;
    gql_ov_collect (ov, ss, &fields, 0);
    gql_ov_group (ov, &fields, &groups);
    for (uint32_t i = 0; i < groups.n && !ov->gave_up; i++) {
        const gql_ov_group_t *g = groups.items[i];
        if (g->members.n < 2)
            continue;
        //  Different fields or arguments are the likelier mistake, so
        //  they are reported in preference to the shape they cause.
        int before = gql_errs_count (ov->e);
        gql_ov_merge_group (ov, g, NULL, 0);
        if (gql_errs_count (ov->e) == before)
            gql_ov_shape (ov, g, NULL, 0);
    }
    ov->a = keep;
    gql_arena_free (&scratch);
    return ov->reports == reports && !ov->truncated && !ov->gave_up && !ov->e->oom;
}

//  Every selection set in the document, each checked on its own unless
//  covered: an inline fragment's set inside a set whose check was clean
//  (see the top of the file).
static void
s_walk (gql_ov_t *ov, const gql_selset_t *ss, int depth, int covered)
{
    if (!ss || depth > GQL_MAX_NESTING || ov->gave_up)
        return;
    const gql_sel_t *only = ss->items.n == 1 ? ss->items.items[0] : NULL;
    const gql_fragment_t *f = only && only->kind == GQL_SEL_SPREAD ? only->frag : NULL;
    int clean = 1;
    if (f && f->index < ov->nfrags && !covered) {
        if (ov->solo[f->index].runs < 2) {
            clean = s_check_selset (ov, ss);
            ov->solo[f->index].runs++;
            ov->solo[f->index].clean = (uint8_t) clean;
        }
        clean = ov->solo[f->index].clean;
    }
    else if (!covered)
        clean = s_check_selset (ov, ss);
    GQL_WORK (ov->e, ss->items.n);
    for (uint32_t i = 0; i < ss->items.n; i++) {
        const gql_sel_t *sel = ss->items.items[i];
        if (sel->kind != GQL_SEL_SPREAD)
            s_walk (ov, sel->selset, depth + 1, sel->kind == GQL_SEL_INLINE && clean);
    }
}

void
gql_check_overlaps (gql_arena_t *a, const gql_schema_t *s, gql_doc_t *doc, gql_errs_t *e)
{
    (void) s;
    gql_ov_t ov = { .a = a, .e = e };
    for (uint32_t i = 0; i < doc->defs.n; i++)
        if (((gql_def_t *) doc->defs.items[i])->kind == GQL_D_FRAGMENT)
            ov.nfrags++;
    ov.frag_stamp = gql_alloc_array (a, ov.nfrags + 1, sizeof *ov.frag_stamp);
    ov.solo = gql_alloc_array (a, ov.nfrags + 1, sizeof *ov.solo);
    ov.exp = gql_alloc_array (a, ov.nfrags + 1, sizeof *ov.exp);
    ov.main = a;
    if (!ov.frag_stamp || !ov.solo || !ov.exp) {
        e->oom = 1;
        return;
    }
    for (uint32_t i = 0; i < doc->defs.n; i++) {
        const gql_def_t *d = doc->defs.items[i];
        if (d->kind == GQL_D_OPERATION)
            s_walk (&ov, d->u.op->selset, 0, 0);
        else if (d->kind == GQL_D_FRAGMENT)
            s_walk (&ov, d->u.frag->selset, 0, 0);
    }
}
