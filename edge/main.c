/*  main.c: herald-edge's command line: the option table, the checks that
 *  span several flags, and the exit status. What the edge checks before
 *  serving is in startup.c, and the server in net/ (docs/architecture.md).
 */
#define _GNU_SOURCE             //  sched_getaffinity, CPU_COUNT
#include "auth.h"
#include "edge.h"
#include "gql.h"
#include "herald.h"
#include "log.h"
#include "opts.h"
#include "shm.h"

#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR(x) #x
#define XSTR(x) STR (x)
#define BIG (1LL << 30)

typedef struct {
    edge_config_t edge;
    const char *workers;
    hlog_level_t log_level;
} s_config_t;

#define E(field) offsetof (s_config_t, edge.field)

//  --allow-origin: '*', or origins (scheme://host[:port]), comma-separated.
static int
s_check_origins (const char *list, char *why, size_t why_len)
{
    if (strcmp (list, "*") == 0)
        return 0;
    const char *p = list;
    while (1) {
        size_t len = strcspn (p, ",");
        int scheme = (len > 7 && strncmp (p, "http://", 7) == 0)
                     || (len > 8 && strncmp (p, "https://", 8) == 0);
        const char *host = scheme ? strstr (p, "//") + 2 : NULL;
        if (!scheme || memchr (host, '/', len - (size_t) (host - p)) != NULL) {
            snprintf (why, why_len, "takes '*' or origins such as https://chat.example.com, "
                      "comma-separated, not \"%.*s\"", (int) (len < 80 ? len : 80), p);
            return -1;
        }
        if (p[len] == 0)
            return 0;
        p += len + 1;
    }
}

static int
s_check_auth (const char *mode, char *why, size_t why_len)
{
    if (strcmp (mode, "required") == 0 || strcmp (mode, "optional") == 0
        || strcmp (mode, "off") == 0)
        return 0;
    snprintf (why, why_len, "takes required, optional or off, not \"%.80s\"", mode);
    return -1;
}

static int
s_check_patterns (const char *list, char *why, size_t why_len)
{
    patterns_t *p = patterns_parse (list, why, why_len);
    if (!p)
        return -1;
    patterns_destroy (&p);
    return 0;
}

//  --workers: auto, or a count.
static int
s_check_workers (const char *value, char *why, size_t why_len)
{
    char *end;
    long n = strcmp (value, "auto") == 0 ? 1 : strtol (value, &end, 10);
    if (strcmp (value, "auto") == 0 || (*value && *end == 0 && n >= 1 && n <= SHM_MAX_WORKERS))
        return 0;
    snprintf (why, why_len, "takes auto or a number from 1 to %d, not \"%.40s\"",
              SHM_MAX_WORKERS, value);
    return -1;
}

//  auto: one worker per CPU this process may run on (its affinity, as
//  taskset or a cgroup's cpuset sets it).
static int
s_workers (const char *value)
{
    if (strcmp (value, "auto") != 0)
        return atoi (value);
    cpu_set_t set;
    int n = sched_getaffinity (0, sizeof set, &set) == 0 ? CPU_COUNT (&set) : 1;
    return n < 1 ? 1 : n > SHM_MAX_WORKERS ? SHM_MAX_WORKERS : n;
}

static const opt_t s_opts[] = {
    { "schema", 0, OPT_STRING, E (schema_path), "FILE", NULL, 0, 0,
      "the GraphQL schema (SDL) with @topic directives; required", "Service:", NULL },
    { "host", 0, OPT_STRING, E (host), "ADDR", "127.0.0.1", 0, 0,
      "address to listen on; '' for all", NULL, NULL },
    { "port", 0, OPT_INT, E (port), "N", "8080", 0, 65535,
      "port; 0 picks a free one, which is logged", NULL, NULL },
    { "workers", 0, OPT_STRING, offsetof (s_config_t, workers), "N", "auto", 0, 0,
      "worker processes, each with its own connections and broker link, all on the one port "
      "(SO_REUSEPORT); auto: one per CPU the edge may run on. A worker that dies is started "
      "again", NULL, s_check_workers },
    { "broker", 0, OPT_STRING, E (broker), "EP", HERALD_DEFAULT_SUB_ENDPOINT, 0, 0,
      "the broker's egress, or a comma-separated list of brokers' egresses (the publishers' "
      "order); without the flag, $HERALD_SUB_ENDPOINT if it is set", NULL, NULL },
    { "static", 0, OPT_STRING, E (static_dir), "DIR", NULL, 0, 0,
      "serve files from DIR at /", NULL, NULL },
    { "tls-cert", 0, OPT_STRING, E (tls_cert), "FILE", NULL, 0, 0,
      "serve wss:// and https:// with this PEM certificate chain; needs --tls-key", NULL,
      NULL },
    { "tls-key", 0, OPT_STRING, E (tls_key), "FILE", NULL, 0, 0,
      "the certificate's PEM private key", NULL, NULL },
    { "allow-origin", 0, OPT_STRING, E (allow_origin), "LIST", "*", 0, 0,
      "browser pages allowed to connect: origins such as https://chat.example.com, "
      "comma-separated; others get HTTP 403; '*' for any", NULL, s_check_origins },
    { "handshake-timeout", 0, OPT_INT, E (handshake_timeout_s), "S", "10", 1, 3600,
      "close a connection whose TLS and HTTP handshake is not done in S seconds",
      "Protocol timing:", NULL },
    { "init-timeout-ms", 0, OPT_INT, E (init_timeout_ms), "MS", "3000", 0, 3600000,
      "close 4408 without connection_init in time", NULL, NULL },
    { "legacy-ka-ms", 0, OPT_INT, E (legacy_ka_ms), "MS", "15000", 0, 3600000,
      "graphql-ws \"ka\" interval; 0 off", NULL, NULL },
    { "ping-interval", 0, OPT_INT, E (ping_interval_s), "S", "30", 0, 3600,
      "WebSocket ping after S idle seconds; 0 off", NULL, NULL },
    { "ping-timeout", 0, OPT_INT, E (ping_timeout_s), "S", "30", 1, 3600,
      "then close if silent S more seconds", NULL, NULL },
    { "close-timeout", 0, OPT_INT, E (close_timeout_s), "S", "5", 1, 3600,
      "a connection the edge closes is freed within S seconds, whether or not the client "
      "reads its close frame and answers it", NULL, NULL },
    { "max-connections", 0, OPT_INT, E (max_connections), "N", "100000", 1, 10000000,
      "WebSocket connections at once, over every worker; more get HTTP 503", "Limits:",
      NULL },
    { "max-connections-per-ip", 0, OPT_INT, E (max_connections_per_ip), "N", "0", 0, 10000000,
      "WebSocket connections at once from one client address (an IPv4-mapped IPv6 address "
      "counts as its IPv4); more get HTTP 429; 0 off", NULL, NULL },
    { "max-connects-per-ip-per-second", 0, OPT_INT, E (connect_rate_per_ip), "N", "0", 0,
      1000000, "new WebSocket connections a second from one client address; more get HTTP "
      "429 with Retry-After; 0 off", NULL, NULL },
    { "connect-burst-per-ip", 0, OPT_INT, E (connect_burst_per_ip), "N", "20", 1, 1000000,
      "connections one address may open at once before that rate applies", NULL, NULL },
    { "max-message-bytes", 0, OPT_SIZE, E (max_message), "N", "65536", 64, BIG,
      "largest client message; larger closes 1009", NULL, NULL },
    { "max-query-bytes", 0, OPT_SIZE, E (max_query), "N", "32768", 16, BIG,
      "largest GraphQL document; the message limit applies too", NULL, NULL },
    { "max-depth", 0, OPT_INT, E (max_depth), "N", XSTR (GQL_DEFAULT_MAX_DEPTH), 1, 1000,
      "deepest field nesting in a selection", NULL, NULL },
    { "max-fields", 0, OPT_INT, E (max_fields), "N", XSTR (GQL_DEFAULT_MAX_FIELDS), 1, 1000000,
      "field selections written in one document", NULL, NULL },
    { "max-subscriptions", 0, OPT_INT, E (max_subscriptions), "N", "100", 1, 1000000,
      "active subscriptions per connection", NULL, NULL },
    { "max-queue-messages", 0, OPT_SIZE, E (max_queue_messages), "N", "1024", 1, BIG,
      "messages queued to one client; more closes the connection 4503 as a slow consumer",
      NULL, NULL },
    { "max-queue-bytes", 0, OPT_SIZE, E (max_queue_bytes), "N", "1048576", 1024, BIG,
      "bytes queued to one client, likewise", NULL, NULL },
    { "max-result-bytes", 0, OPT_SIZE, E (max_result), "N", "262144", 256, BIG,
      "largest rendered result", NULL, NULL },
    //  lws counts a header's length in 16 bits.
    { "max-header-bytes", 0, OPT_SIZE, E (max_header), "N", "16384", 1024, 65534,
      "largest HTTP request line and headers; more gets HTTP 431", NULL, NULL },
    { "max-subscribes-per-second", 0, OPT_INT, E (subscribe_rate), "N", "50", 1, 1000000,
      "subscribe/start messages per connection and second; more get an error, and a client "
      "that goes on is closed 4429", NULL, NULL },
    { "subscribe-burst", 0, OPT_INT, E (subscribe_burst), "N", "100", 1, 1000000,
      "subscribes allowed at once before that rate applies", NULL, NULL },
    { "upstream-hwm", 0, OPT_INT, E (upstream_hwm), "N", "1000", 1, 10000000,
      "events from the broker queued in the edge; past it the broker holds them, then drops "
      "and counts them in messages_dropped", NULL, NULL },
    { "broker-heartbeat", 0, OPT_INT, E (broker_heartbeat_ms), "MS", "0", 0, 600000,
      "ZMTP heartbeat on each broker link; 0: libherald's (500 with a list, 5000 with one "
      "broker)", NULL, NULL },
    { "broker-heartbeat-timeout", 0, OPT_INT, E (broker_heartbeat_timeout_ms), "MS", "0", 0,
      600000, "a broker link with no answer this long after a heartbeat is dropped and made "
      "again; 0: libherald's (1500 with a list, 15000 with one broker)", NULL, NULL },
    { "curve-server", 0, OPT_STRING, E (curve_server), "FILE", NULL, 0, 0,
      "for a broker with CURVE: its public certificate (or key); without the flag, "
      "$HERALD_CURVE_SERVER if it is set", NULL, NULL },
    { "curve-cert", 0, OPT_STRING, E (curve_cert), "FILE", NULL, 0, 0,
      "the edge's secret certificate (`herald keygen`), allowed to subscribe by the broker; "
      "without the flag, $HERALD_CURVE_CERT if it is set", NULL, NULL },
    { "auth", 0, OPT_STRING, E (auth), "MODE", NULL, 0, 0,
      "required: every client needs a good token; optional: a client without one may "
      "subscribe to --public-topics only; off: tokens are not looked at. Without the flag, "
      "required if --jwt-key or --jwt-secret is given, else off", "Authentication:",
      s_check_auth },
    { "jwt-key", 0, OPT_LIST, E (jwt_keys), "FILE", NULL, 0, 0,
      "public keys that sign tokens: a PEM public key (RSA or EC, for RS*, PS* and ES*) or a "
      "JWKS file, whose keys are chosen by kid; SIGHUP reads the files again", NULL, NULL },
    { "jwt-secret", 0, OPT_LIST, E (jwt_secrets), "FILE", NULL, 0, 0,
      "an HMAC secret (HS256, HS384, HS512) of 32 bytes or more", NULL, NULL },
    { "jwt-leeway", 0, OPT_INT, E (jwt_leeway_s), "S", "0", 0, 3600,
      "seconds of clock skew allowed for exp, nbf and iat", NULL, NULL },
    { "jwt-issuer", 0, OPT_STRING, E (jwt_issuer), "ISS", NULL, 0, 0,
      "a token's iss must be this", NULL, NULL },
    { "jwt-audience", 0, OPT_STRING, E (jwt_audience), "AUD", NULL, 0, 0,
      "a token's aud must be or hold this", NULL, NULL },
    { "jwt-cookie", 0, OPT_STRING, E (jwt_cookie), "NAME", NULL, 0, 0,
      "also take the token from this cookie of the WebSocket upgrade; needs --allow-origin "
      "with your pages' origins", NULL, NULL },
    { "jwt-topics-claim", 0, OPT_STRING, E (jwt_topics_claim), "PATH", "topics", 0, 0,
      "the claim holding the topic patterns a client may subscribe to (keys separated by "
      "dots for a nested claim); in a pattern, * matches one segment and > the rest", NULL,
      NULL },
    { "public-topics", 0, OPT_STRING, E (public_topics), "PATTERNS", NULL, 0, 0,
      "topics every client may subscribe to, with or without a token: patterns such as "
      "chat.*, comma-separated", NULL, s_check_patterns },
    { "check", 0, OPT_BOOL, E (check), NULL, NULL, 0, 0,
      "check the schema (and that the TLS files can be read), print each subscription "
      "field's broker topic, and exit: 0 if the edge would start", "", NULL },
    { "log-level", 0, OPT_LOG_LEVEL, offsetof (s_config_t, log_level), "LEVEL", "info", 0, 0,
      "error, warn, info or debug", NULL, NULL },
    { "help", 'h', OPT_HELP, 0, NULL, NULL, 0, 0, "show this help", NULL, NULL },
    { "version", 'V', OPT_VERSION, 0, NULL, NULL, 0, 0, "show the version", NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL, NULL }
};

static const opt_spec_t s_spec = {
    "herald-edge",
    "Usage: herald-edge --schema FILE [OPTIONS]\n"
    "\n"
    "GraphQL subscriptions over WebSocket for browsers, fed by a Herald broker.\n"
    "Serves ws://HOST:PORT/graphql (subprotocols graphql-transport-ws and\n"
    "graphql-ws), /healthz, /metrics, and files from --static.\n",
    "The process started is the supervisor; it forks the workers and starts\n"
    "again any that dies. SIGTERM and SIGINT close every connection with\n"
    "1001 \"going away\" and exit 0; SIGHUP reads the --jwt-key and\n"
    "--jwt-secret files again, in every worker. Exit status: 0 after a clean\n"
    "shutdown, 1 if the edge could not start, 2 for a usage error.\n",
    s_opts
};

//  The authentication flags that go together. Returns 0, or -1 with why.
static int
s_check_auth_flags (edge_config_t *e, char *why, size_t why_len)
{
    int keys = e->jwt_keys.n + e->jwt_secrets.n > 0;
    if (!e->auth)
        e->auth = keys ? "required" : "off";
    int off = strcmp (e->auth, "off") == 0;
    if (!off && !keys) {
        snprintf (why, why_len, "--auth %s needs the keys that sign tokens: --jwt-key FILE or "
                  "--jwt-secret FILE", e->auth);
        return -1;
    }
    if (off && e->public_topics) {
        snprintf (why, why_len, "--public-topics needs --auth optional or required: with "
                  "--auth off every topic is open");
        return -1;
    }
    //  Browsers send cookies with a WebSocket upgrade from any site, so a
    //  cookie proves nothing unless the page's origin is checked too.
    if (e->jwt_cookie && strcmp (e->allow_origin, "*") == 0) {
        snprintf (why, why_len, "--jwt-cookie needs --allow-origin with your pages' origins, "
                  "not '*': browsers send the cookie with upgrades from any site, so any page "
                  "could subscribe as your users");
        return -1;
    }
    return 0;
}

//  Reads the command line into cfg. Returns -1 to go on, or the exit
//  status to leave with.
static int
s_parse (int argc, char **argv, s_config_t *cfg)
{
    char err[256];
    unsigned char given[sizeof s_opts / sizeof *s_opts] = { 0 };
    int next;
    if (opts_defaults (&s_spec, cfg, err, sizeof err) != OPTS_OK)
        return opts_usage_error (&s_spec, err);
    switch (opts_parse (&s_spec, argc, argv, cfg, given, &next, err, sizeof err)) {
        case OPTS_HELP: opts_help (&s_spec, stdout); return 0;
        case OPTS_VERSION: printf ("herald-edge %s\n", HERALD_EDGE_VERSION); return 0;
        case OPTS_ERROR: return opts_usage_error (&s_spec, err);
        default: break;
    }
    edge_config_t *e = &cfg->edge;
    const char *env = getenv ("HERALD_SUB_ENDPOINT");
    if (!given[opts_index (&s_spec, "broker")] && env && *env)
        e->broker = env;
    //  (--curve-server and --curve-cert left NULL: libherald reads
    //  $HERALD_CURVE_SERVER and $HERALD_CURVE_CERT itself.)
    e->max_connections_given = given[opts_index (&s_spec, "max-connections")];
    e->workers = s_workers (cfg->workers);
    if (next < argc) {
        snprintf (err, sizeof err, "unexpected argument \"%.200s\"", argv[next]);
        return opts_usage_error (&s_spec, err);
    }
    if (!e->schema_path)
        return opts_usage_error (&s_spec, "--schema FILE is required");
    if (!e->tls_cert != !e->tls_key)
        return opts_usage_error (&s_spec, "--tls-cert and --tls-key go together");
    if (s_check_auth_flags (e, err, sizeof err) != 0)
        return opts_usage_error (&s_spec, err);
    //  A result must fit in a queue, or it could never be delivered.
    if (e->max_result + 1024 > e->max_queue_bytes)
        return opts_usage_error (&s_spec,
                                 "--max-queue-bytes must be at least --max-result-bytes + 1024");
    return -1;
}

int
main (int argc, char **argv)
{
    s_config_t cfg;
    memset (&cfg, 0, sizeof cfg);
    int status = s_parse (argc, argv, &cfg);
    if (status >= 0)
        return status;
    hlog_set_level (cfg.log_level);
    if (cfg.edge.check)
        return edge_check (&cfg.edge);
    hlog_info ("herald-edge %s starting", HERALD_EDGE_VERSION);
    return edge_run (&cfg.edge);
}
