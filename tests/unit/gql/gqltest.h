/*  gqltest.h: helpers the GraphQL engine's unit tests share: load a
 *  schema, prepare a document, validate without preparing, execute over a
 *  payload written as JSON. Every returned string is malloc'ed (free()).
 */
#ifndef HERALD_GQLTEST_H
#define HERALD_GQLTEST_H

#include "gql.h"
#include "gql_internal.h"
#include "mpjson.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  1 if needle is in text, or in one of the messages of text when text is
//  a JSON error list (so tests can quote messages without JSON escapes).
static inline int
t_contains (const char *text, const char *needle)
{
    if (!text)
        return 0;
    if (strstr (text, needle))
        return 1;
    json_t *v = json_loads (text, JSON_DECODE_ANY, NULL);
    int found = 0;
    for (size_t i = 0; json_is_array (v) && i < json_array_size (v) && !found; i++) {
        const char *m = json_string_value (json_object_get (json_array_get (v, i), "message"));
        found = m && strstr (m, needle);
    }
    json_decref (v);
    return found;
}

#define CHECK_CONTAINS(hay, needle)                                                  \
    do {                                                                             \
        const char *t_h = (hay), *t_n = (needle);                                    \
        if (!t_contains (t_h, t_n)) {                                                \
            fprintf (stderr, "%s:%d: CHECK_CONTAINS failed:\n  in:       %s\n  missing:  %s\n", \
                     __FILE__, __LINE__, t_h ? t_h : "(null)", t_n);                 \
            t_failures++;                                                            \
        }                                                                            \
    } while (0)

static inline gql_schema_t *
t_schema (const char *sdl)
{
    char *err = NULL;
    gql_schema_t *s = gql_schema_new (sdl, strlen (sdl), &err);
    if (!s)
        fprintf (stderr, "schema error: %s\n", err ? err : "(none)");
    free (err);
    return s;
}

//  The schema error text, or NULL if the schema loads.
static inline char *
t_schema_error (const char *sdl)
{
    char *err = NULL;
    gql_schema_t *s = gql_schema_new (sdl, strlen (sdl), &err);
    if (s) {
        gql_schema_destroy (&s);
        return NULL;
    }
    return err ? err : strdup ("(no message)");
}

static inline gql_sub_t *
t_prepare_op (const gql_schema_t *s, const char *doc, const char *op, const char *vars, char **errors)
{
    json_t *v = vars ? json_loads (vars, JSON_ALLOW_NUL, NULL) : NULL;
    if (vars && !v)
        fprintf (stderr, "bad variables JSON in test: %s\n", vars);
    gql_limits_t limits = { GQL_DEFAULT_MAX_DEPTH };
    gql_sub_t *sub = gql_prepare (s, doc, strlen (doc), op, v, &limits, errors);
    json_decref (v);
    return sub;
}

static inline gql_sub_t *
t_prepare (const gql_schema_t *s, const char *doc, const char *vars, char **errors)
{
    return t_prepare_op (s, doc, NULL, vars, errors);
}

//  The errors gql_prepare gives, or NULL if it succeeds.
static inline char *
t_errors (const gql_schema_t *s, const char *doc, const char *vars)
{
    char *errors = NULL;
    gql_sub_t *sub = t_prepare (s, doc, vars, &errors);
    if (sub) {
        gql_sub_destroy (&sub);
        free (errors);
        return NULL;
    }
    return errors ? errors : strdup ("(no errors given)");
}

//  Parse and validate only (every operation, as the spec says), or NULL
//  if the document is valid. Does not select or coerce.
static inline char *
t_validate (const gql_schema_t *s, const char *doc)
{
    gql_arena_t a;
    gql_arena_init (&a, 4096);
    gql_errs_t e;
    gql_errs_init (&e, &a);
    gql_src_t src = { .text = doc, .len = strlen (doc) };
    gql_doc_t *d = gql_parse (&a, doc, strlen (doc), &e);
    if (d)
        gql_validate (&a, s, d, &e);
    char *out = gql_errs_count (&e) ? gql_errs_json (&e, &src) : NULL;
    gql_arena_free (&a);
    return out;
}

static inline char *
t_exec (const gql_sub_t *sub, const char *payload_json)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    char err[256];
    if (mpjson_from_json (payload_json, strlen (payload_json), &sb, err, sizeof err) != 0) {
        fprintf (stderr, "bad payload JSON in test: %s\n", err);
        msgpack_sbuffer_destroy (&sb);
        return strdup ("(bad payload)");
    }
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    msgpack_unpack_next (&u, sb.data, sb.size, &off);
    jbuf_t out;
    jbuf_init (&out, 0);
    int rc = gql_execute (sub, &u.data, &out);
    char *text = rc >= 0 ? jbuf_take (&out, NULL) : strdup ("(execute failed)");
    //  Whatever the payload, the output must be valid JSON, and it holds
    //  "errors" exactly when gql_execute says so.
    json_t *check = rc >= 0 ? json_loads (text, 0, NULL) : NULL;
    if (rc >= 0 && (rc == 1) != (json_object_get (check, "errors") != NULL)) {
        fprintf (stderr, "gql_execute returned %d for %s\n", rc, text);
        t_failures++;
    }
    if (rc >= 0 && !json_is_object (check)) {
        fprintf (stderr, "gql_execute wrote invalid JSON: %s\n", text);
        t_failures++;
    }
    json_decref (check);
    jbuf_free (&out);
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_destroy (&sb);
    return text;
}

//  Prepare and execute: the result JSON, or the prepare errors.
static inline char *
t_run (const gql_schema_t *s, const char *doc, const char *vars, const char *payload_json)
{
    char *errors = NULL;
    gql_sub_t *sub = t_prepare (s, doc, vars, &errors);
    if (!sub)
        return errors ? errors : strdup ("(no errors given)");
    char *out = t_exec (sub, payload_json);
    gql_sub_destroy (&sub);
    return out;
}

//  1 if text is a JSON array with at least one object that has a
//  "message" string (what every error list must be).
static inline int
t_is_error_list (const char *text)
{
    json_error_t je;
    json_t *v = text ? json_loads (text, 0, &je) : NULL;
    int ok = json_is_array (v) && json_array_size (v) > 0;
    for (size_t i = 0; ok && i < json_array_size (v); i++)
        ok = json_is_string (json_object_get (json_array_get (v, i), "message"));
    json_decref (v);
    return ok;
}

#endif
