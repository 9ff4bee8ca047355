/*  arena.c: the engine's allocator and the two containers built on it.
 *
 *  Everything a prepare builds (AST, validation notes, plan) has the same
 *  lifetime, so it comes from one arena and is freed in one call; there is
 *  no per-node free and no leak path on errors. Vectors and maps that grow
 *  leave their old storage in the arena, which is fine at these sizes.
 */
#include "gql_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gql_chunk {
    gql_chunk_t *next;
    size_t cap;
    size_t used;
    _Alignas (max_align_t) unsigned char data[];
};

#define S_ALIGN (_Alignof (max_align_t))
#define S_MAX_CHUNK ((size_t) 64 << 10)

void
gql_arena_init (gql_arena_t *a, size_t first_chunk)
{
    a->head = NULL;
    a->total = 0;
    a->next_size = first_chunk < 256 ? 256 : first_chunk;
}

void
gql_arena_free (gql_arena_t *a)
{
    gql_chunk_t *c = a->head;
    while (c) {
        gql_chunk_t *next = c->next;
        free (c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

void *
gql_alloc (gql_arena_t *a, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > GQL_ARENA_LIMIT)
        return NULL;
    size = (size + S_ALIGN - 1) & ~(S_ALIGN - 1);
    gql_chunk_t *c = a->head;
    if (!c || c->cap - c->used < size) {
        //  Chunks double up to S_MAX_CHUNK, so a small subscription stays
        //  small while a big document does not make thousands of chunks.
        //  A request larger than a chunk gets a chunk of its own, placed
        //  behind the current one so that its free space is not lost.
        size_t cap = a->next_size;
        int own = size > cap;
        if (own)
            cap = size;
        if (a->total + cap > GQL_ARENA_LIMIT)
            return NULL;
        gql_chunk_t *n = malloc (sizeof *n + cap);
        if (!n)
            return NULL;
        n->cap = cap;
        n->used = 0;
        a->total += cap;
        if (own && c) {
            n->next = c->next;
            c->next = n;
        }
        else {
            n->next = c;
            a->head = n;
            if (a->next_size < S_MAX_CHUNK)
                a->next_size *= 2;
        }
        c = n;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset (p, 0, size);
    return p;
}

void *
gql_alloc_array (gql_arena_t *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return gql_alloc (a, n * size);
}

char *
gql_strndup (gql_arena_t *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = gql_alloc (a, n + 1);
    if (p && n)
        memcpy (p, s, n);
    return p;
}

char *
gql_strdup (gql_arena_t *a, const char *s)
{
    return gql_strndup (a, s, strlen (s));
}

char *
gql_vsprintf (gql_arena_t *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy (ap2, ap);
    int n = vsnprintf (NULL, 0, fmt, ap2);
    va_end (ap2);
    if (n < 0)
        return NULL;
    char *p = gql_alloc (a, (size_t) n + 1);
    if (p)
        vsnprintf (p, (size_t) n + 1, fmt, ap);
    return p;
}

char *
gql_sprintf (gql_arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *p = gql_vsprintf (a, fmt, ap);
    va_end (ap);
    return p;
}

int
gql_vec_push (gql_arena_t *a, gql_vec_t *v, void *item)
{
    if (v->n == v->cap) {
        if (v->cap >= UINT32_MAX / 2)
            return -1;
        uint32_t cap = v->cap ? v->cap * 2 : 4;
        void **items = gql_alloc_array (a, cap, sizeof *items);
        if (!items)
            return -1;
        if (v->n)
            memcpy (items, v->items, v->n * sizeof *items);
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = item;
    return 0;
}

static uint32_t
s_hash (const char *key, size_t len)
{
    uint32_t h = 2166136261u;           //  FNV-1a
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char) key[i]) * 16777619u;
    return h;
}

void *
gql_map_get (const gql_map_t *m, const char *key, size_t len)
{
    if (m->cap == 0)
        return NULL;
    uint32_t mask = m->cap - 1;
    for (uint32_t i = s_hash (key, len) & mask;; i = (i + 1) & mask) {
        const gql_map_slot_t *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->len == len && memcmp (s->key, key, len) == 0)
            return s->val;
    }
}

static int
s_map_grow (gql_arena_t *a, gql_map_t *m)
{
    if (m->cap >= (UINT32_MAX >> 2))
        return -1;
    uint32_t cap = m->cap ? m->cap * 2 : 16;
    gql_map_slot_t *slots = gql_alloc_array (a, cap, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t j = 0; j < m->cap; j++) {
        gql_map_slot_t *s = &m->slots[j];
        if (!s->key)
            continue;
        uint32_t i = s_hash (s->key, s->len) & (cap - 1);
        while (slots[i].key)
            i = (i + 1) & (cap - 1);
        slots[i] = *s;
    }
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int
gql_map_put (gql_arena_t *a, gql_map_t *m, const char *key, size_t len, void *val, void **old)
{
    //  Keep the load at or under one half, so probes stay short.
    if ((m->n + 1) * 2 > m->cap && s_map_grow (a, m) != 0)
        return -1;
    uint32_t mask = m->cap - 1;
    for (uint32_t i = s_hash (key, len) & mask;; i = (i + 1) & mask) {
        gql_map_slot_t *s = &m->slots[i];
        if (!s->key) {
            s->key = key;
            s->len = len;
            s->val = val;
            m->n++;
            return 1;
        }
        if (s->len == len && memcmp (s->key, key, len) == 0) {
            if (old)
                *old = s->val;
            return 0;
        }
    }
}

static const char *
s_item_name (const gql_names_t *x, const void *item)
{
    const char *name;
    memcpy (&name, (const char *) item + x->name_off, sizeof name);
    return name;
}

void
gql_names_init (gql_names_t *x, gql_arena_t *a, const gql_vec_t *v, size_t name_off,
                uint64_t *steps)
{
    memset (x, 0, sizeof *x);
    x->v = v;
    x->name_off = name_off;
    if (!v || v->n <= GQL_SCAN_MAX)
        return;
    *steps += v->n;
    for (uint32_t i = 0; i < v->n; i++) {
        const char *name = s_item_name (x, v->items[i]);
        if (gql_map_put (a, &x->map, name, strlen (name), v->items[i], NULL) < 0) {
            //  Without an index, searches scan: slower, never wrong.
            x->oom = 1;
            x->map.cap = 0;
            return;
        }
    }
}

void *
gql_names_find (const gql_names_t *x, const char *name, uint64_t *steps)
{
    if (!x->v)
        return NULL;
    if (x->map.cap) {
        *steps += 1;
        return gql_map_get (&x->map, name, strlen (name));
    }
    for (uint32_t i = 0; i < x->v->n; i++) {
        *steps += 1;
        if (strcmp (s_item_name (x, x->v->items[i]), name) == 0)
            return x->v->items[i];
    }
    return NULL;
}

gql_arena_mark_t
gql_arena_mark (const gql_arena_t *a)
{
    gql_arena_mark_t m = { a->head, a->head ? a->head->next : NULL, a->head ? a->head->used : 0 };
    return m;
}

void
gql_arena_release (gql_arena_t *a, gql_arena_mark_t m)
{
    //  Chunks made since the mark are in front of it, or (chunks of their
    //  own for large requests) right behind the chunk that was the head.
    while (a->head && a->head != m.head) {
        gql_chunk_t *c = a->head;
        a->head = c->next;
        a->total -= c->cap;
        free (c);
    }
    if (!m.head)
        return;
    while (m.head->next != m.next) {
        gql_chunk_t *c = m.head->next;
        m.head->next = c->next;
        a->total -= c->cap;
        free (c);
    }
    m.head->used = m.used;
}
