/*  patterns.h: topic patterns with NATS's rules, for the edge's
 *  --public-topics and tokens' topics claims and the broker's
 *  --history-topics.
 *
 *  Dot-separated patterns: a segment "*" matches any one segment, a last
 *  segment ">" matches one or more; other segments match themselves.
 *  "chat.*" matches "chat.general" but not "chat" or "chat.a.b";
 *  "user.>" matches "user.alice" and "user.alice.inbox".
 */
#ifndef HERALD_PATTERNS_H
#define HERALD_PATTERNS_H

#include <stddef.h>

typedef struct patterns patterns_t;

/*  An empty set (it matches nothing), or NULL if memory ran out. */
patterns_t *patterns_new (void);

/*  From a comma-separated list, as --public-topics gives them ("" or
 *  NULL: none; blanks around a pattern are ignored). Returns NULL with
 *  why[] if a pattern is malformed (empty, an empty segment, ">" not
 *  last, "*" or ">" inside a segment) or memory ran out. */
patterns_t *patterns_parse (const char *list, char *why, size_t why_len);

/*  Adds one pattern (len bytes). Returns NULL, or why it was not added
 *  (malformed, as above, or "out of memory"). */
const char *patterns_add (patterns_t *self, const char *pattern, size_t len);

void patterns_destroy (patterns_t **self_p);

/*  1 if topic (len bytes) matches one of the patterns, else 0. Accepts
 *  NULL (no patterns). "*" and ">" stand only for segments that are not
 *  empty, so "a.*" does not match "a." and ">" does not match "". */
int patterns_match (const patterns_t *self, const char *topic, size_t len);

#endif
