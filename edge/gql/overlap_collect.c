/*  overlap_collect.c: for the field-merging check (overlap.c), the
 *  collecting of the fields a selection set brings together through its
 *  fragments, their grouping by response key, the budget that bounds the
 *  work, and the memo of checks of merged sub-selections that found
 *  nothing.
 */
#include "gql_internal.h"
#include "overlap.h"

#include <string.h>

const char *
gql_ov_key (const gql_sel_t *sel)
{
    return sel->alias ? sel->alias : sel->name;
}

int
gql_ov_budget (gql_ov_t *ov, long n)
{
    ov->work += n;
    GQL_WORK (ov->e, n);
    if (ov->e->full)
        ov->gave_up = 1;        //  nothing more would be kept
    if (ov->work > GQL_MAX_MERGE_WORK) {
        if (!ov->gave_up)
            gql_err (ov->e, GQL_NOLOC,
                     "The document is too complex to check that its fields can be merged.");
        ov->gave_up = 1;
    }
    return ov->gave_up ? -1 : 0;
}

void
gql_ov_collect (gql_ov_t *ov, const gql_selset_t *ss, gql_vec_t *out, int depth)
{
    if (ss && depth > GQL_MAX_NESTING)
        ov->truncated = 1;
    if (!ss || depth > GQL_MAX_NESTING || ov->gave_up)
        return;
    if (gql_ov_budget (ov, ss->items.n) != 0)
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
                if (!sel->frag || sel->frag->index >= ov->nfrags
                    || ov->frag_stamp[sel->frag->index] == ov->stamp)
                    break;
                ov->frag_stamp[sel->frag->index] = ov->stamp;
                gql_ov_collect (ov, sel->frag->selset, out, depth + 1);
                break;
            case GQL_SEL_INLINE:
                gql_ov_collect (ov, sel->selset, out, depth + 1);
                break;
        }
    }
}

//  The fields of the sub-selections of members, in one collection (a
//  fragment spread in two of them is expanded once).
void
gql_ov_collect_subs (gql_ov_t *ov, gql_sel_t *const *members, uint32_t n, gql_vec_t *out)
{
    ov->stamp++;
    for (uint32_t i = 0; i < n; i++)
        gql_ov_collect (ov, members[i]->selset, out, 0);
}

//  Group fields by response key, in order of first appearance; the same
//  node twice (through two paths) counts once. The map by key is left in
//  *by_key when given.
void
gql_ov_group_into (gql_ov_t *ov, const gql_vec_t *fields, gql_vec_t *groups, gql_map_t *by_key)
{
    gql_map_t local = { 0 }, *map = by_key ? by_key : &local;
    uint32_t stamp = ++ov->group_stamp;
    GQL_WORK (ov->e, fields->n);
    for (uint32_t i = 0; i < fields->n; i++) {
        gql_sel_t *sel = fields->items[i];
        const char *key = gql_ov_key (sel);
        gql_ov_group_t *g = gql_map_get (map, key, strlen (key));
        if (!g) {
            if (!(g = gql_alloc (ov->a, sizeof *g))
                || gql_map_put (ov->a, map, key, strlen (key), g, NULL) < 0
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

void
gql_ov_group (gql_ov_t *ov, const gql_vec_t *fields, gql_vec_t *groups)
{
    gql_ov_group_into (ov, fields, groups, NULL);
}

//  The memo key of a check of merged sub-selections: which check, and the
//  fields merged, as bytes.
char *
gql_ov_clean_key (gql_ov_t *ov, char kind, gql_sel_t *const *members, uint32_t n, size_t *len)
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
int
gql_ov_seen_clean (gql_ov_t *ov, const char *key, size_t len, int depth)
{
    const int *at = key ? gql_map_get (&ov->clean, key, len) : NULL;
    return at && *at <= depth;
}

void
gql_ov_note_clean (gql_ov_t *ov, const char *key, size_t len, int depth, long reports)
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
