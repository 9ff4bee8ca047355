/*  bench_backbone.c: messages per second through the backbone.
 *
 *  Two threads in one process: a publisher sends N messages of S bytes as
 *  fast as it can, a subscriber counts them and checks their order. Modes:
 *
 *    broker   libherald publisher -> herald-broker -> libherald subscriber
 *    direct   a raw ZeroMQ PUB bound here -> SUB, with no broker
 *
 *  The rate is taken at the subscriber, from the first message received
 *  to the last. The CPU time used while the messages flow is reported too:
 *  this process's (publisher, subscriber and their ZeroMQ I/O threads),
 *  and with -p the broker's, so that the CPU each message costs can be set
 *  against the machine's cores. Both paths run with unlimited high-water marks (the
 *  broker with --ingress-hwm 0 --egress-hwm 0), so that neither drops
 *  and the rate is the sustained one.
 *  scripts/bench.sh runs both modes side by side and prints the ratio.
 *
 *  Usage: bench_backbone broker INGRESS EGRESS [-n N] [-s SIZE] [-p BROKER_PID]
 *         bench_backbone direct [-n N] [-s SIZE]
 */
#include "benchutil.h"
#include "herald.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define TOPIC "bench.backbone"

typedef struct {
    int direct;
    const char *ingress;
    const char *egress;
    long count;
    size_t size;
    void *zctx;                 //  direct mode: the shared context
    char endpoint[64];
    volatile int ready;         //  subscriber is confirmed subscribed
    long received;
    long gaps;                  //  sequence numbers skipped (lost)
    long out_of_order;          //  sequence numbers that went backwards
    double seconds;
    int broker_pid;             //  -p: also measure this process's CPU
    double cpu[2];              //  this process's CPU seconds, at start and end
    double broker_cpu[2];       //  the broker's, likewise
} bench_t;

//  A msgpack bin value of 'size' bytes in total whose first eight body
//  bytes carry the sequence number.
static size_t
s_payload (unsigned char *buf, size_t size, uint64_t seq)
{
    size_t body = size - 2;
    buf[0] = 0xc4;
    buf[1] = (unsigned char) body;
    memset (buf + 2, 'x', body);
    memcpy (buf + 2, &seq, sizeof seq);
    return size;
}

static void
s_mark_cpu (bench_t *b, int end)
{
    b->cpu[end] = bench_cpu_seconds (0);
    b->broker_cpu[end] = b->broker_pid ? bench_cpu_seconds (b->broker_pid) : 0;
}

static uint64_t
s_seq (const unsigned char *payload)
{
    uint64_t seq;
    memcpy (&seq, payload + 2, sizeof seq);
    return seq;
}

static void
s_count (bench_t *b, const unsigned char *payload, uint64_t *expect, double *first)
{
    if (b->received == 0)
        *first = bench_now ();
    if (s_seq (payload) > *expect)
        b->gaps++;
    else if (s_seq (payload) < *expect)
        b->out_of_order++;
    *expect = s_seq (payload) + 1;
    b->received++;
}

static void *
s_subscriber (void *arg)
{
    bench_t *b = arg;
    uint64_t expect = 0;
    double first = 0, last = 0;
    if (b->direct) {
        void *sub = zmq_socket (b->zctx, ZMQ_SUB);
        int zero = 0, timeout = 2000;
        zmq_setsockopt (sub, ZMQ_RCVHWM, &zero, sizeof zero);
        zmq_setsockopt (sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
        zmq_setsockopt (sub, ZMQ_SUBSCRIBE, TOPIC, strlen (TOPIC));
        zmq_connect (sub, b->endpoint);
        b->ready = 1;
        zmq_msg_t topic, payload;
        zmq_msg_init (&topic);
        zmq_msg_init (&payload);
        while (b->received < b->count) {
            if (zmq_msg_recv (&topic, sub, 0) < 0)
                break;                  //  timed out: the rest were lost
            zmq_msg_recv (&payload, sub, 0);
            s_count (b, zmq_msg_data (&payload), &expect, &first);
            last = bench_now ();
        }
        zmq_msg_close (&topic);
        zmq_msg_close (&payload);
        zmq_close (sub);
    }
    else {
        herald_subscriber_t *sub = herald_subscriber_new (b->egress, NULL);
        if (!sub || herald_subscriber_set_option (sub, HERALD_OPT_HWM, 0) != HERALD_OK
            || herald_subscribe (sub, TOPIC) != HERALD_OK
            || herald_subscriber_sync (sub, 10000) != HERALD_OK) {
            fprintf (stderr, "bench: subscriber: %s\n", herald_errmsg ());
            exit (1);
        }
        b->ready = 1;
        while (b->received < b->count) {
            herald_event_t *ev;
            if (herald_recv (sub, &ev, 2000) != HERALD_OK)
                break;
            s_count (b, herald_event_payload (ev, NULL), &expect, &first);
            last = bench_now ();
            herald_event_destroy (&ev);
        }
        herald_subscriber_destroy (&sub);
    }
    b->seconds = last - first;
    return NULL;
}

static void
s_publish (bench_t *b)
{
    unsigned char *buf = malloc (b->size);
    if (b->direct) {
        void *pub = zmq_socket (b->zctx, ZMQ_PUB);
        int zero = 0;
        zmq_setsockopt (pub, ZMQ_SNDHWM, &zero, sizeof zero);
        zmq_bind (pub, "tcp://127.0.0.1:*");
        size_t len = sizeof b->endpoint;
        zmq_getsockopt (pub, ZMQ_LAST_ENDPOINT, b->endpoint, &len);
        pthread_t t;
        pthread_create (&t, NULL, s_subscriber, b);
        //  PUB drops until the subscription arrives: wait for it here.
        while (!b->ready)
            usleep (1000);
        usleep (300000);
        s_mark_cpu (b, 0);
        for (long i = 0; i < b->count; i++) {
            size_t n = s_payload (buf, b->size, (uint64_t) i);
            zmq_send (pub, TOPIC, strlen (TOPIC), ZMQ_SNDMORE);
            zmq_send (pub, buf, n, 0);
        }
        pthread_join (t, NULL);
        s_mark_cpu (b, 1);
        zmq_close (pub);
    }
    else {
        pthread_t t;
        pthread_create (&t, NULL, s_subscriber, b);
        while (!b->ready)
            usleep (1000);
        herald_publisher_t *pub = herald_publisher_new (b->ingress, NULL);
        herald_publisher_set_option (pub, HERALD_OPT_SEND_TIMEOUT_MS, -1);
        herald_publisher_set_option (pub, HERALD_OPT_HWM, 0);
        s_mark_cpu (b, 0);
        for (long i = 0; i < b->count; i++) {
            size_t n = s_payload (buf, b->size, (uint64_t) i);
            if (herald_publish (pub, TOPIC, buf, n) != HERALD_OK) {
                fprintf (stderr, "bench: publish: %s\n", herald_errmsg ());
                exit (1);
            }
        }
        pthread_join (t, NULL);
        s_mark_cpu (b, 1);
        herald_publisher_destroy (&pub);
    }
    free (buf);
}

int
main (int argc, char **argv)
{
    bench_t b = { .count = 1000000, .size = 100 };
    int i = 1;
    if (argc >= 2 && strcmp (argv[1], "direct") == 0) {
        b.direct = 1;
        i = 2;
    }
    else if (argc >= 4 && strcmp (argv[1], "broker") == 0) {
        b.ingress = argv[2];
        b.egress = argv[3];
        i = 4;
    }
    else {
        fprintf (stderr, "usage: bench_backbone broker INGRESS EGRESS [-n N] [-s SIZE]\n"
                         "       bench_backbone direct [-n N] [-s SIZE]\n");
        return 2;
    }
    for (; i + 1 < argc; i += 2) {
        if (strcmp (argv[i], "-n") == 0)
            b.count = atol (argv[i + 1]);
        else if (strcmp (argv[i], "-s") == 0)
            b.size = (size_t) atol (argv[i + 1]);
        else if (strcmp (argv[i], "-p") == 0 && !b.direct)
            b.broker_pid = atoi (argv[i + 1]);
    }
    if (b.size < 12 || b.size > 200 || b.count < 1) {
        fprintf (stderr, "bench: -s must be 12..200 and -n positive\n");
        return 2;
    }
    if (b.direct)
        b.zctx = zmq_ctx_new ();
    s_publish (&b);
    if (b.zctx)
        zmq_ctx_term (b.zctx);
    double rate = b.seconds > 0 ? (double) b.received / b.seconds : 0;
    printf ("{\"mode\":\"%s\",\"sent\":%ld,\"received\":%ld,\"lost\":%ld,"
            "\"gaps\":%ld,\"out_of_order\":%ld,\"seconds\":%.3f,\"msgs_per_s\":%.0f,"
            "\"cpu_seconds\":%.3f,\"broker_cpu_seconds\":%.3f}\n",
            b.direct ? "direct" : "broker", b.count, b.received, b.count - b.received,
            b.gaps, b.out_of_order, b.seconds, rate, b.cpu[1] - b.cpu[0],
            b.broker_cpu[1] - b.broker_cpu[0]);
    return b.received == b.count ? 0 : 1;
}
