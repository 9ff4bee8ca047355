/*  parser.c: tokens to AST, for the whole GraphQL grammar (October 2021):
 *  executable definitions (operations, fragments) and type-system
 *  definitions and extensions (SDL). One parser serves both, as in the
 *  spec: a subscription document that holds SDL is parsed, then refused by
 *  the Executable Definitions rule; a schema that holds an operation is
 *  refused by the schema loader.
 *
 *  Recursive descent, one token of lookahead, stop at the first error.
 *  Recursion is bounded: selection sets, list and object values and list
 *  types may nest GQL_MAX_NESTING deep, no more.
 */
#include "gql_internal.h"
#include "wire.h"

#include <string.h>

typedef struct {
    gql_lexer_t lx;
    gql_arena_t *a;
    gql_errs_t *errs;
    int depth;
    int failed;
    uint32_t nfields;           //  field selections so far
} s_parser_t;

#define TOK (p->lx.tok)

static void
s_error (s_parser_t *p, uint32_t loc, const char *msg)
{
    if (!p->failed)
        gql_err (p->errs, loc, "%s", msg ? msg : "Syntax Error: out of memory.");
    p->failed = 1;
}

static int
s_advance (s_parser_t *p)
{
    if (p->failed)
        return -1;
    GQL_WORK (p->errs, 1);
    if (gql_lex_next (&p->lx) != 0) {
        s_error (p, p->lx.err_loc, p->lx.err);
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

static void *
s_unexpected (s_parser_t *p)
{
    s_error (p, TOK.start, gql_sprintf (p->a, "Syntax Error: Unexpected %s.", gql_tok_desc (p->a, &TOK)));
    return NULL;
}

static int
s_peek (s_parser_t *p, gql_tokkind_t kind)
{
    return !p->failed && TOK.kind == kind;
}

static int
s_peek_keyword (s_parser_t *p, const char *kw)
{
    return s_peek (p, GQL_TOK_NAME) && TOK.len == strlen (kw) && memcmp (TOK.value, kw, TOK.len) == 0;
}

//  Consume a token of this kind, or fail.
static int
s_expect (s_parser_t *p, gql_tokkind_t kind)
{
    if (p->failed)
        return -1;
    if (TOK.kind == kind)
        return s_advance (p);
    s_error (p, TOK.start, gql_sprintf (p->a, "Syntax Error: Expected %s, found %s.",
                                        s_kind_desc (kind), gql_tok_desc (p->a, &TOK)));
    return -1;
}

//  Consume a token of this kind if it is next; 1 if it was.
static int
s_skip (s_parser_t *p, gql_tokkind_t kind)
{
    if (!s_peek (p, kind))
        return 0;
    return s_advance (p) == 0;
}

static int
s_expect_keyword (s_parser_t *p, const char *kw)
{
    if (p->failed)
        return -1;
    if (s_peek_keyword (p, kw))
        return s_advance (p);
    s_error (p, TOK.start, gql_sprintf (p->a, "Syntax Error: Expected \"%s\", found %s.",
                                        kw, gql_tok_desc (p->a, &TOK)));
    return -1;
}

static int
s_push (s_parser_t *p, gql_vec_t *v, void *item)
{
    if (p->failed || !item)
        return -1;
    if (gql_vec_push (p->a, v, item) != 0) {
        s_error (p, TOK.start, NULL);
        return -1;
    }
    return 0;
}

static void *
s_new (s_parser_t *p, size_t size)
{
    void *n = gql_alloc (p->a, size);
    if (!n)
        s_error (p, TOK.start, NULL);
    return n;
}

//  A Name token, copied; *loc gets its offset.
static const char *
s_name (s_parser_t *p, uint32_t *loc)
{
    if (p->failed)
        return NULL;
    if (TOK.kind != GQL_TOK_NAME) {
        s_expect (p, GQL_TOK_NAME);
        return NULL;
    }
    if (loc)
        *loc = TOK.start;
    char *name = gql_strndup (p->a, TOK.value, TOK.len);
    if (!name) {
        s_error (p, TOK.start, NULL);
        return NULL;
    }
    return s_advance (p) == 0 ? name : NULL;
}

static int
s_enter (s_parser_t *p)
{
    if (++p->depth > GQL_MAX_NESTING) {
        s_error (p, TOK.start, gql_sprintf (p->a, "Syntax Error: Document is nested too deeply "
                                            "(more than %d levels).", GQL_MAX_NESTING));
        return -1;
    }
    return 0;
}

static gql_value_t *s_value (s_parser_t *p, int is_const);

static gql_arg_t *
s_argument (s_parser_t *p, int is_const)
{
    gql_arg_t *arg = s_new (p, sizeof *arg);
    if (!arg || !(arg->name = s_name (p, &arg->loc)) || s_expect (p, GQL_TOK_COLON) != 0
        || !(arg->value = s_value (p, is_const)))
        return NULL;
    return arg;
}

static gql_value_t *
s_value (s_parser_t *p, int is_const)
{
    gql_value_t *v = s_new (p, sizeof *v);
    if (!v)
        return NULL;
    v->loc = TOK.start;
    switch (TOK.kind) {
        case GQL_TOK_BRACKET_L:
            if (s_enter (p) != 0 || s_advance (p) != 0)
                return NULL;
            v->kind = GQL_V_LIST;
            while (!s_skip (p, GQL_TOK_BRACKET_R))
                if (s_push (p, &v->items, s_value (p, is_const)) != 0)
                    return NULL;
            p->depth--;
            return p->failed ? NULL : v;
        case GQL_TOK_BRACE_L:
            if (s_enter (p) != 0 || s_advance (p) != 0)
                return NULL;
            v->kind = GQL_V_OBJECT;
            while (!s_skip (p, GQL_TOK_BRACE_R))
                if (s_push (p, &v->items, s_argument (p, is_const)) != 0)
                    return NULL;
            p->depth--;
            return p->failed ? NULL : v;
        case GQL_TOK_INT:
        case GQL_TOK_FLOAT:
            v->kind = TOK.kind == GQL_TOK_INT ? GQL_V_INT : GQL_V_FLOAT;
            v->text = gql_strndup (p->a, TOK.value, TOK.len);
            v->len = TOK.len;
            if (!v->text) {
                s_error (p, TOK.start, NULL);
                return NULL;
            }
            return s_advance (p) == 0 ? v : NULL;
        case GQL_TOK_STRING:
        case GQL_TOK_BLOCK_STRING:
            v->kind = GQL_V_STRING;
            v->text = TOK.value;
            v->len = TOK.len;
            return s_advance (p) == 0 ? v : NULL;
        case GQL_TOK_NAME:
            if (s_peek_keyword (p, "true") || s_peek_keyword (p, "false")) {
                v->kind = GQL_V_BOOLEAN;
                v->boolean = TOK.value[0] == 't';
                return s_advance (p) == 0 ? v : NULL;
            }
            if (s_peek_keyword (p, "null")) {
                v->kind = GQL_V_NULL;
                return s_advance (p) == 0 ? v : NULL;
            }
            v->kind = GQL_V_ENUM;
            v->text = s_name (p, NULL);
            v->len = v->text ? strlen (v->text) : 0;
            return v->text ? v : NULL;
        case GQL_TOK_DOLLAR:
            if (is_const) {
                gql_lexer_t save = p->lx;
                const char *name = NULL;
                if (gql_lex_next (&p->lx) == 0 && TOK.kind == GQL_TOK_NAME)
                    name = gql_strndup (p->a, TOK.value, TOK.len);
                p->lx = save;
                if (name) {
                    s_error (p, TOK.start, gql_sprintf (p->a, "Syntax Error: Unexpected variable \"$%s\" "
                                                        "in constant value.", name));
                    return NULL;
                }
                return s_unexpected (p);
            }
            if (s_advance (p) != 0)
                return NULL;
            v->kind = GQL_V_VARIABLE;
            v->text = s_name (p, NULL);
            v->len = v->text ? strlen (v->text) : 0;
            return v->text ? v : NULL;
        default:
            return s_unexpected (p);
    }
}

static gql_typeref_t *
s_type (s_parser_t *p)
{
    gql_typeref_t *t = s_new (p, sizeof *t);
    if (!t)
        return NULL;
    t->loc = TOK.start;
    if (s_peek (p, GQL_TOK_BRACKET_L)) {
        if (s_enter (p) != 0 || s_advance (p) != 0)
            return NULL;
        t->kind = GQL_T_LIST;
        if (!(t->of = s_type (p)) || s_expect (p, GQL_TOK_BRACKET_R) != 0)
            return NULL;
        p->depth--;
    }
    else {
        t->kind = GQL_T_NAMED;
        if (!(t->name = s_name (p, NULL)))
            return NULL;
    }
    if (s_peek (p, GQL_TOK_BANG)) {
        gql_typeref_t *nn = s_new (p, sizeof *nn);
        if (!nn || s_advance (p) != 0)
            return NULL;
        nn->kind = GQL_T_NONNULL;
        nn->loc = t->loc;
        nn->of = t;
        return nn;
    }
    return t;
}

static int
s_directives (s_parser_t *p, gql_vec_t *out, int is_const)
{
    while (s_peek (p, GQL_TOK_AT)) {
        gql_directive_t *d = s_new (p, sizeof *d);
        if (!d)
            return -1;
        d->loc = TOK.start;
        if (s_advance (p) != 0 || !(d->name = s_name (p, NULL)))
            return -1;
        if (s_skip (p, GQL_TOK_PAREN_L)) {
            do {
                if (s_push (p, &d->args, s_argument (p, is_const)) != 0)
                    return -1;
            } while (!s_skip (p, GQL_TOK_PAREN_R));
        }
        if (s_push (p, out, d) != 0)
            return -1;
    }
    return p->failed ? -1 : 0;
}

static gql_selset_t *s_selset (s_parser_t *p);

static gql_sel_t *
s_selection (s_parser_t *p)
{
    gql_sel_t *sel = s_new (p, sizeof *sel);
    if (!sel)
        return NULL;
    sel->loc = TOK.start;
    if (s_skip (p, GQL_TOK_SPREAD)) {
        if (s_peek (p, GQL_TOK_NAME) && !s_peek_keyword (p, "on")) {
            sel->kind = GQL_SEL_SPREAD;
            if (!(sel->name = s_name (p, &sel->name_loc)) || s_directives (p, &sel->directives, 0) != 0)
                return NULL;
            return sel;
        }
        sel->kind = GQL_SEL_INLINE;
        if (s_skip (p, GQL_TOK_NAME)) {
            //  s_skip consumed "on"; the type condition follows.
            if (!(sel->type_cond = s_name (p, &sel->type_cond_loc)))
                return NULL;
        }
        if (p->failed || s_directives (p, &sel->directives, 0) != 0 || !(sel->selset = s_selset (p)))
            return NULL;
        return sel;
    }
    sel->kind = GQL_SEL_FIELD;
    if (p->nfields < UINT32_MAX)
        p->nfields++;
    const char *first = s_name (p, &sel->name_loc);
    if (!first)
        return NULL;
    if (s_skip (p, GQL_TOK_COLON)) {
        sel->alias = first;
        if (!(sel->name = s_name (p, &sel->name_loc)))
            return NULL;
    }
    else
        sel->name = first;
    if (s_skip (p, GQL_TOK_PAREN_L)) {
        do {
            if (s_push (p, &sel->args, s_argument (p, 0)) != 0)
                return NULL;
        } while (!s_skip (p, GQL_TOK_PAREN_R));
    }
    if (p->failed || s_directives (p, &sel->directives, 0) != 0)
        return NULL;
    if (s_peek (p, GQL_TOK_BRACE_L) && !(sel->selset = s_selset (p)))
        return NULL;
    return p->failed ? NULL : sel;
}

static gql_selset_t *
s_selset (s_parser_t *p)
{
    gql_selset_t *ss = s_new (p, sizeof *ss);
    if (!ss)
        return NULL;
    ss->loc = TOK.start;
    if (s_expect (p, GQL_TOK_BRACE_L) != 0 || s_enter (p) != 0)
        return NULL;
    do {
        if (s_push (p, &ss->items, s_selection (p)) != 0)
            return NULL;
    } while (!s_skip (p, GQL_TOK_BRACE_R));
    p->depth--;
    return p->failed ? NULL : ss;
}

static gql_def_t *
s_def_new (s_parser_t *p, gql_defkind_t kind, uint32_t loc)
{
    gql_def_t *d = s_new (p, sizeof *d);
    if (d) {
        d->kind = kind;
        d->loc = loc;
    }
    return d;
}

static gql_def_t *
s_operation (s_parser_t *p)
{
    gql_operation_t *op = s_new (p, sizeof *op);
    gql_def_t *d = s_def_new (p, GQL_D_OPERATION, TOK.start);
    if (!op || !d)
        return NULL;
    d->u.op = op;
    op->loc = TOK.start;
    if (s_peek (p, GQL_TOK_BRACE_L)) {
        op->op = GQL_OP_QUERY;
        return (op->selset = s_selset (p)) ? d : NULL;
    }
    if (s_peek_keyword (p, "query"))
        op->op = GQL_OP_QUERY;
    else if (s_peek_keyword (p, "mutation"))
        op->op = GQL_OP_MUTATION;
    else
        op->op = GQL_OP_SUBSCRIPTION;
    if (s_advance (p) != 0)
        return NULL;
    if (s_peek (p, GQL_TOK_NAME) && !(op->name = s_name (p, NULL)))
        return NULL;
    if (s_skip (p, GQL_TOK_PAREN_L)) {
        do {
            gql_vardef_t *vd = s_new (p, sizeof *vd);
            if (!vd)
                return NULL;
            vd->loc = TOK.start;
            if (s_expect (p, GQL_TOK_DOLLAR) != 0 || !(vd->name = s_name (p, NULL))
                || s_expect (p, GQL_TOK_COLON) != 0 || !(vd->type = s_type (p)))
                return NULL;
            if (s_skip (p, GQL_TOK_EQUALS) && !(vd->def = s_value (p, 1)))
                return NULL;
            if (s_directives (p, &vd->directives, 1) != 0 || s_push (p, &op->vardefs, vd) != 0)
                return NULL;
        } while (!s_skip (p, GQL_TOK_PAREN_R));
    }
    if (p->failed || s_directives (p, &op->directives, 0) != 0 || !(op->selset = s_selset (p)))
        return NULL;
    return d;
}

static gql_def_t *
s_fragment (s_parser_t *p)
{
    gql_fragment_t *f = s_new (p, sizeof *f);
    gql_def_t *d = s_def_new (p, GQL_D_FRAGMENT, TOK.start);
    if (!f || !d || s_advance (p) != 0)
        return NULL;
    d->u.frag = f;
    if (s_peek_keyword (p, "on"))
        return s_unexpected (p);
    if (!(f->name = s_name (p, &f->loc)) || s_expect_keyword (p, "on") != 0
        || !(f->type_cond = s_name (p, &f->type_cond_loc))
        || s_directives (p, &f->directives, 0) != 0 || !(f->selset = s_selset (p)))
        return NULL;
    return d;
}

// -- type system --------------------------------------------------------------

static const char *
s_description (s_parser_t *p)
{
    if (!s_peek (p, GQL_TOK_STRING) && !s_peek (p, GQL_TOK_BLOCK_STRING))
        return NULL;
    const char *d = TOK.value;
    return s_advance (p) == 0 ? d : NULL;
}

static gql_ivdef_t *
s_input_value (s_parser_t *p)
{
    gql_ivdef_t *iv = s_new (p, sizeof *iv);
    if (!iv)
        return NULL;
    iv->description = s_description (p);
    if (!(iv->name = s_name (p, &iv->loc)) || s_expect (p, GQL_TOK_COLON) != 0
        || !(iv->type = s_type (p)))
        return NULL;
    if (s_skip (p, GQL_TOK_EQUALS) && !(iv->def = s_value (p, 1)))
        return NULL;
    if (p->failed || s_directives (p, &iv->directives, 1) != 0)
        return NULL;
    return iv;
}

//  "(" InputValueDefinition+ ")" or "{" ... "}", when open is next.
static int
s_input_values (s_parser_t *p, gql_vec_t *out, gql_tokkind_t open, gql_tokkind_t close)
{
    if (!s_skip (p, open))
        return p->failed ? -1 : 0;
    do {
        if (s_push (p, out, s_input_value (p)) != 0)
            return -1;
    } while (!s_skip (p, close));
    return p->failed ? -1 : 0;
}

static int
s_named_list (s_parser_t *p, gql_vec_t *out, gql_tokkind_t sep)
{
    s_skip (p, sep);
    do {
        gql_nameref_t *n = s_new (p, sizeof *n);
        if (!n || !(n->name = s_name (p, &n->loc)) || s_push (p, out, n) != 0)
            return -1;
    } while (s_skip (p, sep));
    return p->failed ? -1 : 0;
}

static int
s_fields (s_parser_t *p, gql_vec_t *out)
{
    if (!s_skip (p, GQL_TOK_BRACE_L))
        return p->failed ? -1 : 0;
    do {
        gql_fdef_t *f = s_new (p, sizeof *f);
        if (!f)
            return -1;
        f->description = s_description (p);
        if (!(f->name = s_name (p, &f->loc))
            || s_input_values (p, &f->args, GQL_TOK_PAREN_L, GQL_TOK_PAREN_R) != 0
            || s_expect (p, GQL_TOK_COLON) != 0 || !(f->type = s_type (p))
            || s_directives (p, &f->directives, 1) != 0 || s_push (p, out, f) != 0)
            return -1;
    } while (!s_skip (p, GQL_TOK_BRACE_R));
    return p->failed ? -1 : 0;
}

static int
s_enum_values (s_parser_t *p, gql_vec_t *out)
{
    if (!s_skip (p, GQL_TOK_BRACE_L))
        return p->failed ? -1 : 0;
    do {
        gql_evdef_t *ev = s_new (p, sizeof *ev);
        if (!ev)
            return -1;
        ev->description = s_description (p);
        if (s_peek_keyword (p, "true") || s_peek_keyword (p, "false") || s_peek_keyword (p, "null")) {
            s_error (p, TOK.start, gql_sprintf (p->a, "Syntax Error: Name \"%.*s\" is reserved and "
                                                "cannot be used for an enum value.",
                                                (int) TOK.len, TOK.value));
            return -1;
        }
        if (!(ev->name = s_name (p, &ev->loc)) || s_directives (p, &ev->directives, 1) != 0
            || s_push (p, out, ev) != 0)
            return -1;
    } while (!s_skip (p, GQL_TOK_BRACE_R));
    return p->failed ? -1 : 0;
}

static gql_def_t *
s_schema_def (s_parser_t *p, int extend, uint32_t loc)
{
    gql_sdef_t *sd = s_new (p, sizeof *sd);
    gql_def_t *d = s_def_new (p, GQL_D_SCHEMA, loc);
    if (!sd || !d || s_advance (p) != 0)
        return NULL;
    d->u.schema = sd;
    sd->extend = extend;
    sd->loc = loc;
    if (s_directives (p, &sd->directives, 1) != 0)
        return NULL;
    if (s_skip (p, GQL_TOK_BRACE_L)) {
        do {
            gql_opref_t *o = s_new (p, sizeof *o);
            if (!o)
                return NULL;
            o->loc = TOK.start;
            if (s_peek_keyword (p, "query"))
                o->op = GQL_OP_QUERY;
            else if (s_peek_keyword (p, "mutation"))
                o->op = GQL_OP_MUTATION;
            else if (s_peek_keyword (p, "subscription"))
                o->op = GQL_OP_SUBSCRIPTION;
            else
                return s_unexpected (p);
            if (s_advance (p) != 0 || s_expect (p, GQL_TOK_COLON) != 0
                || !(o->type = s_name (p, NULL)) || s_push (p, &sd->ops, o) != 0)
                return NULL;
        } while (!s_skip (p, GQL_TOK_BRACE_R));
    }
    else if (!extend)
        return s_expect (p, GQL_TOK_BRACE_L), NULL;
    if (extend && sd->directives.n == 0 && sd->ops.n == 0)
        return s_unexpected (p);
    return p->failed ? NULL : d;
}

static gql_def_t *
s_type_def (s_parser_t *p, const char *description, int extend, uint32_t loc)
{
    gql_tdef_t *t = s_new (p, sizeof *t);
    gql_def_t *d = s_def_new (p, GQL_D_TYPE, loc);
    if (!t || !d)
        return NULL;
    d->u.type = t;
    t->extend = extend;
    t->description = description;
    if (s_peek_keyword (p, "scalar"))
        t->kind = GQL_K_SCALAR;
    else if (s_peek_keyword (p, "type"))
        t->kind = GQL_K_OBJECT;
    else if (s_peek_keyword (p, "interface"))
        t->kind = GQL_K_INTERFACE;
    else if (s_peek_keyword (p, "union"))
        t->kind = GQL_K_UNION;
    else if (s_peek_keyword (p, "enum"))
        t->kind = GQL_K_ENUM;
    else
        t->kind = GQL_K_INPUT;
    if (s_advance (p) != 0 || !(t->name = s_name (p, &t->loc)))
        return NULL;
    return d;
}

//  The part of a type definition after its name. "implements" is a
//  keyword only here, so it is recognised by value.
static gql_def_t *
s_type_body (s_parser_t *p, gql_def_t *d)
{
    gql_tdef_t *t = d->u.type;
    int extend = t->extend;
    switch (t->kind) {
        case GQL_K_OBJECT:
        case GQL_K_INTERFACE:
            if (s_peek_keyword (p, "implements")) {
                if (s_advance (p) != 0 || s_named_list (p, &t->interfaces, GQL_TOK_AMP) != 0)
                    return NULL;
            }
            if (s_directives (p, &t->directives, 1) != 0 || s_fields (p, &t->fields) != 0)
                return NULL;
            if (extend && !t->interfaces.n && !t->directives.n && !t->fields.n)
                return s_unexpected (p);
            break;
        case GQL_K_UNION:
            if (s_directives (p, &t->directives, 1) != 0)
                return NULL;
            if (s_skip (p, GQL_TOK_EQUALS) && s_named_list (p, &t->members, GQL_TOK_PIPE) != 0)
                return NULL;
            if (extend && !t->directives.n && !t->members.n)
                return s_unexpected (p);
            break;
        case GQL_K_ENUM:
            if (s_directives (p, &t->directives, 1) != 0 || s_enum_values (p, &t->values) != 0)
                return NULL;
            if (extend && !t->directives.n && !t->values.n)
                return s_unexpected (p);
            break;
        case GQL_K_INPUT:
            if (s_directives (p, &t->directives, 1) != 0
                || s_input_values (p, &t->inputs, GQL_TOK_BRACE_L, GQL_TOK_BRACE_R) != 0)
                return NULL;
            if (extend && !t->directives.n && !t->inputs.n)
                return s_unexpected (p);
            break;
        case GQL_K_SCALAR:
            if (s_directives (p, &t->directives, 1) != 0)
                return NULL;
            if (extend && !t->directives.n)
                return s_unexpected (p);
            break;
    }
    return p->failed ? NULL : d;
}

static gql_def_t *
s_directive_def (s_parser_t *p, const char *description, uint32_t loc)
{
    gql_ddef_t *dd = s_new (p, sizeof *dd);
    gql_def_t *d = s_def_new (p, GQL_D_DIRECTIVE, loc);
    if (!dd || !d || s_advance (p) != 0)
        return NULL;
    d->u.directive = dd;
    dd->description = description;
    dd->loc = TOK.start;
    if (s_expect (p, GQL_TOK_AT) != 0 || !(dd->name = s_name (p, NULL))
        || s_input_values (p, &dd->args, GQL_TOK_PAREN_L, GQL_TOK_PAREN_R) != 0)
        return NULL;
    if (s_peek_keyword (p, "repeatable")) {
        dd->repeatable = 1;
        if (s_advance (p) != 0)
            return NULL;
    }
    if (s_expect_keyword (p, "on") != 0)
        return NULL;
    s_skip (p, GQL_TOK_PIPE);
    do {
        if (s_peek (p, GQL_TOK_NAME)) {
            char tmp[32];
            if (TOK.len >= sizeof tmp || (memcpy (tmp, TOK.value, TOK.len), tmp[TOK.len] = 0,
                                          !gql_dirloc_bit (tmp)))
                return s_unexpected (p);
        }
        gql_nameref_t *n = s_new (p, sizeof *n);
        if (!n || !(n->name = s_name (p, &n->loc)) || s_push (p, &dd->locations, n) != 0)
            return NULL;
    } while (s_skip (p, GQL_TOK_PIPE));
    return p->failed ? NULL : d;
}

static int
s_is_type_keyword (s_parser_t *p)
{
    return s_peek_keyword (p, "scalar") || s_peek_keyword (p, "type")
        || s_peek_keyword (p, "interface") || s_peek_keyword (p, "union")
        || s_peek_keyword (p, "enum") || s_peek_keyword (p, "input");
}

static gql_def_t *
s_definition (s_parser_t *p)
{
    uint32_t loc = TOK.start;
    if (s_peek (p, GQL_TOK_BRACE_L))
        return s_operation (p);
    const char *description = s_description (p);
    if (p->failed)
        return NULL;
    if (!s_peek (p, GQL_TOK_NAME))
        return s_unexpected (p);
    if (!description) {
        if (s_peek_keyword (p, "query") || s_peek_keyword (p, "mutation")
            || s_peek_keyword (p, "subscription"))
            return s_operation (p);
        if (s_peek_keyword (p, "fragment"))
            return s_fragment (p);
        if (s_peek_keyword (p, "extend")) {
            if (s_advance (p) != 0)
                return NULL;
            if (s_peek_keyword (p, "schema"))
                return s_schema_def (p, 1, loc);
            if (s_is_type_keyword (p)) {
                gql_def_t *d = s_type_def (p, NULL, 1, loc);
                return d ? s_type_body (p, d) : NULL;
            }
            return s_unexpected (p);
        }
    }
    if (s_peek_keyword (p, "schema"))
        return s_schema_def (p, 0, loc);
    if (s_is_type_keyword (p)) {
        gql_def_t *d = s_type_def (p, description, 0, loc);
        return d ? s_type_body (p, d) : NULL;
    }
    if (s_peek_keyword (p, "directive"))
        return s_directive_def (p, description, loc);
    return s_unexpected (p);
}

gql_doc_t *
gql_parse (gql_arena_t *a, const char *src, size_t len, gql_errs_t *errs)
{
    s_parser_t parser = { .a = a, .errs = errs };
    s_parser_t *p = &parser;
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
    gql_doc_t *doc = s_new (p, sizeof *doc);
    if (!doc || s_advance (p) != 0)
        return NULL;
    do {
        if (s_push (p, &doc->defs, s_definition (p)) != 0)
            return NULL;
    } while (!s_peek (p, GQL_TOK_EOF) && !p->failed);
    doc->nfields = p->nfields;
    return p->failed ? NULL : doc;
}
