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
    std::printf ("%s %s\n", herald_version (), herald_strerror (HERALD_ERR_TOPIC));
    return pub == nullptr ? 0 : 1;
}
