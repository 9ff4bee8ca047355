/*  cli.c: the herald command line, for publishing, subscribing and asking
 *  a broker for its counters while debugging, in the way mosquitto_pub,
 *  mosquitto_sub and redis-cli are used. pub and sub are built on
 *  libherald's public API only, so they also show how that API is meant to
 *  be used; stats speaks to the broker's stats socket directly, and keygen
 *  has CZMQ write the certificates that CURVE needs (common/curve.c reads
 *  them, for the library and for stats alike).
 */
#include "herald.h"
#include "curve.h"
#include "jbuf.h"
#include "opts.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define EXIT_USAGE OPTS_EXIT_USAGE
#define EXIT_TIMEOUT 3          //  a time limit ran out (pub: the linger time)

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

//  Without --endpoint, a subcommand's endpoint comes from the environment
//  variable env, if it is set.
static void
s_endpoint_from_env (const opt_spec_t *spec, void *config, const unsigned char *given,
                     const char *env)
{
    int i = opts_index (spec, "endpoint");
    if (i >= 0 && !given[i]) {
        const char **endpoint = (const char **) ((char *) config + spec->opts[i].offset);
        *endpoint = s_env (env, *endpoint);
    }
}

//  Parses a subcommand's flags (argv[0] is the subcommand), then takes the
//  endpoint from env if no flag gave it. Returns -1 to go on, with *next
//  the first operand, or the exit status to leave with.
static int
s_parse (const opt_spec_t *spec, const char *env, int argc, char **argv, void *config,
         unsigned char *given, int *next)
{
    char err[256];
    if (opts_defaults (spec, config, err, sizeof err) == OPTS_OK) {
        switch (opts_parse (spec, argc, argv, config, given, next, err, sizeof err)) {
            case OPTS_OK: s_endpoint_from_env (spec, config, given, env); return -1;
            case OPTS_HELP: opts_help (spec, stdout); return 0;
            default: break;
        }
    }
    return opts_usage_error (spec, err);
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
        "  keygen NAME        write a CURVE certificate pair: NAME and NAME_secret\n"
        "  version            print the version\n"
        "\n"
        "Run 'herald COMMAND --help' for a command's options.\n"
        "Environment: HERALD_PUB_ENDPOINT, HERALD_SUB_ENDPOINT and\n"
        "HERALD_STATS_ENDPOINT change the default endpoints; HERALD_CURVE_SERVER\n"
        "and HERALD_CURVE_CERT give --curve-server and --curve-cert.\n");
}

//  ---------------------------------------------------------------------
//  herald pub

typedef struct {
    const char *endpoint;
    int linger;
    int send_timeout;
    const char *curve_server;
    const char *curve_cert;
} s_pub_t;

static const opt_t s_pub_opts[] = {
    { "endpoint", 'e', OPT_STRING, offsetof (s_pub_t, endpoint), "EP",
      HERALD_DEFAULT_PUB_ENDPOINT, 0, 0,
      "broker ingress, or a comma-separated list of brokers' ingresses; without the flag, "
      "$HERALD_PUB_ENDPOINT if it is set", "Options:", NULL },
    { "linger", 0, OPT_INT, offsetof (s_pub_t, linger), "MS", "2000", -1, INT32_MAX,
      "wait this long at exit to flush; -1 waits forever", NULL, NULL },
    { "send-timeout", 0, OPT_INT, offsetof (s_pub_t, send_timeout), "MS", "1000", -1, INT32_MAX,
      "wait this long for queue room; -1 waits forever", NULL, NULL },
    { "curve-server", 0, OPT_STRING, offsetof (s_pub_t, curve_server), "FILE", NULL, 0, 0,
      "for a broker with CURVE: its public certificate (or key); without the flag, "
      "$HERALD_CURVE_SERVER if it is set", NULL, NULL },
    { "curve-cert", 0, OPT_STRING, offsetof (s_pub_t, curve_cert), "FILE", NULL, 0, 0,
      "this client's secret certificate (`herald keygen`), allowed to publish by the "
      "broker; without the flag, $HERALD_CURVE_CERT if it is set", NULL, NULL },
    { "help", 'h', OPT_HELP, 0, NULL, NULL, 0, 0, "show this help", NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL, NULL }
};

static const opt_spec_t s_pub_spec = {
    "herald pub",
    "Usage: herald pub [OPTIONS] TOPIC [JSON]\n"
    "\n"
    "Publish JSON to TOPIC. Without JSON, read standard input and publish\n"
    "each non-empty line as one JSON document.\n",
    "Exit status: 0 if every message was queued and then handed to the\n"
    "connection to the broker; 1 if a message could not be queued (the\n"
    "error is printed; the other lines are still published); 2 for a\n"
    "usage error; 3 if messages were still queued when the linger time ran\n"
    "out, and so were dropped (printed with the count and whether the\n"
    "broker was ever connected). With a list of brokers, 0 only if every\n"
    "broker confirmed every message it was sent, and 3 if any message was\n"
    "counted lost (its broker's link dropped before it confirmed) or was\n"
    "still unconfirmed when the linger time ran out (printed with the\n"
    "counts). When both 1 and 3 apply, 1.\n",
    s_pub_opts
};

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

//  Publishes each non-empty line of standard input as one JSON document,
//  until its end or a signal. Returns 1 if a line could not be queued (the
//  others are still published), else 0.
static int
s_pub_lines (herald_publisher_t *pub, const char *topic)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int failed = 0;
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
    return failed;
}

//  Publishes json to topic, or standard input's lines if json is NULL,
//  then closes the publisher. Returns the exit status.
static int
s_pub_run (const s_pub_t *o, const char *topic, const char *json)
{
    int err;
    //  (NULL keys: the library reads $HERALD_CURVE_SERVER and _CERT.)
    herald_publisher_t *pub = herald_publisher_new_secure (o->endpoint, o->curve_server,
                                                           o->curve_cert, &err);
    if (!pub) {
        fprintf (stderr, "herald pub: %s\n", herald_errmsg ());
        return 1;
    }
    herald_publisher_set_option (pub, HERALD_OPT_LINGER_MS, o->linger);
    herald_publisher_set_option (pub, HERALD_OPT_SEND_TIMEOUT_MS, o->send_timeout);
    int failed = json ? s_pub_one (pub, topic, json, strlen (json), 0) != 0
                      : s_pub_lines (pub, topic);
    if (herald_publisher_close (&pub) != HERALD_OK) {
        fprintf (stderr, "herald pub: %s\n", herald_errmsg ());
        return failed ? 1 : EXIT_TIMEOUT;
    }
    return failed ? 1 : 0;
}

static int
s_cmd_pub (int argc, char **argv)
{
    s_pub_t o = { NULL, 0, 0, NULL, NULL };
    unsigned char given[sizeof s_pub_opts / sizeof *s_pub_opts] = { 0 };
    int next;
    int status = s_parse (&s_pub_spec, "HERALD_PUB_ENDPOINT", argc, argv, &o, given, &next);
    if (status >= 0)
        return status;
    if (argc - next < 1 || argc - next > 2)
        return opts_usage_error (&s_pub_spec, "give a TOPIC, and JSON or none (then stdin)");
    return s_pub_run (&o, argv[next], argc - next == 2 ? argv[next + 1] : NULL);
}

//  ---------------------------------------------------------------------
//  herald sub

typedef struct {
    const char *endpoint;
    size_t count;
    int timeout;
    int payload_only;
    int verbose;
    const char *curve_server;
    const char *curve_cert;
} s_sub_t;

static const opt_t s_sub_opts[] = {
    { "endpoint", 'e', OPT_STRING, offsetof (s_sub_t, endpoint), "EP",
      HERALD_DEFAULT_SUB_ENDPOINT, 0, 0,
      "broker egress, or a comma-separated list of brokers' egresses; without the flag, "
      "$HERALD_SUB_ENDPOINT if it is set", "Options:", NULL },
    { "count", 'n', OPT_SIZE, offsetof (s_sub_t, count), "N", NULL, 1, LLONG_MAX,
      "exit after N events", NULL, NULL },
    { "timeout", 't', OPT_INT, offsetof (s_sub_t, timeout), "MS", NULL, 0, INT32_MAX,
      "exit with status 3 if no event arrives for MS", NULL, NULL },
    { "payload", 'p', OPT_BOOL, offsetof (s_sub_t, payload_only), NULL, NULL, 0, 0,
      "print only the event's JSON, without the topic", NULL, NULL },
    { "verbose", 'v', OPT_BOOL, offsetof (s_sub_t, verbose), NULL, NULL, 0, 0,
      "say on stderr when the broker confirms the subscriptions", NULL, NULL },
    { "curve-server", 0, OPT_STRING, offsetof (s_sub_t, curve_server), "FILE", NULL, 0, 0,
      "for a broker with CURVE: its public certificate (or key); without the flag, "
      "$HERALD_CURVE_SERVER if it is set", NULL, NULL },
    { "curve-cert", 0, OPT_STRING, offsetof (s_sub_t, curve_cert), "FILE", NULL, 0, 0,
      "this client's secret certificate (`herald keygen`), allowed to subscribe by the "
      "broker; without the flag, $HERALD_CURVE_CERT if it is set", NULL, NULL },
    { "help", 'h', OPT_HELP, 0, NULL, NULL, 0, 0, "show this help", NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL, NULL }
};

static const opt_spec_t s_sub_spec = {
    "herald sub",
    "Usage: herald sub [OPTIONS] TOPIC...\n"
    "\n"
    "Subscribe to each TOPIC (matched exactly) and print every event as one\n"
    "line of JSON: {\"topic\":\"...\",\"event\":...}.\n",
    "Exit status: 0 on SIGINT, SIGTERM or after --count events; 1 on\n"
    "error; 2 for a usage error; 3 after --timeout.\n",
    s_sub_opts
};

//  Waits briefly for the broker's confirmation, then goes on regardless:
//  if the broker is down the subscriptions are renewed when it is back.
static void
s_sub_sync (herald_subscriber_t *sub, const char *endpoint, int verbose)
{
    int rc = herald_subscriber_sync (sub, 3000);
    if (rc == HERALD_OK && verbose)
        fprintf (stderr, "herald sub: subscribed (confirmed by the broker at %s)\n", endpoint);
    else if (rc == HERALD_ERR_TIMEOUT && herald_subscriber_refused (sub))
        fprintf (stderr, "herald sub: the broker at %s refused the connection: not "
                         "authorised (check --curve-server and --curve-cert); retrying\n",
                 endpoint);
    else if (rc == HERALD_ERR_TIMEOUT)
        fprintf (stderr, "herald sub: no confirmation from the broker at %s yet; "
                         "still waiting for events\n", endpoint);
}

//  Prints one event as a line: {"topic":...,"event":...}, or only the
//  event with --payload. Returns 0, or 1 if the event has no JSON.
static int
s_sub_print (herald_event_t *ev, jbuf_t *line, int payload_only)
{
    size_t len;
    const char *json = herald_event_json (ev, &len);
    if (!json) {
        fprintf (stderr, "herald sub: %s\n", herald_errmsg ());
        return 1;
    }
    jbuf_reset (line);
    if (!payload_only) {
        const char *topic = herald_event_topic (ev);
        jbuf_puts (line, "{\"topic\":");
        jbuf_json_string (line, topic, strlen (topic));
        jbuf_puts (line, ",\"event\":");
    }
    jbuf_put (line, json, len);
    if (!payload_only)
        jbuf_putc (line, '}');
    jbuf_putc (line, '\n');
    if (!jbuf_failed (line))
        fwrite (line->data, 1, line->len, stdout);
    fflush (stdout);
    return 0;
}

//  Prints events until a signal, count events (-1: no limit) or the
//  timeout. Returns the exit status.
static int
s_sub_events (herald_subscriber_t *sub, const s_sub_t *o, long count)
{
    jbuf_t line;
    jbuf_init (&line, 0);
    int status = 0;
    long seen = 0;
    while (status == 0 && !s_stop && (count < 0 || seen < count)) {
        herald_event_t *ev;
        int rc = herald_recv (sub, &ev, o->timeout < 0 ? -1 : o->timeout);
        if (rc == HERALD_OK) {
            status = s_sub_print (ev, &line, o->payload_only);
            herald_event_destroy (&ev);
            seen++;
        }
        else if (rc == HERALD_ERR_TIMEOUT)
            status = EXIT_TIMEOUT;
        else if (rc != HERALD_ERR_INTERRUPTED) {
            fprintf (stderr, "herald sub: %s\n", herald_errmsg ());
            status = 1;
        }
    }
    jbuf_free (&line);
    return status;
}

//  Subscribes to the topics and prints their events. Returns the exit
//  status.
static int
s_sub_run (const s_sub_t *o, long count, char **topics, int ntopics)
{
    int err, status = 1;
    herald_subscriber_t *sub = herald_subscriber_new_secure (o->endpoint, o->curve_server,
                                                             o->curve_cert, &err);
    if (!sub) {
        fprintf (stderr, "herald sub: %s\n", herald_errmsg ());
        goto out;
    }
    for (int i = 0; i < ntopics; i++)
        if (herald_subscribe (sub, topics[i]) != HERALD_OK) {
            fprintf (stderr, "herald sub: \"%s\": %s\n", topics[i], herald_errmsg ());
            goto out;
        }
    s_sub_sync (sub, o->endpoint, o->verbose);
    status = s_sub_events (sub, o, count);
out:
    herald_subscriber_destroy (&sub);
    return status;
}

static int
s_cmd_sub (int argc, char **argv)
{
    s_sub_t o = { NULL, 0, -1, 0, 0, NULL, NULL };
    unsigned char given[sizeof s_sub_opts / sizeof *s_sub_opts] = { 0 };
    int next;
    int status = s_parse (&s_sub_spec, "HERALD_SUB_ENDPOINT", argc, argv, &o, given, &next);
    if (status >= 0)
        return status;
    if (next >= argc)
        return opts_usage_error (&s_sub_spec, "give at least one TOPIC");
    long count = given[opts_index (&s_sub_spec, "count")] ? (long) o.count : -1;
    return s_sub_run (&o, count, argv + next, argc - next);
}

//  ---------------------------------------------------------------------
//  herald stats

typedef struct {
    const char *endpoint;
    int timeout;
    const char *curve_server;
    const char *curve_cert;
} s_stats_t;

static const opt_t s_stats_opts[] = {
    { "endpoint", 'e', OPT_STRING, offsetof (s_stats_t, endpoint), "EP", DEFAULT_STATS_ENDPOINT,
      0, 0, "broker stats endpoint, or a comma-separated list; without the flag, "
      "$HERALD_STATS_ENDPOINT if it is set",
      "Options:", NULL },
    { "timeout", 't', OPT_INT, offsetof (s_stats_t, timeout), "MS", "2000", 1, INT32_MAX,
      "give up after MS", NULL, NULL },
    { "curve-server", 0, OPT_STRING, offsetof (s_stats_t, curve_server), "FILE", NULL, 0, 0,
      "for a broker with CURVE: its public certificate (or key); without the flag, "
      "$HERALD_CURVE_SERVER if it is set", NULL, NULL },
    { "curve-cert", 0, OPT_STRING, offsetof (s_stats_t, curve_cert), "FILE", NULL, 0, 0,
      "this client's secret certificate (`herald keygen`), allowed to subscribe by the "
      "broker; without the flag, $HERALD_CURVE_CERT if it is set", NULL, NULL },
    { "help", 'h', OPT_HELP, 0, NULL, NULL, 0, 0, "show this help", NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL, NULL }
};

static const opt_spec_t s_stats_spec = {
    "herald stats",
    "Usage: herald stats [OPTIONS] [ENDPOINT]\n"
    "\n"
    "Ask a broker for its counters and print them as one JSON object.\n"
    "ENDPOINT (or --endpoint) may be a comma-separated list of brokers'\n"
    "stats endpoints: then each is asked, and the object is\n"
    "{\"brokers\":[{\"endpoint\":EP,\"stats\":{...}}, ...]}, with \"error\" in\n"
    "place of \"stats\" for a broker that did not answer.\n",
    "Exit status: 0 on success, 1 on error, 2 for a usage error, 3 if a\n"
    "broker did not answer in time.\n",
    s_stats_opts
};

//  Makes the REQ a CURVE client when keys are given (by flag or
//  environment), as libherald does for its sockets. Returns 0, or 1 with
//  the problem printed.
static int
s_stats_curve (void *req, const s_stats_t *o)
{
    const char *server = o->curve_server ? o->curve_server : s_env ("HERALD_CURVE_SERVER", NULL);
    const char *certfile = o->curve_cert ? o->curve_cert : s_env ("HERALD_CURVE_CERT", NULL);
    char why[512], key[CURVE_KEY_TEXT];
    if (!server && !certfile)
        return 0;
    if (!server || !certfile) {
        fprintf (stderr, "herald stats: CURVE needs both --curve-server and --curve-cert\n");
        return 1;
    }
    if (!curve_available ()) {
        fprintf (stderr, "herald stats: this libzmq was built without CURVE\n");
        return 1;
    }
    if (curve_public_key (server, key, why, sizeof why) != 0) {
        fprintf (stderr, "herald stats: --curve-server: %s\n", why);
        return 1;
    }
    zcert_t *cert = curve_secret_cert (certfile, why, sizeof why);
    if (!cert) {
        fprintf (stderr, "herald stats: --curve-cert: %s\n", why);
        return 1;
    }
    int rc = curve_apply (req, key, cert);
    zcert_destroy (&cert);
    if (rc != 0)
        fprintf (stderr, "herald stats: %s\n", zmq_strerror (zmq_errno ()));
    return rc != 0;
}

//  Waits up to timeout ms for the reply, or for the monitor to report a
//  refused handshake. Returns 1 when the reply is there, 0 after the
//  timeout, -1 if refused, -2 on an error.
static int
s_stats_wait (void *req, void *monitor, long timeout)
{
    zmq_pollitem_t items[] = { { req, 0, ZMQ_POLLIN, 0 }, { monitor, 0, ZMQ_POLLIN, 0 } };
    int64_t deadline = zclock_mono () + timeout;
    while (1) {
        int64_t left = deadline - zclock_mono ();
        int n = zmq_poll (items, 2, left > 0 ? (long) left : 0);
        if (n < 0)
            return -2;
        if (items[0].revents & ZMQ_POLLIN)
            return 1;
        if (items[1].revents & ZMQ_POLLIN) {
            zmq_msg_t ev;
            zmq_msg_init (&ev);
            uint16_t id = 0;
            if (zmq_msg_recv (&ev, monitor, 0) >= 0 && zmq_msg_size (&ev) >= 2)
                memcpy (&id, zmq_msg_data (&ev), 2);
            while (zmq_msg_more (&ev) && zmq_msg_recv (&ev, monitor, 0) >= 0)
                ;
            zmq_msg_close (&ev);
            if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
                return -1;
        }
        if (n == 0 || left <= 0)
            return 0;
    }
}

//  Asks the broker at endpoint for its counters. Returns the exit status;
//  on 0, *reply holds the JSON (the caller closes it). Problems are
//  printed.
static int
s_stats_ask (const s_stats_t *o, const char *endpoint, zmq_msg_t *reply)
{
    int status = 1;
    void *ctx = zmq_ctx_new ();
    void *req = ctx ? zmq_socket (ctx, ZMQ_REQ) : NULL;
    void *monitor = ctx ? zmq_socket (ctx, ZMQ_PAIR) : NULL;
    int zero = 0;
    if (!req || !monitor) {
        fprintf (stderr, "herald stats: %s\n", zmq_strerror (zmq_errno ()));
        goto out;
    }
    zmq_setsockopt (req, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (monitor, ZMQ_LINGER, &zero, sizeof zero);
    if (s_stats_curve (req, o) != 0)
        goto out;
    //  A refused handshake would otherwise look like a broker that is down.
    if (zmq_socket_monitor (req, "inproc://herald-stats-monitor",
                            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                            | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0
        || zmq_connect (monitor, "inproc://herald-stats-monitor") != 0) {
        fprintf (stderr, "herald stats: %s\n", zmq_strerror (zmq_errno ()));
        goto out;
    }
    if (zmq_connect (req, endpoint) != 0) {
        fprintf (stderr, "herald stats: cannot connect to \"%s\": %s\n", endpoint,
                 zmq_strerror (zmq_errno ()));
        goto out;
    }
    zmq_send (req, "STATS", 5, 0);
    int got = s_stats_wait (req, monitor, o->timeout);
    if (got == 0) {
        fprintf (stderr, "herald stats: no answer from %s within %d ms\n", endpoint, o->timeout);
        status = EXIT_TIMEOUT;
        goto out;
    }
    if (got == -1) {
        fprintf (stderr, "herald stats: the broker at %s refused the connection: not "
                 "authorised (check --curve-server and --curve-cert)\n", endpoint);
        goto out;
    }
    if (got < 0 || zmq_msg_recv (reply, req, 0) < 0) {
        fprintf (stderr, "herald stats: %s\n", zmq_strerror (zmq_errno ()));
        goto out;
    }
    status = 0;
out:
    if (req)
        zmq_socket_monitor (req, NULL, 0);
    if (monitor)
        zmq_close (monitor);
    if (req)
        zmq_close (req);
    if (ctx)
        zmq_ctx_term (ctx);
    return status;
}

//  Asks the broker at endpoint for its counters and prints them. Returns
//  the exit status.
static int
s_stats_run (const s_stats_t *o, const char *endpoint)
{
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    int status = s_stats_ask (o, endpoint, &reply);
    if (status == 0) {
        fwrite (zmq_msg_data (&reply), 1, zmq_msg_size (&reply), stdout);
        fputc ('\n', stdout);
    }
    zmq_msg_close (&reply);
    return status;
}

//  Asks each broker of a comma-separated list, and prints one object:
//  {"brokers":[{"endpoint":EP,"stats":{...}} or {"endpoint":EP,"error":
//  TEXT}, ...]}, in the list's order. Returns 0 if every broker answered,
//  else the status of the first that did not.
static int
s_stats_list (const s_stats_t *o, const char *list)
{
    int status = 0;
    char *copy = strdup (list);
    if (!copy) {
        fprintf (stderr, "herald stats: out of memory\n");
        return 1;
    }
    jbuf_t out;
    jbuf_init (&out, 0);
    jbuf_puts (&out, "{\"brokers\":[");
    char *save = NULL;
    int first = 1;
    for (char *ep = strtok_r (copy, ",", &save); ep; ep = strtok_r (NULL, ",", &save)) {
        while (*ep == ' ')
            ep++;
        zmq_msg_t reply;
        zmq_msg_init (&reply);
        int rc = s_stats_ask (o, ep, &reply);
        jbuf_puts (&out, first ? "{\"endpoint\":" : ",{\"endpoint\":");
        jbuf_json_string (&out, ep, strlen (ep));
        if (rc == 0) {
            jbuf_puts (&out, ",\"stats\":");
            jbuf_put (&out, zmq_msg_data (&reply), zmq_msg_size (&reply));
        }
        else {
            const char *why = rc == EXIT_TIMEOUT ? "no answer" : "failed";
            jbuf_puts (&out, ",\"error\":");
            jbuf_json_string (&out, why, strlen (why));
            if (status == 0)
                status = rc;
        }
        jbuf_putc (&out, '}');
        zmq_msg_close (&reply);
        first = 0;
    }
    jbuf_puts (&out, "]}\n");
    if (!jbuf_failed (&out))
        fwrite (out.data, 1, out.len, stdout);
    jbuf_free (&out);
    free (copy);
    return status;
}

static int
s_cmd_stats (int argc, char **argv)
{
    s_stats_t o = { NULL, 0, NULL, NULL };
    unsigned char given[sizeof s_stats_opts / sizeof *s_stats_opts] = { 0 };
    int next;
    int status = s_parse (&s_stats_spec, "HERALD_STATS_ENDPOINT", argc, argv, &o, given, &next);
    if (status >= 0)
        return status;
    if (argc - next > 1)
        return opts_usage_error (&s_stats_spec, "give at most one ENDPOINT (or a list of them, "
                                 "separated by commas)");
    const char *endpoint = next < argc ? argv[next] : o.endpoint;
    return strchr (endpoint, ',') ? s_stats_list (&o, endpoint) : s_stats_run (&o, endpoint);
}

//  ---------------------------------------------------------------------
//  herald keygen

static const opt_t s_keygen_opts[] = {
    { "help", 'h', OPT_HELP, 0, NULL, NULL, 0, 0, "show this help", "Options:", NULL },
    { NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL, NULL }
};

static const opt_spec_t s_keygen_spec = {
    "herald keygen",
    "Usage: herald keygen NAME\n"
    "\n"
    "Make a CURVE key pair and write it as two certificates in CZMQ's zcert\n"
    "format: NAME, the public key (for the broker's --curve-publishers or\n"
    "--curve-subscribers directory, or, for the broker's own pair, for\n"
    "clients' --curve-server), and NAME_secret, the pair (mode 0600; for\n"
    "--curve-cert, or the broker's --curve-secret). Existing files are never\n"
    "overwritten. Prints the public key.\n",
    "Exit status: 0 on success, 1 if a file exists or cannot be written, 2\n"
    "for a usage error.\n",
    s_keygen_opts
};

//  Creates path, which must not exist yet, with mode (so a secret file is
//  never readable by others, whatever the umask and CZMQ do). Returns 0,
//  or -1 with the reason printed.
static int
s_create_new (const char *path, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf (stderr, "herald keygen: %s: %s%s\n", path, strerror (errno),
                 errno == EEXIST ? " (not overwritten)" : "");
        return -1;
    }
    close (fd);
    return 0;
}

static int
s_keygen_run (const char *name)
{
    char secret[PATH_MAX];
    if ((size_t) snprintf (secret, sizeof secret, "%s_secret", name) >= sizeof secret) {
        fprintf (stderr, "herald keygen: the name is too long\n");
        return 1;
    }
    if (s_create_new (name, 0644) != 0)
        return 1;
    if (s_create_new (secret, 0600) != 0) {
        unlink (name);
        return 1;
    }
    //  zcert_save writes both files over the empty ones, which keep their
    //  modes.
    zcert_t *cert = zcert_new ();
    int rc = cert ? 0 : -1;
    if (cert) {
        zcert_set_meta (cert, "created-by", "herald keygen %s", herald_version ());
        rc = zcert_save (cert, name);
    }
    if (rc == 0)
        rc = chmod (secret, 0600);
    if (rc != 0) {
        fprintf (stderr, "herald keygen: cannot write %s and %s: %s\n", name, secret,
                 strerror (errno));
        unlink (name);
        unlink (secret);
    }
    else
        printf ("%s\n", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return rc == 0 ? 0 : 1;
}

static int
s_cmd_keygen (int argc, char **argv)
{
    unsigned char given[sizeof s_keygen_opts / sizeof *s_keygen_opts] = { 0 };
    char unused;
    int next;
    int status = s_parse (&s_keygen_spec, NULL, argc, argv, &unused, given, &next);
    if (status >= 0)
        return status;
    if (argc - next != 1 || !*argv[next])
        return opts_usage_error (&s_keygen_spec, "give one NAME");
    return s_keygen_run (argv[next]);
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
    if (strcmp (cmd, "keygen") == 0)
        return s_cmd_keygen (argc - 1, argv + 1);
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
