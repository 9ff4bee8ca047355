/*  history.c: topics' numbering and their recent events. See history.h.
 *
 *  A topic is a record in a hash table, on a list ordered by its last
 *  event (the least recent is forgotten first when --history-max-topics
 *  is reached). Its kept events sit in a ring, oldest first, so the event
 *  after an offset is found by arithmetic: the kept offsets of a topic
 *  are always consecutive, because an event that cannot be kept (memory)
 *  lets go of its topic's older ones too. Every kept event is also on one
 *  list for all topics, in the order they came: the oldest event overall
 *  is the oldest of its own topic, so trimming for age or for memory
 *  takes from that list's head and from its topic's ring alike.
 */
#include "history.h"
#include "patterns.h"
#include "wire.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_topic s_topic_t;

typedef struct s_event {
    struct s_event *older;      //  on the list of all kept events
    struct s_event *newer;
    s_topic_t *topic;
    uint64_t offset;
    int64_t at_ms;
    size_t len;
    unsigned char payload[];
} s_event_t;

struct s_topic {
    s_topic_t *less_recent;     //  on the list of topics, by last event
    s_topic_t *more_recent;
    uint64_t epoch;
    uint64_t last;              //  the last offset given; 0 before the first
    int keep;                   //  the topic matches --history-topics
    s_event_t **ring;           //  kept events, oldest at ring[head]
    size_t cap, head, count;
    char name[];
};

struct history {
    history_config_t config;
    patterns_t *keep;
    zhashx_t *topics;           //  name -> s_topic_t, owned here
    s_topic_t *least_recent, *most_recent;
    s_event_t *oldest, *newest;
    uint64_t seed, made;
    history_stats_t stats;
};

//  What an event costs against --history-bytes: its payload, its record,
//  and its slot in the ring.
static size_t
s_cost (size_t len)
{
    return sizeof (s_event_t) + len + sizeof (s_event_t *);
}

//  A fresh epoch, never 0 (which means "none").
static uint64_t
s_epoch (history_t *self)
{
    uint64_t z = self->seed + 0x9e3779b97f4a7c15ull * ++self->made;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return z ? z : 1;
}

//  Lets go of the oldest kept event of topic t.
static void
s_pop_oldest (history_t *self, s_topic_t *t)
{
    s_event_t *ev = t->ring[t->head];
    t->head = (t->head + 1) % t->cap;
    t->count--;
    if (ev->older)
        ev->older->newer = ev->newer;
    else
        self->oldest = ev->newer;
    if (ev->newer)
        ev->newer->older = ev->older;
    else
        self->newest = ev->older;
    self->stats.events--;
    self->stats.bytes -= s_cost (ev->len);
    free (ev);
    if (t->count == 0)
        self->stats.topics_kept--;
}

static void
s_trim_topic (history_t *self, s_topic_t *t, uint64_t *counter)
{
    while (t->count) {
        s_pop_oldest (self, t);
        if (counter)
            (*counter)++;
    }
}

//  Lets go of the events past --history-ttl.
static void
s_trim_age (history_t *self, int64_t now_ms)
{
    while (self->config.ttl_ms > 0 && self->oldest
           && now_ms - self->oldest->at_ms >= self->config.ttl_ms) {
        s_pop_oldest (self, self->oldest->topic);
        self->stats.trimmed++;
    }
}

static void
s_unlink_topic (history_t *self, s_topic_t *t)
{
    if (t->less_recent)
        t->less_recent->more_recent = t->more_recent;
    else
        self->least_recent = t->more_recent;
    if (t->more_recent)
        t->more_recent->less_recent = t->less_recent;
    else
        self->most_recent = t->less_recent;
    t->less_recent = t->more_recent = NULL;
}

static void
s_link_most_recent (history_t *self, s_topic_t *t)
{
    t->less_recent = self->most_recent;
    t->more_recent = NULL;
    if (self->most_recent)
        self->most_recent->more_recent = t;
    else
        self->least_recent = t;
    self->most_recent = t;
}

//  zhashx's destructor for a topic: its events, its ring, itself.
static void
s_topic_free (void **item)
{
    s_topic_t *t = *item;
    free (t->ring);
    free (t);
    *item = NULL;
}

static void
s_forget (history_t *self, s_topic_t *t)
{
    s_trim_topic (self, t, NULL);
    s_unlink_topic (self, t);
    self->stats.topics--;
    zhashx_delete (self->topics, t->name);
}

history_t *
history_new (const history_config_t *config, uint64_t seed, char *why, size_t why_len)
{
    history_t *self = calloc (1, sizeof *self);
    if (!self || !(self->topics = zhashx_new ())) {
        snprintf (why, why_len, "out of memory");
        goto fail;
    }
    self->config = *config;
    self->seed = seed;
    zhashx_set_destructor (self->topics, s_topic_free);
    if (!(self->keep = patterns_parse (config->topics, why, why_len)))
        goto fail;
    return self;
fail:
    history_destroy (&self);
    return NULL;
}

void
history_destroy (history_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    history_t *self = *self_p;
    for (s_event_t *ev = self->oldest, *next; ev; ev = next) {
        next = ev->newer;
        free (ev);
    }
    zhashx_destroy (&self->topics);
    patterns_destroy (&self->keep);
    free (self);
    *self_p = NULL;
}

//  The topic as the hash table's key, NUL-terminated in name. Returns 0,
//  or -1 if it is longer than a topic may be.
static int
s_name (const char *topic, size_t tlen, char name[WIRE_TOPIC_MAX + 1])
{
    if (tlen > WIRE_TOPIC_MAX)
        return -1;
    memcpy (name, topic, tlen);
    name[tlen] = 0;
    return 0;
}

//  The topic's record, made if it has none (forgetting the least recent
//  topic if the table is full). NULL if memory ran out.
static s_topic_t *
s_topic (history_t *self, const char *topic, size_t tlen)
{
    char name[WIRE_TOPIC_MAX + 1];
    if (s_name (topic, tlen, name) != 0)
        return NULL;
    s_topic_t *t = zhashx_lookup (self->topics, name);
    if (t) {
        s_unlink_topic (self, t);
        s_link_most_recent (self, t);
        return t;
    }
    if (self->config.max_topics == 0)
        return NULL;
    if (self->stats.topics >= self->config.max_topics && self->least_recent) {
        s_forget (self, self->least_recent);
        self->stats.forgotten++;
    }
    if (!(t = calloc (1, sizeof *t + tlen + 1)))
        return NULL;
    memcpy (t->name, name, tlen + 1);
    t->epoch = s_epoch (self);
    t->keep = self->config.size > 0 && patterns_match (self->keep, topic, tlen);
    if (zhashx_insert (self->topics, t->name, t) != 0) {
        free (t);
        return NULL;
    }
    s_link_most_recent (self, t);
    self->stats.topics++;
    return t;
}

//  Makes room in t's ring for one more event. Returns 0, or -1 if memory
//  ran out.
static int
s_ring_room (history_t *self, s_topic_t *t)
{
    if (t->count == self->config.size) {
        s_pop_oldest (self, t);
        self->stats.trimmed++;
    }
    if (t->count < t->cap)
        return 0;
    size_t cap = t->cap ? t->cap * 2 : 4;
    if (cap > self->config.size)
        cap = self->config.size;
    s_event_t **ring = malloc (cap * sizeof *ring);
    if (!ring)
        return -1;
    for (size_t i = 0; i < t->count; i++)
        ring[i] = t->ring[(t->head + i) % t->cap];
    free (t->ring);
    t->ring = ring;
    t->cap = cap;
    t->head = 0;
    return 0;
}

//  Keeps a copy of the event with the given offset, the newest of t.
//  Returns 0, or -1 if it could not be kept.
static int
s_keep (history_t *self, s_topic_t *t, uint64_t offset, const void *payload, size_t plen,
        int64_t now_ms)
{
    if (plen > SIZE_MAX - sizeof (s_event_t) - sizeof (s_event_t *)
        || s_cost (plen) > self->config.bytes || s_ring_room (self, t) != 0)
        return -1;
    s_event_t *ev = malloc (sizeof *ev + plen);
    if (!ev)
        return -1;
    *ev = (s_event_t) { self->newest, NULL, t, offset, now_ms, plen };
    memcpy (ev->payload, payload, plen);
    if (self->newest)
        self->newest->newer = ev;
    else
        self->oldest = ev;
    self->newest = ev;
    t->ring[(t->head + t->count) % t->cap] = ev;
    if (t->count++ == 0)
        self->stats.topics_kept++;
    self->stats.events++;
    self->stats.bytes += s_cost (plen);
    //  The memory budget is for all topics: the oldest events go first,
    //  never this one (it fits alone).
    while (self->stats.bytes > self->config.bytes) {
        s_pop_oldest (self, self->oldest->topic);
        self->stats.trimmed++;
    }
    return 0;
}

int
history_stamp (history_t *self, const char *topic, size_t tlen, const void *payload,
               size_t plen, int64_t now_ms, uint64_t *epoch, uint64_t *offset)
{
    s_trim_age (self, now_ms);
    s_topic_t *t = s_topic (self, topic, tlen);
    if (!t)
        return -1;
    *epoch = t->epoch;
    *offset = ++t->last;
    //  An event not kept leaves a hole: the older ones go too, so that
    //  what is kept stays consecutive and a replay never skips one.
    if (t->keep && s_keep (self, t, *offset, payload, plen, now_ms) != 0)
        s_trim_topic (self, t, &self->stats.trimmed);
    return 0;
}

int
history_mirror (history_t *self, const char *topic, size_t tlen, uint64_t epoch,
                uint64_t offset, const void *payload, size_t plen, int64_t now_ms)
{
    s_trim_age (self, now_ms);
    s_topic_t *t = s_topic (self, topic, tlen);
    if (!t)
        return -1;
    if (t->epoch != epoch || offset != t->last + 1) {
        s_trim_topic (self, t, &self->stats.trimmed);
        t->epoch = epoch;
    }
    t->last = offset;
    if (t->keep && s_keep (self, t, offset, payload, plen, now_ms) != 0)
        s_trim_topic (self, t, &self->stats.trimmed);
    return 0;
}

history_answer_t
history_since (history_t *self, const char *topic, size_t tlen, uint64_t epoch,
               uint64_t offset, int64_t now_ms, history_event_t *out, size_t max,
               size_t max_bytes, size_t *n, uint64_t *cur_epoch, uint64_t *cur_offset)
{
    s_trim_age (self, now_ms);
    *n = 0;
    *cur_epoch = *cur_offset = 0;
    char name[WIRE_TOPIC_MAX + 1];
    s_topic_t *t = s_name (topic, tlen, name) == 0 ? zhashx_lookup (self->topics, name) : NULL;
    if (t) {
        *cur_epoch = t->epoch;
        *cur_offset = t->last;
    }
    if (!t || epoch != t->epoch || offset > t->last)
        goto gone;
    uint64_t oldest = t->count ? t->ring[t->head]->offset : t->last + 1;
    if (offset < t->last && offset + 1 < oldest)
        goto gone;
    size_t bytes = 0;
    for (uint64_t next = offset + 1; next <= t->last && *n < max; next++) {
        s_event_t *ev = t->ring[(t->head + (next - oldest)) % t->cap];
        if (*n > 0 && bytes + ev->len > max_bytes)
            break;
        out[*n] = (history_event_t) { ev->offset, ev->payload, ev->len };
        bytes += ev->len;
        (*n)++;
    }
    self->stats.replays++;
    self->stats.replayed += *n;
    return HISTORY_OK;
gone:
    self->stats.gone++;
    return HISTORY_GONE;
}

void
history_stats (const history_t *self, history_stats_t *out)
{
    *out = self->stats;
}
