/*  gql_prepare.h: the stages that turn a parsed document into a prepared
 *  subscription: validation (validate*.c, overlap*.c), variable coercion
 *  (variables.c), and the plan that execute.c runs (plan.c).
 */
#ifndef HERALD_GQL_PREPARE_H
#define HERALD_GQL_PREPARE_H

#include "gql_values.h"

/*  validate.c: all of section 5 that applies, over every definition of
 *  doc. Annotates the AST (sel->def, sel->parent, ...). Returns the number
 *  of errors. */
int gql_validate (gql_arena_t *a, const gql_schema_t *s, gql_doc_t *doc, gql_errs_t *e);

/*  validate_args.c: Argument Names, Argument Uniqueness, Required
 *  Arguments and Values of Correct Type for the arguments of one field or
 *  directive. owner names it in messages ("Message.text", "@skip");
 *  usages collects variables. */
void gql_check_args (gql_errs_t *e, const gql_vec_t *args, const gql_vec_t *defs, uint32_t loc,
                     int is_directive, const char *field, const char *owner, gql_vec_t *usages,
                     int const_ctx);

/*  Directives Are Defined, In Valid Locations, Unique Per Location, and
 *  their arguments, for the directives at one location (a GQL_DL_ bit). */
void gql_check_directives (const gql_schema_t *s, gql_errs_t *e, const gql_vec_t *dirs,
                           uint32_t location, gql_vec_t *usages, int const_ctx);

/*  overlap.c: Field Selection Merging over every selection set of the document. */
void gql_check_overlaps (gql_arena_t *a, const gql_schema_t *s, gql_doc_t *doc, gql_errs_t *e);

/*  variables.c */

/*  CoerceVariableValues: fills vars->vals. Returns 0 or -1 (errors recorded). */
int gql_coerce_variables (gql_arena_t *a, gql_errs_t *e, const gql_operation_t *op,
                          const json_t *values, gql_vars_t *vars);

/*  plan.c / execute.c: the prepared subscription */

typedef enum {
    GQL_P_NONNULL,
    GQL_P_LIST,
    GQL_P_INT,
    GQL_P_FLOAT,
    GQL_P_STRING,
    GQL_P_BOOLEAN,
    GQL_P_ID,
    GQL_P_CUSTOM,
    GQL_P_ENUM,
    GQL_P_OBJECT,
    GQL_P_ABSTRACT
} gql_pkind_t;

typedef struct gql_ptype gql_ptype_t;
typedef struct gql_pobj gql_pobj_t;
typedef struct gql_pfield gql_pfield_t;

typedef struct {
    const char *s;
    uint32_t len;
} gql_pname_t;

/*  A field's result type, unwrapped into a chain. */
struct gql_ptype {
    gql_pkind_t kind;
    const gql_ptype_t *of;      //  GQL_P_NONNULL, GQL_P_LIST
    const gql_type_t *type;     //  named type (enum, scalar, object, abstract)
    const gql_pobj_t *obj;      //  GQL_P_OBJECT
    const gql_pobj_t *alts;     //  GQL_P_ABSTRACT: one per possible object type
    uint32_t nalts;
    const gql_pname_t *values;  //  GQL_P_ENUM: the enum's value names
    uint32_t nvalues;
};

/*  The fields collected for one object type. */
struct gql_pobj {
    const gql_type_t *type;
    const char *name;           //  type name
    uint32_t name_len;
    const char *name_json;      //  the same, quoted, as __typename renders it
    uint32_t name_json_len;
    const gql_pfield_t *fields;
    uint32_t nfields;
};

struct gql_pfield {
    const char *prefix;         //  "\"key\":" or ",\"key\":", ready to copy
    uint32_t prefix_len;
    const char *key;            //  response key (alias or name)
    uint32_t key_len;
    const char *name;           //  field name: the payload map key
    uint32_t name_len;
    int is_typename;
    const gql_ptype_t *type;
    const gql_type_t *parent;   //  object type the field is on (for messages)
    const uint32_t *locs;       //  line, column pairs of the field nodes
    uint32_t nlocs;
};

struct gql_sub {
    gql_arena_t arena;
    char *topic;
    char *key;                  //  the plan, with each field's locations
    size_t key_len;
    char *shape_key;            //  the plan without locations
    size_t shape_key_len;
    const gql_pfield_t *root;   //  the one root field
};

/*  gql.c: gql_prepare, also giving in *work (when not NULL) the steps of
 *  work it took (gql_errs_t.work), for tests that show how that work grows. */
gql_sub_t *gql_prepare_counted (const gql_schema_t *schema, const char *query, size_t len,
                                const char *operation_name, const json_t *variables,
                                const gql_limits_t *limits, char **errors, uint64_t *work);

/*  Build the plan, topic and key of the selected subscription operation,
 *  with the claims of the client's token (or NULL) for the topic.
 *  Returns 0 or -1 (errors recorded). */
int gql_plan (gql_sub_t *sub, gql_arena_t *tmp, const gql_schema_t *s, gql_doc_t *doc,
              const gql_operation_t *op, const gql_vars_t *vars, const json_t *claims,
              int max_depth, gql_src_t *src, gql_errs_t *e);

#endif
