/*  gql_shapes.h: documents of a given size in each of the shapes that
 *  stress gql_prepare (many aliases, fragments, variables, arguments,
 *  directives, nesting, long lists, operations), for the scaling test
 *  (test_gql_scale.c) and the prepare benchmark (tests/bench).
 *
 *  The schema is the chat example's (examples/chat/schema.graphql) with
 *  SHAPES_SDL_EXTRA appended: a field with list and input-object
 *  arguments, which the chat schema lacks. Some shapes are valid, some
 *  are refused; either way the work of preparing them must grow linearly
 *  with n.
 */
#ifndef HERALD_GQL_SHAPES_H
#define HERALD_GQL_SHAPES_H

#include "jbuf.h"

#include <stdio.h>
#include <stdlib.h>

#define SHAPES_SDL_EXTRA                                                            \
    "\ninput Filter { tag: String any: [Filter!] }\n"                               \
    "extend type Message { excerpt(length: Int, tags: [String!], filter: Filter): String }\n"

typedef struct {
    const char *name;
    const char *operation;      //  the operation to select, or NULL
    int valid;                  //  1 if gql_prepare accepts it
    void (*gen) (jbuf_t *b, int n);
} shape_t;

//  The schema the shapes run against: the SDL file at path (the chat
//  example's) with SHAPES_SDL_EXTRA appended. NULL if it cannot be read.
//  The caller frees it.
static inline char *
shapes_schema (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    jbuf_t b;
    jbuf_init (&b, 0);
    char tmp[4096];
    size_t n;
    while ((n = fread (tmp, 1, sizeof tmp, f)) > 0)
        jbuf_put (&b, tmp, n);
    fclose (f);
    jbuf_puts (&b, SHAPES_SDL_EXTRA);
    char *out = jbuf_failed (&b) ? NULL : jbuf_take (&b, NULL);
    jbuf_free (&b);
    return out;
}

static inline void
s_shape_printf (jbuf_t *b, const char *fmt, int i)
{
    char tmp[128];
    int len = snprintf (tmp, sizeof tmp, fmt, i, i, i);
    jbuf_put (b, tmp, (size_t) len);
}

#define SHAPE_OPEN "subscription { messageAdded(channel: \"a\") { "
#define SHAPE_CLOSE "} }"

//  n aliases of one field: the shape that showed the problem.
static inline void
s_gen_aliases (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN);
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "f%d: id ", i);
    jbuf_puts (b, SHAPE_CLOSE);
}

//  One field selected n times (one response key, n nodes to merge).
static inline void
s_gen_same_field (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN);
    for (int i = 0; i < n; i++)
        jbuf_puts (b, "id ");
    jbuf_puts (b, SHAPE_CLOSE);
}

//  n aliases of the root field (refused: one root field only).
static inline void
s_gen_root_aliases (jbuf_t *b, int n)
{
    jbuf_puts (b, "subscription { ");
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "r%d: messageAdded(channel: \"a\") { id } ", i);
    jbuf_puts (b, "}");
}

//  n fragments, each spread once.
static inline void
s_gen_fragments (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN);
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "...F%d ", i);
    jbuf_puts (b, SHAPE_CLOSE);
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "\nfragment F%d on Message { f%d: id }", i);
}

//  One fragment of n/2 fields spread in n/2 places (refused: expanded,
//  it has more fields than a plan may hold).
static inline void
s_gen_spread_reuse (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN);
    for (int i = 0; i < n / 2; i++)
        s_shape_printf (b, "a%d: author { ...U } ", i);
    jbuf_puts (b, SHAPE_CLOSE "\nfragment U on User { ");
    for (int i = 0; i < n / 2; i++)
        s_shape_printf (b, "u%d: name ", i);
    jbuf_puts (b, "}");
}

//  The same with a field beside each spread (refused the same way).
static inline void
s_gen_spread_mixed (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN);
    for (int i = 0; i < n / 2; i++)
        s_shape_printf (b, "a%d: author { name ...U } ", i);
    jbuf_puts (b, SHAPE_CLOSE "\nfragment U on User { ");
    for (int i = 0; i < n / 2; i++)
        s_shape_printf (b, "u%d: name ", i);
    jbuf_puts (b, "}");
}

//  n variables, each used once.
static inline void
s_gen_variables (jbuf_t *b, int n)
{
    jbuf_puts (b, "subscription (");
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "$v%d: Boolean = true ", i);
    jbuf_puts (b, ") { messageAdded(channel: \"a\") { ");
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "f%d: id @include(if: $v%d) ", i);
    jbuf_puts (b, SHAPE_CLOSE);
}

//  n fields with arguments.
static inline void
s_gen_field_arguments (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN);
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "f%d: excerpt(length: %d, tags: [\"t\"]) ", i);
    jbuf_puts (b, SHAPE_CLOSE);
}

//  One field with n arguments (refused: unknown arguments).
static inline void
s_gen_arguments (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN "excerpt(length: 1");
    for (int i = 0; i < n; i++)
        s_shape_printf (b, ", a%d: %d", i);
    jbuf_puts (b, ") " SHAPE_CLOSE);
}

//  One field with the same argument n times (refused: duplicates).
static inline void
s_gen_duplicate_arguments (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN "excerpt(");
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "length: %d ", i);
    jbuf_puts (b, ") " SHAPE_CLOSE);
}

//  One field with n directives (refused: @include is not repeatable).
static inline void
s_gen_directives (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN "id");
    for (int i = 0; i < n; i++)
        jbuf_puts (b, " @include(if: true)");
    jbuf_puts (b, " " SHAPE_CLOSE);
}

//  Inline fragments nested 100 deep, with n fields spread over the levels.
static inline void
s_gen_deep (jbuf_t *b, int n)
{
    const int depth = 100;
    jbuf_puts (b, SHAPE_OPEN);
    for (int d = 0; d < depth; d++) {
        for (int i = d * n / depth; i < (d + 1) * n / depth; i++)
            s_shape_printf (b, "f%d: id ", i);
        jbuf_puts (b, "... on Message { ");
    }
    jbuf_puts (b, "id ");
    for (int d = 0; d < depth; d++)
        jbuf_puts (b, "} ");
    jbuf_puts (b, SHAPE_CLOSE);
}

//  A list of n strings in an argument.
static inline void
s_gen_list (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN "excerpt(tags: [");
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "\"t%d\" ", i);
    jbuf_puts (b, "]) " SHAPE_CLOSE);
}

//  A list of n input objects in an argument.
static inline void
s_gen_object_list (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN "excerpt(filter: { any: [");
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "{ tag: \"t%d\" } ", i);
    jbuf_puts (b, "] }) " SHAPE_CLOSE);
}

//  An input object with the same field n times (refused: duplicates).
static inline void
s_gen_object_fields (jbuf_t *b, int n)
{
    jbuf_puts (b, SHAPE_OPEN "excerpt(filter: { ");
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "tag: \"t%d\" ", i);
    jbuf_puts (b, "}) " SHAPE_CLOSE);
}

//  A list of n variables in an argument.
static inline void
s_gen_variable_list (jbuf_t *b, int n)
{
    jbuf_puts (b, "subscription (");
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "$v%d: String = \"x\" ", i);
    jbuf_puts (b, ") { messageAdded(channel: \"a\") { excerpt(tags: [");
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "$v%d ", i);
    jbuf_puts (b, "]) " SHAPE_CLOSE);
}

//  n named operations; the first is selected.
static inline void
s_gen_operations (jbuf_t *b, int n)
{
    for (int i = 0; i < n; i++)
        s_shape_printf (b, "subscription o%d { messageAdded(channel: \"a\") { id } }\n", i);
}

//  n named operations that all spread one fragment, which spreads a
//  chain of n/2 more: the rules that look across definitions follow every
//  operation through the fragments it reaches.
static inline void
s_gen_shared_fragments (jbuf_t *b, int n)
{
    for (int i = 0; i < n / 2; i++)
        s_shape_printf (b, "subscription o%d { messageAdded(channel: \"a\") { ...F0 } }\n", i);
    for (int i = 0; i + 1 < n / 2; i++) {
        char tmp[96];
        int len = snprintf (tmp, sizeof tmp, "fragment F%d on Message { f%d: id ...F%d }\n", i, i, i + 1);
        jbuf_put (b, tmp, (size_t) len);
    }
    s_shape_printf (b, "fragment F%d on Message { id }\n", n / 2 - 1);
}

static const shape_t SHAPES[] = {
    { "aliases", NULL, 1, s_gen_aliases },
    { "same-field", NULL, 1, s_gen_same_field },
    { "root-aliases", NULL, 0, s_gen_root_aliases },
    { "fragments", NULL, 1, s_gen_fragments },
    { "spread-reuse", NULL, 0, s_gen_spread_reuse },
    { "spread-mixed", NULL, 0, s_gen_spread_mixed },
    { "variables", NULL, 1, s_gen_variables },
    { "field-arguments", NULL, 1, s_gen_field_arguments },
    { "arguments", NULL, 0, s_gen_arguments },
    { "duplicate-arguments", NULL, 0, s_gen_duplicate_arguments },
    { "directives", NULL, 0, s_gen_directives },
    { "deep", NULL, 1, s_gen_deep },
    { "list", NULL, 1, s_gen_list },
    { "object-list", NULL, 1, s_gen_object_list },
    { "object-fields", NULL, 0, s_gen_object_fields },
    { "variable-list", NULL, 1, s_gen_variable_list },
    { "operations", "o0", 1, s_gen_operations },
    { "shared-fragments", "o0", 0, s_gen_shared_fragments },
};

#define SHAPES_COUNT (sizeof SHAPES / sizeof SHAPES[0])

#endif
