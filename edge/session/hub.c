/*  hub.c: topic -> group -> subscription registry and render-once fan-out.
 *  See hub.h.
 *
 *  Topics live in a hash table. A topic holds a short list of groups: the
 *  distinct renderings of its subscribers (gql_sub_shape_key), usually one
 *  or a few. Within a group, subscriptions whose documents put their
 *  fields at different places (gql_sub_key) form variants: their results
 *  are identical unless a field error reports a location. So an event is
 *  rendered once per group, and again per extra variant only when the
 *  result holds errors.
 *
 *  A variant keeps its subscriptions in an array, so that delivering is a
 *  pass over contiguous pointers; a subscription remembers its index there,
 *  which makes removal O(1) (swap with the last).
 */
#include "hub.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct hub_topic topic_t;
typedef struct hub_group group_t;
typedef struct hub_variant variant_t;

struct hub_sub {
    variant_t *variant;
    hub_deliver_fn *deliver;
    void *owner;
    size_t index;               //  in variant->subs
    size_t prefix_len;
    char prefix[];
};

struct hub_variant {
    variant_t *next;
    group_t *group;
    gql_sub_t *sub;             //  renders for the whole variant
    const char *key;            //  gql_sub_key, owned by sub
    size_t key_len;
    hub_sub_t **subs;
    size_t count;
    size_t cap;
};

struct hub_group {
    group_t *next;
    topic_t *topic;
    char *shape;                //  gql_sub_shape_key (a copy: variants come and go)
    size_t shape_len;
    variant_t *variants;
};

struct hub_topic {
    char *name;
    group_t *groups;
};

struct hub {
    const hub_ops_t *ops;
    void *ctx;
    zhashx_t *topics;
    jbuf_t render;              //  reused for every rendering
    hub_stats_t *stats;             //  own_stats, or where the owner placed them
    hub_stats_t own_stats;
};

static void
s_variant_free (variant_t *v)
{
    for (size_t i = 0; i < v->count; i++)
        free (v->subs[i]);
    free (v->subs);
    gql_sub_destroy (&v->sub);
    free (v);
}

static void
s_group_free (group_t *g)
{
    while (g->variants) {
        variant_t *v = g->variants;
        g->variants = v->next;
        s_variant_free (v);
    }
    free (g->shape);
    free (g);
}

static void
s_topic_free (topic_t **topic_p)
{
    topic_t *topic = *topic_p;
    if (!topic)
        return;
    while (topic->groups) {
        group_t *g = topic->groups;
        topic->groups = g->next;
        s_group_free (g);
    }
    free (topic->name);
    free (topic);
    *topic_p = NULL;
}

hub_t *
hub_new (const hub_ops_t *ops, void *ctx, size_t limit)
{
    hub_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->ops = ops;
    self->ctx = ctx;
    self->stats = &self->own_stats;
    self->topics = zhashx_new ();
    if (!self->topics) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->topics, (zhashx_destructor_fn *) s_topic_free);
    jbuf_init (&self->render, limit);
    return self;
}

void
hub_destroy (hub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hub_t *self = *self_p;
    zhashx_destroy (&self->topics);
    jbuf_free (&self->render);
    free (self);
    *self_p = NULL;
}

const hub_stats_t *
hub_stats (const hub_t *self)
{
    return self->stats;
}

void
hub_place_stats (hub_t *self, hub_stats_t *where)
{
    *where = *self->stats;
    self->stats = where;
}

//  Unlinks an empty variant from its group and frees it; then the group,
//  if that was its last variant.
static void
s_variant_drop (hub_t *self, variant_t *v)
{
    group_t *g = v->group;
    variant_t **vp = &g->variants;
    while (*vp != v)
        vp = &(*vp)->next;
    *vp = v->next;
    s_variant_free (v);
    if (g->variants)
        return;
    group_t **gp = &g->topic->groups;
    while (*gp != g)
        gp = &(*gp)->next;
    *gp = g->next;
    s_group_free (g);
    self->stats->groups--;
}

//  Releases a topic that has no groups left, upstream and here.
static void
s_topic_drop_if_empty (hub_t *self, topic_t *topic)
{
    if (topic->groups)
        return;
    self->ops->topic_remove (self->ctx, topic->name);
    zhashx_delete (self->topics, topic->name);      //  frees it
    self->stats->topics--;
}

//  Finds or makes the topic's group for sub's shape. NULL on failure.
static group_t *
s_group_get (hub_t *self, topic_t *topic, gql_sub_t *sub)
{
    size_t len;
    const char *shape = gql_sub_shape_key (sub, &len);
    group_t *g;
    for (g = topic->groups; g; g = g->next)
        if (g->shape_len == len && memcmp (g->shape, shape, len) == 0)
            return g;
    g = calloc (1, sizeof *g);
    if (!g || !(g->shape = malloc (len ? len : 1))) {
        free (g);
        return NULL;
    }
    memcpy (g->shape, shape, len);
    g->shape_len = len;
    g->topic = topic;
    g->next = topic->groups;
    topic->groups = g;
    self->stats->groups++;
    return g;
}

hub_sub_t *
hub_subscribe (hub_t *self, gql_sub_t *sub, hub_deliver_fn *deliver, void *owner,
               const char *prefix, size_t prefix_len)
{
    const char *name = gql_sub_topic (sub);
    size_t key_len;
    const char *key = gql_sub_key (sub, &key_len);
    group_t *g = NULL;
    variant_t *v = NULL;
    hub_sub_t *hs = malloc (sizeof *hs + prefix_len);
    if (!hs)
        goto fail;

    topic_t *topic = zhashx_lookup (self->topics, name);
    if (!topic) {
        topic = calloc (1, sizeof *topic);
        if (!topic || !(topic->name = strdup (name))) {
            free (topic);
            goto fail;
        }
        if (self->ops->topic_add (self->ctx, name) != 0) {
            s_topic_free (&topic);
            goto fail;
        }
        zhashx_insert (self->topics, name, topic);
        self->stats->topics++;
    }
    g = s_group_get (self, topic, sub);
    if (!g)
        goto fail_topic;
    for (v = g->variants; v; v = v->next)
        if (v->key_len == key_len && memcmp (v->key, key, key_len) == 0)
            break;
    if (!v) {
        v = calloc (1, sizeof *v);
        if (!v)
            goto fail_group;
        v->group = g;
        v->sub = sub;           //  the variant owns it from here
        v->key = key;
        v->key_len = key_len;
        v->next = g->variants;
        g->variants = v;
        sub = NULL;
    }
    if (v->count == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        hub_sub_t **subs
            = cap < SIZE_MAX / sizeof *subs ? realloc (v->subs, cap * sizeof *subs) : NULL;
        if (!subs)
            goto fail_group;
        v->subs = subs;
        v->cap = cap;
    }
    hs->variant = v;
    hs->deliver = deliver;
    hs->owner = owner;
    hs->index = v->count;
    hs->prefix_len = prefix_len;
    memcpy (hs->prefix, prefix, prefix_len);
    v->subs[v->count++] = hs;
    self->stats->subscriptions++;
    gql_sub_destroy (&sub);     //  a twin of the variant's, not needed
    return hs;

fail_group:
    if (v && v->count == 0)
        s_variant_drop (self, v);       //  and the group, if now empty
    else if (!g->variants) {
        group_t **gp = &topic->groups;
        while (*gp != g)
            gp = &(*gp)->next;
        *gp = g->next;
        s_group_free (g);
        self->stats->groups--;
    }
fail_topic:
    s_topic_drop_if_empty (self, topic);
fail:
    free (hs);
    gql_sub_destroy (&sub);
    return NULL;
}

const char *
hub_sub_topic (const hub_sub_t *sub)
{
    return gql_sub_topic (sub->variant->sub);
}

void
hub_unsubscribe (hub_t *self, hub_sub_t *hs)
{
    if (!hs)
        return;
    variant_t *v = hs->variant;
    topic_t *topic = v->group->topic;
    v->subs[hs->index] = v->subs[--v->count];
    v->subs[hs->index]->index = hs->index;
    free (hs);
    self->stats->subscriptions--;
    if (v->count == 0) {
        s_variant_drop (self, v);
        s_topic_drop_if_empty (self, topic);
    }
}

static void
s_deliver (hub_t *self, const variant_t *v, const char *body, size_t body_len)
{
    for (size_t i = 0; i < v->count; i++) {
        const hub_sub_t *hs = v->subs[i];
        hs->deliver (hs->owner, hs->prefix, hs->prefix_len, body, body_len);
    }
    self->stats->deliveries += v->count;
}

//  Renders with one variant's subscription. Returns 0 for a result
//  without errors, 1 with field errors; a result over the limit becomes an
//  error result.
static int
s_render (hub_t *self, const variant_t *v, const msgpack_object *payload, const char **body,
          size_t *body_len)
{
    static const char too_big[] =
        "{\"data\":null,\"errors\":[{\"message\":\"the result is larger than the edge's limit\"}]}";
    jbuf_t *r = &self->render;
    jbuf_reset (r);
    self->stats->renders++;
    int rc = gql_execute (v->sub, payload, r);
    if (rc < 0 || jbuf_failed (r)) {
        self->stats->results_too_large++;
        *body = too_big;
        *body_len = sizeof too_big - 1;
        return 0;               //  the same for every variant
    }
    *body = r->data;
    *body_len = r->len;
    return rc;
}

void
hub_publish (hub_t *self, const char *name, const void *payload, size_t size)
{
    topic_t *topic = zhashx_lookup (self->topics, name);
    if (!topic) {
        self->stats->events_unrouted++;
        return;
    }
    self->stats->events++;
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    if (msgpack_unpack_next (&u, payload, size, &off) != MSGPACK_UNPACK_SUCCESS) {
        self->stats->events_invalid++;
        msgpack_unpacked_destroy (&u);
        return;
    }
    for (group_t *g = topic->groups; g; g = g->next) {
        const char *body;
        size_t body_len;
        int errors = s_render (self, g->variants, &u.data, &body, &body_len);
        s_deliver (self, g->variants, body, body_len);
        for (const variant_t *v = g->variants->next; v; v = v->next) {
            //  Error locations differ between variants: render each.
            if (errors)
                s_render (self, v, &u.data, &body, &body_len);
            s_deliver (self, v, body, body_len);
        }
    }
    msgpack_unpacked_destroy (&u);
}
