/*  main.c: a program that uses an installed libherald. With endpoints, it
 *  subscribes, publishes one event and prints what it received.
 *
 *  Usage: consumer [INGRESS EGRESS]
 */
#include <herald.h>

#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
    printf ("libherald %s\n", herald_version ());
    if (argc < 3)
        return 0;
    int err, rc = 1;
    herald_subscriber_t *sub = herald_subscriber_new (argv[2], &err);
    //  (HERALD_1.2; with no keys given or in the environment, plaintext.)
    herald_publisher_t *pub = herald_publisher_new_secure (argv[1], NULL, NULL, &err);
    herald_event_t *ev = NULL;
    if (!sub || !pub)
        goto out;
    if (herald_subscribe (sub, "consumer") != HERALD_OK
        || herald_subscriber_sync (sub, 5000) != HERALD_OK)
        goto out;
    const char *json = "{\"from\":\"consumer\"}";
    if (herald_publish_json (pub, "consumer", json, strlen (json)) != HERALD_OK
        || herald_recv (sub, &ev, 5000) != HERALD_OK)
        goto out;
    printf ("%s %s\n", herald_event_topic (ev), herald_event_json (ev, NULL));
    rc = 0;
out:
    if (rc)
        fprintf (stderr, "consumer: %s\n", herald_errmsg ());
    herald_event_destroy (&ev);
    herald_publisher_destroy (&pub);
    herald_subscriber_destroy (&sub);
    return rc;
}
