/*  ws.c: a WebSocket connection of herald-edge.
 *
 *  Each connection is a conn_t (lws's per-session memory). Its transport
 *  (proto/) reads what the client sends, drives the connection's session,
 *  and decides what to send and when to close; this file reassembles the
 *  client's messages (proto/wsmsg.h), frames and queues what goes out
 *  (session/outq.h), and writes only when the socket is writable. A
 *  connection is never freed from inside its own callbacks: a close is
 *  requested, and lws calls back once it is writable to perform it.
 */
#include "log.h"
#include "net.h"
#include "readhook.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A connection that is closing may never take its close frame (a client
//  that stopped reading), nor answer it: once --close-timeout has passed,
//  lws is told to drop it. lws frees it from its own timer, outside any
//  callback of ours, and LWS_CALLBACK_CLOSED follows as usual.
static void
s_on_close_deadline (lws_sorted_usec_list_t *sul)
{
    conn_t *c = lws_container_of (sul, conn_t, close_sul);
    hlog_debug ("dropping a connection that did not finish closing in %d s",
                net_edge.cfg->close_timeout_s);
    lws_set_timeout (c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

//  Marks the connection as closing with this code, counts it, and starts
//  the close deadline. Returns 0, or -1 if it was already closing.
static int
s_conn_closing (conn_t *c, int code, const char *reason)
{
    if (c->close_code)
        return -1;
    c->close_code = code;
    //  A close frame's payload is 125 bytes at most, the code included.
    //  Without memory the close goes out with no reason.
    size_t n = strlen (reason);
    if (n > 123)
        n = 123;
    if ((c->close_reason = malloc (n + 1))) {
        memcpy (c->close_reason, reason, n);
        c->close_reason[n] = 0;
    }
    for (size_t i = 0; i < NET_CLOSE_CODES; i++)
        if (net_close_codes[i] == code)
            net_edge.m->closes[i]++;
    lws_sul_schedule (net_edge.lws, 0, &c->close_sul, s_on_close_deadline,
                      (lws_usec_t) net_edge.cfg->close_timeout_s * LWS_US_PER_SEC);
    return 0;
}

//  Hands lws the close code and the reason that s_conn_closing kept.
static void
s_close_reason (conn_t *c, struct lws *wsi, enum lws_close_status code)
{
    const char *reason = c->close_reason ? c->close_reason : "";
    lws_close_reason (wsi, code, (unsigned char *) reason, strlen (reason));
}

static void
s_conn_close (conn_t *c, int code, const char *reason)
{
    if (s_conn_closing (c, code, reason) == 0)
        lws_callback_on_writable (c->wsi);
}

//  Connections with new output are listed, and written to directly just
//  before the loop waits for I/O (ws_flush, a uv_prepare), as Redis does:
//  no writability round trip through epoll for a socket that has room,
//  and every message queued in this turn of the loop goes in one send.
static void
s_flush_list (conn_t *c)
{
    if (c->flush_listed)
        return;
    c->flush_listed = 1;
    c->flush_prev = NULL;
    c->flush_next = net_edge.flush_head;
    if (net_edge.flush_head)
        net_edge.flush_head->flush_prev = c;
    net_edge.flush_head = c;
}

static void
s_flush_unlist (conn_t *c)
{
    if (!c->flush_listed)
        return;
    if (c->flush_prev)
        c->flush_prev->flush_next = c->flush_next;
    else
        net_edge.flush_head = c->flush_next;
    if (c->flush_next)
        c->flush_next->flush_prev = c->flush_prev;
    c->flush_listed = 0;
}

//  Writes as much of the queue as the socket takes: whole chunks until the
//  queue is empty or lws had to keep part of a write (the socket is full),
//  so at most the queue's bound per connection and loop turn. Returns 0,
//  or -1 if the write failed (lws then closes the connection).
static int
s_conn_write (conn_t *c)
{
    while (1) {
        size_t len;
        const char *data = outq_peek (&c->out, &len);
        //  If lws kept part of the last write, it calls back when the
        //  socket takes more; the queue waits until then.
        if (!data || lws_partial_buffered (c->wsi))
            return 0;
        //  Whole frames, already framed: lws writes them as they are, in
        //  one send, buffering any part the socket does not take.
        if (lws_write (c->wsi, (unsigned char *) data, len, LWS_WRITE_HTTP) < 0)
            return -1;
        net_edge.m->bytes_out += len;
        outq_consume (&c->out, len);
    }
    return 0;
}

void
ws_flush (uv_prepare_t *handle)
{
    (void) handle;
    //  A client frame without a mask (RFC 6455 5.1), control frames
    //  included, which lws answers without a callback of ours.
    conn_t *u;
    while ((u = readhook_next_unmasked ()))
        s_conn_close (u, PROTO_CLOSE_PROTOCOL_ERROR, "Unmasked frame");
    while (net_edge.flush_head) {
        conn_t *c = net_edge.flush_head;
        s_flush_unlist (c);
        if (c->close_code)
            continue;
        //  What the socket does not take now is finished from the
        //  writable callback.
        if (s_conn_write (c) != 0 || c->out.head)
            lws_callback_on_writable (c->wsi);
    }
}

//  Queues one message made of parts. A connection whose queue is over its
//  bounds is a slow consumer: it is closed, and its queue dropped.
static void
s_conn_send (conn_t *c, const char *const *parts, const size_t *lens, int n)
{
    if (c->close_code)
        return;
    size_t size = 0;
    for (int i = 0; i < n; i++)
        size += lens[i];
    const edge_config_t *cfg = net_edge.cfg;
    //  A queue that is full only because this turn of the loop filled it
    //  (a burst from the broker) is offered to the socket first: a client
    //  is slow if its socket is full too, not because the edge had not
    //  written yet.
    if ((c->out.messages >= cfg->max_queue_messages
         || c->out.bytes + size + OUTQ_HEADER_MAX > cfg->max_queue_bytes)
        && c->out.head && !lws_partial_buffered (c->wsi) && s_conn_write (c) != 0)
        lws_callback_on_writable (c->wsi);
    if (c->out.messages >= cfg->max_queue_messages
        || c->out.bytes + size + OUTQ_HEADER_MAX > cfg->max_queue_bytes) {
        net_edge.m->slow_consumers++;
        c->slow = 1;
        hlog_debug ("closing a slow consumer (%zu messages, %zu bytes queued)",
                    c->out.messages, c->out.bytes);
        outq_clear (&c->out);
        s_conn_close (c, PROTO_CLOSE_SLOW_CONSUMER, "Slow consumer: outbound queue full");
        return;
    }
    int was_empty = c->out.head == NULL;
    if (outq_push (&c->out, parts, lens, n) != 0) {
        s_conn_close (c, PROTO_CLOSE_INTERNAL, "Internal server error");
        return;
    }
    net_edge.m->messages_out++;
    if (was_empty)
        s_flush_list (c);
}

//  The loop timer runs for the earliest deadline in the edge's heap;
//  armed_at is when it is set to fire (-1: stopped). A deadline that
//  moves later leaves it early, which costs one spare wake-up.
static int64_t s_armed_at = -1;

static void
s_arm (void)
{
    int64_t next = timerheap_next (net_edge.timers);
    if (next < 0 || (s_armed_at >= 0 && s_armed_at <= next))
        return;
    int64_t wait = next - zclock_mono ();
    s_armed_at = next;
    uv_timer_start (&net_edge.timer, ws_on_timer, (uint64_t) (wait > 0 ? wait : 0), 0);
}

//  Puts the connection's next protocol deadline in the heap.
static void
s_conn_schedule (conn_t *c)
{
    int64_t deadline = c->proto ? proto_deadline (c->proto) : -1;
    if (deadline < 0 || c->close_code) {
        timerheap_cancel (net_edge.timers, &c->deadline);
        return;
    }
    if (timerheap_set (net_edge.timers, &c->deadline, deadline) != 0) {
        s_conn_close (c, PROTO_CLOSE_INTERNAL, "Internal server error");
        return;
    }
    s_arm ();
}

void
ws_on_timer (uv_timer_t *handle)
{
    (void) handle;
    s_armed_at = -1;
    int64_t now = zclock_mono ();
    timerheap_slot_t *due;
    while ((due = timerheap_pop (net_edge.timers, now))) {
        conn_t *c = lws_container_of (due, conn_t, deadline);
        proto_on_timer (c->proto, now);
        s_conn_schedule (c);
    }
    s_arm ();
}

static void
s_conn_cleanup (conn_t *c)
{
    if (c->established)
        readhook_unwatch (c->fd);
    timerheap_cancel (net_edge.timers, &c->deadline);
    lws_sul_cancel (&c->close_sul);
    s_flush_unlist (c);
    //  Ends the session, which unsubscribes its operations in the hub.
    proto_fini (c->proto);
    c->proto = NULL;
    outq_clear (&c->out);
    wsmsg_release (&c->rx);
    //  Its place goes with its count (lws frees the wsi a little later,
    //  once the socket's shutdown is done; peer_release then does nothing).
    if (c->wsi)
        peer_release (c->wsi);
    free (c->close_reason);
    c->close_reason = NULL;
    if (c->established) {
        net_edge.m->connections--;
        c->established = 0;
    }
}

//  The transport's way out: a message to queue, or a close.
static void
s_send (void *ctx, const char *const *parts, const size_t *lens, int n)
{
    s_conn_send (ctx, parts, lens, n);
}

//  A client refused for its token is logged with why, never the token:
//  ten lines a second at most, so that a flood of bad tokens cannot flood
//  the log (the metrics count every one).
static void
s_log_forbidden (conn_t *c, const char *reason)
{
    static int64_t second;
    static int lines, skipped;
    int64_t now = zclock_mono () / 1000;
    if (now != second) {
        if (skipped)
            hlog_info ("%d more clients refused for their tokens", skipped);
        second = now;
        lines = skipped = 0;
    }
    if (++lines > 10) {
        skipped++;
        return;
    }
    char peer[64] = "";
    lws_get_peer_simple (c->wsi, peer, sizeof peer);
    hlog_info ("closing a client from %s: %s", peer, reason);
}

static void
s_close (void *ctx, int code, const char *reason)
{
    if (code == PROTO_CLOSE_FORBIDDEN)
        s_log_forbidden (ctx, reason);
    s_conn_close (ctx, code, reason);
}

static const proto_ops_t s_proto_ops = { s_send, s_close };

//  Copies header h of the request into a new string (*len bytes), or
//  returns NULL if it is absent or memory ran out. --max-header-bytes
//  bounds it.
static char *
s_header (struct lws *wsi, enum lws_token_indexes h, size_t *len)
{
    int n = lws_hdr_total_length (wsi, h);
    char *text = n > 0 ? malloc ((size_t) n + 1) : NULL;
    int got = text ? lws_hdr_copy (wsi, text, n + 1, h) : -1;
    if (got < 0) {
        free (text);
        return NULL;
    }
    *len = (size_t) got;
    return text;
}

//  A token in the upgrade request, for clients that send none in
//  connection_init: the Authorization header (clients that can set
//  headers), else the --jwt-cookie cookie (browsers). Returns 0, or -1
//  if memory ran out.
static int
s_upgrade_token (conn_t *c, struct lws *wsi)
{
    const edge_config_t *cfg = net_edge.cfg;
    size_t len = 0, token_len = 0;
    const char *token = NULL;
    char *value = s_header (wsi, WSI_TOKEN_HTTP_AUTHORIZATION, &len);
    if (value)
        token = auth_token_from_header (value, len, &token_len);
    if (!token && cfg->jwt_cookie) {
        free (value);
        if ((value = s_header (wsi, WSI_TOKEN_HTTP_COOKIE, &len)))
            token = auth_token_from_cookie (value, len, cfg->jwt_cookie, &token_len);
    }
    int rc = token ? proto_set_token (c->proto, token, token_len) : 0;
    free (value);
    return rc;
}

static int
s_established (conn_t *c, struct lws *wsi)
{
    c->wsi = wsi;
    c->fd = (int) lws_get_socket_fd (wsi);
    c->rx.max = net_edge.cfg->max_message;
    readhook_watch (c->fd, c);
    c->established = 1;
    net_edge.m->connections++;
    net_edge.m->connections_total++;
    int id = (int) lws_get_protocol (wsi)->id;
    if (id == PROTOCOL_REJECT) {
        s_conn_close (c, PROTO_CLOSE_SUBPROTOCOL, "Subprotocol not acceptable");
        return 0;
    }
    proto_kind_t kind = id == PROTOCOL_LEGACY ? PROTO_LEGACY_WS : PROTO_TRANSPORT_WS;
    c->proto = proto_init (c->transport, kind, &net_edge.proto, &s_proto_ops, c,
                           net_edge.sessions, zclock_mono ());
    if (!c->proto)
        return -1;
    if (strcmp (net_edge.cfg->auth, "off") != 0 && s_upgrade_token (c, wsi) != 0)
        return -1;
    s_conn_schedule (c);
    return 0;
}

static void
s_receive (conn_t *c, struct lws *wsi, const char *in, size_t len)
{
    if (c->close_code || !c->proto)
        return;
    if (readhook_unmasked (c->fd)) {
        s_conn_close (c, PROTO_CLOSE_PROTOCOL_ERROR, "Unmasked frame");
        return;
    }
    int first = lws_is_first_fragment (wsi);
    int last = lws_is_final_fragment (wsi) && lws_remaining_packet_payload (wsi) == 0;
    const char *msg;
    size_t msg_len;
    switch (wsmsg_add (&c->rx, in, len, first, last, lws_frame_is_binary (wsi), &msg, &msg_len)) {
        case WSMSG_DONE:
            break;
        case WSMSG_TOO_BIG:
            s_conn_close (c, PROTO_CLOSE_TOO_BIG, "Message too big");
            return;
        case WSMSG_NOMEM:
            s_conn_close (c, PROTO_CLOSE_INTERNAL, "Internal server error");
            return;
        default:
            return;
    }
    if (c->rx.binary)
        proto_on_binary (c->proto, zclock_mono ());
    else
        proto_on_text (c->proto, msg, msg_len, zclock_mono ());
    //  Idle connections should hold no receive buffer.
    wsmsg_release (&c->rx);
    s_conn_schedule (c);
}

static int
s_writeable (conn_t *c, struct lws *wsi)
{
    if (c->close_code && (c->slow || !c->out.head)) {
        //  Returning -1 here would make lws drop the socket without a
        //  close frame, as if the write had failed. Asking lws to close
        //  takes its orderly path instead: it sends the close frame with
        //  the reason set here, waits for the client's answer, and only
        //  then frees the connection (so not inside this callback).
        if (!c->close_sent) {
            c->close_sent = 1;
            s_close_reason (c, wsi, (enum lws_close_status) c->close_code);
            lws_set_timeout (wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
        }
        return 0;
    }
    if (s_conn_write (c) != 0)
        return -1;
    if (c->out.head || c->close_code)
        lws_callback_on_writable (wsi);
    return 0;
}

void
ws_going_away (conn_t *c)
{
    if (c && c->established)
        s_conn_close (c, PROTO_CLOSE_GOING_AWAY, "Going away: the server is shutting down");
}

int
ws_callback (struct lws *wsi, enum lws_callback_reasons reason, conn_t *c, void *in,
             size_t len)
{
    switch (reason) {
        case LWS_CALLBACK_ESTABLISHED:
            return s_established (c, wsi);

        case LWS_CALLBACK_RECEIVE:
            s_receive (c, wsi, in, len);
            return 0;

        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            //  A close body is empty or holds a 2-byte code (RFC 6455
            //  5.5.1); lws would echo a 1-byte one as an empty close.
            //  Returning non-zero makes lws close with the reason set here.
            if (len == 1) {
                s_conn_closing (c, PROTO_CLOSE_PROTOCOL_ERROR, "Invalid close frame");
                s_close_reason (c, wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR);
                return -1;
            }
            return 0;

        case LWS_CALLBACK_SERVER_WRITEABLE:
            return s_writeable (c, wsi);

        case LWS_CALLBACK_CLOSED:
            s_conn_cleanup (c);
            return 0;

        default:
            return 0;
    }
}
