/*  topic.c: the @topic directive, which maps a subscription field to a
 *  broker topic: @topic(name: "chat.{channel}") puts the value of the
 *  field's argument channel in place of {channel}, and
 *  @topic(name: "user.{jwt.sub}") the claim sub of the client's token in
 *  place of {jwt.sub}.
 *
 *  The template is compiled once, when the schema loads, into literal
 *  segments and argument slots, with every error an operator can fix in
 *  the SDL reported then. Preparing a subscription only expands it with
 *  the root field's coerced arguments and checks the result as a topic.
 *  A field without @topic has its own name as its topic.
 */
#include "gql_internal.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  Compiling, at schema load

//  The argument that placeholder {name} names: its index in f->args, or
//  -1 after an error (no such argument, or one that cannot be text).
static int64_t
s_slot (gql_arena_t *a, gql_errs_t *e, const gql_field_t *f, const char *name, uint32_t loc)
{
    uint32_t k = 0;
    while (k < f->args.n && strcmp (((gql_input_t *) f->args.items[k])->name, name) != 0)
        k++;
    if (k == f->args.n) {
        const char *hint = gql_suggest (a, name, &f->args, offsetof (gql_input_t, name));
        gql_err (e, loc, "@topic placeholder \"{%s}\" of field \"%s.%s\" names no argument of "
                 "the field%s%s", name, f->owner->name, f->name, *hint ? "." : "", hint);
        return -1;
    }
    const gql_input_t *in = f->args.items[k];
    const gql_tref_t *at = in->type->kind == GQL_T_NONNULL ? in->type->of : in->type;
    if (at->kind != GQL_T_NAMED || !gql_type_is_leaf (at->type)) {
        gql_err (e, loc,
                 "@topic placeholder \"{%s}\" of field \"%s.%s\" names an argument of type \"%s\"; "
                 "only scalar and enum arguments can be put in a topic",
                 name, f->owner->name, f->name, gql_tref_str (a, in->type));
        return -1;
    }
    return k;
}

//  {jwt.NAME} takes a claim of the client's token; NAME may be a path of
//  dot-separated keys into nested objects ({jwt.org.id}).
#define S_CLAIM_PREFIX "jwt."

//  Checks the path of a claim placeholder: non-empty keys between dots.
//  Returns 0, or -1 after an error.
static int
s_claim_path (gql_errs_t *e, const gql_field_t *f, const char *name, uint32_t loc)
{
    const char *path = name + sizeof S_CLAIM_PREFIX - 1;
    size_t n = strlen (path);
    if (n == 0 || path[0] == '.' || path[n - 1] == '.' || strstr (path, "..")) {
        gql_err (e, loc, "@topic placeholder \"{%s}\" of field \"%s.%s\" names no claim: write "
                 "{jwt.NAME}, where NAME is a claim of the client's token, such as {jwt.sub}",
                 name, f->owner->name, f->name);
        return -1;
    }
    return 0;
}

//  Split "chat.{channel}" (len bytes at tpl) into t's segments, which
//  have room for one per byte. Returns 0, or -1 after an error.
static int
s_split (gql_arena_t *a, gql_errs_t *e, const gql_field_t *f, const char *tpl, size_t len,
         uint32_t loc, gql_topic_t *t)
{
    gql_topic_seg_t *segs = t->segs;
    size_t i = 0;
    while (i < len) {
        if (tpl[i] == '}') {
            gql_err (e, loc,
                     "@topic template \"%s\" of field \"%s.%s\" has a \"}\" without a \"{\"", tpl,
                     f->owner->name, f->name);
            return -1;
        }
        if (tpl[i] != '{') {
            size_t j = i;
            while (j < len && tpl[j] != '{' && tpl[j] != '}')
                j++;
            segs[t->nsegs].text = tpl + i;
            segs[t->nsegs++].len = j - i;
            i = j;
            continue;
        }
        size_t j = i + 1;
        while (j < len && tpl[j] != '}' && tpl[j] != '{')
            j++;
        if (j >= len || tpl[j] != '}') {
            gql_err (e, loc, "@topic template \"%s\" of field \"%s.%s\" has an unclosed \"{\"",
                     tpl, f->owner->name, f->name);
            return -1;
        }
        const char *name = gql_strndup (a, tpl + i + 1, j - i - 1);
        if (!name) {
            e->oom = 1;
            return -1;
        }
        if (strncmp (name, S_CLAIM_PREFIX, sizeof S_CLAIM_PREFIX - 1) == 0) {
            if (s_claim_path (e, f, name, loc) != 0)
                return -1;
            segs[t->nsegs].text = NULL;
            segs[t->nsegs].claim = name + sizeof S_CLAIM_PREFIX - 1;
            segs[t->nsegs++].len = strlen (name) - (sizeof S_CLAIM_PREFIX - 1);
            i = j + 1;
            continue;
        }
        int64_t k = s_slot (a, e, f, name, loc);
        if (k < 0)
            return -1;
        segs[t->nsegs].text = NULL;
        segs[t->nsegs++].arg = (uint32_t) k;
        i = j + 1;
    }
    return 0;
}

//  Whether the literal parts alone can make a topic: arguments can only
//  add to them, so a template that fails here fails for every value.
static int
s_possible (gql_errs_t *e, const gql_field_t *f, const gql_topic_t *t, const char *tpl, size_t len,
            uint32_t loc)
{
    if (t->nsegs == 0) {
        gql_err (e, loc, "@topic name of field \"%s.%s\" is empty", f->owner->name, f->name);
        return 0;
    }
    jbuf_t lit;
    jbuf_init (&lit, 0);
    size_t static_len = 0;
    int has_slot = 0;
    for (uint32_t k = 0; k < t->nsegs; k++) {
        if (t->segs[k].text) {
            jbuf_put (&lit, t->segs[k].text, t->segs[k].len);
            static_len += t->segs[k].len;
        }
        else
            has_slot = 1;
    }
    int ok = 0;
    if (static_len > WIRE_TOPIC_MAX || memchr (tpl, 0, len)
        || (!has_slot && wire_topic_check (lit.data ? lit.data : "", lit.len) != WIRE_OK))
        gql_err (e, loc,
                 "@topic name of field \"%s.%s\" cannot make a valid topic (1 to %d bytes of "
                 "UTF-8, no NUL)",
                 f->owner->name, f->name, WIRE_TOPIC_MAX);
    else if (t->segs[0].text && wire_topic_reserved (t->segs[0].text, t->segs[0].len))
        gql_err (e, loc, "@topic name of field \"%s.%s\" starts with the reserved prefix \"%s\"",
                 f->owner->name, f->name, WIRE_RESERVED_PREFIX);
    else
        ok = 1;
    jbuf_free (&lit);
    return ok;
}

//  Compile the template of directive d into f->topic.
static void
s_compile (gql_arena_t *a, gql_errs_t *e, gql_field_t *f, const gql_directive_t *d)
{
    const gql_arg_t *arg = NULL;
    for (uint32_t k = 0; k < d->args.n && !arg; k++)
        if (strcmp (((gql_arg_t *) d->args.items[k])->name, "name") == 0)
            arg = d->args.items[k];
    if (!arg || arg->value->kind != GQL_V_STRING)
        return;                 //  reported by the directive checks
    const char *tpl = arg->value->text;
    size_t len = arg->value->len;
    uint32_t loc = arg->value->loc;
    gql_topic_t *t = gql_alloc (a, sizeof *t);
    //  At most one segment per character.
    if (!t || !(t->segs = gql_alloc_array (a, len + 1, sizeof *t->segs))) {
        e->oom = 1;
        return;
    }
    if (s_split (a, e, f, tpl, len, loc, t) == 0 && s_possible (e, f, t, tpl, len, loc))
        f->topic = t;
}

void
gql_topic_compile (gql_schema_t *s, gql_errs_t *e)
{
    for (uint32_t i = 0; i < s->types.n; i++) {
        gql_type_t *t = s->types.items[i];
        for (uint32_t j = 0; j < t->fields.n; j++) {
            gql_field_t *f = t->fields.items[j];
            const gql_fdef_t *fd = f->ast;
            for (uint32_t k = 0; fd && k < fd->directives.n; k++) {
                const gql_directive_t *d = fd->directives.items[k];
                if (strcmp (d->name, "topic") != 0)
                    continue;
                if (t != s->subscription)
                    gql_err (e, d->loc,
                             "@topic may only be used on fields of the subscription root "
                             "type%s%s%s",
                             s->subscription ? " \"" : "",
                             s->subscription ? s->subscription->name : "",
                             s->subscription ? "\"" : "");
                else if (!f->topic)
                    s_compile (&s->arena, e, f, d);
            }
        }
    }
}

int
gql_topic_template (const gql_field_t *f, char *buf, size_t size)
{
    if (!f->topic) {
        snprintf (buf, size, "%s", f->name);
        return 0;
    }
    size_t used = 0;
    buf[0] = 0;
    for (uint32_t k = 0; k < f->topic->nsegs && used + 1 < size; k++) {
        const gql_topic_seg_t *seg = &f->topic->segs[k];
        int n;
        if (seg->text)
            n = snprintf (buf + used, size - used, "%.*s", (int) seg->len, seg->text);
        else if (seg->claim)
            n = snprintf (buf + used, size - used, "{" S_CLAIM_PREFIX "%s}", seg->claim);
        else {
            const gql_input_t *arg = f->args.items[seg->arg];
            n = snprintf (buf + used, size - used, "{%s}", arg->name);
        }
        if (n < 0)
            return -1;
        used += (size_t) n < size - used ? (size_t) n : size - used - 1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Expanding, for a prepared subscription

//  An argument's value as topic text; -1 if it is not a scalar.
static int
s_value (jbuf_t *b, const gql_cval_t *v)
{
    char tmp[32];
    int n;
    switch (v->kind) {
        case GQL_C_STRING:
        case GQL_C_ENUM:
            jbuf_put (b, v->s, v->len);
            return 0;
        case GQL_C_INT:
            n = snprintf (tmp, sizeof tmp, "%lld", (long long) v->i);
            jbuf_put (b, tmp, (size_t) n);
            return 0;
        case GQL_C_FLOAT:
            jbuf_json_double (b, v->f);
            return 0;
        case GQL_C_BOOLEAN:
            jbuf_puts (b, v->i ? "true" : "false");
            return 0;
        default:
            return -1;
    }
}

//  The claim at a dot-separated path (len bytes) in claims, or NULL.
static const json_t *
s_claim (const json_t *claims, const char *path, size_t len)
{
    const json_t *v = claims;
    while (v && json_is_object (v)) {
        const char *dot = memchr (path, '.', len);
        size_t key = dot ? (size_t) (dot - path) : len;
        v = json_object_getn (v, path, key);
        if (!dot)
            return v;
        path += key + 1;
        len -= key + 1;
    }
    return NULL;
}

//  A claim's value as topic text: a string or an integer. Returns 0, or
//  -1 after an error.
static int
s_claim_value (jbuf_t *b, gql_errs_t *e, const gql_field_t *f, const json_t *claims,
               const gql_topic_seg_t *seg, uint32_t loc)
{
    if (!claims) {
        gql_err (e, loc, "Cannot compute the topic of field \"%s\": it takes the claim \"%.*s\" "
                 "of the client's token, and this connection has no token.", f->name,
                 (int) seg->len, seg->claim);
        return -1;
    }
    const json_t *v = s_claim (claims, seg->claim, seg->len);
    char tmp[32];
    if (json_is_string (v))
        jbuf_put (b, json_string_value (v), json_string_length (v));
    else if (json_is_integer (v)) {
        int n = snprintf (tmp, sizeof tmp, "%lld", (long long) json_integer_value (v));
        jbuf_put (b, tmp, (size_t) n);
    }
    else {
        gql_err (e, loc, "Cannot compute the topic of field \"%s\": the client's token has no "
                 "string or integer claim \"%.*s\".", f->name, (int) seg->len, seg->claim);
        return -1;
    }
    return 0;
}

char *
gql_topic_expand (gql_arena_t *a, gql_errs_t *e, const gql_field_t *f,
                  const gql_cval_t *const *vals, const json_t *claims, uint32_t loc)
{
    jbuf_t b;
    jbuf_init (&b, 0);
    char *topic = NULL;
    if (!f->topic)
        jbuf_puts (&b, f->name);
    for (uint32_t i = 0; f->topic && i < f->topic->nsegs; i++) {
        const gql_topic_seg_t *seg = &f->topic->segs[i];
        if (seg->text) {
            jbuf_put (&b, seg->text, seg->len);
            continue;
        }
        if (seg->claim) {
            if (s_claim_value (&b, e, f, claims, seg, loc) != 0)
                goto out;
            continue;
        }
        const gql_input_t *arg = f->args.items[seg->arg];
        const gql_cval_t *v = vals[seg->arg];
        if (!v || v->kind == GQL_C_NULL) {
            gql_err (e, loc, "Cannot compute the topic of field \"%s\": argument \"%s\" is null.",
                     f->name, arg->name);
            goto out;
        }
        if (s_value (&b, v) != 0) {
            gql_err (e, loc, "Cannot compute the topic of field \"%s\": argument \"%s\" is not a "
                     "scalar value.", f->name, arg->name);
            goto out;
        }
    }
    if (jbuf_failed (&b)) {
        e->oom = 1;
        goto out;
    }
    //  Clients must not reach the backbone's own topics.
    wire_err_t werr = wire_topic_check (b.data ? b.data : "", b.len);
    if (werr == WIRE_OK && wire_topic_reserved (b.data, b.len))
        werr = WIRE_TOPIC_RESERVED;
    if (werr != WIRE_OK) {
        gql_err (e, loc, "The topic computed for field \"%s\" is not valid: %s.", f->name,
                 wire_strerror (werr));
        goto out;
    }
    if (!(topic = gql_strndup (a, b.data, b.len)))
        e->oom = 1;
out:
    jbuf_free (&b);
    return topic;
}
