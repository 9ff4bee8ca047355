/*  fuzz_proto.c: libFuzzer harness for the protocol state machines, the
 *  code that reads every message a client sends. The input's first byte
 *  picks the protocol (bit 0) and whether subscribes are rate-limited
 *  (bit 1); the rest is split at newlines into messages fed in order,
 *  with the clock advancing. The fake glue checks the machine's
 *  promises: nothing is sent after a close, and stop only follows an
 *  active id.
 */
#include "proto.h"

#include <stdlib.h>
#include <string.h>

static int s_closed;
static int s_active_count;
static char s_active[4][64];

static void
f_send (void *ctx, const char *text, size_t len)
{
    (void) ctx;
    if (s_closed || len == 0 || text[0] != '{')
        abort ();
}

static void
f_close (void *ctx, int code, const char *reason)
{
    (void) ctx;
    if (s_closed || code < 1000 || code > 4999 || strlen (reason) > 123)
        abort ();
    s_closed = 1;
}

static int
f_active (void *ctx, const char *id)
{
    (void) ctx;
    for (int i = 0; i < s_active_count; i++)
        if (strcmp (s_active[i], id) == 0)
            return 1;
    return 0;
}

static int
f_start (void *ctx, const char *id, const json_t *payload, char **errors)
{
    (void) ctx;
    if (!json_is_string (json_object_get (payload, "query")))
        abort ();
    //  Accept short ids while there is room; refuse the rest.
    if (strlen (id) < sizeof s_active[0] && s_active_count < 4) {
        strcpy (s_active[s_active_count++], id);
        return 0;
    }
    *errors = strdup ("[{\"message\":\"refused\"}]");
    return -1;
}

static void
f_stop (void *ctx, const char *id)
{
    (void) ctx;
    for (int i = 0; i < s_active_count; i++)
        if (strcmp (s_active[i], id) == 0) {
            memmove (s_active[i], s_active[i + 1], (size_t) (s_active_count - i - 1) * sizeof s_active[0]);
            s_active_count--;
            return;
        }
    abort ();
}

static void
f_limited (void *ctx, const char *id)
{
    (void) ctx;
    if (s_closed || !id || !*id)
        abort ();
}

static const proto_ops_t s_ops = { f_send, f_close, f_active, f_start, f_stop, f_limited };

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    s_closed = 0;
    s_active_count = 0;
    proto_config_t cfg = { .init_timeout_ms = 100, .keepalive_ms = 50 };
    if (data[0] & 2) {
        cfg.subscribe_rate = 10;
        cfg.subscribe_burst = 2;
    }
    proto_kind_t kind = data[0] & 1 ? PROTO_LEGACY_WS : PROTO_TRANSPORT_WS;
    proto_conn_t *p = proto_new (kind, &cfg, &s_ops, NULL, 0);
    if (!p)
        return 0;
    const char *text = (const char *) data + 1;
    size_t left = size - 1;
    int64_t now = 0;
    while (left > 0) {
        const char *nl = memchr (text, '\n', left);
        size_t n = nl ? (size_t) (nl - text) : left;
        if (n > 0 && text[0] == 'B')
            proto_on_binary (p, now);
        else
            proto_on_text (p, text, n, now);
        now += 30;
        if (proto_deadline (p) >= 0 && proto_deadline (p) <= now)
            proto_on_timer (p, now);
        text += nl ? n + 1 : n;
        left -= nl ? n + 1 : n;
    }
    proto_destroy (&p);
    return 0;
}
