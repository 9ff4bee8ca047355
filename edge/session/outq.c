/*  outq.c: framed outbound message queue. See outq.h. */
#include "outq.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct outq_chunk {
    outq_chunk_t *next;
    size_t cap;                 //  bytes of data room
    size_t len;                 //  bytes filled
    size_t off;                 //  bytes already taken
    size_t messages;            //  messages that end in this chunk
    char *data;                 //  after the headroom
};

#define FREE_MAX 256            //  chunks kept for reuse (4 MiB)

static size_t s_headroom;
static outq_chunk_t *s_free;
static size_t s_free_count;

void
outq_set_headroom (size_t headroom)
{
    s_headroom = headroom;
}

static outq_chunk_t *
s_chunk_new (size_t need)
{
    outq_chunk_t *c;
    if (need <= OUTQ_CHUNK && s_free) {
        c = s_free;
        s_free = c->next;
        s_free_count--;
    }
    else {
        size_t cap = need > OUTQ_CHUNK ? need : OUTQ_CHUNK;
        if (cap > SIZE_MAX - sizeof *c - s_headroom)
            return NULL;
        c = malloc (sizeof *c + s_headroom + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->data = (char *) (c + 1) + s_headroom;
    }
    c->next = NULL;
    c->len = c->off = c->messages = 0;
    return c;
}

static void
s_chunk_free (outq_chunk_t *c)
{
    if (c->cap == OUTQ_CHUNK && s_free_count < FREE_MAX) {
        c->next = s_free;
        s_free = c;
        s_free_count++;
    }
    else
        free (c);
}

//  Writes a server (unmasked) text frame header for a payload of n bytes.
static size_t
s_header (unsigned char *h, size_t n)
{
    h[0] = 0x81;                //  FIN, text
    if (n < 126) {
        h[1] = (unsigned char) n;
        return 2;
    }
    if (n <= 0xffff) {
        h[1] = 126;
        h[2] = (unsigned char) (n >> 8);
        h[3] = (unsigned char) n;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (unsigned char) ((uint64_t) n >> (56 - 8 * i));
    return OUTQ_HEADER_MAX;
}

int
outq_push (outq_t *q, const char *const *parts, const size_t *lens, int n)
{
    size_t payload = 0;
    for (int i = 0; i < n; i++) {
        if (lens[i] > SIZE_MAX - 16 - payload)
            return -1;
        payload += lens[i];
    }
    unsigned char header[OUTQ_HEADER_MAX];
    size_t hlen = s_header (header, payload);
    size_t need = hlen + payload;
    outq_chunk_t *c = q->tail;
    if (!c || c->cap - c->len < need) {
        c = s_chunk_new (need);
        if (!c)
            return -1;
        if (q->tail)
            q->tail->next = c;
        else
            q->head = c;
        q->tail = c;
    }
    char *p = c->data + c->len;
    memcpy (p, header, hlen);
    p += hlen;
    for (int i = 0; i < n; i++) {
        memcpy (p, parts[i], lens[i]);
        p += lens[i];
    }
    c->len += need;
    c->messages++;
    q->bytes += need;
    q->messages++;
    return 0;
}

const char *
outq_peek (outq_t *q, size_t *len)
{
    if (!q->head) {
        *len = 0;
        return NULL;
    }
    *len = q->head->len - q->head->off;
    return q->head->data + q->head->off;
}

void
outq_consume (outq_t *q, size_t n)
{
    outq_chunk_t *c = q->head;
    if (!c)
        return;
    if (n > c->len - c->off)
        n = c->len - c->off;
    c->off += n;
    q->bytes -= n;
    if (c->off < c->len)
        return;
    q->messages -= c->messages;
    q->head = c->next;
    if (!q->head)
        q->tail = NULL;
    s_chunk_free (c);
}

void
outq_clear (outq_t *q)
{
    while (q->head) {
        outq_chunk_t *c = q->head;
        q->head = c->next;
        s_chunk_free (c);
    }
    q->tail = NULL;
    q->bytes = q->messages = 0;
}

void
outq_shutdown (void)
{
    while (s_free) {
        outq_chunk_t *c = s_free;
        s_free = c->next;
        free (c);
    }
    s_free_count = 0;
}
