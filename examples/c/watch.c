/*  watch.c: a subscriber driven by an event loop. It waits on libherald's
 *  descriptor with poll(), as an application with its own loop would, and
 *  prints each event of the topics given.
 *
 *  Usage: watch TOPIC...      (the broker's egress from $HERALD_SUB_ENDPOINT,
 *                              else tcp://127.0.0.1:7401)
 */
#include <herald.h>

#include <poll.h>
#include <stdio.h>

int
main (int argc, char **argv)
{
    int err, fd;
    herald_subscriber_t *sub = herald_subscriber_new (NULL, &err);
    if (!sub || herald_subscriber_fd (sub, &fd) != HERALD_OK) {
        fprintf (stderr, "watch: %s\n", herald_errmsg ());
        return 1;
    }
    for (int i = 1; i < argc; i++)
        if (herald_subscribe (sub, argv[i]) != HERALD_OK) {
            fprintf (stderr, "watch: %s: %s\n", argv[i], herald_errmsg ());
            return 1;
        }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    for (;;) {
        //  The descriptor signals edges: take everything that is waiting
        //  before polling again (also right after subscribing).
        herald_event_t *ev;
        while (herald_recv (sub, &ev, 0) == HERALD_OK) {
            printf ("%s %s\n", herald_event_topic (ev), herald_event_json (ev, NULL));
            fflush (stdout);
            herald_event_destroy (&ev);
        }
        if (poll (&p, 1, -1) < 0)
            break;
    }
    herald_subscriber_destroy (&sub);
    return 0;
}
