/*  gql_values.h: input values: literals checked, coerced and printed
 *  (values.c, values_coerce.c), and the built-in scalars' input coercion
 *  that literals and JSON variables share (scalar.c).
 */
#ifndef HERALD_GQL_VALUES_H
#define HERALD_GQL_VALUES_H

#include "gql_schema.h"

/*  values.c and values_coerce.c: input literals */

typedef enum {
    GQL_C_NULL,
    GQL_C_INT,
    GQL_C_FLOAT,
    GQL_C_STRING,
    GQL_C_BOOLEAN,
    GQL_C_ENUM,
    GQL_C_LIST,
    GQL_C_OBJECT
} gql_ckind_t;

/*  A coerced input value. */
struct gql_cval {
    gql_ckind_t kind;
    int64_t i;                  //  GQL_C_INT, GQL_C_BOOLEAN
    double f;                   //  GQL_C_FLOAT
    const char *s;              //  GQL_C_STRING, GQL_C_ENUM
    size_t len;
    gql_cval_t **items;         //  GQL_C_LIST, GQL_C_OBJECT (values)
    const char **keys;          //  GQL_C_OBJECT
    uint32_t n;
};

/*  A variable used somewhere, with the type its position expects. */
typedef struct {
    const char *name;
    uint32_t loc;
    const gql_tref_t *type;     //  NULL when the position's type is unknown
    int loc_default;            //  the position has a default value
} gql_varuse_t;

/*  Values of Correct Type, Input Object Field Names/Uniqueness/Required
 *  Fields for one literal at a position of the given type. Variables are
 *  recorded in usages (when given) and otherwise not checked here; in a
 *  constant context (const_ctx) they are errors. Returns the number of
 *  errors recorded. */
int gql_check_literal (gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type,
                       int loc_default, gql_vec_t *usages, int const_ctx);

/*  Variable values during coercion: lookup returns 1 and *out if the
 *  variable was provided (or defaulted), 0 if not. */
typedef struct {
    const gql_vec_t *defs;      //  gql_vardef_t *
    const gql_cval_t **vals;    //  parallel to defs; NULL entry: not provided
    gql_map_t index;            //  name -> 1 + position of its first definition
    uint64_t *work;             //  where lookups count their steps, or NULL
} gql_vars_t;

const gql_cval_t *gql_vars_get (const gql_vars_t *vars, const char *name, int *provided);

/*  Coerce a literal known to be valid for type (gql_check_literal passed).
 *  Variables are replaced by their values (vars may be NULL in constant
 *  contexts). On a runtime failure (a null variable in a non-null
 *  position) records an error at the value and returns NULL; NULL also if
 *  memory runs out (e->oom). */
const gql_cval_t *gql_coerce_literal (gql_arena_t *a, gql_errs_t *e, const gql_value_t *v,
                                      const gql_tref_t *type, const gql_vars_t *vars);

/*  CoerceArgumentValues for one field or directive. args are the AST
 *  arguments, defs the definitions (gql_input_t *). out[i] (parallel to
 *  defs) is the coerced value, or NULL when absent with no default.
 *  Returns 0, or -1 after recording errors. */
int gql_coerce_args (gql_arena_t *a, gql_errs_t *e, const gql_vec_t *args,
                     const gql_vec_t *defs, const gql_vars_t *vars, uint32_t loc,
                     const char *what, const gql_cval_t **out);

extern const gql_cval_t gql_cval_null;

/*  Print a literal in GraphQL syntax, for messages. */
const char *gql_value_str (gql_arena_t *a, const gql_value_t *v);
/*  1 if two literals are the same (object fields in any order). e gives
 *  scratch memory and counts the work. */
int gql_value_equal (const gql_value_t *a, const gql_value_t *b, gql_errs_t *e);

/*  scalar.c: input coercion of the built-in scalars, for values.c and
 *  variables.c */

typedef enum {
    GQL_IN_OTHER,               //  null, a list, an object
    GQL_IN_INT,
    GQL_IN_FLOAT,
    GQL_IN_STRING,
    GQL_IN_BOOLEAN,
    GQL_IN_ENUM                 //  an enum literal
} gql_inkind_t;

/*  An input value as the scalar rules see it, whether a literal or JSON. */
typedef struct {
    gql_inkind_t kind;
    int64_t i;                  //  GQL_IN_INT (when it fits); GQL_IN_BOOLEAN: 0 or 1
    int fits;                   //  GQL_IN_INT: i holds the value (it fits in 64 bits)
    double f;                   //  GQL_IN_INT, GQL_IN_FLOAT: the value as a double
    const char *s;              //  GQL_IN_STRING, GQL_IN_ENUM; GQL_IN_INT: its digits, or NULL
    size_t len;
    int whole_is_int;           //  a GQL_IN_FLOAT that is a whole number counts as an
                                /*  integer (JSON numbers, which JavaScript writes as 1.0) */
    int copy;                   //  s must be copied into the value's arena
} gql_scalar_in_t;

typedef enum {
    GQL_SCALAR_OK,
    GQL_SCALAR_WRONG,           //  a kind of value the scalar does not take
    GQL_SCALAR_RANGE,           //  Int: a whole number outside 32 bits
    GQL_SCALAR_INFINITE         //  Float: a number that is not finite
} gql_scalar_rc_t;

/*  A coerced value of this kind, from the arena; NULL (and e->oom) when
 *  memory runs out. */
gql_cval_t *gql_cval_new (gql_arena_t *a, gql_errs_t *e, gql_ckind_t kind);

/*  An object value with room for n fields (items and keys), from the
 *  arena; NULL (and e->oom) when memory runs out. */
gql_cval_t *gql_cval_object (gql_arena_t *a, gql_errs_t *e, uint32_t n);

/*  A list value with room for n items, from the arena; NULL (and e->oom)
 *  when memory runs out or n does not fit in the list's 32-bit count. */
gql_cval_t *gql_cval_list (gql_arena_t *a, gql_errs_t *e, size_t n);

/*  Whether the scalar takes in (a custom scalar takes anything). */
gql_scalar_rc_t gql_scalar_check (gql_scalar_t scalar, const gql_scalar_in_t *in);

/*  The value of in, which gql_scalar_check passed, for the scalar (a
 *  custom one takes it as it is). NULL only when memory runs out (e->oom). */
const gql_cval_t *gql_scalar_coerce (gql_arena_t *a, gql_errs_t *e, gql_scalar_t scalar,
                                     const gql_scalar_in_t *in);

/*  A literal as the scalar rules see it (values.c). */
gql_scalar_in_t gql_literal_scalar_in (const gql_value_t *v);

#endif
