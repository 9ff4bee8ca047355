/*  gql.c: gql_prepare, which runs the pipeline of gql_internal.h in order
 *  (parse, the max_fields limit, validate, select the operation, coerce
 *  variables, plan), and the accessors of a prepared subscription.
 *
 *  Everything but the plan is built in a temporary arena that is freed
 *  before returning, so a prepared subscription holds only its plan,
 *  topic and key.
 */
#include "gql_internal.h"

#include <stdlib.h>
#include <string.h>

static const gql_operation_t *
s_select (gql_doc_t *doc, const char *name, gql_errs_t *e)
{
    const gql_operation_t *found = NULL;
    int count = 0;
    for (uint32_t i = 0; i < doc->defs.n; i++) {
        const gql_def_t *d = doc->defs.items[i];
        if (d->kind != GQL_D_OPERATION)
            continue;
        count++;
        if (name ? (d->u.op->name && strcmp (d->u.op->name, name) == 0) : !found)
            found = d->u.op;
    }
    if (name && !found)
        gql_err (e, GQL_NOLOC, "Unknown operation named \"%s\".", name);
    else if (!name && count > 1)
        gql_err (e, GQL_NOLOC,
                 "Must provide operation name if query contains multiple operations.");
    else if (!found)
        gql_err (e, GQL_NOLOC, "Must provide an operation.");
    else
        return found;
    return NULL;
}

//  The location of the n-th field selection (from 1) in the text, or
//  GQL_NOLOC. Fields are visited in the order they are written; the
//  parser bounds the nesting, and so this recursion.
static uint32_t
s_nth_field (const gql_selset_t *ss, uint32_t *left)
{
    for (uint32_t i = 0; ss && i < ss->items.n; i++) {
        const gql_sel_t *sel = ss->items.items[i];
        if (sel->kind == GQL_SEL_FIELD && --*left == 0)
            return sel->loc;
        uint32_t loc = s_nth_field (sel->selset, left);
        if (loc != GQL_NOLOC)
            return loc;
    }
    return GQL_NOLOC;
}

//  max_fields (see gql.h): the parser counted the fields.
static int
s_check_fields (const gql_doc_t *doc, int max_fields, gql_errs_t *e)
{
    if (doc->nfields <= (uint32_t) max_fields)
        return 0;
    uint32_t left = (uint32_t) max_fields + 1, loc = GQL_NOLOC;
    for (uint32_t i = 0; i < doc->defs.n && loc == GQL_NOLOC; i++) {
        const gql_def_t *d = doc->defs.items[i];
        if (d->kind == GQL_D_OPERATION)
            loc = s_nth_field (d->u.op->selset, &left);
        else if (d->kind == GQL_D_FRAGMENT)
            loc = s_nth_field (d->u.frag->selset, &left);
    }
    gql_err (e, loc, "The document selects too many fields: %u, and the limit is %d.", doc->nfields,
             max_fields);
    return -1;
}

static gql_sub_t *
s_prepare (const gql_schema_t *schema, const char *query, size_t len, const char *operation_name,
           const json_t *variables, const json_t *claims, const gql_limits_t *limits,
           char **errors, uint64_t *work);

gql_sub_t *
gql_prepare (const gql_schema_t *schema, const char *query, size_t len, const char *operation_name,
             const json_t *variables, const gql_limits_t *limits, char **errors)
{
    return s_prepare (schema, query, len, operation_name, variables, NULL, limits, errors, NULL);
}

gql_sub_t *
gql_prepare_as (const gql_schema_t *schema, const char *query, size_t len,
                const char *operation_name, const json_t *variables, const json_t *claims,
                const gql_limits_t *limits, char **errors)
{
    return s_prepare (schema, query, len, operation_name, variables, claims, limits, errors, NULL);
}

gql_sub_t *
gql_prepare_counted (const gql_schema_t *schema, const char *query, size_t len,
                     const char *operation_name, const json_t *variables,
                     const gql_limits_t *limits, char **errors, uint64_t *work)
{
    return s_prepare (schema, query, len, operation_name, variables, NULL, limits, errors, work);
}

static gql_sub_t *
s_prepare (const gql_schema_t *schema, const char *query, size_t len, const char *operation_name,
           const json_t *variables, const json_t *claims, const gql_limits_t *limits,
           char **errors, uint64_t *work)
{
    gql_arena_t tmp;
    gql_arena_init (&tmp, 4096);
    gql_errs_t e;
    gql_errs_init (&e, &tmp);
    gql_src_t src = { .text = query ? query : "", .len = query ? len : 0 };
    gql_sub_t *sub = NULL;
    if (errors)
        *errors = NULL;
    if (!schema) {
        gql_err (&e, GQL_NOLOC, "No schema.");
        goto out;
    }
    gql_doc_t *doc = gql_parse (&tmp, src.text, src.len, &e);
    int max_fields = limits && limits->max_fields > 0 ? limits->max_fields : GQL_DEFAULT_MAX_FIELDS;
    if (!doc || s_check_fields (doc, max_fields, &e) != 0
        || gql_validate (&tmp, schema, doc, &e) != 0)
        goto out;
    const gql_operation_t *op = s_select (doc, operation_name, &e);
    if (!op)
        goto out;
    if (op->op != GQL_OP_SUBSCRIPTION) {
        gql_err (&e, op->loc,
                 "herald-edge serves subscriptions only; send queries and mutations to your "
                 "GraphQL server.");
        goto out;
    }
    gql_vars_t vars = { 0 };
    if (gql_coerce_variables (&tmp, &e, op, variables, &vars) != 0)
        goto out;
    if (!(sub = calloc (1, sizeof *sub))) {
        e.oom = 1;
        goto out;
    }
    gql_arena_init (&sub->arena, 2048);
    int max_depth = limits && limits->max_depth > 0 ? limits->max_depth : GQL_DEFAULT_MAX_DEPTH;
    if (gql_plan (sub, &tmp, schema, doc, op, &vars, claims, max_depth, &src, &e) != 0
        && !gql_errs_count (&e))
        gql_err (&e, op->loc, "Internal error: the operation could not be planned.");
out:
    if (gql_errs_count (&e)) {
        gql_sub_destroy (&sub);
        if (errors)
            *errors = gql_errs_json (&e, &src);
    }
    if (work)
        *work = e.work + src.work;
    gql_arena_free (&tmp);
    return sub;
}

const char *
gql_sub_topic (const gql_sub_t *self)
{
    return self->topic;
}

const char *
gql_sub_key (const gql_sub_t *self, size_t *len)
{
    if (len)
        *len = self->key_len;
    return self->key;
}

const char *
gql_sub_shape_key (const gql_sub_t *self, size_t *len)
{
    if (len)
        *len = self->shape_key_len;
    return self->shape_key;
}

void
gql_sub_destroy (gql_sub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gql_arena_free (&(*self_p)->arena);
    free (*self_p);
    *self_p = NULL;
}
