/*  test_gql_validate.c: every validation rule of spec section 5 that
 *  applies to subscriptions, each with a document that passes and one
 *  that fails, plus operation selection and the engine's limits.
 *  docs/graphql.md lists the rules beside these test names.
 */
#include "gqltest.h"

//  The spec's example schema (section 5), with a subscription root.
static const char *SDL =
    "scalar JSON\n"
    "enum DogCommand { SIT, DOWN, HEEL }\n"
    "enum CatCommand { JUMP }\n"
    "interface Sentient { name: String! }\n"
    "interface Pet { name: String! }\n"
    "type Alien implements Sentient { name: String! homePlanet: String }\n"
    "type Human implements Sentient { name: String! pets: [Pet!] }\n"
    "type Dog implements Pet {\n"
    "  name: String!\n  nickname: String\n  barkVolume: Int\n"
    "  doesKnowCommand(dogCommand: DogCommand!): Boolean!\n"
    "  isHouseTrained(atOtherHomes: Boolean): Boolean!\n"
    "  owner: Human\n}\n"
    "type Cat implements Pet {\n"
    "  name: String!\n  nickname: String\n"
    "  doesKnowCommand(catCommand: CatCommand!): Boolean!\n  meowVolume: Int\n}\n"
    "union CatOrDog = Cat | Dog\n"
    "union DogOrHuman = Dog | Human\n"
    "union HumanOrAlien = Human | Alien\n"
    "input ComplexInput { name: String owner: String requiredField: Boolean! intField: Int "
    "  nested: ComplexInput listField: [String!] }\n"
    "input FindDogInput { name: String owner: String }\n"
    "type Arguments {\n"
    "  multipleRequirements(x: Int!, y: Int!): Int!\n"
    "  booleanArgField(booleanArg: Boolean): Boolean\n"
    "  floatArgField(floatArg: Float): Float\n"
    "  intArgField(intArg: Int): Int\n"
    "  nonNullBooleanArgField(nonNullBooleanArg: Boolean!): Boolean!\n"
    "  booleanListArgField(booleanListArg: [Boolean]!): [Boolean]\n"
    "  optionalNonNullBooleanArgField(optionalBooleanArg: Boolean! = false): Boolean!\n"
    "  complexArgField(complexArg: ComplexInput): String\n"
    "  idArgField(idArg: ID): ID\n"
    "  stringArgField(stringArg: String): String\n"
    "  stringListArgField(stringListArg: [String]): String\n"
    "  enumArgField(enumArg: DogCommand): DogCommand\n"
    "  jsonArgField(j: JSON): String\n"
    "  findDog(complex: FindDogInput): Dog\n"
    "}\n"
    "directive @onField on FIELD\n"
    "directive @onQuery on QUERY\n"
    "directive @onSub on SUBSCRIPTION\n"
    "directive @onVar on VARIABLE_DEFINITION\n"
    "directive @onFragment on FRAGMENT_DEFINITION\n"
    "directive @rep repeatable on FIELD\n"
    "type Query { dog: Dog }\n"
    "type Subscription {\n"
    "  dog: Dog\n  pet: Pet\n  catOrDog: CatOrDog\n  dogOrHuman: DogOrHuman\n  human: Human\n"
    "  arguments: Arguments\n  sentient: Sentient\n  alien: Alien\n"
    "}\n";

static gql_schema_t *S;

#define VALID(doc)                                                               \
    do {                                                                         \
        char *t_e = t_validate (S, doc);                                         \
        if (t_e) {                                                               \
            fprintf (stderr, "%s:%d: expected valid, got %s\n", __FILE__, __LINE__, t_e); \
            t_failures++;                                                        \
        }                                                                        \
        free (t_e);                                                              \
    } while (0)

#define INVALID(doc, msg)                                                        \
    do {                                                                         \
        char *t_e = t_validate (S, doc);                                         \
        CHECK (t_e != NULL);                                                     \
        CHECK_CONTAINS (t_e, msg);                                               \
        CHECK (!t_e || t_is_error_list (t_e));                                   \
        free (t_e);                                                              \
    } while (0)

static void
test_rule_executable_definitions (void)
{
    VALID ("subscription { dog { name } }");
    VALID ("subscription { dog { ...F } } fragment F on Dog { name }");
    INVALID ("subscription { dog { name } } type Cow { name: String }",
             "The \"Cow\" definition is not executable.");
    INVALID ("subscription { dog { name } } extend type Dog { color: String }",
             "The \"Dog\" definition is not executable.");
    INVALID ("subscription { dog { name } } schema { query: Query }",
             "The schema definition is not executable.");
    INVALID ("subscription { dog { name } } directive @x on FIELD", "The \"x\" definition is not executable.");
}

static void
test_rule_operation_name_uniqueness (void)
{
    VALID ("subscription A { dog { name } } subscription B { dog { name } }");
    INVALID ("subscription A { dog { name } } subscription A { pet { name } }",
             "There can be only one operation named \"A\".");
    INVALID ("query A { dog { name } } subscription A { dog { name } }",
             "There can be only one operation named \"A\".");
}

static void
test_rule_lone_anonymous_operation (void)
{
    VALID ("subscription { dog { name } }");
    VALID ("{ dog { name } }");
    INVALID ("subscription { dog { name } } subscription B { dog { name } }",
             "This anonymous operation must be the only defined operation.");
    INVALID ("{ dog { name } } subscription { dog { name } }",
             "This anonymous operation must be the only defined operation.");
}

static void
test_rule_subscription_single_root_field (void)
{
    VALID ("subscription S { dog { name } }");
    VALID ("subscription S { ...F } fragment F on Subscription { dog { name } }");
    VALID ("subscription S { ... on Subscription { dog { name } } }");
    //  The same response key twice is one root field.
    VALID ("subscription S { dog { name } dog { nickname } }");
    INVALID ("subscription S { dog { name } pet { name } }", "Subscription \"S\" must select only one top level field.");
    INVALID ("subscription { dog { name } pet { name } }", "Anonymous Subscription must select only one top level field.");
    INVALID ("subscription S { dog { name } ...F } fragment F on Subscription { pet { name } }",
             "must select only one top level field.");
    INVALID ("subscription S { ... on Subscription { dog { name } human { name } } }",
             "must select only one top level field.");
    INVALID ("subscription S { __typename }", "Subscription \"S\" must not select an introspection top level field.");
    INVALID ("subscription S { ...F } fragment F on Subscription { __typename }",
             "must not select an introspection top level field.");
    //  @skip and @include cannot decide the root field (current spec).
    INVALID ("subscription S($v: Boolean!) { dog @include(if: $v) { name } }",
             "Subscription \"S\" must not use @skip or @include directives in the top level selection.");
    INVALID ("subscription S { ... @skip(if: false) { dog { name } } }",
             "must not use @skip or @include directives in the top level selection.");
    INVALID ("subscription S { ...F } fragment F on Subscription { dog @skip(if: true) { name } }",
             "must not use @skip or @include directives in the top level selection.");
    //  Below the root they are fine.
    VALID ("subscription S($v: Boolean!) { dog { name @include(if: $v) } }");
}

static void
test_rule_field_selections (void)
{
    VALID ("subscription { dog { name nickname barkVolume owner { name } } }");
    VALID ("subscription { pet { name } }");
    VALID ("subscription { catOrDog { __typename ... on Dog { name } } }");
    INVALID ("subscription { dog { meowVolume } }", "Cannot query field \"meowVolume\" on type \"Dog\".");
    INVALID ("subscription { dog { nickame } }",
             "Cannot query field \"nickame\" on type \"Dog\". Did you mean \"nickname\"");
    INVALID ("subscription { pet { barkVolume } }",
             "Cannot query field \"barkVolume\" on type \"Pet\". Did you mean to use an inline fragment on \"Dog\"?");
    //  Unions have no fields but __typename.
    INVALID ("subscription { catOrDog { name } }", "Cannot query field \"name\" on type \"CatOrDog\".");
    INVALID ("subscription { dog { __schema { types { name } } } }", "Cannot query field \"__schema\" on type \"Dog\".");
    INVALID ("subscription { unknown }", "Cannot query field \"unknown\" on type \"Subscription\".");
    INVALID ("subscription { dog { ... on Dog { color } } }", "Cannot query field \"color\" on type \"Dog\".");
}

static void
test_rule_field_selection_merging (void)
{
    //  Identical fields, aliases that differ, the same alias for the same field.
    VALID ("subscription { dog { name name } }");
    VALID ("subscription { dog { otherName: name name } }");
    VALID ("subscription { dog { ...F name } } fragment F on Dog { name }");
    VALID ("subscription { dog { doesKnowCommand(dogCommand: SIT) doesKnowCommand(dogCommand: SIT) } }");
    VALID ("subscription($c: DogCommand!) { dog { doesKnowCommand(dogCommand: $c) doesKnowCommand(dogCommand: $c) } }");
    //  Different object parents may alias different fields of the same shape.
    VALID ("subscription { pet { ... on Dog { volume: barkVolume } ... on Cat { volume: meowVolume } } }");
    VALID ("subscription { dog { owner { name } owner { pets { name } } } }");
    //  The spec's safeDifferingArgs: different object types, different arguments.
    VALID ("subscription { pet { ... on Dog { doesKnowCommand(dogCommand: SIT) } "
           "... on Cat { doesKnowCommand(catCommand: JUMP) } } }");
    INVALID ("subscription { dog { x: isHouseTrained(atOtherHomes: true) x: isHouseTrained(atOtherHomes: false) } }",
             "Fields \"x\" conflict because they have differing arguments.");
    INVALID ("subscription { dog { name: nickname name } }",
             "Fields \"name\" conflict because \"nickname\" and \"name\" are different fields. Use different "
             "aliases on the fields to fetch both if this was intentional.");
    INVALID ("subscription { dog { doesKnowCommand(dogCommand: SIT) doesKnowCommand(dogCommand: HEEL) } }",
             "Fields \"doesKnowCommand\" conflict because they have differing arguments.");
    INVALID ("subscription($a: DogCommand!, $b: DogCommand!) { dog { doesKnowCommand(dogCommand: $a) "
             "doesKnowCommand(dogCommand: $b) } }", "they have differing arguments");
    INVALID ("subscription { dog { doesKnowCommand(dogCommand: SIT) doesKnowCommand } }",
             "they have differing arguments");
    //  Same shape is required even across different object types.
    INVALID ("subscription { pet { ... on Dog { someValue: nickname } ... on Cat { someValue: meowVolume } } }",
             "Fields \"someValue\" conflict because they return conflicting types \"String\" and \"Int\".");
    INVALID ("subscription { catOrDog { ... on Dog { name } ... on Cat { name: nickname } } }",
             "they return conflicting types \"String!\" and \"String\"");
    //  On an abstract parent, different fields cannot share a key.
    INVALID ("subscription { pet { name ... on Dog { name: nickname } } }",
             "\"name\" and \"nickname\" are different fields");
    //  Nested conflicts, found through sub-selections and fragments.
    INVALID ("subscription { dog { owner { x: name } owner { x: __typename } } }",
             "Fields \"owner\" conflict because subfields \"x\" conflict because \"name\" and \"__typename\" are "
             "different fields.");
    INVALID ("subscription { dog { ...A ...B } } fragment A on Dog { x: name } fragment B on Dog { x: nickname }",
             "Fields \"x\" conflict because \"name\" and \"nickname\" are different fields.");
    INVALID ("subscription { human { pets { ... on Dog { v: barkVolume } } pets { ... on Cat { v: name } } } }",
             "Fields \"pets\" conflict because subfields \"v\" conflict because they return conflicting types "
             "\"Int\" and \"String!\".");
    INVALID ("subscription { dog { owner { name } owner: name } }", "\"owner\" and \"name\" are different fields");
}

static void
test_rule_leaf_field_selections (void)
{
    VALID ("subscription { dog { barkVolume } }");
    INVALID ("subscription { dog { barkVolume { sinceWhen } } }",
             "Field \"barkVolume\" must not have a selection since type \"Int\" has no subfields.");
    INVALID ("subscription { dog }",
             "Field \"dog\" of type \"Dog\" must have a selection of subfields. Did you mean \"dog { ... }\"?");
    INVALID ("subscription { human { pets } }", "Field \"pets\" of type \"[Pet!]\" must have a selection of subfields.");
    INVALID ("subscription { catOrDog }", "must have a selection of subfields");
}

static void
test_rule_argument_names (void)
{
    VALID ("subscription { dog { doesKnowCommand(dogCommand: SIT) } }");
    VALID ("subscription { dog { name @include(if: true) } }");
    INVALID ("subscription { dog { doesKnowCommand(command: CLEAN_UP_HOUSE, dogCommand: SIT) } }",
             "Unknown argument \"command\" on field \"Dog.doesKnowCommand\".");
    INVALID ("subscription { dog { doesKnowCommand(dogComand: SIT) } }", "Did you mean \"dogCommand\"?");
    INVALID ("subscription { dog { name @include(iff: true, if: true) } }",
             "Unknown argument \"iff\" on directive \"@include\".");
}

static void
test_rule_argument_uniqueness (void)
{
    VALID ("subscription { arguments { multipleRequirements(x: 1, y: 2) } }");
    INVALID ("subscription { arguments { multipleRequirements(x: 1, x: 2, y: 3) } }",
             "There can be only one argument named \"x\".");
    INVALID ("subscription { dog { name @include(if: true, if: false) } }",
             "There can be only one argument named \"if\".");
}

static void
test_rule_required_arguments (void)
{
    VALID ("subscription { arguments { multipleRequirements(x: 1, y: 2) } }");
    VALID ("subscription { arguments { optionalNonNullBooleanArgField } }");
    VALID ("subscription { arguments { booleanArgField } }");
    INVALID ("subscription { arguments { multipleRequirements(x: 1) } }",
             "Field \"multipleRequirements\" argument \"y\" of type \"Int!\" is required, but it was not provided.");
    INVALID ("subscription { arguments { nonNullBooleanArgField(nonNullBooleanArg: null) } }",
             "Expected value of type \"Boolean!\", found null.");
    INVALID ("subscription { dog { name @skip } }",
             "Directive \"@skip\" argument \"if\" of type \"Boolean!\" is required, but it was not provided.");
}

static void
test_rule_fragment_name_uniqueness (void)
{
    VALID ("subscription { dog { ...A ...B } } fragment A on Dog { name } fragment B on Dog { nickname }");
    INVALID ("subscription { dog { ...A } } fragment A on Dog { name } fragment A on Dog { nickname }",
             "There can be only one fragment named \"A\".");
}

static void
test_rule_fragment_spread_type_existence (void)
{
    VALID ("subscription { dog { ...F ... on Dog { name } ... { name } } } fragment F on Dog { name }");
    INVALID ("subscription { dog { ...F } } fragment F on NotInSchema { name }", "Unknown type \"NotInSchema\".");
    INVALID ("subscription { dog { ... on NotInSchema { name } } }", "Unknown type \"NotInSchema\".");
    INVALID ("subscription { dog { ... on Dgo { name } } }", "Unknown type \"Dgo\". Did you mean \"Dog\"?");
}

static void
test_rule_fragments_on_composite_types (void)
{
    VALID ("subscription { dog { ...F } } fragment F on Dog { name }");
    VALID ("subscription { pet { ...F } } fragment F on Pet { name }");
    VALID ("subscription { catOrDog { ...F } } fragment F on CatOrDog { __typename }");
    INVALID ("subscription { dog { ...F } } fragment F on Boolean { x }",
             "Fragment \"F\" cannot condition on non composite type \"Boolean\".");
    INVALID ("subscription { dog { ... on DogCommand { name } } }",
             "Fragment cannot condition on non composite type \"DogCommand\".");
    INVALID ("subscription { dog { ... on ComplexInput { name } } }",
             "Fragment cannot condition on non composite type \"ComplexInput\".");
}

static void
test_rule_fragments_must_be_used (void)
{
    VALID ("subscription { dog { ...A } } fragment A on Dog { ...B } fragment B on Dog { name }");
    INVALID ("subscription { dog { name } } fragment Unused on Dog { name }", "Fragment \"Unused\" is never used.");
    //  Used only by an unused fragment: still unused.
    INVALID ("subscription { dog { name } } fragment A on Dog { ...B } fragment B on Dog { name }",
             "Fragment \"B\" is never used.");
}

static void
test_rule_fragment_spread_target_defined (void)
{
    VALID ("subscription { dog { ...F } } fragment F on Dog { name }");
    INVALID ("subscription { dog { ...undefinedFragment } }", "Unknown fragment \"undefinedFragment\".");
}

static void
test_rule_fragment_cycles (void)
{
    VALID ("subscription { dog { ...A ...A } } fragment A on Dog { ...B } fragment B on Dog { name }");
    INVALID ("subscription { dog { ...A } } fragment A on Dog { ...A }", "Cannot spread fragment \"A\" within itself.");
    INVALID ("subscription { dog { ...A } } fragment A on Dog { name ...B } fragment B on Dog { name ...A }",
             "Cannot spread fragment \"A\" within itself via \"B\".");
    INVALID ("subscription { dog { ...A } } fragment A on Dog { ...B } fragment B on Dog { ...C } "
             "fragment C on Dog { ...A }", "Cannot spread fragment \"A\" within itself via \"B\", \"C\".");
    //  Through a field: still a cycle (the spec forbids it anywhere).
    INVALID ("subscription { dog { ...A } } fragment A on Dog { owner { ...H } } fragment H on Human { pets { ...A } }",
             "Cannot spread fragment \"A\" within itself via \"H\".");
}

static void
test_rule_fragment_spread_is_possible (void)
{
    VALID ("subscription { dog { ... on Dog { name } ...P } } fragment P on Pet { name }");
    VALID ("subscription { pet { ... on Dog { barkVolume } ...C } } fragment C on CatOrDog { __typename }");
    VALID ("subscription { catOrDog { ... on Pet { name } } }");
    VALID ("subscription { dogOrHuman { ... on CatOrDog { __typename } } }");
    INVALID ("subscription { dog { ... on Cat { meowVolume } } }",
             "Fragment cannot be spread here as objects of type \"Dog\" can never be of type \"Cat\".");
    INVALID ("subscription { dog { ...C } } fragment C on Cat { meowVolume }",
             "Fragment \"C\" cannot be spread here as objects of type \"Dog\" can never be of type \"Cat\".");
    INVALID ("subscription { pet { ... on Sentient { name } } }",
             "objects of type \"Pet\" can never be of type \"Sentient\"");
    INVALID ("subscription { catOrDog { ... on HumanOrAlien { __typename } } }",
             "objects of type \"CatOrDog\" can never be of type \"HumanOrAlien\"");
    INVALID ("subscription { sentient { ... on Dog { name } } }",
             "objects of type \"Sentient\" can never be of type \"Dog\"");
}

static void
test_rule_values_of_correct_type (void)
{
    VALID ("subscription { arguments { intArgField(intArg: 2147483647) floatArgField(floatArg: 1) "
           "idArgField(idArg: 12) stringArgField(stringArg: \"x\") booleanArgField(booleanArg: false) "
           "enumArgField(enumArg: SIT) jsonArgField(j: {any: [1, \"shape\", null]}) } }");
    VALID ("subscription { arguments { booleanListArgField(booleanListArg: true) } }");
    VALID ("subscription { arguments { booleanListArgField(booleanListArg: [true, null]) } }");
    VALID ("subscription { arguments { intArgField(intArg: null) } }");
    VALID ("subscription { arguments { b: floatArgField(floatArg: 1.5e3) } }");
    INVALID ("subscription { arguments { intArgField(intArg: \"3\") } }",
             "Expected value of type \"Int\", found \"3\".");
    INVALID ("subscription { arguments { intArgField(intArg: 2147483648) } }",
             "Int cannot represent non 32-bit signed integer value");
    INVALID ("subscription { arguments { intArgField(intArg: 1.0) } }", "Expected value of type \"Int\", found 1.0.");
    INVALID ("subscription { arguments { floatArgField(floatArg: true) } }", "Expected value of type \"Float\", found true.");
    INVALID ("subscription { arguments { floatArgField(floatArg: 1e999) } }", "Float cannot represent");
    INVALID ("subscription { arguments { stringArgField(stringArg: 1) } }", "Expected value of type \"String\", found 1.");
    INVALID ("subscription { arguments { booleanArgField(booleanArg: \"true\") } }",
             "Expected value of type \"Boolean\", found \"true\".");
    INVALID ("subscription { arguments { idArgField(idArg: 1.5) } }", "Expected value of type \"ID\", found 1.5.");
    INVALID ("subscription { arguments { enumArgField(enumArg: \"SIT\") } }",
             "Enum \"DogCommand\" cannot represent non-enum value: \"SIT\".");
    INVALID ("subscription { arguments { enumArgField(enumArg: JUMP) } }",
             "Value \"JUMP\" does not exist in \"DogCommand\" enum.");
    INVALID ("subscription { arguments { booleanListArgField(booleanListArg: [true, 2]) } }",
             "Expected value of type \"Boolean\", found 2.");
    INVALID ("subscription { arguments { complexArgField(complexArg: 5) } }",
             "Expected value of type \"ComplexInput\", found 5.");
    INVALID ("subscription { arguments { complexArgField(complexArg: {requiredField: true, listField: [\"a\", null]}) } }",
             "Expected value of type \"String!\", found null.");
    //  Default values of variables are values too.
    INVALID ("subscription($x: Int = \"one\") { arguments { intArgField(intArg: $x) } }",
             "Expected value of type \"Int\", found \"one\".");
}

static void
test_rule_input_object_field_names (void)
{
    VALID ("subscription { arguments { findDog(complex: {name: \"Fido\"}) { name } } }");
    INVALID ("subscription { arguments { findDog(complex: {favoriteCookieFlavor: \"Bacon\"}) { name } } }",
             "Field \"favoriteCookieFlavor\" is not defined by type \"FindDogInput\".");
    INVALID ("subscription { arguments { findDog(complex: {nmae: \"x\"}) { name } } }", "Did you mean \"name\"?");
}

static void
test_rule_input_object_field_uniqueness (void)
{
    VALID ("subscription { arguments { findDog(complex: {name: \"Fido\", owner: \"x\"}) { name } } }");
    INVALID ("subscription { arguments { findDog(complex: {name: \"Fido\", name: \"Fido\"}) { name } } }",
             "There can be only one input field named \"name\".");
}

static void
test_rule_input_object_required_fields (void)
{
    VALID ("subscription { arguments { complexArgField(complexArg: {requiredField: true}) } }");
    INVALID ("subscription { arguments { complexArgField(complexArg: {intField: 4}) } }",
             "Field \"ComplexInput.requiredField\" of required type \"Boolean!\" was not provided.");
    INVALID ("subscription { arguments { complexArgField(complexArg: {requiredField: null}) } }",
             "Expected value of type \"Boolean!\", found null.");
    INVALID ("subscription { arguments { complexArgField(complexArg: {requiredField: true, nested: {}}) } }",
             "Field \"ComplexInput.requiredField\" of required type \"Boolean!\" was not provided.");
}

static void
test_rule_directives_are_defined (void)
{
    VALID ("subscription { dog { name @skip(if: false) nickname @include(if: true) barkVolume @onField } }");
    INVALID ("subscription { dog { name @unknown } }", "Unknown directive \"@unknown\".");
    //  @topic and @deprecated exist, but not for documents.
    INVALID ("subscription { dog { name @topic(name: \"x\") } }", "Directive \"@topic\" may not be used on FIELD.");
}

static void
test_rule_directives_in_valid_locations (void)
{
    VALID ("subscription S @onSub { dog { name @onField } }");
    VALID ("query Q @onQuery { dog { name } }");
    VALID ("subscription S($v: Int @onVar) { arguments { intArgField(intArg: $v) } }");
    VALID ("subscription { dog { ...F } } fragment F on Dog @onFragment { name }");
    INVALID ("subscription S @onQuery { dog { name } }", "Directive \"@onQuery\" may not be used on SUBSCRIPTION.");
    INVALID ("subscription { dog { name @onQuery } }", "Directive \"@onQuery\" may not be used on FIELD.");
    INVALID ("subscription { dog { ...F } } fragment F on Dog @skip(if: true) { name }",
             "Directive \"@skip\" may not be used on FRAGMENT_DEFINITION.");
    INVALID ("subscription S($v: Int @onField) { arguments { intArgField(intArg: $v) } }",
             "Directive \"@onField\" may not be used on VARIABLE_DEFINITION.");
    INVALID ("subscription { dog { name @deprecated } }", "Directive \"@deprecated\" may not be used on FIELD.");
}

static void
test_rule_directives_unique_per_location (void)
{
    VALID ("subscription { dog { name @skip(if: false) @include(if: true) } }");
    VALID ("subscription { dog { name @rep @rep } }");
    VALID ("subscription { dog { name @skip(if: false) nickname @skip(if: false) } }");
    INVALID ("subscription { dog { name @skip(if: false) @skip(if: true) } }",
             "The directive \"@skip\" can only be used once at this location.");
    INVALID ("subscription { dog { name @onField @onField } }",
             "The directive \"@onField\" can only be used once at this location.");
}

static void
test_rule_variable_uniqueness (void)
{
    VALID ("subscription A($a: Int) { arguments { intArgField(intArg: $a) } } "
           "subscription B($a: Int) { arguments { intArgField(intArg: $a) } }");
    INVALID ("subscription A($a: Int, $a: Int) { arguments { intArgField(intArg: $a) } }",
             "There can be only one variable named \"$a\".");
}

static void
test_rule_variables_are_input_types (void)
{
    VALID ("subscription($a: Boolean, $b: DogCommand, $c: ComplexInput, $d: JSON) { arguments { "
           "booleanArgField(booleanArg: $a) enumArgField(enumArg: $b) complexArgField(complexArg: $c) "
           "jsonArgField(j: $d) } }");
    INVALID ("subscription($dog: Dog) { dog { name } }", "Variable \"$dog\" cannot be non-input type \"Dog\".");
    INVALID ("subscription($p: [[Pet!]]) { dog { name } }", "Variable \"$p\" cannot be non-input type \"[[Pet!]]\".");
    INVALID ("subscription($u: CatOrDog!) { dog { name } }", "cannot be non-input type \"CatOrDog!\"");
    INVALID ("subscription($x: Unknown) { dog { name } }", "Unknown type \"Unknown\".");
}

static void
test_rule_all_variable_uses_defined (void)
{
    VALID ("subscription S($a: Boolean) { arguments { ...F } } fragment F on Arguments { booleanArgField(booleanArg: $a) }");
    INVALID ("subscription S { arguments { booleanArgField(booleanArg: $a) } }",
             "Variable \"$a\" is not defined by operation \"S\".");
    INVALID ("subscription { arguments { booleanArgField(booleanArg: $a) } }", "Variable \"$a\" is not defined.");
    INVALID ("subscription S { arguments { ...F } } fragment F on Arguments { booleanArgField(booleanArg: $a) }",
             "Variable \"$a\" is not defined by operation \"S\".");
    INVALID ("subscription S { dog { name @include(if: $v) } }", "Variable \"$v\" is not defined by operation \"S\".");
    INVALID ("subscription S { arguments { complexArgField(complexArg: {requiredField: $r}) } }",
             "Variable \"$r\" is not defined by operation \"S\".");
}

static void
test_rule_all_variables_used (void)
{
    VALID ("subscription S($a: Boolean) { arguments { ...F } } fragment F on Arguments { booleanArgField(booleanArg: $a) }");
    INVALID ("subscription S($a: Boolean) { dog { name } }", "Variable \"$a\" is never used in operation \"S\".");
    INVALID ("subscription($a: Boolean) { dog { name } }", "Variable \"$a\" is never used.");
    //  Used by a fragment this operation does not spread: still unused.
    INVALID ("subscription A($a: Boolean) { arguments { ...F } } subscription B($a: Boolean) { dog { name } } "
             "fragment F on Arguments { booleanArgField(booleanArg: $a) }",
             "Variable \"$a\" is never used in operation \"B\".");
}

static void
test_rule_all_variable_usages_allowed (void)
{
    VALID ("subscription($a: Boolean!) { arguments { nonNullBooleanArgField(nonNullBooleanArg: $a) } }");
    VALID ("subscription($a: Boolean!) { arguments { booleanArgField(booleanArg: $a) } }");
    //  A nullable variable with a default, or a position with a default, may fill a non-null one.
    VALID ("subscription($a: Boolean = true) { arguments { nonNullBooleanArgField(nonNullBooleanArg: $a) } }");
    VALID ("subscription($a: Boolean) { arguments { optionalNonNullBooleanArgField(optionalBooleanArg: $a) } }");
    VALID ("subscription($a: Boolean) { arguments { booleanListArgField(booleanListArg: [$a]) } }");
    VALID ("subscription($a: [Boolean]!) { arguments { booleanListArgField(booleanListArg: $a) } }");
    VALID ("subscription($s: String) { arguments { complexArgField(complexArg: {requiredField: true, name: $s}) } }");
    INVALID ("subscription($a: Boolean) { arguments { nonNullBooleanArgField(nonNullBooleanArg: $a) } }",
             "Variable \"$a\" of type \"Boolean\" used in position expecting type \"Boolean!\".");
    INVALID ("subscription($a: Int) { arguments { booleanArgField(booleanArg: $a) } }",
             "Variable \"$a\" of type \"Int\" used in position expecting type \"Boolean\".");
    INVALID ("subscription($a: [Boolean]) { arguments { booleanListArgField(booleanListArg: $a) } }",
             "Variable \"$a\" of type \"[Boolean]\" used in position expecting type \"[Boolean]!\".");
    INVALID ("subscription($a: Boolean) { arguments { stringListArgField(stringListArg: $a) } }",
             "used in position expecting type \"[String]\"");
    INVALID ("subscription($a: [String]) { arguments { stringArgField(stringArg: $a) } }",
             "Variable \"$a\" of type \"[String]\" used in position expecting type \"String\".");
    INVALID ("subscription($a: Boolean = null) { arguments { nonNullBooleanArgField(nonNullBooleanArg: $a) } }",
             "used in position expecting type \"Boolean!\"");
    INVALID ("subscription($v: Boolean) { dog { name @skip(if: $v) } }",
             "Variable \"$v\" of type \"Boolean\" used in position expecting type \"Boolean!\".");
}

//  GetOperation, and what herald-edge does with queries and mutations.
static void
test_operation_selection (void)
{
    char *e = t_errors (S, "subscription A { dog { name } } subscription B { pet { name } }", NULL);
    CHECK_CONTAINS (e, "Must provide operation name if query contains multiple operations.");
    free (e);
    char *errors = NULL;
    gql_sub_t *sub = t_prepare_op (S, "subscription A { dog { name } } subscription B { pet { name } }", "B", NULL, &errors);
    REQUIRE (sub);
    CHECK_STR (gql_sub_topic (sub), "pet");
    gql_sub_destroy (&sub);
    sub = t_prepare_op (S, "subscription A { dog { name } }", "C", NULL, &errors);
    CHECK (!sub);
    CHECK_CONTAINS (errors, "Unknown operation named \"C\".");
    free (errors);
    //  Every operation is validated, not only the selected one.
    sub = t_prepare_op (S, "subscription A { dog { name } } subscription B { pet { nope } }", "A", NULL, &errors);
    CHECK (!sub);
    CHECK_CONTAINS (errors, "Cannot query field \"nope\" on type \"Pet\".");
    free (errors);
}

static void
test_query_and_mutation_refused (void)
{
    char *e = t_errors (S, "query Q { dog { name } }", NULL);
    CHECK_STR (e, "[{\"message\":\"herald-edge serves subscriptions only; send queries and mutations to your GraphQL "
                  "server.\",\"locations\":[{\"line\":1,\"column\":1}]}]");
    free (e);
    e = t_errors (S, "{ dog { name } }", NULL);
    CHECK_CONTAINS (e, "herald-edge serves subscriptions only");
    free (e);
    e = t_errors (S, "mutation M { dog { name } }", NULL);
    CHECK_CONTAINS (e, "The schema defines no mutation root type: herald-edge serves subscriptions only");
    free (e);
    //  A schema without a Query type still answers a query with an error.
    gql_schema_t *s = t_schema ("type Subscription { tick: Int }");
    REQUIRE (s);
    e = t_errors (s, "{ tick }", NULL);
    CHECK_STR (e, "[{\"message\":\"The schema defines no query root type: herald-edge serves subscriptions only; "
                  "send queries and mutations to your GraphQL server.\",\"locations\":[{\"line\":1,\"column\":1}]}]");
    free (e);
    e = t_errors (s, "query { a { b { c } } }", NULL);
    CHECK_CONTAINS (e, "defines no query root type");
    free (e);
    gql_schema_destroy (&s);
}

static void
test_limit_max_depth (void)
{
    gql_schema_t *s = t_schema ("type N { v: Int next: N } type Subscription { n: N }");
    REQUIRE (s);
    //  Root field is depth 1: n(1) next(2) v(3).
    const char *doc = "subscription { n { next { v } } }";
    char *errors = NULL;
    json_t *none = NULL;
    gql_limits_t l3 = { 3 }, l2 = { 2 };
    gql_sub_t *sub = gql_prepare (s, doc, strlen (doc), NULL, none, &l3, &errors);
    CHECK (sub);
    gql_sub_destroy (&sub);
    sub = gql_prepare (s, doc, strlen (doc), NULL, none, &l2, &errors);
    CHECK (!sub);
    CHECK_CONTAINS (errors, "The subscription is nested too deeply: field \\\"v\\\" is at depth 3, and the limit is 2.");
    free (errors);
    //  Fragments count where they are expanded.
    const char *frag = "subscription { n { ...A } } fragment A on N { next { ...B } } fragment B on N { v }";
    sub = gql_prepare (s, frag, strlen (frag), NULL, none, &l2, &errors);
    CHECK (!sub);
    CHECK_CONTAINS (errors, "nested too deeply");
    free (errors);
    //  The default is GQL_DEFAULT_MAX_DEPTH (16).
    char deep[1024] = "subscription { n { ";
    for (int i = 0; i < 15; i++)
        strcat (deep, "next { ");
    strcat (deep, "v");
    for (int i = 0; i < 16; i++)
        strcat (deep, " }");
    strcat (deep, " }");
    sub = gql_prepare (s, deep, strlen (deep), NULL, none, NULL, &errors);
    CHECK (!sub);
    CHECK_CONTAINS (errors, "is at depth 17, and the limit is 16");
    free (errors);
    gql_schema_destroy (&s);
}

//  Each fragment spreads the next twice: 2^40 fields if expanded. It must
//  be refused quickly, in validation or planning, not rendered: within
//  this many steps of gql_prepare's work counter (a few thousand bytes of
//  document; expanded, the work would pass 10^12).
#define S_BOMB_WORK 1000000
static void
test_limit_fragment_bomb (void)
{
    gql_schema_t *s = t_schema ("type N { v: Int a: N b: N } type Subscription { n: N }");
    REQUIRE (s);
    jbuf_t d;
    jbuf_init (&d, 0);
    jbuf_puts (&d, "subscription { n { ...F0 } }\n");
    for (int i = 0; i < 40; i++) {
        char tmp[128];
        snprintf (tmp, sizeof tmp, "fragment F%d on N { a { ...F%d } b { ...F%d } }\n", i, i + 1, i + 1);
        jbuf_puts (&d, tmp);
    }
    jbuf_puts (&d, "fragment F40 on N { v }\n");
    jbuf_putc (&d, 0);
    gql_limits_t big = { 100 };
    char *errors = NULL;
    uint64_t work = 0;
    gql_sub_t *sub = gql_prepare_counted (s, d.data, d.len - 1, NULL, NULL, &big, &errors, &work);
    printf ("fragment bomb of 40 levels: work %llu for %zu bytes\n", (unsigned long long) work,
            d.len - 1);
    CHECK (!sub);
    CHECK_CONTAINS (errors, "too many fields once its fragments are expanded");
    CHECK (work < S_BOMB_WORK);
    free (errors);
    //  The same with a wide fan-out at each level and one shared key.
    jbuf_reset (&d);
    jbuf_puts (&d, "subscription { n { ...F0 } }\n");
    for (int i = 0; i < 30; i++) {
        char tmp[256];
        snprintf (tmp, sizeof tmp, "fragment F%d on N { a { ...F%d } a { ...F%d } b { ...F%d } }\n",
                  i, i + 1, i + 1, i + 1);
        jbuf_puts (&d, tmp);
    }
    jbuf_puts (&d, "fragment F30 on N { v }\n");
    jbuf_putc (&d, 0);
    work = 0;
    sub = gql_prepare_counted (s, d.data, d.len - 1, NULL, NULL, &big, &errors, &work);
    printf ("wide fragment bomb of 30 levels: work %llu for %zu bytes\n",
            (unsigned long long) work, d.len - 1);
    CHECK (!sub);
    CHECK (errors && t_is_error_list (errors));
    CHECK (work < S_BOMB_WORK);
    free (errors);
    jbuf_free (&d);
    gql_schema_destroy (&s);
}

//  Many same-key fields through many fragments: the merging check must
//  stay polynomial (it compares against one representative), within this
//  many steps a byte of the document (test_gql_scale.c's bound).
#define S_MERGE_WORK_PER_BYTE 100
static void
test_limit_merge_work (void)
{
    gql_schema_t *s = t_schema ("type N { v: Int a: N } type Subscription { n: N }");
    REQUIRE (s);
    jbuf_t d;
    jbuf_init (&d, 0);
    jbuf_puts (&d, "subscription { n { ");
    for (int i = 0; i < 300; i++)
        jbuf_puts (&d, "a { a { a { v } } } ");
    jbuf_puts (&d, "} }");
    jbuf_putc (&d, 0);
    gql_arena_t a;
    gql_arena_init (&a, 4096);
    gql_errs_t e;
    gql_errs_init (&e, &a);
    gql_doc_t *doc = gql_parse (&a, d.data, d.len - 1, &e);
    REQUIRE (doc);
    gql_validate (&a, s, doc, &e);
    CHECK_INT (gql_errs_count (&e), 0);
    printf ("300 same-key fields: work %llu for %zu bytes\n", (unsigned long long) e.work,
            d.len - 1);
    CHECK (e.work < S_MERGE_WORK_PER_BYTE * (d.len - 1));
    gql_arena_free (&a);
    jbuf_free (&d);
    gql_schema_destroy (&s);
}

static void
test_limit_error_count (void)
{
    jbuf_t d;
    jbuf_init (&d, 0);
    jbuf_puts (&d, "subscription { dog { ");
    for (int i = 0; i < 300; i++) {
        char tmp[32];
        snprintf (tmp, sizeof tmp, "f%d ", i);
        jbuf_puts (&d, tmp);
    }
    jbuf_puts (&d, "} }");
    jbuf_putc (&d, 0);
    char *e = t_validate (S, d.data);
    json_t *j = json_loads (e, 0, NULL);
    CHECK_INT (json_array_size (j), GQL_MAX_ERRORS);
    CHECK_CONTAINS (e, "Too many validation errors, error limit reached. Validation aborted.");
    json_decref (j);
    free (e);
    jbuf_free (&d);
}

static void
test_error_json_shape (void)
{
    char *e = t_errors (S, "subscription {\n  dog {\n    txt\n  }\n}", NULL);
    CHECK_STR (e, "[{\"message\":\"Cannot query field \\\"txt\\\" on type \\\"Dog\\\".\","
                  "\"locations\":[{\"line\":3,\"column\":5}]}]");
    free (e);
    //  Two locations for a duplicate.
    e = t_errors (S, "subscription A { dog { name } }\nsubscription A { dog { name } }", NULL);
    CHECK_STR (e, "[{\"message\":\"There can be only one operation named \\\"A\\\".\","
                  "\"locations\":[{\"line\":1,\"column\":1},{\"line\":2,\"column\":1}]}]");
    free (e);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    S = t_schema (SDL);
    if (!S)
        return 1;
    RUN (test_rule_executable_definitions);
    RUN (test_rule_operation_name_uniqueness);
    RUN (test_rule_lone_anonymous_operation);
    RUN (test_rule_subscription_single_root_field);
    RUN (test_rule_field_selections);
    RUN (test_rule_field_selection_merging);
    RUN (test_rule_leaf_field_selections);
    RUN (test_rule_argument_names);
    RUN (test_rule_argument_uniqueness);
    RUN (test_rule_required_arguments);
    RUN (test_rule_fragment_name_uniqueness);
    RUN (test_rule_fragment_spread_type_existence);
    RUN (test_rule_fragments_on_composite_types);
    RUN (test_rule_fragments_must_be_used);
    RUN (test_rule_fragment_spread_target_defined);
    RUN (test_rule_fragment_cycles);
    RUN (test_rule_fragment_spread_is_possible);
    RUN (test_rule_values_of_correct_type);
    RUN (test_rule_input_object_field_names);
    RUN (test_rule_input_object_field_uniqueness);
    RUN (test_rule_input_object_required_fields);
    RUN (test_rule_directives_are_defined);
    RUN (test_rule_directives_in_valid_locations);
    RUN (test_rule_directives_unique_per_location);
    RUN (test_rule_variable_uniqueness);
    RUN (test_rule_variables_are_input_types);
    RUN (test_rule_all_variable_uses_defined);
    RUN (test_rule_all_variables_used);
    RUN (test_rule_all_variable_usages_allowed);
    RUN (test_operation_selection);
    RUN (test_query_and_mutation_refused);
    RUN (test_limit_max_depth);
    RUN (test_limit_fragment_bomb);
    RUN (test_limit_merge_work);
    RUN (test_limit_error_count);
    RUN (test_error_json_shape);
    gql_schema_destroy (&S);
    return TEST_RESULT ();
}
