/*  herald.h: libherald, the client library of the Herald backbone.
 *
 *  A publisher sends events to a herald-broker; a subscriber receives the
 *  events of the topics it names. An event is a topic (UTF-8, 1..255 bytes,
 *  no NUL) and a payload that is one msgpack value. docs/libherald.md is
 *  the guide, with a complete example; docs/wire.md is the wire format.
 *
 *  Conventions that hold for every function below:
 *
 *  - Errors. Functions that can fail return an int that is HERALD_OK (0) or
 *    one of the herald_err_t values. herald_strerror() names a code, and
 *    herald_errmsg() describes the calling thread's most recent failure in
 *    more detail (for example where a JSON text is invalid). Functions that
 *    create a handle return NULL on failure and store the code in *err when
 *    err is not NULL.
 *  - Memory. Handles are opaque; each has a _destroy function that accepts
 *    NULL and sets the caller's pointer to NULL. Memory that a function
 *    returns through an out-parameter is the caller's, to be released with
 *    herald_free(); pointers returned from accessors belong to the object
 *    they came from and live as long as it does.
 *  - Threads. A publisher may be used from several threads at once; its
 *    calls are serialised internally. A subscriber must be used from one
 *    thread at a time (herald_subscriber_connected and
 *    herald_subscriber_refused excepted). Distinct handles are
 *    independent. Destroying or closing a handle must not race with any
 *    other call on it.
 *  - ABI. Error codes and option numbers only ever grow at the end; new
 *    behaviour comes as new functions. The shared library's SONAME is
 *    libherald.so.1.
 */
#ifndef HERALD_H
#define HERALD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HERALD_BUILDING) && defined(__GNUC__)
#   define HERALD_EXPORT __attribute__ ((visibility ("default")))
#else
#   define HERALD_EXPORT
#endif

#define HERALD_VERSION_MAJOR 0
#define HERALD_VERSION_MINOR 1
#define HERALD_VERSION_PATCH 0

/*  The broker's defaults: publishers connect to its ingress, subscribers to
 *  its egress. Passing NULL as an endpoint selects the environment variable
 *  HERALD_PUB_ENDPOINT (publishers) or HERALD_SUB_ENDPOINT (subscribers)
 *  if it is set and not empty, and these defaults otherwise. */
#define HERALD_DEFAULT_PUB_ENDPOINT "tcp://127.0.0.1:7400"
#define HERALD_DEFAULT_SUB_ENDPOINT "tcp://127.0.0.1:7401"

/*  Longest topic, in bytes. */
#define HERALD_TOPIC_MAX 255

/*  The error codes, as one list: XX (NAME, value, text) for each
 *  HERALD_ERR_NAME, with herald_strerror's text for it. The herald_err_t
 *  enum below and herald_strerror are both made from this list, and the
 *  Python and Node bindings' tables are tested against it. HERALD_OK (0) is
 *  not in it. Codes only grow at the end. */
#define HERALD_ERR_MAP(XX)                                                    \
    /*  NULL handle or argument, bad option or value */                       \
    XX (INVALID, 1, "invalid argument")                                       \
    /*  out of memory */                                                      \
    XX (NOMEM, 2, "out of memory")                                            \
    /*  topic empty, too long, not UTF-8, has NUL, or reserved */             \
    XX (TOPIC, 3, "invalid topic")                                            \
    /*  payload over the HERALD_OPT_MAX_PAYLOAD limit */                      \
    XX (TOO_BIG, 4, "payload too big")                                        \
    /*  invalid JSON text */                                                  \
    XX (JSON, 5, "invalid JSON")                                              \
    /*  payload is not exactly one valid msgpack value */                     \
    XX (MSGPACK, 6, "invalid msgpack")                                        \
    /*  queue full for the whole send timeout (backpressure) */               \
    XX (AGAIN, 7, "queue full: try again later")                              \
    /*  nothing arrived within the timeout */                                 \
    XX (TIMEOUT, 8, "timed out")                                              \
    /*  endpoint malformed or its transport unsupported */                    \
    XX (ENDPOINT, 9, "invalid endpoint")                                      \
    /*  a signal interrupted a blocking call */                               \
    XX (INTERRUPTED, 10, "interrupted by a signal")                           \
    /*  unexpected ZeroMQ failure; herald_errmsg() says which */              \
    XX (TRANSPORT, 11, "transport error")                                     \
    /*  messages were still queued when the linger time ran out; they were    \
        dropped (herald_publisher_close) */                                   \
    XX (UNSENT, 12,                                                           \
        "messages were still queued when the linger time ran out; they were dropped") \
    /*  a CURVE key or certificate is missing, unreadable or invalid, or      \
        only one of the pair was given (herald_publisher_new_secure) */       \
    XX (KEY, 13, "missing or invalid CURVE key or certificate")               \
    /*  this libzmq was built without CURVE */                                \
    XX (NO_CURVE, 14, "CURVE security is not available in this ZeroMQ build")

/*  Each entry's comma comes before it: C89 and C++98 reject a comma after
 *  an enum's last member. */
#define HERALD_ERR_ENUM_ITEM(name, value, text) , HERALD_ERR_##name = value
typedef enum herald_err {
    HERALD_OK = 0
    HERALD_ERR_MAP (HERALD_ERR_ENUM_ITEM)
} herald_err_t;
#undef HERALD_ERR_ENUM_ITEM

/*  Options, set with herald_publisher_set_option and
 *  herald_subscriber_set_option. Each may be set at any time. */
typedef enum herald_option {
    /*  Publisher: how long close and destroy wait to flush queued
     *  messages, in ms. -1 waits forever. Default 2000. */
    HERALD_OPT_LINGER_MS = 1,
    /*  Publisher: how long a publish waits for queue room, in ms, before it
     *  returns HERALD_ERR_AGAIN. -1 waits forever, 0 never waits.
     *  Default 1000. */
    HERALD_OPT_SEND_TIMEOUT_MS = 2,
    /*  Both: how many messages may queue (to send, or received and not yet
     *  read) on each connection. 0 means no limit. Default 100000. A
     *  subscriber also holds as many more (but at most 1000) in transit
     *  between its background thread and the caller; past both, the broker
     *  drops the subscriber's messages and counts them. */
    HERALD_OPT_HWM = 3,
    /*  Both: largest payload in bytes, 1..268435456. A publisher refuses
     *  larger payloads with HERALD_ERR_TOO_BIG; a subscriber skips them and
     *  counts them (herald_subscriber_skipped). Default 1048576. */
    HERALD_OPT_MAX_PAYLOAD = 4,
    /*  Both: ZMTP heartbeats on each link to a broker: a PING every this
     *  many ms, 1..600000. Default 500 with a list of brokers; with one
     *  endpoint 5000, as before HERALD_1.3, until it is set. ZeroMQ takes
     *  heartbeats when it connects, so a new value applies at once to the
     *  links that have carried nothing yet, which are made again (all of a
     *  subscriber's are: set it before subscribing, as events in transit
     *  may be lost), and to a publisher's other links when they are next
     *  made, after a drop. Available since HERALD_1.3. */
    HERALD_OPT_HEARTBEAT_MS = 5,
    /*  Both: a link that gets no answer for this many ms after a PING is
     *  taken as dead and dropped, 1..600000; the broker is told to do the
     *  same (ZMTP's TTL). A broker that stops or is killed is seen at
     *  once (its OS closes the connection); one whose host or network
     *  vanishes silently, within HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS: 2 s
     *  by default with a list (and a publisher takes the news within 100
     *  ms more). A publisher's first handshake with each
     *  broker is also awaited this long at most. Default 1500 with a
     *  list; with one endpoint 15000 until set. Applies as
     *  HERALD_OPT_HEARTBEAT_MS does. Available since HERALD_1.3. */
    HERALD_OPT_HEARTBEAT_TIMEOUT_MS = 6
} herald_option_t;

/*  A publisher's counters, for herald_publisher_stat (docs/libherald.md,
 *  "Several brokers"). Available since HERALD_1.3. */
typedef enum herald_stat {
    /*  Events sent on the link to the broker. */
    HERALD_STAT_SENT = 1,
    /*  Of those, the ones the broker confirmed it received and forwarded
     *  (a list of brokers only: one endpoint has no confirmations). */
    HERALD_STAT_CONFIRMED = 2,
    /*  Counted lost: sent, and not confirmed when the link was seen to
     *  drop. In doubt rather than surely lost: the broker may have
     *  forwarded some before it died; it cannot have forwarded more. */
    HERALD_STAT_LOST = 3,
    /*  Sent to this broker while the topic's owner was not live. */
    HERALD_STAT_REROUTED = 4,
    /*  Times the link was seen to drop after it had been up. */
    HERALD_STAT_FAILOVERS = 5
} herald_stat_t;

typedef struct herald_publisher herald_publisher_t;
typedef struct herald_subscriber herald_subscriber_t;
typedef struct herald_event herald_event_t;

/*  ---------------------------------------------------------------------
 *  Library
 */

/*  The library's version as "MAJOR.MINOR.PATCH". Static; never NULL. */
HERALD_EXPORT const char *herald_version (void);

/*  A short sentence naming an error code: the text in HERALD_ERR_MAP,
 *  "success" for HERALD_OK, "unknown error" for any other value. Static;
 *  never NULL. Thread-safe. */
HERALD_EXPORT const char *herald_strerror (int err);

/*  A description of the most recent failure of a herald_ call in the
 *  calling thread, more specific than herald_strerror. Valid until the
 *  thread's next herald_ call; never NULL ("" if nothing failed yet). */
HERALD_EXPORT const char *herald_errmsg (void);

/*  Release memory that the library returned through an out-parameter.
 *  Accepts NULL. Thread-safe. */
HERALD_EXPORT void herald_free (void *ptr);

/*  Pack JSON text into msgpack. On HERALD_OK, *out holds *size bytes that
 *  the caller releases with herald_free. Errors: HERALD_ERR_INVALID (NULL
 *  argument), HERALD_ERR_JSON (herald_errmsg gives line and column),
 *  HERALD_ERR_NOMEM. Thread-safe. */
HERALD_EXPORT int herald_json_to_msgpack (const char *json, size_t len,
                                          void **out, size_t *size);

/*  Convert one msgpack value to JSON text, mapped as docs/wire.md says.
 *  On HERALD_OK, *out is a NUL-terminated string of *len bytes that the
 *  caller releases with herald_free. Errors: HERALD_ERR_INVALID,
 *  HERALD_ERR_MSGPACK, HERALD_ERR_NOMEM. Thread-safe. */
HERALD_EXPORT int herald_msgpack_to_json (const void *data, size_t size,
                                          char **out, size_t *len);

/*  ---------------------------------------------------------------------
 *  Publisher
 *
 *  Publishing is lossless at connect: a publisher created and used at once
 *  queues its messages until the connection to the broker is up, and
 *  herald_publisher_close flushes them within the linger time and says
 *  whether everything went out.
 */

/*  Create a publisher connected to a broker's ingress endpoint, such as
 *  "tcp://127.0.0.1:7400" or "ipc:///run/herald/ingress" (NULL selects
 *  $HERALD_PUB_ENDPOINT, else HERALD_DEFAULT_PUB_ENDPOINT; "host:port"
 *  means tcp). The connection is
 *  made in the background and retried until it succeeds, so a broker that
 *  is not yet running is not an error. Returns NULL on failure with *err
 *  set to HERALD_ERR_ENDPOINT, HERALD_ERR_NOMEM or HERALD_ERR_TRANSPORT.
 *
 *  Several brokers (since HERALD_1.3): endpoint may be a list,
 *  "tcp://10.0.0.2:7400,tcp://10.0.0.3:7400" (at most 16; spaces around
 *  an entry are dropped; an empty entry or one listed twice is
 *  HERALD_ERR_ENDPOINT). Every publisher, edge and subscriber must list
 *  the same brokers in the same order. Each topic is owned by one broker
 *  (docs/wire.md, "Several brokers": FNV-1a 64 of the topic modulo the
 *  list's length) and is sent to the first live broker from its owner
 *  on, wrapping around; it moves back once the owner has been live again
 *  for HERALD_OPT_HEARTBEAT_MS + HERALD_OPT_HEARTBEAT_TIMEOUT_MS + 1 s
 *  (when subscribers with the same settings are linked to it again). A
 *  publisher confirms what each broker forwarded by echo, through that
 *  broker's egress (its ingress port + 1, or the list in
 *  $HERALD_CONFIRM_ENDPOINT), and counts as lost what a broker had not
 *  confirmed when its link dropped (herald_publisher_stat). Differences
 *  from one endpoint: a publish waits (up to the send timeout) for the
 *  first handshake of the broker it goes to, and then goes to the next
 *  live one; with no broker live it waits and then returns
 *  HERALD_ERR_AGAIN ("no broker is reachable") rather than queue; close
 *  reports what was not confirmed. */
HERALD_EXPORT herald_publisher_t *herald_publisher_new (const char *endpoint, int *err);

/*  Like herald_publisher_new, over CURVE (ZeroMQ's CurveZMQ: encrypted,
 *  and the broker lets the client in only if it knows its key). Available
 *  since HERALD_1.2.
 *
 *  server names the broker's public key: its public certificate file (as
 *  `herald keygen` or CZMQ's zcert_save write it), or the key itself as 40
 *  characters of Z85. client_cert is this client's secret certificate file
 *  (NAME_secret; NAME also finds it), whose public half the broker must
 *  allow to publish (herald-broker --curve-publishers). NULL or "" selects
 *  the environment variable HERALD_CURVE_SERVER, respectively
 *  HERALD_CURVE_CERT. If neither is given nor set, the connection is
 *  plaintext, as herald_publisher_new's: so the same call serves both
 *  kinds of broker, and a CURVE broker refuses a plaintext client anyway.
 *
 *  The files are read, and checked, before anything connects. endpoint
 *  takes what herald_publisher_new takes; the keys apply to it (and, when
 *  a later version accepts a list of endpoints, to each of them: one
 *  broker cluster, one server key). A broker that refuses the key is not
 *  an error here, since the handshake happens in the background: libzmq
 *  then drops the queue, and once the refusal is known, publishes return
 *  HERALD_ERR_AGAIN (herald_errmsg says the broker refused) rather than
 *  queue. Publishing connects again, at most once a second, so that a key
 *  the broker allows later gets in. Once a handshake has been refused,
 *  herald_publisher_close returns HERALD_ERR_UNSENT, with a herald_errmsg
 *  that says the broker refused: what was queued at the refusal was
 *  dropped.
 *
 *  Returns NULL on failure with *err set to HERALD_ERR_KEY (a file
 *  missing, unreadable or not a certificate, a certificate without its
 *  secret key, a bad key, or one of the two missing; herald_errmsg names
 *  the file and the problem), HERALD_ERR_NO_CURVE (libzmq without CURVE),
 *  or any error of herald_publisher_new. Ownership and threads: as
 *  herald_publisher_new; the strings are read during the call only.
 *  Thread-safe (it reads the environment: do not call setenv meanwhile). */
HERALD_EXPORT herald_publisher_t *herald_publisher_new_secure (const char *endpoint,
                                                               const char *server,
                                                               const char *client_cert,
                                                               int *err);

/*  Flush queued messages for at most HERALD_OPT_LINGER_MS, then close and
 *  release everything. Messages still queued when the linger time ends
 *  are dropped without a word: herald_publisher_close says so. Accepts
 *  NULL and *pub == NULL; sets *pub to NULL. */
HERALD_EXPORT void herald_publisher_destroy (herald_publisher_t **pub);

/*  Set an option (herald_option_t). Errors: HERALD_ERR_INVALID for an
 *  option a publisher lacks or a value out of range. */
HERALD_EXPORT int herald_publisher_set_option (herald_publisher_t *pub, int option,
                                               int64_t value);

/*  Publish one msgpack value (the bytes are copied). Returns HERALD_OK once
 *  the message is queued. Errors: HERALD_ERR_INVALID (NULL pub, topic, or
 *  data with size > 0), HERALD_ERR_TOPIC, HERALD_ERR_TOO_BIG,
 *  HERALD_ERR_MSGPACK, HERALD_ERR_AGAIN (the queue stayed full for the
 *  send timeout: the message was not queued, the caller may retry),
 *  HERALD_ERR_INTERRUPTED, HERALD_ERR_TRANSPORT. */
HERALD_EXPORT int herald_publish (herald_publisher_t *pub, const char *topic,
                                  const void *data, size_t size);

/*  Publish JSON text of len bytes, packed to msgpack first. Errors: as
 *  herald_publish, and HERALD_ERR_JSON with the line and column in
 *  herald_errmsg. The limit HERALD_OPT_MAX_PAYLOAD applies to the packed
 *  size. */
HERALD_EXPORT int herald_publish_json (herald_publisher_t *pub, const char *topic,
                                       const char *json, size_t len);

/*  Like herald_publisher_destroy (flush for at most HERALD_OPT_LINGER_MS,
 *  close, release everything, set *pub to NULL), and say whether every
 *  message that publish accepted was handed to the broker connection.
 *  Returns HERALD_OK if so (also when nothing was published, and for
 *  *pub == NULL). Otherwise HERALD_ERR_UNSENT: messages were still queued
 *  when the linger time ran out and were dropped; herald_errmsg says how
 *  many were published and whether a connection to the broker was ever
 *  made (if none was, all of them were lost). HERALD_ERR_INVALID if pub is
 *  NULL. The publisher is released whatever the result. Available since
 *  HERALD_1.1.
 *
 *  How it knows: the publisher has a ZeroMQ context of its own, and
 *  terminating that context returns before the linger time is up only
 *  once the socket's queue has drained into the connection; what is still
 *  queued at the deadline is dropped by ZeroMQ. So HERALD_OK means the
 *  context ended before the deadline, and with a linger of -1 that it
 *  ended at all. A socket monitor records whether the connection was ever
 *  made. Limits: "handed to the connection" means taken by ZeroMQ's
 *  connection to be written to the TCP (or IPC) socket, not received by
 *  the broker: the PUSH->PULL ingress has no acknowledgements, so a broker
 *  that dies while those bytes are in flight loses them unseen, and if the
 *  broker has stopped reading and the socket buffers are full, the last
 *  batch (up to 8 KiB) can be cut off. ZeroMQ's linger timer can fire a
 *  few ms early, so the context must end more than 5 ms before the
 *  deadline to count: a queue that drains in the last 5 ms is reported as
 *  not sent, and a loss is never reported as success. A linger of 5 ms or
 *  less (0 included) therefore confirms nothing: any message published
 *  makes this return HERALD_ERR_UNSENT. */
HERALD_EXPORT int herald_publisher_close (herald_publisher_t **pub);

/*  With a list of brokers, herald_publisher_close (and destroy) waits up
 *  to the linger time for every broker to confirm what it was sent,
 *  sending a last marker to each. It returns HERALD_OK only if every
 *  event published was confirmed; else HERALD_ERR_UNSENT, and
 *  herald_errmsg gives how many were not: those counted lost when a
 *  broker's link dropped, and those unconfirmed when the linger time ran
 *  out (then ZeroMQ goes on flushing them for what is left of it, not
 *  vouched for). A broker that cannot confirm (with CURVE, the
 *  publisher's key must also be allowed to subscribe there; or no egress
 *  is known) is named in the message, and its events count as
 *  unconfirmed. */

/*  How many brokers the publisher was given: 1 for one endpoint, else the
 *  length of the list; 0 for NULL. Thread-safe. Available since
 *  HERALD_1.3. */
HERALD_EXPORT int herald_publisher_brokers (const herald_publisher_t *pub);

/*  Broker i's endpoint (0 <= i < herald_publisher_brokers), as connected
 *  ("host:port" made "tcp://host:port"); owned by the publisher. NULL for
 *  NULL or i out of range. Thread-safe. Available since HERALD_1.3. */
HERALD_EXPORT const char *herald_publisher_broker_endpoint (const herald_publisher_t *pub,
                                                            int i);

/*  1 while the link to broker i is live (handshake done, not dropped
 *  since), else 0 (also for NULL or i out of range). This call, like
 *  publish, first takes the links' news. Thread-safe. Available since
 *  HERALD_1.3. */
HERALD_EXPORT int herald_publisher_broker_up (herald_publisher_t *pub, int i);

/*  Counter 'which' (a herald_stat_t) of broker i, or of all brokers
 *  summed for i = -1. 0 for NULL, i out of range or an unknown counter.
 *  With one endpoint, SENT counts what publish queued, FAILOVERS the
 *  connection's drops, and the others are 0 (one endpoint has no
 *  confirmations: close's check is the flush into the connection). With
 *  a list, for each broker SENT = CONFIRMED + LOST + those still awaited
 *  (a publisher with a list has a thread that sends a marker, and takes
 *  the links' news, every 100 ms: an event is confirmed about 100 ms
 *  plus a round trip after it was sent, and a drop counted within 100
 *  ms). Takes the links' news first. Thread-safe. Available since
 *  HERALD_1.3. */
HERALD_EXPORT uint64_t herald_publisher_stat (herald_publisher_t *pub, int i, int which);

/*  ---------------------------------------------------------------------
 *  Subscriber
 *
 *  Topics match exactly: a subscriber to "chat.gen" never receives
 *  "chat.general". Each subscriber has a background thread of its own
 *  (with every signal blocked) that owns the connection: it reconnects
 *  after a broker restart and renews the subscriptions at once, also while
 *  the caller is busy elsewhere and not receiving. It relays events to the
 *  caller without copying them, and stops reading from the broker while
 *  the caller does not keep up, so that the broker counts the drops.
 */

/*  Create a subscriber connected to a broker's egress endpoint (NULL
 *  selects $HERALD_SUB_ENDPOINT, else HERALD_DEFAULT_SUB_ENDPOINT). Errors as
 *  herald_publisher_new. With a list of brokers (as herald_publisher_new
 *  takes, the egress endpoints in the publishers' order; since
 *  HERALD_1.3), the subscriber connects to every broker, subscribes at
 *  each, and receives each event once: from the broker it was sent to. */
HERALD_EXPORT herald_subscriber_t *herald_subscriber_new (const char *endpoint, int *err);

/*  Like herald_subscriber_new, over CURVE, as herald_publisher_new_secure
 *  says: server is the broker's public certificate (or key), client_cert
 *  this client's secret certificate, whose public half the broker must
 *  allow to subscribe (herald-broker --curve-subscribers); NULL or ""
 *  selects $HERALD_CURVE_SERVER, respectively $HERALD_CURVE_CERT, and
 *  with neither the connection is plaintext. A broker that refuses the key
 *  shows as herald_subscriber_refused. Errors: HERALD_ERR_KEY,
 *  HERALD_ERR_NO_CURVE, and those of herald_subscriber_new. Available
 *  since HERALD_1.2. */
HERALD_EXPORT herald_subscriber_t *herald_subscriber_new_secure (const char *endpoint,
                                                                 const char *server,
                                                                 const char *client_cert,
                                                                 int *err);

/*  Close and release everything, the background thread and events
 *  received but not read included. Accepts NULL and *sub == NULL; sets
 *  *sub to NULL. */
HERALD_EXPORT void herald_subscriber_destroy (herald_subscriber_t **sub);

/*  Set an option (herald_option_t). Errors: HERALD_ERR_INVALID. */
HERALD_EXPORT int herald_subscriber_set_option (herald_subscriber_t *sub, int option,
                                                int64_t value);

/*  Start receiving a topic. Subscribing twice to a topic is the same as
 *  once. Errors: HERALD_ERR_INVALID, HERALD_ERR_TOPIC, HERALD_ERR_NOMEM. */
HERALD_EXPORT int herald_subscribe (herald_subscriber_t *sub, const char *topic);

/*  Stop receiving a topic. Unsubscribing from a topic that is not
 *  subscribed does nothing. Errors: HERALD_ERR_INVALID, HERALD_ERR_TOPIC. */
HERALD_EXPORT int herald_unsubscribe (herald_subscriber_t *sub, const char *topic);

/*  Wait until the broker confirms every subscription made so far, so that
 *  anything published from then on is delivered. Events that arrive
 *  meanwhile are kept for herald_recv. A confirmation holds for the
 *  connection it came on: once the connection has dropped or been made
 *  again, sync asks the broker anew. timeout_ms: -1 waits forever, 0
 *  checks without waiting (call again later to continue). Returns
 *  HERALD_OK, or HERALD_ERR_TIMEOUT, HERALD_ERR_INTERRUPTED,
 *  HERALD_ERR_INVALID, HERALD_ERR_NOMEM, HERALD_ERR_TRANSPORT. With a list
 *  of brokers: HERALD_OK once every broker that is connected has
 *  confirmed, and at least one has. A broker that is down has nothing to
 *  deliver meanwhile (its topics go to the next one), and the
 *  subscriptions are sent to it again when it is back. A broker never yet
 *  reached counts as down only once HERALD_OPT_HEARTBEAT_TIMEOUT_MS has
 *  passed since the subscriber was made; until then sync waits for it. */
HERALD_EXPORT int herald_subscriber_sync (herald_subscriber_t *sub, int timeout_ms);

/*  A file descriptor that becomes readable when events may be waiting, for
 *  event loops (asyncio, libuv, Node). Never read or close it. It signals
 *  edges, not levels: when it fires, call herald_recv with timeout 0 until
 *  it returns HERALD_ERR_TIMEOUT, and also do so after herald_subscribe,
 *  herald_unsubscribe or herald_subscriber_sync, before waiting again.
 *  Errors: HERALD_ERR_INVALID, HERALD_ERR_TRANSPORT. */
HERALD_EXPORT int herald_subscriber_fd (herald_subscriber_t *sub, int *fd);

/*  Receive the next event. timeout_ms: -1 waits forever, 0 does not wait.
 *  On HERALD_OK, *event is the caller's, to release with
 *  herald_event_destroy. Errors: HERALD_ERR_TIMEOUT, HERALD_ERR_INTERRUPTED,
 *  HERALD_ERR_INVALID, HERALD_ERR_NOMEM, HERALD_ERR_TRANSPORT. Messages that
 *  break the wire format or exceed HERALD_OPT_MAX_PAYLOAD are skipped. */
HERALD_EXPORT int herald_recv (herald_subscriber_t *sub, herald_event_t **event,
                               int timeout_ms);

/*  How many received messages were skipped because they broke the wire
 *  format or the payload limit. 0 for NULL. */
HERALD_EXPORT uint64_t herald_subscriber_skipped (const herald_subscriber_t *sub);

/*  1 while the subscriber holds a live connection to its broker (ZeroMQ
 *  handshake done, not dropped since), else 0 (also for NULL).
 *  Thread-safe: any thread may call it, also while another uses the
 *  subscriber (but not while it is destroyed); it only reads a flag that
 *  the background thread keeps. It is 0 when the subscriber is
 *  new and becomes 1 once the handshake is done (usually a few ms with a
 *  broker running). It goes back to 0 as soon as the connection is seen to
 *  drop: at once when the broker's end closes (the broker stops or is
 *  killed: its OS closes the socket), within about 20 s when the broker's
 *  host or the network vanishes silently (ZMTP heartbeats every 5 s, 15 s
 *  timeout). Reconnection is retried every 0.1 s to 1 s, and it is 1 again
 *  once a broker answers; the subscriptions are sent right after the
 *  handshake, so events published from shortly after that are delivered
 *  (herald_subscriber_sync confirms exactly when). Available since
 *  HERALD_1.1. With a list of brokers: 1 while the subscriber is
 *  connected to at least one of them (the topics of one that is down move
 *  to the next; herald_subscriber_broker_connected tells each), and links
 *  are dropped by the list's heartbeats (HERALD_OPT_HEARTBEAT_MS). */
HERALD_EXPORT int herald_subscriber_connected (const herald_subscriber_t *sub);

/*  1 if the broker refused this subscriber's most recent handshake, else 0
 *  (also for NULL): the broker does not allow its CURVE key (or not on the
 *  subscribing side), or one side uses CURVE and the other does not. The
 *  subscriber keeps retrying, and it goes back to 0 once a handshake
 *  succeeds (after the broker's allowlist changed, for example). A broker
 *  given the wrong server key cannot decrypt the handshake and just closes
 *  the connection, so that case shows only as never connected.
 *  Thread-safe, as herald_subscriber_connected. Available since
 *  HERALD_1.2. With a list: 1 if any broker refused its most recent
 *  handshake. */
HERALD_EXPORT int herald_subscriber_refused (const herald_subscriber_t *sub);

/*  How many brokers the subscriber connects to: 1 for one endpoint, else
 *  the length of the list; 0 for NULL. Thread-safe. Available since
 *  HERALD_1.3. */
HERALD_EXPORT int herald_subscriber_brokers (const herald_subscriber_t *sub);

/*  Broker i's endpoint, as connected; owned by the subscriber. NULL for
 *  NULL or i out of range. Thread-safe. Available since HERALD_1.3. */
HERALD_EXPORT const char *herald_subscriber_broker_endpoint (const herald_subscriber_t *sub,
                                                             int i);

/*  1 while the subscriber holds a live connection to broker i, as
 *  herald_subscriber_connected says for one broker; else 0 (also for NULL
 *  or i out of range). Thread-safe, as herald_subscriber_connected.
 *  Available since HERALD_1.3. */
HERALD_EXPORT int herald_subscriber_broker_connected (const herald_subscriber_t *sub, int i);

/*  ---------------------------------------------------------------------
 *  Event, as received. Accessors return memory owned by the event.
 */

/*  The topic, NUL-terminated. NULL only for a NULL event. */
HERALD_EXPORT const char *herald_event_topic (const herald_event_t *event);

/*  The payload's msgpack bytes; their count goes to *size if size is not
 *  NULL. NULL only for a NULL event. */
HERALD_EXPORT const void *herald_event_payload (const herald_event_t *event, size_t *size);

/*  The payload as JSON text, NUL-terminated, converted on the first call.
 *  Its length goes to *len if len is not NULL. NULL for a NULL event or
 *  when memory runs out. */
HERALD_EXPORT const char *herald_event_json (herald_event_t *event, size_t *len);

/*  The optional metadata frame (a msgpack map), or NULL if there is none.
 *  herald-broker writes there the topic's epoch and the event's offset
 *  ({"epoch": uint64, "offset": uint64}, docs/wire.md "Offsets and
 *  epochs"). */
HERALD_EXPORT const void *herald_event_metadata (const herald_event_t *event, size_t *size);

/*  The event's place in its topic's stream, as the broker numbered it
 *  (docs/wire.md, "Offsets and epochs"): its topic's epoch and its
 *  offset. Within one epoch offsets go 1, 2, 3, ...: a subscriber that
 *  sees one skipped missed that event. Returns HERALD_OK with *epoch and
 *  *offset set, or HERALD_ERR_INVALID for a NULL argument or an event
 *  that carries no numbering (from a broker before this one, or from a
 *  ZeroMQ publisher connected straight to the subscriber). Available
 *  since HERALD_1.4. */
HERALD_EXPORT int herald_event_stamp (const herald_event_t *event, uint64_t *epoch,
                                      uint64_t *offset);

/*  Release an event. Accepts NULL and *event == NULL; sets *event to NULL. */
HERALD_EXPORT void herald_event_destroy (herald_event_t **event);

#ifdef __cplusplus
}
#endif

#endif
