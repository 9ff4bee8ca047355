/*  bench_gql_execute.c: time gql_execute (and gql_prepare) for the example
 *  chat subscription. Not a test; run it by hand:
 *      build/tests/bench/bench_gql_execute [iterations]
 */
#include "gql.h"
#include "mpjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *SDL =
    "type Message { id: ID!  text: String!  author: User }\n"
    "type User { name: String! }\n"
    "type Subscription {\n"
    "  messageAdded(channel: String!): Message! @topic(name: \"chat.{channel}\")\n"
    "}\n";
static const char *DOC = "subscription { messageAdded(channel: \"general\") { id text author { name } } }";
static const char *PAYLOAD = "{\"id\":\"1\",\"text\":\"hi\",\"author\":{\"name\":\"ann\"}}";

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

int
main (int argc, char **argv)
{
    long n = argc > 1 ? atol (argv[1]) : 2000000;
    char *err = NULL;
    gql_schema_t *s = gql_schema_new (SDL, strlen (SDL), &err);
    if (!s) {
        fprintf (stderr, "schema: %s\n", err);
        return 1;
    }
    gql_sub_t *sub = gql_prepare (s, DOC, strlen (DOC), NULL, NULL, NULL, &err);
    if (!sub) {
        fprintf (stderr, "prepare: %s\n", err);
        return 1;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    char perr[128];
    if (mpjson_from_json (PAYLOAD, strlen (PAYLOAD), &sb, perr, sizeof perr) != 0)
        return 1;
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    msgpack_unpack_next (&u, sb.data, sb.size, &off);
    jbuf_t out;
    jbuf_init (&out, 0);
    size_t bytes = 0;
    double t0 = s_now ();
    for (long i = 0; i < n; i++) {
        jbuf_reset (&out);
        if (gql_execute (sub, &u.data, &out) < 0)
            return 1;
        bytes += out.len;
    }
    double t1 = s_now ();
    printf ("gql_execute: %.1f ns/op (%ld ops, %zu bytes each)\n", (t1 - t0) / (double) n, n, bytes / (size_t) n);
    printf ("  %.*s\n", (int) out.len, out.data);
    long np = n / 100 > 0 ? n / 100 : 1;
    t0 = s_now ();
    for (long i = 0; i < np; i++) {
        gql_sub_t *p = gql_prepare (s, DOC, strlen (DOC), NULL, NULL, NULL, &err);
        gql_sub_destroy (&p);
    }
    t1 = s_now ();
    printf ("gql_prepare: %.1f us/op (%ld ops)\n", (t1 - t0) / (double) np / 1000.0, np);
    jbuf_free (&out);
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_destroy (&sb);
    gql_sub_destroy (&sub);
    gql_schema_destroy (&s);
    return 0;
}
