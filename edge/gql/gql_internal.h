/*  gql_internal.h: the engine's internal types, shared by its .c files.
 *
 *  The pipeline, one file per stage:
 *    lexer.c     source text -> tokens
 *    parser.c    tokens -> AST (executable and type-system definitions)
 *    schema.c    SDL AST -> schema model, with type-system validation
 *                (types.c: the queries on the model that later stages ask)
 *    topic.c     @topic templates: compiled at load, expanded per subscription
 *    validate.c  the spec's section 5 rules (overlap.c: field merging)
 *    values.c    input literals: checking, coercion, printing
 *    variables.c CoerceVariableValues over jansson values
 *    plan.c      CollectFields, @skip/@include, topic and key -> plan
 *    execute.c   plan + msgpack payload -> result JSON (the hot path)
 *    gql.c       gql_prepare and the gql_sub_t accessors
 *  Support: arena.c (arena, vectors, name maps), errors.c (error lists,
 *  locations, did-you-mean), scalar.c (input coercion of the built-in
 *  scalars, for values.c and variables.c).
 *
 *  Memory: everything built while preparing lives in an arena and is freed
 *  at once; a schema and a prepared subscription each own one arena.
 *  Locations are byte offsets into the source (uint32_t), turned into
 *  line/column only when an error is rendered.
 */
#ifndef HERALD_GQL_INTERNAL_H
#define HERALD_GQL_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "gql.h"

//  Nesting cap for the parser (selection sets, values, list types) and the
//  value coercers. Deep enough for any real document, shallow enough that
//  recursion over it is safe on any thread stack.
#define GQL_MAX_NESTING 128
//  Cap on the fields of an expanded plan (after fragments), so a
//  "fragment bomb" fails at prepare time instead of rendering gigabytes.
#define GQL_MAX_PLAN_FIELDS 10000
//  Cap on the work of the field-merging check, in field comparisons.
#define GQL_MAX_MERGE_WORK 2000000
//  Errors reported by one prepare; past this, validation stops.
#define GQL_MAX_ERRORS 100
//  An arena never grows beyond this (a document or schema that needs more
//  is refused as too large).
#define GQL_ARENA_LIMIT ((size_t) 256 << 20)

#define GQL_NOLOC UINT32_MAX

#ifdef __GNUC__
#   define GQL_PRINTF(f, a) __attribute__ ((format (printf, f, a)))
#else
#   define GQL_PRINTF(f, a)
#endif

// ---------------------------------------------------------------------------
//  arena.c: bump allocator, growable pointer vectors, name maps

typedef struct gql_chunk gql_chunk_t;
typedef struct {
    gql_chunk_t *head;
    size_t total;               //  bytes held in chunks
    size_t next_size;           //  size of the next ordinary chunk
} gql_arena_t;

void gql_arena_init (gql_arena_t *a, size_t first_chunk);
void gql_arena_free (gql_arena_t *a);
//  A point to go back to: gql_arena_release frees everything allocated
//  since gql_arena_mark (which must be released in the reverse order of
//  marking), for work that builds and drops scratch data level by level.
typedef struct {
    gql_chunk_t *head;
    gql_chunk_t *next;
    size_t used;
} gql_arena_mark_t;

gql_arena_mark_t gql_arena_mark (const gql_arena_t *a);
void gql_arena_release (gql_arena_t *a, gql_arena_mark_t m);
//  Zeroed memory aligned for any type, or NULL (out of memory or past
//  GQL_ARENA_LIMIT).
void *gql_alloc (gql_arena_t *a, size_t size);
//  As gql_alloc for n elements of size bytes, with the product checked.
void *gql_alloc_array (gql_arena_t *a, size_t n, size_t size);
//  A NUL-terminated copy of n bytes.
char *gql_strndup (gql_arena_t *a, const char *s, size_t n);
char *gql_strdup (gql_arena_t *a, const char *s);
//  printf into the arena.
char *gql_sprintf (gql_arena_t *a, const char *fmt, ...) GQL_PRINTF (2, 3);
char *gql_vsprintf (gql_arena_t *a, const char *fmt, va_list ap);

typedef struct {
    void **items;
    uint32_t n;
    uint32_t cap;
} gql_vec_t;

//  Append; returns 0, or -1 when memory runs out.
int gql_vec_push (gql_arena_t *a, gql_vec_t *v, void *item);

//  String -> pointer map with open addressing. Keys are not copied.
typedef struct {
    const char *key;
    size_t len;
    void *val;
} gql_map_slot_t;

typedef struct {
    gql_map_slot_t *slots;
    uint32_t cap;               //  0 or a power of two
    uint32_t n;
} gql_map_t;

void *gql_map_get (const gql_map_t *m, const char *key, size_t len);
//  Insert key unless present. Returns 1 if inserted, 0 if the key was
//  already there (*old, if given, gets its value), -1 on memory failure.
int gql_map_put (gql_arena_t *a, gql_map_t *m, const char *key, size_t len,
                 void *val, void **old);

//  Vectors of named things (arguments, directives, variables, input
//  fields) are searched by name. Up to GQL_SCAN_MAX items a scan is
//  cheapest; past that a name index (a map from each name to the first
//  item of that name) keeps the search from growing with the vector.
#define GQL_SCAN_MAX 8

typedef struct {
    const gql_vec_t *v;
    size_t name_off;            //  offset of the const char * name in each item
    gql_map_t map;              //  built only for vectors past GQL_SCAN_MAX
    int oom;
} gql_names_t;

//  Prepare to search v (items are pointers to structs with a const char *
//  name at name_off). The index, when needed, is built in a.
void gql_names_init (gql_names_t *x, gql_arena_t *a, const gql_vec_t *v, size_t name_off,
                     uint64_t *steps);
//  The first item named name, or NULL. *steps counts the work.
void *gql_names_find (const gql_names_t *x, const char *name, uint64_t *steps);

// ---------------------------------------------------------------------------
//  errors.c: sources, locations and error lists

typedef struct {
    const char *text;
    size_t len;
    uint32_t *lines;            //  offset of each line's first byte
    uint32_t nlines;
    uint32_t *widths;           //  column width of the text before each 64-byte block
    uint64_t work;              //  steps spent locating (see gql_errs_t.work)
} gql_src_t;

//  Line and column (both from 1) of a byte offset. Lines end at LF, CR
//  or CRLF. Columns count UTF-16 code units, as graphql-js does, so that
//  a JavaScript client's editor points at the same place: each character
//  counts 1, except characters outside the Basic Multilingual Plane, which
//  count 2. Returns -1 only when memory runs out.
int gql_src_pos (gql_src_t *src, gql_arena_t *a, uint32_t off, uint32_t *line, uint32_t *col);

#define GQL_ERR_MAXLOC 4

typedef struct {
    char *msg;
    uint32_t locs[GQL_ERR_MAXLOC];
    int nlocs;
} gql_err_t;

typedef struct {
    gql_arena_t *arena;
    gql_vec_t list;             //  gql_err_t *
    int full;                   //  GQL_MAX_ERRORS reached
    int oom;                    //  an allocation failed somewhere
    //  Steps of work done while preparing: one per item a loop visits, per
    //  name compared or looked up, per byte scanned to locate. Nothing
    //  depends on it; tests read it (gql_prepare_counted) to show that the
    //  work grows linearly with the document, which no clock can show
    //  reliably.
    uint64_t work;
} gql_errs_t;

#define GQL_WORK(e, n) ((e)->work += (uint64_t) (n))

void gql_errs_init (gql_errs_t *e, gql_arena_t *a);
//  Record an error with up to GQL_ERR_MAXLOC locations (GQL_NOLOC ones are
//  skipped). Identical errors (message and locations) are kept once.
void gql_err (gql_errs_t *e, uint32_t loc, const char *fmt, ...) GQL_PRINTF (3, 4);
void gql_err2 (gql_errs_t *e, uint32_t loc1, uint32_t loc2, const char *fmt, ...) GQL_PRINTF (4, 5);
void gql_errn (gql_errs_t *e, const uint32_t *locs, int nlocs, const char *fmt, ...) GQL_PRINTF (4, 5);
void gql_errv (gql_errs_t *e, const uint32_t *locs, int nlocs, const char *fmt, va_list ap);
int gql_errs_count (const gql_errs_t *e);
//  The errors as a GraphQL "errors" JSON array, malloc'ed; NULL if memory
//  ran out.
char *gql_errs_json (gql_errs_t *e, gql_src_t *src);
//  The errors as "line L, column C: message" lines, malloc'ed.
char *gql_errs_text (gql_errs_t *e, gql_src_t *src);

//  A " Did you mean \"a\", \"b\", or \"c\"?" suffix for an unknown name,
//  or "" when no candidate is close. candidates holds pointers to structs
//  with a const char * name member at offset name_off, or (name_off ==
//  GQL_NAME_SELF) the names themselves.
#define GQL_NAME_SELF SIZE_MAX
const char *gql_suggest (gql_arena_t *a, const char *name, const gql_vec_t *candidates,
                         size_t name_off);

// ---------------------------------------------------------------------------
//  lexer.c

typedef enum {
    GQL_TOK_SOF,
    GQL_TOK_EOF,
    GQL_TOK_BANG,
    GQL_TOK_DOLLAR,
    GQL_TOK_AMP,
    GQL_TOK_PAREN_L,
    GQL_TOK_PAREN_R,
    GQL_TOK_SPREAD,
    GQL_TOK_COLON,
    GQL_TOK_EQUALS,
    GQL_TOK_AT,
    GQL_TOK_BRACKET_L,
    GQL_TOK_BRACKET_R,
    GQL_TOK_BRACE_L,
    GQL_TOK_PIPE,
    GQL_TOK_BRACE_R,
    GQL_TOK_NAME,
    GQL_TOK_INT,
    GQL_TOK_FLOAT,
    GQL_TOK_STRING,
    GQL_TOK_BLOCK_STRING
} gql_tokkind_t;

typedef struct {
    gql_tokkind_t kind;
    uint32_t start;             //  byte offsets into the source
    uint32_t end;
    const char *value;          //  names and numbers: into the source;
    size_t len;                 //  strings: decoded, NUL-terminated, in the arena
} gql_token_t;

typedef struct {
    const char *src;
    size_t len;
    size_t pos;
    gql_arena_t *arena;
    gql_token_t tok;
    char *err;                  //  set when gql_lex_next fails
    uint32_t err_loc;
} gql_lexer_t;

void gql_lex_init (gql_lexer_t *lx, gql_arena_t *a, const char *src, size_t len);
//  Advance to the next token. Returns 0, or -1 with err and err_loc set
//  (a message such as "Syntax Error: Unterminated string.").
int gql_lex_next (gql_lexer_t *lx);
//  "Name \"foo\"", "\"{\"", "<EOF>": how messages describe a token.
const char *gql_tok_desc (gql_arena_t *a, const gql_token_t *t);

// ---------------------------------------------------------------------------
//  parser.c: the AST

typedef enum {
    GQL_V_VARIABLE,
    GQL_V_INT,
    GQL_V_FLOAT,
    GQL_V_STRING,
    GQL_V_BOOLEAN,
    GQL_V_NULL,
    GQL_V_ENUM,
    GQL_V_LIST,
    GQL_V_OBJECT
} gql_vkind_t;

typedef struct gql_value gql_value_t;

//  An argument, or a field of an object value.
typedef struct {
    const char *name;
    uint32_t loc;
    gql_value_t *value;
} gql_arg_t;

struct gql_value {
    gql_vkind_t kind;
    uint32_t loc;
    int boolean;
    const char *text;           //  number text, string contents, enum or variable name
    size_t len;                 //  of text; strings may contain NUL
    gql_vec_t items;            //  list: gql_value_t *; object: gql_arg_t *
};

typedef enum { GQL_T_NAMED, GQL_T_LIST, GQL_T_NONNULL } gql_tkind_t;

typedef struct gql_typeref {
    gql_tkind_t kind;
    uint32_t loc;
    const char *name;           //  GQL_T_NAMED
    struct gql_typeref *of;     //  GQL_T_LIST, GQL_T_NONNULL
} gql_typeref_t;

typedef struct gql_dirdef gql_dirdef_t;

typedef struct {
    const char *name;
    uint32_t loc;
    gql_vec_t args;             //  gql_arg_t *
} gql_directive_t;

typedef struct {
    const char *name;
    uint32_t loc;
} gql_nameref_t;

typedef struct gql_selset gql_selset_t;
typedef struct gql_fragment gql_fragment_t;
typedef struct gql_type gql_type_t;
typedef struct gql_field gql_field_t;

typedef enum { GQL_SEL_FIELD, GQL_SEL_SPREAD, GQL_SEL_INLINE } gql_selkind_t;

typedef struct {
    gql_selkind_t kind;
    uint32_t loc;
    const char *alias;          //  field: NULL when none
    const char *name;           //  field name; fragment name for a spread
    uint32_t name_loc;
    gql_vec_t args;             //  field: gql_arg_t *
    gql_vec_t directives;       //  gql_directive_t *
    gql_selset_t *selset;       //  field (NULL for a leaf) and inline fragment
    const char *type_cond;      //  inline fragment: NULL when none
    uint32_t type_cond_loc;
    //  Filled in by validation:
    const gql_field_t *def;     //  field definition, NULL if unknown
    const gql_type_t *parent;   //  static parent type of a field, NULL if unknown
    const gql_type_t *cond;     //  inline fragment's type condition
    gql_fragment_t *frag;       //  spread's target, NULL if undefined
    uint32_t mark;              //  overlap.c: the grouping that last took this field
} gql_sel_t;

struct gql_selset {
    uint32_t loc;
    gql_vec_t items;            //  gql_sel_t *
};

typedef enum { GQL_OP_QUERY, GQL_OP_MUTATION, GQL_OP_SUBSCRIPTION } gql_optype_t;

typedef struct gql_tref gql_tref_t;

typedef struct {
    const char *name;
    uint32_t loc;
    gql_typeref_t *type;
    gql_value_t *def;           //  default value, NULL when none
    gql_vec_t directives;
    const gql_tref_t *rtype;    //  resolved by validation; NULL if unknown
} gql_vardef_t;

//  What validation learns of an operation or fragment body, for the rules
//  that look across fragments.
typedef struct {
    gql_vec_t spreads;          //  gql_sel_t * (fragment spreads, in order)
    gql_vec_t usages;           //  gql_varuse_t *
} gql_bodyinfo_t;

typedef struct {
    gql_optype_t op;
    const char *name;           //  NULL when anonymous
    uint32_t loc;
    gql_vec_t vardefs;          //  gql_vardef_t *
    gql_vec_t directives;
    gql_selset_t *selset;
    gql_bodyinfo_t info;
} gql_operation_t;

struct gql_fragment {
    const char *name;
    uint32_t loc;
    const char *type_cond;
    uint32_t type_cond_loc;
    gql_vec_t directives;
    gql_selset_t *selset;
    //  Filled in by validation:
    const gql_type_t *type;
    uint32_t index;
    gql_bodyinfo_t info;
};

//  Type-system definitions (SDL)

typedef struct {
    const char *description;
    const char *name;
    uint32_t loc;
    gql_typeref_t *type;
    gql_value_t *def;
    gql_vec_t directives;
} gql_ivdef_t;                  //  InputValueDefinition: argument or input field

typedef struct {
    const char *description;
    const char *name;
    uint32_t loc;
    gql_vec_t args;             //  gql_ivdef_t *
    gql_typeref_t *type;
    gql_vec_t directives;
} gql_fdef_t;

typedef struct {
    const char *description;
    const char *name;
    uint32_t loc;
    gql_vec_t directives;
} gql_evdef_t;

typedef enum {
    GQL_K_SCALAR,
    GQL_K_OBJECT,
    GQL_K_INTERFACE,
    GQL_K_UNION,
    GQL_K_ENUM,
    GQL_K_INPUT
} gql_kind_t;

typedef struct {
    gql_kind_t kind;
    int extend;
    const char *description;
    const char *name;
    uint32_t loc;
    gql_vec_t interfaces;       //  gql_nameref_t *
    gql_vec_t directives;
    gql_vec_t fields;           //  gql_fdef_t *
    gql_vec_t members;          //  gql_nameref_t *
    gql_vec_t values;           //  gql_evdef_t *
    gql_vec_t inputs;           //  gql_ivdef_t *
} gql_tdef_t;

typedef struct {
    const char *description;
    const char *name;
    uint32_t loc;
    gql_vec_t args;             //  gql_ivdef_t *
    int repeatable;
    gql_vec_t locations;        //  gql_nameref_t *
} gql_ddef_t;

typedef struct {
    gql_optype_t op;
    const char *type;
    uint32_t loc;
} gql_opref_t;

typedef struct {
    int extend;
    uint32_t loc;
    gql_vec_t directives;
    gql_vec_t ops;              //  gql_opref_t *
} gql_sdef_t;

typedef enum {
    GQL_D_OPERATION,
    GQL_D_FRAGMENT,
    GQL_D_SCHEMA,
    GQL_D_TYPE,
    GQL_D_DIRECTIVE
} gql_defkind_t;

typedef struct {
    gql_defkind_t kind;
    uint32_t loc;
    union {
        gql_operation_t *op;
        gql_fragment_t *frag;
        gql_sdef_t *schema;
        gql_tdef_t *type;
        gql_ddef_t *directive;
    } u;
} gql_def_t;

typedef struct {
    gql_vec_t defs;             //  gql_def_t *
    uint32_t nfields;           //  field selections written in the text (max_fields)
} gql_doc_t;

//  Parse a document of any definitions. Returns NULL on a syntax error,
//  which is recorded in errs (with its location).
gql_doc_t *gql_parse (gql_arena_t *a, const char *src, size_t len, gql_errs_t *errs);

// ---------------------------------------------------------------------------
//  schema.c: the schema model

typedef enum {
    GQL_S_CUSTOM,
    GQL_S_INT,
    GQL_S_FLOAT,
    GQL_S_STRING,
    GQL_S_BOOLEAN,
    GQL_S_ID
} gql_scalar_t;

//  A resolved type reference.
struct gql_tref {
    gql_tkind_t kind;
    const gql_type_t *type;     //  GQL_T_NAMED
    const gql_tref_t *of;       //  GQL_T_LIST, GQL_T_NONNULL
};

typedef struct gql_cval gql_cval_t;

//  An argument or input field definition.
typedef struct {
    const char *name;
    uint32_t loc;
    const gql_tref_t *type;
    const gql_value_t *def_ast; //  NULL when no default
    const gql_cval_t *def;      //  the coerced default
} gql_input_t;

//  A compiled @topic(name: "...{arg}...") template (topic.c).
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

//  Directive locations, as bits.
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

//  The name of a single location bit ("FIELD"), and the bit of a name (0
//  if none).
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

//  types.c: queries on the model.
const gql_type_t *gql_schema_type (const gql_schema_t *s, const char *name);
const gql_dirdef_t *gql_schema_directive (const gql_schema_t *s, const char *name);
const gql_field_t *gql_type_field (const gql_type_t *t, const char *name);
const gql_input_t *gql_input_find (const gql_vec_t *inputs, const char *name);
int gql_type_is_composite (const gql_type_t *t);
int gql_type_is_abstract (const gql_type_t *t);
int gql_type_is_leaf (const gql_type_t *t);
int gql_type_is_input (const gql_type_t *t);
int gql_type_is_output (const gql_type_t *t);
//  1 if object type o is a possible type of t (t itself, a union it is a
//  member of, an interface it implements).
int gql_type_possible (const gql_type_t *t, const gql_type_t *o);
//  1 if some object type is possible for both.
int gql_types_overlap (const gql_type_t *a, const gql_type_t *b);
const gql_type_t *gql_tref_named (const gql_tref_t *t);
int gql_tref_equal (const gql_tref_t *a, const gql_tref_t *b);
//  1 if sub is a subtype of super (for interface field covariance).
int gql_tref_subtype (const gql_tref_t *sub, const gql_tref_t *super);
//  "[String!]": a type's GraphQL spelling, in the arena.
const char *gql_tref_str (gql_arena_t *a, const gql_tref_t *t);
//  Resolve an AST type reference; NULL if a name is unknown (*unknown is
//  set to it) or memory ran out.
const gql_tref_t *gql_tref_resolve (gql_arena_t *a, const gql_schema_t *s,
                                    const gql_typeref_t *ast, const gql_typeref_t **unknown);

// ---------------------------------------------------------------------------
//  topic.c: the @topic directive

//  A template compiled: literal text and argument slots.
typedef struct {
    const char *text;           //  literal segment, or NULL for a slot
    size_t len;
    uint32_t arg;               //  slot: index into the field's args
} gql_topic_seg_t;

struct gql_topic {
    gql_topic_seg_t *segs;
    uint32_t nsegs;
};

//  At schema load, once directive applications are checked: compile the
//  @topic template of each root subscription field that has one (into
//  s->arena), reporting @topic on other fields and templates that can make
//  no valid topic.
void gql_topic_compile (gql_schema_t *s, gql_errs_t *e);

//  When preparing: the topic of root field f, given its coerced arguments
//  (vals, parallel to f->args): the template expanded, or the field's
//  name when it has none, checked as a broker topic. Returns it copied
//  into a, or NULL after recording an error at loc (e->oom if memory ran
//  out).
char *gql_topic_expand (gql_arena_t *a, gql_errs_t *e, const gql_field_t *f,
                        const gql_cval_t *const *vals, uint32_t loc);

//  The template as written ("chat.{channel}"), or the field's name when it
//  has none, cut short to fit size (> 0) bytes. Returns 0, or -1.
int gql_topic_template (const gql_field_t *f, char *buf, size_t size);

// ---------------------------------------------------------------------------
//  values.c: input literals

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

//  A coerced input value.
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

//  A variable used somewhere, with the type its position expects.
typedef struct {
    const char *name;
    uint32_t loc;
    const gql_tref_t *type;     //  NULL when the position's type is unknown
    int loc_default;            //  the position has a default value
} gql_varuse_t;

//  Values of Correct Type, Input Object Field Names/Uniqueness/Required
//  Fields for one literal at a position of the given type. Variables are
//  recorded in usages (when given) and otherwise not checked here; in a
//  constant context (const_ctx) they are errors. Returns the number of
//  errors recorded.
int gql_check_literal (gql_errs_t *e, const gql_value_t *v, const gql_tref_t *type,
                       int loc_default, gql_vec_t *usages, int const_ctx);

//  Variable values during coercion: lookup returns 1 and *out if the
//  variable was provided (or defaulted), 0 if not.
typedef struct {
    const gql_vec_t *defs;      //  gql_vardef_t *
    const gql_cval_t **vals;    //  parallel to defs; NULL entry: not provided
    gql_map_t index;            //  name -> 1 + position of its first definition
    uint64_t *work;             //  where lookups count their steps, or NULL
} gql_vars_t;

const gql_cval_t *gql_vars_get (const gql_vars_t *vars, const char *name, int *provided);

//  Coerce a literal known to be valid for type (gql_check_literal passed).
//  Variables are replaced by their values (vars may be NULL in constant
//  contexts). On a runtime failure (a null variable in a non-null
//  position) records an error at the value and returns NULL; NULL also if
//  memory runs out (e->oom).
const gql_cval_t *gql_coerce_literal (gql_arena_t *a, gql_errs_t *e, const gql_value_t *v,
                                      const gql_tref_t *type, const gql_vars_t *vars);

//  CoerceArgumentValues for one field or directive. args are the AST
//  arguments, defs the definitions (gql_input_t *). out[i] (parallel to
//  defs) is the coerced value, or NULL when absent with no default.
//  Returns 0, or -1 after recording errors.
int gql_coerce_args (gql_arena_t *a, gql_errs_t *e, const gql_vec_t *args,
                     const gql_vec_t *defs, const gql_vars_t *vars, uint32_t loc,
                     const char *what, const gql_cval_t **out);

extern const gql_cval_t gql_cval_null;

//  Print a literal in GraphQL syntax, for messages.
const char *gql_value_str (gql_arena_t *a, const gql_value_t *v);
//  1 if two literals are the same (object fields in any order). e gives
//  scratch memory and counts the work.
int gql_value_equal (const gql_value_t *a, const gql_value_t *b, gql_errs_t *e);

// ---------------------------------------------------------------------------
//  scalar.c: input coercion of the built-in scalars, for values.c and
//  variables.c

typedef enum {
    GQL_IN_OTHER,               //  null, a list, an object
    GQL_IN_INT,
    GQL_IN_FLOAT,
    GQL_IN_STRING,
    GQL_IN_BOOLEAN,
    GQL_IN_ENUM                 //  an enum literal
} gql_inkind_t;

//  An input value as the scalar rules see it, whether a literal or JSON.
typedef struct {
    gql_inkind_t kind;
    int64_t i;                  //  GQL_IN_INT (when it fits); GQL_IN_BOOLEAN: 0 or 1
    int fits;                   //  GQL_IN_INT: i holds the value (it fits in 64 bits)
    double f;                   //  GQL_IN_INT, GQL_IN_FLOAT: the value as a double
    const char *s;              //  GQL_IN_STRING, GQL_IN_ENUM; GQL_IN_INT: its digits, or NULL
    size_t len;
    int whole_is_int;           //  a GQL_IN_FLOAT that is a whole number counts as an
                                //  integer (JSON numbers, which JavaScript writes as 1.0)
    int copy;                   //  s must be copied into the value's arena
} gql_scalar_in_t;

typedef enum {
    GQL_SCALAR_OK,
    GQL_SCALAR_WRONG,           //  a kind of value the scalar does not take
    GQL_SCALAR_RANGE,           //  Int: a whole number outside 32 bits
    GQL_SCALAR_INFINITE         //  Float: a number that is not finite
} gql_scalar_rc_t;

//  Whether the scalar takes in (a custom scalar takes anything).
gql_scalar_rc_t gql_scalar_check (gql_scalar_t scalar, const gql_scalar_in_t *in);

//  The value of in, which gql_scalar_check passed, for the scalar (a
//  custom one takes it as it is). NULL only when memory runs out (e->oom).
const gql_cval_t *gql_scalar_coerce (gql_arena_t *a, gql_errs_t *e, gql_scalar_t scalar,
                                     const gql_scalar_in_t *in);

// ---------------------------------------------------------------------------
//  validate.c / overlap.c

//  All of section 5 that applies, over every definition of doc. Annotates
//  the AST (sel->def, sel->parent, ...). Returns the number of errors.
int gql_validate (gql_arena_t *a, const gql_schema_t *s, gql_doc_t *doc, gql_errs_t *e);

//  Argument Names, Argument Uniqueness, Required Arguments and Values of
//  Correct Type for the arguments of one field or directive. owner names
//  it in messages ("Message.text", "@skip"); usages collects variables.
void gql_check_args (gql_errs_t *e, const gql_vec_t *args, const gql_vec_t *defs, uint32_t loc,
                     int is_directive, const char *field, const char *owner, gql_vec_t *usages,
                     int const_ctx);

//  Directives Are Defined, In Valid Locations, Unique Per Location, and
//  their arguments, for the directives at one location (a GQL_DL_ bit).
void gql_check_directives (const gql_schema_t *s, gql_errs_t *e, const gql_vec_t *dirs,
                           uint32_t location, gql_vec_t *usages, int const_ctx);

//  Field Selection Merging over every selection set of the document.
void gql_check_overlaps (gql_arena_t *a, const gql_schema_t *s, gql_doc_t *doc, gql_errs_t *e);

// ---------------------------------------------------------------------------
//  variables.c

//  CoerceVariableValues: fills vars->vals. Returns 0 or -1 (errors recorded).
int gql_coerce_variables (gql_arena_t *a, gql_errs_t *e, const gql_operation_t *op,
                          const json_t *values, gql_vars_t *vars);

// ---------------------------------------------------------------------------
//  plan.c / execute.c: the prepared subscription

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

//  A field's result type, unwrapped into a chain.
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

//  The fields collected for one object type.
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

//  gql.c: gql_prepare, also giving in *work (when not NULL) the steps of
//  work it took (gql_errs_t.work), for tests that show how that work grows.
gql_sub_t *gql_prepare_counted (const gql_schema_t *schema, const char *query, size_t len,
                                const char *operation_name, const json_t *variables,
                                const gql_limits_t *limits, char **errors, uint64_t *work);

//  Build the plan, topic and key of the selected subscription operation.
//  Returns 0 or -1 (errors recorded).
int gql_plan (gql_sub_t *sub, gql_arena_t *tmp, const gql_schema_t *s, gql_doc_t *doc,
              const gql_operation_t *op, const gql_vars_t *vars, int max_depth,
              gql_src_t *src, gql_errs_t *e);

#endif
