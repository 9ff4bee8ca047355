/*  test_gql_malformed.c: every file in malformed/ is a document that
 *  must be refused: gql_prepare returns NULL with a well-formed GraphQL
 *  error list, and does not crash or leak (run under ASan and valgrind).
 *  Each file is also fed to gql_schema_new, which must fail cleanly.
 */
#include "gqltest.h"

#include <dirent.h>

static const char *SDL =
    "type Message { id: ID!  text: String!  author: User }\n"
    "type User { name: String! friend: User }\n"
    "input Filter { text: String! }\n"
    "type Query { messageAdded(channel: String!): Message }\n"
    "type Subscription {\n"
    "  messageAdded(channel: String!): Message! @topic(name: \"chat.{channel}\")\n"
    "  filtered(filter: Filter): Message\n"
    "}\n";

static char *
s_read (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    jbuf_t b;
    jbuf_init (&b, 0);
    char tmp[4096];
    size_t n;
    while ((n = fread (tmp, 1, sizeof tmp, f)) > 0)
        jbuf_put (&b, tmp, n);
    fclose (f);
    return jbuf_take (&b, len);
}

static void
test_malformed_corpus (void)
{
    gql_schema_t *s = t_schema (SDL);
    REQUIRE (s);
    DIR *d = opendir (GQL_MALFORMED_DIR);
    REQUIRE (d);
    int files = 0;
    struct dirent *ent;
    while ((ent = readdir (d))) {
        if (ent->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf (path, sizeof path, "%s/%s", GQL_MALFORMED_DIR, ent->d_name);
        size_t len = 0;
        char *text = s_read (path, &len);
        if (!text)
            continue;
        files++;
        char *errors = NULL;
        gql_sub_t *sub = gql_prepare (s, text, len, NULL, NULL, NULL, &errors);
        if (sub || !t_is_error_list (errors)) {
            fprintf (stderr, "%s: expected errors, got %s\n", ent->d_name, sub ? "a subscription" : errors);
            t_failures++;
        }
        gql_sub_destroy (&sub);
        free (errors);
        char *err = NULL;
        gql_schema_t *bad = gql_schema_new (text, len, &err);
        if (bad || !err || !*err) {
            fprintf (stderr, "%s: expected a schema error\n", ent->d_name);
            t_failures++;
        }
        gql_schema_destroy (&bad);
        free (err);
        free (text);
    }
    closedir (d);
    CHECK (files >= 80);
    gql_schema_destroy (&s);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_malformed_corpus);
    return TEST_RESULT ();
}
