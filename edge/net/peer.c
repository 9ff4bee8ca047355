/*  peer.c: admissions: the place a new WebSocket takes against
 *  --max-connections, which is the whole edge's (every worker's), and the
 *  glue of the limits per client address (--max-connections-per-ip,
 *  --max-connects-per-ip-per-second), whose table every worker shares
 *  (shm.h): the peer's address read from the socket, the check before an
 *  upgrade is taken (http.c answers a refusal), and the hold each
 *  WebSocket keeps from then until lws destroys it. The table itself is
 *  pure code, session/addrlimit.c. With both limits off, the default,
 *  there is no table and nothing here reads an address.
 *
 *  What a connection holds is kept on its wsi (lws's opaque user data, a
 *  handle rather than a pointer), because lws replaces the per-session
 *  memory when an HTTP connection becomes a WebSocket, and frees a wsi
 *  whose upgrade fails after the check without a callback of the
 *  WebSocket's: LWS_CALLBACK_WSI_DESTROY comes for every one.
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

//  The connection's peer address as the table's key, and as text if
//  text is not NULL. Returns 0, or -1 if it has none (not IP). The socket
//  for every address (--host '') is IPv6, so IPv4 clients come to it as
//  IPv4-mapped addresses: the key is the same either way (addrlimit_key),
//  and the text is the IPv4 one an operator knows.
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

//  Under the lock: the edge's room, then the address's. Returns what
//  the connection holds (0: refused, with *v why).
static uint64_t
s_take (const addrlimit_key_t *key, int64_t now, int64_t *retry_ms, peer_verdict_t *v)
{
    edge_t *e = &net_edge;
    if (shm_admit (e->shm, e->worker) != 0) {
        *v = PEER_FULL;
        return 0;
    }
    if (!key)
        return SHM_ADMITTED;
    switch (addrlimit_admit (e->shm->addrs, key, now, retry_ms)) {
        case ADDRLIMIT_CONNECTIONS: *v = PEER_ADDRESS_FULL; break;
        case ADDRLIMIT_RATE: *v = PEER_ADDRESS_RATE; break;
        default: {
            uint64_t held = shm_hold (e->shm, e->worker, key, now);
            if (held)
                return held;
            *v = PEER_FULL;
            break;
        }
    }
    shm_release (e->shm, e->worker);
    return 0;
}

peer_verdict_t
peer_admit (struct lws *wsi, int64_t *retry_ms)
{
    edge_t *e = &net_edge;
    *retry_ms = 0;
    addrlimit_key_t key;
    int keyed = e->shm->addrs && s_key (wsi, &key, NULL, 0) == 0;
    peer_verdict_t v = PEER_OK;
    int64_t now = zclock_mono ();
    shm_lock (e->shm);
    uint64_t held = s_take (keyed ? &key : NULL, now, retry_ms, &v);
    shm_unlock (e->shm);
    if (held) {
        lws_set_opaque_user_data (wsi, (void *) (uintptr_t) held);
        return PEER_OK;
    }
    if (v == PEER_FULL)
        return v;
    //  At debug only: a flood must not flood the log. The metrics count.
    const edge_config_t *cfg = e->cfg;
    char text[INET6_ADDRSTRLEN];
    s_key (wsi, &key, text, sizeof text);
    if (v == PEER_ADDRESS_FULL) {
        e->m->ip_connections_rejected++;
        hlog_debug ("refused a WebSocket from %s: it has %d connections open "
                    "(--max-connections-per-ip)", text, cfg->max_connections_per_ip);
    }
    else {
        e->m->ip_rate_limited++;
        hlog_debug ("refused a WebSocket from %s: over %d connects a second "
                    "(--max-connects-per-ip-per-second), retry in %lld ms", text,
                    cfg->connect_rate_per_ip, (long long) *retry_ms);
    }
    return v;
}

void
peer_release (struct lws *wsi)
{
    edge_t *e = &net_edge;
    uint64_t held = (uint64_t) (uintptr_t) lws_get_opaque_user_data (wsi);
    if (!held || !e->shm)
        return;
    lws_set_opaque_user_data (wsi, NULL);
    if (held != SHM_ADMITTED) {
        shm_lock (e->shm);
        shm_unhold (e->shm, e->worker, held, zclock_mono ());
        shm_unlock (e->shm);
    }
    shm_release (e->shm, e->worker);
}
