/*  ticker.c: a C service that embeds libherald and publishes a stream of
 *  price ticks. Browsers see them through herald-edge with
 *      subscription { tick(symbol: "HRLD") { symbol price at } }
 *  (examples/chat/schema.graphql maps tick(symbol) to topic ticker.SYMBOL).
 *
 *  Build against an installed libherald:  make   (uses pkg-config)
 *  Run:  ./ticker [--symbols HRLD,ZMQ] [--interval-ms 500] [--count N]
 *  The broker's ingress comes from $HERALD_PUB_ENDPOINT, else the default.
 */
#include <herald.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

int
main (int argc, char **argv)
{
    char symbols_buf[256] = "HRLD,ZMQ";
    long interval_ms = 500, count = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp (argv[i], "--symbols") == 0)
            snprintf (symbols_buf, sizeof symbols_buf, "%s", argv[i + 1]);
        else if (strcmp (argv[i], "--interval-ms") == 0)
            interval_ms = atol (argv[i + 1]);
        else if (strcmp (argv[i], "--count") == 0)
            count = atol (argv[i + 1]);
        else {
            fprintf (stderr, "usage: ticker [--symbols A,B] [--interval-ms MS] [--count N]\n");
            return 2;
        }
    }
    char *symbols[16];
    int nsymbols = 0;
    for (char *save = NULL, *s = strtok_r (symbols_buf, ",", &save); s && nsymbols < 16;
         s = strtok_r (NULL, ",", &save))
        symbols[nsymbols++] = s;
    if (nsymbols == 0 || interval_ms < 1) {
        fprintf (stderr, "ticker: give at least one symbol and a positive interval\n");
        return 2;
    }

    int err;
    herald_publisher_t *pub = herald_publisher_new (NULL, &err);
    if (!pub) {
        fprintf (stderr, "ticker: %s\n", herald_errmsg ());
        return 1;
    }
    signal (SIGINT, s_on_signal);
    signal (SIGTERM, s_on_signal);

    double price[16];
    for (int i = 0; i < nsymbols; i++)
        price[i] = 100.0;
    srand ((unsigned) time (NULL));
    int rc = 0;
    for (long n = 0; !s_stop && (count == 0 || n < count); n++) {
        int i = (int) (n % nsymbols);
        price[i] *= 1.0 + ((rand () % 201) - 100) / 10000.0;      //  a +-1% walk
        char topic[64], at[32], json[256];
        time_t now = time (NULL);
        struct tm tm;
        strftime (at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&now, &tm));
        snprintf (topic, sizeof topic, "ticker.%s", symbols[i]);
        int len = snprintf (json, sizeof json, "{\"symbol\":\"%s\",\"price\":%.2f,\"at\":\"%s\"}",
                            symbols[i], price[i], at);
        if (herald_publish_json (pub, topic, json, (size_t) len) != HERALD_OK) {
            fprintf (stderr, "ticker: %s\n", herald_errmsg ());
            rc = 1;
            break;
        }
        printf ("%s %s\n", topic, json);
        fflush (stdout);
        struct timespec ts = { interval_ms / 1000, (interval_ms % 1000) * 1000000L };
        nanosleep (&ts, NULL);
    }
    herald_publisher_destroy (&pub);     //  flushes what is queued
    return rc;
}
