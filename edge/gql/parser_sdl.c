/*  parser_sdl.c: the type-system definitions and extensions of the SDL
 *  (schema, scalar, type, interface, union, enum, input, directive), on
 *  the parser's machinery in parser.c. The schema loader (schema.c) gives
 *  them meaning.
 */
#include "gql_internal.h"
#include "parser.h"

#include <string.h>

static gql_ivdef_t *
s_input_value (gql_parser_t *p)
{
    gql_ivdef_t *iv = gql_parse_new (p, sizeof *iv);
    if (!iv)
        return NULL;
    iv->description = gql_parse_description (p);
    if (!(iv->name = gql_parse_name (p, &iv->loc)) || gql_parse_expect (p, GQL_TOK_COLON) != 0
        || !(iv->type = gql_parse_type (p)))
        return NULL;
    if (gql_parse_skip (p, GQL_TOK_EQUALS) && !(iv->def = gql_parse_value (p, 1)))
        return NULL;
    if (p->failed || gql_parse_directives (p, &iv->directives, 1) != 0)
        return NULL;
    return iv;
}

//  "(" InputValueDefinition+ ")" or "{" ... "}", when open is next.
static int
s_input_values (gql_parser_t *p, gql_vec_t *out, gql_tokkind_t open, gql_tokkind_t close)
{
    if (!gql_parse_skip (p, open))
        return p->failed ? -1 : 0;
    do {
        if (gql_parse_push (p, out, s_input_value (p)) != 0)
            return -1;
    } while (!gql_parse_skip (p, close));
    return p->failed ? -1 : 0;
}

static int
s_named_list (gql_parser_t *p, gql_vec_t *out, gql_tokkind_t sep)
{
    gql_parse_skip (p, sep);
    do {
        gql_nameref_t *n = gql_parse_new (p, sizeof *n);
        if (!n || !(n->name = gql_parse_name (p, &n->loc)) || gql_parse_push (p, out, n) != 0)
            return -1;
    } while (gql_parse_skip (p, sep));
    return p->failed ? -1 : 0;
}

static int
s_fields (gql_parser_t *p, gql_vec_t *out)
{
    if (!gql_parse_skip (p, GQL_TOK_BRACE_L))
        return p->failed ? -1 : 0;
    do {
        gql_fdef_t *f = gql_parse_new (p, sizeof *f);
        if (!f)
            return -1;
        f->description = gql_parse_description (p);
        if (!(f->name = gql_parse_name (p, &f->loc))
            || s_input_values (p, &f->args, GQL_TOK_PAREN_L, GQL_TOK_PAREN_R) != 0
            || gql_parse_expect (p, GQL_TOK_COLON) != 0 || !(f->type = gql_parse_type (p))
            || gql_parse_directives (p, &f->directives, 1) != 0 || gql_parse_push (p, out, f) != 0)
            return -1;
    } while (!gql_parse_skip (p, GQL_TOK_BRACE_R));
    return p->failed ? -1 : 0;
}

static int
s_enum_values (gql_parser_t *p, gql_vec_t *out)
{
    if (!gql_parse_skip (p, GQL_TOK_BRACE_L))
        return p->failed ? -1 : 0;
    do {
        gql_evdef_t *ev = gql_parse_new (p, sizeof *ev);
        if (!ev)
            return -1;
        ev->description = gql_parse_description (p);
        if (gql_parse_peek_keyword (p, "true") || gql_parse_peek_keyword (p, "false")
            || gql_parse_peek_keyword (p, "null")) {
            gql_parse_error (p, TOK.start,
                             gql_sprintf (p->a,
                                          "Syntax Error: Name \"%.*s\" is reserved and cannot be "
                                          "used for an enum value.",
                                          (int) TOK.len, TOK.value));
            return -1;
        }
        if (!(ev->name = gql_parse_name (p, &ev->loc))
            || gql_parse_directives (p, &ev->directives, 1) != 0
            || gql_parse_push (p, out, ev) != 0)
            return -1;
    } while (!gql_parse_skip (p, GQL_TOK_BRACE_R));
    return p->failed ? -1 : 0;
}

static gql_def_t *
s_schema_def (gql_parser_t *p, int extend, uint32_t loc)
{
    gql_sdef_t *sd = gql_parse_new (p, sizeof *sd);
    gql_def_t *d = gql_parse_def_new (p, GQL_D_SCHEMA, loc);
    if (!sd || !d || gql_parse_advance (p) != 0)
        return NULL;
    d->u.schema = sd;
    sd->extend = extend;
    sd->loc = loc;
    if (gql_parse_directives (p, &sd->directives, 1) != 0)
        return NULL;
    if (gql_parse_skip (p, GQL_TOK_BRACE_L)) {
        do {
            gql_opref_t *o = gql_parse_new (p, sizeof *o);
            if (!o)
                return NULL;
            o->loc = TOK.start;
            if (gql_parse_peek_keyword (p, "query"))
                o->op = GQL_OP_QUERY;
            else if (gql_parse_peek_keyword (p, "mutation"))
                o->op = GQL_OP_MUTATION;
            else if (gql_parse_peek_keyword (p, "subscription"))
                o->op = GQL_OP_SUBSCRIPTION;
            else
                return gql_parse_unexpected (p);
            if (gql_parse_advance (p) != 0 || gql_parse_expect (p, GQL_TOK_COLON) != 0
                || !(o->type = gql_parse_name (p, NULL)) || gql_parse_push (p, &sd->ops, o) != 0)
                return NULL;
        } while (!gql_parse_skip (p, GQL_TOK_BRACE_R));
    }
    else if (!extend)
        return gql_parse_expect (p, GQL_TOK_BRACE_L), NULL;
    if (extend && sd->directives.n == 0 && sd->ops.n == 0)
        return gql_parse_unexpected (p);
    return p->failed ? NULL : d;
}

static gql_def_t *
s_type_def (gql_parser_t *p, const char *description, int extend, uint32_t loc)
{
    gql_tdef_t *t = gql_parse_new (p, sizeof *t);
    gql_def_t *d = gql_parse_def_new (p, GQL_D_TYPE, loc);
    if (!t || !d)
        return NULL;
    d->u.type = t;
    t->extend = extend;
    t->description = description;
    if (gql_parse_peek_keyword (p, "scalar"))
        t->kind = GQL_K_SCALAR;
    else if (gql_parse_peek_keyword (p, "type"))
        t->kind = GQL_K_OBJECT;
    else if (gql_parse_peek_keyword (p, "interface"))
        t->kind = GQL_K_INTERFACE;
    else if (gql_parse_peek_keyword (p, "union"))
        t->kind = GQL_K_UNION;
    else if (gql_parse_peek_keyword (p, "enum"))
        t->kind = GQL_K_ENUM;
    else
        t->kind = GQL_K_INPUT;
    if (gql_parse_advance (p) != 0 || !(t->name = gql_parse_name (p, &t->loc)))
        return NULL;
    return d;
}

//  The part of a type definition after its name. "implements" is a
//  keyword only here, so it is recognised by value.
static gql_def_t *
s_type_body (gql_parser_t *p, gql_def_t *d)
{
    gql_tdef_t *t = d->u.type;
    int extend = t->extend;
    switch (t->kind) {
        case GQL_K_OBJECT:
        case GQL_K_INTERFACE:
            if (gql_parse_peek_keyword (p, "implements")) {
                if (gql_parse_advance (p) != 0
                    || s_named_list (p, &t->interfaces, GQL_TOK_AMP) != 0)
                    return NULL;
            }
            if (gql_parse_directives (p, &t->directives, 1) != 0 || s_fields (p, &t->fields) != 0)
                return NULL;
            if (extend && !t->interfaces.n && !t->directives.n && !t->fields.n)
                return gql_parse_unexpected (p);
            break;
        case GQL_K_UNION:
            if (gql_parse_directives (p, &t->directives, 1) != 0)
                return NULL;
            if (gql_parse_skip (p, GQL_TOK_EQUALS)
                && s_named_list (p, &t->members, GQL_TOK_PIPE) != 0)
                return NULL;
            if (extend && !t->directives.n && !t->members.n)
                return gql_parse_unexpected (p);
            break;
        case GQL_K_ENUM:
            if (gql_parse_directives (p, &t->directives, 1) != 0
                || s_enum_values (p, &t->values) != 0)
                return NULL;
            if (extend && !t->directives.n && !t->values.n)
                return gql_parse_unexpected (p);
            break;
        case GQL_K_INPUT:
            if (gql_parse_directives (p, &t->directives, 1) != 0
                || s_input_values (p, &t->inputs, GQL_TOK_BRACE_L, GQL_TOK_BRACE_R) != 0)
                return NULL;
            if (extend && !t->directives.n && !t->inputs.n)
                return gql_parse_unexpected (p);
            break;
        case GQL_K_SCALAR:
            if (gql_parse_directives (p, &t->directives, 1) != 0)
                return NULL;
            if (extend && !t->directives.n)
                return gql_parse_unexpected (p);
            break;
    }
    return p->failed ? NULL : d;
}

static gql_def_t *
s_directive_def (gql_parser_t *p, const char *description, uint32_t loc)
{
    gql_ddef_t *dd = gql_parse_new (p, sizeof *dd);
    gql_def_t *d = gql_parse_def_new (p, GQL_D_DIRECTIVE, loc);
    if (!dd || !d || gql_parse_advance (p) != 0)
        return NULL;
    d->u.directive = dd;
    dd->description = description;
    dd->loc = TOK.start;
    if (gql_parse_expect (p, GQL_TOK_AT) != 0 || !(dd->name = gql_parse_name (p, NULL))
        || s_input_values (p, &dd->args, GQL_TOK_PAREN_L, GQL_TOK_PAREN_R) != 0)
        return NULL;
    if (gql_parse_peek_keyword (p, "repeatable")) {
        dd->repeatable = 1;
        if (gql_parse_advance (p) != 0)
            return NULL;
    }
    if (gql_parse_expect_keyword (p, "on") != 0)
        return NULL;
    gql_parse_skip (p, GQL_TOK_PIPE);
    do {
        if (gql_parse_peek (p, GQL_TOK_NAME)) {
            char tmp[32];
            if (TOK.len >= sizeof tmp || (memcpy (tmp, TOK.value, TOK.len), tmp[TOK.len] = 0,
                                          !gql_dirloc_bit (tmp)))
                return gql_parse_unexpected (p);
        }
        gql_nameref_t *n = gql_parse_new (p, sizeof *n);
        if (!n || !(n->name = gql_parse_name (p, &n->loc))
            || gql_parse_push (p, &dd->locations, n) != 0)
            return NULL;
    } while (gql_parse_skip (p, GQL_TOK_PIPE));
    return p->failed ? NULL : d;
}

static int
s_is_type_keyword (gql_parser_t *p)
{
    return gql_parse_peek_keyword (p, "scalar") || gql_parse_peek_keyword (p, "type")
        || gql_parse_peek_keyword (p, "interface") || gql_parse_peek_keyword (p, "union")
        || gql_parse_peek_keyword (p, "enum") || gql_parse_peek_keyword (p, "input");
}

gql_def_t *
gql_parse_type_system (gql_parser_t *p, const char *description, int extend, uint32_t loc)
{
    if (gql_parse_peek_keyword (p, "schema"))
        return s_schema_def (p, extend, loc);
    if (s_is_type_keyword (p)) {
        gql_def_t *d = s_type_def (p, description, extend, loc);
        return d ? s_type_body (p, d) : NULL;
    }
    if (!extend && gql_parse_peek_keyword (p, "directive"))
        return s_directive_def (p, description, loc);
    return gql_parse_unexpected (p);
}
