/*  loadgen.c: herald-loadgen, a native load generator for GraphQL
 *  subscription servers that speak graphql-transport-ws.
 *
 *  It opens N WebSocket connections (from source addresses spread over
 *  127.0.0.0/8, so that it is not held to one address's ephemeral ports),
 *  subscribes each to one of T channels, then publishes events through
 *  libherald at a fixed rate and measures every delivery:
 *
 *  - latency, from the send timestamp in the payload to the read, in a
 *    log-linear histogram (p50, p90, p99, p99.9, max);
 *  - loss and reordering, from a per-channel sequence number;
 *  - the delivered rate, in steady state: the deliveries read while the
 *    measured part of the publishing ran, over its length (the warm-up has
 *    filled the pipeline by then, so a server that keeps up delivers at
 *    the offered rate, and one that falls behind delivers less);
 *  - the connect-and-subscribe rate.
 *
 *  With a wss:// URL it speaks TLS (OpenSSL; the server's certificate is
 *  not checked, as the benchmark's is self-signed), which shows what TLS
 *  costs the server.
 *
 *  One thread runs every connection on epoll and reads in 64 KiB batches;
 *  a second thread publishes. With --procs P, P reader processes, forked
 *  before any thread or libherald object exists, each hold N/P of the
 *  connections under their own descriptor limit, and the first process
 *  publishes and keeps the clock; the publisher's counters and the
 *  measured window live in a shared mapping, and the readers' results are
 *  summed (the latency histograms bucket by bucket) into one result, as
 *  if one process had read them all. Events are messages of examples/chat's
 *  schema: id is the sequence number, text starts with the send time in
 *  nanoseconds (CLOCK_MONOTONIC) and is padded to the payload size.
 *  The subscription is
 *      subscription($c: String!) { messageAdded(channel: $c) { id text } }
 *  so any server with that schema (herald-edge, the Node peer) can be
 *  measured the same way. The result is one JSON line on stdout.
 *
 *  herald-loadgen --help lists the options.
 */
#define _GNU_SOURCE            //  memmem
#include "benchutil.h"
#include "herald.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_CHANNELS 100000
#define READ_CHUNK 65536
#define MAX_PROCS 64

enum { C_CONNECTING, C_TLS, C_UPGRADING, C_INIT, C_LIVE, C_DEAD };

typedef struct {
    int fd;
    SSL *ssl;               //  with wss://
    int state;
    int channel;
    char *buf;              //  unparsed input
    size_t len;
    size_t cap;
    uint64_t next_seq;      //  the sequence number expected next
    int started;
} conn_t;

//  Log-linear histogram: 16 sub-buckets per power of two (6% precision).
#define H_SUB 16
#define H_BUCKETS (64 * H_SUB)
typedef struct {
    uint64_t counts[H_BUCKETS];
    uint64_t n;
    uint64_t max;
} hist_t;

//  What one process measured; the coordinator sums them.
typedef struct {
    hist_t hist;
    uint64_t deliveries;
    uint64_t measured;      //  deliveries counted in the histogram
    uint64_t gaps;          //  events missing
    uint64_t reorders;
    uint64_t errors;        //  error messages, closes, failed connections
    uint64_t expected;      //  deliveries its live connections were owed
    uint64_t lost;
    uint64_t in_window;     //  deliveries read in the measured window
    uint64_t settled_ns;    //  when its last handshake ended
    int settled_live;       //  live then
    int settled_failed;     //  failed then
    int live;               //  live at the end
    int failed;
    int done;               //  its results are written
} part_t;

//  State every process sees: with --procs above 1 it is a shared mapping
//  made before the fork, so the publisher's counters and the measured
//  window reach the readers as they do threads.
enum { P_CONNECT, P_RUN, P_STOP };
typedef struct {
    atomic_uint_fast64_t published[MAX_CHANNELS];
    atomic_uint_fast64_t measure_from_ns;
    atomic_uint_fast64_t measure_until_ns;   //  when publishing ended
    atomic_int phase;       //  P_*: set by the coordinator
    atomic_int settled;     //  processes whose connect phase is over
    part_t parts[MAX_PROCS];
} shared_t;

typedef struct {
    //  options
    char host[64];
    int port;
    char path[128];
    int tls_wanted;         //  wss://
    SSL_CTX *tls;           //  wss://: the client context
    int connections;
    int channels;
    int sources;
    int procs;              //  processes sharing the connections
    const char *publish;    //  libherald ingress endpoint
    double rate;            //  events per second, all channels together
    double duration;        //  seconds of publishing
    double warmup;          //  seconds of publishing not measured
    double hold;            //  --hold: seconds of listening, with no --publish
    int payload;            //  bytes of text
    int concurrency;        //  handshakes in flight at once
    double settle;          //  seconds between subscribing and publishing
    double drain;           //  seconds to wait for the last deliveries
    double connect_timeout; //  seconds the connect phase may take
    const char *label;
    const char *init;       //  the connection_init message
    int server_pid;         //  --server-pid: whose CPU to sample too
    //  this process's slice of the connections: first .. first + count - 1
    int first;
    int count;
    conn_t *conns;
    int epfd;
    part_t *me;             //  its slot in sh->parts
    shared_t *sh;
    pid_t kids[MAX_PROCS];  //  the coordinator's children, with --procs above 1
    double cpu[2][2];       //  [self, server][from, until]: CPU seconds
} lg_t;

static lg_t G;

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

//  The parent of pid, from /proc, or -1.
static int
s_ppid (int pid)
{
    char buf[512];
    const char *p = bench_proc_stat (pid, buf, sizeof buf);
    int ppid;
    return p && sscanf (p, "%*c %d", &ppid) == 1 ? ppid : -1;
}

//  CPU seconds of root and every process descended from it (an edge with
//  --workers is a supervisor and its worker processes), or -1 if root's
//  cannot be read.
static double
s_tree_cpu_seconds (int root)
{
    int cap = 1024, n = 0, *pid = malloc ((size_t) cap * sizeof *pid);
    int *ppid = malloc ((size_t) cap * sizeof *ppid);
    DIR *d = opendir ("/proc");
    struct dirent *e;
    while (d && pid && ppid && n < cap && (e = readdir (d)))
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9') {
            pid[n] = atoi (e->d_name);
            ppid[n] = s_ppid (pid[n]);
            n++;
        }
    if (d)
        closedir (d);
    double total = bench_cpu_seconds (root);
    //  Descendants: mark them generation by generation (ppid -1: taken).
    int members[MAX_PROCS * 4] = { root }, count = 1;
    for (int i = 0; i < count; i++)
        for (int j = 0; j < n && count < (int) (sizeof members / sizeof *members); j++)
            if (ppid[j] == members[i]) {
                members[count++] = pid[j];
                ppid[j] = -1;
                double cpu = bench_cpu_seconds (pid[j]);
                if (cpu > 0 && total >= 0)
                    total += cpu;
            }
    free (pid);
    free (ppid);
    return total;
}

//  Marks the start (0) or end (1) of the measured window, with the CPU
//  used so far by every load generator process and by the server.
static void
s_mark (int which)
{
    double self = bench_cpu_seconds (0);
    for (int k = 0; k < G.procs && G.kids[k] > 0; k++)
        self += fmax (bench_cpu_seconds (G.kids[k]), 0);
    G.cpu[0][which] = self;
    G.cpu[1][which] = G.server_pid ? s_tree_cpu_seconds (G.server_pid) : -1;
    atomic_store (which ? &G.sh->measure_until_ns : &G.sh->measure_from_ns, s_now_ns ());
}

static void
s_hist_add (hist_t *h, uint64_t v)
{
    int idx;
    if (v < H_SUB)
        idx = (int) v;
    else {
        int msb = 63 - __builtin_clzll (v);
        int sub = (int) ((v >> (msb - 4)) & (H_SUB - 1));
        idx = (msb - 3) * H_SUB + sub;
    }
    if (idx >= H_BUCKETS)
        idx = H_BUCKETS - 1;
    h->counts[idx]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

//  The upper bound of a bucket, in the histogram's unit.
static uint64_t
s_hist_value (int idx)
{
    if (idx < H_SUB)
        return (uint64_t) idx;
    int msb = idx / H_SUB + 3;
    int sub = idx % H_SUB;
    return ((uint64_t) (H_SUB + sub + 1) << (msb - 4)) - 1;
}

static double
s_hist_pct (const hist_t *h, double p)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t) ceil (p / 100.0 * (double) h->n), seen = 0;
    for (int i = 0; i < H_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= want) {
            uint64_t v = s_hist_value (i);
            return (double) (v < h->max ? v : h->max);
        }
    }
    return (double) h->max;
}

//  ---------------------------------------------------------------------
//  WebSocket client framing (client frames are masked)

//  Sends or receives on a connection, through TLS if it has it. Returns
//  what send/recv would; TLS's "try again" is EAGAIN.
static ssize_t
s_io (conn_t *c, void *data, size_t len, int sending)
{
    if (!c->ssl)
        return sending ? send (c->fd, data, len, MSG_NOSIGNAL) : recv (c->fd, data, len, 0);
    int n = sending ? SSL_write (c->ssl, data, (int) len) : SSL_read (c->ssl, data, (int) len);
    if (n > 0)
        return n;
    int err = SSL_get_error (c->ssl, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (err == SSL_ERROR_ZERO_RETURN)
        return 0;
    errno = err == SSL_ERROR_SYSCALL && errno ? errno : EPROTO;
    return -1;
}

static int
s_send_all (conn_t *c, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = s_io (c, (void *) p, len, 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                //  Rare (small control messages): wait briefly for room.
                struct timespec ts = { 0, 100000 };
                nanosleep (&ts, NULL);
                continue;
            }
            return -1;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

static int
s_send_frame (conn_t *c, int opcode, const char *payload, size_t len)
{
    unsigned char frame[16 + 4096];
    if (len > 4096)
        return -1;
    size_t h = 0;
    frame[h++] = (unsigned char) (0x80 | opcode);
    if (len < 126)
        frame[h++] = (unsigned char) (0x80 | len);
    else {
        frame[h++] = 0x80 | 126;
        frame[h++] = (unsigned char) (len >> 8);
        frame[h++] = (unsigned char) len;
    }
    uint32_t key = (uint32_t) rand ();
    unsigned char mask[4];
    memcpy (mask, &key, 4);
    memcpy (frame + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        frame[h + i] = (unsigned char) payload[i] ^ mask[i & 3];
    return s_send_all (c, frame, h + len);
}

static int
s_send_text (conn_t *c, const char *text)
{
    return s_send_frame (c, 0x1, text, strlen (text));
}

//  ---------------------------------------------------------------------
//  Connections

static void
s_conn_fail (conn_t *c, const char *why)
{
    if (c->state == C_DEAD)
        return;
    if (c->state == C_LIVE)
        G.me->live--;
    if (G.me->failed < 5)
        fprintf (stderr, "loadgen: connection %d: %s\n", G.first + (int) (c - G.conns), why);
    G.me->failed++;
    G.me->errors++;
    c->state = C_DEAD;
    epoll_ctl (G.epfd, EPOLL_CTL_DEL, c->fd, NULL);
    SSL_free (c->ssl);
    c->ssl = NULL;
    close (c->fd);
    free (c->buf);
    c->buf = NULL;
}

static int
s_conn_open (int i)
{
    conn_t *c = &G.conns[i];
    memset (c, 0, sizeof *c);
    int global = G.first + i;
    c->channel = global % G.channels;
    c->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    //  Spread the source addresses: 127.0.0.2 and up.
    struct sockaddr_in src = { .sin_family = AF_INET };
    src.sin_addr.s_addr = htonl (0x7f000002u + (uint32_t) (global % G.sources));
    if (bind (c->fd, (struct sockaddr *) &src, sizeof src) != 0) {
        close (c->fd);
        return -1;
    }
    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) G.port) };
    inet_pton (AF_INET, G.host, &dst.sin_addr);
    if (connect (c->fd, (struct sockaddr *) &dst, sizeof dst) != 0 && errno != EINPROGRESS) {
        close (c->fd);
        return -1;
    }
    c->state = C_CONNECTING;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t) i };
    epoll_ctl (G.epfd, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

static void
s_conn_connected (conn_t *c, int i)
{
    char req[512];
    snprintf (req, sizeof req,
              "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
              "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
              G.path, G.host, G.port);
    if (s_send_all (c, req, strlen (req)) != 0) {
        s_conn_fail (c, "cannot send the upgrade");
        return;
    }
    c->state = C_UPGRADING;
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t) i };
    epoll_ctl (G.epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

//  Drives the TLS handshake; once it is done, sends the upgrade.
static void
s_conn_tls (conn_t *c, int i)
{
    if (!c->ssl) {
        c->ssl = SSL_new (G.tls);
        if (!c->ssl || SSL_set_fd (c->ssl, c->fd) != 1) {
            s_conn_fail (c, "cannot set up TLS");
            return;
        }
        //  A name, not an address, goes in the handshake (SNI).
        struct in_addr addr;
        if (inet_pton (AF_INET, G.host, &addr) != 1)
            SSL_set_tlsext_host_name (c->ssl, G.host);
        SSL_set_connect_state (c->ssl);
        c->state = C_TLS;
    }
    int n = SSL_do_handshake (c->ssl);
    if (n == 1) {
        s_conn_connected (c, i);
        return;
    }
    int err = SSL_get_error (c->ssl, n);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        char why[160];
        snprintf (why, sizeof why, "TLS handshake failed: %s",
                  ERR_reason_error_string (ERR_get_error ()) ?: "connection closed");
        s_conn_fail (c, why);
        return;
    }
    struct epoll_event ev = { .events = err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT,
                              .data.u32 = (uint32_t) i };
    epoll_ctl (G.epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

//  Reads a decimal number at p; returns the value and advances *p.
static uint64_t
s_number (const char **p, const char *end)
{
    uint64_t v = 0;
    while (*p < end && **p >= '0' && **p <= '9')
        v = v * 10 + (uint64_t) (*(*p)++ - '0');
    return v;
}

static void
s_on_next (conn_t *c, const char *msg, size_t len, uint64_t now)
{
    static const char id_key[] = "\"id\":\"";
    static const char text_key[] = "\"text\":\"";
    const char *end = msg + len;
    //  The message's own "id" (the operation) comes first; the event's
    //  id is inside the payload.
    const char *payload = memmem (msg, len, "\"payload\"", 9);
    const char *p = payload ? memmem (payload, (size_t) (end - payload), id_key, sizeof id_key - 1) : NULL;
    const char *t = p ? memmem (p, (size_t) (end - p), text_key, sizeof text_key - 1) : NULL;
    if (!t) {
        G.me->errors++;
        return;
    }
    p += sizeof id_key - 1;
    t += sizeof text_key - 1;
    uint64_t seq = s_number (&p, end);
    uint64_t sent = s_number (&t, end);
    G.me->deliveries++;
    if (!c->started) {
        c->started = 1;
        c->next_seq = seq;      //  subscribed mid-stream: start here
    }
    if (seq > c->next_seq)
        G.me->gaps += seq - c->next_seq;
    else if (seq < c->next_seq)
        G.me->reorders++;
    if (seq >= c->next_seq)
        c->next_seq = seq + 1;
    if (sent >= atomic_load (&G.sh->measure_from_ns) && now >= sent) {
        s_hist_add (&G.me->hist, (now - sent) / 1000);     //  microseconds
        G.me->measured++;
    }
    uint64_t from = atomic_load (&G.sh->measure_from_ns);
    if (from && now >= from && !atomic_load (&G.sh->measure_until_ns))
        G.me->in_window++;
}

static void
s_on_text (conn_t *c, const char *msg, size_t len, uint64_t now)
{
    if (len > 20 && memmem (msg, len < 48 ? len : 48, "\"next\"", 6)) {
        s_on_next (c, msg, len, now);
        return;
    }
    if (memmem (msg, len, "\"connection_ack\"", 16)) {
        char sub[512];
        snprintf (sub, sizeof sub,
                  "{\"type\":\"subscribe\",\"id\":\"1\",\"payload\":{\"query\":"
                  "\"subscription($c: String!) { messageAdded(channel: $c) { id text } }\","
                  "\"variables\":{\"c\":\"b%d\"}}}",
                  c->channel);
        if (s_send_text (c, sub) != 0)
            s_conn_fail (c, "cannot subscribe");
        else {
            c->state = C_LIVE;
            G.me->live++;
        }
        return;
    }
    if (memmem (msg, len, "\"ping\"", 6)) {
        s_send_text (c, "{\"type\":\"pong\"}");
        return;
    }
    if (memmem (msg, len, "\"error\"", 7) || memmem (msg, len, "\"complete\"", 10)) {
        G.me->errors++;
        if (G.me->errors < 5)
            fprintf (stderr, "loadgen: %.*s\n", (int) (len < 300 ? len : 300), msg);
    }
}

//  Parses whole frames from the buffer; returns bytes consumed.
static size_t
s_parse (conn_t *c, uint64_t now)
{
    size_t pos = 0;
    while (c->len - pos >= 2) {
        const unsigned char *b = (const unsigned char *) c->buf + pos;
        int opcode = b[0] & 0x0f;
        uint64_t n = b[1] & 0x7f;
        size_t h = 2;
        if (n == 126) {
            if (c->len - pos < 4)
                break;
            n = (uint64_t) b[2] << 8 | b[3];
            h = 4;
        }
        else if (n == 127) {
            if (c->len - pos < 10)
                break;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | b[2 + i];
            h = 10;
        }
        if (c->len - pos - h < n)
            break;
        const char *payload = c->buf + pos + h;
        if (opcode == 0x1)
            s_on_text (c, payload, (size_t) n, now);
        else if (opcode == 0x9)
            s_send_frame (c, 0xA, payload, (size_t) n);     //  pong
        else if (opcode == 0x8) {
            char why[160];
            int code = n >= 2 ? ((unsigned char) payload[0] << 8 | (unsigned char) payload[1]) : 0;
            snprintf (why, sizeof why, "closed by the server (%d %.*s)", code,
                      (int) (n > 2 ? (n - 2 < 100 ? n - 2 : 100) : 0), payload + 2);
            s_conn_fail (c, why);
            return 0;
        }
        pos += h + (size_t) n;
    }
    return pos;
}

static void
s_on_readable (conn_t *c, uint64_t now)
{
    for (int rounds = 0; rounds < (c->ssl ? 16 : 4); rounds++) {
        if (c->cap - c->len < READ_CHUNK) {
            size_t cap = c->len + READ_CHUNK;
            char *buf = realloc (c->buf, cap);
            if (!buf) {
                s_conn_fail (c, "out of memory");
                return;
            }
            c->buf = buf;
            c->cap = cap;
        }
        ssize_t n = s_io (c, c->buf + c->len, c->cap - c->len, 0);
        if (n == 0) {
            s_conn_fail (c, "the server closed the connection");
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                s_conn_fail (c, strerror (errno));
            return;
        }
        c->len += (size_t) n;
        if (c->state == C_UPGRADING) {
            char *eoh = memmem (c->buf, c->len, "\r\n\r\n", 4);
            if (!eoh)
                continue;
            if (c->len < 12 || memcmp (c->buf + 9, "101", 3) != 0) {
                s_conn_fail (c, "the upgrade was refused");
                return;
            }
            size_t used = (size_t) (eoh + 4 - c->buf);
            memmove (c->buf, c->buf + used, c->len - used);
            c->len -= used;
            c->state = C_INIT;
            if (s_send_text (c, G.init) != 0) {
                s_conn_fail (c, "cannot send connection_init");
                return;
            }
        }
        size_t used = s_parse (c, now);
        if (c->state == C_DEAD)
            return;
        if (used) {
            memmove (c->buf, c->buf + used, c->len - used);
            c->len -= used;
        }
        //  Idle connections keep no buffer.
        if (c->len == 0 && c->cap > READ_CHUNK * 2) {
            free (c->buf);
            c->buf = NULL;
            c->cap = 0;
        }
        //  A short read emptied the socket; TLS reads one record (at
        //  most 16 KiB) at a time, so it reads until told to wait.
        if ((size_t) n < READ_CHUNK && !c->ssl)
            return;
    }
}

//  Runs the event loop until deadline_ns, or until done() says stop.
static void
s_loop (uint64_t deadline_ns, int (*done) (void))
{
    struct epoll_event evs[512];
    while (s_now_ns () < deadline_ns && !(done && done ())) {
        int n = epoll_wait (G.epfd, evs, 512, 10);
        uint64_t now = s_now_ns ();
        for (int k = 0; k < n; k++) {
            conn_t *c = &G.conns[evs[k].data.u32];
            if (c->state == C_DEAD)
                continue;
            if (c->state == C_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) {
                    s_conn_fail (c, strerror (err));
                    continue;
                }
                if (G.tls)
                    s_conn_tls (c, (int) evs[k].data.u32);
                else
                    s_conn_connected (c, (int) evs[k].data.u32);
                continue;
            }
            if (c->state == C_TLS) {
                s_conn_tls (c, (int) evs[k].data.u32);
                continue;
            }
            if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                s_on_readable (c, now);
        }
    }
}

//  ---------------------------------------------------------------------
//  The coordinator: it publishes, and keeps the run's clock

static double s_publish_s;     //  how long publishing took

//  Publishes --rate events a second for --duration seconds, marking the
//  measured window after --warmup.
static void
s_publish (void)
{
    int err;
    herald_publisher_t *pub = herald_publisher_new (G.publish, &err);
    if (!pub) {
        fprintf (stderr, "loadgen: publisher: %s\n", herald_errmsg ());
        exit (1);
    }
    herald_publisher_set_option (pub, HERALD_OPT_SEND_TIMEOUT_MS, -1);
    char *pad = malloc ((size_t) G.payload + 1);
    memset (pad, 'x', (size_t) G.payload);
    pad[G.payload] = 0;
    char *json = malloc ((size_t) G.payload + 128);
    uint64_t start = s_now_ns ();
    uint64_t total = (uint64_t) (G.rate * G.duration);
    uint64_t measure_after = (uint64_t) (G.rate * G.warmup);
    for (uint64_t i = 0; i < total; i++) {
        //  Keep to the rate: event i is due at start + i / rate.
        uint64_t due = start + (uint64_t) ((double) i * 1e9 / G.rate);
        uint64_t now = s_now_ns ();
        if (now < due) {
            uint64_t wait = due - now;
            struct timespec ts = { (time_t) (wait / 1000000000u), (long) (wait % 1000000000u) };
            nanosleep (&ts, NULL);
        }
        if (i == measure_after)
            s_mark (0);
        int ch = (int) (i % (uint64_t) G.channels);
        uint64_t seq = atomic_fetch_add (&G.sh->published[ch], 1);
        char topic[32];
        snprintf (topic, sizeof topic, "chat.b%d", ch);
        //  text: the send time in ns, then padding to the payload size.
        int n = snprintf (json, (size_t) G.payload + 128, "{\"id\":\"%llu\",\"text\":\"%llu %.*s\"}",
                          (unsigned long long) seq, (unsigned long long) s_now_ns (),
                          G.payload > 24 ? G.payload - 24 : 1, pad);
        if (herald_publish_json (pub, topic, json, (size_t) n) != HERALD_OK) {
            fprintf (stderr, "loadgen: publish: %s\n", herald_errmsg ());
            break;
        }
    }
    s_mark (1);
    s_publish_s = (double) (s_now_ns () - start) / 1e9;
    herald_publisher_destroy (&pub);
    free (pad);
    free (json);
}

static void
s_sleep_until (uint64_t when_ns)
{
    uint64_t now;
    while ((now = s_now_ns ()) < when_ns) {
        uint64_t wait = when_ns - now;
        struct timespec ts = { (time_t) (wait / 1000000000u), (long) (wait % 1000000000u) };
        nanosleep (&ts, NULL);
    }
}

//  With --procs above 1: has a reader process ended before its time?
static int
s_kid_lost (void)
{
    int status;
    pid_t pid = waitpid (-1, &status, WNOHANG);
    if (pid <= 0)
        return 0;
    for (int k = 0; k < G.procs; k++)
        if (G.kids[k] == pid) {
            G.kids[k] = -1;
            fprintf (stderr, "loadgen: reader process %d ended early (status %d)\n", k, status);
        }
    return 1;
}

//  Waits until every process has opened its connections, says so on
//  stderr (the benchmark's idle-memory run waits for that line), then
//  publishes or holds, and stops the readers.
static int
s_coordinate (uint64_t t0)
{
    while (atomic_load (&G.sh->settled) < G.procs) {
        if (G.procs > 1 && s_kid_lost ())
            return 1;
        s_sleep_until (s_now_ns () + 2000000);
    }
    int live = 0, failed = 0;
    uint64_t end = t0;
    for (int k = 0; k < G.procs; k++) {
        live += G.sh->parts[k].settled_live;
        failed += G.sh->parts[k].settled_failed;
        if (G.sh->parts[k].settled_ns > end)
            end = G.sh->parts[k].settled_ns;
    }
    fprintf (stderr, "loadgen: %d connected and subscribed in %.3f s (%d failed)\n", live,
             (double) (end - t0) / 1e9, failed);
    if (G.publish) {
        s_sleep_until (s_now_ns () + (uint64_t) (G.settle * 1e9));
        atomic_store (&G.sh->phase, P_RUN);
        s_publish ();
    }
    else if (G.hold > 0) {
        //  Whatever the server sends on its own is measured after the
        //  warm-up, as if published (trivial.mjs streams this way).
        atomic_store (&G.sh->phase, P_RUN);
        uint64_t stop = s_now_ns () + (uint64_t) (G.hold * 1e9);
        uint64_t from = s_now_ns () + (uint64_t) (G.warmup * 1e9);
        if (from < stop) {
            s_sleep_until (from);
            s_mark (0);
        }
        s_sleep_until (stop);
        s_mark (1);
    }
    atomic_store (&G.sh->phase, P_STOP);
    return 0;
}

static uint64_t s_t0;          //  when the connect phase began

static void *
s_coordinator_thread (void *arg)
{
    (void) arg;
    s_coordinate (s_t0);
    return NULL;
}

//  ---------------------------------------------------------------------
//  A reader: one process's slice of the connections

static int
s_all_settled (void)
{
    return G.me->live + G.me->failed >= G.count;
}

static int
s_stopped (void)
{
    return atomic_load (&G.sh->phase) == P_STOP;
}

//  Opens connections first .. first + count - 1 of the --connections, at
//  most its share of --concurrency handshakes at a time, and reads them
//  until the coordinator stops the run; then waits up to --drain seconds
//  for the deliveries still owed. With one process the coordinator runs
//  as a thread of this one, started once the connections are open.
static int
s_reader (int k)
{
    G.first = (int) ((long long) G.connections * k / G.procs);
    G.count = (int) ((long long) G.connections * (k + 1) / G.procs) - G.first;
    G.me = &G.sh->parts[k];
    if (G.tls_wanted && !(G.tls = SSL_CTX_new (TLS_client_method ()))) {
        fprintf (stderr, "loadgen: cannot set up TLS\n");
        return 1;
    }
    G.conns = calloc ((size_t) G.count, sizeof *G.conns);
    G.epfd = epoll_create1 (0);
    if (!G.conns || G.epfd < 0)
        return 1;
    int concurrency = (G.concurrency + G.procs - 1) / G.procs;
    int opened = 0;
    while (!s_all_settled ()) {
        while (opened < G.count && opened - G.me->live - G.me->failed < concurrency) {
            if (s_conn_open (opened) != 0) {
                G.me->failed++;
                G.me->errors++;
            }
            opened++;
        }
        s_loop (s_now_ns () + 5000000, s_all_settled);
        if (s_now_ns () - s_t0 > (uint64_t) (G.connect_timeout * 1e9)) {
            fprintf (stderr, "loadgen: connecting took over %.0f s\n", G.connect_timeout);
            for (int i = 0; i < opened; i++)
                if (G.conns[i].state != C_LIVE)
                    s_conn_fail (&G.conns[i], "not open in time");
            G.me->failed += G.count - opened;
            G.me->errors += (uint64_t) (G.count - opened);
            break;
        }
    }
    G.me->settled_ns = s_now_ns ();
    G.me->settled_live = G.me->live;
    G.me->settled_failed = G.me->failed;
    atomic_fetch_add (&G.sh->settled, 1);

    pthread_t coordinator;
    if (G.procs == 1)
        pthread_create (&coordinator, NULL, s_coordinator_thread, NULL);
    while (!s_stopped ())
        s_loop (s_now_ns () + 50000000, s_stopped);
    if (G.procs == 1)
        pthread_join (coordinator, NULL);
    if (G.publish) {
        //  Let the last deliveries arrive.
        for (int i = 0; i < G.count; i++)
            if (G.conns[i].state == C_LIVE)
                G.me->expected += atomic_load (&G.sh->published[G.conns[i].channel]);
        uint64_t until = s_now_ns () + (uint64_t) (G.drain * 1e9);
        while (G.me->deliveries < G.me->expected && s_now_ns () < until)
            s_loop (s_now_ns () + 10000000, NULL);
    }
    //  Deliveries still missing at the end are lost too.
    G.me->lost = G.me->expected > G.me->deliveries ? G.me->expected - G.me->deliveries : 0;
    for (int i = 0; i < G.count; i++)
        if (G.conns[i].state != C_DEAD && G.conns[i].fd > 0) {
            SSL_free (G.conns[i].ssl);
            close (G.conns[i].fd);
            free (G.conns[i].buf);
        }
    free (G.conns);
    SSL_CTX_free (G.tls);
    close (G.epfd);
    G.me->done = 1;
    return 0;
}

//  Forks the readers (before any thread or libherald object exists),
//  coordinates the run from this process, and waits for them all.
static int
s_run_procs (void)
{
    pid_t parent = getpid ();
    fflush (NULL);
    for (int k = 0; k < G.procs; k++) {
        pid_t pid = fork ();
        if (pid == 0) {
            //  A reader never outlives the coordinator (the benchmark
            //  kills it with SIGKILL after an idle-memory run).
            prctl (PR_SET_PDEATHSIG, SIGKILL);
            if (getppid () != parent)
                _exit (1);
            memset (G.kids, 0, sizeof G.kids);
            _exit (s_reader (k));
        }
        if (pid < 0) {
            perror ("loadgen: fork");
            return 1;
        }
        G.kids[k] = pid;
    }
    int rc = s_coordinate (s_t0);
    for (int k = 0; k < G.procs; k++) {
        if (G.kids[k] <= 0)
            continue;
        if (rc != 0)
            kill (G.kids[k], SIGKILL);
        int status;
        if (waitpid (G.kids[k], &status, 0) == G.kids[k]
            && (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || !G.sh->parts[k].done)) {
            fprintf (stderr, "loadgen: reader process %d failed (status %d)\n", k, status);
            rc = 1;
        }
    }
    return rc;
}

//  Sums the readers' parts, bucket by bucket for the latency, and prints
//  the result as one JSON line.
static void
s_report (void)
{
    part_t sum = { 0 };
    uint64_t end = s_t0;
    for (int k = 0; k < G.procs; k++) {
        const part_t *p = &G.sh->parts[k];
        for (int i = 0; i < H_BUCKETS; i++)
            sum.hist.counts[i] += p->hist.counts[i];
        sum.hist.n += p->hist.n;
        if (p->hist.max > sum.hist.max)
            sum.hist.max = p->hist.max;
        sum.deliveries += p->deliveries;
        sum.measured += p->measured;
        sum.gaps += p->gaps;
        sum.reorders += p->reorders;
        sum.errors += p->errors;
        sum.expected += p->expected;
        sum.lost += p->lost;
        sum.in_window += p->in_window;
        sum.settled_live += p->settled_live;
        sum.live += p->live;
        sum.failed += p->failed;
        if (p->settled_ns > end)
            end = p->settled_ns;
    }
    uint64_t published = 0;
    for (int ch = 0; ch < G.channels; ch++)
        published += atomic_load (&G.sh->published[ch]);
    //  The connect rate is over the whole connect phase, every process's.
    double connect_s = (double) (end - s_t0) / 1e9;
    uint64_t from = atomic_load (&G.sh->measure_from_ns);
    uint64_t until_ns = atomic_load (&G.sh->measure_until_ns);
    double span = from && until_ns > from ? (double) (until_ns - from) / 1e9 : 0;
    printf ("{\"label\":\"%s\",\"procs\":%d,\"connections\":%d,\"live\":%d,\"failed\":%d,\"channels\":%d,"
            "\"connect_seconds\":%.3f,\"connects_per_s\":%.0f,"
            "\"rate\":%.0f,\"published\":%llu,\"publish_seconds\":%.3f,"
            "\"expected\":%llu,\"deliveries\":%llu,\"lost\":%llu,\"gaps\":%llu,\"reorders\":%llu,"
            "\"errors\":%llu,\"measured\":%llu,\"delivered_per_s\":%.0f,"
            "\"cpu_percent\":{\"loadgen\":%.0f,\"server\":%.0f},"
            "\"latency_us\":{\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"p999\":%.0f,\"max\":%llu}}\n",
            G.label, G.procs, G.connections, sum.live, sum.failed, G.channels, connect_s,
            connect_s > 0 ? sum.settled_live / connect_s : 0, G.rate,
            (unsigned long long) published, s_publish_s, (unsigned long long) sum.expected,
            (unsigned long long) sum.deliveries, (unsigned long long) sum.lost,
            (unsigned long long) sum.gaps, (unsigned long long) sum.reorders,
            (unsigned long long) sum.errors, (unsigned long long) sum.measured,
            span > 0 ? (double) sum.in_window / span : 0,
            span > 0 ? 100 * (G.cpu[0][1] - G.cpu[0][0]) / span : 0,
            span > 0 && G.cpu[1][0] >= 0 && G.cpu[1][1] >= 0 ? 100 * (G.cpu[1][1] - G.cpu[1][0]) / span : -1,
            s_hist_pct (&sum.hist, 50), s_hist_pct (&sum.hist, 90), s_hist_pct (&sum.hist, 99),
            s_hist_pct (&sum.hist, 99.9), (unsigned long long) sum.hist.max);
}

static void
s_usage (FILE *f)
{
    fprintf (f,
        "Usage: herald-loadgen [OPTIONS]\n"
        "\n"
        "Connect N graphql-transport-ws clients to a server, subscribe them to T\n"
        "channels of examples/chat's messageAdded, publish through a Herald broker at\n"
        "a fixed rate, and report deliveries, loss, reordering and latency as JSON.\n"
        "\n"
        "  --url URL            ws://HOST:PORT/PATH, or wss:// for TLS (the\n"
        "                       certificate is not checked) (ws://127.0.0.1:8080/graphql)\n"
        "  --connections N      clients (1000)\n"
        "  --channels T         channels, spread evenly over the clients (1)\n"
        "  --procs P            reader processes, each holding N/P of the clients (each\n"
        "                       has its own descriptor limit); the results are summed (1)\n"
        "  --sources S          source addresses 127.0.0.2.. to spread over (16)\n"
        "  --concurrency C      handshakes in flight at once, all processes (500)\n"
        "  --publish EP         broker ingress to publish to (none: connect only)\n"
        "  --rate R             events per second, all channels together (100)\n"
        "  --duration S         seconds of publishing (5)\n"
        "  --warmup S           first seconds of publishing not measured (1)\n"
        "  --payload B          bytes of text per event (100)\n"
        "  --settle S           seconds between subscribing and publishing (1)\n"
        "  --drain S            seconds to wait for deliveries after publishing (2)\n"
        "  --connect-timeout S  seconds the connect phase may take; the connections not\n"
        "                       open by then count as failed (120)\n"
        "  --hold S             with no --publish: keep the connections open S seconds,\n"
        "                       measuring what the server sends after --warmup\n"
        "                       (against tests/bench/trivial.mjs: this tool's ceiling)\n"
        "  --token JWT          send this token in every connection_init payload\n"
        "  --label TEXT         a label for the JSON result\n"
        "  --server-pid PID     also report the CPU use of the server (and of every\n"
        "                       process under it) while measuring\n");
}

int
main (int argc, char **argv)
{
    const char *url = "ws://127.0.0.1:8080/graphql";
    const char *token = NULL;
    G.connections = 1000;
    G.channels = 1;
    G.sources = 16;
    G.procs = 1;
    G.concurrency = 500;
    G.rate = 100;
    G.duration = 5;
    G.warmup = 1;
    G.payload = 100;
    G.settle = 1;
    G.drain = 2;
    G.connect_timeout = 120;
    G.label = "";
    static const struct option opts[] = {
        { "url", 1, NULL, 'u' }, { "connections", 1, NULL, 'n' }, { "channels", 1, NULL, 't' },
        { "sources", 1, NULL, 's' }, { "concurrency", 1, NULL, 'c' }, { "publish", 1, NULL, 'p' },
        { "rate", 1, NULL, 'r' }, { "duration", 1, NULL, 'd' }, { "warmup", 1, NULL, 'w' },
        { "payload", 1, NULL, 'b' }, { "settle", 1, NULL, 'S' }, { "drain", 1, NULL, 'D' },
        { "hold", 1, NULL, 'H' }, { "label", 1, NULL, 'l' }, { "token", 1, NULL, 'T' },
        { "server-pid", 1, NULL, 'P' }, { "procs", 1, NULL, 'j' },
        { "connect-timeout", 1, NULL, 'C' }, { "help", 0, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int o;
    while ((o = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
            case 'u': url = optarg; break;
            case 'n': G.connections = atoi (optarg); break;
            case 't': G.channels = atoi (optarg); break;
            case 's': G.sources = atoi (optarg); break;
            case 'c': G.concurrency = atoi (optarg); break;
            case 'p': G.publish = optarg; break;
            case 'r': G.rate = atof (optarg); break;
            case 'd': G.duration = atof (optarg); break;
            case 'w': G.warmup = atof (optarg); break;
            case 'b': G.payload = atoi (optarg); break;
            case 'S': G.settle = atof (optarg); break;
            case 'D': G.drain = atof (optarg); break;
            case 'H': G.hold = atof (optarg); break;
            case 'l': G.label = optarg; break;
            case 'T': token = optarg; break;
            case 'P': G.server_pid = atoi (optarg); break;
            case 'j': G.procs = atoi (optarg); break;
            case 'C': G.connect_timeout = atof (optarg); break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    //  A token is base64url and dots: it needs no JSON escaping.
    static char init[8192] = "{\"type\":\"connection_init\"}";
    if (token && snprintf (init, sizeof init,
                           "{\"type\":\"connection_init\",\"payload\":{\"token\":\"%s\"}}", token)
                     >= (int) sizeof init) {
        fprintf (stderr, "loadgen: the token is too long\n");
        return 2;
    }
    G.init = init;
    G.tls_wanted = strncmp (url, "wss://", 6) == 0;
    size_t scheme = G.tls_wanted ? 6 : strncmp (url, "ws://", 5) == 0 ? 5 : 0;
    if (!scheme || sscanf (url + scheme, "%63[^:]:%d%127s", G.host, &G.port, G.path) != 3
        || G.connections < 1 || G.procs < 1 || G.procs > MAX_PROCS || G.procs > G.connections
        || G.channels < 1 || G.channels > MAX_CHANNELS || G.channels > G.connections
        || G.concurrency < 1 || G.connect_timeout <= 0
        || G.sources < 1 || G.sources > 250 || G.rate <= 0 || G.payload < 30 || G.payload > 3000) {
        fprintf (stderr, "loadgen: bad arguments (try --help)\n");
        return 2;
    }
    signal (SIGPIPE, SIG_IGN);
    //  Each process holds its share of the connections under its own
    //  descriptor limit.
    struct rlimit rl;
    getrlimit (RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
    int share = (G.connections + G.procs - 1) / G.procs;
    if ((rlim_t) share + 64 > rl.rlim_cur) {
        fprintf (stderr, "loadgen: %d connections in %d process(es) need more descriptors each than"
                 " the limit (%llu): raise --procs\n",
                 G.connections, G.procs, (unsigned long long) rl.rlim_cur);
        return 2;
    }
    G.sh = mmap (NULL, sizeof *G.sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (G.sh == MAP_FAILED) {
        perror ("loadgen: mmap");
        return 1;
    }
    atomic_store (&G.sh->measure_from_ns, UINT64_MAX);
    s_t0 = s_now_ns ();
    int rc = G.procs == 1 ? s_reader (0) : s_run_procs ();
    if (rc == 0)
        s_report ();
    munmap (G.sh, sizeof *G.sh);
    return rc;
}
