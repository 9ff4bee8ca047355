/*  peers.c: the egress's subscription books. See peers.h.
 *
 *  Three tables:
 *    - descriptors, by number: accepted and waiting for a name (pending),
 *      named exactly (one peer), or shared by a group;
 *    - peers, by user id: each with the set of topics it holds;
 *    - topics: how many (peer, topic) pairs hold each topic, and how many
 *      distinct topics there are of each length, for peers_routed.
 *
 *  A peer that closes may still have subscriptions in the stream: ZeroMQ
 *  cancels them, untagged, after everything the peer itself sent. So a
 *  closed peer stays on the dead list until its set drains, and an
 *  untagged cancellation is charged to a dead peer that holds the topic
 *  (or, failing that, to a group member that may be the one that closed).
 */
#include "peers.h"
#include "wire.h"

#include <czmq.h>
#include <stdio.h>
#include <string.h>

#define ADDR_MAX 64

typedef struct peer_group group_t;

typedef struct peer {
    char id[32];
    char addr[ADDR_MAX];
    int fd;                     //  the exact descriptor, or -1
    group_t *group;             //  else the group it belongs to, if any
    int dead;
    int unbound;                //  no descriptor known: the monitor missed it
    zhashx_t *topics;           //  topic -> &s_held
    struct peer *dead_next;     //  on the dead list
    struct peer *dead_prev;
} peer_t;

//  Connections from one address that were in their handshakes together:
//  npeers of them have names, nfds descriptors are still open.
struct peer_group {
    int *fds;
    size_t nfds, fds_cap;
    peer_t **peers;
    size_t npeers, peers_cap;
    int is_short;               //  fewer descriptors than names: one has closed
};

typedef enum { FD_NONE = 0, FD_PENDING, FD_EXACT, FD_GROUP } fd_state_t;

typedef struct {
    fd_state_t state;
    int port;
    char addr[ADDR_MAX];
    peer_t *peer;               //  FD_EXACT
    group_t *group;             //  FD_GROUP
} fd_entry_t;

//  One remote address: its descriptors waiting for a name, and the group
//  that is still taking members (fewer names than descriptors), if any.
typedef struct {
    int *pending;
    size_t npending, pending_cap;
    group_t *open;
} addr_t;

struct peers {
    peers_limits_t limits;
    fd_entry_t *fds;
    size_t fds_cap;
    zhashx_t *addrs;            //  address -> addr_t
    zhashx_t *by_id;            //  user id -> peer_t
    zhashx_t *topics;           //  topic -> (uintptr_t) pairs holding it
    uint32_t by_len[WIRE_TOPIC_MAX + 1];    //  distinct topics of each length
    uint64_t len_bits[(WIRE_TOPIC_MAX + 64) / 64];
    uint64_t sync_topics;
    uint64_t next_id;
    size_t short_groups;        //  groups with fewer descriptors than names
    size_t unbound;             //  peers with no descriptor known
    peer_t *dead;
    peers_stats_t stats;
};

static int s_held = 1;          //  the value of every per-peer set entry

//  ---------------------------------------------------------------------
//  Small arrays

static int
s_push_int (int **v, size_t *n, size_t *cap, int x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 4;
        int *p = realloc (*v, c * sizeof *p);
        if (!p)
            return -1;
        *v = p;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return 0;
}

static void
s_remove_int (int *v, size_t *n, int x)
{
    for (size_t i = 0; i < *n; i++)
        if (v[i] == x) {
            v[i] = v[--*n];
            return;
        }
}

//  ---------------------------------------------------------------------
//  Topics

static void
s_topic_add (peers_t *self, const char *topic)
{
    uintptr_t n = (uintptr_t) zhashx_lookup (self->topics, topic);
    if (n == 0) {
        size_t len = strlen (topic);
        if (zhashx_insert (self->topics, topic, (void *) (uintptr_t) 1) != 0)
            return;
        if (self->by_len[len]++ == 0)
            self->len_bits[len / 64] |= 1ull << (len % 64);
        if (strncmp (topic, WIRE_SYNC_PREFIX, sizeof WIRE_SYNC_PREFIX - 1) == 0)
            self->sync_topics++;
    }
    else
        zhashx_update (self->topics, topic, (void *) (n + 1));
    self->stats.subscriptions++;
}

static void
s_topic_remove (peers_t *self, const char *topic)
{
    uintptr_t n = (uintptr_t) zhashx_lookup (self->topics, topic);
    if (n == 0)
        return;
    self->stats.subscriptions--;
    if (n > 1) {
        zhashx_update (self->topics, topic, (void *) (n - 1));
        return;
    }
    size_t len = strlen (topic);
    if (--self->by_len[len] == 0)
        self->len_bits[len / 64] &= ~(1ull << (len % 64));
    if (strncmp (topic, WIRE_SYNC_PREFIX, sizeof WIRE_SYNC_PREFIX - 1) == 0)
        self->sync_topics--;
    zhashx_delete (self->topics, topic);
}

int
peers_routed (const peers_t *self, const char *topic, size_t len)
{
    char key[WIRE_TOPIC_MAX + 1];
    if (len > WIRE_TOPIC_MAX)
        return 0;
    memcpy (key, topic, len);
    key[len] = 0;
    //  The topic itself first: the common case is one exact subscription.
    if (self->by_len[len] && zhashx_lookup (self->topics, key))
        return 1;
    for (size_t w = 0; w * 64 <= len; w++) {
        uint64_t bits = self->len_bits[w];
        while (bits) {
            size_t l = w * 64 + (size_t) __builtin_ctzll (bits);
            bits &= bits - 1;
            if (l >= len)
                return 0;
            char saved = key[l];
            key[l] = 0;
            int hit = zhashx_lookup (self->topics, key) != NULL;
            key[l] = saved;
            if (hit)
                return 1;
        }
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Peers

static void
s_peer_free (peers_t *self, peer_t *p)
{
    if (p->dead) {
        if (p->dead_prev)
            p->dead_prev->dead_next = p->dead_next;
        else if (self->dead == p)
            self->dead = p->dead_next;
        if (p->dead_next)
            p->dead_next->dead_prev = p->dead_prev;
    }
    if (p->unbound)
        self->unbound--;
    zhashx_destroy (&p->topics);
    zhashx_delete (self->by_id, p->id);     //  the table's destructor is not set
    free (p);
}

static peer_t *
s_peer_new (peers_t *self, const char *id, const char *addr)
{
    peer_t *p = calloc (1, sizeof *p);
    if (!p || !(p->topics = zhashx_new ())) {
        free (p);
        return NULL;
    }
    if (id)
        snprintf (p->id, sizeof p->id, "%s", id);
    else
        snprintf (p->id, sizeof p->id, "egress-%llu", (unsigned long long) ++self->next_id);
    snprintf (p->addr, sizeof p->addr, "%s", addr);
    p->fd = -1;
    if (zhashx_insert (self->by_id, p->id, p) != 0) {
        zhashx_destroy (&p->topics);
        free (p);
        return NULL;
    }
    return p;
}

static void
s_dead_list_add (peers_t *self, peer_t *p)
{
    p->dead = 1;
    p->dead_prev = NULL;
    p->dead_next = self->dead;
    if (self->dead)
        self->dead->dead_prev = p;
    self->dead = p;
}

//  The peer's connection has closed. Its set drains as ZeroMQ cancels what
//  it held; until then it waits on the dead list.
static void
s_peer_dead (peers_t *self, peer_t *p)
{
    if (p->dead)
        return;
    p->fd = -1;
    p->group = NULL;
    self->stats.peers--;
    s_dead_list_add (self, p);
    if (zhashx_size (p->topics) == 0)
        s_peer_free (self, p);
}

//  ---------------------------------------------------------------------
//  Descriptors and groups

static fd_entry_t *
s_fd (peers_t *self, int fd, int grow)
{
    if (fd < 0)
        return NULL;
    if ((size_t) fd >= self->fds_cap) {
        if (!grow)
            return NULL;
        size_t cap = self->fds_cap ? self->fds_cap : 256;
        while (cap <= (size_t) fd)
            cap *= 2;
        fd_entry_t *v = realloc (self->fds, cap * sizeof *v);
        if (!v)
            return NULL;
        memset (v + self->fds_cap, 0, (cap - self->fds_cap) * sizeof *v);
        self->fds = v;
        self->fds_cap = cap;
    }
    return &self->fds[fd];
}

static addr_t *
s_addr (peers_t *self, const char *addr)
{
    addr_t *a = zhashx_lookup (self->addrs, addr);
    if (!a && (a = calloc (1, sizeof *a)) && zhashx_insert (self->addrs, addr, a) != 0) {
        free (a);
        a = NULL;
    }
    return a;
}

static void
s_addr_release (peers_t *self, const char *addr, addr_t *a)
{
    if (a->npending == 0 && !a->open) {
        free (a->pending);
        zhashx_delete (self->addrs, addr);
        free (a);
    }
}

static void
s_group_free (group_t *g)
{
    free (g->fds);
    free (g->peers);
    free (g);
}

//  Moves every descriptor waiting at a into group g.
static int
s_group_take_pending (peers_t *self, group_t *g, addr_t *a)
{
    while (a->npending > 0) {
        int fd = a->pending[a->npending - 1];
        if (s_push_int (&g->fds, &g->nfds, &g->fds_cap, fd) != 0)
            return -1;
        a->npending--;
        fd_entry_t *e = s_fd (self, fd, 0);
        e->state = FD_GROUP;
        e->group = g;
    }
    return 0;
}

static int
s_group_add_peer (group_t *g, peer_t *p)
{
    if (g->npeers == g->peers_cap) {
        size_t c = g->peers_cap ? g->peers_cap * 2 : 4;
        peer_t **v = realloc (g->peers, c * sizeof *v);
        if (!v)
            return -1;
        g->peers = v;
        g->peers_cap = c;
    }
    g->peers[g->npeers++] = p;
    p->group = g;
    return 0;
}

//  After a group changes: it may be complete, short of a descriptor, empty
//  (all its peers have closed), or down to one descriptor and one name,
//  an exact match after all.
static void
s_group_settle (peers_t *self, group_t *g, addr_t *a)
{
    if (a && a->open == g && g->npeers >= g->nfds)
        a->open = NULL;
    int is_short = g->nfds > 0 && g->nfds < g->npeers;
    if (is_short != g->is_short) {
        self->short_groups = is_short ? self->short_groups + 1 : self->short_groups - 1;
        g->is_short = is_short;
    }
    if (g->nfds == 0) {
        for (size_t i = 0; i < g->npeers; i++)
            s_peer_dead (self, g->peers[i]);
        if (a && a->open == g)
            a->open = NULL;
        s_group_free (g);
    }
    else if (g->nfds == 1 && g->npeers == 1 && !(a && a->open == g)) {
        peer_t *p = g->peers[0];
        fd_entry_t *e = s_fd (self, g->fds[0], 0);
        e->state = FD_EXACT;
        e->peer = p;
        e->group = NULL;
        p->fd = g->fds[0];
        p->group = NULL;
        s_group_free (g);
    }
}

void
peers_accepted (peers_t *self, int fd, const char *addr, int port)
{
    fd_entry_t *e = s_fd (self, fd, 1);
    if (!e)
        return;
    if (e->state != FD_NONE)
        peers_disconnected (self, fd);      //  a close we did not hear of
    addr_t *a = s_addr (self, addr);
    if (!a || s_push_int (&a->pending, &a->npending, &a->pending_cap, fd) != 0)
        return;
    e->state = FD_PENDING;
    e->port = port;
    snprintf (e->addr, sizeof e->addr, "%s", addr);
}

void
peers_disconnected (peers_t *self, int fd)
{
    fd_entry_t *e = s_fd (self, fd, 0);
    if (!e || e->state == FD_NONE)
        return;
    addr_t *a = zhashx_lookup (self->addrs, e->addr);
    if (e->state == FD_PENDING && a)
        s_remove_int (a->pending, &a->npending, fd);
    else if (e->state == FD_EXACT)
        s_peer_dead (self, e->peer);
    else if (e->state == FD_GROUP) {
        group_t *g = e->group;
        s_remove_int (g->fds, &g->nfds, fd);
        s_group_settle (self, g, a);
    }
    if (a)
        s_addr_release (self, e->addr, a);
    memset (e, 0, sizeof *e);
}

const char *
peers_identify (peers_t *self, const char *addr)
{
    addr_t *a = s_addr (self, addr);
    if (!a)
        return NULL;
    peer_t *p = s_peer_new (self, NULL, addr);
    if (!p) {
        s_addr_release (self, addr, a);
        return NULL;
    }
    self->stats.peers++;
    if (a->open) {
        //  Still ambiguous: descriptors that arrived since join the group.
        group_t *g = a->open;
        if (s_group_take_pending (self, g, a) == 0 && s_group_add_peer (g, p) == 0)
            s_group_settle (self, g, a);
    }
    else if (a->npending == 1) {
        int fd = a->pending[--a->npending];
        fd_entry_t *e = s_fd (self, fd, 0);
        e->state = FD_EXACT;
        e->peer = p;
        p->fd = fd;
    }
    else if (a->npending > 1) {
        group_t *g = calloc (1, sizeof *g);
        if (g && s_group_take_pending (self, g, a) == 0 && s_group_add_peer (g, p) == 0)
            a->open = g->npeers < g->nfds ? g : NULL;
        else if (g && g->nfds == 0)
            s_group_free (g);
    }
    //  With nothing pending (a transport the monitor does not report), the
    //  peer is counted but cannot be disconnected, and is never seen to close.
    if (p->fd < 0 && !p->group) {
        p->unbound = 1;
        self->unbound++;
    }
    s_addr_release (self, addr, a);
    return p->id;
}

size_t
peers_fds (const peers_t *self, const char *id, int *fds, size_t max)
{
    peer_t *p = zhashx_lookup (self->by_id, id);
    if (!p || p->dead)
        return 0;
    if (p->fd >= 0) {
        if (max > 0)
            fds[0] = p->fd;
        return 1;
    }
    if (!p->group)
        return 0;
    for (size_t i = 0; i < p->group->nfds && i < max; i++)
        fds[i] = p->group->fds[i];
    return p->group->nfds;
}

int
peers_port_of (const peers_t *self, int fd)
{
    if (fd < 0 || (size_t) fd >= self->fds_cap || self->fds[fd].state == FD_NONE)
        return -1;
    return self->fds[fd].port;
}

//  ---------------------------------------------------------------------
//  Subscriptions

//  Who held the topic that ZeroMQ cancelled by itself: a closed peer, else
//  a member of a group that has lost a descriptor (one of them has closed),
//  else a peer whose close the monitor cannot report.
static peer_t *
s_untagged_owner (peers_t *self, const char *topic)
{
    for (peer_t *p = self->dead; p; p = p->dead_next)
        if (zhashx_lookup (p->topics, topic))
            return p;
    if (self->short_groups == 0 && self->unbound == 0)
        return NULL;
    for (peer_t *p = zhashx_first (self->by_id); p; p = zhashx_next (self->by_id)) {
        int may_have_closed = p->unbound || (p->group && p->group->nfds < p->group->npeers);
        if (may_have_closed && zhashx_lookup (p->topics, topic))
            return p;
    }
    return NULL;
}

static void
s_unhold (peers_t *self, peer_t *p, const char *topic)
{
    zhashx_delete (p->topics, topic);
    s_topic_remove (self, topic);
    if (p->dead && zhashx_size (p->topics) == 0)
        s_peer_free (self, p);
}

static peers_verdict_t
s_subscription (peers_t *self, const char *id, int subscribe, const char *topic, size_t len,
                int *changed)
{
    //  Topics this long or with a NUL are never published, so a subscription
    //  to one has no use. It is not entered in the books, and neither is
    //  ZeroMQ's cancellation of it when the peer goes.
    if (len > WIRE_TOPIC_MAX || memchr (topic, 0, len)) {
        if (!subscribe)
            return PEERS_OK;
        self->stats.refused++;
        return PEERS_BAD_TOPIC;
    }
    char key[WIRE_TOPIC_MAX + 1];
    memcpy (key, topic, len);
    key[len] = 0;
    if (!id) {
        //  ZeroMQ tags only what peers send; its own cancellations at a
        //  close carry no name. (It makes no untagged subscriptions.)
        if (!subscribe) {
            //  With no owner, it cancels a refused subscription, which
            //  was never entered; another peer may hold the same topic.
            peer_t *p = s_untagged_owner (self, key);
            if (p)
                s_unhold (self, p, key);
            *changed = p != NULL;
        }
        return PEERS_OK;
    }
    peer_t *p = zhashx_lookup (self->by_id, id);
    if (!p) {
        //  Sent by a peer that closed and was forgotten before this was
        //  read: keep it, so that ZeroMQ's cancellation finds an owner.
        if (!subscribe || !(p = s_peer_new (self, id, "")))
            return PEERS_OK;
        s_dead_list_add (self, p);
    }
    int held = zhashx_lookup (p->topics, key) != NULL;
    if (!subscribe) {
        if (held)
            s_unhold (self, p, key);
        *changed = held;
        return PEERS_OK;
    }
    if (held)
        return PEERS_OK;
    //  A refused subscription is not entered: ZeroMQ holds it until the
    //  peer is disconnected, and its cancellation then finds no owner and
    //  changes nothing. So the books never grow past the limits.
    peers_verdict_t verdict = PEERS_OK;
    if (zhashx_size (p->topics) >= self->limits.max_per_peer)
        verdict = PEERS_PEER_FULL;
    else if (self->stats.subscriptions >= self->limits.max_total)
        verdict = PEERS_ALL_FULL;
    else if (zhashx_insert (p->topics, key, &s_held) == 0) {
        s_topic_add (self, key);
        *changed = 1;
    }
    if (verdict != PEERS_OK)
        self->stats.refused++;
    return verdict;
}

peers_verdict_t
peers_subscription (peers_t *self, const char *id, int subscribe, const char *topic,
                    size_t len, int *changed)
{
    int entered = 0;
    peers_verdict_t verdict = s_subscription (self, id, subscribe, topic, len, &entered);
    if (changed)
        *changed = entered;
    return verdict;
}

//  ---------------------------------------------------------------------

peers_t *
peers_new (const peers_limits_t *limits)
{
    peers_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->limits = *limits;
    self->addrs = zhashx_new ();
    self->by_id = zhashx_new ();
    self->topics = zhashx_new ();
    if (!self->addrs || !self->by_id || !self->topics)
        peers_destroy (&self);
    return self;
}

void
peers_destroy (peers_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    peers_t *self = *self_p;
    //  Groups are reached through their descriptors.
    for (size_t fd = 0; fd < self->fds_cap; fd++)
        if (self->fds[fd].state != FD_NONE)
            peers_disconnected (self, (int) fd);
    if (self->by_id) {
        peer_t *p;
        while ((p = zhashx_first (self->by_id)))
            s_peer_free (self, p);
    }
    if (self->addrs) {
        addr_t *a;
        for (a = zhashx_first (self->addrs); a; a = zhashx_next (self->addrs)) {
            free (a->pending);
            free (a);
        }
    }
    zhashx_destroy (&self->addrs);
    zhashx_destroy (&self->by_id);
    zhashx_destroy (&self->topics);
    free (self->fds);
    free (self);
    *self_p = NULL;
}

const peers_stats_t *
peers_stats (peers_t *self)
{
    self->stats.topics = zhashx_size (self->topics) - self->sync_topics;
    return &self->stats;
}

const char *
peers_verdict_text (peers_verdict_t verdict)
{
    switch (verdict) {
        case PEERS_OK: return "accepted";
        case PEERS_BAD_TOPIC: return "a subscription longer than 255 bytes or holding a NUL";
        case PEERS_PEER_FULL: return "more subscriptions than --max-peer-subscriptions";
        case PEERS_ALL_FULL: return "the egress is at --max-subscriptions";
    }
    return "refused";
}
