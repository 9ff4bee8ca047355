/*  sendfloor.c: what one event's fan-out costs the kernel, with no
 *  WebSocket, no GraphQL and no broker.
 *
 *  An edge delivers an event to N subscribers with N send() calls, one per
 *  TCP connection. This tool measures that floor on its own: it opens N
 *  loopback TCP connections to child processes that read them on epoll
 *  (as a load generator does: one process, or --readers of them, as
 *  herald-loadgen --procs), then R times a second sends one
 *  message of S bytes to every connection, from T threads that each own a
 *  slice of them, and times each round.
 *
 *  With the sends of a round made one after another, subscriber k of N
 *  gets the event about k/N of the round's time after the first, so 99%
 *  of a round's time is a lower bound on the p99 latency that any server
 *  sending from T threads can reach on this machine.
 *
 *  The result is one JSON line on stdout. scripts/bench.sh prints it beside
 *  the edge's latency target.
 *
 *      sendfloor [--connections N] [--size S] [--rate R] [--duration SEC]
 *                [--threads T] [--readers P]
 */
#include "benchutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_READERS 64

typedef struct {
    int *fds;                   //  this thread's connections
    int count;
    const char *msg;
    size_t size;
    pthread_barrier_t *start;   //  a round begins
    pthread_barrier_t *done;    //  every thread has sent its slice
    volatile int *stop;
    double *round_s;            //  this thread's time, per round
    int rounds;
    int failed;
} slice_t;

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

//  The child: connect every socket, then read until the parent closes
//  them all. Reads are counted only to check that every byte arrived.
static int
s_reader (struct sockaddr_in *to, int n, int report_fd)
{
    int ep = epoll_create1 (0);
    if (ep < 0)
        return 1;
    for (int i = 0; i < n; i++) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect (fd, (struct sockaddr *) to, sizeof *to) != 0) {
            fprintf (stderr, "sendfloor: connect %d of %d: %s\n", i + 1, n, strerror (errno));
            return 1;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        if (epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev) != 0)
            return 1;
    }
    static char buf[65536];
    struct epoll_event events[1024];
    unsigned long long bytes = 0;
    int open = n;
    while (open > 0) {
        int k = epoll_wait (ep, events, 1024, -1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return 1;
        for (int i = 0; i < k; i++) {
            ssize_t got = read (events[i].data.fd, buf, sizeof buf);
            if (got > 0)
                bytes += (unsigned long long) got;
            else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                close (events[i].data.fd);
                open--;
            }
        }
    }
    if (write (report_fd, &bytes, sizeof bytes) != (ssize_t) sizeof bytes)
        return 1;
    return 0;
}

static void *
s_sender (void *arg)
{
    slice_t *s = arg;
    for (int r = 0;; r++) {
        pthread_barrier_wait (s->start);
        if (*s->stop)
            break;
        double t0 = bench_now ();
        for (int i = 0; i < s->count; i++) {
            size_t off = 0;
            while (off < s->size) {
                ssize_t sent = send (s->fds[i], s->msg + off, s->size - off, MSG_NOSIGNAL);
                if (sent < 0 && errno == EINTR)
                    continue;
                if (sent < 0) {
                    s->failed = 1;
                    break;
                }
                off += (size_t) sent;
            }
        }
        if (r < s->rounds)
            s->round_s[r] = bench_now () - t0;
        pthread_barrier_wait (s->done);
    }
    return NULL;
}

static void
s_usage (FILE *f)
{
    fprintf (f,
        "Usage: sendfloor [OPTIONS]\n"
        "\n"
        "Time one message sent to each of N loopback TCP connections, R times a\n"
        "second: the kernel's floor under an edge's fan-out. Prints one JSON line.\n"
        "\n"
        "  --connections N   connections (10000)\n"
        "  --size S          bytes per message (200)\n"
        "  --rate R          rounds per second (20)\n"
        "  --duration SEC    seconds of rounds (5)\n"
        "  --threads T       sending threads, each owning N/T connections (1)\n"
        "  --readers P       reading processes, each connecting N/P of them (1)\n"
        "  -h, --help        show this help\n");
}

int
main (int argc, char **argv)
{
    long n = 10000, size = 200, rate = 20, threads = 1, readers = 1;
    double duration = 5;
    static const struct option opts[] = {
        { "connections", required_argument, NULL, 'n' },
        { "size", required_argument, NULL, 's' },
        { "rate", required_argument, NULL, 'r' },
        { "duration", required_argument, NULL, 'd' },
        { "threads", required_argument, NULL, 't' },
        { "readers", required_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c;
    while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
            case 'n': n = atol (optarg); break;
            case 's': size = atol (optarg); break;
            case 'r': rate = atol (optarg); break;
            case 'd': duration = atof (optarg); break;
            case 't': threads = atol (optarg); break;
            case 'R': readers = atol (optarg); break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    if (optind < argc || n < 1 || size < 1 || size > 65536 || rate < 1 || duration <= 0
        || threads < 1 || threads > MAX_THREADS || threads > n
        || readers < 1 || readers > MAX_READERS || readers > n) {
        s_usage (stderr);
        return 2;
    }
    //  The sender and the reader each hold n descriptors.
    struct rlimit rl;
    getrlimit (RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t) n + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < (rlim_t) n + 64) {
        fprintf (stderr, "sendfloor: %ld connections need %ld descriptors; the limit is %llu\n",
                 n, n + 64, (unsigned long long) rl.rlim_cur);
        return 1;
    }
    int rounds = (int) (duration * (double) rate);
    if (rounds < 1)
        rounds = 1;

    int status = 1;
    int *fds = calloc ((size_t) n, sizeof *fds);
    char *msg = malloc ((size_t) size);
    double *round_s = calloc ((size_t) rounds * (size_t) threads, sizeof *round_s);
    double *worst = calloc ((size_t) rounds, sizeof *worst);
    pthread_t tids[MAX_THREADS];
    slice_t slices[MAX_THREADS];
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    int report[2] = { -1, -1 };
    pid_t kids[MAX_READERS];
    int nkids = 0;
    if (!fds || !msg || !round_s || !worst || listener < 0 || pipe (report) != 0)
        goto out;
    memset (msg, 'x', (size_t) size);
    struct sockaddr_in addr = { .sin_family = AF_INET };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    if (bind (listener, (struct sockaddr *) &addr, sizeof addr) != 0
        || listen (listener, 4096) != 0
        || getsockname (listener, (struct sockaddr *) &addr, &alen) != 0) {
        perror ("sendfloor: listen");
        goto out;
    }
    //  Reader k connects its share of the n connections; each reports its
    //  bytes on the one pipe (8-byte writes are atomic on a pipe).
    for (long k = 0; k < readers; k++) {
        pid_t pid = fork ();
        if (pid == 0) {
            close (listener);
            close (report[0]);
            _exit (s_reader (&addr, (int) (n * (k + 1) / readers - n * k / readers), report[1]));
        }
        if (pid < 0)
            goto out;
        kids[nkids++] = pid;
    }
    close (report[1]);
    report[1] = -1;
    for (long i = 0; i < n; i++) {
        //  If a reader fails, its connections never come: stop then.
        struct pollfd pfd = { .fd = listener, .events = POLLIN };
        while (poll (&pfd, 1, 1000) == 0)
            if (waitpid (-1, NULL, WNOHANG) > 0) {
                fprintf (stderr, "sendfloor: a reader stopped after %ld connections\n", i);
                goto out;
            }
        fds[i] = accept (listener, NULL, NULL);
        if (fds[i] < 0) {
            perror ("sendfloor: accept");
            goto out;
        }
        //  As a WebSocket server does: no Nagle delay on small frames.
        int one = 1;
        setsockopt (fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }

    pthread_barrier_t start, done;
    pthread_barrier_init (&start, NULL, (unsigned) threads + 1);
    pthread_barrier_init (&done, NULL, (unsigned) threads + 1);
    volatile int stop = 0;
    long per = n / threads;
    for (long t = 0; t < threads; t++) {
        slices[t] = (slice_t) {
            .fds = fds + t * per,
            .count = (int) (t == threads - 1 ? n - t * per : per),
            .msg = msg, .size = (size_t) size,
            .start = &start, .done = &done, .stop = &stop,
            .round_s = round_s + (size_t) t * (size_t) rounds, .rounds = rounds,
        };
        pthread_create (&tids[t], NULL, s_sender, &slices[t]);
    }
    struct rusage before, after, child_ru;
    getrusage (RUSAGE_SELF, &before);
    double begin = bench_now ();
    for (int r = 0; r < rounds; r++) {
        //  Rounds start on a fixed schedule, as events do; a round that
        //  overruns its slot delays the next.
        double due = begin + (double) r / (double) rate;
        double wait = due - bench_now ();
        if (wait > 0) {
            struct timespec ts = { (time_t) wait, (long) ((wait - (double) (time_t) wait) * 1e9) };
            nanosleep (&ts, NULL);
        }
        pthread_barrier_wait (&start);
        pthread_barrier_wait (&done);
    }
    double elapsed = bench_now () - begin;
    getrusage (RUSAGE_SELF, &after);
    stop = 1;
    pthread_barrier_wait (&start);
    int failed = 0;
    for (long t = 0; t < threads; t++) {
        pthread_join (tids[t], NULL);
        failed |= slices[t].failed;
    }
    pthread_barrier_destroy (&start);
    pthread_barrier_destroy (&done);

    //  Closing every connection ends the readers, which report their bytes.
    for (long i = 0; i < n; i++) {
        close (fds[i]);
        fds[i] = -1;
    }
    unsigned long long received = 0;
    int readers_ok = 1;
    double reader_cpu = 0;
    for (int k = 0; k < nkids; k++) {
        unsigned long long got = 0;
        if (read (report[0], &got, sizeof got) == (ssize_t) sizeof got)
            received += got;
        int wstatus = 0;
        if (wait4 (kids[k], &wstatus, 0, &child_ru) == kids[k])
            reader_cpu += bench_rusage_seconds (&child_ru);
        if (!WIFEXITED (wstatus) || WEXITSTATUS (wstatus))
            readers_ok = 0;
    }
    nkids = 0;

    //  A round takes as long as its slowest thread.
    for (int r = 0; r < rounds; r++)
        for (long t = 0; t < threads; t++)
            if (round_s[(size_t) t * (size_t) rounds + (size_t) r] > worst[r])
                worst[r] = round_s[(size_t) t * (size_t) rounds + (size_t) r];
    qsort (worst, (size_t) rounds, sizeof *worst, s_cmp_double);
    double p50 = worst[rounds / 2], max = worst[rounds - 1];
    double sender_cpu = bench_rusage_seconds (&after) - bench_rusage_seconds (&before);
    unsigned long long expected = (unsigned long long) n * (unsigned long long) size
                                  * (unsigned long long) rounds;
    printf ("{\"connections\":%ld,\"size\":%ld,\"rate\":%ld,\"threads\":%ld,\"readers\":%ld,"
            "\"rounds\":%d,"
            "\"round_ms\":{\"p50\":%.2f,\"max\":%.2f},\"p99_floor_ms\":%.2f,"
            "\"us_per_send\":%.2f,\"sends_per_s\":%.0f,"
            "\"cpu_percent\":{\"sender\":%.0f,\"reader\":%.0f},"
            "\"bytes_expected\":%llu,\"bytes_received\":%llu,\"failed\":%s}\n",
            n, size, rate, threads, readers, rounds, p50 * 1e3, max * 1e3, 0.99 * p50 * 1e3,
            p50 * (double) threads / (double) n * 1e6, (double) n * (double) rounds / elapsed,
            100 * sender_cpu / elapsed, 100 * reader_cpu / elapsed,
            expected, received, failed ? "true" : "false");
    status = failed || received != expected || !readers_ok;
out:
    for (int k = 0; k < nkids; k++) {
        kill (kids[k], SIGTERM);
        waitpid (kids[k], NULL, 0);
    }
    if (listener >= 0)
        close (listener);
    if (report[0] >= 0)
        close (report[0]);
    if (report[1] >= 0)
        close (report[1]);
    free (fds);
    free (msg);
    free (round_s);
    free (worst);
    return status;
}
