/*  gql_schema.h: the schema model that schema.c builds from the SDL AST,
 *  the queries later stages ask of it (types.c), and the @topic
 *  templates of its subscription fields (topic.c).
 */
#ifndef HERALD_GQL_SCHEMA_H
#define HERALD_GQL_SCHEMA_H

#include "gql_ast.h"

/*  schema.c (schema_sdl.c, schema_check.c): the schema model */

typedef enum {
    GQL_S_CUSTOM,
    GQL_S_INT,
    GQL_S_FLOAT,
    GQL_S_STRING,
    GQL_S_BOOLEAN,
    GQL_S_ID
} gql_scalar_t;

/*  A resolved type reference. */
struct gql_tref {
    gql_tkind_t kind;
    const gql_type_t *type;     //  GQL_T_NAMED
    const gql_tref_t *of;       //  GQL_T_LIST, GQL_T_NONNULL
};

typedef struct gql_cval gql_cval_t;

/*  An argument or input field definition. */
typedef struct {
    const char *name;
    uint32_t loc;
    const gql_tref_t *type;
    const gql_value_t *def_ast; //  NULL when no default
    const gql_cval_t *def;      //  the coerced default
} gql_input_t;

/*  A compiled @topic(name: "...{arg}...") template (topic.c). */
typedef struct gql_topic gql_topic_t;

struct gql_field {
    const char *name;
    uint32_t loc;
    const gql_tref_t *type;
    gql_vec_t args;             //  gql_input_t *
    const gql_type_t *owner;
    gql_topic_t *topic;         //  root subscription fields with @topic
    const gql_fdef_t *ast;      //  its definition (NULL for __typename)
};

struct gql_type {
    gql_kind_t kind;
    const char *name;
    uint32_t loc;
    uint32_t index;             //  position in the schema's type list
    int builtin;
    gql_scalar_t scalar;
    gql_vec_t fields;           //  gql_field_t * (object, interface)
    gql_map_t field_map;
    gql_vec_t interfaces;       //  gql_type_t * (object, interface)
    gql_vec_t possible;         //  gql_type_t * object types (interface, union; object: itself)
    uint8_t *possible_bits;     //  bitmap over type indices, for the above
    gql_vec_t values;           //  const char * enum value names
    gql_map_t value_map;
    gql_vec_t inputs;           //  gql_input_t * (input object)
    gql_map_t input_map;
};

/*  Directive locations, as bits. */
enum {
    GQL_DL_QUERY = 1u << 0,
    GQL_DL_MUTATION = 1u << 1,
    GQL_DL_SUBSCRIPTION = 1u << 2,
    GQL_DL_FIELD = 1u << 3,
    GQL_DL_FRAGMENT_DEFINITION = 1u << 4,
    GQL_DL_FRAGMENT_SPREAD = 1u << 5,
    GQL_DL_INLINE_FRAGMENT = 1u << 6,
    GQL_DL_VARIABLE_DEFINITION = 1u << 7,
    GQL_DL_SCHEMA = 1u << 8,
    GQL_DL_SCALAR = 1u << 9,
    GQL_DL_OBJECT = 1u << 10,
    GQL_DL_FIELD_DEFINITION = 1u << 11,
    GQL_DL_ARGUMENT_DEFINITION = 1u << 12,
    GQL_DL_INTERFACE = 1u << 13,
    GQL_DL_UNION = 1u << 14,
    GQL_DL_ENUM = 1u << 15,
    GQL_DL_ENUM_VALUE = 1u << 16,
    GQL_DL_INPUT_OBJECT = 1u << 17,
    GQL_DL_INPUT_FIELD_DEFINITION = 1u << 18
};

/*  The name of a single location bit ("FIELD"), and the bit of a name (0
 *  if none). */
const char *gql_dirloc_name (uint32_t bit);
uint32_t gql_dirloc_bit (const char *name);

struct gql_dirdef {
    const char *name;
    uint32_t loc;
    gql_vec_t args;             //  gql_input_t *
    uint32_t locations;
    int repeatable;
    int builtin;
};

struct gql_schema {
    gql_arena_t arena;
    gql_vec_t types;            //  gql_type_t *
    gql_map_t type_map;
    gql_vec_t directives;       //  gql_dirdef_t *
    gql_map_t directive_map;
    const gql_type_t *query;
    const gql_type_t *mutation;
    const gql_type_t *subscription;
    const gql_type_t *t_string;
    const gql_type_t *t_boolean;
    const gql_dirdef_t *d_skip;
    const gql_dirdef_t *d_include;
    gql_field_t typename_field; //  __typename: String!
};

/*  types.c: queries on the model. */
const gql_type_t *gql_schema_type (const gql_schema_t *s, const char *name);
const gql_dirdef_t *gql_schema_directive (const gql_schema_t *s, const char *name);
const gql_field_t *gql_type_field (const gql_type_t *t, const char *name);
const gql_input_t *gql_input_find (const gql_vec_t *inputs, const char *name);
int gql_type_is_composite (const gql_type_t *t);
int gql_type_is_abstract (const gql_type_t *t);
int gql_type_is_leaf (const gql_type_t *t);
int gql_type_is_input (const gql_type_t *t);
int gql_type_is_output (const gql_type_t *t);
/*  1 if object type o is a possible type of t (t itself, a union it is a
 *  member of, an interface it implements). */
int gql_type_possible (const gql_type_t *t, const gql_type_t *o);
/*  1 if some object type is possible for both. */
int gql_types_overlap (const gql_type_t *a, const gql_type_t *b);
const gql_type_t *gql_tref_named (const gql_tref_t *t);
int gql_tref_equal (const gql_tref_t *a, const gql_tref_t *b);
/*  1 if sub is a subtype of super (for interface field covariance). */
int gql_tref_subtype (const gql_tref_t *sub, const gql_tref_t *super);
/*  "[String!]": a type's GraphQL spelling, in the arena. */
const char *gql_tref_str (gql_arena_t *a, const gql_tref_t *t);
/*  Resolve an AST type reference; NULL if a name is unknown (*unknown is
 *  set to it) or memory ran out. */
const gql_tref_t *gql_tref_resolve (gql_arena_t *a, const gql_schema_t *s,
                                    const gql_typeref_t *ast, const gql_typeref_t **unknown);

/*  topic.c: the @topic directive */

/*  A template compiled: literal text, argument slots ({channel}) and
 *  claim slots ({jwt.sub}). */
typedef struct {
    const char *text;           //  literal segment, or NULL for a slot
    size_t len;                 //  of text, or of claim
    uint32_t arg;               //  argument slot: index into the field's args
    const char *claim;          //  claim slot: the path after "jwt.", or NULL
} gql_topic_seg_t;

struct gql_topic {
    gql_topic_seg_t *segs;
    uint32_t nsegs;
};

/*  At schema load, once directive applications are checked: compile the
 *  @topic template of each root subscription field that has one (into
 *  s->arena), reporting @topic on other fields and templates that can make
 *  no valid topic. */
void gql_topic_compile (gql_schema_t *s, gql_errs_t *e);

/*  When preparing: the topic of root field f, given its coerced arguments
 *  (vals, parallel to f->args) and the claims of the client's token (an
 *  object, or NULL for none): the template expanded, or the field's name
 *  when it has none, checked as a broker topic. Returns it copied into a,
 *  or NULL after recording an error at loc (e->oom if memory ran out). */
char *gql_topic_expand (gql_arena_t *a, gql_errs_t *e, const gql_field_t *f,
                        const gql_cval_t *const *vals, const json_t *claims, uint32_t loc);

/*  The template as written ("chat.{channel}"), or the field's name when it
 *  has none, cut short to fit size (> 0) bytes. Returns 0, or -1. */
int gql_topic_template (const gql_field_t *f, char *buf, size_t size);

#endif
