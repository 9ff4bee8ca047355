/*  herald.c: library-wide parts of libherald: version, errors, memory,
 *  JSON <-> msgpack, and the socket set-up that publishers and subscribers
 *  share.
 */
#include "private.h"
#include "curve.h"
#include "mpjson.h"
#include "wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

//  Each thread keeps its own last error, so that a thread-safe publisher
//  never reports another thread's failure.
static __thread char s_errmsg[512];

#define S_STR2(x) #x
#define S_STR(x) S_STR2 (x)

const char *
herald_version (void)
{
    return S_STR (HERALD_VERSION_MAJOR) "." S_STR (HERALD_VERSION_MINOR) "."
           S_STR (HERALD_VERSION_PATCH);
}

//  One case per entry of HERALD_ERR_MAP, the list that also makes the enum.
#define S_STRERROR_CASE(name, value, text) case HERALD_ERR_##name: return text;

const char *
herald_strerror (int err)
{
    switch (err) {
        case HERALD_OK: return "success";
        HERALD_ERR_MAP (S_STRERROR_CASE)
    }
    return "unknown error";
}

const char *
herald_errmsg (void)
{
    return s_errmsg;
}

void
herald_free (void *ptr)
{
    free (ptr);
}

int
herald__fail (int err, const char *fmt, ...)
{
    if (!fmt)
        snprintf (s_errmsg, sizeof s_errmsg, "%s", herald_strerror (err));
    else {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (s_errmsg, sizeof s_errmsg, fmt, ap);
        va_end (ap);
    }
    return err;
}

int
herald__zmq_fail (const char *what)
{
    int e = zmq_errno ();
    int err = HERALD_ERR_TRANSPORT;
    if (e == EAGAIN)
        err = HERALD_ERR_AGAIN;
    else if (e == EINTR)
        err = HERALD_ERR_INTERRUPTED;
    else if (e == ENOMEM)
        err = HERALD_ERR_NOMEM;
    return herald__fail (err, "%s: %s", what, zmq_strerror (e));
}

int
herald__check_topic (const char *topic, size_t *len, int allow_reserved)
{
    if (!topic)
        return herald__fail (HERALD_ERR_INVALID, "topic is NULL");
    *len = strnlen (topic, WIRE_TOPIC_MAX + 1);
    wire_err_t rc = wire_topic_check (topic, *len);
    if (rc == WIRE_OK && !allow_reserved && wire_topic_reserved (topic, *len))
        rc = WIRE_TOPIC_RESERVED;
    if (rc != WIRE_OK)
        return herald__fail (HERALD_ERR_TOPIC, "invalid topic: %s", wire_strerror (rc));
    return HERALD_OK;
}

int
herald__setsockopt_int (void *sock, int option, int value)
{
    if (zmq_setsockopt (sock, option, &value, sizeof value) != 0)
        return herald__zmq_fail ("zmq_setsockopt");
    return HERALD_OK;
}

//  Watches the socket's connection events on a PAIR of the same context,
//  at addr, which must be unique in the context.
static int
s_monitor_open (void *ctx, void *sock, const char *addr, int events, void **monitor)
{
    if (zmq_socket_monitor (sock, addr, events) != 0)
        return herald__zmq_fail ("zmq_socket_monitor");
    *monitor = zmq_socket (ctx, ZMQ_PAIR);
    if (!*monitor)
        return herald__zmq_fail ("zmq_socket");
    int rc = herald__setsockopt_int (*monitor, ZMQ_LINGER, 0);
    if (rc == HERALD_OK && zmq_connect (*monitor, addr) != 0)
        rc = herald__zmq_fail ("zmq_connect (monitor)");
    if (rc != HERALD_OK)
        herald__monitor_close (sock, monitor);
    return rc;
}

int
herald__monitor_read (void *monitor)
{
    //  An event is two frames: 6 bytes (the event's number and a value)
    //  and the peer's address.
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    if (zmq_msg_recv (&frame, monitor, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&frame);
        return 0;
    }
    uint16_t event = 0;
    if (zmq_msg_size (&frame) >= sizeof event)
        memcpy (&event, zmq_msg_data (&frame), sizeof event);
    //  The frames of a message arrive together, so this does not block.
    while (zmq_msg_more (&frame))
        if (zmq_msg_recv (&frame, monitor, 0) < 0 && zmq_errno () != EINTR)
            break;
    zmq_msg_close (&frame);
    return event;
}

void
herald__monitor_close (void *sock, void **monitor)
{
    if (sock)
        zmq_socket_monitor (sock, NULL, 0);
    if (*monitor)
        zmq_close (*monitor);
    *monitor = NULL;
}

int
herald__heartbeat_apply (void *sock, const herald__heartbeat_t *hb)
{
    int rc = herald__setsockopt_int (sock, ZMQ_HEARTBEAT_IVL, hb->ivl);
    if (rc == HERALD_OK)
        rc = herald__setsockopt_int (sock, ZMQ_HEARTBEAT_TIMEOUT, hb->timeout);
    //  The TTL tells the broker to drop the connection after that long
    //  without a word from us, so that its side notices too; ZeroMQ
    //  carries it in tenths of a second, at most 6553.5 s.
    if (rc == HERALD_OK && hb->ttl)
        rc = herald__setsockopt_int (sock, ZMQ_HEARTBEAT_TTL,
                                     hb->timeout < 6553500 ? hb->timeout : 6553500);
    return rc;
}

//  The options every libherald socket is given, with IPv6 for a bracketed
//  address.
static int
s_socket_options (void *sock, const char *endpoint, const herald__heartbeat_t *hb)
{
    //  Dead peers are noticed by ZMTP heartbeats, and reconnection backs
    //  off to one second so that a restarting broker is found quickly.
    int rc = herald__setsockopt_int (sock, ZMQ_LINGER, 0);
    if (rc == HERALD_OK) rc = herald__heartbeat_apply (sock, hb);
    if (rc == HERALD_OK) rc = herald__setsockopt_int (sock, ZMQ_RECONNECT_IVL, 100);
    if (rc == HERALD_OK) rc = herald__setsockopt_int (sock, ZMQ_RECONNECT_IVL_MAX, 1000);
    if (rc == HERALD_OK) rc = herald__setsockopt_int (sock, ZMQ_SNDHWM, HERALD_DEFAULT_HWM);
    if (rc == HERALD_OK) rc = herald__setsockopt_int (sock, ZMQ_RCVHWM, HERALD_DEFAULT_HWM);
    if (rc == HERALD_OK && strchr (endpoint, '['))
        rc = herald__setsockopt_int (sock, ZMQ_IPV6, 1);
    return rc;
}

int
herald__curve_resolve (herald__curve_t *curve, const char *server, const char *cert)
{
    curve->server = server && *server ? server : getenv ("HERALD_CURVE_SERVER");
    curve->cert = cert && *cert ? cert : getenv ("HERALD_CURVE_CERT");
    if (curve->server && !*curve->server)
        curve->server = NULL;
    if (curve->cert && !*curve->cert)
        curve->cert = NULL;
    if (!curve->server != !curve->cert)
        return herald__fail (HERALD_ERR_KEY, "CURVE needs both the broker's public certificate "
                             "(server, $HERALD_CURVE_SERVER) and this client's secret "
                             "certificate (client_cert, $HERALD_CURVE_CERT); %s is missing",
                             curve->server ? "the client's" : "the broker's");
    return HERALD_OK;
}

//  Makes sock a CURVE client with the files curve names; reads and checks
//  them first (common/curve.c), so that a mistake is an error now rather
//  than a broker that never answers.
static int
s_curve_options (void *sock, const herald__curve_t *curve)
{
    char why[512], key[CURVE_KEY_TEXT];
    if (!curve_available ())
        return herald__fail (HERALD_ERR_NO_CURVE, "this libzmq was built without CURVE, "
                             "so it cannot connect to a broker that uses it");
    if (curve_public_key (curve->server, key, why, sizeof why) != 0)
        return herald__fail (HERALD_ERR_KEY, "the broker's public certificate: %s", why);
    zcert_t *cert = curve_secret_cert (curve->cert, why, sizeof why);
    if (!cert)
        return herald__fail (HERALD_ERR_KEY, "the client's secret certificate: %s", why);
    int rc = curve_apply (sock, key, cert) == 0 ? HERALD_OK
                                                : herald__zmq_fail ("CURVE socket options");
    zcert_destroy (&cert);
    return rc;
}

const char *
herald__endpoint_resolve (const char *endpoint, const char *env, const char *fallback)
{
    if (!endpoint || !*endpoint)
        endpoint = getenv (env);
    if (!endpoint || !*endpoint)
        endpoint = fallback;
    return endpoint;
}

//  One entry of a list: spaces around it dropped, "host:port" made tcp.
static int
s_endpoint_entry (const char *start, size_t len, char *out, size_t size)
{
    while (len && (*start == ' ' || *start == '\t')) {
        start++;
        len--;
    }
    while (len && (start[len - 1] == ' ' || start[len - 1] == '\t'))
        len--;
    if (len == 0)
        return herald__fail (HERALD_ERR_ENDPOINT, "the list of brokers has an empty entry");
    int tcp = 1;
    for (size_t i = 0; i + 3 <= len && tcp; i++)
        tcp = memcmp (start + i, "://", 3) != 0;
    if ((tcp ? 6 : 0) + len >= size)
        return herald__fail (HERALD_ERR_ENDPOINT, "an endpoint in the list is longer than %zu "
                             "bytes", size - 1);
    snprintf (out, size, "%s%.*s", tcp ? "tcp://" : "", (int) len, start);
    return HERALD_OK;
}

int
herald__endpoints_split (const char *list, herald__endpoints_t *out)
{
    out->n = 0;
    const char *p = list;
    while (1) {
        const char *comma = strchr (p, ',');
        size_t len = comma ? (size_t) (comma - p) : strlen (p);
        if (out->n == HERALD_BROKERS_MAX)
            return herald__fail (HERALD_ERR_ENDPOINT, "more than %d brokers in the list",
                                 HERALD_BROKERS_MAX);
        int rc = s_endpoint_entry (p, len, out->ep[out->n], sizeof out->ep[out->n]);
        if (rc != HERALD_OK)
            return rc;
        for (int i = 0; i < out->n; i++)
            if (strcmp (out->ep[i], out->ep[out->n]) == 0)
                return herald__fail (HERALD_ERR_ENDPOINT, "\"%s\" is listed twice",
                                     out->ep[i]);
        out->n++;
        if (!comma)
            return HERALD_OK;
        p = comma + 1;
    }
}

int
herald__socket_new (void *ctx, int type, const char *endpoint, const herald__curve_t *curve,
                    const herald__heartbeat_t *hb, const char *monitor_addr, int events,
                    void **sock, void **monitor)
{
    if (monitor)
        *monitor = NULL;
    *sock = zmq_socket (ctx, type);
    int rc = *sock ? s_socket_options (*sock, endpoint, hb) : herald__zmq_fail ("zmq_socket");
    if (rc == HERALD_OK && curve && curve->server)
        rc = s_curve_options (*sock, curve);
    if (rc == HERALD_OK && monitor)
        rc = s_monitor_open (ctx, *sock, monitor_addr, events, monitor);
    if (rc != HERALD_OK && *sock) {
        zmq_close (*sock);
        *sock = NULL;
    }
    return rc;
}

int
herald__connect (void *sock, const char *endpoint)
{
    if (zmq_connect (sock, endpoint) == 0)
        return HERALD_OK;
    int e = zmq_errno ();
    return herald__fail (e == ENOMEM ? HERALD_ERR_NOMEM : HERALD_ERR_ENDPOINT,
                         "cannot connect to \"%s\": %s", endpoint, zmq_strerror (e));
}

int
herald__socket_open (int type, const char *endpoint, const char *env, const char *fallback,
                     const herald__curve_t *curve, void **ctx, void **sock, void **monitor,
                     char *used, size_t used_size)
{
    static const herald__heartbeat_t one = HERALD__HEARTBEAT_ONE;
    char normal[1024];
    endpoint = herald__endpoint_resolve (endpoint, env, fallback);
    //  "host:port" is shorthand for TCP.
    if (!strstr (endpoint, "://")) {
        if ((size_t) snprintf (normal, sizeof normal, "tcp://%s", endpoint) >= sizeof normal)
            return herald__fail (HERALD_ERR_ENDPOINT, "endpoint is too long");
        endpoint = normal;
    }
    if (used)
        snprintf (used, used_size, "%s", endpoint);
    if (monitor)
        *monitor = NULL;
    *sock = NULL;
    *ctx = zmq_ctx_new ();
    if (!*ctx)
        return herald__zmq_fail ("zmq_ctx_new");
    //  Each context holds one such socket, so the monitor's address is
    //  unique.
    int rc = herald__socket_new (*ctx, type, endpoint, curve, &one, "inproc://herald-monitor",
                                 HERALD__EVENTS, sock, monitor);
    if (rc == HERALD_OK)
        rc = herald__connect (*sock, endpoint);
    if (rc != HERALD_OK) {
        if (monitor)
            herald__monitor_close (*sock, monitor);
        herald__socket_close (ctx, sock);
    }
    return rc;
}

void
herald__socket_close (void **ctx, void **sock)
{
    if (*sock)
        zmq_close (*sock);
    if (*ctx) {
        while (zmq_ctx_term (*ctx) != 0 && zmq_errno () == EINTR)
            ;
    }
    *sock = NULL;
    *ctx = NULL;
}

int
herald_json_to_msgpack (const char *json, size_t len, void **out, size_t *size)
{
    if (!json || !out || !size)
        return herald__fail (HERALD_ERR_INVALID, "NULL argument");
    char err[256];
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    if (mpjson_from_json (json, len, &buf, err, sizeof err) != 0) {
        msgpack_sbuffer_destroy (&buf);
        return herald__fail (HERALD_ERR_JSON, "%s", err);
    }
    *size = buf.size;
    *out = msgpack_sbuffer_release (&buf);
    return HERALD_OK;
}

int
herald_msgpack_to_json (const void *data, size_t size, char **out, size_t *len)
{
    if (!data || !out)
        return herald__fail (HERALD_ERR_INVALID, "NULL argument");
    wire_err_t rc = wire_msgpack_check (data, size);
    if (rc != WIRE_OK)
        return herald__fail (HERALD_ERR_MSGPACK, "invalid msgpack: %s", wire_strerror (rc));
    if (mpjson_to_json (data, size, out, len) != 0)
        return herald__fail (HERALD_ERR_NOMEM, NULL);
    return HERALD_OK;
}
