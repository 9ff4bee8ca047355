/*  auth_fixture.h: what the auth unit tests share: the directory that
 *  auth_tokens.py filled (keys, JWKS files, secrets and a manifest of
 *  tokens), read once, and a check that names auth_rc_t values.
 *
 *  A test program takes the directory as argv[1] (and a test's name as
 *  argv[2]); without it, or with a file missing, it fails, since a
 *  skipped check would pass silently.
 */
#ifndef HERALD_AUTH_FIXTURE_H
#define HERALD_AUTH_FIXTURE_H

#include "auth.h"
#include "testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The clock of the manifest ("now" in seconds), in ms.
static int64_t fx_now_ms;
static const char *fx_dir;
static char *fx_manifest;       //  "name token\n" lines, split in place

#define CHECK_RC(got, want)                                                       \
    do {                                                                          \
        auth_rc_t t_got = (got), t_want = (want);                                 \
        if (t_got != t_want) {                                                    \
            fprintf (stderr, "%s:%d: %s is %s, expected %s\n", __FILE__, __LINE__, \
                     #got, auth_rc_label (t_got), auth_rc_label (t_want));        \
            t_failures++;                                                         \
        }                                                                         \
    } while (0)

//  The contents of a file of the fixture directory (free it), or NULL.
static inline char *
fx_file (const char *name, size_t *len)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/%s", fx_dir, name);
    FILE *f = fopen (path, "rb");
    char *buf = NULL;
    long n = -1;
    if (f && fseek (f, 0, SEEK_END) == 0 && (n = ftell (f)) >= 0 && fseek (f, 0, SEEK_SET) == 0
        && (buf = malloc ((size_t) n + 1)) && fread (buf, 1, (size_t) n, f) == (size_t) n) {
        buf[n] = '\0';
        *len = (size_t) n;
    }
    else {
        fprintf (stderr, "auth fixture: cannot read %s\n", path);
        free (buf);
        buf = NULL;
    }
    if (f)
        fclose (f);
    return buf;
}

//  Loads the manifest; returns 0, or -1 (and says why).
static inline int
fx_load (int argc, char **argv)
{
    size_t len = 0;
    if (argc < 2) {
        fprintf (stderr, "usage: %s FIXTURE_DIR [TEST] (auth_tokens.py makes the directory)\n",
                 argv[0]);
        return -1;
    }
    fx_dir = argv[1];
    if (!(fx_manifest = fx_file ("manifest", &len))) {
        fprintf (stderr, "auth fixture: run tests/unit/auth_tokens.py %s first\n", fx_dir);
        return -1;
    }
    if (strncmp (fx_manifest, "now ", 4) != 0)
        return -1;
    fx_now_ms = strtoll (fx_manifest + 4, NULL, 10) * 1000;
    return 0;
}

//  The token called name in the manifest. A missing one fails the test.
static inline const char *
fx_token (const char *name)
{
    static char token[16384];
    size_t n = strlen (name);
    for (const char *line = fx_manifest; line && *line;) {
        const char *end = strchr (line, '\n');
        size_t line_len = end ? (size_t) (end - line) : strlen (line);
        if (line_len > n && strncmp (line, name, n) == 0 && line[n] == ' '
            && line_len - n - 1 < sizeof token) {
            memcpy (token, line + n + 1, line_len - n - 1);
            token[line_len - n - 1] = '\0';
            return token;
        }
        line = end ? end + 1 : NULL;
    }
    fprintf (stderr, "auth fixture: no token %s in the manifest\n", name);
    REQUIRE (0);
    return NULL;
}

//  Adds a fixture file to keys: *.key files as secrets, others as
//  public keys. Returns what the add returned; why holds its reason.
static inline int
fx_add (auth_keys_t *keys, const char *name, char *why, size_t why_len)
{
    size_t len = 0;
    char *buf = fx_file (name, &len);
    REQUIRE (buf);
    size_t n = strlen (name);
    int rc = n > 4 && strcmp (name + n - 4, ".key") == 0
                 ? auth_keys_add_secret (keys, name, buf, len, why, why_len)
                 : auth_keys_add_public (keys, name, buf, len, why, why_len);
    free (buf);
    return rc;
}

//  A key set of the files named in a NULL-terminated list, each of
//  which must load.
static inline auth_keys_t *
fx_keys (const char *first, ...)
{
    auth_keys_t *keys = auth_keys_new ();
    char why[512];
    va_list args;
    REQUIRE (keys);
    va_start (args, first);
    for (const char *name = first; name; name = va_arg (args, const char *)) {
        int rc = fx_add (keys, name, why, sizeof why);
        if (rc < 1)
            fprintf (stderr, "auth fixture: %s\n", why);
        CHECK (rc >= 1);
    }
    va_end (args);
    return keys;
}

//  Verifies the token called name; checks that an identity comes with
//  AUTH_OK and only then.
static inline auth_rc_t
fx_verify (const auth_keys_t *keys, const auth_config_t *config, const char *name, int64_t now_ms)
{
    const char *token = fx_token (name);
    auth_identity_t *identity = (auth_identity_t *) &identity;
    auth_rc_t rc = auth_verify (keys, config, token, strlen (token), now_ms, &identity);
    CHECK ((rc == AUTH_OK) == (identity != NULL));
    auth_identity_destroy (&identity);
    return rc;
}

#endif
