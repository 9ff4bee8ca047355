/*  cli.c: the herald command line, for publishing, subscribing and asking
 *  a broker for its counters while debugging, in the way mosquitto_pub,
 *  mosquitto_sub and redis-cli are used. It is built on libherald's public
 *  API only, so it also shows how that API is meant to be used.
 */
#include "herald.h"
#include "jbuf.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define EXIT_USAGE 2
#define EXIT_TIMEOUT 3

#define DEFAULT_STATS_ENDPOINT "tcp://127.0.0.1:7403"

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

//  SIGINT and SIGTERM interrupt blocking calls (no SA_RESTART), so that a
//  waiting receive returns and the command can close cleanly.
static void
s_catch_signals (void)
{
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
}

static const char *
s_env (const char *name, const char *fallback)
{
    const char *v = getenv (name);
    return v && *v ? v : fallback;
}

static int
s_parse_int (const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol (text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static void
s_usage (FILE *f)
{
    fprintf (f,
        "Usage: herald COMMAND [OPTIONS] ...\n"
        "\n"
        "Publish to and subscribe from a Herald broker.\n"
        "\n"
        "Commands:\n"
        "  pub TOPIC [JSON]   publish JSON (or one JSON document per stdin line)\n"
        "  sub TOPIC...       print each event as a JSON line\n"
        "  stats              print the broker's counters as JSON\n"
        "  version            print the version\n"
        "\n"
        "Run 'herald COMMAND --help' for a command's options.\n"
        "Environment: HERALD_PUB_ENDPOINT, HERALD_SUB_ENDPOINT and\n"
        "HERALD_STATS_ENDPOINT change the default endpoints.\n");
}

//  ---------------------------------------------------------------------
//  herald pub

static void
s_pub_usage (FILE *f)
{
    fprintf (f,
        "Usage: herald pub [OPTIONS] TOPIC [JSON]\n"
        "\n"
        "Publish JSON to TOPIC. Without JSON, read standard input and publish\n"
        "each non-empty line as one JSON document.\n"
        "\n"
        "Options:\n"
        "  -e, --endpoint E       broker ingress (default $HERALD_PUB_ENDPOINT or\n"
        "                         " HERALD_DEFAULT_PUB_ENDPOINT ")\n"
        "      --linger MS        wait this long at exit to flush (default 2000)\n"
        "      --send-timeout MS  wait this long for queue room (default 1000)\n"
        "  -h, --help             show this help\n"
        "\n"
        "Exit status: 0 if every message was queued and flushed, 1 if any\n"
        "failed (the error is printed), 2 for a usage error.\n");
}

static int
s_pub_one (herald_publisher_t *pub, const char *topic, const char *json, size_t len,
           long line)
{
    int rc = herald_publish_json (pub, topic, json, len);
    if (rc == HERALD_OK)
        return 0;
    if (line > 0)
        fprintf (stderr, "herald pub: line %ld: %s\n", line, herald_errmsg ());
    else
        fprintf (stderr, "herald pub: %s\n", herald_errmsg ());
    return rc;
}

static int
s_cmd_pub (int argc, char **argv)
{
    static const struct option opts[] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "linger", required_argument, NULL, 'l' },
        { "send-timeout", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *endpoint = s_env ("HERALD_PUB_ENDPOINT", HERALD_DEFAULT_PUB_ENDPOINT);
    long linger = 2000, send_timeout = 1000;
    int c;
    while ((c = getopt_long (argc, argv, "+e:h", opts, NULL)) != -1) {
        switch (c) {
            case 'e': endpoint = optarg; break;
            case 'l':
                if (s_parse_int (optarg, -1, INT32_MAX, &linger) != 0) {
                    fprintf (stderr, "herald pub: --linger takes -1 or a number of ms\n");
                    return EXIT_USAGE;
                }
                break;
            case 's':
                if (s_parse_int (optarg, -1, INT32_MAX, &send_timeout) != 0) {
                    fprintf (stderr, "herald pub: --send-timeout takes -1 or a number of ms\n");
                    return EXIT_USAGE;
                }
                break;
            case 'h': s_pub_usage (stdout); return 0;
            default: s_pub_usage (stderr); return EXIT_USAGE;
        }
    }
    if (argc - optind < 1 || argc - optind > 2) {
        s_pub_usage (stderr);
        return EXIT_USAGE;
    }
    const char *topic = argv[optind];
    int err;
    herald_publisher_t *pub = herald_publisher_new (endpoint, &err);
    if (!pub) {
        fprintf (stderr, "herald pub: %s\n", herald_errmsg ());
        return 1;
    }
    herald_publisher_set_option (pub, HERALD_OPT_LINGER_MS, linger);
    herald_publisher_set_option (pub, HERALD_OPT_SEND_TIMEOUT_MS, send_timeout);

    int failed = 0;
    if (argc - optind == 2) {
        const char *json = argv[optind + 1];
        failed = s_pub_one (pub, topic, json, strlen (json), 0) != 0;
    }
    else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long lineno = 0;
        while (!s_stop && (n = getline (&line, &cap, stdin)) >= 0) {
            lineno++;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
            if (strspn (line, " \t") == (size_t) n)
                continue;
            if (s_pub_one (pub, topic, line, (size_t) n, lineno) != 0)
                failed = 1;
        }
        free (line);
    }
    herald_publisher_destroy (&pub);
    return failed ? 1 : 0;
}

//  ---------------------------------------------------------------------
//  herald sub

static void
s_sub_usage (FILE *f)
{
    fprintf (f,
        "Usage: herald sub [OPTIONS] TOPIC...\n"
        "\n"
        "Subscribe to each TOPIC (matched exactly) and print every event as one\n"
        "line of JSON: {\"topic\":\"...\",\"event\":...}.\n"
        "\n"
        "Options:\n"
        "  -e, --endpoint E   broker egress (default $HERALD_SUB_ENDPOINT or\n"
        "                     " HERALD_DEFAULT_SUB_ENDPOINT ")\n"
        "  -n, --count N      exit after N events\n"
        "  -t, --timeout MS   exit with status 3 if no event arrives for MS\n"
        "  -p, --payload      print only the event's JSON, without the topic\n"
        "  -v, --verbose      say on stderr when the broker confirms the\n"
        "                     subscriptions\n"
        "  -h, --help         show this help\n"
        "\n"
        "Exit status: 0 on SIGINT, SIGTERM or after --count events; 1 on\n"
        "error; 2 for a usage error; 3 after --timeout.\n");
}

static int
s_cmd_sub (int argc, char **argv)
{
    static const struct option opts[] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "count", required_argument, NULL, 'n' },
        { "timeout", required_argument, NULL, 't' },
        { "payload", no_argument, NULL, 'p' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *endpoint = s_env ("HERALD_SUB_ENDPOINT", HERALD_DEFAULT_SUB_ENDPOINT);
    long count = -1, timeout = -1;
    int payload_only = 0, verbose = 0;
    int c;
    while ((c = getopt_long (argc, argv, "+e:n:t:pvh", opts, NULL)) != -1) {
        switch (c) {
            case 'e': endpoint = optarg; break;
            case 'n':
                if (s_parse_int (optarg, 1, LONG_MAX, &count) != 0) {
                    fprintf (stderr, "herald sub: --count takes a positive number\n");
                    return EXIT_USAGE;
                }
                break;
            case 't':
                if (s_parse_int (optarg, 0, INT32_MAX, &timeout) != 0) {
                    fprintf (stderr, "herald sub: --timeout takes a number of ms\n");
                    return EXIT_USAGE;
                }
                break;
            case 'p': payload_only = 1; break;
            case 'v': verbose = 1; break;
            case 'h': s_sub_usage (stdout); return 0;
            default: s_sub_usage (stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        s_sub_usage (stderr);
        return EXIT_USAGE;
    }
    int err, status = 0;
    herald_subscriber_t *sub = herald_subscriber_new (endpoint, &err);
    if (!sub) {
        fprintf (stderr, "herald sub: %s\n", herald_errmsg ());
        return 1;
    }
    for (int i = optind; i < argc; i++)
        if (herald_subscribe (sub, argv[i]) != HERALD_OK) {
            fprintf (stderr, "herald sub: \"%s\": %s\n", argv[i], herald_errmsg ());
            herald_subscriber_destroy (&sub);
            return 1;
        }
    //  Wait briefly for the broker's confirmation, then go on regardless:
    //  if the broker is down the subscriptions are renewed when it is back.
    int rc = herald_subscriber_sync (sub, 3000);
    if (rc == HERALD_OK && verbose)
        fprintf (stderr, "herald sub: subscribed (confirmed by the broker at %s)\n", endpoint);
    else if (rc == HERALD_ERR_TIMEOUT)
        fprintf (stderr, "herald sub: no confirmation from the broker at %s yet; "
                         "still waiting for events\n", endpoint);

    jbuf_t line;
    jbuf_init (&line, 0);
    long seen = 0;
    while (!s_stop && (count < 0 || seen < count)) {
        herald_event_t *ev;
        rc = herald_recv (sub, &ev, timeout < 0 ? -1 : (int) timeout);
        if (rc == HERALD_ERR_INTERRUPTED)
            continue;
        if (rc == HERALD_ERR_TIMEOUT) {
            status = EXIT_TIMEOUT;
            break;
        }
        if (rc != HERALD_OK) {
            fprintf (stderr, "herald sub: %s\n", herald_errmsg ());
            status = 1;
            break;
        }
        size_t len;
        const char *json = herald_event_json (ev, &len);
        if (!json) {
            fprintf (stderr, "herald sub: %s\n", herald_errmsg ());
            status = 1;
            herald_event_destroy (&ev);
            break;
        }
        jbuf_reset (&line);
        if (!payload_only) {
            const char *topic = herald_event_topic (ev);
            jbuf_puts (&line, "{\"topic\":");
            jbuf_json_string (&line, topic, strlen (topic));
            jbuf_puts (&line, ",\"event\":");
        }
        jbuf_put (&line, json, len);
        if (!payload_only)
            jbuf_putc (&line, '}');
        jbuf_putc (&line, '\n');
        if (!jbuf_failed (&line))
            fwrite (line.data, 1, line.len, stdout);
        fflush (stdout);
        herald_event_destroy (&ev);
        seen++;
    }
    jbuf_free (&line);
    herald_subscriber_destroy (&sub);
    return status;
}

//  ---------------------------------------------------------------------
//  herald stats

static void
s_stats_usage (FILE *f)
{
    fprintf (f,
        "Usage: herald stats [OPTIONS]\n"
        "\n"
        "Ask a broker for its counters and print them as one JSON object.\n"
        "\n"
        "Options:\n"
        "  -e, --endpoint E   broker stats endpoint (default $HERALD_STATS_ENDPOINT\n"
        "                     or " DEFAULT_STATS_ENDPOINT ")\n"
        "  -t, --timeout MS   give up after MS (default 2000)\n"
        "  -h, --help         show this help\n"
        "\n"
        "Exit status: 0 on success, 1 on error, 2 for a usage error, 3 if the\n"
        "broker did not answer in time.\n");
}

static int
s_cmd_stats (int argc, char **argv)
{
    static const struct option opts[] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *endpoint = s_env ("HERALD_STATS_ENDPOINT", DEFAULT_STATS_ENDPOINT);
    long timeout = 2000;
    int c;
    while ((c = getopt_long (argc, argv, "+e:t:h", opts, NULL)) != -1) {
        switch (c) {
            case 'e': endpoint = optarg; break;
            case 't':
                if (s_parse_int (optarg, 1, INT32_MAX, &timeout) != 0) {
                    fprintf (stderr, "herald stats: --timeout takes a number of ms\n");
                    return EXIT_USAGE;
                }
                break;
            case 'h': s_stats_usage (stdout); return 0;
            default: s_stats_usage (stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        s_stats_usage (stderr);
        return EXIT_USAGE;
    }
    int status = 1;
    void *ctx = zmq_ctx_new ();
    void *req = ctx ? zmq_socket (ctx, ZMQ_REQ) : NULL;
    int zero = 0;
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    if (!req) {
        fprintf (stderr, "herald stats: %s\n", zmq_strerror (zmq_errno ()));
        goto out;
    }
    zmq_setsockopt (req, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect (req, endpoint) != 0) {
        fprintf (stderr, "herald stats: cannot connect to \"%s\": %s\n", endpoint,
                 zmq_strerror (zmq_errno ()));
        goto out;
    }
    zmq_send (req, "STATS", 5, 0);
    zmq_pollitem_t item = { req, 0, ZMQ_POLLIN, 0 };
    int n = zmq_poll (&item, 1, timeout);
    if (n == 0) {
        fprintf (stderr, "herald stats: no answer from %s within %ld ms\n", endpoint, timeout);
        status = EXIT_TIMEOUT;
        goto out;
    }
    if (n < 0 || zmq_msg_recv (&reply, req, 0) < 0) {
        fprintf (stderr, "herald stats: %s\n", zmq_strerror (zmq_errno ()));
        goto out;
    }
    fwrite (zmq_msg_data (&reply), 1, zmq_msg_size (&reply), stdout);
    fputc ('\n', stdout);
    status = 0;
out:
    zmq_msg_close (&reply);
    if (req)
        zmq_close (req);
    if (ctx)
        zmq_ctx_term (ctx);
    return status;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        s_usage (stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    s_catch_signals ();
    if (strcmp (cmd, "pub") == 0)
        return s_cmd_pub (argc - 1, argv + 1);
    if (strcmp (cmd, "sub") == 0)
        return s_cmd_sub (argc - 1, argv + 1);
    if (strcmp (cmd, "stats") == 0)
        return s_cmd_stats (argc - 1, argv + 1);
    if (strcmp (cmd, "version") == 0 || strcmp (cmd, "--version") == 0) {
        printf ("herald %s\n", herald_version ());
        return 0;
    }
    if (strcmp (cmd, "help") == 0 || strcmp (cmd, "--help") == 0 || strcmp (cmd, "-h") == 0) {
        s_usage (stdout);
        return 0;
    }
    fprintf (stderr, "herald: unknown command \"%s\"\n\n", cmd);
    s_usage (stderr);
    return EXIT_USAGE;
}
