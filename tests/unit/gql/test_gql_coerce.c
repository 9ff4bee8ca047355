/*  test_gql_coerce.c: CoerceVariableValues (spec 6.1.2) from JSON:
 *  scalars, enums, lists, input objects, non-null, defaults, and the
 *  errors with their paths and locations.
 */
#include "gqltest.h"

static const char *SDL =
    "enum Color { RED GREEN }\n"
    "scalar JSON\n"
    "input Point { x: Int! y: Int = 7 label: String tags: [String!] }\n"
    "input Filter { point: Point c: Color! = RED nested: Filter }\n"
    "type Subscription { s(p: Point): Int }\n";

static gql_schema_t *S;

static void
s_print (jbuf_t *b, const gql_cval_t *v)
{
    char tmp[64];
    if (!v) {
        jbuf_puts (b, "absent");
        return;
    }
    switch (v->kind) {
        case GQL_C_NULL: jbuf_puts (b, "null"); break;
        case GQL_C_INT: snprintf (tmp, sizeof tmp, "i%lld", (long long) v->i); jbuf_puts (b, tmp); break;
        case GQL_C_FLOAT: snprintf (tmp, sizeof tmp, "f%g", v->f); jbuf_puts (b, tmp); break;
        case GQL_C_BOOLEAN: jbuf_puts (b, v->i ? "true" : "false"); break;
        case GQL_C_STRING: jbuf_putc (b, 's'); jbuf_json_string (b, v->s, v->len); break;
        case GQL_C_ENUM: jbuf_putc (b, 'e'); jbuf_put (b, v->s, v->len); break;
        case GQL_C_LIST:
        case GQL_C_OBJECT:
            jbuf_putc (b, v->kind == GQL_C_LIST ? '[' : '{');
            for (uint32_t i = 0; i < v->n; i++) {
                if (i)
                    jbuf_putc (b, ',');
                if (v->kind == GQL_C_OBJECT) {
                    jbuf_puts (b, v->keys[i]);
                    jbuf_putc (b, ':');
                }
                s_print (b, v->items[i]);
            }
            jbuf_putc (b, v->kind == GQL_C_LIST ? ']' : '}');
            break;
    }
}

//  Coerce the variables of the document's first operation: the values,
//  comma-separated, or the errors JSON. Validation is run for the types
//  it resolves; its complaints (unused variables) are ignored here.
static char *
s_coerce_json (const char *doc, const json_t *vars)
{
    gql_arena_t a;
    gql_arena_init (&a, 4096);
    gql_errs_t e;
    gql_errs_init (&e, &a);
    gql_src_t src = { .text = doc, .len = strlen (doc) };
    char *out = NULL;
    gql_doc_t *d = gql_parse (&a, doc, strlen (doc), &e);
    if (!d) {
        out = gql_errs_json (&e, &src);
        goto done;
    }
    gql_validate (&a, S, d, &e);
    gql_errs_init (&e, &a);
    const gql_operation_t *op = ((gql_def_t *) d->defs.items[0])->u.op;
    gql_vars_t vv = { 0 };
    if (gql_coerce_variables (&a, &e, op, vars, &vv) != 0) {
        out = gql_errs_json (&e, &src);
        goto done;
    }
    jbuf_t b;
    jbuf_init (&b, 0);
    for (uint32_t i = 0; i < op->vardefs.n; i++) {
        if (i)
            jbuf_putc (&b, ',');
        s_print (&b, vv.vals[i]);
    }
    out = jbuf_take (&b, NULL);
    jbuf_free (&b);
done:
    gql_arena_free (&a);
    return out;
}

static char *
s_coerce (const char *doc, const char *vars)
{
    json_t *v = vars ? json_loads (vars, JSON_DECODE_ANY, NULL) : NULL;
    char *out = s_coerce_json (doc, v);
    json_decref (v);
    return out;
}

#define COERCES(type, json, expected)                                            \
    do {                                                                         \
        char t_doc[256], t_vars[512];                                            \
        snprintf (t_doc, sizeof t_doc, "subscription ($v: %s) { s }", type);     \
        snprintf (t_vars, sizeof t_vars, "{\"v\":%s}", json);                    \
        char *t_out = s_coerce (t_doc, t_vars);                                  \
        CHECK_STR (t_out, expected);                                             \
        free (t_out);                                                            \
    } while (0)

#define REFUSES(type, json, message)                                             \
    do {                                                                         \
        char t_doc[256], t_vars[512];                                            \
        snprintf (t_doc, sizeof t_doc, "subscription ($v: %s) { s }", type);     \
        snprintf (t_vars, sizeof t_vars, "{\"v\":%s}", json);                    \
        char *t_out = s_coerce (t_doc, t_vars);                                  \
        CHECK (t_is_error_list (t_out));                                         \
        CHECK_CONTAINS (t_out, message);                                         \
        free (t_out);                                                            \
    } while (0)

static void
test_int (void)
{
    COERCES ("Int", "5", "i5");
    COERCES ("Int", "-2147483648", "i-2147483648");
    COERCES ("Int", "2147483647", "i2147483647");
    COERCES ("Int", "3.0", "i3");
    COERCES ("Int", "null", "null");
    REFUSES ("Int", "2147483648",
             "Variable \"$v\" got invalid value 2147483648; Int cannot represent non 32-bit signed integer value.");
    REFUSES ("Int", "1e12", "Int cannot represent non 32-bit signed integer value.");
    REFUSES ("Int", "1.5", "Variable \"$v\" got invalid value 1.5; Int cannot represent non-integer value.");
    REFUSES ("Int", "\"5\"", "Variable \"$v\" got invalid value \"5\"; Int cannot represent non-integer value.");
    REFUSES ("Int", "true", "Int cannot represent non-integer value.");
}

static void
test_float (void)
{
    COERCES ("Float", "1", "f1");
    COERCES ("Float", "1.5", "f1.5");
    COERCES ("Float", "-2e3", "f-2000");
    REFUSES ("Float", "\"1.5\"", "Float cannot represent non numeric value.");
    REFUSES ("Float", "false", "Float cannot represent non numeric value.");
}

static void
test_string_boolean_id (void)
{
    COERCES ("String", "\"x\\u00e9\"", "s\"x\xc3\xa9\"");
    REFUSES ("String", "5", "String cannot represent a non string value.");
    REFUSES ("String", "[\"a\"]", "String cannot represent a non string value.");
    COERCES ("Boolean", "true", "true");
    COERCES ("Boolean", "false", "false");
    REFUSES ("Boolean", "1", "Boolean cannot represent a non boolean value.");
    REFUSES ("Boolean", "\"true\"", "Boolean cannot represent a non boolean value.");
    COERCES ("ID", "\"abc\"", "s\"abc\"");
    COERCES ("ID", "42", "s\"42\"");
    COERCES ("ID", "-42", "s\"-42\"");
    COERCES ("ID", "42.0", "s\"42\"");
    REFUSES ("ID", "4.2", "ID cannot represent a non-string and non-integer value.");
    REFUSES ("ID", "true", "ID cannot represent a non-string and non-integer value.");
}

static void
test_enum_and_custom (void)
{
    COERCES ("Color", "\"GREEN\"", "eGREEN");
    REFUSES ("Color", "\"BLUE\"", "Value \"BLUE\" does not exist in \"Color\" enum.");
    REFUSES ("Color", "\"red\"", "Did you mean \"RED\"?");
    REFUSES ("Color", "0", "Enum \"Color\" cannot represent non-string value.");
    COERCES ("JSON", "{\"a\":[1,\"x\",null,true,2.5]}", "{a:[i1,s\"x\",null,true,f2.5]}");
    COERCES ("JSON", "\"plain\"", "s\"plain\"");
}

static void
test_lists (void)
{
    COERCES ("[Int]", "[1,2,null]", "[i1,i2,null]");
    COERCES ("[Int]", "[]", "[]");
    //  One value where a list goes is a list of one.
    COERCES ("[Int]", "3", "[i3]");
    COERCES ("[[Int]]", "[[1],[2,3],null]", "[[i1],[i2,i3],null]");
    COERCES ("[[Int]]", "4", "[[i4]]");
    COERCES ("[Int!]!", "[1]", "[i1]");
    REFUSES ("[Int!]", "[1,null]",
             "Variable \"$v\" got invalid value null at \"v[1]\"; Expected non-nullable type \"Int!\" not to be null.");
    REFUSES ("[Int]", "[1,\"x\"]", "Variable \"$v\" got invalid value \"x\" at \"v[1]\"; Int cannot represent");
    REFUSES ("[[Int]]", "[[1],[2,\"x\"]]", "at \"v[1][1]\"");
}

static void
test_input_objects (void)
{
    //  Defaults fill missing fields; fields without a value or default stay out.
    COERCES ("Point", "{\"x\":1}", "{x:i1,y:i7}");
    COERCES ("Point", "{\"x\":1,\"y\":null,\"label\":\"l\",\"tags\":\"t\"}", "{x:i1,y:null,label:s\"l\",tags:[s\"t\"]}");
    COERCES ("Filter", "{\"point\":{\"x\":2},\"nested\":{\"c\":\"GREEN\"}}", "{point:{x:i2,y:i7},c:eRED,nested:{c:eGREEN}}");
    REFUSES ("Point", "{\"x\":1,\"z\":2}",
             "Variable \"$v\" got invalid value {\"x\":1,\"z\":2}; Field \"z\" is not defined by type \"Point\".");
    REFUSES ("Point", "{}", "Field \"x\" of required type \"Int!\" was not provided.");
    REFUSES ("Point", "{\"x\":null}", "at \"v.x\"; Expected non-nullable type \"Int!\" not to be null.");
    REFUSES ("Filter", "{\"point\":{\"x\":\"1\"}}", "Variable \"$v\" got invalid value \"1\" at \"v.point.x\"; "
             "Int cannot represent non-integer value.");
    REFUSES ("Filter", "{\"point\":{\"x\":1,\"tags\":[\"a\",7]}}", "at \"v.point.tags[1]\"");
    REFUSES ("Filter", "\"f\"", "Expected type \"Filter\" to be an object.");
    REFUSES ("Filter", "{\"nested\":{\"c\":null}}", "at \"v.nested.c\"; Expected non-nullable type \"Color!\"");
}

static void
test_non_null_and_defaults (void)
{
    char *out = s_coerce ("subscription ($v: Int!) { s }", "{}");
    CHECK_STR (out, "[{\"message\":\"Variable \\\"$v\\\" of required type \\\"Int!\\\" was not provided.\","
                    "\"locations\":[{\"line\":1,\"column\":15}]}]");
    free (out);
    out = s_coerce ("subscription ($v: Int!) { s }", "{\"v\":null}");
    CHECK_STR (out, "[{\"message\":\"Variable \\\"$v\\\" of non-null type \\\"Int!\\\" must not be null.\","
                    "\"locations\":[{\"line\":1,\"column\":15}]}]");
    free (out);
    //  Defaults apply when the variable is absent, not when it is null.
    out = s_coerce ("subscription ($a: Int = 3, $b: Int = 3, $c: Int, $d: Point = {x: 5}) { s }", "{\"b\":null}");
    CHECK_STR (out, "i3,null,absent,{x:i5,y:i7}");
    free (out);
    //  No variables at all (NULL), and extra ones, are fine.
    out = s_coerce ("subscription ($a: Int = 1) { s }", NULL);
    CHECK_STR (out, "i1");
    free (out);
    out = s_coerce ("subscription ($a: Int) { s }", "{\"a\":2,\"zzz\":[]}");
    CHECK_STR (out, "i2");
    free (out);
    out = s_coerce ("subscription ($a: Int) { s }", "[1]");
    CHECK_CONTAINS (out, "Variables must be provided as a JSON object.");
    free (out);
    //  Every variable's errors are reported.
    out = s_coerce ("subscription ($a: Int!, $b: Int!) { s }", "{}");
    CHECK_CONTAINS (out, "Variable \"$a\"");
    CHECK_CONTAINS (out, "Variable \"$b\"");
    free (out);
}

static void
test_deep_values (void)
{
    //  Custom scalars take JSON as deep as jansson parses, but coercion
    //  stops at GQL_MAX_NESTING.
    jbuf_t b;
    jbuf_init (&b, 0);
    jbuf_puts (&b, "{\"v\":");
    for (int i = 0; i < 1000; i++)
        jbuf_putc (&b, '[');
    for (int i = 0; i < 1000; i++)
        jbuf_putc (&b, ']');
    jbuf_putc (&b, '}');
    jbuf_putc (&b, 0);
    char *out = s_coerce ("subscription ($v: JSON) { s }", b.data);
    CHECK_CONTAINS (out, "the value is nested too deeply.");
    free (out);
    out = s_coerce ("subscription ($v: [Int]) { s }", b.data);
    CHECK_CONTAINS (out, "at \"v[0]\"; Int cannot represent non-integer value.");
    free (out);
    jbuf_free (&b);
}

//  Through gql_prepare: variable errors are GraphQL errors that point at
//  the variable's definition.
static void
test_prepare_variable_errors (void)
{
    char *e = t_errors (S, "subscription Q(\n  $p: Point!\n) { s(p: $p) }", "{\"p\":{\"y\":1}}");
    CHECK_STR (e, "[{\"message\":\"Variable \\\"$p\\\" got invalid value {\\\"y\\\":1}; Field \\\"x\\\" of required "
                  "type \\\"Int!\\\" was not provided.\",\"locations\":[{\"line\":2,\"column\":3}]}]");
    free (e);
    e = t_errors (S, "subscription Q($p: Point) { s(p: $p) }", "{\"p\":{\"x\":1}}");
    CHECK (e == NULL);
    free (e);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    S = t_schema (SDL);
    if (!S)
        return 1;
    RUN (test_int);
    RUN (test_float);
    RUN (test_string_boolean_id);
    RUN (test_enum_and_custom);
    RUN (test_lists);
    RUN (test_input_objects);
    RUN (test_non_null_and_defaults);
    RUN (test_deep_values);
    RUN (test_prepare_variable_errors);
    gql_schema_destroy (&S);
    return TEST_RESULT ();
}
