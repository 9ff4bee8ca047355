/*  gql.h: herald-edge's GraphQL engine.
 *
 *  Pure code, with no I/O and no global state: it turns an SDL schema and
 *  a subscription document into a prepared subscription (validated,
 *  variables coerced, topic computed), and renders msgpack event payloads
 *  into GraphQL results. The socket glue and the protocol state machines
 *  use only this header. docs/graphql.md describes the supported GraphQL.
 *
 *  Thread-safety: a schema is immutable once loaded and may be shared; a
 *  prepared subscription is immutable and may be executed from any thread.
 *  Lifetimes: a gql_sub_t may point into its schema; destroy every
 *  subscription before the schema.
 */
#ifndef HERALD_GQL_H
#define HERALD_GQL_H

#include <jansson.h>
#include <msgpack.h>
#include <stddef.h>

#include "jbuf.h"

typedef struct gql_schema gql_schema_t;
typedef struct gql_sub gql_sub_t;

/*  Limits on one document; a field of 0 or less takes its default.
 *
 *  max_depth: the deepest field nesting in the planned selection, after
 *  fragments are expanded (the root field is at depth 1).
 *
 *  max_fields: the field selections written in the document, each counted
 *  once where it appears in the text: aliased or not, __typename included,
 *  in every operation and fragment definition of the document (selected,
 *  used, or not) and in inline fragments; fragment spreads, inline
 *  fragments, arguments and directives are not fields. A fragment counts
 *  once however often it is spread (the expanded selection has its own
 *  cap, GQL_MAX_PLAN_FIELDS in gql_internal.h). Checked right after
 *  parsing, before any validation, so a document past it costs no more
 *  than its parse. */
typedef struct {
    int max_depth;
    int max_fields;
} gql_limits_t;

#define GQL_DEFAULT_MAX_DEPTH 16
#define GQL_DEFAULT_MAX_FIELDS 1000

/*  Load a schema from SDL text. The subscription root is the type named in
 *  `schema { subscription: T }`, or else the type named Subscription.
 *  Returns NULL on failure, with a malloc'ed message in *err such as
 *  "line 4, column 12: unknown type \"Mesage\"". */
gql_schema_t *gql_schema_new (const char *sdl, size_t len, char **err);
void gql_schema_destroy (gql_schema_t **self_p);

/*  The subscription root's i-th field (in the order of the schema): its
 *  name, and in topic its topic template as the @topic directive writes
 *  it ("chat.{channel}"), or the field's name when it has no @topic (its
 *  topic is then its name). The template is cut short to fit size bytes.
 *  Returns 0, or -1 when there is no i-th field. */
int gql_schema_subscription_field (const gql_schema_t *self, size_t i, const char **name,
                                   char *topic, size_t size);

/*  Prepare one subscription: parse the document, validate it against the
 *  schema, select the operation (operation_name may be NULL), coerce the
 *  variables (a JSON object, or NULL for none), resolve fragments and
 *  @skip/@include into a plan, and compute the topic from the root field's
 *  @topic directive and arguments.
 *
 *  Returns NULL on failure, with *errors set to a malloc'ed JSON array of
 *  GraphQL errors, each {"message":..., "locations":[{"line":L,"column":C}]}
 *  (locations where they apply). A query or mutation is refused this way,
 *  and so is a document past a limit (limits may be NULL for the
 *  defaults): past max_fields, the one error "The document selects too
 *  many fields: N, and the limit is M." at the first field past the limit.
 *
 *  The work of preparing grows linearly (at worst n log n) with the size
 *  of the document, whatever its shape. */
gql_sub_t *gql_prepare (const gql_schema_t *schema, const char *query, size_t len,
                        const char *operation_name, const json_t *variables,
                        const gql_limits_t *limits, char **errors);

/*  gql_prepare for a client with a token: claims (the token's claims, a
 *  JSON object, or NULL for a client without one) fill the {jwt.NAME}
 *  placeholders of @topic templates. A template with such a placeholder
 *  fails, with an error, when there are no claims or NAME is not a string
 *  or integer claim. */
gql_sub_t *gql_prepare_as (const gql_schema_t *schema, const char *query, size_t len,
                           const char *operation_name, const json_t *variables,
                           const json_t *claims, const gql_limits_t *limits, char **errors);

/*  The broker topic this subscription listens to (valid UTF-8, 1..255
 *  bytes, no NUL). */
const char *gql_sub_topic (const gql_sub_t *self);

/*  A byte string that identifies the rendering: two subscriptions whose
 *  topics are equal and whose keys are equal produce identical results for
 *  every payload, so the edge renders once for both. The key includes
 *  where each field is in the document, since error locations show it. */
const char *gql_sub_key (const gql_sub_t *self, size_t *len);

/*  As gql_sub_key, without the locations: two subscriptions with equal
 *  topics and shape keys produce identical results for every payload that
 *  renders without field errors (gql_execute returning 0). Documents that
 *  differ only in layout, operation name, fragments versus inline
 *  selections or unused variables have equal shape keys. */
const char *gql_sub_shape_key (const gql_sub_t *self, size_t *len);

void gql_sub_destroy (gql_sub_t **self_p);

/*  Render one event. The payload is the value of the root field. Appends
 *  the execution result, a JSON object with "data" and, when field errors
 *  occurred, "errors" (each with "message", "locations" and "path"), to
 *  out. Returns 0, 1 if the result holds field errors, or -1 if out failed
 *  (memory or its limit). */
int gql_execute (const gql_sub_t *self, const msgpack_object *payload, jbuf_t *out);

#endif
