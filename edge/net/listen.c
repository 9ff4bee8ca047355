/*  listen.c: herald-edge's listening sockets, and the accept loop of a
 *  worker.
 *
 *  The supervisor opens one listening socket per worker, all on the one
 *  port with SO_REUSEPORT, before it forks: the kernel spreads new
 *  connections over them, and each worker accepts from its own. (lws
 *  4.1 sets SO_REUSEPORT only for a context of several service threads,
 *  which Debian's build, LWS_MAX_SMP 1, cannot have; so the edge owns the
 *  sockets and hands each accepted connection to its worker's lws context
 *  with lws_adopt_socket_vhost, as lws's own listener does.) The
 *  supervisor keeps its copy of each socket: connections that wait in the
 *  backlog of a worker that died are served by the worker that replaces
 *  it.
 */
#define _GNU_SOURCE             //  accept4
#include "listen.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

//  Connections accepted per wake-up before the loop turns to other work.
#define S_ACCEPT_BATCH 64
//  Out of descriptors, the worker stops accepting this long (the backlog
//  waits), rather than spin on a socket that stays readable.
#define S_PAUSE_MS 100

//  The address to bind: "" is every address, IPv6 and IPv4 on one socket
//  where the kernel has IPv6. Returns 0, or -1 with why.
static int
s_address (const char *host, int port, struct sockaddr_storage *ss, socklen_t *len,
           char *why, size_t why_len)
{
    memset (ss, 0, sizeof *ss);
    if (!*host) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *) ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_any;
        a->sin6_port = htons ((uint16_t) port);
        *len = sizeof *a;
        return 0;
    }
    struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM }, *found = NULL;
    int err = getaddrinfo (host, NULL, &hints, &found);
    if (err != 0 || !found || found->ai_addrlen > sizeof *ss) {
        snprintf (why, why_len, "%s", err ? gai_strerror (err) : "no address");
        if (found)
            freeaddrinfo (found);
        return -1;
    }
    memcpy (ss, found->ai_addr, found->ai_addrlen);
    *len = found->ai_addrlen;
    freeaddrinfo (found);
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *) ss)->sin6_port = htons ((uint16_t) port);
    else
        ((struct sockaddr_in *) ss)->sin_port = htons ((uint16_t) port);
    return 0;
}

static int
s_socket (struct sockaddr_storage *ss, socklen_t len, int *bound_port)
{
    int one = 1, zero = 0;
    int fd = socket (ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
        || setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0
        || (ss->ss_family == AF_INET6
            && setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0)
        || bind (fd, (struct sockaddr *) ss, len) != 0 || listen (fd, SOMAXCONN) != 0)
        goto fail;
    struct sockaddr_storage got;
    socklen_t got_len = sizeof got;
    if (getsockname (fd, (struct sockaddr *) &got, &got_len) != 0)
        goto fail;
    *bound_port = ntohs (got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &got)->sin6_port
                                                   : ((struct sockaddr_in *) &got)->sin_port);
    return fd;
fail:;
    int saved = errno;
    close (fd);
    errno = saved;
    return -1;
}

int
listen_open (const char *host, int port, int *bound_port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char why[128];
    if (s_address (host, port, &ss, &len, why, sizeof why) != 0) {
        hlog_error ("cannot listen on %s:%d: %s", host, port, why);
        return -1;
    }
    int fd = s_socket (&ss, len, bound_port);
    //  Every address on a kernel without IPv6: IPv4's.
    if (fd < 0 && !*host && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
        struct sockaddr_in *a = (struct sockaddr_in *) &ss;
        memset (&ss, 0, sizeof ss);
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl (INADDR_ANY);
        a->sin_port = htons ((uint16_t) port);
        fd = s_socket (&ss, sizeof *a, bound_port);
    }
    if (fd < 0)
        hlog_error ("cannot listen on %s:%d (is the address in use?): %s",
                    *host ? host : "*", port, strerror (errno));
    return fd;
}

//  The worker's side: one socket, on the worker's loop.
static struct {
    uv_poll_t poll;
    uv_timer_t pause;
    struct lws_vhost *vhost;
    int fd;
    int open;
    int64_t warned_at;
} s_listen = { .fd = -1 };

static void s_on_readable (uv_poll_t *handle, int status, int events);

static void
s_on_pause_end (uv_timer_t *handle)
{
    (void) handle;
    uv_poll_start (&s_listen.poll, UV_READABLE, s_on_readable);
}

//  accept(2) failed with err: go on, stop for now, or pause.
static int
s_accept_failed (int err)
{
    if (err == EAGAIN || err == EWOULDBLOCK)
        return 1;
    if (err == EINTR || err == ECONNABORTED || err == EPROTO)
        return 0;
    int64_t now = (int64_t) uv_now (uv_handle_get_loop ((uv_handle_t *) &s_listen.poll));
    if (now - s_listen.warned_at >= 10000 || s_listen.warned_at == 0) {
        s_listen.warned_at = now;
        hlog_warn ("cannot accept connections: %s; pausing accepts for %d ms", strerror (err),
                   S_PAUSE_MS);
    }
    uv_poll_stop (&s_listen.poll);
    uv_timer_start (&s_listen.pause, s_on_pause_end, S_PAUSE_MS, 0);
    return 1;
}

static void
s_on_readable (uv_poll_t *handle, int status, int events)
{
    (void) handle;
    (void) events;
    if (status < 0)
        return;
    for (int i = 0; i < S_ACCEPT_BATCH; i++) {
        int fd = accept4 (s_listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (s_accept_failed (errno))
                return;
            continue;
        }
        //  As lws's own listener sets them: no Nagle delay for small frames.
        int one = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        //  On failure lws has closed the socket.
        if (!lws_adopt_socket_vhost (s_listen.vhost, fd))
            hlog_debug ("lws could not take a new connection");
    }
}

int
listen_start (uv_loop_t *loop, int fd, struct lws_vhost *vhost)
{
    s_listen.fd = fd;
    s_listen.vhost = vhost;
    int err = uv_poll_init (loop, &s_listen.poll, fd);
    if (err == 0 && (err = uv_timer_init (loop, &s_listen.pause)) != 0)
        uv_close ((uv_handle_t *) &s_listen.poll, NULL);
    if (err == 0) {
        s_listen.open = 1;
        err = uv_poll_start (&s_listen.poll, UV_READABLE, s_on_readable);
    }
    if (err != 0) {
        hlog_error ("cannot watch the listening socket: %s", uv_strerror (err));
        return -1;
    }
    return 0;
}

//  The descriptor goes once libuv has let go of it.
static void
s_on_closed (uv_handle_t *handle)
{
    (void) handle;
    close (s_listen.fd);
    s_listen.fd = -1;
}

void
listen_stop (void)
{
    if (!s_listen.open)
        return;
    s_listen.open = 0;
    uv_close ((uv_handle_t *) &s_listen.poll, s_on_closed);
    uv_close ((uv_handle_t *) &s_listen.pause, NULL);
}
