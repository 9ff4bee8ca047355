/*  startup.c: what herald-edge checks before it serves: the schema, the
 *  TLS files, and the descriptor limit (see edge.h). --check stops here.
 */
#include "edge.h"
#include "gql.h"
#include "jbuf.h"
#include "log.h"

#include <errno.h>
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

static gql_schema_t *
s_load_schema (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        hlog_error ("cannot read the schema %s: %s", path, strerror (errno));
        return NULL;
    }
    jbuf_t text;
    jbuf_init (&text, 16u << 20);
    char buf[8192];
    size_t n;
    while ((n = fread (buf, 1, sizeof buf, f)) > 0)
        jbuf_put (&text, buf, n);
    fclose (f);
    gql_schema_t *schema = NULL;
    char *err = NULL;
    if (jbuf_failed (&text))
        hlog_error ("the schema %s is too large (over 16 MiB)", path);
    else if (!(schema = gql_schema_new (text.data ? text.data : "", text.len, &err)))
        hlog_error ("invalid schema %s: %s", path, err ? err : "out of memory");
    free (err);
    jbuf_free (&text);
    return schema;
}

int
edge_check (const edge_config_t *cfg)
{
    gql_schema_t *schema = s_load_schema (cfg->schema_path);
    if (!schema || s_check_tls_files (cfg) != 0) {
        gql_schema_destroy (&schema);
        return 1;
    }
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

gql_schema_t *
edge_prepare (const edge_config_t *cfg, int *max_connections)
{
    signal (SIGPIPE, SIG_IGN);
    rlim_t spare = EDGE_SPARE_FDS;
    rlim_t nofile = s_raise_nofile ((rlim_t) cfg->max_connections + spare);
    *max_connections = cfg->max_connections;
    if ((rlim_t) cfg->max_connections + spare > nofile) {
        *max_connections = nofile > spare ? (int) (nofile - spare) : 1;
        //  Only a limit the operator asked for deserves a warning.
        hlog (cfg->max_connections_given ? HLOG_WARN : HLOG_INFO,
              "the descriptor limit is %llu, so at most %d connections are accepted "
              "(--max-connections %d); raise it with ulimit -n",
              (unsigned long long) nofile, *max_connections, cfg->max_connections);
    }
    gql_schema_t *schema = s_load_schema (cfg->schema_path);
    if (schema && s_check_tls_files (cfg) != 0)
        gql_schema_destroy (&schema);
    return schema;
}
