/*  main.c: herald-broker's command line: the option table, its checks, and
 *  the exit status. The forwarding itself is in broker.c.
 */
#include "broker.h"
#include "log.h"
#include "opts.h"
#include "wire.h"

#include <czmq.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    broker_config_t broker;
    int io_threads;
    hlog_level_t log_level;
} s_config_t;

#define F(field) offsetof (s_config_t, field)
#define B(field) offsetof (s_config_t, broker.field)

static const opt_t s_opts[] = {
    { "ingress", 0, OPT_STRING, B (ingress), "EP", "tcp://127.0.0.1:7400", 0, 0,
      "libherald publishers, PULL", "Endpoints (comma-separated lists; '' turns one off; '*' "
      "as the port\npicks a free one, which is logged):", NULL },
    { "egress", 0, OPT_STRING, B (egress), "EP", "tcp://127.0.0.1:7401", 0, 0,
      "subscribers and edges, XPUB", NULL, NULL },
    { "xsub", 0, OPT_STRING, B (xsub), "EP", "tcp://127.0.0.1:7402", 0, 0,
      "any ZeroMQ PUB publisher", NULL, NULL },
    { "stats", 0, OPT_STRING, B (stats), "EP", "tcp://127.0.0.1:7403", 0, 0,
      "counters for 'herald stats', and the history's SINCE requests", NULL, NULL },
    { "upstream", 0, OPT_STRING, B (upstream), "EP", "", 0, 0,
      "also relay another broker's egress", NULL, NULL },
    { "curve-secret", 0, OPT_STRING, B (curve_secret), "FILE", NULL, 0, 0,
      "the broker's secret certificate (`herald keygen`): every endpoint becomes a CURVE "
      "server, and both directories below are required", "Authentication (CURVE):", NULL },
    { "curve-publishers", 0, OPT_STRING, B (curve_publishers), "DIR", NULL, 0, 0,
      "public certificates of the clients allowed to publish, on the ingress and the xsub", NULL, NULL },
    { "curve-subscribers", 0, OPT_STRING, B (curve_subscribers), "DIR", NULL, 0, 0,
      "public certificates of the clients allowed to subscribe, on the egress and the stats "
      "endpoint: edges, subscribers, `herald stats`", NULL, NULL },
    { "upstream-curve-server", 0, OPT_STRING, B (upstream_curve_server), "FILE", NULL, 0, 0,
      "connect to --upstream over CURVE: its public certificate, or its key", NULL, NULL },
    { "upstream-curve-cert", 0, OPT_STRING, B (upstream_curve_cert), "FILE", NULL, 0, 0,
      "this broker's secret certificate there, whose public half the upstream allows to "
      "subscribe; without it, --curve-secret's", NULL, NULL },
    { "ingress-hwm", 0, OPT_INT, B (ingress_hwm), "N", "100000", 0, INT32_MAX,
      "messages queued per publisher connection; 0 for no limit", "Limits:", NULL },
    { "egress-hwm", 0, OPT_INT, B (egress_hwm), "N", "100000", 0, INT32_MAX,
      "messages queued per subscriber connection; past it that subscriber misses "
      "messages, which are counted as dropped; 0 for no limit", NULL, NULL },
    { "max-payload", 0, OPT_SIZE, B (max_payload), "BYTES", "1048576", 1, WIRE_PAYLOAD_HARD_MAX,
      "largest frame accepted; a peer that sends a larger one is disconnected", NULL, NULL },
    { "max-peer-subscriptions", 0, OPT_SIZE, B (max_peer_subscriptions), "N", "100000", 1,
      100000000, "subscriptions one egress connection may hold; a peer that sends more is "
      "disconnected", NULL, NULL },
    { "max-subscriptions", 0, OPT_SIZE, B (max_subscriptions), "N", "1000000", 1, 1000000000,
      "subscriptions all egress connections may hold together; the peer that goes past is "
      "disconnected", NULL, NULL },
    { "io-threads", 0, OPT_INT, F (io_threads), "N", "1", 1, 64, "ZeroMQ I/O threads", NULL,
      NULL },
    { "history-topics", 0, OPT_STRING, B (history_topics), "PATTERNS", ">", 0, 0,
      "keep the recent events of the topics matching these patterns (comma-separated, "
      "'*' one segment, '>' the rest; '' none); every topic's events are numbered all the "
      "same", "History (resumable subscriptions, docs/recovery.md):", NULL },
    { "history-size", 0, OPT_SIZE, B (history_size), "N", "100", 0, 10000000,
      "events kept per topic, the oldest going first; 0 keeps none", NULL, NULL },
    { "history-ttl", 0, OPT_INT, B (history_ttl), "S", "300", 0, 31536000,
      "seconds an event is kept; 0 for no limit", NULL, NULL },
    { "history-bytes", 0, OPT_SIZE, B (history_bytes), "BYTES", "67108864", 0,
      (size_t) 1 << 40, "memory for the events kept, all topics together (their payloads "
      "and 56 B each); the oldest go first", NULL, NULL },
    { "history-max-topics", 0, OPT_SIZE, B (history_max_topics), "N", "100000", 1, 100000000,
      "topics numbered at once; past it the least recently published is forgotten, its "
      "next event starting a new epoch", NULL, NULL },
    { "history-batch", 0, OPT_SIZE, B (history_batch), "N", "1000", 1, 100000,
      "events in one answer to SINCE at most (the asker asks again for the rest)", NULL,
      NULL },
    { "history-batch-bytes", 0, OPT_SIZE, B (history_batch_bytes), "BYTES", "4194304", 1,
      (size_t) 1 << 30, "payload bytes in one answer at most (an answer holds at least one "
      "event)", NULL, NULL },
    { "stats-interval", 0, OPT_INT, B (stats_interval), "S", "60", 0, 86400,
      "log the counters every S seconds; 0 never", "Operation:", NULL },
    { "drain-ms", 0, OPT_INT, B (drain_ms), "MS", "1000", 0, 600000,
      "at shutdown, time allowed to flush egress", NULL, NULL },
    { "hold-ms", 0, OPT_INT, B (hold_ms), "MS", "1000", 0, 600000,
      "after starting, hold publishers' messages this long, so that subscribers reconnecting "
      "after a restart are subscribed before anything is forwarded", NULL, NULL },
    { "log-level", 0, OPT_LOG_LEVEL, F (log_level), "LEVEL", "info", 0, 0,
      "error, warn, info or debug", NULL, NULL },
    { "help", 'h', OPT_HELP, 0, NULL, NULL, 0, 0, "show this help", NULL, NULL },
    { "version", 'V', OPT_VERSION, 0, NULL, NULL, 0, 0, "show the version", NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL, NULL }
};

static const opt_spec_t s_spec = {
    "herald-broker",
    "Usage: herald-broker [OPTIONS]\n"
    "\n"
    "The Herald backbone: publishers send events to the ingress, and the\n"
    "broker forwards each to the subscribers of its topic on the egress.\n",
    "Signals: SIGTERM and SIGINT drain and exit 0; SIGUSR1 logs the counters;\n"
    "SIGHUP reads the CURVE allowlists again.\n"
    "Exit status: 0 after a clean shutdown, 1 if the broker could not start\n"
    "or failed, 2 for a usage error.\n",
    s_opts
};

//  Reads the command line into cfg. Returns -1 to go on, or the exit
//  status to leave with.
static int
s_parse (int argc, char **argv, s_config_t *cfg)
{
    char err[256];
    int next;
    if (opts_defaults (&s_spec, cfg, err, sizeof err) != OPTS_OK)
        return opts_usage_error (&s_spec, err);
    switch (opts_parse (&s_spec, argc, argv, cfg, NULL, &next, err, sizeof err)) {
        case OPTS_HELP: opts_help (&s_spec, stdout); return 0;
        case OPTS_VERSION: printf ("herald-broker %s\n", HERALD_BROKER_VERSION); return 0;
        case OPTS_ERROR: return opts_usage_error (&s_spec, err);
        default: break;
    }
    if (next < argc) {
        snprintf (err, sizeof err, "unexpected argument \"%.200s\"", argv[next]);
        return opts_usage_error (&s_spec, err);
    }
    return -1;
}

//  Checks what the option table's ranges cannot: the endpoints, and the
//  CURVE files, needed together. Returns -1 to go on, or the exit status to leave with.
static int
s_check (const s_config_t *cfg)
{
    const broker_config_t *b = &cfg->broker;
    if (!*b->egress)
        return opts_usage_error (&s_spec, "--egress cannot be empty");
    if (!*b->ingress && !*b->xsub && !*b->upstream)
        return opts_usage_error (&s_spec, "give at least one of --ingress, --xsub, --upstream");
    if (b->curve_secret && (!b->curve_publishers || !b->curve_subscribers))
        return opts_usage_error (&s_spec, "--curve-secret needs --curve-publishers DIR and "
                                 "--curve-subscribers DIR, the public certificates allowed "
                                 "to publish and to subscribe");
    if (!b->curve_secret && (b->curve_publishers || b->curve_subscribers))
        return opts_usage_error (&s_spec, "--curve-publishers and --curve-subscribers need "
                                 "--curve-secret FILE, the broker's own key pair");
    if (b->upstream_curve_cert && !b->upstream_curve_server)
        return opts_usage_error (&s_spec, "--upstream-curve-cert needs --upstream-curve-server");
    if (b->upstream_curve_server && !b->upstream_curve_cert && !b->curve_secret)
        return opts_usage_error (&s_spec, "--upstream-curve-server needs --upstream-curve-cert "
                                 "FILE or --curve-secret FILE, this broker's key pair");
    if (b->upstream_curve_server && !*b->upstream)
        return opts_usage_error (&s_spec, "--upstream-curve-server needs --upstream");
    return -1;
}

//  Starts the broker and runs it until a signal stops it. Returns the exit
//  status: 0 after a clean shutdown, 1 if it could not start or failed.
static int
s_run (const s_config_t *cfg)
{
    hlog_set_level (cfg->log_level);

    //  Signals are taken from a signalfd in the loop; CZMQ must not install
    //  handlers of its own, and ZeroMQ's threads must not receive them.
    broker_block_signals ();
    zsys_handler_set (NULL);
    zsys_set_io_threads ((size_t) cfg->io_threads);

    hlog_info ("herald-broker %s starting", HERALD_BROKER_VERSION);
    int status = 1;
    broker_t *broker = broker_new (&cfg->broker);
    int started = broker != NULL;
    if (!started)
        hlog_error ("could not start");
    else if (broker_run (broker) == 0)
        status = 0;
    broker_destroy (&broker);
    zsys_shutdown ();
    if (started)
        hlog_info ("stopped");
    return status;
}

int
main (int argc, char **argv)
{
    s_config_t cfg;
    memset (&cfg, 0, sizeof cfg);
    int status = s_parse (argc, argv, &cfg);
    if (status < 0)
        status = s_check (&cfg);
    if (status < 0)
        status = s_run (&cfg);
    return status;
}
