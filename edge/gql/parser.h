/*  parser.h: what the parser's files (parser.c, parser_sdl.c) share: the
 *  parser's state and the machinery both grammars are written with. Not
 *  for the other stages, which call gql_parse (gql_ast.h).
 *
 *  Every function here does nothing once the parser has failed (p->failed)
 *  and fails the parser on a syntax error or when memory runs out, with
 *  the error recorded at the current token; functions returning a pointer
 *  then return NULL, those returning an int -1.
 */
#ifndef HERALD_GQL_PARSER_H
#define HERALD_GQL_PARSER_H

#include "gql_internal.h"

typedef struct {
    gql_lexer_t lx;
    gql_arena_t *a;
    gql_errs_t *errs;
    int depth;
    int failed;
    uint32_t nfields;           //  field selections so far
} gql_parser_t;

/*  The current token. */
#define TOK (p->lx.tok)

/*  Fail with msg at loc (NULL msg: out of memory). Only the first error
 *  is recorded. */
void gql_parse_error (gql_parser_t *p, uint32_t loc, const char *msg);
/*  Move to the next token. Returns 0 or -1. */
int gql_parse_advance (gql_parser_t *p);
/*  Fail with "Unexpected <token>"; returns NULL. */
void *gql_parse_unexpected (gql_parser_t *p);
/*  1 if the current token is of this kind (or, for a keyword, is the Name
 *  kw); 0 otherwise or once failed. */
int gql_parse_peek (gql_parser_t *p, gql_tokkind_t kind);
int gql_parse_peek_keyword (gql_parser_t *p, const char *kw);
/*  Consume a token of this kind (or the keyword kw), or fail. Returns 0
 *  or -1. */
int gql_parse_expect (gql_parser_t *p, gql_tokkind_t kind);
int gql_parse_expect_keyword (gql_parser_t *p, const char *kw);
/*  Consume a token of this kind if it is next; 1 if it was. */
int gql_parse_skip (gql_parser_t *p, gql_tokkind_t kind);
/*  Append item (NULL: a failure already recorded). Returns 0 or -1. */
int gql_parse_push (gql_parser_t *p, gql_vec_t *v, void *item);
/*  Zeroed memory for a node. */
void *gql_parse_new (gql_parser_t *p, size_t size);
/*  A Name token, copied; *loc (when given) gets its offset. */
const char *gql_parse_name (gql_parser_t *p, uint32_t *loc);
/*  A description (a string before a definition), or NULL when none. */
const char *gql_parse_description (gql_parser_t *p);
/*  A value; variables are refused when is_const. */
gql_value_t *gql_parse_value (gql_parser_t *p, int is_const);
/*  A type reference: Name, [Type] or Type!. */
gql_typeref_t *gql_parse_type (gql_parser_t *p);
/*  The directives at the current position, appended to out. Returns 0 or
 *  -1. */
int gql_parse_directives (gql_parser_t *p, gql_vec_t *out, int is_const);
/*  A new definition node. */
gql_def_t *gql_parse_def_new (gql_parser_t *p, gql_defkind_t kind, uint32_t loc);

/*  parser_sdl.c: a type-system definition, or with extend an extension
 *  (after "extend"), at the current token; loc is where it began. */
gql_def_t *gql_parse_type_system (gql_parser_t *p, const char *description, int extend,
                                  uint32_t loc);

#endif
