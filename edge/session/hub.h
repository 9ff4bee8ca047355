/*  hub.h: herald-edge's fan-out registry.
 *
 *  Subscriptions are grouped by topic, then by rendering (the prepared
 *  subscription's shape key): every subscription in a group produces the
 *  same result for an event, so an event is rendered once per group and
 *  the result is handed to each subscription of the group. (Only when a
 *  result holds field errors, whose locations differ between documents,
 *  is it rendered again for each distinct document.) The first
 *  subscription of a topic subscribes upstream and the last one leaving
 *  unsubscribes (a reference count per topic).
 *
 *  No I/O: upstream subscriptions go through hub_ops_t, and each result
 *  goes to the hub_deliver_fn its subscription was given (the transport's,
 *  through the session layer), so the hub is unit-tested on its own.
 */
#ifndef HERALD_HUB_H
#define HERALD_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "gql.h"

typedef struct hub hub_t;
typedef struct hub_sub hub_sub_t;

typedef struct {
    /*  A topic gained its first subscription. Returns 0, or -1 to refuse it. */
    int (*topic_add) (void *ctx, const char *topic);
    /*  A topic lost its last subscription. */
    void (*topic_remove) (void *ctx, const char *topic);
} hub_ops_t;

/*  Delivers one rendered result to a subscription's owner: the
 *  subscription's prefix, then the result (the owner closes the message).
 *  It must not subscribe or unsubscribe anything: an owner that has to go
 *  (a slow consumer) leaves later, outside the call. */
typedef void (hub_deliver_fn) (void *owner, const char *prefix, size_t prefix_len,
                               const char *body, size_t body_len);

typedef struct {
    uint64_t events;            //  events received for some topic
    uint64_t events_unrouted;   //  events for a topic nobody here wants
    uint64_t events_invalid;    //  payloads msgpack-c could not unpack
    uint64_t renders;           //  gql_execute calls
    uint64_t results_too_large; //  renders over the limit, sent as an error result
    uint64_t deliveries;        //  results handed to subscriptions
    size_t topics;              //  topics subscribed upstream now
    size_t groups;              //  distinct renderings (shapes) now
    size_t subscriptions;       //  subscriptions now
} hub_stats_t;

/*  limit: the largest rendered result in bytes; a larger one is replaced
 *  by a GraphQL error result. */
hub_t *hub_new (const hub_ops_t *ops, void *ctx, size_t limit);
void hub_destroy (hub_t **self_p);

/*  Add a subscription whose results go to deliver (with owner), taking
 *  ownership of sub (destroyed here if another subscription already
 *  renders the same way). prefix is the text that goes before each result
 *  for this subscription (it is copied). Returns NULL if memory ran out
 *  or topic_add refused (sub is destroyed either way). */
hub_sub_t *hub_subscribe (hub_t *self, gql_sub_t *sub, hub_deliver_fn *deliver, void *owner,
                          const char *prefix, size_t prefix_len);
void hub_unsubscribe (hub_t *self, hub_sub_t *sub);

/*  The topic a subscription listens to. */
const char *hub_sub_topic (const hub_sub_t *sub);

/*  One event from upstream: render it once per group of the topic and
 *  deliver it to every subscription there. */
void hub_publish (hub_t *self, const char *topic, const void *payload, size_t size);

const hub_stats_t *hub_stats (const hub_t *self);

/*  From now on the hub keeps its stats at where (with the counts so far):
 *  memory the caller owns, which must outlive the hub, such as a slot of a
 *  mapping that other processes read (herald-edge's workers). */
void hub_place_stats (hub_t *self, hub_stats_t *where);

#endif
