/*  execute.c: render one event, the hot path (once per event per group of
 *  identical subscriptions).
 *
 *  Spec 6.4 over a msgpack value instead of resolvers: a field's value is
 *  the payload map's entry named like the field (not its alias); a missing
 *  entry is null. The result is written straight into the caller's
 *  buffer. Null propagation (6.4.4) needs to undo output: every nullable
 *  position remembers where its value started, and when a non-null
 *  position below it fails, the buffer is cut back there and "null"
 *  written instead. Errors go to a second buffer, created only when the
 *  first error happens, so a clean event allocates nothing beyond the
 *  output's own growth. The path of an error is a chain of stack frames,
 *  walked only when an error is written.
 */
#include "gql_internal.h"
#include "mpjson.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct s_path {
    const struct s_path *up;
    const gql_pfield_t *field;  //  a response key, or NULL for a list index
    uint32_t index;
} s_path_t;

typedef struct {
    jbuf_t *out;
    jbuf_t errs;
    int nerrs;
} s_exec_t;

//  Returned when a value is null because of an error in a non-null
//  position: the caller must propagate it.
#define S_NULLED 1

//  ---------------------------------------------------------------------
//  Errors (the cold path)

static void
s_write_path (jbuf_t *b, const s_path_t *p)
{
    if (p->up) {
        s_write_path (b, p->up);
        jbuf_putc (b, ',');
    }
    if (p->field)
        jbuf_json_string (b, p->field->key, p->field->key_len);
    else
        jbuf_json_int (b, p->index);
}

//  A short description of a payload value for messages: scalars in full
//  (long strings cut), containers as "[...]" or "{...}".
static void
s_describe (char *buf, size_t size, const msgpack_object *v)
{
    jbuf_t b;
    jbuf_init (&b, 0);
    switch (v->type) {
        case MSGPACK_OBJECT_ARRAY: jbuf_puts (&b, "[...]"); break;
        case MSGPACK_OBJECT_MAP: jbuf_puts (&b, "{...}"); break;
        case MSGPACK_OBJECT_BIN: jbuf_puts (&b, "<binary>"); break;
        case MSGPACK_OBJECT_EXT: jbuf_puts (&b, "<extension>"); break;
        case MSGPACK_OBJECT_STR:
            jbuf_json_string (&b, v->via.str.ptr, v->via.str.size > 64 ? 64 : v->via.str.size);
            break;
        default: mpjson_write (&b, v); break;
    }
    if (jbuf_failed (&b))
        snprintf (buf, size, "?");
    else
        snprintf (buf, size, "%.*s", (int) b.len, b.data);
    jbuf_free (&b);
}

static void
s_error (s_exec_t *x, const gql_pfield_t *f, const s_path_t *path, const char *fmt, ...)
    GQL_PRINTF (4, 5);

static void
s_error (s_exec_t *x, const gql_pfield_t *f, const s_path_t *path, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    if (n < 0)
        n = 0;
    if ((size_t) n >= sizeof msg)
        n = sizeof msg - 1;
    jbuf_t *b = &x->errs;
    if (x->nerrs++)
        jbuf_putc (b, ',');
    jbuf_puts (b, "{\"message\":");
    jbuf_json_string (b, msg, (size_t) n);
    jbuf_puts (b, ",\"locations\":[");
    for (uint32_t i = 0; i < f->nlocs; i++) {
        char tmp[64];
        int k = snprintf (tmp, sizeof tmp, "%s{\"line\":%u,\"column\":%u}", i ? "," : "",
                          f->locs[2 * i], f->locs[2 * i + 1]);
        jbuf_put (b, tmp, (size_t) k);
    }
    jbuf_puts (b, "],\"path\":[");
    s_write_path (b, path);
    jbuf_puts (b, "]}");
}

static int
s_type_error (s_exec_t *x, const gql_pfield_t *f, const s_path_t *path, const char *what,
              const msgpack_object *v)
{
    char desc[128];
    s_describe (desc, sizeof desc, v);
    s_error (x, f, path, "%s: %s", what, desc);
    return S_NULLED;
}

//  ---------------------------------------------------------------------
//  Values

//  Decimal text of v, faster than snprintf on this path.
static void
s_put_int (jbuf_t *b, int64_t v, int quoted)
{
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    uint64_t u = v < 0 ? 0 - (uint64_t) v : (uint64_t) v;
    if (quoted)
        *--p = '"';
    do {
        *--p = (char) ('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    if (quoted)
        *--p = '"';
    jbuf_put (b, p, (size_t) (end - p));
}

static void
s_put_uint (jbuf_t *b, uint64_t u, int quoted)
{
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    if (quoted)
        *--p = '"';
    do {
        *--p = (char) ('0' + u % 10);
        u /= 10;
    } while (u);
    if (quoted)
        *--p = '"';
    jbuf_put (b, p, (size_t) (end - p));
}

static int s_fields (s_exec_t *x, const gql_pobj_t *obj, const msgpack_object *map,
                     const s_path_t *path);

//  A payload map entry by key. Publishers usually write keys in the order
//  of the selection, so the search starts after the previous match and
//  wraps: one pass over the map in the common case. With duplicate keys,
//  which entry is used is unspecified.
static const msgpack_object *
s_lookup (const msgpack_object_map *m, const char *name, uint32_t len, uint32_t *cursor)
{
    uint32_t n = m->size;
    uint32_t i = *cursor < n ? *cursor : 0;
    for (uint32_t k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
        const msgpack_object *key = &m->ptr[i].key;
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == len
            && memcmp (key->via.str.ptr, name, len) == 0) {
            *cursor = i + 1;
            return &m->ptr[i].val;
        }
    }
    return NULL;
}

//  Result coercion of the leaf types (spec 3.5): the payload's value in
//  the JSON the scalar's result takes, or a field error.

static int
s_int (s_exec_t *x, const gql_pfield_t *f, const msgpack_object *v, const s_path_t *path)
{
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (v->via.u64 <= INT32_MAX) {
            s_put_uint (x->out, v->via.u64, 0);
            return 0;
        }
        return s_type_error (x, f, path, "Int cannot represent non 32-bit signed integer value", v);
    }
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        if (v->via.i64 >= INT32_MIN) {
            s_put_int (x->out, v->via.i64, 0);
            return 0;
        }
        return s_type_error (x, f, path, "Int cannot represent non 32-bit signed integer value", v);
    }
    if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64) {
        double d = v->via.f64;
        if (isfinite (d) && d == floor (d)) {
            if (d >= INT32_MIN && d <= INT32_MAX) {
                s_put_int (x->out, (int64_t) d, 0);
                return 0;
            }
            return s_type_error (x, f, path, "Int cannot represent non 32-bit signed integer value",
                                 v);
        }
    }
    return s_type_error (x, f, path, "Int cannot represent non-integer value", v);
}

static int
s_float (s_exec_t *x, const gql_pfield_t *f, const msgpack_object *v, const s_path_t *path)
{
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        s_put_uint (x->out, v->via.u64, 0);
        return 0;
    }
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        s_put_int (x->out, v->via.i64, 0);
        return 0;
    }
    if ((v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
        && isfinite (v->via.f64)) {
        jbuf_json_double (x->out, v->via.f64);
        return 0;
    }
    return s_type_error (x, f, path, "Float cannot represent non numeric value", v);
}

static int
s_string (s_exec_t *x, const gql_pfield_t *f, const msgpack_object *v, const s_path_t *path)
{
    jbuf_t *out = x->out;
    switch (v->type) {
        case MSGPACK_OBJECT_STR:
            jbuf_json_string (out, v->via.str.ptr, v->via.str.size);
            return 0;
        case MSGPACK_OBJECT_BOOLEAN:
            jbuf_puts (out, v->via.boolean ? "\"true\"" : "\"false\"");
            return 0;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            s_put_uint (out, v->via.u64, 1);
            return 0;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            s_put_int (out, v->via.i64, 1);
            return 0;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            if (isfinite (v->via.f64)) {
                jbuf_putc (out, '"');
                jbuf_json_double (out, v->via.f64);
                jbuf_putc (out, '"');
                return 0;
            }
            break;
        default:
            break;
    }
    return s_type_error (x, f, path, "String cannot represent value", v);
}

static int
s_boolean (s_exec_t *x, const gql_pfield_t *f, const msgpack_object *v, const s_path_t *path)
{
    if (v->type == MSGPACK_OBJECT_BOOLEAN) {
        if (v->via.boolean)
            jbuf_put (x->out, "true", 4);
        else
            jbuf_put (x->out, "false", 5);
        return 0;
    }
    return s_type_error (x, f, path, "Boolean cannot represent a non boolean value", v);
}

static int
s_id (s_exec_t *x, const gql_pfield_t *f, const msgpack_object *v, const s_path_t *path)
{
    if (v->type == MSGPACK_OBJECT_STR) {
        jbuf_json_string (x->out, v->via.str.ptr, v->via.str.size);
        return 0;
    }
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        s_put_uint (x->out, v->via.u64, 1);
        return 0;
    }
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        s_put_int (x->out, v->via.i64, 1);
        return 0;
    }
    if ((v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
        && isfinite (v->via.f64) && v->via.f64 == floor (v->via.f64)
        && fabs (v->via.f64) <= 9007199254740992.0) {
        s_put_int (x->out, (int64_t) v->via.f64, 1);
        return 0;
    }
    return s_type_error (x, f, path, "ID cannot represent value", v);
}

static int
s_enum (s_exec_t *x, const gql_pfield_t *f, const gql_ptype_t *t, const msgpack_object *v,
        const s_path_t *path)
{
    if (v->type == MSGPACK_OBJECT_STR) {
        for (uint32_t i = 0; i < t->nvalues; i++) {
            const gql_pname_t *name = &t->values[i];
            if (name->len == v->via.str.size && memcmp (name->s, v->via.str.ptr, name->len) == 0) {
                jbuf_json_string (x->out, v->via.str.ptr, v->via.str.size);
                return 0;
            }
        }
    }
    char what[256];
    snprintf (what, sizeof what, "Enum \"%s\" cannot represent value", t->type->name);
    return s_type_error (x, f, path, what, v);
}

static int
s_leaf (s_exec_t *x, const gql_pfield_t *f, const gql_ptype_t *t, const msgpack_object *v,
        const s_path_t *path)
{
    switch (t->kind) {
        case GQL_P_INT:
            return s_int (x, f, v, path);
        case GQL_P_FLOAT:
            return s_float (x, f, v, path);
        case GQL_P_STRING:
            return s_string (x, f, v, path);
        case GQL_P_BOOLEAN:
            return s_boolean (x, f, v, path);
        case GQL_P_ID:
            return s_id (x, f, v, path);
        case GQL_P_CUSTOM:
            mpjson_write (x->out, v);
            return 0;
        case GQL_P_ENUM:
            return s_enum (x, f, t, v, path);
        default:
            return S_NULLED;
    }
}

static int s_complete (s_exec_t *x, const gql_pfield_t *f, const gql_ptype_t *t,
                       const msgpack_object *v, const s_path_t *path);

//  CompleteValue for a value that is present and not null, at a type that
//  is not Non-Null.
static int
s_value (s_exec_t *x, const gql_pfield_t *f, const gql_ptype_t *t, const msgpack_object *v,
         const s_path_t *path)
{
    switch (t->kind) {
        case GQL_P_LIST: {
            if (v->type != MSGPACK_OBJECT_ARRAY) {
                char what[256];
                snprintf (what, sizeof what, "Expected a list for field \"%s.%s\", found",
                          f->parent->name, f->name);
                return s_type_error (x, f, path, what, v);
            }
            jbuf_putc (x->out, '[');
            for (uint32_t i = 0; i < v->via.array.size; i++) {
                if (i)
                    jbuf_putc (x->out, ',');
                s_path_t p = { path, NULL, i };
                if (s_complete (x, f, t->of, &v->via.array.ptr[i], &p))
                    return S_NULLED;
            }
            jbuf_putc (x->out, ']');
            return 0;
        }
        case GQL_P_OBJECT:
            if (v->type != MSGPACK_OBJECT_MAP) {
                char what[256];
                snprintf (what, sizeof what,
                          "Expected a map for field \"%s.%s\" of type \"%s\", found",
                          f->parent->name, f->name, t->obj->name);
                return s_type_error (x, f, path, what, v);
            }
            return s_fields (x, t->obj, v, path);
        case GQL_P_ABSTRACT: {
            if (v->type != MSGPACK_OBJECT_MAP) {
                char what[256];
                snprintf (what, sizeof what,
                          "Expected a map for field \"%s.%s\" of type \"%s\", found",
                          f->parent->name, f->name, t->type->name);
                return s_type_error (x, f, path, what, v);
            }
            //  ResolveAbstractType: the payload names its type.
            uint32_t cursor = 0;
            const msgpack_object *tn = s_lookup (&v->via.map, "__typename", 10, &cursor);
            if (!tn || tn->type != MSGPACK_OBJECT_STR) {
                s_error (x, f, path,
                         "Abstract type \"%s\" must resolve to an object type at runtime for field "
                         "\"%s.%s\": the payload has no \"__typename\" string.",
                         t->type->name, f->parent->name, f->name);
                return S_NULLED;
            }
            for (uint32_t i = 0; i < t->nalts; i++) {
                const gql_pobj_t *alt = &t->alts[i];
                if (alt->name_len == tn->via.str.size
                    && memcmp (alt->name, tn->via.str.ptr, alt->name_len) == 0)
                    return s_fields (x, alt, v, path);
            }
            char desc[128];
            s_describe (desc, sizeof desc, tn);
            s_error (x, f, path,
                     "Runtime object type %s is not a possible type for \"%s\" (field \"%s.%s\").",
                     desc, t->type->name, f->parent->name, f->name);
            return S_NULLED;
        }
        default:
            return s_leaf (x, f, t, v, path);
    }
}

static int
s_complete (s_exec_t *x, const gql_pfield_t *f, const gql_ptype_t *t, const msgpack_object *v,
            const s_path_t *path)
{
    int is_null = !v || v->type == MSGPACK_OBJECT_NIL;
    if (t->kind == GQL_P_NONNULL) {
        if (is_null) {
            s_error (x, f, path, "Cannot return null for non-nullable field %s.%s.",
                     f->parent->name, f->name);
            return S_NULLED;
        }
        return s_value (x, f, t->of, v, path);
    }
    if (is_null) {
        jbuf_put (x->out, "null", 4);
        return 0;
    }
    //  A nullable position: if anything below fails, this becomes null.
    size_t mark = x->out->len;
    if (s_value (x, f, t, v, path)) {
        if (!x->out->failed)
            x->out->len = mark;
        jbuf_put (x->out, "null", 4);
    }
    return 0;
}

static int
s_fields (s_exec_t *x, const gql_pobj_t *obj, const msgpack_object *map, const s_path_t *path)
{
    jbuf_t *out = x->out;
    uint32_t cursor = 0;
    jbuf_putc (out, '{');
    for (uint32_t i = 0; i < obj->nfields; i++) {
        const gql_pfield_t *f = &obj->fields[i];
        jbuf_put (out, f->prefix, f->prefix_len);
        if (f->is_typename) {
            jbuf_put (out, obj->name_json, obj->name_json_len);
            continue;
        }
        s_path_t p = { path, f, 0 };
        if (s_complete (x, f, f->type, s_lookup (&map->via.map, f->name, f->name_len, &cursor), &p))
            return S_NULLED;
    }
    jbuf_putc (out, '}');
    return 0;
}

int
gql_execute (const gql_sub_t *self, const msgpack_object *payload, jbuf_t *out)
{
    if (!self || !out)
        return -1;
    s_exec_t x = { .out = out };
    jbuf_init (&x.errs, 0);
    const gql_pfield_t *root = self->root;
    jbuf_put (out, "{\"data\":", 8);
    size_t mark = out->len;
    jbuf_putc (out, '{');
    jbuf_put (out, root->prefix, root->prefix_len);
    s_path_t p = { NULL, root, 0 };
    if (s_complete (&x, root, root->type, payload, &p)) {
        //  The root field is non-null: data itself becomes null.
        if (!out->failed)
            out->len = mark;
        jbuf_put (out, "null", 4);
    }
    else
        jbuf_putc (out, '}');
    if (x.nerrs) {
        jbuf_put (out, ",\"errors\":[", 11);
        jbuf_put (out, x.errs.data, x.errs.len);
        jbuf_putc (out, ']');
    }
    jbuf_putc (out, '}');
    int failed = jbuf_failed (out) || jbuf_failed (&x.errs);
    jbuf_free (&x.errs);
    return failed ? -1 : x.nerrs ? 1 : 0;
}
