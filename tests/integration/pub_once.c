/*  pub_once.c: publishes exactly one message through libherald and exits,
 *  as a short-lived C process would (a CGI handler, a cron job). Used by
 *  test_publish_once.py.
 *
 *  Usage: pub_once ENDPOINT TOPIC JSON
 */
#include "herald.h"

#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
    if (argc != 4) {
        fprintf (stderr, "usage: pub_once ENDPOINT TOPIC JSON\n");
        return 2;
    }
    int err;
    herald_publisher_t *pub = herald_publisher_new (argv[1], &err);
    if (!pub) {
        fprintf (stderr, "pub_once: %s\n", herald_errmsg ());
        return 1;
    }
    int rc = herald_publish_json (pub, argv[2], argv[3], strlen (argv[3]));
    if (rc != HERALD_OK)
        fprintf (stderr, "pub_once: %s\n", herald_errmsg ());
    herald_publisher_destroy (&pub);
    return rc == HERALD_OK ? 0 : 1;
}
