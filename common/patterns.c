/*  patterns.c: topic patterns with NATS's rules, from lists such as the
 *  edge's --public-topics and the broker's --history-topics, and their
 *  match against a topic. (A token's topics claim is read into them by
 *  the edge's auth code.)
 *
 *  A pattern is kept as its text; matching walks pattern and topic one
 *  segment at a time, so its cost is the topic's length times the
 *  number of patterns, with no allocation.
 */
#include "patterns.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct patterns {
    char **items;
    size_t count;
};

//  NULL if pattern (len bytes) follows the rules, else why not.
static const char *
s_malformed (const char *pattern, size_t len)
{
    if (len == 0)
        return "empty pattern";
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && pattern[i] != '.') {
            if (pattern[i] == '\0')
                return "NUL in a pattern";
            continue;
        }
        size_t n = i - start;
        const char *seg = pattern + start;
        if (n == 0)
            return "empty segment";
        if (memchr (seg, '*', n) && n != 1)
            return "'*' inside a segment";
        if (memchr (seg, '>', n) && (n != 1 || i != len))
            return n != 1 ? "'>' inside a segment" : "'>' not last";
        start = i + 1;
    }
    return NULL;
}

patterns_t *
patterns_new (void)
{
    return calloc (1, sizeof (patterns_t));
}

//  Appends a copy of pattern (len bytes). Returns 0, or -1 if memory ran out.
static int
s_push (patterns_t *self, const char *pattern, size_t len)
{
    if (self->count >= SIZE_MAX / sizeof *self->items - 1)
        return -1;
    char **items = realloc (self->items, (self->count + 1) * sizeof *items);
    if (!items)
        return -1;
    self->items = items;
    if (!(items[self->count] = strndup (pattern, len)))
        return -1;
    self->count++;
    return 0;
}

patterns_t *
patterns_parse (const char *list, char *why, size_t why_len)
{
    patterns_t *self = patterns_new ();
    if (!self) {
        snprintf (why, why_len, "patterns: out of memory");
        return NULL;
    }
    //  Blanks around a pattern are the list's, not the pattern's: "a, b".
    for (const char *p = list; p && *p;) {
        const char *end = strchr (p, ',');
        size_t n = end ? (size_t) (end - p) : strlen (p);
        size_t skip = strspn (p, " \t");
        const char *pattern = p + (skip < n ? skip : n);
        size_t len = n - (size_t) (pattern - p);
        while (len && (pattern[len - 1] == ' ' || pattern[len - 1] == '\t'))
            len--;
        const char *bad = s_malformed (pattern, len);
        if (bad || s_push (self, pattern, len) != 0) {
            snprintf (why, why_len, "patterns: \"%.*s\": %s", (int) n, p,
                      bad ? bad : "out of memory");
            patterns_destroy (&self);
            return NULL;
        }
        p = end ? end + 1 : p + n;
        //  A trailing comma leaves an empty pattern, as ",," does.
        if (end && !*p) {
            snprintf (why, why_len, "patterns: empty pattern at the end");
            patterns_destroy (&self);
            return NULL;
        }
    }
    return self;
}

const char *
patterns_add (patterns_t *self, const char *pattern, size_t len)
{
    const char *bad = s_malformed (pattern, len);
    if (!bad && s_push (self, pattern, len) != 0)
        bad = "out of memory";
    return bad;
}

void
patterns_destroy (patterns_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    patterns_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free (self->items[i]);
    free (self->items);
    free (self);
    *self_p = NULL;
}

//  1 if no segment of s (len bytes) is empty.
static int
s_segments_ok (const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return 0;
    for (size_t i = 1; i < len; i++)
        if (s[i] == '.' && s[i - 1] == '.')
            return 0;
    return 1;
}

//  1 if pattern matches topic (len bytes). "*" and ">" stand only for
//  segments that are not empty, as a topic's segments should be.
static int
s_match (const char *pattern, const char *topic, size_t len)
{
    for (;;) {
        const char *dot = memchr (topic, '.', len);
        size_t seg = dot ? (size_t) (dot - topic) : len;
        size_t pseg = strcspn (pattern, ".");
        if (seg == 0)
            return 0;
        if (pseg == 1 && pattern[0] == '>')
            return s_segments_ok (topic, len);
        if (!(pseg == 1 && pattern[0] == '*')
            && (pseg != seg || memcmp (pattern, topic, seg) != 0))
            return 0;
        //  Both must end together.
        if (!dot || pattern[pseg] == '\0')
            return !dot && pattern[pseg] == '\0';
        pattern += pseg + 1;
        topic += seg + 1;
        len -= seg + 1;
    }
}

int
patterns_match (const patterns_t *self, const char *topic, size_t len)
{
    for (size_t i = 0; self && topic && len && i < self->count; i++)
        if (s_match (self->items[i], topic, len))
            return 1;
    return 0;
}
