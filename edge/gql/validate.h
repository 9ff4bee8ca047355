/*  validate.h: what the validator's files (validate.c, validate_across.c)
 *  share: the state of one validation. Not for the other stages.
 */
#ifndef HERALD_GQL_VALIDATE_H
#define HERALD_GQL_VALIDATE_H

#include "gql_internal.h"

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
} gql_val_t;

/*  validate_across.c: the rules that look across definitions, run once
 *  the walk (validate.c) has noted every definition's spreads and variable
 *  usages: Subscription Single Root Field, Fragments Must Be Used, the
 *  variable rules, and Fragment Spreads Must Not Form Cycles. Returns 0,
 *  or -1 if memory ran out before the last of them. */
int gql_validate_across (gql_val_t *v);

#endif
