/*  supervisor.c: herald-edge's first process, which serves nothing
 *  itself: it prepares once (the schema, the keys, the checks), opens a
 *  listening socket per worker on the one port (net/listen.c), maps what
 *  the workers share (net/shm.h), then forks --workers workers, before
 *  any thread, ZeroMQ context or lws context exists, so that each worker
 *  makes its own. It then waits for signals:
 *
 *    SIGCHLD   a worker died: logged, its counts retired, and started again
 *              (at once if it had served S_STABLE_MS, else after a delay
 *              that doubles, S_DELAY_MIN_MS to S_DELAY_MAX_MS, so that a
 *              worker that keeps crashing costs little);
 *    SIGHUP    the key files read again, here (for workers started later)
 *              and then in every worker;
 *    SIGTERM,  every worker drains (its WebSockets closed 1001 "going
 *    SIGINT    away") and exits; the supervisor then exits 0.
 *
 *  Signals are taken from a signalfd, so nothing here runs in a signal
 *  handler, and the workers inherit no handler of ours.
 */
#define _GNU_SOURCE             //  pipe2
#include "auth.h"
#include "edge.h"
#include "gql.h"
#include "listen.h"
#include "log.h"
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_STABLE_MS 10000
#define S_DELAY_MIN_MS 100
#define S_DELAY_MAX_MS 10000
//  Past this delay, a dead worker's socket is closed, so that new
//  connections go to the workers that serve rather than wait for it.
#define S_CLOSE_SOCKET_MS 1000
//  How long after --close-timeout a worker that does not stop is killed.
#define S_STOP_GRACE_MS 5000

typedef struct {
    pid_t pid;                  //  0: not running
    int listen_fd;              //  the supervisor's copy, or -1
    int ready;
    int64_t started;            //  ms
    int64_t restart_at;         //  ms; 0: not waiting
    int quick_deaths;           //  in a row, each before S_STABLE_MS
} s_worker_t;

typedef struct {
    const edge_config_t *cfg;
    shm_t *shm;
    gql_schema_t *schema;
    auth_keys_t *keys;
    int per_worker;
    int port;                   //  the port bound
    int sigfd;
    int ready_pipe[2];
    int serving;                //  every worker has been ready once
    int stopping;
    int64_t stop_deadline;
    int status;                 //  the exit status
    s_worker_t w[SHM_MAX_WORKERS];
} s_sup_t;

static int64_t
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  In the child: what the worker must not keep of the supervisor's, then
//  serve. Never returns.
static void
s_worker_main (s_sup_t *sup, int i, pid_t parent)
{
    char tag[32];
    snprintf (tag, sizeof tag, "worker %d", i);
    hlog_set_tag (tag);
    //  A supervisor that is killed takes its workers with it: they drain
    //  as at SIGTERM.
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    if (getppid () != parent)
        exit (0);
    close (sup->sigfd);
    close (sup->ready_pipe[0]);
    for (int j = 0; j < sup->cfg->workers; j++)
        if (j != i && sup->w[j].listen_fd >= 0)
            close (sup->w[j].listen_fd);
    edge_worker_t worker = { .index = i, .listen_fd = sup->w[i].listen_fd,
                             .ready_fd = sup->ready_pipe[1],
                             .max_connections = sup->per_worker, .shm = sup->shm,
                             .schema = sup->schema, .keys = sup->keys };
    int status = edge_serve (sup->cfg, &worker);
    gql_schema_destroy (&worker.schema);
    auth_keys_destroy (&worker.keys);
    close (sup->ready_pipe[1]);
    exit (status);
}

//  Forks worker i. Returns 0, or -1 (logged).
static int
s_spawn (s_sup_t *sup, int i)
{
    s_worker_t *w = &sup->w[i];
    if (w->listen_fd < 0) {
        int port;
        if ((w->listen_fd = listen_open (sup->cfg->host, sup->port, &port)) < 0)
            return -1;
    }
    shm_slot_start (sup->shm, i);
    fflush (NULL);
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0) {
        hlog_error ("cannot start worker %d: %s", i, strerror (errno));
        return -1;
    }
    if (pid == 0)
        s_worker_main (sup, i, parent);
    hlog_info ("worker %d started (pid %d)", i, (int) pid);
    w->pid = pid;
    w->ready = 0;
    w->started = s_now ();
    w->restart_at = 0;
    atomic_store (&sup->shm->slots[i].pid, (int) pid);
    return 0;
}

static void
s_signal_workers (s_sup_t *sup, int sig)
{
    for (int i = 0; i < sup->cfg->workers; i++)
        if (sup->w[i].pid > 0)
            kill (sup->w[i].pid, sig);
}

static int
s_running (const s_sup_t *sup)
{
    int n = 0;
    for (int i = 0; i < sup->cfg->workers; i++)
        n += sup->w[i].pid > 0;
    return n;
}

//  SIGTERM, SIGINT, or a start that failed: new connections are refused
//  (every copy of the sockets closes once the workers close theirs), and
//  the workers drain.
static void
s_stop (s_sup_t *sup, int status)
{
    if (sup->stopping)
        return;
    sup->stopping = 1;
    if (status > sup->status)
        sup->status = status;
    for (int i = 0; i < sup->cfg->workers; i++)
        if (sup->w[i].listen_fd >= 0) {
            close (sup->w[i].listen_fd);
            sup->w[i].listen_fd = -1;
        }
    s_signal_workers (sup, SIGTERM);
    sup->stop_deadline = s_now () + (int64_t) sup->cfg->close_timeout_s * 1000
                         + S_STOP_GRACE_MS;
}

//  SIGHUP: the supervisor reads the files first, so that it can count and
//  log the reload once for the edge, and so that a worker started later
//  starts with the keys in force; then every worker reads them.
static void
s_reload (s_sup_t *sup)
{
    char why[512];
    auth_keys_t *keys = edge_load_keys (sup->cfg, why, sizeof why);
    if (!keys) {
        atomic_fetch_add (&sup->shm->reloads_failed, 1);
        hlog_warn ("SIGHUP: keeping the %zu keys in use: %s", auth_keys_count (sup->keys), why);
    }
    else {
        auth_keys_destroy (&sup->keys);
        sup->keys = keys;
        atomic_store (&sup->shm->keys, auth_keys_count (keys));
        hlog_info ("SIGHUP: %zu keys loaded from %d files", auth_keys_count (keys),
                   sup->cfg->jwt_keys.n + sup->cfg->jwt_secrets.n);
    }
    atomic_fetch_add (&sup->shm->reload_gen, 1);
    s_signal_workers (sup, SIGHUP);
}

//  What became of a worker, in words.
static void
s_describe (int status, char *text, size_t len)
{
    if (WIFEXITED (status))
        snprintf (text, len, "exited with status %d", WEXITSTATUS (status));
    else if (WIFSIGNALED (status))
        snprintf (text, len, "was killed by signal %d (%s)%s", WTERMSIG (status),
                  strsignal (WTERMSIG (status)), WCOREDUMP (status) ? ", core dumped" : "");
    else
        snprintf (text, len, "stopped (status %d)", status);
}

//  Worker i has exited with status: retired, and started again (now, or
//  later), unless the edge is stopping or never started.
static void
s_reaped (s_sup_t *sup, int i, int status)
{
    s_worker_t *w = &sup->w[i];
    char what[128];
    s_describe (status, what, sizeof what);
    int64_t now = s_now ();
    int clean = WIFEXITED (status) && WEXITSTATUS (status) == 0;
    int pid = (int) w->pid;
    w->pid = 0;
    shm_slot_retire (sup->shm, i, now);
    if (sup->stopping) {
        if (!clean) {
            hlog_error ("worker %d (pid %d) %s while stopping", i, pid, what);
            sup->status = 1;
        }
        return;
    }
    if (!sup->serving) {
        hlog_error ("worker %d (pid %d) %s before it served", i, pid, what);
        s_stop (sup, 1);
        return;
    }
    int64_t delay = 0;
    if (now - w->started < S_STABLE_MS || !w->ready) {
        w->quick_deaths++;
        delay = S_DELAY_MIN_MS;
        for (int k = 1; k < w->quick_deaths && delay < S_DELAY_MAX_MS; k++)
            delay *= 2;
        if (delay > S_DELAY_MAX_MS)
            delay = S_DELAY_MAX_MS;
    }
    else
        w->quick_deaths = 0;
    hlog_error ("worker %d (pid %d) %s; its clients reconnect; starting it again%s", i, pid,
                what, delay ? " after a delay" : "");
    if (delay)
        hlog_info ("worker %d died %d times in a row within %d s of its start: next start "
                   "in %lld ms", i, w->quick_deaths, S_STABLE_MS / 1000, (long long) delay);
    if (delay >= S_CLOSE_SOCKET_MS && w->listen_fd >= 0) {
        close (w->listen_fd);
        w->listen_fd = -1;
    }
    w->restart_at = now + delay;
}

static void
s_reap (s_sup_t *sup)
{
    int status;
    pid_t pid;
    while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
        for (int i = 0; i < sup->cfg->workers; i++)
            if (sup->w[i].pid == pid)
                s_reaped (sup, i, status);
}

//  Workers whose delay is over are started again.
static void
s_restart_due (s_sup_t *sup)
{
    int64_t now = s_now ();
    for (int i = 0; i < sup->cfg->workers && !sup->stopping; i++) {
        s_worker_t *w = &sup->w[i];
        if (w->pid || !w->restart_at || w->restart_at > now)
            continue;
        atomic_fetch_add (&sup->shm->restarts, 1);
        if (s_spawn (sup, i) != 0) {
            w->quick_deaths++;
            w->restart_at = now + S_DELAY_MAX_MS;
        }
    }
}

//  A worker wrote its index: it serves.
static void
s_on_ready (s_sup_t *sup)
{
    unsigned char buf[64];
    ssize_t n = read (sup->ready_pipe[0], buf, sizeof buf);
    for (ssize_t k = 0; k < n; k++) {
        int i = buf[k];
        if (i >= sup->cfg->workers || !sup->w[i].pid)
            continue;
        sup->w[i].ready = 1;
        if (sup->serving)
            hlog_info ("worker %d (pid %d) serves again", i, (int) sup->w[i].pid);
    }
    int ready = 0;
    for (int i = 0; i < sup->cfg->workers; i++)
        ready += sup->w[i].ready;
    if (sup->serving || sup->stopping || ready < sup->cfg->workers)
        return;
    sup->serving = 1;
    const edge_config_t *cfg = sup->cfg;
    hlog_info ("listening on %s://%s:%d (WebSocket at /graphql), broker %s, %d worker%s",
               cfg->tls_cert ? "https" : "http", *cfg->host ? cfg->host : "0.0.0.0", sup->port,
               cfg->broker, cfg->workers, cfg->workers == 1 ? "" : "s");
}

static void
s_on_signal (s_sup_t *sup)
{
    struct signalfd_siginfo si;
    while (read (sup->sigfd, &si, sizeof si) == (ssize_t) sizeof si) {
        switch (si.ssi_signo) {
            case SIGCHLD:
                s_reap (sup);
                break;
            case SIGHUP:
                if (!sup->stopping)
                    s_reload (sup);
                break;
            default:
                if (!sup->stopping)
                    hlog_info ("%s: shutting down (%d worker%s closing its connections)",
                               si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM", s_running (sup),
                               s_running (sup) == 1 ? "" : "s each");
                s_stop (sup, 0);
                break;
        }
    }
}

//  How long poll may wait: until the next restart, or the stop deadline.
static int
s_timeout (const s_sup_t *sup)
{
    int64_t now = s_now (), next = -1;
    if (sup->stopping)
        next = sup->stop_deadline;
    else
        for (int i = 0; i < sup->cfg->workers; i++)
            if (!sup->w[i].pid && sup->w[i].restart_at
                && (next < 0 || sup->w[i].restart_at < next))
                next = sup->w[i].restart_at;
    if (next < 0)
        return -1;
    return next <= now ? 0 : (int) (next - now);
}

static void
s_loop (s_sup_t *sup)
{
    while (!sup->stopping || s_running (sup) > 0) {
        struct pollfd fds[2] = { { sup->sigfd, POLLIN, 0 }, { sup->ready_pipe[0], POLLIN, 0 } };
        int n = poll (fds, 2, s_timeout (sup));
        if (n < 0 && errno != EINTR) {
            hlog_error ("poll: %s", strerror (errno));
            s_stop (sup, 1);
        }
        if (n > 0 && fds[1].revents)
            s_on_ready (sup);
        if (n > 0 && fds[0].revents)
            s_on_signal (sup);
        if (sup->stopping && s_running (sup) > 0 && s_now () >= sup->stop_deadline) {
            hlog_error ("%d workers did not stop in time: killing them", s_running (sup));
            s_signal_workers (sup, SIGKILL);
            sup->stop_deadline = s_now () + S_STOP_GRACE_MS;
            sup->status = 1;
        }
        s_restart_due (sup);
    }
}

//  The signals, taken from a descriptor; and the pipe workers write to
//  when they serve. Returns 0, or -1 (logged).
static int
s_open_signals (s_sup_t *sup)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGCHLD);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGHUP);
    //  Blocked from here on: a worker inherits the mask, and unblocks them
    //  once it has handlers (net/server.c).
    if (sigprocmask (SIG_BLOCK, &set, NULL) != 0
        || (sup->sigfd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0
        || pipe2 (sup->ready_pipe, O_CLOEXEC) != 0) {
        hlog_error ("cannot set up the signals: %s", strerror (errno));
        return -1;
    }
    fcntl (sup->ready_pipe[0], F_SETFL, O_NONBLOCK);
    return 0;
}

//  Everything before the first fork: the checks, the shared mapping, the
//  sockets. Returns 0, or -1 (logged).
static int
s_prepare (s_sup_t *sup)
{
    const edge_config_t *cfg = sup->cfg;
    int total;
    sup->schema = edge_prepare (cfg, &sup->per_worker, &total, &sup->keys);
    if (!sup->schema)
        return -1;
    //  As many addresses without a connection (refused, or refilling
    //  their bucket) as there may be connections: the table holds at
    //  most twice --max-connections entries.
    addrlimit_config_t ac = { .max_connections = cfg->max_connections_per_ip,
                              .rate = cfg->connect_rate_per_ip,
                              .burst = cfg->connect_burst_per_ip,
                              .max_idle = (size_t) total, .max_held = (size_t) total };
    int limits = cfg->max_connections_per_ip > 0 || cfg->connect_rate_per_ip > 0;
    //  The hash's seed must be one a client cannot guess.
    if (limits && getentropy (&ac.seed, sizeof ac.seed) != 0)
        ac.seed = (uint64_t) s_now () ^ ((uint64_t) getpid () << 32);
    sup->shm = shm_new (cfg->workers, total, sup->per_worker, limits ? &ac : NULL);
    if (!sup->shm)
        return -1;
    atomic_store (&sup->shm->keys, auth_keys_count (sup->keys));
    sup->port = cfg->port;
    for (int i = 0; i < cfg->workers; i++) {
        int port;
        if ((sup->w[i].listen_fd = listen_open (cfg->host, sup->port, &port)) < 0)
            return -1;
        //  With --port 0 the kernel picks the port for the first socket,
        //  and the others share it.
        sup->port = port;
    }
    return s_open_signals (sup);
}

int
edge_run (const edge_config_t *cfg)
{
    static s_sup_t sup;
    memset (&sup, 0, sizeof sup);
    sup.cfg = cfg;
    sup.sigfd = sup.ready_pipe[0] = sup.ready_pipe[1] = -1;
    for (int i = 0; i < SHM_MAX_WORKERS; i++)
        sup.w[i].listen_fd = -1;
    int status = 1;
    if (s_prepare (&sup) == 0) {
        for (int i = 0; i < cfg->workers && !sup.stopping; i++)
            if (s_spawn (&sup, i) != 0)
                s_stop (&sup, 1);
        s_loop (&sup);
        status = sup.status;
    }
    hlog_info (!sup.serving ? "could not start"
               : status == 0 ? "stopped" : "stopped, but a worker did not stop cleanly");
    for (int i = 0; i < SHM_MAX_WORKERS; i++)
        if (sup.w[i].listen_fd >= 0)
            close (sup.w[i].listen_fd);
    if (sup.sigfd >= 0)
        close (sup.sigfd);
    for (int k = 0; k < 2; k++)
        if (sup.ready_pipe[k] >= 0)
            close (sup.ready_pipe[k]);
    shm_destroy (&sup.shm);
    gql_schema_destroy (&sup.schema);
    auth_keys_destroy (&sup.keys);
    return status;
}
