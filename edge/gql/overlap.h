/*  overlap.h: what the field-merging check's files (overlap.c,
 *  overlap_collect.c, overlap_fragment.c) share: the state of one check,
 *  the groups of same-key fields it compares, and the functions that cross
 *  between the files. Not for the other stages, which call
 *  gql_check_overlaps (gql_prepare.h).
 */
#ifndef HERALD_GQL_OVERLAP_H
#define HERALD_GQL_OVERLAP_H

#include "gql_internal.h"

typedef struct gql_ov_group {
    const char *key;
    gql_vec_t members;          //  gql_sel_t * fields
    uint32_t first;             //  position in the collection of the first field with the key
    uint32_t nbefore;           //  a set's own group: members before its fragment
    //  For the groups of a fragment's expansion:
    uint32_t runs;              //  checks run of this group on its own
    uint32_t seen;              //  the fast check that last met this key among its own fields
    struct gql_ov_group *next;       //  the expansion's groups of 2+ members run less than twice
} gql_ov_group_t;

//  A fragment's expansion, as a set that spreads it first collects it.
typedef struct {
    int state;                  //  0 not built, 1 built, -1 cannot serve (truncated, out of budget)
    int deepest;                //  deepest collection level, for a spread at level 0
    uint32_t nfields;           //  fields collected (with any node collected twice)
    gql_map_t by_key;           //  response key -> gql_ov_group_t *
    gql_ov_group_t *pending;         //  groups of 2+ members run less than twice, by first position
} gql_ov_expansion_t;

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
    gql_ov_expansion_t *exp;         //  per fragment index
    gql_arena_t *main;          //  the prepare's arena (expansions outlive a check)
    int deepest;                //  deepest level a collection entered
    uint32_t check;             //  fast checks so far (gql_ov_group_t.seen)
    gql_map_t clean;            //  merged member lists found clean -> int *: least depth
} gql_ov_t;

//  The keys from the top-level group down, for "subfields ... conflict".
typedef struct gql_ov_chain {
    const struct gql_ov_chain *up;
    const char *key;
    uint32_t loc1, loc2;
} gql_ov_chain_t;
/*  overlap_collect.c: collecting, grouping and the work budget. */

/*  A field's response key: its alias, or its name. */
const char *gql_ov_key (const gql_sel_t *sel);
/*  Count n steps of work; -1 once the check has given up (over
 *  GQL_MAX_MERGE_WORK, reported once, or the error list is full). */
int gql_ov_budget (gql_ov_t *ov, long n);
/*  The fields of ss, through fragments and inline fragments, appended to
 *  out; a fragment is expanded once per collection (ov->stamp). */
void gql_ov_collect (gql_ov_t *ov, const gql_selset_t *ss, gql_vec_t *out, int depth);
/*  The fields of the sub-selections of members, in one collection. */
void gql_ov_collect_subs (gql_ov_t *ov, gql_sel_t *const *members, uint32_t n, gql_vec_t *out);
/*  Group fields by response key (gql_ov_group_t *), in order of first
 *  appearance, the same node once; the map by key is left in *by_key when
 *  given. */
void gql_ov_group_into (gql_ov_t *ov, const gql_vec_t *fields, gql_vec_t *groups,
                        gql_map_t *by_key);
void gql_ov_group (gql_ov_t *ov, const gql_vec_t *fields, gql_vec_t *groups);
/*  The memo of checks of merged sub-selections found clean: the key of
 *  one (kind 's' shape, 'm' merge), whether it was clean at this depth or
 *  above, and noting that it was (when no conflict was reported since
 *  reports). */
char *gql_ov_clean_key (gql_ov_t *ov, char kind, gql_sel_t *const *members, uint32_t n,
                        size_t *len);
int gql_ov_seen_clean (gql_ov_t *ov, const char *key, size_t len, int depth);
void gql_ov_note_clean (gql_ov_t *ov, const char *key, size_t len, int depth, long reports);

/*  overlap.c: the rule, for one group of same-key fields (chain: the keys
 *  above it, NULL at the top): same field and arguments where the spec
 *  asks it, then the same response shape. */
void gql_ov_merge_group (gql_ov_t *ov, const gql_ov_group_t *g, const gql_ov_chain_t *chain,
                         int depth);
void gql_ov_shape (gql_ov_t *ov, const gql_ov_group_t *g, const gql_ov_chain_t *chain, int depth);

/*  overlap_fragment.c: the check of a set whose one fragment is U: 1 if it
 *  found no conflict, 0 if it did (or memory ran out), or -1, having done
 *  nothing that shows, when the set is not of that kind. */
int gql_ov_check_one_fragment (gql_ov_t *ov, const gql_selset_t *ss);

#endif
