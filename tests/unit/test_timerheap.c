/*  test_timerheap.c: the heap of protocol deadlines (edge/session/timerheap.c):
 *  order, moves both ways, cancels anywhere, and a long random run checked
 *  against a plain array.
 */
#include "testutil.h"
#include "timerheap.h"

#include <stdlib.h>
#include <string.h>

static void
test_order_and_moves (void)
{
    timerheap_t *h = timerheap_new ();
    REQUIRE (h);
    timerheap_slot_t s[5];
    memset (s, 0, sizeof s);
    int64_t when[5] = { 50, 10, 40, 20, 30 };
    for (int i = 0; i < 5; i++)
        CHECK_INT (timerheap_set (h, &s[i], when[i]), 0);
    CHECK_INT (timerheap_count (h), 5);
    CHECK_INT (timerheap_next (h), 10);
    //  Later and earlier moves, and a cancel from the middle.
    CHECK_INT (timerheap_set (h, &s[1], 60), 0);
    CHECK_INT (timerheap_set (h, &s[0], 5), 0);
    timerheap_cancel (h, &s[2]);
    timerheap_cancel (h, &s[2]);                //  not in it: nothing
    CHECK_INT (s[2].index, 0);
    CHECK (timerheap_pop (h, 4) == NULL);       //  nothing due yet
    CHECK (timerheap_pop (h, 5) == &s[0]);
    CHECK (timerheap_pop (h, 100) == &s[3]);
    CHECK (timerheap_pop (h, 100) == &s[4]);
    CHECK (timerheap_pop (h, 100) == &s[1]);
    CHECK (timerheap_pop (h, 100) == NULL);
    CHECK_INT (timerheap_next (h), -1);
    CHECK_INT (timerheap_count (h), 0);
    timerheap_destroy (&h);
    CHECK (h == NULL);
    timerheap_destroy (&h);
}

//  Random sets, moves, cancels and pops, against an array of deadlines.
static void
test_random_against_array (void)
{
    enum { N = 500 };
    static timerheap_slot_t s[N];
    static int64_t ref[N];                      //  -1: not in the heap
    memset (s, 0, sizeof s);
    timerheap_t *h = timerheap_new ();
    REQUIRE (h);
    for (int i = 0; i < N; i++)
        ref[i] = -1;
    srand (7);
    int64_t now = 0;
    for (int step = 0; step < 50000; step++) {
        int i = rand () % N;
        int op = rand () % 4;
        if (op <= 1) {
            int64_t when = now + rand () % 1000;
            REQUIRE (timerheap_set (h, &s[i], when) == 0);
            ref[i] = when;
        }
        else if (op == 2) {
            timerheap_cancel (h, &s[i]);
            ref[i] = -1;
        }
        else {
            now += rand () % 20;
            timerheap_slot_t *due;
            while ((due = timerheap_pop (h, now))) {
                int k = (int) (due - s);
                REQUIRE (ref[k] >= 0 && ref[k] <= now);
                //  Nothing earlier is left behind.
                for (int j = 0; j < N; j++)
                    REQUIRE (j == k || ref[j] < 0 || ref[j] >= ref[k]);
                ref[k] = -1;
            }
        }
        int64_t min = -1;
        size_t count = 0;
        for (int j = 0; j < N; j++)
            if (ref[j] >= 0) {
                count++;
                if (min < 0 || ref[j] < min)
                    min = ref[j];
            }
        REQUIRE (timerheap_count (h) == count && timerheap_next (h) == min);
    }
    timerheap_destroy (&h);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_order_and_moves);
    RUN (test_random_against_array);
    return TEST_RESULT ();
}
