// cxx_header.cpp: herald.h must compile as C++ and link from C++.
#include <herald.h>

#include <cstdio>

int
main ()
{
    int err = 0;
    herald_publisher_t *pub = herald_publisher_new ("tcp://127.0.0.1:1", &err);
    if (pub) {
        herald_publisher_set_option (pub, HERALD_OPT_LINGER_MS, 0);
        herald_publisher_destroy (&pub);
    }
    //  HERALD_1.2: a missing certificate is HERALD_ERR_KEY, before any
    //  connection.
    herald_subscriber_t *sub = herald_subscriber_new_secure ("tcp://127.0.0.1:1",
                                                             "/nonexistent", "/nonexistent", &err);
    int key_refused = sub == nullptr && err == HERALD_ERR_KEY
                      && herald_subscriber_refused (sub) == 0;
    //  HERALD_1.3: a list of brokers, and its counters (none is running).
    herald_publisher_t *list = herald_publisher_new ("tcp://127.0.0.1:1,tcp://127.0.0.1:3", &err);
    int listed = list && herald_publisher_brokers (list) == 2
                 && herald_publisher_stat (list, -1, HERALD_STAT_SENT) == 0
                 && herald_publisher_set_option (list, HERALD_OPT_HEARTBEAT_MS, 100) == HERALD_OK
                 && herald_publisher_close (&list) == HERALD_OK;
    std::printf ("%s %s\n", herald_version (), herald_strerror (HERALD_ERR_TOPIC));
    return pub == nullptr && key_refused && listed ? 0 : 1;
}
