/*  testutil.h: the few macros the C unit tests share.
 *
 *  A test file defines functions `static void test_x (void)` and lists
 *  them in main with RUN (test_x). CHECK records a failure and carries
 *  on; REQUIRE stops the current test. main returns TEST_RESULT (), which
 *  is non-zero if anything failed, so ctest reports it.
 *
 *  Run one test by name: ./test_wire test_topic_rules
 */
#ifndef HERALD_TESTUTIL_H
#define HERALD_TESTUTIL_H

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

static int t_failures;
static int t_ran;
static const char *t_only;
static jmp_buf t_abort;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            t_failures++;                                                        \
        }                                                                        \
    } while (0)

#define REQUIRE(cond)                                                            \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf (stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
            t_failures++;                                                        \
            longjmp (t_abort, 1);                                                \
        }                                                                        \
    } while (0)

#define CHECK_STR(a, b)                                                          \
    do {                                                                         \
        const char *t_a = (a), *t_b = (b);                                       \
        if (!t_a || !t_b || strcmp (t_a, t_b) != 0) {                            \
            fprintf (stderr, "%s:%d: CHECK_STR failed:\n  got:      %s\n  expected: %s\n", \
                     __FILE__, __LINE__, t_a ? t_a : "(null)", t_b ? t_b : "(null)"); \
            t_failures++;                                                        \
        }                                                                        \
    } while (0)

#define CHECK_INT(a, b)                                                          \
    do {                                                                         \
        long long t_a = (long long) (a), t_b = (long long) (b);                  \
        if (t_a != t_b) {                                                        \
            fprintf (stderr, "%s:%d: CHECK_INT failed: %s is %lld, expected %lld\n", \
                     __FILE__, __LINE__, #a, t_a, t_b);                          \
            t_failures++;                                                        \
        }                                                                        \
    } while (0)

#define TEST_INIT(argc, argv) (t_only = (argc) > 1 ? (argv)[1] : NULL)

#define RUN(fn)                                                                  \
    do {                                                                         \
        if (!t_only || strcmp (t_only, #fn) == 0) {                              \
            int t_before = t_failures;                                           \
            t_ran++;                                                             \
            if (setjmp (t_abort) == 0)                                           \
                fn ();                                                           \
            fprintf (stderr, "%s %s\n", t_failures == t_before ? "ok  " : "FAIL", #fn); \
        }                                                                        \
    } while (0)

#define TEST_RESULT()                                                            \
    (t_ran == 0 ? (fprintf (stderr, "no test named %s\n", t_only), 1)           \
                : (fprintf (stderr, "%d test(s), %d failure(s)\n", t_ran, t_failures), \
                   t_failures != 0))

#endif
