/*  startup.c: what herald-edge checks before it serves: the schema, the
 *  TLS files, the key files and the descriptor limit (see edge.h).
 *  --check stops here. SIGHUP reads the key files again (edge_load_keys).
 */
#include "auth.h"
#include "edge.h"
#include "gql.h"
#include "jbuf.h"
#include "log.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

//  Every connection is a descriptor: raise the limit to what
//  --max-connections needs (root may raise the hard limit too). Returns
//  the soft limit now in force.
static rlim_t
s_raise_nofile (rlim_t want)
{
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_max < want) {
        struct rlimit more = { want, want };
        if (setrlimit (RLIMIT_NOFILE, &more) == 0)
            return want;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
            getrlimit (RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur;
}

//  lws reports an unreadable certificate or key only as a failed vhost:
//  say which file, and why, first.
static int
s_check_tls_files (const edge_config_t *cfg)
{
    const char *files[2] = { cfg->tls_cert, cfg->tls_key };
    const char *what[2] = { "certificate", "private key" };
    for (int i = 0; i < 2; i++) {
        FILE *f = files[i] ? fopen (files[i], "rb") : NULL;
        if (files[i] && !f) {
            hlog_error ("cannot read the TLS %s %s: %s", what[i], files[i], strerror (errno));
            return -1;
        }
        if (f)
            fclose (f);
    }
    return 0;
}

//  Reads a whole file of at most max bytes into text. Returns 0, or -1
//  with why[] (after "FILE: ").
static int
s_read_file (const char *path, size_t max, jbuf_t *text, char *why, size_t why_len)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (why, why_len, "%s", strerror (errno));
        return -1;
    }
    jbuf_init (text, max);
    char buf[8192];
    size_t n;
    while ((n = fread (buf, 1, sizeof buf, f)) > 0)
        jbuf_put (text, buf, n);
    int failed = ferror (f);
    fclose (f);
    if (failed || jbuf_failed (text)) {
        snprintf (why, why_len, failed ? "cannot be read" : "is too large (over %zu bytes)", max);
        jbuf_free (text);
        return -1;
    }
    return 0;
}

static gql_schema_t *
s_load_schema (const char *path)
{
    jbuf_t text;
    char why[128];
    if (s_read_file (path, 16u << 20, &text, why, sizeof why) != 0) {
        hlog_error ("cannot read the schema %s: %s", path, why);
        return NULL;
    }
    char *err = NULL;
    gql_schema_t *schema = gql_schema_new (text.data ? text.data : "", text.len, &err);
    if (!schema)
        hlog_error ("invalid schema %s: %s", path, err ? err : "out of memory");
    free (err);
    jbuf_free (&text);
    return schema;
}

//  A key file is a few kilobytes; a JWKS of many keys is still far below.
#define S_KEY_FILE_MAX (1u << 20)

auth_keys_t *
edge_load_keys (const edge_config_t *cfg, char *why, size_t why_len)
{
    auth_keys_t *keys = auth_keys_new ();
    if (!keys) {
        snprintf (why, why_len, "out of memory");
        return NULL;
    }
    const opt_list_t *lists[2] = { &cfg->jwt_keys, &cfg->jwt_secrets };
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->n; i++) {
            const char *path = lists[l]->items[i];
            char problem[256];
            jbuf_t text;
            int rc = s_read_file (path, S_KEY_FILE_MAX, &text, problem, sizeof problem);
            if (rc == 0) {
                const char *data = text.data ? text.data : "";
                rc = l == 0 ? auth_keys_add_public (keys, path, data, text.len, problem,
                                                    sizeof problem)
                            : auth_keys_add_secret (keys, path, data, text.len, problem,
                                                    sizeof problem);
                //  A secret's bytes do not stay in freed memory.
                OPENSSL_cleanse (text.data, text.len);
                jbuf_free (&text);
            }
            if (rc < 0) {
                snprintf (why, why_len, "%s %s: %s", l == 0 ? "--jwt-key" : "--jwt-secret",
                          path, problem);
                auth_keys_destroy (&keys);
                return NULL;
            }
        }
    return keys;
}

//  The key files, at start and for --check. Returns the keys, or NULL
//  (logged).
static auth_keys_t *
s_load_keys (const edge_config_t *cfg)
{
    char why[512];
    auth_keys_t *keys = edge_load_keys (cfg, why, sizeof why);
    if (!keys)
        hlog_error ("cannot load the keys: %s", why);
    return keys;
}

int
edge_check (const edge_config_t *cfg)
{
    gql_schema_t *schema = s_load_schema (cfg->schema_path);
    auth_keys_t *keys = NULL;
    if (!schema || s_check_tls_files (cfg) != 0 || !(keys = s_load_keys (cfg))) {
        gql_schema_destroy (&schema);
        return 1;
    }
    auth_keys_destroy (&keys);
    printf ("%s is a valid schema. Its subscription fields and their broker topics:\n",
            cfg->schema_path);
    const char *name;
    char topic[512];
    for (size_t i = 0; gql_schema_subscription_field (schema, i, &name, topic, sizeof topic) == 0;
         i++)
        printf ("  %-24s %s\n", name, topic);
    gql_schema_destroy (&schema);
    return 0;
}

//  The descriptor limit is each process's: a worker holds what it allows,
//  and the workers together --max-connections, or what they can hold.
static void
s_connection_limits (const edge_config_t *cfg, int *per_worker, int *total)
{
    rlim_t spare = EDGE_SPARE_FDS;
    rlim_t nofile = s_raise_nofile ((rlim_t) cfg->max_connections + spare);
    *per_worker = cfg->max_connections;
    if ((rlim_t) cfg->max_connections + spare > nofile)
        *per_worker = nofile > spare ? (int) (nofile - spare) : 1;
    long long all = (long long) *per_worker * cfg->workers;
    *total = all < cfg->max_connections ? (int) all : cfg->max_connections;
    //  Only a limit the operator asked for deserves a warning.
    if (*total < cfg->max_connections)
        hlog (cfg->max_connections_given ? HLOG_WARN : HLOG_INFO,
              "the descriptor limit is %llu a process, so at most %d connections are accepted "
              "(%d a worker, %d workers; --max-connections %d); raise it with ulimit -n, or "
              "run more workers", (unsigned long long) nofile, *total, *per_worker,
              cfg->workers, cfg->max_connections);
    else if (*per_worker < cfg->max_connections)
        hlog_debug ("a worker holds at most %d connections (the descriptor limit is %llu)",
                    *per_worker, (unsigned long long) nofile);
}

gql_schema_t *
edge_prepare (const edge_config_t *cfg, int *per_worker, int *total, auth_keys_t **keys)
{
    *keys = NULL;
    signal (SIGPIPE, SIG_IGN);
    s_connection_limits (cfg, per_worker, total);
    gql_schema_t *schema = s_load_schema (cfg->schema_path);
    if (schema && (s_check_tls_files (cfg) != 0 || !(*keys = s_load_keys (cfg))))
        gql_schema_destroy (&schema);
    return schema;
}
