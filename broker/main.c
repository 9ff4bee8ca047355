/*  main.c: herald-broker's command line: flags, logging, and the exit
 *  status. The forwarding itself is in broker.c.
 */
#include "broker.h"
#include "log.h"
#include "wire.h"

#include <czmq.h>
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
        "Usage: herald-broker [OPTIONS]\n"
        "\n"
        "The Herald backbone: publishers send events to the ingress, and the\n"
        "broker forwards each to the subscribers of its topic on the egress.\n"
        "\n"
        "Endpoints (comma-separated lists; '' turns one off; '*' as the port\n"
        "picks a free one, which is logged):\n"
        "  --ingress EP         libherald publishers, PULL    (tcp://127.0.0.1:7400)\n"
        "  --egress EP          subscribers and edges, XPUB   (tcp://127.0.0.1:7401)\n"
        "  --xsub EP            any ZeroMQ PUB publisher      (tcp://127.0.0.1:7402)\n"
        "  --stats EP           counters for 'herald stats'   (tcp://127.0.0.1:7403)\n"
        "  --upstream EP        also relay another broker's egress (none)\n"
        "\n"
        "Limits:\n"
        "  --ingress-hwm N      messages queued per publisher connection (100000)\n"
        "  --egress-hwm N       messages queued per subscriber connection; past\n"
        "                       it that subscriber misses messages, which are\n"
        "                       counted as dropped (100000)\n"
        "  --max-payload BYTES  largest frame accepted; a peer that sends a\n"
        "                       larger one is disconnected (1048576)\n"
        "  --io-threads N       ZeroMQ I/O threads (1)\n"
        "\n"
        "Operation:\n"
        "  --stats-interval S   log the counters every S seconds; 0 never (60)\n"
        "  --drain-ms MS        at shutdown, time allowed to flush egress (1000)\n"
        "  --log-level LEVEL    error, warn, info or debug (info)\n"
        "  -h, --help           show this help\n"
        "  -V, --version        show the version\n"
        "\n"
        "Signals: SIGTERM and SIGINT drain and exit 0; SIGUSR1 logs the counters.\n"
        "Exit status: 0 after a clean shutdown, 1 if the broker could not start\n"
        "or failed, 2 for a usage error.\n");
}

static int
s_parse_long (const char *flag, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol (text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf (stderr, "herald-broker: %s takes a number from %ld to %ld, not \"%s\"\n",
                 flag, min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

int
main (int argc, char **argv)
{
    broker_config_t cfg = {
        .ingress = "tcp://127.0.0.1:7400",
        .egress = "tcp://127.0.0.1:7401",
        .xsub = "tcp://127.0.0.1:7402",
        .stats = "tcp://127.0.0.1:7403",
        .upstream = "",
        .ingress_hwm = 100000,
        .egress_hwm = 100000,
        .max_payload = WIRE_PAYLOAD_MAX,
        .stats_interval = 60,
        .drain_ms = 1000,
    };
    long io_threads = 1;
    enum {
        O_INGRESS = 256, O_EGRESS, O_XSUB, O_STATS, O_UPSTREAM, O_INGRESS_HWM, O_EGRESS_HWM,
        O_MAX_PAYLOAD, O_IO_THREADS, O_STATS_INTERVAL, O_DRAIN, O_LOG_LEVEL
    };
    static const struct option opts[] = {
        { "ingress", required_argument, NULL, O_INGRESS },
        { "egress", required_argument, NULL, O_EGRESS },
        { "xsub", required_argument, NULL, O_XSUB },
        { "stats", required_argument, NULL, O_STATS },
        { "upstream", required_argument, NULL, O_UPSTREAM },
        { "ingress-hwm", required_argument, NULL, O_INGRESS_HWM },
        { "egress-hwm", required_argument, NULL, O_EGRESS_HWM },
        { "max-payload", required_argument, NULL, O_MAX_PAYLOAD },
        { "io-threads", required_argument, NULL, O_IO_THREADS },
        { "stats-interval", required_argument, NULL, O_STATS_INTERVAL },
        { "drain-ms", required_argument, NULL, O_DRAIN },
        { "log-level", required_argument, NULL, O_LOG_LEVEL },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    long v;
    hlog_level_t level;
    int c;
    while ((c = getopt_long (argc, argv, "hV", opts, NULL)) != -1) {
        switch (c) {
            case O_INGRESS: cfg.ingress = optarg; break;
            case O_EGRESS: cfg.egress = optarg; break;
            case O_XSUB: cfg.xsub = optarg; break;
            case O_STATS: cfg.stats = optarg; break;
            case O_UPSTREAM: cfg.upstream = optarg; break;
            case O_INGRESS_HWM:
                if (s_parse_long ("--ingress-hwm", optarg, 0, INT32_MAX, &v) != 0)
                    return EXIT_USAGE;
                cfg.ingress_hwm = (int) v;
                break;
            case O_EGRESS_HWM:
                if (s_parse_long ("--egress-hwm", optarg, 0, INT32_MAX, &v) != 0)
                    return EXIT_USAGE;
                cfg.egress_hwm = (int) v;
                break;
            case O_MAX_PAYLOAD:
                if (s_parse_long ("--max-payload", optarg, 1, WIRE_PAYLOAD_HARD_MAX, &v) != 0)
                    return EXIT_USAGE;
                cfg.max_payload = (size_t) v;
                break;
            case O_IO_THREADS:
                if (s_parse_long ("--io-threads", optarg, 1, 64, &io_threads) != 0)
                    return EXIT_USAGE;
                break;
            case O_STATS_INTERVAL:
                if (s_parse_long ("--stats-interval", optarg, 0, 86400, &v) != 0)
                    return EXIT_USAGE;
                cfg.stats_interval = (int) v;
                break;
            case O_DRAIN:
                if (s_parse_long ("--drain-ms", optarg, 0, 600000, &v) != 0)
                    return EXIT_USAGE;
                cfg.drain_ms = (int) v;
                break;
            case O_LOG_LEVEL:
                if (hlog_parse_level (optarg, &level) != 0) {
                    fprintf (stderr, "herald-broker: --log-level takes error, warn, info "
                                     "or debug, not \"%s\"\n", optarg);
                    return EXIT_USAGE;
                }
                hlog_set_level (level);
                break;
            case 'h': s_usage (stdout); return 0;
            case 'V': printf ("herald-broker %s\n", HERALD_BROKER_VERSION); return 0;
            default:
                fprintf (stderr, "Try 'herald-broker --help'.\n");
                return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "herald-broker: unexpected argument \"%s\"\nTry 'herald-broker --help'.\n",
                 argv[optind]);
        return EXIT_USAGE;
    }
    if (!*cfg.egress) {
        fprintf (stderr, "herald-broker: --egress cannot be empty\n");
        return EXIT_USAGE;
    }
    if (!*cfg.ingress && !*cfg.xsub && !*cfg.upstream) {
        fprintf (stderr, "herald-broker: give at least one of --ingress, --xsub, --upstream\n");
        return EXIT_USAGE;
    }

    //  Signals are taken from a signalfd in the loop; CZMQ must not install
    //  handlers of its own, and ZeroMQ's threads must not receive them.
    broker_block_signals ();
    zsys_handler_set (NULL);
    zsys_set_io_threads ((size_t) io_threads);

    hlog_info ("herald-broker %s starting", HERALD_BROKER_VERSION);
    broker_t *broker = broker_new (&cfg);
    if (!broker) {
        hlog_error ("could not start");
        zsys_shutdown ();
        return 1;
    }
    int rc = broker_run (broker);
    broker_destroy (&broker);
    zsys_shutdown ();
    hlog_info ("stopped");
    return rc == 0 ? 0 : 1;
}
