/*  test_auth_parse.c: the parsing of edge/auth that needs no keys: topic
 *  patterns with NATS's rules (patterns.c), and where a token is found in
 *  a connection_init payload, an Authorization header or a Cookie header
 *  (token.c).
 */
#include "auth.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#define MATCH(p, topic) patterns_match ((p), (topic), strlen (topic))

static patterns_t *
s_parse (const char *list)
{
    char why[256] = "";
    patterns_t *p = patterns_parse (list, why, sizeof why);
    if (!p)
        fprintf (stderr, "  \"%s\": %s\n", list, why);
    return p;
}

static void
test_pattern_rules (void)
{
    patterns_t *p = s_parse ("chat.*");
    CHECK (MATCH (p, "chat.general"));
    CHECK (!MATCH (p, "chat") && !MATCH (p, "chat.a.b") && !MATCH (p, "chat."));
    CHECK (!MATCH (p, "chatx.a") && !MATCH (p, "x.chat.a") && !MATCH (p, ""));
    //  Only len bytes of the topic count.
    CHECK (patterns_match (p, "chat.generalXXX", 12));
    CHECK (!patterns_match (p, "chat.general", 4));
    patterns_destroy (&p);
    CHECK (p == NULL);
    p = s_parse ("user.>");
    CHECK (MATCH (p, "user.alice") && MATCH (p, "user.alice.inbox"));
    CHECK (!MATCH (p, "user") && !MATCH (p, "user.") && !MATCH (p, "user.a..b"));
    CHECK (!MATCH (p, "users.alice"));
    patterns_destroy (&p);
    p = s_parse (">");
    CHECK (MATCH (p, "a") && MATCH (p, "a.b.c"));
    CHECK (!MATCH (p, "") && !MATCH (p, ".a") && !MATCH (p, "a."));
    patterns_destroy (&p);
    p = s_parse ("*.x");
    CHECK (MATCH (p, "a.x") && !MATCH (p, "x") && !MATCH (p, "a.b.x") && !MATCH (p, ".x"));
    patterns_destroy (&p);
    p = s_parse ("a.b");
    CHECK (MATCH (p, "a.b"));
    CHECK (!MATCH (p, "a.bc") && !MATCH (p, "a.b.c") && !MATCH (p, "a") && !MATCH (p, "a.*"));
    patterns_destroy (&p);
}

static void
test_pattern_lists (void)
{
    patterns_t *p = s_parse ("news.*, user.alice.> ,\tpublic");
    REQUIRE (p);
    CHECK (MATCH (p, "news.x") && MATCH (p, "user.alice.inbox") && MATCH (p, "public"));
    CHECK (!MATCH (p, "news") && !MATCH (p, "user.bob.inbox") && !MATCH (p, " public"));
    patterns_destroy (&p);
    //  None at all: nothing matches.
    const char *empty[] = { NULL, "" };
    for (int i = 0; i < 2; i++) {
        p = s_parse (empty[i]);
        CHECK (p && !MATCH (p, "a") && !MATCH (p, "a.b"));
        patterns_destroy (&p);
    }
    CHECK (!MATCH (NULL, "a"));
    //  A deep topic, by "*" per segment and by ">".
    char deep[512] = "s";
    char stars[512] = "*";
    for (int i = 1; i < 100; i++) {
        strcat (deep, ".s");
        strcat (stars, ".*");
    }
    p = s_parse ("s.>");
    CHECK (MATCH (p, deep));
    patterns_destroy (&p);
    p = s_parse (stars);
    CHECK (MATCH (p, deep));
    strcat (deep, ".s");
    CHECK (!MATCH (p, deep));
    patterns_destroy (&p);
}

static void
test_pattern_malformed (void)
{
    const char *bad[][2] = {
        { "a..b", "empty segment" },    { ".a", "empty segment" },
        { "a.", "empty segment" },      { "a.>.b", "'>' not last" },
        { ">.a", "'>' not last" },      { "a*", "'*' inside a segment" },
        { "*a.b", "'*' inside a segment" }, { "a.b>", "'>' inside a segment" },
        { ">a", "'>' inside a segment" }, { "a.**", "'*' inside a segment" },
        { "a,,b", "empty pattern" },    { ",a", "empty pattern" },
        { "a,", "empty pattern" },      { " , ", "empty pattern" },
        { "ok,a..b", "\"a..b\": empty segment" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char why[256] = "";
        patterns_t *p = patterns_parse (bad[i][0], why, sizeof why);
        CHECK (p == NULL);
        if (!strstr (why, bad[i][1])) {
            fprintf (stderr, "  \"%s\": why is \"%s\", not \"%s\"\n", bad[i][0], why, bad[i][1]);
            t_failures++;
        }
        patterns_destroy (&p);
    }
    CHECK (patterns_parse ("a..b", NULL, 0) == NULL);
}

//  auth_token_from_init on JSON text; returns the token as a new string
//  (free it), or NULL, with *bad.
static char *
s_from_init (const char *text, int *bad)
{
    json_t *payload = text ? json_loads (text, 0, NULL) : NULL;
    size_t len = 99;
    *bad = 7;
    const char *token = auth_token_from_init (payload, &len, bad);
    char *copy = token ? strndup (token, len) : NULL;
    CHECK (token || len == 0);
    json_decref (payload);
    return copy;
}

static void
test_token_from_init (void)
{
    const char *good[][2] = {
        { "{\"token\":\"abc\"}", "abc" },
        { "{\"authToken\":\"abc\"}", "abc" },
        { "{\"token\":\"one\",\"authToken\":\"two\"}", "one" },
        { "{\"authToken\":\"two\",\"Authorization\":\"Bearer three\"}", "two" },
        { "{\"Authorization\":\"Bearer abc\"}", "abc" },
        { "{\"authorization\":\"bearer   abc  \"}", "abc" },
        { "{\"Authorization\":\"BEARER\\tabc\"}", "abc" },
        { "{\"token\":\"abc\",\"Authorization\":\"Basic x\"}", "abc" },
        { "{\"token\":\"\"}", "" },
    };
    int bad;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char *token = s_from_init (good[i][0], &bad);
        CHECK_STR (token, good[i][1]);
        CHECK_INT (bad, 0);
        free (token);
    }
    const char *wrong[] = { "{\"token\":5}", "{\"token\":null}", "{\"authToken\":[]}",
                            "{\"Authorization\":\"Basic abc\"}", "{\"Authorization\":\"Bearer\"}",
                            "{\"authorization\":\"Bearer a b\"}", "{\"Authorization\":7}",
                            "{\"token\":{},\"authToken\":\"abc\"}" };
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        char *token = s_from_init (wrong[i], &bad);
        CHECK (token == NULL);
        if (bad != 1)
            fprintf (stderr, "  %s: bad is %d\n", wrong[i], bad);
        CHECK_INT (bad, 1);
        free (token);
    }
    const char *none[] = { NULL, "{}", "{\"other\":\"x\"}", "[\"token\"]", "\"token\"" };
    for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
        char *token = s_from_init (none[i], &bad);
        CHECK (token == NULL);
        CHECK_INT (bad, 0);
        free (token);
    }
}

//  The token of header value text (its first n bytes) as a new string.
static char *
s_from_header (const char *text, size_t n)
{
    size_t len = 99;
    const char *token = auth_token_from_header (text, n, &len);
    CHECK (token || len == 0);
    return token ? strndup (token, len) : NULL;
}

static void
test_token_from_header (void)
{
    const char *good[][2] = { { "Bearer abc", "abc" }, { "  bearer\t abc ", "abc" },
                              { "bEaReR a.b.c", "a.b.c" } };
    for (size_t i = 0; i < 3; i++) {
        char *token = s_from_header (good[i][0], strlen (good[i][0]));
        CHECK_STR (token, good[i][1]);
        free (token);
    }
    const char *wrong[] = { "", "Bearer", "Bearer ", "Bearerabc", "Basic abc", "Bearer a b",
                            "Token abc", "Bear abc" };
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++)
        CHECK (s_from_header (wrong[i], strlen (wrong[i])) == NULL);
    CHECK (s_from_header (NULL, 0) == NULL);
    //  Only value_len bytes are read.
    char *token = s_from_header ("Bearer abcdef", 10);
    CHECK_STR (token, "abc");
    free (token);
}

//  The cookie called name in text, as a new string.
static char *
s_cookie (const char *text, const char *name)
{
    size_t len = 99;
    const char *value = auth_token_from_cookie (text, text ? strlen (text) : 0, name, &len);
    CHECK (value || len == 0);
    return value ? strndup (value, len) : NULL;
}

static void
test_token_from_cookie (void)
{
    const char *good[][2] = {
        { "token=abc", "abc" },
        { "a=b; token=abc; c=d", "abc" },
        { "a=b;token=abc", "abc" },
        { "xtoken=no; token=yes", "yes" },
        { "tokenx=no; token=yes; token=later", "yes" },
        { "token=\"abc\"", "abc" },
        { " token = abc ; x=y", "abc" },
        { "a=b; token=v=w", "v=w" },
        { "junk; token=abc", "abc" },
        { "token=\"", "\"" },
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char *value = s_cookie (good[i][0], "token");
        CHECK_STR (value, good[i][1]);
        free (value);
    }
    const char *none[] = { "", "xtoken=abc", "tokenx=abc", "token", "token=", "a=b; token=\"\"",
                           "Token=abc", ";;;", "=abc" };
    for (size_t i = 0; i < sizeof none / sizeof *none; i++)
        CHECK (s_cookie (none[i], "token") == NULL);
    CHECK (s_cookie (NULL, "token") == NULL);
    CHECK (s_cookie ("token=abc", "") == NULL);
    CHECK (s_cookie ("token=abc", NULL) == NULL);
    size_t len = 0;
    const char *v = auth_token_from_cookie ("token=abcdef; x=1", 9, "token", &len);
    CHECK (v && len == 3 && memcmp (v, "abc", 3) == 0);
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_pattern_rules);
    RUN (test_pattern_lists);
    RUN (test_pattern_malformed);
    RUN (test_token_from_init);
    RUN (test_token_from_header);
    RUN (test_token_from_cookie);
    return TEST_RESULT ();
}
