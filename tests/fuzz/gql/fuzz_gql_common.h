/*  fuzz_gql_common.h: the schema the GraphQL harnesses share, and the
 *  oracle that every text the engine returns is the JSON it claims.
 */
#ifndef HERALD_FUZZ_GQL_COMMON_H
#define HERALD_FUZZ_GQL_COMMON_H

#include <jansson.h>
#include <stdlib.h>

static const char *FUZZ_SDL =
    "scalar JSON\n"
    "enum Color { RED GREEN BLUE }\n"
    "interface Node { id: ID! }\n"
    "type User implements Node { id: ID! name: String! email: String friends: [User!] color: Color }\n"
    "type Photo implements Node { id: ID! url: String! width: Int }\n"
    "union Media = Photo | User\n"
    "input Filter { text: String! limit: Int = 10 colors: [Color!] nested: Filter }\n"
    "type Message { id: ID! text: String! author: User tags: [String!] media: [Media] data: JSON\n"
    "  score: Float flag: Boolean n(x: Int = 1, f: Filter): Int! }\n"
    "type Query { q: Int }\n"
    "type Subscription {\n"
    "  messageAdded(channel: String!): Message! @topic(name: \"chat.{channel}\")\n"
    "  node(id: ID, c: Color = RED): Node @topic(name: \"node.{id}.{c}\")\n"
    "  search(filter: Filter, f: Float = 1.5, b: Boolean): [Media] \n"
    "  count: Int\n"
    "}\n";

//  The text must parse as JSON; jansson cannot hold object keys with NUL
//  or integers past INT64_MAX, which JSON itself allows.
static inline void
fuzz_check_json (const char *text, size_t len, int want_array)
{
    json_error_t err;
    json_t *v = json_loadb (text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!v && json_error_code (&err) != json_error_null_byte_in_key
        && json_error_code (&err) != json_error_numeric_overflow)
        abort ();
    if (v && want_array && (!json_is_array (v) || json_array_size (v) == 0))
        abort ();
    if (v && !want_array && !json_is_object (v))
        abort ();
    json_decref (v);
}

#endif
