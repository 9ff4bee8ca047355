/*  schema_build.h: what the schema loader's files (schema.c, schema_sdl.c,
 *  schema_check.c) share: the state of one load, the helpers that add to
 *  the model, and the passes gql_schema_new runs in order. Not for the
 *  other stages, which see only the finished model (gql_schema.h).
 */
#ifndef HERALD_GQL_SCHEMA_BUILD_H
#define HERALD_GQL_SCHEMA_BUILD_H

#include "gql_internal.h"

typedef struct {
    gql_schema_t *s;
    gql_arena_t *a;
    gql_errs_t *e;
    gql_doc_t *doc;
    gql_vec_t type_names;       //  for suggestions
} gql_build_t;

/*  schema.c: the helpers. */

/*  Note that memory ran out; returns -1. */
int gql_build_oom (gql_build_t *b);
/*  Report a name that starts with "__" (introspection's); returns 1 if it
 *  does, else 0. */
int gql_build_reserved (gql_build_t *b, const char *name, uint32_t loc);
/*  "object type", "input object": a kind as messages name it. */
const char *gql_build_kind_name (gql_kind_t k);
/*  "an" or "a", whichever goes before the kind's name. */
const char *gql_build_kind_article (gql_kind_t k);
/*  A new named type, or NULL after reporting a duplicate name (or memory
 *  running out). */
gql_type_t *gql_build_add_type (gql_build_t *b, gql_kind_t kind, const char *name, uint32_t loc,
                                int builtin);
/*  A new directive definition, or NULL if memory ran out. */
gql_dirdef_t *gql_build_add_directive (gql_build_t *b, const char *name, uint32_t loc,
                                       uint32_t locations, int builtin);
/*  Append a built-in argument definition; returns 0, or -1 if memory ran
 *  out (or type is NULL, an earlier failure). */
int gql_build_add_arg (gql_build_t *b, gql_vec_t *args, const char *name, const gql_tref_t *type,
                       const gql_cval_t *def);

/*  schema_sdl.c: reading the definitions. */

/*  Directive definitions, and the built-in @topic unless the SDL declares
 *  it. */
void gql_build_directive_defs (gql_build_t *b);
/*  Every named type, then the members of each from its definition and
 *  extensions. */
void gql_build_types (gql_build_t *b);
/*  The query, mutation and subscription root types. */
void gql_build_roots (gql_build_t *b);

/*  schema_check.c: checking what was read. */

/*  Possible types of the abstract types, then the rules of each kind:
 *  fields present, interfaces implemented, members and values present, no
 *  input cycle. */
void gql_build_check_types (gql_build_t *b);
/*  Check and coerce every default value of arguments and input fields. */
void gql_build_defaults (gql_build_t *b);
/*  Check every directive application in the SDL. */
void gql_build_applications (gql_build_t *b);

#endif
