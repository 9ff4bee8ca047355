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
 *  More generally, a set whose only fragment is U (spread once or more,
 *  beside fields and inline fragments of its own) collects its own fields
 *  before the first spread, then U's expansion (the same wherever U is
 *  spread, nothing else having been expanded yet), then its own fields
 *  after. The expansion and its groups by key are built once per
 *  fragment (s_expansion_t), and such a set builds only the groups that
 *  can have two members: its own keys, joined with U's members of the
 *  same key, and U's groups of two or more, which are the same group each
 *  time and so, as above, are run twice at most. The groups run in the
 *  order the full collection would give them.
 *
 *  Below the top, each check of merged sub-selections depends only on the
 *  fields merged (and is cut at GQL_MAX_NESTING), so one that found
 *  nothing at some depth would find nothing again at that depth or
 *  deeper: such repeats are skipped (s_seen_clean). Fragments that select
 *  several keys twice, each spreading the next fragment, would otherwise
 *  branch at every level. And once the error list is full nothing more
 *  can be recorded, so the check stops.
 */
#include "gql_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct s_group {
    const char *key;
    gql_vec_t members;          //  gql_sel_t * fields
    uint32_t first;             //  position in the collection of the first field with the key
    uint32_t nbefore;           //  a set's own group: members before its fragment
    //  For the groups of a fragment's expansion:
    uint32_t runs;              //  checks run of this group on its own
    uint32_t seen;              //  the fast check that last met this key among its own fields
    struct s_group *next;       //  the expansion's groups of 2+ members run less than twice
} s_group_t;

//  A fragment's expansion, as a set that spreads it first collects it.
typedef struct {
    int state;                  //  0 not built, 1 built, -1 cannot serve (truncated, out of budget)
    int deepest;                //  deepest collection level, for a spread at level 0
    uint32_t nfields;           //  fields collected (with any node collected twice)
    gql_map_t by_key;           //  response key -> s_group_t *
    s_group_t *pending;         //  groups of 2+ members run less than twice, by first position
} s_expansion_t;

typedef struct {
    gql_arena_t *a;
    gql_errs_t *e;
    uint32_t *frag_stamp;       //  per fragment index: the collection that last expanded it
    uint32_t nfrags;
    uint32_t stamp;
    uint32_t group_stamp;       //  the grouping under way (gql_sel_t.mark)
    long work;
    int gave_up;
    long reports;               //  conflicts found so far
    int truncated;              //  a collection stopped at GQL_MAX_NESTING
    struct {
        uint8_t runs;           //  checks run of a set that is only a spread of it
        uint8_t clean;          //  what the last one returned
    } *solo;                    //  per fragment index
    s_expansion_t *exp;         //  per fragment index
    gql_arena_t *main;          //  the prepare's arena (expansions outlive a check)
    int deepest;                //  deepest level a collection entered
    uint32_t check;             //  fast checks so far (s_group_t.seen)
    gql_map_t clean;            //  merged member lists found clean -> int *: least depth
} s_ov_t;

//  The keys from the top-level group down, for "subfields ... conflict".
typedef struct s_chain {
    const struct s_chain *up;
    const char *key;
    uint32_t loc1, loc2;
} s_chain_t;


static const char *
s_key (const gql_sel_t *sel)
{
    return sel->alias ? sel->alias : sel->name;
}

static int
s_budget (s_ov_t *ov, long n)
{
    ov->work += n;
    GQL_WORK (ov->e, n);
    if (ov->e->full)
        ov->gave_up = 1;        //  nothing more would be kept
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
    if (ss && depth > GQL_MAX_NESTING)
        ov->truncated = 1;
    if (!ss || depth > GQL_MAX_NESTING || ov->gave_up)
        return;
    if (s_budget (ov, ss->items.n) != 0)
        return;
    if (depth > ov->deepest)
        ov->deepest = depth;
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
//  node twice (through two paths) counts once. The map by key is left in
//  *by_key when given.
static void
s_group_into (s_ov_t *ov, const gql_vec_t *fields, gql_vec_t *groups, gql_map_t *by_key)
{
    gql_map_t local = { 0 }, *map = by_key ? by_key : &local;
    uint32_t stamp = ++ov->group_stamp;
    GQL_WORK (ov->e, fields->n);
    for (uint32_t i = 0; i < fields->n; i++) {
        gql_sel_t *sel = fields->items[i];
        const char *key = s_key (sel);
        s_group_t *g = gql_map_get (map, key, strlen (key));
        if (!g) {
            if (!(g = gql_alloc (ov->a, sizeof *g)) || gql_map_put (ov->a, map, key, strlen (key), g, NULL) < 0
                || gql_vec_push (ov->a, groups, g) != 0) {
                ov->e->oom = 1;
                break;
            }
            g->key = key;
            g->first = i;
        }
        //  A node has one key, so "already in its group" is "already
        //  taken by this grouping".
        if (sel->mark == stamp)
            continue;
        sel->mark = stamp;
        if (gql_vec_push (ov->a, &g->members, sel) != 0)
            ov->e->oom = 1;
    }
}

static void
s_group (s_ov_t *ov, const gql_vec_t *fields, gql_vec_t *groups)
{
    s_group_into (ov, fields, groups, NULL);
}

static void
s_report (s_ov_t *ov, const s_chain_t *chain, const char *key, const char *reason,
          const gql_sel_t *a, const gql_sel_t *b)
{
    //  Collect the chain top-down.
    const s_chain_t *links[GQL_MAX_NESTING + 2];
    int n = 0;
    ov->reports++;
    if (ov->e->full)
        return;                 //  it would not be kept: spare writing it
    for (const s_chain_t *c = chain; c && n < GQL_MAX_NESTING; c = c->up)
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

//  The memo key of a check of merged sub-selections: which check, and the
//  fields merged, as bytes.
static char *
s_clean_key (s_ov_t *ov, char kind, gql_sel_t *const *members, uint32_t n, size_t *len)
{
    *len = 1 + (size_t) n * sizeof *members;
    char *key = gql_alloc (ov->a, *len);
    if (key) {
        key[0] = kind;
        memcpy (key + 1, members, (size_t) n * sizeof *members);
    }
    GQL_WORK (ov->e, n);
    return key;
}

//  1 if this check was found clean at this depth or above.
static int
s_seen_clean (s_ov_t *ov, const char *key, size_t len, int depth)
{
    const int *at = key ? gql_map_get (&ov->clean, key, len) : NULL;
    return at && *at <= depth;
}

static void
s_note_clean (s_ov_t *ov, const char *key, size_t len, int depth, long reports)
{
    if (!key || ov->reports != reports || ov->gave_up || ov->e->oom)
        return;
    int *at = gql_map_get (&ov->clean, key, len);
    if (at) {
        if (depth < *at)
            *at = depth;
        return;
    }
    //  The memo outlives the check's scratch memory.
    char *copy = gql_alloc (ov->main, len);
    if (!copy || !(at = gql_alloc (ov->main, sizeof *at))) {
        ov->e->oom = 1;
        return;
    }
    memcpy (copy, key, len);
    *at = depth;
    if (gql_map_put (ov->main, &ov->clean, copy, len, at, NULL) < 0)
        ov->e->oom = 1;
}

static void
s_shape_subs (s_ov_t *ov, gql_sel_t *const *members, uint32_t n, const s_chain_t *chain, int depth)
{
    //  What a level builds is dropped when it is done, so memory follows
    //  the depth of the recursion, not the work of the whole check.
    gql_arena_mark_t mark = gql_arena_mark (ov->a);
    size_t klen;
    char *key = s_clean_key (ov, 's', members, n, &klen);
    long reports = ov->reports;
    if (!s_seen_clean (ov, key, klen, depth)) {
        gql_vec_t fields = { 0 }, groups = { 0 };
        s_collect_subs (ov, members, n, &fields);
        s_group (ov, &fields, &groups);
        for (uint32_t i = 0; i < groups.n && !ov->gave_up; i++) {
            const s_group_t *g = groups.items[i];
            if (g->members.n > 1)
                s_shape (ov, g, chain, depth + 1);
        }
        s_note_clean (ov, key, klen, depth, reports);
    }
    gql_arena_release (ov->a, mark);
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
s_args_equal (s_ov_t *ov, const gql_sel_t *a, const gql_sel_t *b)
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
    if (!s_args_equal (ov, ref, m)) {
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
        char *key = s_clean_key (ov, 'm', (gql_sel_t *const *) sub.items, sub.n, &klen);
        long reports = ov->reports;
        if (!s_seen_clean (ov, key, klen, depth)) {
            gql_vec_t fields = { 0 };
            s_collect_subs (ov, (gql_sel_t *const *) sub.items, sub.n, &fields);
            s_chain_t link = { chain, g->key, ((gql_sel_t *) sub.items[0])->loc, ((gql_sel_t *) sub.items[1])->loc };
            s_merge_set (ov, &fields, &link, depth + 1);
            s_note_clean (ov, key, klen, depth, reports);
        }
        gql_arena_release (ov->a, mark);
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

// -- sets with one fragment (see the top of the file) ----------------------------

//  The own fields of a set in collection order (through inline
//  fragments, not spreads), and its one fragment: *u, first spread after
//  *nb own fields, at level *level. Returns -1 if the set spreads two
//  fragments or nests past GQL_MAX_NESTING.
static int
s_own (s_ov_t *ov, const gql_selset_t *ss, int depth, gql_vec_t *own, const gql_fragment_t **u,
       uint32_t *nb, int *level)
{
    if (!ss)
        return 0;
    if (depth > GQL_MAX_NESTING || s_budget (ov, ss->items.n) != 0)
        return -1;
    for (uint32_t i = 0; i < ss->items.n; i++) {
        gql_sel_t *sel = ss->items.items[i];
        if (sel->kind == GQL_SEL_FIELD && gql_vec_push (ov->a, own, sel) != 0) {
            ov->e->oom = 1;
            return -1;
        }
        if (sel->kind == GQL_SEL_INLINE && s_own (ov, sel->selset, depth + 1, own, u, nb, level) != 0)
            return -1;
        if (sel->kind != GQL_SEL_SPREAD || !sel->frag || sel->frag->index >= ov->nfrags)
            continue;
        if (!*u) {
            *u = sel->frag;
            *nb = own->n;
            *level = depth;
        }
        else if (*u != sel->frag)
            return -1;
    }
    return 0;
}

//  U's expansion, built on first use: collected as a spread of U at
//  level 0 collects it (U itself already expanded), then grouped.
static s_expansion_t *
s_expansion (s_ov_t *ov, const gql_fragment_t *u)
{
    s_expansion_t *x = &ov->exp[u->index];
    if (x->state)
        return x->state > 0 ? x : NULL;
    x->state = -1;
    gql_vec_t fields = { 0 }, groups = { 0 };
    ov->stamp++;
    ov->frag_stamp[u->index] = ov->stamp;
    ov->truncated = 0;
    ov->deepest = 0;
    s_collect (ov, u->selset, &fields, 1);
    if (ov->truncated || ov->gave_up || ov->e->oom)
        return NULL;
    gql_arena_t *scratch = ov->a;
    ov->a = ov->main;
    s_group_into (ov, &fields, &groups, &x->by_key);
    ov->a = scratch;
    if (ov->e->oom)
        return NULL;
    s_group_t **tail = &x->pending;
    for (uint32_t i = 0; i < groups.n; i++) {
        s_group_t *g = groups.items[i];
        if (g->members.n > 1) {
            *tail = g;
            tail = &g->next;
        }
    }
    x->deepest = ov->deepest;
    x->nfields = fields.n;
    x->state = 1;
    return x;
}

typedef struct {
    uint32_t pos;               //  position of the group's first field in the full collection
    s_group_t *g;
    int alone;                  //  one of U's groups, as it is in U's expansion
} s_run_t;

static int
s_run_cmp (const void *a, const void *b)
{
    uint32_t x = ((const s_run_t *) a)->pos, y = ((const s_run_t *) b)->pos;
    return x < y ? -1 : x > y;
}

//  Join an own group of the set with U's members of the same key, in
//  collection order: own fields before the spread, U's, own fields after.
static s_group_t *
s_join (s_ov_t *ov, const s_group_t *og, uint32_t nbefore, const s_group_t *ug)
{
    s_group_t *g = gql_alloc (ov->a, sizeof *g);
    if (!g)
        return NULL;
    g->key = og->key;
    uint32_t stamp = ++ov->group_stamp;
    GQL_WORK (ov->e, og->members.n + (ug ? ug->members.n : 0));
    for (int part = 0; part < 3; part++) {
        const gql_vec_t *from = part == 1 ? (ug ? &ug->members : NULL) : &og->members;
        uint32_t lo = part == 2 ? nbefore : 0;
        uint32_t hi = part == 0 ? nbefore : from ? from->n : 0;
        for (uint32_t i = lo; i < hi; i++) {
            gql_sel_t *sel = from->items[i];
            if (sel->mark == stamp)
                continue;       //  the same node twice (a fragment spread within itself)
            sel->mark = stamp;
            if (gql_vec_push (ov->a, &g->members, sel) != 0)
                return NULL;
        }
    }
    return g;
}

//  The groups of 2+ members of a set whose own fields are own, nb of
//  them before the expansion x: into runs (s_run_t *), unordered.
static int
s_gather (s_ov_t *ov, const gql_vec_t *own, uint32_t nb, s_expansion_t *x, gql_vec_t *runs)
{
    uint32_t check = ++ov->check;
    //  The own fields by key; for each group, how many come before U.
    gql_vec_t ogroups = { 0 };
    gql_map_t omap = { 0 };
    GQL_WORK (ov->e, own->n);
    for (uint32_t i = 0; i < own->n; i++) {
        gql_sel_t *sel = own->items[i];
        const char *key = s_key (sel);
        s_group_t *og = gql_map_get (&omap, key, strlen (key));
        if (!og) {
            if (!(og = gql_alloc (ov->a, sizeof *og)) || gql_map_put (ov->a, &omap, key, strlen (key), og, NULL) < 0
                || gql_vec_push (ov->a, &ogroups, og) != 0)
                return -1;
            og->key = key;
            og->first = i;
        }
        if (gql_vec_push (ov->a, &og->members, sel) != 0)
            return -1;
        og->nbefore += i < nb;
    }
    for (uint32_t i = 0; i < ogroups.n; i++) {
        s_group_t *og = ogroups.items[i];
        s_group_t *ug = gql_map_get (&x->by_key, og->key, strlen (og->key));
        GQL_WORK (ov->e, 1);
        if (ug)
            ug->seen = check;
        s_group_t *g = s_join (ov, og, og->nbefore, ug);
        s_run_t *r = gql_alloc (ov->a, sizeof *r);
        if (!g || !r)
            return -1;
        if (g->members.n < 2)
            continue;
        r->g = g;
        r->pos = og->nbefore ? og->first : ug ? nb + ug->first : x->nfields + og->first;
        if (gql_vec_push (ov->a, runs, r) != 0)
            return -1;
    }
    //  U's own groups that no own field joins, while they have run less
    //  than twice.
    for (s_group_t *g = x->pending; g; g = g->next) {
        GQL_WORK (ov->e, 1);
        if (g->seen == check)
            continue;
        s_run_t *r = gql_alloc (ov->a, sizeof *r);
        if (!r || gql_vec_push (ov->a, runs, r) != 0)
            return -1;
        r->g = g;
        r->pos = nb + g->first;
        r->alone = 1;
    }
    return 0;
}

//  The check of a set whose one fragment is U, or -1 (having done
//  nothing that shows) when the set is not of that kind.
static int
s_check_one_fragment (s_ov_t *ov, const gql_selset_t *ss)
{
    gql_vec_t own = { 0 }, runs = { 0 };
    const gql_fragment_t *u = NULL;
    uint32_t nb = 0;
    int level = 0;
    if (s_own (ov, ss, 0, &own, &u, &nb, &level) != 0 || !u)
        return -1;
    s_expansion_t *x = s_expansion (ov, u);
    if (!x || x->deepest + level > GQL_MAX_NESTING)
        return -1;
    long reports = ov->reports;
    if (s_gather (ov, &own, nb, x, &runs) != 0)
        goto oom;
    //  In the order of the full collection's groups.
    s_run_t *order = gql_alloc_array (ov->a, runs.n + 1, sizeof *order);
    if (!order)
        goto oom;
    for (uint32_t i = 0; i < runs.n; i++)
        order[i] = *(s_run_t *) runs.items[i];
    qsort (order, runs.n, sizeof *order, s_run_cmp);
    GQL_WORK (ov->e, runs.n);
    for (uint32_t i = 0; i < runs.n && !ov->gave_up; i++) {
        int before = gql_errs_count (ov->e);
        s_merge_group (ov, order[i].g, NULL, 0);
        if (gql_errs_count (ov->e) == before)
            s_shape (ov, order[i].g, NULL, 0);
        if (order[i].alone)
            order[i].g->runs++;
    }
    //  Groups run twice on their own have shown all their errors.
    s_group_t **link = &x->pending;
    while (*link) {
        if ((*link)->runs >= 2)
            *link = (*link)->next;
        else
            link = &(*link)->next;
    }
    return ov->reports == reports && !ov->gave_up && !ov->e->oom;
oom:
    ov->e->oom = 1;
    return 0;
}

//  FieldsInSetCanMerge for one selection set of the document, with the
//  shape check (done once, from the top). Returns 1 if it found no
//  conflict and saw every field of the set.
static int
s_check_selset (s_ov_t *ov, const gql_selset_t *ss)
{
    //  What one check builds is dropped after it (errors are copied into
    //  their own list), so memory stays that of the largest check rather
    //  than the sum of all of them.
    gql_arena_t scratch, *keep = ov->a;
    gql_arena_init (&scratch, 4096);
    ov->a = &scratch;
    int fast = s_check_one_fragment (ov, ss);
    if (fast >= 0) {
        ov->a = keep;
        gql_arena_free (&scratch);
        return fast;
    }
    gql_vec_t fields = { 0 }, groups = { 0 };
    long reports = ov->reports;
    ov->truncated = 0;
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
    ov->a = keep;
    gql_arena_free (&scratch);
    return ov->reports == reports && !ov->truncated && !ov->gave_up && !ov->e->oom;
}

//  Every selection set in the document, each checked on its own unless
//  covered: an inline fragment's set inside a set whose check was clean
//  (see the top of the file).
static void
s_walk (s_ov_t *ov, const gql_selset_t *ss, int depth, int covered)
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
    s_ov_t ov = { .a = a, .e = e };
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
