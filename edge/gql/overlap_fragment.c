/*  overlap_fragment.c: the field-merging check (overlap.c) of a set whose
 *  only fragment is U, spread once or more beside fields and inline
 *  fragments of its own.
 *
 *  Such a set collects its own fields before the first spread, then U's
 *  expansion (the same wherever U is spread, nothing else having been
 *  expanded yet), then its own fields after. The expansion and its groups
 *  by key are built once per fragment (gql_ov_expansion_t), and such a set
 *  builds only the groups that can have two members: its own keys, joined
 *  with U's members of the same key, and U's groups of two or more, which
 *  are the same group each time and so, like the check of a set that is
 *  only a spread, are run twice at most. The groups run in the order the
 *  full collection would give them.
 */
#include "gql_internal.h"
#include "overlap.h"

#include <stdlib.h>
#include <string.h>

//  The own fields of a set in collection order (through inline
//  fragments, not spreads), and its one fragment: *u, first spread after
//  *nb own fields, at level *level. Returns -1 if the set spreads two
//  fragments or nests past GQL_MAX_NESTING.
static int
s_own (gql_ov_t *ov, const gql_selset_t *ss, int depth, gql_vec_t *own, const gql_fragment_t **u,
       uint32_t *nb, int *level)
{
    if (!ss)
        return 0;
    if (depth > GQL_MAX_NESTING || gql_ov_budget (ov, ss->items.n) != 0)
        return -1;
    for (uint32_t i = 0; i < ss->items.n; i++) {
        gql_sel_t *sel = ss->items.items[i];
        if (sel->kind == GQL_SEL_FIELD && gql_vec_push (ov->a, own, sel) != 0) {
            ov->e->oom = 1;
            return -1;
        }
        if (sel->kind == GQL_SEL_INLINE
            && s_own (ov, sel->selset, depth + 1, own, u, nb, level) != 0)
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
static gql_ov_expansion_t *
s_expansion (gql_ov_t *ov, const gql_fragment_t *u)
{
    gql_ov_expansion_t *x = &ov->exp[u->index];
    if (x->state)
        return x->state > 0 ? x : NULL;
    x->state = -1;
    gql_vec_t fields = { 0 }, groups = { 0 };
    ov->stamp++;
    ov->frag_stamp[u->index] = ov->stamp;
    ov->truncated = 0;
    ov->deepest = 0;
    gql_ov_collect (ov, u->selset, &fields, 1);
    if (ov->truncated || ov->gave_up || ov->e->oom)
        return NULL;
    gql_arena_t *scratch = ov->a;
    ov->a = ov->main;
    gql_ov_group_into (ov, &fields, &groups, &x->by_key);
    ov->a = scratch;
    if (ov->e->oom)
        return NULL;
    gql_ov_group_t **tail = &x->pending;
    for (uint32_t i = 0; i < groups.n; i++) {
        gql_ov_group_t *g = groups.items[i];
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
    gql_ov_group_t *g;
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
static gql_ov_group_t *
s_join (gql_ov_t *ov, const gql_ov_group_t *og, uint32_t nbefore, const gql_ov_group_t *ug)
{
    gql_ov_group_t *g = gql_alloc (ov->a, sizeof *g);
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
s_gather (gql_ov_t *ov, const gql_vec_t *own, uint32_t nb, gql_ov_expansion_t *x, gql_vec_t *runs)
{
    uint32_t check = ++ov->check;
    //  The own fields by key; for each group, how many come before U.
    gql_vec_t ogroups = { 0 };
    gql_map_t omap = { 0 };
    GQL_WORK (ov->e, own->n);
    for (uint32_t i = 0; i < own->n; i++) {
        gql_sel_t *sel = own->items[i];
        const char *key = gql_ov_key (sel);
        gql_ov_group_t *og = gql_map_get (&omap, key, strlen (key));
        if (!og) {
            if (!(og = gql_alloc (ov->a, sizeof *og))
                || gql_map_put (ov->a, &omap, key, strlen (key), og, NULL) < 0
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
        gql_ov_group_t *og = ogroups.items[i];
        gql_ov_group_t *ug = gql_map_get (&x->by_key, og->key, strlen (og->key));
        GQL_WORK (ov->e, 1);
        if (ug)
            ug->seen = check;
        gql_ov_group_t *g = s_join (ov, og, og->nbefore, ug);
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
    for (gql_ov_group_t *g = x->pending; g; g = g->next) {
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
int
gql_ov_check_one_fragment (gql_ov_t *ov, const gql_selset_t *ss)
{
    gql_vec_t own = { 0 }, runs = { 0 };
    const gql_fragment_t *u = NULL;
    uint32_t nb = 0;
    int level = 0;
    if (s_own (ov, ss, 0, &own, &u, &nb, &level) != 0 || !u)
        return -1;
    gql_ov_expansion_t *x = s_expansion (ov, u);
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
        gql_ov_merge_group (ov, order[i].g, NULL, 0);
        if (gql_errs_count (ov->e) == before)
            gql_ov_shape (ov, order[i].g, NULL, 0);
        if (order[i].alone)
            order[i].g->runs++;
    }
    //  Groups run twice on their own have shown all their errors.
    gql_ov_group_t **link = &x->pending;
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
