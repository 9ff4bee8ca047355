/*  parser.c: tokens to AST, for the whole GraphQL grammar (October 2021):
 *  the parser's machinery (tokens, names, values, types, directives), the
 *  executable definitions (operations, fragments, selections) and the
 *  document itself. The type-system definitions and extensions (SDL) are
 *  parsed in parser_sdl.c. One parser serves both, as in the spec: a
 *  subscription document that holds SDL is parsed, then refused by the
 *  Executable Definitions rule; a schema that holds an operation is
 *  refused by the schema loader.
 *
 *  Recursive descent, one token of lookahead, stop at the first error.
 *  Recursion is bounded: selection sets, list and object values and list
 *  types may nest GQL_MAX_NESTING deep, no more.
 */
#include "gql_internal.h"
#include "parser.h"
#include "wire.h"

#include <string.h>

void
gql_parse_error (gql_parser_t *p, uint32_t loc, const char *msg)
{
    if (!p->failed)
        gql_err (p->errs, loc, "%s", msg ? msg : "Syntax Error: out of memory.");
    p->failed = 1;
}

int
gql_parse_advance (gql_parser_t *p)
{
    if (p->failed)
        return -1;
    GQL_WORK (p->errs, 1);
    if (gql_lex_next (&p->lx) != 0) {
        gql_parse_error (p, p->lx.err_loc, p->lx.err);
        return -1;
    }
    return 0;
}

static const char *
s_kind_desc (gql_tokkind_t kind)
{
    switch (kind) {
        case GQL_TOK_NAME: return "Name";
        case GQL_TOK_INT: return "Int";
        case GQL_TOK_FLOAT: return "Float";
        case GQL_TOK_STRING: return "String";
        case GQL_TOK_BLOCK_STRING: return "BlockString";
        case GQL_TOK_EOF: return "<EOF>";
        default: {
            gql_token_t t = { .kind = kind };
            return gql_tok_desc (NULL, &t);
        }
    }
}

void *
gql_parse_unexpected (gql_parser_t *p)
{
    gql_parse_error (p, TOK.start,
                     gql_sprintf (p->a, "Syntax Error: Unexpected %s.", gql_tok_desc (p->a, &TOK)));
    return NULL;
}

int
gql_parse_peek (gql_parser_t *p, gql_tokkind_t kind)
{
    return !p->failed && TOK.kind == kind;
}

int
gql_parse_peek_keyword (gql_parser_t *p, const char *kw)
{
    return gql_parse_peek (p, GQL_TOK_NAME) && TOK.len == strlen (kw)
           && memcmp (TOK.value, kw, TOK.len) == 0;
}

//  Consume a token of this kind, or fail.
int
gql_parse_expect (gql_parser_t *p, gql_tokkind_t kind)
{
    if (p->failed)
        return -1;
    if (TOK.kind == kind)
        return gql_parse_advance (p);
    gql_parse_error (p, TOK.start, gql_sprintf (p->a, "Syntax Error: Expected %s, found %s.",
                                        s_kind_desc (kind), gql_tok_desc (p->a, &TOK)));
    return -1;
}

//  Consume a token of this kind if it is next; 1 if it was.
int
gql_parse_skip (gql_parser_t *p, gql_tokkind_t kind)
{
    if (!gql_parse_peek (p, kind))
        return 0;
    return gql_parse_advance (p) == 0;
}

int
gql_parse_expect_keyword (gql_parser_t *p, const char *kw)
{
    if (p->failed)
        return -1;
    if (gql_parse_peek_keyword (p, kw))
        return gql_parse_advance (p);
    gql_parse_error (p, TOK.start, gql_sprintf (p->a, "Syntax Error: Expected \"%s\", found %s.",
                                        kw, gql_tok_desc (p->a, &TOK)));
    return -1;
}

int
gql_parse_push (gql_parser_t *p, gql_vec_t *v, void *item)
{
    if (p->failed || !item)
        return -1;
    if (gql_vec_push (p->a, v, item) != 0) {
        gql_parse_error (p, TOK.start, NULL);
        return -1;
    }
    return 0;
}

void *
gql_parse_new (gql_parser_t *p, size_t size)
{
    void *n = gql_alloc (p->a, size);
    if (!n)
        gql_parse_error (p, TOK.start, NULL);
    return n;
}

//  A Name token, copied; *loc gets its offset.
const char *
gql_parse_name (gql_parser_t *p, uint32_t *loc)
{
    if (p->failed)
        return NULL;
    if (TOK.kind != GQL_TOK_NAME) {
        gql_parse_expect (p, GQL_TOK_NAME);
        return NULL;
    }
    if (loc)
        *loc = TOK.start;
    char *name = gql_strndup (p->a, TOK.value, TOK.len);
    if (!name) {
        gql_parse_error (p, TOK.start, NULL);
        return NULL;
    }
    return gql_parse_advance (p) == 0 ? name : NULL;
}

static int
s_enter (gql_parser_t *p)
{
    if (++p->depth > GQL_MAX_NESTING) {
        gql_parse_error (p, TOK.start,
                         gql_sprintf (p->a,
                                      "Syntax Error: Document is nested too deeply (more than %d "
                                      "levels).",
                                      GQL_MAX_NESTING));
        return -1;
    }
    return 0;
}

static gql_arg_t *
s_argument (gql_parser_t *p, int is_const)
{
    gql_arg_t *arg = gql_parse_new (p, sizeof *arg);
    if (!arg || !(arg->name = gql_parse_name (p, &arg->loc))
        || gql_parse_expect (p, GQL_TOK_COLON) != 0
        || !(arg->value = gql_parse_value (p, is_const)))
        return NULL;
    return arg;
}

//  A variable, "$name", from its "$"; in a constant value, an error.
static gql_value_t *
s_variable (gql_parser_t *p, gql_value_t *v, int is_const)
{
    if (is_const) {
        gql_lexer_t save = p->lx;
        const char *name = NULL;
        if (gql_lex_next (&p->lx) == 0 && TOK.kind == GQL_TOK_NAME)
            name = gql_strndup (p->a, TOK.value, TOK.len);
        p->lx = save;
        if (name) {
            gql_parse_error (p, TOK.start,
                             gql_sprintf (p->a,
                                          "Syntax Error: Unexpected variable \"$%s\" in constant "
                                          "value.",
                                          name));
            return NULL;
        }
        return gql_parse_unexpected (p);
    }
    if (gql_parse_advance (p) != 0)
        return NULL;
    v->kind = GQL_V_VARIABLE;
    v->text = gql_parse_name (p, NULL);
    v->len = v->text ? strlen (v->text) : 0;
    return v->text ? v : NULL;
}

gql_value_t *
gql_parse_value (gql_parser_t *p, int is_const)
{
    gql_value_t *v = gql_parse_new (p, sizeof *v);
    if (!v)
        return NULL;
    v->loc = TOK.start;
    switch (TOK.kind) {
        case GQL_TOK_BRACKET_L:
            if (s_enter (p) != 0 || gql_parse_advance (p) != 0)
                return NULL;
            v->kind = GQL_V_LIST;
            while (!gql_parse_skip (p, GQL_TOK_BRACKET_R))
                if (gql_parse_push (p, &v->items, gql_parse_value (p, is_const)) != 0)
                    return NULL;
            p->depth--;
            return p->failed ? NULL : v;
        case GQL_TOK_BRACE_L:
            if (s_enter (p) != 0 || gql_parse_advance (p) != 0)
                return NULL;
            v->kind = GQL_V_OBJECT;
            while (!gql_parse_skip (p, GQL_TOK_BRACE_R))
                if (gql_parse_push (p, &v->items, s_argument (p, is_const)) != 0)
                    return NULL;
            p->depth--;
            return p->failed ? NULL : v;
        case GQL_TOK_INT:
        case GQL_TOK_FLOAT:
            v->kind = TOK.kind == GQL_TOK_INT ? GQL_V_INT : GQL_V_FLOAT;
            v->text = gql_strndup (p->a, TOK.value, TOK.len);
            v->len = TOK.len;
            if (!v->text) {
                gql_parse_error (p, TOK.start, NULL);
                return NULL;
            }
            return gql_parse_advance (p) == 0 ? v : NULL;
        case GQL_TOK_STRING:
        case GQL_TOK_BLOCK_STRING:
            v->kind = GQL_V_STRING;
            v->text = TOK.value;
            v->len = TOK.len;
            return gql_parse_advance (p) == 0 ? v : NULL;
        case GQL_TOK_NAME:
            if (gql_parse_peek_keyword (p, "true") || gql_parse_peek_keyword (p, "false")) {
                v->kind = GQL_V_BOOLEAN;
                v->boolean = TOK.value[0] == 't';
                return gql_parse_advance (p) == 0 ? v : NULL;
            }
            if (gql_parse_peek_keyword (p, "null")) {
                v->kind = GQL_V_NULL;
                return gql_parse_advance (p) == 0 ? v : NULL;
            }
            v->kind = GQL_V_ENUM;
            v->text = gql_parse_name (p, NULL);
            v->len = v->text ? strlen (v->text) : 0;
            return v->text ? v : NULL;
        case GQL_TOK_DOLLAR:
            return s_variable (p, v, is_const);
        default:
            return gql_parse_unexpected (p);
    }
}

gql_typeref_t *
gql_parse_type (gql_parser_t *p)
{
    gql_typeref_t *t = gql_parse_new (p, sizeof *t);
    if (!t)
        return NULL;
    t->loc = TOK.start;
    if (gql_parse_peek (p, GQL_TOK_BRACKET_L)) {
        if (s_enter (p) != 0 || gql_parse_advance (p) != 0)
            return NULL;
        t->kind = GQL_T_LIST;
        if (!(t->of = gql_parse_type (p)) || gql_parse_expect (p, GQL_TOK_BRACKET_R) != 0)
            return NULL;
        p->depth--;
    }
    else {
        t->kind = GQL_T_NAMED;
        if (!(t->name = gql_parse_name (p, NULL)))
            return NULL;
    }
    if (gql_parse_peek (p, GQL_TOK_BANG)) {
        gql_typeref_t *nn = gql_parse_new (p, sizeof *nn);
        if (!nn || gql_parse_advance (p) != 0)
            return NULL;
        nn->kind = GQL_T_NONNULL;
        nn->loc = t->loc;
        nn->of = t;
        return nn;
    }
    return t;
}

int
gql_parse_directives (gql_parser_t *p, gql_vec_t *out, int is_const)
{
    while (gql_parse_peek (p, GQL_TOK_AT)) {
        gql_directive_t *d = gql_parse_new (p, sizeof *d);
        if (!d)
            return -1;
        d->loc = TOK.start;
        if (gql_parse_advance (p) != 0 || !(d->name = gql_parse_name (p, NULL)))
            return -1;
        if (gql_parse_skip (p, GQL_TOK_PAREN_L)) {
            do {
                if (gql_parse_push (p, &d->args, s_argument (p, is_const)) != 0)
                    return -1;
            } while (!gql_parse_skip (p, GQL_TOK_PAREN_R));
        }
        if (gql_parse_push (p, out, d) != 0)
            return -1;
    }
    return p->failed ? -1 : 0;
}

static gql_selset_t *s_selset (gql_parser_t *p);

static gql_sel_t *
s_selection (gql_parser_t *p)
{
    gql_sel_t *sel = gql_parse_new (p, sizeof *sel);
    if (!sel)
        return NULL;
    sel->loc = TOK.start;
    if (gql_parse_skip (p, GQL_TOK_SPREAD)) {
        if (gql_parse_peek (p, GQL_TOK_NAME) && !gql_parse_peek_keyword (p, "on")) {
            sel->kind = GQL_SEL_SPREAD;
            if (!(sel->name = gql_parse_name (p, &sel->name_loc))
                || gql_parse_directives (p, &sel->directives, 0) != 0)
                return NULL;
            return sel;
        }
        sel->kind = GQL_SEL_INLINE;
        if (gql_parse_skip (p, GQL_TOK_NAME)) {
            //  s_skip consumed "on"; the type condition follows.
            if (!(sel->type_cond = gql_parse_name (p, &sel->type_cond_loc)))
                return NULL;
        }
        if (p->failed || gql_parse_directives (p, &sel->directives, 0) != 0
            || !(sel->selset = s_selset (p)))
            return NULL;
        return sel;
    }
    sel->kind = GQL_SEL_FIELD;
    if (p->nfields < UINT32_MAX)
        p->nfields++;
    const char *first = gql_parse_name (p, &sel->name_loc);
    if (!first)
        return NULL;
    if (gql_parse_skip (p, GQL_TOK_COLON)) {
        sel->alias = first;
        if (!(sel->name = gql_parse_name (p, &sel->name_loc)))
            return NULL;
    }
    else
        sel->name = first;
    if (gql_parse_skip (p, GQL_TOK_PAREN_L)) {
        do {
            if (gql_parse_push (p, &sel->args, s_argument (p, 0)) != 0)
                return NULL;
        } while (!gql_parse_skip (p, GQL_TOK_PAREN_R));
    }
    if (p->failed || gql_parse_directives (p, &sel->directives, 0) != 0)
        return NULL;
    if (gql_parse_peek (p, GQL_TOK_BRACE_L) && !(sel->selset = s_selset (p)))
        return NULL;
    return p->failed ? NULL : sel;
}

static gql_selset_t *
s_selset (gql_parser_t *p)
{
    gql_selset_t *ss = gql_parse_new (p, sizeof *ss);
    if (!ss)
        return NULL;
    ss->loc = TOK.start;
    if (gql_parse_expect (p, GQL_TOK_BRACE_L) != 0 || s_enter (p) != 0)
        return NULL;
    do {
        if (gql_parse_push (p, &ss->items, s_selection (p)) != 0)
            return NULL;
    } while (!gql_parse_skip (p, GQL_TOK_BRACE_R));
    p->depth--;
    return p->failed ? NULL : ss;
}

gql_def_t *
gql_parse_def_new (gql_parser_t *p, gql_defkind_t kind, uint32_t loc)
{
    gql_def_t *d = gql_parse_new (p, sizeof *d);
    if (d) {
        d->kind = kind;
        d->loc = loc;
    }
    return d;
}

static gql_def_t *
s_operation (gql_parser_t *p)
{
    gql_operation_t *op = gql_parse_new (p, sizeof *op);
    gql_def_t *d = gql_parse_def_new (p, GQL_D_OPERATION, TOK.start);
    if (!op || !d)
        return NULL;
    d->u.op = op;
    op->loc = TOK.start;
    if (gql_parse_peek (p, GQL_TOK_BRACE_L)) {
        op->op = GQL_OP_QUERY;
        return (op->selset = s_selset (p)) ? d : NULL;
    }
    if (gql_parse_peek_keyword (p, "query"))
        op->op = GQL_OP_QUERY;
    else if (gql_parse_peek_keyword (p, "mutation"))
        op->op = GQL_OP_MUTATION;
    else
        op->op = GQL_OP_SUBSCRIPTION;
    if (gql_parse_advance (p) != 0)
        return NULL;
    if (gql_parse_peek (p, GQL_TOK_NAME) && !(op->name = gql_parse_name (p, NULL)))
        return NULL;
    if (gql_parse_skip (p, GQL_TOK_PAREN_L)) {
        do {
            gql_vardef_t *vd = gql_parse_new (p, sizeof *vd);
            if (!vd)
                return NULL;
            vd->loc = TOK.start;
            if (gql_parse_expect (p, GQL_TOK_DOLLAR) != 0 || !(vd->name = gql_parse_name (p, NULL))
                || gql_parse_expect (p, GQL_TOK_COLON) != 0 || !(vd->type = gql_parse_type (p)))
                return NULL;
            if (gql_parse_skip (p, GQL_TOK_EQUALS) && !(vd->def = gql_parse_value (p, 1)))
                return NULL;
            if (gql_parse_directives (p, &vd->directives, 1) != 0
                || gql_parse_push (p, &op->vardefs, vd) != 0)
                return NULL;
        } while (!gql_parse_skip (p, GQL_TOK_PAREN_R));
    }
    if (p->failed || gql_parse_directives (p, &op->directives, 0) != 0
        || !(op->selset = s_selset (p)))
        return NULL;
    return d;
}

static gql_def_t *
s_fragment (gql_parser_t *p)
{
    gql_fragment_t *f = gql_parse_new (p, sizeof *f);
    gql_def_t *d = gql_parse_def_new (p, GQL_D_FRAGMENT, TOK.start);
    if (!f || !d || gql_parse_advance (p) != 0)
        return NULL;
    d->u.frag = f;
    if (gql_parse_peek_keyword (p, "on"))
        return gql_parse_unexpected (p);
    if (!(f->name = gql_parse_name (p, &f->loc)) || gql_parse_expect_keyword (p, "on") != 0
        || !(f->type_cond = gql_parse_name (p, &f->type_cond_loc))
        || gql_parse_directives (p, &f->directives, 0) != 0 || !(f->selset = s_selset (p)))
        return NULL;
    return d;
}

const char *
gql_parse_description (gql_parser_t *p)
{
    if (!gql_parse_peek (p, GQL_TOK_STRING) && !gql_parse_peek (p, GQL_TOK_BLOCK_STRING))
        return NULL;
    const char *d = TOK.value;
    return gql_parse_advance (p) == 0 ? d : NULL;
}

static gql_def_t *
s_definition (gql_parser_t *p)
{
    uint32_t loc = TOK.start;
    if (gql_parse_peek (p, GQL_TOK_BRACE_L))
        return s_operation (p);
    const char *description = gql_parse_description (p);
    if (p->failed)
        return NULL;
    if (!gql_parse_peek (p, GQL_TOK_NAME))
        return gql_parse_unexpected (p);
    if (!description) {
        if (gql_parse_peek_keyword (p, "query") || gql_parse_peek_keyword (p, "mutation")
            || gql_parse_peek_keyword (p, "subscription"))
            return s_operation (p);
        if (gql_parse_peek_keyword (p, "fragment"))
            return s_fragment (p);
        if (gql_parse_peek_keyword (p, "extend")) {
            if (gql_parse_advance (p) != 0)
                return NULL;
            return gql_parse_type_system (p, NULL, 1, loc);
        }
    }
    return gql_parse_type_system (p, description, 0, loc);
}

gql_doc_t *
gql_parse (gql_arena_t *a, const char *src, size_t len, gql_errs_t *errs)
{
    gql_parser_t parser = { .a = a, .errs = errs };
    gql_parser_t *p = &parser;
    if (len >= UINT32_MAX) {
        gql_err (errs, GQL_NOLOC, "Syntax Error: Document is too large.");
        return NULL;
    }
    //  Check the encoding once, up front: the lexer can then copy
    //  multi-byte characters whole, and every name and string is valid.
    if (!wire_utf8_valid (src, len)) {
        size_t i = 0;
        while (i < len) {
            size_t k = wire_utf8_seq ((const unsigned char *) src + i, len - i);
            if (!k)
                break;
            i += k;
        }
        gql_err (errs, (uint32_t) i, "Syntax Error: Invalid UTF-8 in the document.");
        return NULL;
    }
    gql_lex_init (&p->lx, a, src, len);
    gql_doc_t *doc = gql_parse_new (p, sizeof *doc);
    if (!doc || gql_parse_advance (p) != 0)
        return NULL;
    do {
        if (gql_parse_push (p, &doc->defs, s_definition (p)) != 0)
            return NULL;
    } while (!gql_parse_peek (p, GQL_TOK_EOF) && !p->failed);
    doc->nfields = p->nfields;
    return p->failed ? NULL : doc;
}
