/*  main.c: herald-edge's command line: flags, logging and exit status.
 *  The server itself is in server.c.
 */
#include "edge.h"
#include "gql.h"
#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

static void
s_usage (FILE *f)
{
    fprintf (f,
        "Usage: herald-edge --schema FILE [OPTIONS]\n"
        "\n"
        "GraphQL subscriptions over WebSocket for browsers, fed by a Herald broker.\n"
        "Serves ws://HOST:PORT/graphql (subprotocols graphql-transport-ws and\n"
        "graphql-ws), /healthz, /metrics, and files from --static.\n"
        "\n"
        "Service:\n"
        "  --schema FILE               the GraphQL schema (SDL) with @topic directives\n"
        "  --host ADDR                 address to listen on; '' for all (127.0.0.1)\n"
        "  --port N                    port; 0 picks a free one, which is logged (8080)\n"
        "  --broker EP                 the broker's egress ($HERALD_SUB_ENDPOINT, else\n"
        "                              tcp://127.0.0.1:7401)\n"
        "  --static DIR                serve files from DIR at / (off)\n"
        "  --tls-cert FILE             serve wss:// and https:// with this PEM\n"
        "                              certificate chain; needs --tls-key (off)\n"
        "  --tls-key FILE              the certificate's PEM private key\n"
        "  --allow-origin LIST         browser pages allowed to connect: origins such\n"
        "                              as https://chat.example.com, comma-separated;\n"
        "                              others get HTTP 403; '*' for any (*)\n"
        "\n"
        "Protocol timing:\n"
        "  --handshake-timeout S       close a connection whose TLS and HTTP handshake\n"
        "                              is not done in S seconds (10)\n"
        "  --init-timeout-ms MS        close 4408 without connection_init in time (3000)\n"
        "  --legacy-ka-ms MS           graphql-ws \"ka\" interval; 0 off (15000)\n"
        "  --ping-interval S           WebSocket ping after S idle seconds; 0 off (30)\n"
        "  --ping-timeout S            then close if silent S more seconds (30)\n"
        "\n"
        "Limits:\n"
        "  --max-connections N         WebSocket connections at once; more get HTTP 503\n"
        "                              (100000)\n"
        "  --max-message-bytes N       largest client message; larger closes 1009 (65536)\n"
        "  --max-query-bytes N         largest GraphQL document; the message limit\n"
        "                              applies too (32768)\n"
        "  --max-depth N               deepest field nesting in a selection (16)\n"
        "  --max-subscriptions N       active subscriptions per connection (100)\n"
        "  --max-queue-messages N      messages queued to one client; more closes the\n"
        "                              connection 4503 as a slow consumer (1024)\n"
        "  --max-queue-bytes N         bytes queued to one client, likewise (1048576)\n"
        "  --max-result-bytes N        largest rendered result (262144)\n"
        "\n"
        "  --check                     check the schema (and that the TLS files can be\n"
        "                              read), print each subscription field's broker\n"
        "                              topic, and exit: 0 if the edge would start\n"
        "  --log-level LEVEL           error, warn, info or debug (info)\n"
        "  -h, --help                  show this help\n"
        "  -V, --version               show the version\n"
        "\n"
        "SIGTERM and SIGINT close every connection and exit 0. Exit status: 0 after\n"
        "a clean shutdown, 1 if the edge could not start, 2 for a usage error.\n");
}

static int
s_number (const char *flag, const char *text, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll (text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf (stderr, "herald-edge: %s takes a number from %lld to %lld, not \"%s\"\n", flag,
                 min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

//  --allow-origin: '*', or origins (scheme://host[:port]), comma-separated.
static int
s_check_origins (const char *list)
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
            fprintf (stderr, "herald-edge: --allow-origin takes '*' or origins such as "
                             "https://chat.example.com, comma-separated, not \"%.*s\"\n",
                     (int) len, p);
            return -1;
        }
        if (p[len] == 0)
            return 0;
        p += len + 1;
    }
}

int
main (int argc, char **argv)
{
    edge_config_t cfg = {
        .host = "127.0.0.1",
        .port = 8080,
        .broker = getenv ("HERALD_SUB_ENDPOINT") && *getenv ("HERALD_SUB_ENDPOINT")
                      ? getenv ("HERALD_SUB_ENDPOINT") : "tcp://127.0.0.1:7401",
        .init_timeout_ms = 3000,
        .handshake_timeout_s = 10,
        .allow_origin = "*",
        .legacy_ka_ms = 15000,
        .ping_interval_s = 30,
        .ping_timeout_s = 30,
        .max_message = 65536,
        .max_query = 32768,
        .max_depth = GQL_DEFAULT_MAX_DEPTH,
        .max_subscriptions = 100,
        .max_connections = 100000,
        .max_queue_messages = 1024,
        .max_queue_bytes = 1048576,
        .max_result = 262144,
    };
    enum {
        O_SCHEMA = 256, O_HOST, O_PORT, O_BROKER, O_STATIC, O_CERT, O_KEY, O_ORIGIN, O_HANDSHAKE,
        O_INIT, O_KA, O_PING, O_PING_TO, O_CONNS, O_MSG, O_QUERY, O_DEPTH, O_SUBS, O_QMSG,
        O_QBYTES, O_RESULT, O_LOG, O_CHECK
    };
    static const struct option opts[] = {
        { "schema", required_argument, NULL, O_SCHEMA },
        { "host", required_argument, NULL, O_HOST },
        { "port", required_argument, NULL, O_PORT },
        { "broker", required_argument, NULL, O_BROKER },
        { "static", required_argument, NULL, O_STATIC },
        { "tls-cert", required_argument, NULL, O_CERT },
        { "tls-key", required_argument, NULL, O_KEY },
        { "allow-origin", required_argument, NULL, O_ORIGIN },
        { "handshake-timeout", required_argument, NULL, O_HANDSHAKE },
        { "init-timeout-ms", required_argument, NULL, O_INIT },
        { "legacy-ka-ms", required_argument, NULL, O_KA },
        { "ping-interval", required_argument, NULL, O_PING },
        { "ping-timeout", required_argument, NULL, O_PING_TO },
        { "max-connections", required_argument, NULL, O_CONNS },
        { "max-message-bytes", required_argument, NULL, O_MSG },
        { "max-query-bytes", required_argument, NULL, O_QUERY },
        { "max-depth", required_argument, NULL, O_DEPTH },
        { "max-subscriptions", required_argument, NULL, O_SUBS },
        { "max-queue-messages", required_argument, NULL, O_QMSG },
        { "max-queue-bytes", required_argument, NULL, O_QBYTES },
        { "max-result-bytes", required_argument, NULL, O_RESULT },
        { "log-level", required_argument, NULL, O_LOG },
        { "check", no_argument, NULL, O_CHECK },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    const long long big = 1LL << 30;
    long long v;
    hlog_level_t level;
    int c;
    while ((c = getopt_long (argc, argv, "hV", opts, NULL)) != -1) {
        const char *flag = NULL;
        for (const struct option *o = opts; o->name; o++)
            if (o->val == c)
                flag = o->name;
        char name[40];
        snprintf (name, sizeof name, "--%s", flag ? flag : "?");
        switch (c) {
            case O_SCHEMA: cfg.schema_path = optarg; break;
            case O_HOST: cfg.host = optarg; break;
            case O_BROKER: cfg.broker = optarg; break;
            case O_STATIC: cfg.static_dir = optarg; break;
            case O_CERT: cfg.tls_cert = optarg; break;
            case O_KEY: cfg.tls_key = optarg; break;
            case O_ORIGIN:
                if (s_check_origins (optarg)) return EXIT_USAGE;
                cfg.allow_origin = optarg;
                break;
            case O_PORT:
                if (s_number (name, optarg, 0, 65535, &v)) return EXIT_USAGE;
                cfg.port = (int) v;
                break;
            case O_HANDSHAKE:
                if (s_number (name, optarg, 1, 3600, &v)) return EXIT_USAGE;
                cfg.handshake_timeout_s = (int) v;
                break;
            case O_INIT:
                if (s_number (name, optarg, 0, 3600000, &v)) return EXIT_USAGE;
                cfg.init_timeout_ms = (int) v;
                break;
            case O_KA:
                if (s_number (name, optarg, 0, 3600000, &v)) return EXIT_USAGE;
                cfg.legacy_ka_ms = (int) v;
                break;
            case O_PING:
                if (s_number (name, optarg, 0, 3600, &v)) return EXIT_USAGE;
                cfg.ping_interval_s = (int) v;
                break;
            case O_PING_TO:
                if (s_number (name, optarg, 1, 3600, &v)) return EXIT_USAGE;
                cfg.ping_timeout_s = (int) v;
                break;
            case O_CONNS:
                if (s_number (name, optarg, 1, 10000000, &v)) return EXIT_USAGE;
                cfg.max_connections = (int) v;
                cfg.max_connections_given = 1;
                break;
            case O_MSG:
                if (s_number (name, optarg, 64, big, &v)) return EXIT_USAGE;
                cfg.max_message = (size_t) v;
                break;
            case O_QUERY:
                if (s_number (name, optarg, 16, big, &v)) return EXIT_USAGE;
                cfg.max_query = (size_t) v;
                break;
            case O_DEPTH:
                if (s_number (name, optarg, 1, 1000, &v)) return EXIT_USAGE;
                cfg.max_depth = (int) v;
                break;
            case O_SUBS:
                if (s_number (name, optarg, 1, 1000000, &v)) return EXIT_USAGE;
                cfg.max_subscriptions = (int) v;
                break;
            case O_QMSG:
                if (s_number (name, optarg, 1, big, &v)) return EXIT_USAGE;
                cfg.max_queue_messages = (size_t) v;
                break;
            case O_QBYTES:
                if (s_number (name, optarg, 1024, big, &v)) return EXIT_USAGE;
                cfg.max_queue_bytes = (size_t) v;
                break;
            case O_RESULT:
                if (s_number (name, optarg, 256, big, &v)) return EXIT_USAGE;
                cfg.max_result = (size_t) v;
                break;
            case O_LOG:
                if (hlog_parse_level (optarg, &level) != 0) {
                    fprintf (stderr, "herald-edge: --log-level takes error, warn, info or "
                                     "debug, not \"%s\"\n", optarg);
                    return EXIT_USAGE;
                }
                hlog_set_level (level);
                break;
            case O_CHECK: cfg.check = 1; break;
            case 'h': s_usage (stdout); return 0;
            case 'V': printf ("herald-edge %s\n", HERALD_EDGE_VERSION); return 0;
            default:
                fprintf (stderr, "Try 'herald-edge --help'.\n");
                return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "herald-edge: unexpected argument \"%s\"\nTry 'herald-edge --help'.\n",
                 argv[optind]);
        return EXIT_USAGE;
    }
    if (!cfg.schema_path) {
        fprintf (stderr, "herald-edge: --schema FILE is required\nTry 'herald-edge --help'.\n");
        return EXIT_USAGE;
    }
    if (!cfg.tls_cert != !cfg.tls_key) {
        fprintf (stderr, "herald-edge: --tls-cert and --tls-key go together\n"
                         "Try 'herald-edge --help'.\n");
        return EXIT_USAGE;
    }
    //  A result must fit in a queue, or it could never be delivered.
    if (cfg.max_result + 1024 > cfg.max_queue_bytes) {
        fprintf (stderr, "herald-edge: --max-queue-bytes must be at least --max-result-bytes "
                         "+ 1024\n");
        return EXIT_USAGE;
    }
    if (cfg.check)
        return edge_check (&cfg);
    hlog_info ("herald-edge %s starting", HERALD_EDGE_VERSION);
    int status = edge_run (&cfg);
    hlog_info (status == 0 ? "stopped" : "could not start");
    return status;
}
