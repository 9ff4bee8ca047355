/*  timerheap.h: the connections' protocol deadlines, in one binary heap.
 *
 *  Every connection may wait for something: its connection_init, its
 *  next legacy keep-alive, its token's expiry. These are kept in a
 *  min-heap of slots that the connections embed, so that setting,
 *  moving or cancelling one costs O(log n) however many connections wait
 *  (a sorted list costs O(n) per insertion, O(n^2) for a connect storm
 *  of clients with tokens), and the edge runs one loop timer for the
 *  earliest. Pure code: the caller passes the times.
 */
#ifndef HERALD_TIMERHEAP_H
#define HERALD_TIMERHEAP_H

#include <stddef.h>
#include <stdint.h>

/*  What a connection embeds: its deadline, and where it is in the heap
 *  (0: not in it). Zero it before the first use. */
typedef struct {
    int64_t when;
    size_t index;
} timerheap_slot_t;

typedef struct timerheap timerheap_t;

timerheap_t *timerheap_new (void);
/*  Frees the heap (not the slots). Accepts NULL. */
void timerheap_destroy (timerheap_t **self_p);

/*  Puts slot in the heap at when, or moves it there if it is in already.
 *  Returns 0, or -1 if memory ran out (the slot is then not in it). */
int timerheap_set (timerheap_t *self, timerheap_slot_t *slot, int64_t when);

/*  Takes slot out of the heap, if it is in. */
void timerheap_cancel (timerheap_t *self, timerheap_slot_t *slot);

/*  The earliest deadline, or -1 if the heap is empty. */
int64_t timerheap_next (const timerheap_t *self);

/*  Takes out and returns the slot with the earliest deadline if it is at
 *  or before now, else returns NULL. */
timerheap_slot_t *timerheap_pop (timerheap_t *self, int64_t now);

/*  Slots in the heap. */
size_t timerheap_count (const timerheap_t *self);

#endif
