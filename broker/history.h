/*  history.h: each topic's numbering and its recent events, the broker's
 *  side of resumable subscriptions (docs/recovery.md).
 *
 *  Every event the broker takes from a publisher gets the next offset of
 *  its topic (1, 2, 3, ...) and the topic's epoch, a number that changes
 *  whenever the history behind the offsets is lost: the broker restarted
 *  (the epochs are drawn anew at each start), or the topic's numbering
 *  was forgotten to stay within --history-max-topics. An offset means
 *  something only with its epoch.
 *
 *  For topics that match --history-topics the last events are kept,
 *  within --history-size per topic, --history-ttl seconds and
 *  --history-bytes for all topics together (payloads and the bookkeeping
 *  of each event), the oldest going first. history_since answers "the
 *  events of topic T after offset O in epoch E" from them.
 *
 *  Pure code: bytes and times in, no sockets, no clock.
 */
#ifndef HERALD_HISTORY_H
#define HERALD_HISTORY_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *topics;         //  patterns whose events are kept; "" none
    size_t size;                //  events kept per topic
    int64_t ttl_ms;             //  age past which an event goes; 0 never
    size_t bytes;               //  memory for all kept events together
    size_t max_topics;          //  topics numbered at once
} history_config_t;

typedef struct {
    uint64_t topics;            //  topics numbered now
    uint64_t topics_kept;       //  of which with events kept now
    uint64_t events;            //  events kept now
    uint64_t bytes;             //  their memory, as --history-bytes counts it
    uint64_t trimmed;           //  events let go for the size, age or memory
    uint64_t forgotten;         //  topics whose numbering was let go
    uint64_t replays;           //  history_since answered with the events
    uint64_t replayed;          //  events those answers held
    uint64_t gone;              //  history_since answered "not available"
} history_stats_t;

typedef struct history history_t;

/*  NULL with why[] if the patterns are malformed or memory ran out. seed
 *  makes the epochs (draw it at random at each start). */
history_t *history_new (const history_config_t *config, uint64_t seed, char *why,
                        size_t why_len);
void history_destroy (history_t **self_p);

/*  Numbers the next event of topic (tlen bytes, a valid topic) at now_ms,
 *  and keeps a copy of its payload if the topic's events are kept. Sets
 *  *epoch and *offset. Returns 0, or -1 if memory ran out (the event is
 *  then forwarded unnumbered: no offset is spent). */
int history_stamp (history_t *self, const char *topic, size_t tlen, const void *payload,
                   size_t plen, int64_t now_ms, uint64_t *epoch, uint64_t *offset);

/*  Keeps an event that another broker numbered (one relayed from an
 *  --upstream), so that this broker answers for it too: the topic takes
 *  that epoch and offset. An event that does not follow the last one
 *  kept (another epoch, a gap, a repeat) lets go of the topic's older
 *  events. Returns 0, or -1 if memory ran out. */
int history_mirror (history_t *self, const char *topic, size_t tlen, uint64_t epoch,
                    uint64_t offset, const void *payload, size_t plen, int64_t now_ms);

typedef enum {
    HISTORY_OK,                 //  out[0..*n) are the events after offset
    HISTORY_GONE                //  not available: wrong epoch, or trimmed
} history_answer_t;

typedef struct {
    uint64_t offset;
    const void *payload;        //  valid until the next history_stamp
    size_t len;
} history_event_t;

/*  The events of topic after offset in epoch, oldest first, at most max
 *  of them and at most max_bytes of payload (at least one event when
 *  there is one); *n says how many. HISTORY_OK with *n < what is missing
 *  means "ask again after the last one". Whatever the answer, *cur_epoch
 *  and *cur_offset are the topic's epoch and its last offset now (both 0
 *  for a topic never numbered, or forgotten). HISTORY_GONE when the epoch
 *  is not the topic's, the offset is past its last, or some event after
 *  offset is no longer kept. */
history_answer_t history_since (history_t *self, const char *topic, size_t tlen,
                                uint64_t epoch, uint64_t offset, int64_t now_ms,
                                history_event_t *out, size_t max, size_t max_bytes,
                                size_t *n, uint64_t *cur_epoch, uint64_t *cur_offset);

void history_stats (const history_t *self, history_stats_t *out);

#endif
