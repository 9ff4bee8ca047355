/*  gql_internal.h: the engine's internal types, shared by its .c files,
 *  in one header per area, included here in order:
 *    gql_base.h     limits, the arena and its containers, error lists
 *    gql_ast.h      tokens and the syntax tree
 *    gql_schema.h   the schema model, its queries and @topic templates
 *    gql_values.h   input values: checking, coercion, the scalars
 *    gql_prepare.h  validation, variables and the prepared subscription
 *
 *  The pipeline, one group of files per stage:
 *    lexer.c     source text -> tokens
 *    parser.c    tokens -> AST: the machinery and executable definitions
 *                (parser_sdl.c: type-system definitions)
 *    schema.c    SDL AST -> schema model: the passes, the model's tables
 *                (schema_sdl.c: reading the definitions; schema_check.c:
 *                type-system validation; types.c: the queries on the
 *                model that later stages ask)
 *    topic.c     @topic templates: compiled at load, expanded per subscription
 *    validate.c  the spec's section 5: the walk over each definition
 *                (validate_args.c: arguments and directives at one place;
 *                validate_across.c: the rules across definitions;
 *                overlap.c, overlap_collect.c, overlap_fragment.c: field
 *                merging)
 *    values.c    input literals: checking and printing
 *                (values_coerce.c: coercion)
 *    variables.c CoerceVariableValues over jansson values
 *    plan.c      CollectFields, @skip/@include, topic and key -> plan
 *    execute.c   plan + msgpack payload -> result JSON (the hot path)
 *    gql.c       gql_prepare and the gql_sub_t accessors
 *  Support: arena.c (arena, vectors, name maps), errors.c (error lists,
 *  locations, did-you-mean), scalar.c (input coercion of the built-in
 *  scalars, for values and variables).
 *
 *  A stage split over several files shares its own state through a
 *  header of its own (parser.h, schema_build.h, validate.h, overlap.h),
 *  which no other stage includes.
 */
#ifndef HERALD_GQL_INTERNAL_H
#define HERALD_GQL_INTERNAL_H

#include "gql_base.h"
#include "gql_ast.h"
#include "gql_schema.h"
#include "gql_values.h"
#include "gql_prepare.h"

#endif
