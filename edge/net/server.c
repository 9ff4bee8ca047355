/*  server.c: a worker of herald-edge: its libwebsockets context on its
 *  libuv loop.
 *
 *  The supervisor (edge/supervisor.c) forks the workers; each one runs
 *  this file's edge_serve, with a listening socket of its own on the
 *  edge's port (listen.c) and a broker link of its own. libwebsockets
 *  serves the connections the worker accepts, on a libuv loop that this
 *  file owns (a "foreign" loop for lws), so that the broker's descriptor
 *  (upstream.c) is watched by the same loop:
 *
 *    /graphql   WebSocket, subprotocols graphql-transport-ws and graphql-ws (ws.c)
 *    /healthz   200 "ok" (http.c)
 *    /metrics   Prometheus text (http.c)
 *    /...       files from --static, if given
 *
 *  This file wires the parts together (see docs/architecture.md): events
 *  go from the upstream to the hub, and the hub's results to each
 *  subscription's transport; the hub's first and last subscription of a
 *  topic go to the upstream. It starts them, serves until a signal, and
 *  stops them.
 */
#include "listen.h"
#include "log.h"
#include "net.h"
#include "readhook.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

edge_t net_edge;

#define NET_CLOSE_CODE(name, code) code,
const int net_close_codes[NET_CLOSE_CODES] = { PROTO_CLOSE_MAP (NET_CLOSE_CODE) };
#undef NET_CLOSE_CODE

//  The subscribe path's last step: hub -> upstream. (The event path runs
//  upstream -> hub -> transport -> connection, with no stop in between.)
static const hub_ops_t s_hub_ops = { upstream_topic_add, upstream_topic_remove };

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
            size_t len)
{
    int rc;
    if (http_callback (wsi, reason, user, in, &rc))
        return rc;
    switch (reason) {
        case LWS_CALLBACK_WSI_DESTROY:
            //  Every wsi, whatever became of it: gives back the place
            //  that peer_admit took for an upgrade.
            peer_release (wsi);
            return 0;
        case LWS_CALLBACK_USER:
            //  lws_callback_all_protocol, at SIGTERM.
            ws_going_away (user);
            return 0;
        case LWS_CALLBACK_ESTABLISHED:
        case LWS_CALLBACK_RECEIVE:
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        case LWS_CALLBACK_SERVER_WRITEABLE:
        case LWS_CALLBACK_CLOSED:
            return ws_callback (wsi, reason, user, in, len);
        default:
            return lws_callback_http_dummy (wsi, reason, user, in, len);
    }
}

//  512-byte receive buffers: larger client messages arrive in pieces and
//  are reassembled (proto/wsmsg.c), while every idle connection holds 512
//  bytes less (2.7 instead of 3.2 KB of RSS per subscribed connection).
//  (Each one's per-session size is set in s_context_info: conn_t and its
//  transport.)
static struct lws_protocols s_protocols[] = {
#define S_PROTOCOL(name, id) { name, s_callback, 0, 512, id, NULL, OUTQ_CHUNK }
    S_PROTOCOL (REJECT_NAME, PROTOCOL_REJECT),
    S_PROTOCOL ("graphql-transport-ws", PROTOCOL_TRANSPORT),
    S_PROTOCOL ("graphql-ws", PROTOCOL_LEGACY),
#undef S_PROTOCOL
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
s_lws_log (int level, const char *line)
{
    size_t n = strlen (line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    hlog (level == LLL_ERR ? HLOG_ERROR : level == LLL_WARN ? HLOG_WARN : HLOG_DEBUG,
          "lws: %.*s", (int) n, line);
}

//  The lws context's settings, from the configuration. What lws keeps a
//  pointer to is static: there is one context per process.
static void
s_context_info (const edge_config_t *cfg, struct lws_context_creation_info *info)
{
    memset (info, 0, sizeof *info);
    for (struct lws_protocols *p = s_protocols; p->name; p++)
        p->per_session_data_size = sizeof (conn_t) + proto_size ();
    lws_set_log_level (LLL_ERR | LLL_WARN, s_lws_log);
    static struct lws_http_mount static_mount, metrics_mount, healthz_mount;
    healthz_mount = (struct lws_http_mount) {
        .mountpoint = "/healthz", .mountpoint_len = 8, .origin = REJECT_NAME,
        .origin_protocol = LWSMPRO_CALLBACK,
    };
    metrics_mount = (struct lws_http_mount) {
        .mount_next = &healthz_mount, .mountpoint = "/metrics", .mountpoint_len = 8,
        .origin = REJECT_NAME, .origin_protocol = LWSMPRO_CALLBACK,
    };
    static_mount = (struct lws_http_mount) {
        .mount_next = &metrics_mount, .mountpoint = "/", .mountpoint_len = 1,
        .origin = cfg->static_dir, .def = "index.html", .origin_protocol = LWSMPRO_FILE,
    };
    //  Idle connections are pinged by the edge itself (ws.c), from a heap:
    //  lws's own pings (retry_and_idle_policy) keep each connection's
    //  deadline in one sorted list, re-walked at every ping and pong,
    //  which stalls a worker with tens of thousands of connections. A
    //  policy of zeros keeps lws from keeping that deadline at all (with
    //  none it still kept one per connection, by a default of its own).
    static const lws_retry_bo_t no_validity = { .secs_since_valid_ping = 0,
                                                .secs_since_valid_hangup = 0 };
    info->retry_and_idle_policy = &no_validity;

    static void *loops[1];
    loops[0] = &net_edge.loop;
    //  The worker accepts from its own socket (listen.c) and hands each
    //  connection to lws.
    info->port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info->protocols = s_protocols;
    info->mounts = cfg->static_dir ? &static_mount : &metrics_mount;
    info->options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8
                   | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
    if (cfg->tls_cert) {
        //  Plain HTTP on the TLS port is answered with a redirect to
        //  https, and a plain WebSocket upgrade with an error (below),
        //  rather than a reset the client cannot explain.
        info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT
                        | LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT
                        | LWS_SERVER_OPTION_REDIRECT_HTTP_TO_HTTPS;
        info->ssl_cert_filepath = cfg->tls_cert;
        info->ssl_private_key_filepath = cfg->tls_key;
        //  HTTP/1.1 only. Offered h2, browsers would carry WebSockets in
        //  HTTP/2 streams (RFC 8441), and the edge writes whole
        //  WebSocket frames straight to the connection.
        info->alpn = "http/1.1";
    }
    info->foreign_loops = loops;
    info->pcontext = &net_edge.lws;
    info->count_threads = 1;
    info->fd_limit_per_thread = (unsigned) (net_edge.max_connections + EDGE_SPARE_FDS);
    //  lws's timeouts for a connection's start: the TLS handshake, and
    //  the HTTP request (and WebSocket upgrade) that follows.
    info->timeout_secs = (unsigned) cfg->handshake_timeout_s;
    info->timeout_secs_ah_idle = (unsigned) cfg->handshake_timeout_s;
    //  Request headers: lws cuts each one at --max-header-bytes plus one
    //  (s_headers_too_large then answers 431), and its buffer for them all
    //  holds twice the limit and more, so that lws itself, which can only
    //  drop a request it has no room for, runs out only for requests far
    //  over the limit.
    static struct lws_token_limits token_limits;
    for (int t = 0; t < WSI_TOKEN_COUNT; t++)
        token_limits.token_limit[t] = (unsigned short) (cfg->max_header + 1);
    info->token_limits = &token_limits;
    info->max_http_header_data2 = (unsigned) (2 * cfg->max_header + 4096);
}

//  Creates the lws context. Returns the vhost, or NULL (logged). A failed
//  context can leave handles of its (now unloaded) event-loop plugin in
//  our loop, so then the loop must not run again: *poisoned is set.
static struct lws_vhost *
s_listen (const edge_config_t *cfg, int *poisoned)
{
    struct lws_context_creation_info info;
    s_context_info (cfg, &info);
    net_edge.lws = lws_create_context (&info);
    struct lws_vhost *vhost = net_edge.lws ? lws_get_vhost_by_name (net_edge.lws, "default") : NULL;
    if (vhost)
        return vhost;
    *poisoned = 1;
    if (cfg->tls_cert)
        hlog_error ("cannot serve TLS (are %s and %s not a PEM certificate and its key?)",
                    cfg->tls_cert, cfg->tls_key);
    else
        hlog_error ("cannot create the libwebsockets context");
    if (net_edge.lws)
        lws_context_destroy (net_edge.lws);
    net_edge.lws = NULL;
    return NULL;
}

//  SIGHUP: the key files again, all or nothing, so that keys rotate
//  without a restart and a bad file costs nothing. Identities already
//  given hold no key, so the old set can go at once; on the one loop
//  thread no check is under way. The supervisor has read the files first
//  (and counted and logged the outcome); the worker marks the reload done
//  with the generation the supervisor gave it, so that two SIGHUPs that
//  arrive as one are both done.
static void
s_on_hup (uv_signal_t *handle, int signum)
{
    (void) handle;
    (void) signum;
    edge_t *e = &net_edge;
    char why[512];
    uint64_t gen = atomic_load (&e->shm->reload_gen);
    auth_keys_t *keys = edge_load_keys (e->cfg, why, sizeof why);
    if (!keys)
        hlog_debug ("SIGHUP: keeping the %zu keys in use: %s", auth_keys_count (e->keys), why);
    else {
        sessions_set_keys (e->sessions, keys);
        auth_keys_destroy (&e->keys);
        e->keys = keys;
        hlog_debug ("SIGHUP: %zu keys loaded", auth_keys_count (keys));
    }
    //  The supervisor read the same files a moment before: a worker that
    //  ends with other keys saw them change in between.
    if (auth_keys_count (e->keys) != atomic_load (&e->shm->keys))
        hlog_warn ("SIGHUP: this worker has %zu keys, the supervisor %llu: did the key files "
                   "change during the reload? Send SIGHUP again", auth_keys_count (e->keys),
                   (unsigned long long) atomic_load (&e->shm->keys));
    atomic_store (&e->slot->keys, auth_keys_count (e->keys));
    atomic_store (&e->slot->reloads, gen);
}

//  The drain is over: every connection closed (or the time is up). The
//  rest of the shutdown: closing the handles and lws lets the loop end.
static void
s_shutdown (void)
{
    uv_timer_stop (&net_edge.drain);
    uv_close ((uv_handle_t *) &net_edge.drain, NULL);
    //  Signals that come from now on (the supervisor's SIGTERM after a ^C)
    //  wait, and go with the process, rather than kill it mid-exit.
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGHUP);
    sigprocmask (SIG_BLOCK, &set, NULL);
    uv_signal_t *signals[3] = { &net_edge.sigint, &net_edge.sigterm, &net_edge.sighup };
    for (int i = 0; i < 3; i++) {
        uv_signal_stop (signals[i]);
        uv_close ((uv_handle_t *) signals[i], NULL);
    }
    uv_prepare_stop (&net_edge.prepare);
    uv_close ((uv_handle_t *) &net_edge.prepare, NULL);
    uv_timer_stop (&net_edge.timer);
    uv_close ((uv_handle_t *) &net_edge.timer, NULL);
    //  Closing the connections ends their sessions, which unsubscribes
    //  everything (through the hub), so the upstream goes last. lws
    //  finishes destroying the context once the loop has run down
    //  (edge_serve calls it again then).
    lws_context_destroy (net_edge.lws);
    upstream_close (net_edge.upstream);
    net_edge.upstream = NULL;
}

static void
s_on_drain (uv_timer_t *handle)
{
    (void) handle;
    if (net_edge.m->connections == 0 || (int64_t) uv_now (&net_edge.loop) >= net_edge.drain_deadline)
        s_shutdown ();
}

//  SIGTERM, SIGINT: no new connections; every WebSocket is closed 1001
//  "going away" (each close has --close-timeout to finish); then, once
//  they are all closed, or a second after that timeout, the worker stops.
static void
s_on_signal (uv_signal_t *handle, int signum)
{
    (void) handle;
    edge_t *e = &net_edge;
    //  The handlers stay until the worker stops: a terminal's ^C reaches
    //  every process of the group, and the supervisor's SIGTERM follows.
    if (atomic_load (&e->slot->state) == SHM_DRAINING)
        return;
    atomic_store (&e->slot->state, SHM_DRAINING);
    hlog_info ("%s: closing %zu connections, then stopping", signum == SIGINT ? "SIGINT"
               : "SIGTERM", e->m->connections);
    listen_stop ();
    //  (NULL: every protocol of the vhost; lws keeps its own copy of the
    //  table, so ours would match nothing.)
    lws_callback_all_protocol_vhost_args (e->vhost, NULL, LWS_CALLBACK_USER, NULL, 0);
    e->drain_deadline = (int64_t) uv_now (&e->loop) + (int64_t) e->cfg->close_timeout_s * 1000
                        + 1000;
    uv_timer_start (&e->drain, s_on_drain, 0, 20);
}

//  Before the loop waits: what /metrics reads of this worker that its
//  parts do not count in the slot themselves, then every queue flushed.
//  (So a client that got an answer finds the counts of it in /metrics,
//  whichever worker answers.)
static void
s_on_prepare (uv_prepare_t *handle)
{
    edge_t *e = &net_edge;
    if (e->upstream) {
        atomic_store (&e->slot->broker_connected, upstream_connected (e->upstream));
        uint32_t up = 0;
        for (size_t i = 0; i < upstream_brokers (e->upstream) && i < 32; i++)
            up |= (uint32_t) (upstream_broker_connected (e->upstream, i) != 0) << i;
        atomic_store (&e->slot->brokers_up, up);
        e->m->events_skipped = upstream_skipped (e->upstream);
    }
    ws_flush (handle);
}

//  The edge's own loop handles: the flush before each wait, and the
//  signals. Returns 0, or -1 (logged, with any opened handle closed).
static int
s_open_handles (void)
{
    uv_signal_t *signals[3] = { &net_edge.sigint, &net_edge.sigterm, &net_edge.sighup };
    uv_handle_t *opened[6];
    int n = 0, err = uv_prepare_init (&net_edge.loop, &net_edge.prepare);
    if (err == 0)
        opened[n++] = (uv_handle_t *) &net_edge.prepare;
    if (err == 0 && (err = uv_timer_init (&net_edge.loop, &net_edge.timer)) == 0)
        opened[n++] = (uv_handle_t *) &net_edge.timer;
    if (err == 0 && (err = uv_timer_init (&net_edge.loop, &net_edge.drain)) == 0)
        opened[n++] = (uv_handle_t *) &net_edge.drain;
    for (int i = 0; i < 3 && err == 0; i++)
        if ((err = uv_signal_init (&net_edge.loop, signals[i])) == 0)
            opened[n++] = (uv_handle_t *) signals[i];
    if (err == 0)
        err = uv_prepare_start (&net_edge.prepare, s_on_prepare);
    if (err == 0)
        err = uv_signal_start (&net_edge.sigint, s_on_signal, SIGINT);
    if (err == 0)
        err = uv_signal_start (&net_edge.sigterm, s_on_signal, SIGTERM);
    if (err == 0)
        err = uv_signal_start (&net_edge.sighup, s_on_hup, SIGHUP);
    if (err == 0)
        return 0;
    hlog_error ("cannot set up the event loop: %s", uv_strerror (err));
    while (n > 0)
        uv_close (opened[--n], NULL);
    return -1;
}

//  What every session shares: the limits, and who may subscribe to what
//  (the keys edge_prepare loaded, and the public topics). Returns 0, or -1
//  (logged).
static int
s_session_config (const edge_config_t *cfg, session_config_t *sc)
{
    edge_t *e = &net_edge;
    char why[512];
    if (cfg->public_topics && !(e->public_topics = patterns_parse (cfg->public_topics, why,
                                                                         sizeof why))) {
        hlog_error ("--public-topics: %s", why);
        return -1;
    }
    *sc = (session_config_t) {
        .max_subscriptions = cfg->max_subscriptions, .max_query = cfg->max_query,
        .max_depth = cfg->max_depth, .max_fields = cfg->max_fields,
        .subscribe_rate = cfg->subscribe_rate, .subscribe_burst = cfg->subscribe_burst,
        .auth = strcmp (cfg->auth, "required") == 0   ? SESSION_AUTH_REQUIRED
                : strcmp (cfg->auth, "optional") == 0 ? SESSION_AUTH_OPTIONAL
                                                      : SESSION_AUTH_OFF,
        .token = { .issuer = cfg->jwt_issuer, .audience = cfg->jwt_audience,
                   .leeway_ms = (int64_t) cfg->jwt_leeway_s * 1000,
                   .topics_claim = cfg->jwt_topics_claim },
        .public_topics = e->public_topics,
    };
    if (sc->auth != SESSION_AUTH_OFF)
        hlog_info ("authentication %s: %zu keys from %d files%s%s", cfg->auth,
                   auth_keys_count (e->keys), cfg->jwt_keys.n + cfg->jwt_secrets.n,
                   cfg->public_topics ? ", public topics " : "",
                   cfg->public_topics ? cfg->public_topics : "");
    return 0;
}

//  The worker serves: the supervisor is told (and logs the edge's port
//  once every worker is serving).
static void
s_ready (void)
{
    edge_t *e = &net_edge;
    atomic_store (&e->slot->pid, (int) getpid ());
    atomic_store (&e->slot->state, SHM_READY);
    unsigned char w = (unsigned char) e->worker;
    if (e->ready_fd >= 0 && write (e->ready_fd, &w, 1) != 1)
        hlog_debug ("cannot tell the supervisor that worker %d serves", e->worker);
    hlog_debug ("serving (pid %d)", (int) getpid ());
}

//  Starts every part, in the order that each needs the one before.
//  Returns 0, or -1 (logged) with what started left for s_stop.
static int
s_start (const edge_config_t *cfg, edge_worker_t *w, int *loop_open, int *poisoned)
{
    edge_t *e = &net_edge;
    e->schema = w->schema;
    e->keys = w->keys;
    w->schema = NULL;
    w->keys = NULL;
    int err = uv_loop_init (&e->loop);
    if (err != 0) {
        hlog_error ("cannot create the event loop: %s", uv_strerror (err));
        return -1;
    }
    *loop_open = 1;
    outq_set_headroom (LWS_PRE);
    struct lws_vhost *vhost = e->vhost = s_listen (cfg, poisoned);
    if (!vhost)
        return -1;
    e->upstream = upstream_new (&e->loop, cfg->broker, cfg->upstream_hwm);
    if (!e->upstream)
        return -1;
    e->hub = hub_new (&s_hub_ops, e->upstream, cfg->max_result);
    e->timers = timerheap_new ();
    e->pings = e->timers ? timerheap_new () : NULL;
    session_config_t sc;
    if (s_session_config (cfg, &sc) != 0)
        return -1;
    e->sessions = e->hub && e->pings ? sessions_new (&sc, e->schema, e->hub) : NULL;
    if (!e->sessions) {
        hlog_error ("out of memory");
        return -1;
    }
    //  Counted where every worker reads them.
    hub_place_stats (e->hub, &e->slot->stats.hub);
    sessions_place_stats (e->sessions, &e->slot->stats.sessions);
    sessions_set_keys (e->sessions, e->keys);
    if (s_open_handles () != 0)
        return -1;
    int fd = w->listen_fd;
    w->listen_fd = -1;
    if (listen_start (&e->loop, fd, vhost) != 0) {
        close (fd);
        return -1;
    }
    upstream_start (e->upstream, e->hub);
    s_ready ();
    return 0;
}

//  Stops what s_start started, in reverse: the connections (and so their
//  sessions), the broker link, then what they used.
static void
s_stop (int loop_open, int poisoned)
{
    edge_t *e = &net_edge;
    listen_stop ();
    if (e->lws)
        lws_context_destroy (e->lws);
    e->lws = NULL;
    upstream_close (e->upstream);
    e->upstream = NULL;
    if (loop_open && !poisoned) {
        //  Let the handles closed above finish closing.
        uv_run (&e->loop, UV_RUN_DEFAULT);
        if (uv_loop_close (&e->loop) != 0)
            hlog_debug ("the event loop still had handles at exit");
    }
    sessions_destroy (&e->sessions);
    auth_keys_destroy (&e->keys);
    patterns_destroy (&e->public_topics);
    hub_destroy (&e->hub);
    timerheap_destroy (&e->timers);
    timerheap_destroy (&e->pings);
    gql_schema_destroy (&e->schema);
    outq_shutdown ();
    readhook_shutdown ();
}

int
edge_serve (const edge_config_t *cfg, edge_worker_t *w)
{
    memset (&net_edge, 0, sizeof net_edge);
    net_edge.cfg = cfg;
    net_edge.proto = (proto_config_t) { .init_timeout_ms = cfg->init_timeout_ms,
                                        .keepalive_ms = cfg->legacy_ka_ms };
    net_edge.shm = w->shm;
    net_edge.worker = w->index;
    net_edge.slot = &w->shm->slots[w->index];
    net_edge.m = &net_edge.slot->stats.m;
    net_edge.max_connections = w->max_connections;
    net_edge.ready_fd = w->ready_fd;
    readhook_init ();
    int loop_open = 0, poisoned = 0, status = 1;
    if (s_start (cfg, w, &loop_open, &poisoned) == 0) {
        //  The signals the supervisor kept blocked until the worker could
        //  take them (libuv's handlers are in place now).
        sigset_t set;
        sigemptyset (&set);
        sigaddset (&set, SIGTERM);
        sigaddset (&set, SIGINT);
        sigaddset (&set, SIGHUP);
        sigprocmask (SIG_UNBLOCK, &set, NULL);
        uv_run (&net_edge.loop, UV_RUN_DEFAULT);
        status = 0;
    }
    s_stop (loop_open, poisoned);
    return status;
}
