/*  test_gql_parse.c: the lexer and parser: every value kind, strings with
 *  escapes and block strings, numbers, ignored tokens, locations, syntax
 *  errors and the nesting cap, executable and type-system documents.
 */
#include "gqltest.h"

typedef struct {
    gql_arena_t a;
    gql_errs_t e;
    gql_src_t src;
    gql_doc_t *doc;
} t_parsed_t;

static t_parsed_t *
s_parse (const char *text, size_t len)
{
    t_parsed_t *p = calloc (1, sizeof *p);
    gql_arena_init (&p->a, 4096);
    gql_errs_init (&p->e, &p->a);
    p->src.text = text;
    p->src.len = len;
    p->doc = gql_parse (&p->a, text, len, &p->e);
    return p;
}

static void
s_free (t_parsed_t *p)
{
    gql_arena_free (&p->a);
    free (p);
}

//  NULL if the document parses, else its errors as JSON.
static char *
s_error (const char *text)
{
    t_parsed_t *p = s_parse (text, strlen (text));
    char *out = p->doc ? NULL : gql_errs_json (&p->e, &p->src);
    if (p->doc && gql_errs_count (&p->e))
        out = strdup ("(errors without a failure)");
    s_free (p);
    return out;
}

#define PARSES(text)                                                             \
    do {                                                                         \
        char *t_e = s_error (text);                                              \
        if (t_e) {                                                               \
            fprintf (stderr, "%s:%d: expected to parse: %s\n", __FILE__, __LINE__, t_e); \
            t_failures++;                                                        \
        }                                                                        \
        free (t_e);                                                              \
    } while (0)

#define SYNTAX(text, expected)                                                   \
    do {                                                                         \
        char *t_e = s_error (text);                                              \
        CHECK_STR (t_e, expected);                                               \
        free (t_e);                                                              \
    } while (0)

//  The value of the first argument of the first field of "{ f(a: V) }".
static const gql_value_t *
s_first_value (t_parsed_t *p)
{
    if (!p->doc)
        return NULL;
    const gql_def_t *d = p->doc->defs.items[0];
    const gql_sel_t *sel = d->u.op->selset->items.items[0];
    const gql_arg_t *arg = sel->args.items[0];
    return arg->value;
}

//  Decode one string literal; returns its bytes (malloc'ed) and length,
//  or the syntax error message.
static char *
s_string (const char *literal, size_t *len)
{
    char doc[512];
    snprintf (doc, sizeof doc, "{ f(a: %s) }", literal);
    t_parsed_t *p = s_parse (doc, strlen (doc));
    char *out;
    const gql_value_t *v = s_first_value (p);
    if (v && v->kind == GQL_V_STRING) {
        out = malloc (v->len + 1);
        memcpy (out, v->text, v->len);
        out[v->len] = 0;
        *len = v->len;
    }
    else {
        const gql_err_t *err = p->e.list.n ? p->e.list.items[0] : NULL;
        out = strdup (err ? err->msg : "(not a string)");
        *len = strlen (out);
    }
    s_free (p);
    return out;
}

#define STRING_IS(literal, expected)                                             \
    do {                                                                         \
        size_t t_len;                                                            \
        char *t_s = s_string (literal, &t_len);                                  \
        CHECK_STR (t_s, expected);                                               \
        free (t_s);                                                              \
    } while (0)

static void
test_spec_examples (void)
{
    //  Examples from the spec's sections 2.3 to 2.12.
    PARSES ("mutation {\n  likeStory(storyID: 12345) {\n    story {\n      likeCount\n    }\n  }\n}");
    PARSES ("{\n  me {\n    id\n    firstName\n    lastName\n    birthday {\n      month\n      day\n    }\n"
            "    friends {\n      name\n    }\n  }\n}");
    PARSES ("# `me` could represent the currently logged in viewer.\n{\n  me {\n    name\n  }\n}\n\n"
            "# `user` represents one of many users in a graph of data, referred to by a\n"
            "# unique identifier.\n{\n  user(id: 4) {\n    name\n  }\n}");
    PARSES ("{\n  user(id: 4) {\n    id\n    name\n    smallPic: profilePic(size: 64)\n"
            "    bigPic: profilePic(size: 1024)\n  }\n}");
    PARSES ("query withFragments {\n  user(id: 4) {\n    friends(first: 10) {\n      ...friendFields\n    }\n"
            "    mutualFriends(first: 10) {\n      ...friendFields\n    }\n  }\n}\n\n"
            "fragment friendFields on User {\n  id\n  name\n  profilePic(size: 50)\n}");
    PARSES ("query inlineFragmentTyping {\n  profiles(handles: [\"zuck\", \"coca-cola\"]) {\n    handle\n"
            "    ... on User {\n      friends {\n        count\n      }\n    }\n    ... on Page {\n"
            "      likers {\n        count\n      }\n    }\n  }\n}");
    PARSES ("query inlineFragmentNoType($expandedInfo: Boolean) {\n  user(handle: \"zuck\") {\n    id\n"
            "    name\n    ... @include(if: $expandedInfo) {\n      firstName\n      lastName\n"
            "      birthday\n    }\n  }\n}");
    PARSES ("query getZuckProfile($devicePicSize: Int) {\n  user(id: 4) {\n    id\n    name\n"
            "    profilePic(size: $devicePicSize)\n  }\n}");
    PARSES ("{ nearestThing(location: { lon: 12.43, lat: -53.211 }) }");
    PARSES ("query ($a: [[Int!]]! = [[1], [2, 3]], $b: In = {x: [ {y: null} ], z: ENUM}) { f }");
}

static void
test_everything_at_once (void)
{
    const char *doc =
        "\xef\xbb\xbf# a comment, and a BOM before it\r\n"
        "query Q($id: ID! = \"4\" @v, $f: [Float!], $in: In = {a: 1, b: [true, null], c: ENUM}) @op {\r\n"
        "  a: user(id: $id, x: -1.5e-3, y: 0, z: \"\"\"\n   block\n   \"\"\") @skip(if: false) {\n"
        "    ...Frag @s\n    ... on User @t { name }\n    ... @u { id }\n    ... { __typename }\n  }\n"
        "},,,,\n"
        "fragment Frag on User @w { friends(first: 10,) { id } }\n"
        "subscription S { on: fragment(query: query, mutation: true) { subscription } }\n"
        "mutation { m }\n"
        "{ shorthand }\n";
    t_parsed_t *p = s_parse (doc, strlen (doc));
    REQUIRE (p->doc);
    CHECK_INT (p->doc->defs.n, 5);
    const gql_def_t *d0 = p->doc->defs.items[0];
    REQUIRE (d0->kind == GQL_D_OPERATION);
    const gql_operation_t *op = d0->u.op;
    CHECK_STR (op->name, "Q");
    CHECK_INT (op->op, GQL_OP_QUERY);
    CHECK_INT (op->vardefs.n, 3);
    CHECK_INT (op->directives.n, 1);
    const gql_vardef_t *vd = op->vardefs.items[0];
    CHECK_STR (vd->name, "id");
    CHECK_INT (vd->type->kind, GQL_T_NONNULL);
    CHECK_STR (vd->type->of->name, "ID");
    CHECK_INT (vd->def->kind, GQL_V_STRING);
    CHECK_INT (vd->directives.n, 1);
    const gql_vardef_t *vf = op->vardefs.items[1];
    CHECK_INT (vf->type->kind, GQL_T_LIST);
    CHECK_INT (vf->type->of->kind, GQL_T_NONNULL);
    const gql_sel_t *user = op->selset->items.items[0];
    CHECK_STR (user->alias, "a");
    CHECK_STR (user->name, "user");
    CHECK_INT (user->args.n, 4);
    CHECK_INT (((gql_arg_t *) user->args.items[1])->value->kind, GQL_V_FLOAT);
    CHECK_INT (((gql_arg_t *) user->args.items[2])->value->kind, GQL_V_INT);
    const gql_value_t *z = ((gql_arg_t *) user->args.items[3])->value;
    CHECK_INT (z->kind, GQL_V_STRING);
    CHECK_STR (z->text, "block");
    CHECK_INT (user->selset->items.n, 4);
    CHECK_INT (((gql_sel_t *) user->selset->items.items[0])->kind, GQL_SEL_SPREAD);
    const gql_sel_t *inl = user->selset->items.items[1];
    CHECK_INT (inl->kind, GQL_SEL_INLINE);
    CHECK_STR (inl->type_cond, "User");
    CHECK (((gql_sel_t *) user->selset->items.items[2])->type_cond == NULL);
    const gql_def_t *d1 = p->doc->defs.items[1];
    CHECK_INT (d1->kind, GQL_D_FRAGMENT);
    CHECK_STR (d1->u.frag->name, "Frag");
    CHECK_STR (d1->u.frag->type_cond, "User");
    //  Keywords are names everywhere else.
    const gql_sel_t *on = ((gql_def_t *) p->doc->defs.items[2])->u.op->selset->items.items[0];
    CHECK_STR (on->alias, "on");
    CHECK_STR (on->name, "fragment");
    CHECK_INT (((gql_arg_t *) on->args.items[0])->value->kind, GQL_V_ENUM);
    CHECK_INT (((gql_def_t *) p->doc->defs.items[3])->u.op->op, GQL_OP_MUTATION);
    CHECK (((gql_def_t *) p->doc->defs.items[4])->u.op->name == NULL);
    s_free (p);
}

static void
test_value_kinds (void)
{
    const char *doc = "{ f(a: [$v, 1, -2.5, \"s\", \"\"\"b\"\"\", true, false, null, RED, [], {}, {k: [1]}]) }";
    t_parsed_t *p = s_parse (doc, strlen (doc));
    const gql_value_t *v = s_first_value (p);
    REQUIRE (v && v->kind == GQL_V_LIST);
    REQUIRE (v->items.n == 12);
    static const gql_vkind_t kinds[] = {
        GQL_V_VARIABLE, GQL_V_INT, GQL_V_FLOAT, GQL_V_STRING, GQL_V_STRING, GQL_V_BOOLEAN, GQL_V_BOOLEAN,
        GQL_V_NULL, GQL_V_ENUM, GQL_V_LIST, GQL_V_OBJECT, GQL_V_OBJECT,
    };
    for (int i = 0; i < 12; i++)
        CHECK_INT (((gql_value_t *) v->items.items[i])->kind, kinds[i]);
    CHECK_STR (((gql_value_t *) v->items.items[0])->text, "v");
    CHECK_STR (((gql_value_t *) v->items.items[2])->text, "-2.5");
    CHECK_INT (((gql_value_t *) v->items.items[5])->boolean, 1);
    CHECK_INT (((gql_value_t *) v->items.items[6])->boolean, 0);
    CHECK_STR (gql_value_str (&p->a, v), "[$v, 1, -2.5, \"s\", \"b\", true, false, null, RED, [], {}, {k: [1]}]");
    s_free (p);
}

static void
test_string_escapes (void)
{
    STRING_IS ("\"simple\"", "simple");
    STRING_IS ("\"  white space  \"", "  white space  ");
    STRING_IS ("\"quote \\\"\"", "quote \"");
    STRING_IS ("\"escaped \\n\\r\\b\\t\\f\"", "escaped \n\r\b\t\f");
    STRING_IS ("\"slashes \\\\ \\/\"", "slashes \\ /");
    STRING_IS ("\"unescaped unicode \xc3\xa9 \xf0\x9f\x98\x80\"", "unescaped unicode \xc3\xa9 \xf0\x9f\x98\x80");
    STRING_IS ("\"tab\tinside\"", "tab\tinside");
    STRING_IS ("\"bad \\x esc\"", "Syntax Error: Invalid character escape sequence: \"\\x\".");
    STRING_IS ("\"bad \\\xc3\xa9\"", "Syntax Error: Invalid character escape sequence: \"\\\xc3\xa9\".");
    STRING_IS ("\"no end", "Syntax Error: Unterminated string.");
    STRING_IS ("\"line\nbreak\"", "Syntax Error: Unterminated string.");
    STRING_IS ("\"ctrl \x01\"", "Syntax Error: Invalid character within String: U+0001.");
}

static void
test_unicode_escapes (void)
{
    STRING_IS ("\"\\u00e9\\u00C9\"", "\xc3\xa9\xc3\x89");
    STRING_IS ("\"\\u{1F600}\"", "\xf0\x9f\x98\x80");
    STRING_IS ("\"\\u{00000041}\"", "A");
    STRING_IS ("\"\\u{10FFFF}\"", "\xf4\x8f\xbf\xbf");
    //  The legacy surrogate pair form makes one supplementary character.
    STRING_IS ("\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80");
    STRING_IS ("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf");
    //  \u0000 is a character like any other.
    size_t len;
    char *s = s_string ("\"a\\u0000b\"", &len);
    CHECK_INT (len, 3);
    CHECK (memcmp (s, "a\0b", 3) == 0);
    free (s);
    //  Lone surrogates, surrogates in braces, out of range, malformed.
    STRING_IS ("\"\\uD83D\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uD83D\".");
    STRING_IS ("\"\\uD83Dx\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uD83D\".");
    STRING_IS ("\"\\uDE00\\uD83D\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uDE00\".");
    STRING_IS ("\"\\uD83D\\u0041\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uD83D\".");
    STRING_IS ("\"\\u{D800}\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u{D800}\".");
    STRING_IS ("\"\\u{110000}\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u{110000}\".");
    STRING_IS ("\"\\u{}\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u{}\".");
    STRING_IS ("\"\\u{12\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u{12\".");
    STRING_IS ("\"\\uXYZW\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uXYZW\".");
    STRING_IS ("\"\\u12\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u12\".");
}

static void
test_block_strings (void)
{
    //  The spec's example: common indentation and blank edge lines removed.
    STRING_IS ("\"\"\"\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  \"\"\"",
               "Hello,\n  World!\n\nYours,\n  GraphQL.");
    //  The first line keeps its indentation and does not count.
    STRING_IS ("\"\"\"  first\n    second\n      third\"\"\"", "  first\nsecond\n  third");
    STRING_IS ("\"\"\"\"\"\"", "");
    STRING_IS ("\"\"\"   \n  \t \n\"\"\"", "");
    //  No escapes but \""".
    STRING_IS ("\"\"\"a \\n \\u0041 \\\"\"\" b\"\"\"", "a \\n \\u0041 \"\"\" b");
    STRING_IS ("\"\"\"contains \" and \"\" quotes\"\"\"", "contains \" and \"\" quotes");
    //  CRLF and CR end lines too; the result uses LF.
    STRING_IS ("\"\"\"\r\n  a\r\n  b\r  c\r\n\"\"\"", "a\nb\nc");
    //  Tabs are white space; a blank line does not set the indentation.
    STRING_IS ("\"\"\"\n\t\tx\n\n\t\t\ty\n\"\"\"", "x\n\n\ty");
    STRING_IS ("\"\"\"\n   a\n b\"\"\"", "  a\nb");
    STRING_IS ("\"\"\"unterminated", "Syntax Error: Unterminated string.");
    STRING_IS ("\"\"\"bad \x02 char\"\"\"", "Syntax Error: Invalid character within String: U+0002.");
}

static void
test_numbers (void)
{
    PARSES ("{ f(a: 0, b: -0, c: 123, d: -1.5e10, e: 1E+2, f: 0.5, g: 6.0221413e23, h: 1e-1) }");
    SYNTAX ("{ f(a: 01) }", "[{\"message\":\"Syntax Error: Invalid number, unexpected digit after 0: \\\"1\\\".\","
                            "\"locations\":[{\"line\":1,\"column\":9}]}]");
    SYNTAX ("{ f(a: 1.) }", "[{\"message\":\"Syntax Error: Invalid number, expected digit but got: \\\")\\\".\","
                            "\"locations\":[{\"line\":1,\"column\":10}]}]");
    SYNTAX ("{ f(a: 1a) }", "[{\"message\":\"Syntax Error: Invalid number, expected digit but got: \\\"a\\\".\","
                            "\"locations\":[{\"line\":1,\"column\":9}]}]");
    SYNTAX ("{ f(a: 1.2.3) }", "[{\"message\":\"Syntax Error: Invalid number, expected digit but got: \\\".\\\".\","
                               "\"locations\":[{\"line\":1,\"column\":11}]}]");
    SYNTAX ("{ f(a: 1e) }", "[{\"message\":\"Syntax Error: Invalid number, expected digit but got: \\\")\\\".\","
                            "\"locations\":[{\"line\":1,\"column\":10}]}]");
    SYNTAX ("{ f(a: -x) }", "[{\"message\":\"Syntax Error: Invalid number, expected digit but got: \\\"x\\\".\","
                            "\"locations\":[{\"line\":1,\"column\":9}]}]");
    SYNTAX ("{ f(a: .5) }", "[{\"message\":\"Syntax Error: Unexpected character: \\\".\\\".\","
                            "\"locations\":[{\"line\":1,\"column\":8}]}]");
    SYNTAX ("{ f(a: 1", "[{\"message\":\"Syntax Error: Expected Name, found <EOF>.\","
                        "\"locations\":[{\"line\":1,\"column\":9}]}]");
}

static void
test_ignored_tokens (void)
{
    PARSES ("\xef\xbb\xbf{ a }");
    PARSES ("{ a \xef\xbb\xbf b }");
    PARSES (",,,{,a,,b,},,");
    PARSES ("# only a comment before\n{ a # trailing\n b }\n# after");
    PARSES ("{\r\n a\r b\n\t}");
    t_parsed_t *p = s_parse ("{ a, b,, c }", 12);
    REQUIRE (p->doc);
    CHECK_INT (((gql_def_t *) p->doc->defs.items[0])->u.op->selset->items.n, 3);
    s_free (p);
}

static void
test_locations (void)
{
    //  Lines end at LF, CR or CRLF.
    SYNTAX ("{\r\n  a\r\n  !\n}", "[{\"message\":\"Syntax Error: Expected Name, found \\\"!\\\".\","
                                 "\"locations\":[{\"line\":3,\"column\":3}]}]");
    SYNTAX ("{\r a\r\r !", "[{\"message\":\"Syntax Error: Expected Name, found \\\"!\\\".\","
                          "\"locations\":[{\"line\":4,\"column\":2}]}]");
    //  Columns count UTF-16 code units, as graphql-js does: U+00E9 is
    //  one, U+1F600 is two.
    SYNTAX ("{ f(a: \"\xc3\xa9\") ! }", "[{\"message\":\"Syntax Error: Expected Name, found \\\"!\\\".\","
                                      "\"locations\":[{\"line\":1,\"column\":13}]}]");
    SYNTAX ("{ f(a: \"\xf0\x9f\x98\x80\") ! }", "[{\"message\":\"Syntax Error: Expected Name, found \\\"!\\\".\","
                                              "\"locations\":[{\"line\":1,\"column\":14}]}]");
    //  A BOM is a character in the first column.
    SYNTAX ("\xef\xbb\xbf!", "[{\"message\":\"Syntax Error: Unexpected \\\"!\\\".\","
                             "\"locations\":[{\"line\":1,\"column\":2}]}]");
}

static void
test_syntax_errors (void)
{
    SYNTAX ("", "[{\"message\":\"Syntax Error: Unexpected <EOF>.\",\"locations\":[{\"line\":1,\"column\":1}]}]");
    SYNTAX ("   # nothing", "[{\"message\":\"Syntax Error: Unexpected <EOF>.\",\"locations\":[{\"line\":1,\"column\":13}]}]");
    SYNTAX ("{", "[{\"message\":\"Syntax Error: Expected Name, found <EOF>.\",\"locations\":[{\"line\":1,\"column\":2}]}]");
    SYNTAX ("{}", "[{\"message\":\"Syntax Error: Expected Name, found \\\"}\\\".\",\"locations\":[{\"line\":1,\"column\":2}]}]");
    SYNTAX ("query Q", "[{\"message\":\"Syntax Error: Expected \\\"{\\\", found <EOF>.\",\"locations\":[{\"line\":1,\"column\":8}]}]");
    SYNTAX ("query Q() { a }", "[{\"message\":\"Syntax Error: Expected \\\"$\\\", found \\\")\\\".\","
                               "\"locations\":[{\"line\":1,\"column\":9}]}]");
    SYNTAX ("{ f(a: ) }", "[{\"message\":\"Syntax Error: Unexpected \\\")\\\".\",\"locations\":[{\"line\":1,\"column\":8}]}]");
    SYNTAX ("{ f() }", "[{\"message\":\"Syntax Error: Expected Name, found \\\")\\\".\",\"locations\":[{\"line\":1,\"column\":5}]}]");
    SYNTAX ("{ f } x", "[{\"message\":\"Syntax Error: Unexpected Name \\\"x\\\".\",\"locations\":[{\"line\":1,\"column\":7}]}]");
    SYNTAX ("fragment on on T { x }", "[{\"message\":\"Syntax Error: Unexpected Name \\\"on\\\".\","
                                      "\"locations\":[{\"line\":1,\"column\":10}]}]");
    SYNTAX ("fragment F T { x }", "[{\"message\":\"Syntax Error: Expected \\\"on\\\", found Name \\\"T\\\".\","
                                  "\"locations\":[{\"line\":1,\"column\":12}]}]");
    SYNTAX ("query ($x: Int = $y) { f }", "[{\"message\":\"Syntax Error: Unexpected variable \\\"$y\\\" in constant "
                                          "value.\",\"locations\":[{\"line\":1,\"column\":18}]}]");
    SYNTAX ("{ ... on }", "[{\"message\":\"Syntax Error: Expected Name, found \\\"}\\\".\",\"locations\":[{\"line\":1,\"column\":10}]}]");
    SYNTAX ("{ ... }", "[{\"message\":\"Syntax Error: Expected \\\"{\\\", found \\\"}\\\".\",\"locations\":[{\"line\":1,\"column\":7}]}]");
    SYNTAX ("{ a.b }", "[{\"message\":\"Syntax Error: Unexpected character: \\\".\\\".\",\"locations\":[{\"line\":1,\"column\":4}]}]");
    SYNTAX ("{ a ~ }", "[{\"message\":\"Syntax Error: Unexpected character: \\\"~\\\".\",\"locations\":[{\"line\":1,\"column\":5}]}]");
    SYNTAX ("{ a \x01 }", "[{\"message\":\"Syntax Error: Unexpected character: U+0001.\",\"locations\":[{\"line\":1,\"column\":5}]}]");
    SYNTAX ("{ a \xc3\xa9 }", "[{\"message\":\"Syntax Error: Unexpected character: U+00E9.\",\"locations\":[{\"line\":1,\"column\":5}]}]");
    SYNTAX ("{ f(a: 'x') }", "[{\"message\":\"Syntax Error: Unexpected single quote character ('), did you mean to use "
                             "a double quote (\\\")?\",\"locations\":[{\"line\":1,\"column\":8}]}]");
    SYNTAX ("{ a \xff }", "[{\"message\":\"Syntax Error: Invalid UTF-8 in the document.\",\"locations\":[{\"line\":1,\"column\":5}]}]");
    SYNTAX ("{ f(a: \"abc", "[{\"message\":\"Syntax Error: Unterminated string.\",\"locations\":[{\"line\":1,\"column\":12}]}]");
    SYNTAX ("query Q($a: ) { f }", "[{\"message\":\"Syntax Error: Expected Name, found \\\")\\\".\","
                                   "\"locations\":[{\"line\":1,\"column\":13}]}]");
    SYNTAX ("query Q($a: [Int) { f }", "[{\"message\":\"Syntax Error: Expected \\\"]\\\", found \\\")\\\".\","
                                       "\"locations\":[{\"line\":1,\"column\":17}]}]");
    SYNTAX ("{ f @ }", "[{\"message\":\"Syntax Error: Expected Name, found \\\"}\\\".\",\"locations\":[{\"line\":1,\"column\":7}]}]");
    SYNTAX ("\"desc\" query { a }", "[{\"message\":\"Syntax Error: Unexpected Name \\\"query\\\".\","
                                    "\"locations\":[{\"line\":1,\"column\":8}]}]");
    SYNTAX ("{ \"a long string that goes on and on and on and on\" }",
            "[{\"message\":\"Syntax Error: Expected Name, found String \\\"a long string that goes on and on and on"
            "\\\"....\",\"locations\":[{\"line\":1,\"column\":3}]}]");
    SYNTAX ("{ a }}", "[{\"message\":\"Syntax Error: Unexpected \\\"}\\\".\",\"locations\":[{\"line\":1,\"column\":6}]}]");
}

static char *
s_repeat (const char *open, const char *mid, const char *close, int n)
{
    jbuf_t b;
    jbuf_init (&b, 0);
    for (int i = 0; i < n; i++)
        jbuf_puts (&b, open);
    jbuf_puts (&b, mid);
    for (int i = 0; i < n; i++)
        jbuf_puts (&b, close);
    return jbuf_take (&b, NULL);
}

static void
test_nesting_limit (void)
{
    //  Values: the selection set counts as one level.
    char *v = s_repeat ("[", "1", "]", GQL_MAX_NESTING - 1);
    char doc[4096];
    snprintf (doc, sizeof doc, "{ f(a: %s) }", v);
    free (v);
    PARSES (doc);
    v = s_repeat ("[", "1", "]", 100000);
    char *big = malloc (strlen (v) + 32);
    sprintf (big, "{ f(a: %s) }", v);
    free (v);
    char *e = s_error (big);
    CHECK_CONTAINS (e, "Syntax Error: Document is nested too deeply (more than 128 levels).");
    free (e);
    free (big);
    v = s_repeat ("{a:", "1", "}", 100000);
    big = malloc (strlen (v) + 32);
    sprintf (big, "{ f(a: %s) }", v);
    free (v);
    e = s_error (big);
    CHECK_CONTAINS (e, "nested too deeply");
    free (e);
    free (big);
    //  Selection sets and list types.
    v = s_repeat ("{ a ", "", "}", 100000);
    e = s_error (v);
    CHECK_CONTAINS (e, "nested too deeply");
    free (e);
    free (v);
    v = s_repeat ("[", "Int", "]", 100000);
    big = malloc (strlen (v) + 32);
    sprintf (big, "query ($a: %s) { a }", v);
    free (v);
    e = s_error (big);
    CHECK_CONTAINS (e, "nested too deeply");
    free (e);
    free (big);
}

static void
test_type_system_documents (void)
{
    const char *sdl =
        "\"\"\"\nThe schema\n\"\"\"\nschema @a { query: Q mutation: M subscription: S }\n"
        "extend schema @b\n"
        "\"a scalar\" scalar Time @specifiedBy(url: \"https://example.com\")\n"
        "extend scalar Time @c\n"
        "type T implements & I & J @d {\n  \"field\" f(\"arg\" a: Int = 1 @e, b: [String!]! = [\"x\"]): T @deprecated\n}\n"
        "extend type T implements K { g: Int }\n"
        "extend type T @f\n"
        "interface I implements J { f(a: Int): T }\n"
        "extend interface I { h: Int }\n"
        "union U @g = | A | B\n"
        "extend union U = C\n"
        "enum E { A @deprecated(reason: \"no\") \"doc\" B }\n"
        "extend enum E { C }\n"
        "input In { a: Int = 1, b: In }\n"
        "extend input In { c: String }\n"
        "directive @x(a: Int = 3) repeatable on FIELD | QUERY\n"
        "directive @y on | FIELD_DEFINITION | ENUM_VALUE\n";
    t_parsed_t *p = s_parse (sdl, strlen (sdl));
    REQUIRE (p->doc);
    CHECK_INT (p->doc->defs.n, 17);
    const gql_def_t *t = p->doc->defs.items[4];
    REQUIRE (t->kind == GQL_D_TYPE);
    CHECK_INT (t->u.type->kind, GQL_K_OBJECT);
    CHECK_INT (t->u.type->interfaces.n, 2);
    const gql_fdef_t *f = t->u.type->fields.items[0];
    CHECK_STR (f->description, "field");
    CHECK_INT (f->args.n, 2);
    CHECK_STR (((gql_ivdef_t *) f->args.items[0])->description, "arg");
    CHECK_STR (((gql_def_t *) p->doc->defs.items[0])->u.schema->directives.n ? "ok" : "no", "ok");
    const gql_def_t *dd = p->doc->defs.items[15];
    REQUIRE (dd->kind == GQL_D_DIRECTIVE);
    CHECK (dd->u.directive->repeatable);
    CHECK_INT (dd->u.directive->locations.n, 2);
    s_free (p);
    SYNTAX ("enum E { true }", "[{\"message\":\"Syntax Error: Name \\\"true\\\" is reserved and cannot be used for an "
                               "enum value.\",\"locations\":[{\"line\":1,\"column\":10}]}]");
    SYNTAX ("directive @x on NOWHERE", "[{\"message\":\"Syntax Error: Unexpected Name \\\"NOWHERE\\\".\","
                                       "\"locations\":[{\"line\":1,\"column\":17}]}]");
    SYNTAX ("extend type T", "[{\"message\":\"Syntax Error: Unexpected <EOF>.\",\"locations\":[{\"line\":1,\"column\":14}]}]");
    SYNTAX ("type T { f: Int = 1 }", "[{\"message\":\"Syntax Error: Expected Name, found \\\"=\\\".\","
                                     "\"locations\":[{\"line\":1,\"column\":17}]}]");
    SYNTAX ("type T { f(a: Int = $v): Int }", "[{\"message\":\"Syntax Error: Unexpected variable \\\"$v\\\" in constant "
                                              "value.\",\"locations\":[{\"line\":1,\"column\":21}]}]");
    SYNTAX ("extend \"doc\" type T", "[{\"message\":\"Syntax Error: Unexpected String \\\"doc\\\".\","
                                     "\"locations\":[{\"line\":1,\"column\":8}]}]");
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_spec_examples);
    RUN (test_everything_at_once);
    RUN (test_value_kinds);
    RUN (test_string_escapes);
    RUN (test_unicode_escapes);
    RUN (test_block_strings);
    RUN (test_numbers);
    RUN (test_ignored_tokens);
    RUN (test_locations);
    RUN (test_syntax_errors);
    RUN (test_nesting_limit);
    RUN (test_type_system_documents);
    return TEST_RESULT ();
}
