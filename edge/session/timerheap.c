/*  timerheap.c: a binary min-heap of embedded slots. See timerheap.h.
 *
 *  The array holds pointers to the slots, from index 1 (so that a slot's
 *  index 0 means "not in the heap", and a node's children are 2i and
 *  2i + 1); each slot knows its index, which is what makes moving and
 *  cancelling O(log n).
 */
#include "timerheap.h"

#include <stdlib.h>

struct timerheap {
    timerheap_slot_t **items;   //  items[1..count]
    size_t count;
    size_t cap;                 //  of items, index 0 included
};

timerheap_t *
timerheap_new (void)
{
    return calloc (1, sizeof (timerheap_t));
}

void
timerheap_destroy (timerheap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->items);
    free (*self_p);
    *self_p = NULL;
}

static void
s_place (timerheap_t *self, timerheap_slot_t *slot, size_t i)
{
    self->items[i] = slot;
    slot->index = i;
}

//  Moves the slot at i towards the root while it is earlier than its parent.
static void
s_up (timerheap_t *self, size_t i)
{
    timerheap_slot_t *slot = self->items[i];
    while (i > 1 && self->items[i / 2]->when > slot->when) {
        s_place (self, self->items[i / 2], i);
        i /= 2;
    }
    s_place (self, slot, i);
}

//  Moves the slot at i towards the leaves while a child is earlier.
static void
s_down (timerheap_t *self, size_t i)
{
    timerheap_slot_t *slot = self->items[i];
    while (2 * i <= self->count) {
        size_t child = 2 * i;
        if (child < self->count && self->items[child + 1]->when < self->items[child]->when)
            child++;
        if (self->items[child]->when >= slot->when)
            break;
        s_place (self, self->items[child], i);
        i = child;
    }
    s_place (self, slot, i);
}

int
timerheap_set (timerheap_t *self, timerheap_slot_t *slot, int64_t when)
{
    if (slot->index) {
        int64_t was = slot->when;
        slot->when = when;
        if (when < was)
            s_up (self, slot->index);
        else
            s_down (self, slot->index);
        return 0;
    }
    if (self->count + 1 >= self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        timerheap_slot_t **items = realloc (self->items, cap * sizeof *items);
        if (!items)
            return -1;
        self->items = items;
        self->cap = cap;
    }
    slot->when = when;
    self->items[++self->count] = slot;
    s_up (self, self->count);
    return 0;
}

void
timerheap_cancel (timerheap_t *self, timerheap_slot_t *slot)
{
    size_t i = slot->index;
    if (!i)
        return;
    slot->index = 0;
    timerheap_slot_t *last = self->items[self->count--];
    if (i > self->count)
        return;                 //  it was the last one
    s_place (self, last, i);
    //  The last one may belong above or below the hole it fills.
    if (i > 1 && self->items[i / 2]->when > last->when)
        s_up (self, i);
    else
        s_down (self, i);
}

int64_t
timerheap_next (const timerheap_t *self)
{
    return self->count ? self->items[1]->when : -1;
}

timerheap_slot_t *
timerheap_pop (timerheap_t *self, int64_t now)
{
    if (!self->count || self->items[1]->when > now)
        return NULL;
    timerheap_slot_t *slot = self->items[1];
    timerheap_cancel (self, slot);
    return slot;
}

size_t
timerheap_count (const timerheap_t *self)
{
    return self->count;
}
