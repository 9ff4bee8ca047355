/*  test_peers.c: the broker's egress books (broker/peers.c): naming
 *  connections, limits, ZeroMQ's own cancellations at a close, groups of
 *  simultaneous handshakes from one address, prefix routing, and what is
 *  passed upstream.
 */
#include "peers.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>

static peers_t *
s_new (size_t per_peer, size_t total)
{
    peers_limits_t limits = { per_peer, total };
    return peers_new (&limits);
}

static peers_verdict_t
s_sub (peers_t *p, const char *id, const char *topic)
{
    return peers_subscription (p, id, 1, topic, strlen (topic), NULL);
}

static peers_verdict_t
s_unsub (peers_t *p, const char *id, const char *topic)
{
    return peers_subscription (p, id, 0, topic, strlen (topic), NULL);
}

static void
test_exact_peer (void)
{
    peers_t *p = s_new (100, 1000);
    peers_accepted (p, 7, "10.0.0.1", 5000);
    char id[32];
    snprintf (id, sizeof id, "%s", peers_identify (p, "10.0.0.1"));
    int fds[4];
    CHECK_INT (peers_fds (p, id, fds, 4), 1);
    CHECK_INT (fds[0], 7);
    CHECK_INT (peers_port_of (p, 7), 5000);
    CHECK_INT (s_sub (p, id, "chat.a"), PEERS_OK);
    CHECK_INT (s_sub (p, id, "chat.a"), PEERS_OK);     //  again: one entry
    CHECK_INT (s_sub (p, id, "chat.b"), PEERS_OK);
    CHECK_INT (peers_stats (p)->topics, 2);
    CHECK_INT (peers_stats (p)->subscriptions, 2);
    CHECK_INT (peers_stats (p)->peers, 1);
    //  Cancelling what it never held changes nothing.
    CHECK_INT (s_unsub (p, id, "chat.zzz"), PEERS_OK);
    CHECK_INT (peers_stats (p)->subscriptions, 2);
    CHECK_INT (s_unsub (p, id, "chat.a"), PEERS_OK);
    CHECK_INT (peers_stats (p)->topics, 1);
    peers_destroy (&p);
    CHECK (p == NULL);
}

static void
test_limits (void)
{
    peers_t *p = s_new (3, 5);
    peers_accepted (p, 3, "10.0.0.1", 1);
    peers_accepted (p, 4, "10.0.0.2", 2);
    char a[32], b[32];
    snprintf (a, sizeof a, "%s", peers_identify (p, "10.0.0.1"));
    snprintf (b, sizeof b, "%s", peers_identify (p, "10.0.0.2"));
    CHECK (strcmp (a, b) != 0);
    CHECK_INT (s_sub (p, a, "t1"), PEERS_OK);
    CHECK_INT (s_sub (p, a, "t2"), PEERS_OK);
    CHECK_INT (s_sub (p, a, "t3"), PEERS_OK);
    CHECK_INT (s_sub (p, a, "t4"), PEERS_PEER_FULL);
    CHECK_INT (s_sub (p, b, "t1"), PEERS_OK);
    CHECK_INT (s_sub (p, b, "u2"), PEERS_OK);
    CHECK_INT (s_sub (p, b, "u3"), PEERS_ALL_FULL);    //  refused ones are not held
    CHECK_INT (peers_stats (p)->subscriptions, 5);
    CHECK_INT (peers_stats (p)->refused, 2);
    //  Topics no one can publish are refused and not entered.
    char longtopic[300];
    memset (longtopic, 'q', sizeof longtopic - 1);
    longtopic[sizeof longtopic - 1] = 0;
    CHECK_INT (s_sub (p, b, longtopic), PEERS_BAD_TOPIC);
    CHECK_INT (peers_subscription (p, b, 1, "a\0b", 3, NULL), PEERS_BAD_TOPIC);
    CHECK_INT (peers_stats (p)->refused, 4);
    CHECK_INT (peers_stats (p)->subscriptions, 5);
    //  ZeroMQ's cancellations of refused ones, at the close, change nothing.
    peers_disconnected (p, 3);
    s_unsub (p, NULL, "t4");
    s_unsub (p, NULL, longtopic);
    CHECK_INT (peers_stats (p)->subscriptions, 5);
    s_unsub (p, NULL, "t1");
    s_unsub (p, NULL, "t2");
    s_unsub (p, NULL, "t3");
    CHECK_INT (peers_stats (p)->subscriptions, 2);
    CHECK (peers_routed (p, "t1", 2));      //  b's
    peers_destroy (&p);
}

//  At a close ZeroMQ cancels the peer's subscriptions without a name, after
//  all that the peer sent itself.
static void
test_close_drains (void)
{
    peers_t *p = s_new (100, 1000);
    peers_accepted (p, 5, "10.0.0.1", 1);
    peers_accepted (p, 6, "10.0.0.2", 2);
    char a[32], b[32];
    snprintf (a, sizeof a, "%s", peers_identify (p, "10.0.0.1"));
    snprintf (b, sizeof b, "%s", peers_identify (p, "10.0.0.2"));
    s_sub (p, a, "x");
    s_sub (p, a, "y");
    s_sub (p, b, "x");
    peers_disconnected (p, 5);
    CHECK_INT (peers_stats (p)->peers, 1);
    CHECK_INT (peers_fds (p, a, (int[1]) { 0 }, 1), 0);
    //  A message the peer sent before it closed, read after the close.
    CHECK_INT (s_sub (p, a, "z"), PEERS_OK);
    CHECK_INT (peers_stats (p)->subscriptions, 4);
    s_unsub (p, NULL, "x");
    s_unsub (p, NULL, "y");
    s_unsub (p, NULL, "z");
    CHECK_INT (peers_stats (p)->subscriptions, 1);
    CHECK_INT (peers_stats (p)->topics, 1);
    CHECK (peers_routed (p, "x", 1));
    CHECK (!peers_routed (p, "y", 1));
    //  The survivor's own cancellation still counts.
    s_unsub (p, b, "x");
    CHECK_INT (peers_stats (p)->subscriptions, 0);
    //  A name the books never saw (a closed peer already forgotten).
    CHECK_INT (s_sub (p, "egress-999", "w"), PEERS_OK);
    s_unsub (p, NULL, "w");
    CHECK_INT (peers_stats (p)->subscriptions, 0);
    peers_destroy (&p);
}

//  Two connections from one address in their handshakes at once cannot be
//  told apart: both names map to both descriptors until one closes.
static void
test_groups (void)
{
    peers_t *p = s_new (2, 1000);
    peers_accepted (p, 10, "127.0.0.1", 100);
    peers_accepted (p, 11, "127.0.0.1", 101);
    char a[32], b[32];
    snprintf (a, sizeof a, "%s", peers_identify (p, "127.0.0.1"));
    snprintf (b, sizeof b, "%s", peers_identify (p, "127.0.0.1"));
    int fds[4];
    CHECK_INT (peers_fds (p, a, fds, 4), 2);
    CHECK_INT (peers_fds (p, b, fds, 4), 2);
    //  A third connection after the group is complete is exact.
    peers_accepted (p, 12, "127.0.0.1", 102);
    char c[32];
    snprintf (c, sizeof c, "%s", peers_identify (p, "127.0.0.1"));
    CHECK_INT (peers_fds (p, c, fds, 4), 1);
    CHECK_INT (fds[0], 12);
    //  One member closes: the other keeps the remaining descriptor; which
    //  name it is stays unknown, so both map to it.
    s_sub (p, a, "ta");
    s_sub (p, b, "tb");
    peers_disconnected (p, 10);
    CHECK_INT (peers_fds (p, a, fds, 4), 1);
    CHECK_INT (fds[0], 11);
    //  ZeroMQ's cancellation of the closed one's topic finds its owner.
    s_unsub (p, NULL, "ta");
    CHECK_INT (peers_stats (p)->subscriptions, 1);
    CHECK (!peers_routed (p, "ta", 2));
    peers_disconnected (p, 11);
    CHECK_INT (peers_fds (p, a, fds, 4), 0);
    CHECK_INT (peers_fds (p, b, fds, 4), 0);
    CHECK_INT (peers_stats (p)->peers, 1);
    s_unsub (p, NULL, "tb");
    CHECK_INT (peers_stats (p)->subscriptions, 0);
    //  A descriptor number reused without a close being seen.
    peers_accepted (p, 12, "10.1.1.1", 7);
    CHECK_INT (peers_fds (p, c, fds, 4), 0);
    CHECK_INT (peers_port_of (p, 12), 7);
    peers_destroy (&p);
}

//  A group still short of names takes later descriptors from its address.
static void
test_group_grows (void)
{
    peers_t *p = s_new (10, 100);
    peers_accepted (p, 20, "::1", 1);
    peers_accepted (p, 21, "::1", 2);
    char a[32];
    snprintf (a, sizeof a, "%s", peers_identify (p, "::1"));
    peers_accepted (p, 22, "::1", 3);
    char b[32], c[32];
    snprintf (b, sizeof b, "%s", peers_identify (p, "::1"));
    snprintf (c, sizeof c, "%s", peers_identify (p, "::1"));
    int fds[4];
    CHECK_INT (peers_fds (p, a, fds, 4), 3);
    CHECK_INT (peers_fds (p, c, fds, 4), 3);
    peers_disconnected (p, 20);
    peers_disconnected (p, 21);
    //  One descriptor and three names: kicking any of them closes it.
    CHECK_INT (peers_fds (p, b, fds, 4), 1);
    CHECK_INT (fds[0], 22);
    peers_disconnected (p, 22);
    CHECK_INT (peers_stats (p)->peers, 0);
    peers_destroy (&p);
}

static void
test_routed (void)
{
    peers_t *p = s_new (100, 1000);
    peers_accepted (p, 3, "10.0.0.1", 1);
    const char *id = peers_identify (p, "10.0.0.1");
    CHECK (!peers_routed (p, "chat.general", 12));
    s_sub (p, id, "chat.general");
    CHECK (peers_routed (p, "chat.general", 12));
    CHECK (!peers_routed (p, "chat.gen", 8));
    CHECK (peers_routed (p, "chat.generalx", 13));     //  a prefix matches, as in ZeroMQ
    s_sub (p, id, "$herald/sync/00ff");
    CHECK_INT (peers_stats (p)->topics, 1);                 //  sync tokens aside
    //  Prefixes of every length, past the first 64-bit word of lengths.
    char topic[200];
    memset (topic, 'a', sizeof topic);
    CHECK (!peers_routed (p, topic, sizeof topic));
    peers_subscription (p, id, 1, topic, 70, NULL);
    CHECK (peers_routed (p, topic, sizeof topic));
    CHECK (!peers_routed (p, topic, 69));
    s_sub (p, id, "");
    CHECK (peers_routed (p, "anything", 8));
    peers_destroy (&p);
}

//  What changes the books is what the broker passes upstream. A refused
//  subscription to a topic someone else holds, and ZeroMQ's cancellation
//  of it at the close, change neither that holder nor the upstream.
static void
test_changes_relayed (void)
{
    peers_t *p = s_new (1, 1000);
    peers_accepted (p, 3, "10.0.0.1", 1);
    peers_accepted (p, 4, "10.0.0.2", 2);
    char a[32], b[32];
    snprintf (a, sizeof a, "%s", peers_identify (p, "10.0.0.1"));
    snprintf (b, sizeof b, "%s", peers_identify (p, "10.0.0.2"));
    int changed = -1;
    CHECK_INT (peers_subscription (p, a, 1, "chat", 4, &changed), PEERS_OK);
    CHECK_INT (changed, 1);
    CHECK_INT (peers_subscription (p, a, 1, "chat", 4, &changed), PEERS_OK);
    CHECK_INT (changed, 0);                             //  a repeat
    CHECK_INT (peers_subscription (p, b, 1, "junk", 4, &changed), PEERS_OK);
    CHECK_INT (changed, 1);
    CHECK_INT (peers_subscription (p, b, 1, "chat", 4, &changed), PEERS_PEER_FULL);
    CHECK_INT (changed, 0);
    peers_disconnected (p, 4);
    CHECK_INT (peers_subscription (p, NULL, 0, "chat", 4, &changed), PEERS_OK);
    CHECK_INT (changed, 0);                             //  b's refused one
    CHECK_INT (peers_subscription (p, NULL, 0, "junk", 4, &changed), PEERS_OK);
    CHECK_INT (changed, 1);
    CHECK_INT (peers_stats (p)->subscriptions, 1);
    CHECK (peers_routed (p, "chat", 4));                //  still a's
    CHECK_INT (peers_subscription (p, a, 0, "chat", 4, &changed), PEERS_OK);
    CHECK_INT (changed, 1);
    CHECK_INT (peers_subscription (p, a, 0, "chat", 4, &changed), PEERS_OK);
    CHECK_INT (changed, 0);
    peers_destroy (&p);
}

//  A peer whose descriptor the monitor never reported (nothing pending at
//  its handshake) cannot be seen to close: ZeroMQ's untagged cancellations
//  are still matched to it.
static void
test_unbound_peer (void)
{
    peers_t *p = s_new (100, 1000);
    char a[32];
    snprintf (a, sizeof a, "%s", peers_identify (p, "10.0.0.9"));
    CHECK_INT (peers_fds (p, a, (int[1]) { 0 }, 1), 0);
    CHECK_INT (s_sub (p, a, "t"), PEERS_OK);
    int changed = 0;
    CHECK_INT (peers_subscription (p, NULL, 0, "t", 1, &changed), PEERS_OK);
    CHECK_INT (changed, 1);
    CHECK_INT (peers_stats (p)->subscriptions, 0);
    peers_destroy (&p);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_exact_peer);
    RUN (test_limits);
    RUN (test_close_drains);
    RUN (test_groups);
    RUN (test_group_grows);
    RUN (test_routed);
    RUN (test_changes_relayed);
    RUN (test_unbound_peer);
    return TEST_RESULT ();
}
