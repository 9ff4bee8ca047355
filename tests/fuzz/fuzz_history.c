/*  fuzz_history.c: libFuzzer harness for the broker's numbering and
 *  recent events (broker/history.c), driven by a random stream of
 *  events published, events numbered by another broker (mirrored) and
 *  SINCE requests, with time moving on, over small
 *  bounds (per topic, age, memory, topics) so that every trim happens.
 *
 *  Oracles: no crash, leak or undefined behaviour (the sanitizers); each
 *  topic's offsets go 1, 2, 3, ... within an epoch, and a new epoch starts
 *  again at 1; an answer's events are the ones after the offset asked,
 *  consecutive, each the payload that was published with that offset; an
 *  answer never holds more than asked; the memory counted stays within
 *  its budget and the events within their bounds.
 */
#include "history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPICS 5
#define SIZE 6
#define BUDGET 1500
#define MAX_TOPICS 3

static const char *s_topics[TOPICS] = { "a", "chat.x", "chat.y", "user.b.inbox", "zz" };

#define OFFSETS 2048            //  offsets whose payload the model remembers

//  A payload: "<seq>:" then pad bytes.
static size_t
s_payload (char *buf, size_t cap, unsigned seq, size_t pad)
{
    int n = snprintf (buf, cap, "%u:", seq);
    size_t len = (size_t) n + pad < cap ? (size_t) n + pad : cap;
    memset (buf + n, 'p', len - (size_t) n);
    return len;
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    history_config_t c = { "chat.*, user.>, a", SIZE, 50, BUDGET, MAX_TOPICS };
    char why[128];
    history_t *h = history_new (&c, size, why, sizeof why);
    if (!h)
        abort ();
    uint64_t epoch[TOPICS] = { 0 }, last[TOPICS] = { 0 };
    static unsigned seq_of[TOPICS][OFFSETS];
    unsigned seq = 0;
    int64_t now = 0;
    for (size_t i = 0; i + 2 < size; i += 3) {
        int t = data[i + 1] % TOPICS;
        const char *topic = s_topics[t];
        now += data[i] >> 5;
        int op = data[i] & 3;
        if (op == 3) {
            //  An event another broker numbered: epoch 1..4, offset 1..32.
            uint64_t e = 1 + (data[i + 2] & 3), o = 1 + (data[i + 2] >> 3);
            char buf[32];
            size_t len = s_payload (buf, sizeof buf, ++seq, 0);
            if (history_mirror (h, topic, strlen (topic), e, o, buf, len, now) != 0)
                abort ();
            epoch[t] = e;
            last[t] = o;
            seq_of[t][o] = seq;
        }
        else if (op != 1) {
            char buf[700];
            uint64_t e, o;
            size_t len = s_payload (buf, sizeof buf, ++seq, (size_t) data[i + 2] * 2);
            if (history_stamp (h, topic, strlen (topic), buf, len, now, &e, &o) != 0)
                abort ();
            //  The same epoch goes on counting; a new one starts at 1.
            if (e == epoch[t] ? o != last[t] + 1 : o != 1)
                abort ();
            epoch[t] = e;
            last[t] = o;
            if (o < OFFSETS)
                seq_of[t][o] = seq;
        }
        else {
            history_event_t out[4];
            size_t n, max = 1 + (data[i] >> 1 & 3);
            uint64_t ce, cl, ask_epoch = data[i] & 4 ? epoch[t] : data[i + 2] & 7;
            uint64_t offset = data[i + 2] % 12;
            history_answer_t a = history_since (h, topic, strlen (topic), ask_epoch, offset,
                                                now, out, max, 400, &n, &ce, &cl);
            if (n > max || (a == HISTORY_GONE && n != 0))
                abort ();
            //  Only the topic's current epoch answers, and up to its last.
            if (a == HISTORY_OK && (ce != ask_epoch || ce != epoch[t] || cl != last[t]
                                    || offset > cl))
                abort ();
            for (size_t k = 0; k < n; k++) {
                uint64_t o = offset + 1 + k;
                char want[32];
                size_t wl = s_payload (want, sizeof want, o < OFFSETS ? seq_of[t][o] : 0, 0);
                if (out[k].offset != o || o > cl
                    || (o < OFFSETS && (out[k].len < wl || memcmp (out[k].payload, want, wl) != 0)))
                    abort ();
            }
        }
        history_stats_t st;
        history_stats (h, &st);
        if (st.bytes > BUDGET || st.events > (uint64_t) SIZE * MAX_TOPICS
            || st.topics > MAX_TOPICS || st.topics_kept > st.topics)
            abort ();
    }
    history_destroy (&h);
    return 0;
}
