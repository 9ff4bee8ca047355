/*  hello.c: subscribe to a topic, publish an event to it, and print what
 *  arrives. Build against an installed libherald with
 *      cc hello.c $(pkg-config --cflags --libs herald) -o hello
 *  and run it with a broker on the default ports: ./hello
 */
#include <herald.h>

#include <stdio.h>
#include <string.h>

int
main (void)
{
    int err, rc = 1;
    herald_event_t *event = NULL;

    //  NULL endpoints mean the broker's defaults on localhost.
    herald_subscriber_t *sub = herald_subscriber_new (NULL, &err);
    herald_publisher_t *pub = herald_publisher_new (NULL, &err);
    if (!sub || !pub)
        goto out;

    //  Subscribe, and wait until the broker confirms it, so that the
    //  event below cannot be published before the subscription arrives.
    if (herald_subscribe (sub, "chat.general") != HERALD_OK
        || herald_subscriber_sync (sub, 5000) != HERALD_OK)
        goto out;

    const char *json = "{\"id\":\"1\",\"channel\":\"general\",\"text\":\"hello from C\",\"author\":{\"name\":\"c\"}}";
    if (herald_publish_json (pub, "chat.general", json, strlen (json)) != HERALD_OK)
        goto out;

    if (herald_recv (sub, &event, 5000) != HERALD_OK)
        goto out;
    printf ("%s %s\n", herald_event_topic (event), herald_event_json (event, NULL));
    rc = 0;

out:
    if (rc != 0)
        fprintf (stderr, "hello: %s\n", herald_errmsg ());
    herald_event_destroy (&event);
    herald_publisher_destroy (&pub);     //  flushes, for up to 2 s
    herald_subscriber_destroy (&sub);
    return rc;
}
