/*  fuzz_peers.c: libFuzzer harness for the broker's egress books
 *  (broker/peers.c), driven by a random stream of the events the broker
 *  feeds it: descriptors accepted and closed, ZAP requests, tagged and
 *  untagged (un)subscriptions.
 *
 *  Oracles: no crash, leak or undefined behaviour (the sanitizers); the
 *  books never hold more than the total limit, nor more distinct topics
 *  than subscriptions; what they report as changed (what the broker passes
 *  upstream) never cancels a topic more often than it subscribed it, and
 *  adds up to what they hold; every descriptor that peers_fds names is open
 *  and known. The stream is random, not what ZeroMQ would send, which is the
 *  point: the books must survive events out of their usual order.
 */
#include "peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FDS 8
#define ADDRS 3
#define IDS 16
#define TOPICS 6

static const char *s_addrs[ADDRS] = { "10.0.0.1", "10.0.0.2", "::1" };
static const char *s_topics[TOPICS] = { "a", "ab", "chat.x", "", "$herald/sync/1", "zz" };

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    peers_limits_t limits = { 3, 8 };
    peers_t *p = peers_new (&limits);
    if (!p)
        return 0;
    char ids[IDS][32];
    int nids = 0;
    int open[FDS] = { 0 };
    long relayed[TOPICS + 1] = { 0 };  //  passed upstream, per topic ("qqqq" last)
    for (size_t i = 0; i + 1 < size; i += 2) {
        unsigned op = data[i] & 7, arg = data[i + 1];
        switch (op) {
            case 0:
                if (!open[arg % FDS]) {
                    peers_accepted (p, (int) (arg % FDS), s_addrs[(arg >> 3) % ADDRS],
                                    (int) arg);
                    open[arg % FDS] = 1;
                }
                break;
            case 1:
                peers_disconnected (p, (int) (arg % FDS));
                open[arg % FDS] = 0;
                break;
            case 2: {
                const char *id = peers_identify (p, s_addrs[arg % ADDRS]);
                if (id && nids < IDS)
                    snprintf (ids[nids++], sizeof ids[0], "%s", id);
                break;
            }
            case 3:
            case 4:
            case 5: {
                const char *id = nids && op != 5 ? ids[(arg >> 4) % nids] : NULL;
                const char *topic = s_topics[arg % TOPICS];
                int subscribe = op == 3 || (op == 5 && (arg & 8)), changed = 0;
                peers_subscription (p, id, subscribe, topic, strlen (topic), &changed);
                if (changed && (relayed[arg % TOPICS] += subscribe ? 1 : -1) < 0)
                    abort ();
                break;
            }
            case 6: {
                //  A long topic, and one with a NUL: refused, never held.
                //  (Or "qqqq", which is a topic like any other.)
                char t[300];
                memset (t, 'q', sizeof t);
                t[arg % 4] = (char) (arg & 1 ? 0 : 'q');
                int subscribe = (arg & 2) != 0, changed = 0;
                peers_subscription (p, nids ? ids[arg % nids] : NULL, subscribe, t,
                                    arg & 4 ? sizeof t : 4, &changed);
                int valid = !(arg & 4) && !(arg & 1);
                if (changed && (!valid || (relayed[TOPICS] += subscribe ? 1 : -1) < 0))
                    abort ();
                break;
            }
            default:
                if (nids) {
                    int fds[FDS];
                    size_t n = peers_fds (p, ids[arg % nids], fds, FDS);
                    for (size_t k = 0; k < n && k < FDS; k++)
                        if (fds[k] < 0 || fds[k] >= FDS || !open[fds[k]]
                            || peers_port_of (p, fds[k]) < 0)
                            abort ();
                }
        }
        const peers_stats_t *st = peers_stats (p);
        long held = 0;
        for (int t = 0; t <= TOPICS; t++)
            held += relayed[t];
        if (st->subscriptions > limits.max_total || st->topics > st->subscriptions
            || (uint64_t) held != st->subscriptions)
            abort ();
    }
    peers_destroy (&p);
    return 0;
}
