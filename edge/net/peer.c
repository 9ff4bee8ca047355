/*  peer.c: the glue of the limits per client address
 *  (--max-connections-per-ip, --max-connects-per-ip-per-second): the
 *  peer's address read from the socket, the check before an upgrade is
 *  taken (http.c answers a refusal), and the entry each WebSocket holds
 *  from its start until it is freed. The table itself is pure code,
 *  session/addrlimit.c. With both limits off, the default, there is no
 *  table and nothing here reads an address.
 *
 *  The address is the TCP peer's: behind a reverse proxy every client has
 *  the proxy's, so there the proxy is the place to limit.
 */
#include "log.h"
#include "net.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

//  The hash's seed must be one a client cannot guess.
static uint64_t
s_seed (void)
{
    uint64_t seed;
    if (getentropy (&seed, sizeof seed) != 0)
        seed = (uint64_t) zclock_usecs () ^ ((uint64_t) getpid () << 32);
    return seed;
}

int
peer_start (void)
{
    const edge_config_t *cfg = net_edge.cfg;
    if (cfg->max_connections_per_ip <= 0 && cfg->connect_rate_per_ip <= 0)
        return 0;
    //  As many addresses without a connection (refused, or refilling
    //  their bucket) as there may be connections: the table holds at
    //  most twice --max-connections entries.
    addrlimit_config_t ac = { .max_connections = cfg->max_connections_per_ip,
                              .rate = cfg->connect_rate_per_ip,
                              .burst = cfg->connect_burst_per_ip,
                              .max_idle = (size_t) net_edge.max_connections,
                              .max_held = (size_t) net_edge.max_connections,
                              .seed = s_seed () };
    net_edge.addrs = addrlimit_new (&ac);
    if (!net_edge.addrs) {
        hlog_error ("out of memory");
        return -1;
    }
    return 0;
}

void
peer_stop (void)
{
    addrlimit_destroy (&net_edge.addrs);
}

//  The connection's peer address as the table's key, and as text if
//  text is not NULL. Returns 0, or -1 if it has none (not IP). lws
//  listens on an IPv6 socket even for an IPv4 --host, so IPv4 clients
//  mostly come as IPv4-mapped addresses: the key is the same either way
//  (addrlimit_key), and the text is the IPv4 one an operator knows.
static int
s_key (struct lws *wsi, addrlimit_key_t *key, char *text, size_t text_len)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername ((int) lws_get_socket_fd (wsi), (struct sockaddr *) &ss, &len) != 0)
        return -1;
    int family = ss.ss_family;
    const unsigned char *bytes;
    if (family == AF_INET)
        bytes = (const unsigned char *) &((struct sockaddr_in *) &ss)->sin_addr;
    else if (family == AF_INET6)
        bytes = (const unsigned char *) &((struct sockaddr_in6 *) &ss)->sin6_addr;
    else
        return -1;
    if (addrlimit_key (key, bytes, family == AF_INET ? 4 : 16) != 0)
        return -1;
    if (text && family == AF_INET6 && IN6_IS_ADDR_V4MAPPED ((const struct in6_addr *) bytes)) {
        family = AF_INET;
        bytes += 12;
    }
    if (text && !inet_ntop (family, bytes, text, (socklen_t) text_len))
        snprintf (text, text_len, "?");
    return 0;
}

addrlimit_verdict_t
peer_admit (struct lws *wsi, int64_t *retry_ms)
{
    *retry_ms = 0;
    addrlimit_key_t key;
    if (!net_edge.addrs || s_key (wsi, &key, NULL, 0) != 0)
        return ADDRLIMIT_OK;
    addrlimit_verdict_t v = addrlimit_admit (net_edge.addrs, &key, zclock_mono (), retry_ms);
    if (v == ADDRLIMIT_OK)
        return v;
    //  At debug only: a flood must not flood the log. The metrics count.
    const edge_config_t *cfg = net_edge.cfg;
    char text[INET6_ADDRSTRLEN];
    s_key (wsi, &key, text, sizeof text);
    if (v == ADDRLIMIT_CONNECTIONS) {
        net_edge.m.ip_connections_rejected++;
        hlog_debug ("refused a WebSocket from %s: it has %d connections open "
                    "(--max-connections-per-ip)", text, cfg->max_connections_per_ip);
    }
    else {
        net_edge.m.ip_rate_limited++;
        hlog_debug ("refused a WebSocket from %s: over %d connects a second "
                    "(--max-connects-per-ip-per-second), retry in %lld ms", text,
                    cfg->connect_rate_per_ip, (long long) *retry_ms);
    }
    return v;
}

int
peer_hold (conn_t *c)
{
    addrlimit_key_t key;
    if (!net_edge.addrs || s_key (c->wsi, &key, NULL, 0) != 0)
        return 0;
    c->peer = addrlimit_hold (net_edge.addrs, &key, zclock_mono ());
    return c->peer ? 0 : -1;
}

void
peer_release (conn_t *c)
{
    //  After peer_stop (at exit) the entries are gone with the table.
    if (net_edge.addrs)
        addrlimit_release (net_edge.addrs, &c->peer, zclock_mono ());
    c->peer = NULL;
}
