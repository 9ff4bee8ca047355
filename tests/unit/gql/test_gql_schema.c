/*  test_gql_schema.c: loading SDL: every kind of definition and extension,
 *  root types, and the schema errors an operator should get (unknown and
 *  duplicate names, misplaced types, implementations, unions, directives,
 *  default values, input cycles).
 */
#include "gqltest.h"

#define LOADS(sdl)                                                               \
    do {                                                                         \
        char *t_e = t_schema_error (sdl);                                        \
        if (t_e) {                                                               \
            fprintf (stderr, "%s:%d: expected to load, got: %s\n", __FILE__, __LINE__, t_e); \
            t_failures++;                                                        \
        }                                                                        \
        free (t_e);                                                              \
    } while (0)

#define FAILS(sdl, msg)                                                          \
    do {                                                                         \
        char *t_e = t_schema_error (sdl);                                        \
        CHECK (t_e != NULL);                                                     \
        CHECK_CONTAINS (t_e, msg);                                               \
        free (t_e);                                                              \
    } while (0)

#define SUB "type Subscription { s: Int }\n"

static void
test_example_schema (void)
{
    const char *sdl = "type Message { id: ID!  text: String!  author: User }\n"
                      "type User { name: String! }\n"
                      "type Subscription {\n"
                      "  messageAdded(channel: String!): Message! @topic(name: \"chat.{channel}\")\n"
                      "}\n";
    gql_schema_t *s = t_schema (sdl);
    REQUIRE (s);
    CHECK_STR (s->subscription->name, "Subscription");
    CHECK (s->query == NULL);
    const gql_type_t *m = gql_schema_type (s, "Message");
    REQUIRE (m);
    CHECK_INT (m->fields.n, 3);
    CHECK (gql_schema_type (s, "Int") && gql_schema_type (s, "Float") && gql_schema_type (s, "String")
           && gql_schema_type (s, "Boolean") && gql_schema_type (s, "ID"));
    const gql_field_t *f = gql_type_field (s->subscription, "messageAdded");
    REQUIRE (f && f->topic);
    CHECK_INT (f->topic->nsegs, 2);
    gql_schema_destroy (&s);
    gql_schema_destroy (&s);        //  NULL is fine
    CHECK (s == NULL);
}

static void
test_every_definition_kind (void)
{
    LOADS ("\"\"\"\nThe root\n\"\"\"\nschema { query: Q subscription: S }\n"
           "\"A time\" scalar Time @specifiedBy(url: \"https://tools.ietf.org/html/rfc3339\")\n"
           "interface Node { id: ID! }\n"
           "interface Resource implements Node { id: ID! url: String }\n"
           "type Image implements Resource & Node { id: ID! url: String width(unit: Unit = PX): Int "
           "  old: String @deprecated(reason: \"use url\") }\n"
           "type Q { node(id: ID!): Node }\n"
           "type S { changed(filter: Filter = {kinds: [IMAGE]}): Node @topic(name: \"changes\") "
           "  legacy: Image @deprecated }\n"
           "union Any = | Image\n"
           "enum Unit { PX EM @deprecated }\n"
           "enum Kind { IMAGE }\n"
           "input Filter { kinds: [Kind!] = [] since: Time limit: Int = 10 @deprecated }\n"
           "directive @cache(ttl: Int = 60) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR\n"
           "extend type Image @cache(ttl: 5) @cache { height: Int }\n"
           "extend interface Node @cache\n"
           "extend union Any = Q\n"
           "extend enum Kind { VIDEO }\n"
           "extend input Filter { text: String }\n"
           "extend scalar Time @cache\n"
           "type M { m: Int }\n"
           "extend schema { mutation: M }\n");
    gql_schema_t *s = t_schema ("type Subscription { a: T } type T { x: Int } extend type T { y: Int }");
    REQUIRE (s);
    CHECK_INT (gql_schema_type (s, "T")->fields.n, 2);
    gql_schema_destroy (&s);
}

static void
test_root_types (void)
{
    gql_schema_t *s = t_schema ("schema { subscription: Events query: Root } type Events { e: Int } type Root { r: Int }"
                                " type Subscription { ignored: Int }");
    REQUIRE (s);
    CHECK_STR (s->subscription->name, "Events");
    CHECK_STR (s->query->name, "Root");
    gql_schema_destroy (&s);
    FAILS ("type Query { a: Int }", "the schema has no subscription root type");
    FAILS ("schema { query: Query } type Query { a: Int } type Subscription { s: Int }",
           "the schema has no subscription root type");
    FAILS ("schema { subscription: Nope } type S { a: Int }", "line 1, column 10: unknown type \"Nope\"");
    FAILS ("schema { subscription: E } enum E { A }", "the subscription root type must be an object type, and \"E\" is an enum");
    FAILS ("interface Subscription { a: Int }", "the subscription root type must be an object type");
    FAILS ("schema { subscription: S } schema { subscription: S } type S { a: Int }",
           "there can be only one schema definition");
    FAILS ("schema { subscription: S subscription: S } type S { a: Int }",
           "the subscription root type is defined more than once");
    FAILS ("schema { query: S subscription: S } type S { a: Int }",
           "\"S\" cannot be both the query and the subscription root type");
}

static void
test_unknown_and_duplicate_names (void)
{
    FAILS ("type Message { id: ID! }\ntype Subscription {\n  m: Mesage\n}",
           "line 3, column 6: unknown type \"Mesage\". Did you mean \"Message\"?");
    FAILS (SUB "type T { a: [[Nope!]] }", "unknown type \"Nope\"");
    FAILS (SUB "type T { a(x: Nope): Int }", "unknown type \"Nope\"");
    FAILS (SUB "type T { a: Int } type T { b: Int }", "line 2, column 24: type \"T\" is defined more than once");
    FAILS (SUB "scalar String", "type \"String\" is built in and cannot be redefined");
    FAILS (SUB "type T { a: Int a: String }", "field \"T.a\" is defined more than once");
    FAILS (SUB "type T { a: Int } extend type T { a: Int }", "field \"T.a\" is defined more than once");
    FAILS (SUB "type T { a(x: Int, x: Int): Int }", "argument \"T.a(x:)\" is defined more than once");
    FAILS (SUB "enum E { A B A }", "enum value \"E.A\" is defined more than once");
    FAILS (SUB "input I { a: Int a: Int }", "input field \"I.a\" is defined more than once");
    FAILS (SUB "directive @d on FIELD directive @d on FIELD", "directive \"@d\" is defined more than once");
    FAILS (SUB "directive @skip(if: Boolean!) on FIELD", "directive \"@skip\" is built in and cannot be redefined");
    FAILS (SUB "directive @deprecated on FIELD", "directive \"@deprecated\" is built in and cannot be redefined");
    FAILS (SUB "type A { a: Int } union U = A | A", "union \"U\" includes \"A\" more than once");
    FAILS (SUB "interface I { a: Int } type T implements I & I { a: Int }", "type \"T\" implements \"I\" more than once");
}

static void
test_reserved_names (void)
{
    FAILS (SUB "type __T { a: Int }", "name \"__T\" is reserved: names starting with \"__\" belong to introspection");
    FAILS (SUB "type T { __a: Int }", "name \"__a\" is reserved");
    FAILS (SUB "type T { a(__x: Int): Int }", "name \"__x\" is reserved");
    FAILS (SUB "enum E { __A }", "name \"__A\" is reserved");
    FAILS (SUB "directive @__d on FIELD", "name \"__d\" is reserved");
}

static void
test_input_and_output_types (void)
{
    LOADS (SUB "input I { a: Int e: E i: I } enum E { A } scalar S type T { a(i: I, e: E, s: S): E }");
    FAILS (SUB "input I { a: Int } type T { f: I }",
           "the type of field \"T.f\" must be an output type, not input object \"I\"");
    FAILS (SUB "type O { a: Int } type T { f(a: O): Int }",
           "the type of argument \"T.f(a:)\" must be an input type, not object type \"O\"");
    FAILS (SUB "type O { a: Int } input I { o: [O] }",
           "the type of input field \"I.o\" must be an input type, not object type \"O\"");
    FAILS (SUB "union U = T type T { a: Int } directive @d(u: U) on FIELD",
           "the type of argument \"@d(u:)\" must be an input type, not union \"U\"");
}

static void
test_union_members (void)
{
    LOADS (SUB "type A { a: Int } type B { b: Int } union U = A | B");
    FAILS (SUB "interface I { a: Int } union U = I",
           "union \"U\" can only include object types, and \"I\" is an interface");
    FAILS (SUB "scalar X union U = X", "union \"U\" can only include object types, and \"X\" is a scalar");
    FAILS (SUB "union U = Missing", "unknown type \"Missing\"");
    FAILS (SUB "union U", "union \"U\" must have one or more member types");
}

static void
test_interface_implementation (void)
{
    //  Covariant field types, extra optional arguments.
    LOADS (SUB "interface I { a: I b: [Int] c: U d(x: Int): Int }\n"
               "type A implements I { a: A! b: [Int!]! c: A d(x: Int, y: Int): Int }\n"
               "union U = A");
    //  Interfaces implementing interfaces, transitively declared.
    LOADS (SUB "interface N { id: ID! } interface R implements N { id: ID! u: String }\n"
               "type T implements R & N { id: ID! u: String }");
    FAILS (SUB "interface I { a: Int b: Int } type T implements I { a: Int }",
           "interface field \"I.b\" expected but \"T\" does not provide it");
    FAILS (SUB "interface I { a: Int } type T implements I { a: String }",
           "interface field \"I.a\" expects type \"Int\" but \"T.a\" is type \"String\"");
    FAILS (SUB "interface I { a: Int! } type T implements I { a: Int }",
           "interface field \"I.a\" expects type \"Int!\" but \"T.a\" is type \"Int\"");
    FAILS (SUB "interface I { a: [Int] } type T implements I { a: Int }", "expects type \"[Int]\"");
    FAILS (SUB "interface I { a(x: Int): Int } type T implements I { a: Int }",
           "interface field argument \"I.a(x:)\" expected but \"T.a\" does not provide it");
    FAILS (SUB "interface I { a(x: Int): Int } type T implements I { a(x: Int!): Int }",
           "interface field argument \"I.a(x:)\" expects type \"Int\" but \"T.a(x:)\" is type \"Int!\"");
    FAILS (SUB "interface I { a: Int } type T implements I { a(y: Int!): Int }",
           "field \"T.a\" includes required argument \"y\" that is missing from the interface field \"I.a\"");
    FAILS (SUB "interface N { id: ID } interface R implements N { id: ID } type T implements R { id: ID }",
           "type \"T\" must implement \"N\" because it is implemented by \"R\"");
    FAILS (SUB "type O { a: Int } type T implements O { a: Int }",
           "type \"T\" cannot implement \"O\": it is an object type, not an interface");
    FAILS (SUB "interface I implements I { a: Int }", "type \"I\" cannot implement itself");
}

static void
test_empty_types (void)
{
    FAILS (SUB "type T", "object type \"T\" must define one or more fields");
    FAILS (SUB "interface I", "interface \"I\" must define one or more fields");
    FAILS (SUB "enum E", "enum \"E\" must define one or more values");
    FAILS (SUB "input I", "input object \"I\" must define one or more fields");
    //  An extension may supply them.
    LOADS (SUB "type T extend type T { a: Int }");
}

static void
test_extensions (void)
{
    LOADS (SUB "enum E { A } extend enum E { B } input I { a: Int } extend input I { b: Int }");
    FAILS (SUB "extend type Nope { a: Int }", "cannot extend type \"Nope\": it is not defined");
    FAILS (SUB "enum E { A } extend type E { a: Int }", "cannot extend \"E\" as an object type: it is an enum");
    FAILS (SUB "type T { a: Int } extend input T { a: Int }", "cannot extend \"T\" as an input object: it is an object type");
    FAILS (SUB "enum E { A } extend enum E { A }", "enum value \"E.A\" is defined more than once");
}

static void
test_directives_in_schema (void)
{
    LOADS (SUB "type T { a: Int @deprecated b(x: Int @deprecated): Int } enum E { A @deprecated(reason: \"x\") }"
               " input I { a: Int @deprecated } scalar D @specifiedBy(url: \"u\")");
    FAILS (SUB "type T @deprecated { a: Int }", "Directive \"@deprecated\" may not be used on OBJECT.");
    FAILS (SUB "type T { a: Int @nope }", "Unknown directive \"@nope\".");
    FAILS (SUB "type T { a: Int @deprecated @deprecated }",
           "The directive \"@deprecated\" can only be used once at this location.");
    FAILS (SUB "type T { a: Int @deprecated(reason: 1) }", "Expected value of type \"String\", found 1.");
    FAILS (SUB "type T { a: Int @deprecated(why: \"x\") }", "Unknown argument \"why\" on directive \"@deprecated\".");
    FAILS (SUB "scalar D @specifiedBy", "Directive \"@specifiedBy\" argument \"url\" of type \"String!\" is required");
    FAILS (SUB "directive @d(a: Int!) on FIELD_DEFINITION type T { a: Int @d }",
           "Directive \"@d\" argument \"a\" of type \"Int!\" is required, but it was not provided.");
    LOADS (SUB "directive @d repeatable on FIELD_DEFINITION type T { a: Int @d @d }");
    FAILS (SUB "directive @d on FIELD | FIELD", "directive \"@d\" lists location FIELD more than once");
    FAILS ("type Subscription { s: Int } schema @nope { subscription: Subscription }", "Unknown directive \"@nope\".");
}

static void
test_topic_declaration (void)
{
    //  @topic works without a declaration, and with the right one.
    LOADS ("type Subscription { a(x: ID): Int @topic(name: \"a.{x}\") }");
    LOADS ("directive @topic(name: String!) on FIELD_DEFINITION\ntype Subscription { a: Int @topic(name: \"a\") }");
    LOADS ("\"Where events come from\"\ndirective @topic(name: String!, note: String) on FIELD_DEFINITION | OBJECT\n"
           "type Subscription { a: Int @topic(name: \"a\") }");
    FAILS ("directive @topic(name: String) on FIELD_DEFINITION\ntype Subscription { a: Int }",
           "directive \"@topic\" must be declared as \"directive @topic(name: String!) on FIELD_DEFINITION\"");
    FAILS ("directive @topic(name: String!) on OBJECT\ntype Subscription { a: Int }", "must be declared as");
    FAILS ("directive @topic(name: String!, extra: Int!) on FIELD_DEFINITION\ntype Subscription { a: Int }",
           "directive \"@topic\" may not have other required arguments");
    FAILS ("type Subscription { a: Int @topic }", "Directive \"@topic\" argument \"name\" of type \"String!\" is required");
    FAILS ("type Subscription { a: Int @topic(name: 5) }", "Expected value of type \"String\", found 5.");
    FAILS ("type Subscription { a: Int } type T { b: Int @topic(name: \"x\") }",
           "@topic may only be used on fields of the subscription root type \"Subscription\"");
    FAILS ("type Subscription @topic(name: \"x\") { a: Int }", "Directive \"@topic\" may not be used on OBJECT.");
}

static void
test_default_values (void)
{
    LOADS (SUB "input I { a: Int = 1 b: [Int] = 2 c: I e: E = B } enum E { A B }"
               " input J { i: I = {a: 3} }"
               " type T { f(i: I = {b: [1, 2]}, s: String = \"x\", n: Int = null): Int }");
    FAILS (SUB "type T { f(a: Int = \"x\"): Int }", "Expected value of type \"Int\", found \"x\".");
    FAILS (SUB "type T { f(a: Int! = null): Int }", "Expected value of type \"Int!\", found null.");
    FAILS (SUB "enum E { A } type T { f(e: E = C): Int }", "Value \"C\" does not exist in \"E\" enum.");
    FAILS (SUB "input I { a: Int! } type T { f(i: I = {}): Int }",
           "Field \"I.a\" of required type \"Int!\" was not provided.");
    FAILS (SUB "input I { a: Int } type T { f(i: I = {b: 1}): Int }", "Field \"b\" is not defined by type \"I\".");
    FAILS (SUB "directive @d(a: Int = 1.5) on FIELD", "Expected value of type \"Int\", found 1.5.");
    //  A default that refers back to itself fails cleanly.
    FAILS (SUB "input I { a: I = {} } type T { f(i: I = {}): Int }", "nested too deeply");
}

static void
test_input_cycles (void)
{
    LOADS (SUB "input A { b: B } input B { a: A! }");
    LOADS (SUB "input A { self: [A!]! }");
    FAILS (SUB "input A { self: A! }",
           "input object \"A\" cannot refer to itself through a series of non-null fields: \"self\"");
    FAILS (SUB "input A { b: B! } input B { c: C! } input C { a: A! }",
           "input object \"A\" cannot refer to itself through a series of non-null fields: \"b.c.a\"");
}

static void
test_schema_errors_text (void)
{
    //  Executable definitions do not belong in a schema.
    FAILS (SUB "query { s }", "line 2, column 1: executable definitions (operations and fragments) are not "
                              "allowed in a schema");
    FAILS (SUB "fragment F on Subscription { s }", "executable definitions");
    //  Syntax errors come with their position.
    FAILS ("type Subscription {\n  a: Int\n  b:\n}", "line 4, column 1: Syntax Error: Expected Name, found \"}\".");
    FAILS ("", "line 1, column 1: Syntax Error: Unexpected <EOF>.");
    //  Several problems are reported together, one per line.
    char *e = t_schema_error (SUB "type A { a: Xyzzy }\ntype B { b: Plugh }");
    CHECK_CONTAINS (e, "line 2, column 13: unknown type \"Xyzzy\"\nline 3, column 13: unknown type \"Plugh\"");
    free (e);
    //  A NULL err pointer is allowed.
    CHECK (gql_schema_new ("type X", 6, NULL) == NULL);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_example_schema);
    RUN (test_every_definition_kind);
    RUN (test_root_types);
    RUN (test_unknown_and_duplicate_names);
    RUN (test_reserved_names);
    RUN (test_input_and_output_types);
    RUN (test_union_members);
    RUN (test_interface_implementation);
    RUN (test_empty_types);
    RUN (test_extensions);
    RUN (test_directives_in_schema);
    RUN (test_topic_declaration);
    RUN (test_default_values);
    RUN (test_input_cycles);
    RUN (test_schema_errors_text);
    return TEST_RESULT ();
}
