/*  gql_ast.h: tokens (lexer.c) and the syntax tree (parser.c and
 *  parser_sdl.c), for executable documents and the SDL alike. Validation
 *  fills in the fields marked for it; the types they point to are in
 *  gql_schema.h.
 */
#ifndef HERALD_GQL_AST_H
#define HERALD_GQL_AST_H

#include "gql_base.h"

/*  lexer.c */

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
/*  Advance to the next token. Returns 0, or -1 with err and err_loc set
 *  (a message such as "Syntax Error: Unterminated string."). */
int gql_lex_next (gql_lexer_t *lx);
/*  "Name \"foo\"", "\"{\"", "<EOF>": how messages describe a token. */
const char *gql_tok_desc (gql_arena_t *a, const gql_token_t *t);

/*  parser.c: the AST */

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

/*  An argument, or a field of an object value. */
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
    /*  Filled in by validation: */
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

/*  What validation learns of an operation or fragment body, for the rules
 *  that look across fragments. */
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
    /*  Filled in by validation: */
    const gql_type_t *type;
    uint32_t index;
    gql_bodyinfo_t info;
};

/*  Type-system definitions (SDL) */

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

/*  Parse a document of any definitions. Returns NULL on a syntax error,
 *  which is recorded in errs (with its location). */
gql_doc_t *gql_parse (gql_arena_t *a, const char *src, size_t len, gql_errs_t *errs);

#endif
