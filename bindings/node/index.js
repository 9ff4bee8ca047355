// herald for Node: publish events to a Herald broker and subscribe to them.
//
//   const { Publisher, Subscriber } = require('herald');
//   const pub = new Publisher();
//   pub.publish('chat.general', { id: '1', text: 'hi' });
//   pub.close();
//
//   const sub = new Subscriber(undefined, ['chat.general']);
//   for await (const { topic, event } of sub) console.log(topic, event);
//
// The binding calls libherald's C ABI through koffi (no compiled glue).
// Receiving never blocks the event loop: herald_recv runs on libuv's thread
// pool, a short wait at a time, and the calls that must not overlap it
// (subscribe, unsubscribe, close) are queued until it returns.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');

const SONAME = 'libherald.so.1';

// The library: $HERALD_LIBRARY, else a build tree beside this package
// ($HERALD_BUILD_DIR or build/ at the repository root), else the system's.
function findLibrary() {
  if (process.env.HERALD_LIBRARY) return [process.env.HERALD_LIBRARY];
  const root = path.resolve(__dirname, '..', '..');
  const builds = [process.env.HERALD_BUILD_DIR, path.join(root, 'build')].filter(Boolean);
  const found = builds.map((b) => path.join(b, 'libclient', SONAME)).filter((p) => fs.existsSync(p));
  return [...found, SONAME];
}

function load() {
  const errors = [];
  for (const candidate of findLibrary()) {
    try {
      return koffi.load(candidate);
    } catch (err) {
      errors.push(`${candidate}: ${err.message}`);
    }
  }
  throw new Error(`cannot load libherald; build it (scripts/build.sh), set HERALD_LIBRARY, or install it. Tried: ${errors.join('; ')}`);
}

const lib = load();

// A function added after HERALD_1.0: null when the loaded libherald.so.1 is
// older and lacks it, so that the binding can do without.
function since(signature) {
  try {
    return lib.func(signature);
  } catch (err) {
    return null;
  }
}

const c = {
  version: lib.func('const char *herald_version(void)'),
  errmsg: lib.func('const char *herald_errmsg(void)'),
  pubNew: lib.func('void *herald_publisher_new(const char *endpoint, _Out_ int *err)'),
  pubDestroy: lib.func('void herald_publisher_destroy(_Inout_ void **pub)'),
  pubSet: lib.func('int herald_publisher_set_option(void *pub, int option, int64_t value)'),
  publish: lib.func('int herald_publish(void *pub, const char *topic, const uint8_t *data, size_t size)'),
  publishJson: lib.func('int herald_publish_json(void *pub, const char *topic, const char *json, size_t len)'),
  subNew: lib.func('void *herald_subscriber_new(const char *endpoint, _Out_ int *err)'),
  subDestroy: lib.func('void herald_subscriber_destroy(_Inout_ void **sub)'),
  subSet: lib.func('int herald_subscriber_set_option(void *sub, int option, int64_t value)'),
  subscribe: lib.func('int herald_subscribe(void *sub, const char *topic)'),
  unsubscribe: lib.func('int herald_unsubscribe(void *sub, const char *topic)'),
  sync: lib.func('int herald_subscriber_sync(void *sub, int timeout)'),
  recv: lib.func('int herald_recv(void *sub, _Out_ void **ev, int timeout)'),
  topic: lib.func('const char *herald_event_topic(void *ev)'),
  payload: lib.func('const void *herald_event_payload(void *ev, _Out_ size_t *size)'),
  json: lib.func('const void *herald_event_json(void *ev, _Out_ size_t *len)'),
  evDestroy: lib.func('void herald_event_destroy(_Inout_ void **ev)'),
  // HERALD_1.1
  pubClose: since('int herald_publisher_close(_Inout_ void **pub)'),
  subConnected: since('int herald_subscriber_connected(void *sub)'),
  // HERALD_1.2
  pubNewSecure: since('void *herald_publisher_new_secure(const char *endpoint, const char *server, const char *cert, _Out_ int *err)'),
  subNewSecure: since('void *herald_subscriber_new_secure(const char *endpoint, const char *server, const char *cert, _Out_ int *err)'),
  subRefused: since('int herald_subscriber_refused(void *sub)'),
  // HERALD_1.3
  pubBrokers: since('int herald_publisher_brokers(void *pub)'),
  pubBrokerEndpoint: since('const char *herald_publisher_broker_endpoint(void *pub, int i)'),
  pubBrokerUp: since('int herald_publisher_broker_up(void *pub, int i)'),
  pubStat: since('uint64_t herald_publisher_stat(void *pub, int i, int which)'),
  subBrokers: since('int herald_subscriber_brokers(void *sub)'),
  subBrokerEndpoint: since('const char *herald_subscriber_broker_endpoint(void *sub, int i)'),
  subBrokerConnected: since('int herald_subscriber_broker_connected(void *sub, int i)'),
};

/** The C library's herald_err_t codes. */
const ErrorCode = Object.freeze({
  OK: 0, INVALID: 1, NOMEM: 2, TOPIC: 3, TOO_BIG: 4, JSON: 5, MSGPACK: 6, AGAIN: 7,
  TIMEOUT: 8, ENDPOINT: 9, INTERRUPTED: 10, TRANSPORT: 11, UNSENT: 12, KEY: 13, NO_CURVE: 14,
});
const CODE_NAMES = Object.fromEntries(Object.entries(ErrorCode).map(([k, v]) => [v, k]));
const Option = {
  LINGER_MS: 1, SEND_TIMEOUT_MS: 2, HWM: 3, MAX_PAYLOAD: 4, HEARTBEAT_MS: 5, HEARTBEAT_TIMEOUT_MS: 6,
};
const Stat = { sent: 1, confirmed: 2, lost: 3, rerouted: 4, failovers: 5 };

/** A libherald call failed: `code` is the C error code, `message` its text. */
class HeraldError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'HeraldError';
    this.code = code;
    this.codeName = CODE_NAMES[code] || String(code);
  }
}

function check(rc) {
  if (rc !== 0) throw new HeraldError(rc, c.errmsg());
}

function topicArg(topic) {
  if (typeof topic !== 'string') throw new TypeError('topic must be a string');
  // C strings end at the first NUL, so the library could not see this one.
  if (topic.includes('\0')) throw new HeraldError(ErrorCode.TOPIC, 'invalid topic: topic contains a NUL byte');
  return topic;
}

/** Milliseconds for the C API: undefined or null means forever (-1). */
function ms(value, fallback) {
  if (value === undefined) return fallback;
  if (value === null || value === Infinity) return -1;
  return Math.max(0, Math.min(Math.round(value), 2 ** 31 - 1));
}

// An endpoint, or a list of brokers as an array of strings (the C API's
// comma-separated string).
function endpointArg(endpoint) {
  if (endpoint === undefined || endpoint === null) return null;
  if (typeof endpoint === 'string') return endpoint || null;
  if (Array.isArray(endpoint)) {
    if (endpoint.length === 0) throw new HeraldError(ErrorCode.ENDPOINT, 'the list of brokers is empty');
    for (const ep of endpoint) {
      if (typeof ep !== 'string') throw new TypeError('a broker endpoint must be a string');
      if (ep.includes(',')) throw new HeraldError(ErrorCode.ENDPOINT, `an endpoint in a list holds a comma: ${ep}`);
    }
    return endpoint.join(',');
  }
  throw new TypeError('endpoint must be a string, an array of strings, or null');
}

function need(fn) {
  if (!fn) throw new HeraldError(ErrorCode.INVALID, 'the loaded libherald is older than HERALD_1.3');
  return fn;
}

// Creates a handle with herald_*_new_secure, which takes the CURVE files
// (null: the library reads $HERALD_CURVE_SERVER and $HERALD_CURVE_CERT; with
// neither the connection is plaintext), or with herald_*_new from a
// libherald older than HERALD_1.2, which cannot use CURVE.
function create(plain, secure, endpointOrList, options) {
  const err = [0];
  const endpoint = endpointArg(endpointOrList);
  const server = options.curveServer || null;
  const cert = options.curveCert || null;
  let handle;
  if (secure) handle = secure(endpoint || null, server, cert, err);
  else if (server || cert || process.env.HERALD_CURVE_SERVER || process.env.HERALD_CURVE_CERT)
    throw new HeraldError(ErrorCode.NO_CURVE, 'this libherald is older than HERALD_1.2 and cannot use CURVE');
  else handle = plain(endpoint || null, err);
  if (!handle) throw new HeraldError(err[0], c.errmsg());
  return handle;
}

/**
 * Publishes events to a broker's ingress. Safe to share; publish() does not
 * wait for the broker (messages queue until the connection is up).
 */
class Publisher {
  constructor(endpoint, options = {}) {
    this._handle = create(c.pubNew, c.pubNewSecure, endpoint, options);
    try {
      this._set(Option.LINGER_MS, ms(options.linger, 2000));
      this._set(Option.SEND_TIMEOUT_MS, ms(options.sendTimeout, 1000));
      if (options.hwm !== undefined) this._set(Option.HWM, options.hwm);
      if (options.maxPayload !== undefined) this._set(Option.MAX_PAYLOAD, options.maxPayload);
      if (options.heartbeat !== undefined) this._set(Option.HEARTBEAT_MS, options.heartbeat);
      if (options.heartbeatTimeout !== undefined) this._set(Option.HEARTBEAT_TIMEOUT_MS, options.heartbeatTimeout);
    } catch (err2) {
      this.close();
      throw err2;
    }
  }

  /**
   * What was sent to each broker and what came of it, as Python's
   * Publisher.stats() gives it: { brokers: [{ endpoint, up, sent,
   * confirmed, lost, rerouted, failovers }], sent, confirmed, lost,
   * rerouted, failovers }. Needs a libherald with HERALD_1.3.
   */
  stats() {
    const h = this._live();
    const n = need(c.pubBrokers)(h);
    const brokers = [];
    for (let i = 0; i < n; i++) {
      const b = { endpoint: c.pubBrokerEndpoint(h, i), up: c.pubBrokerUp(h, i) === 1 };
      for (const [key, which] of Object.entries(Stat)) b[key] = Number(c.pubStat(h, i, which));
      brokers.push(b);
    }
    const out = { brokers };
    for (const key of Object.keys(Stat)) out[key] = brokers.reduce((sum, b) => sum + b[key], 0);
    return out;
  }

  _live() {
    if (!this._handle) throw new HeraldError(ErrorCode.INVALID, 'the publisher is closed');
    return this._handle;
  }

  _set(option, value) {
    check(c.pubSet(this._live(), option, value));
  }

  /** Publish a JSON-serialisable value. */
  publish(topic, value) {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('the value cannot be serialised as JSON');
    this.publishJson(topic, text);
  }

  /** Publish JSON text as it is (the library packs it to msgpack). */
  publishJson(topic, text) {
    const data = Buffer.from(String(text), 'utf8');
    check(c.publishJson(this._live(), topicArg(topic), data, data.length));
  }

  /** Publish one msgpack value, given as bytes. */
  publishRaw(topic, bytes) {
    const data = Buffer.from(bytes);
    check(c.publish(this._live(), topicArg(topic), data, data.length));
  }

  /**
   * Flush (for at most `linger` ms) and close. Throws a HeraldError with
   * code UNSENT if messages were still queued when the linger time ran out
   * (they were dropped). The publisher is closed either way; closing it
   * again does nothing.
   */
  close() {
    if (!this._handle) return;
    const h = [this._handle];
    this._handle = null;
    if (!c.pubClose) {
      c.pubDestroy(h);          // a libherald older than HERALD_1.1 cannot tell
      return;
    }
    check(c.pubClose(h));
  }
}

/**
 * Receives the events of its topics. Iterate it with `for await`: each item
 * is `{ topic, event }` (`event` decoded from JSON, or a Buffer of msgpack
 * with `{ raw: true }`).
 */
class Subscriber {
  constructor(endpoint, topics = [], options = {}) {
    this._handle = create(c.subNew, c.subNewSecure, endpoint, options);
    this._raw = Boolean(options.raw);
    this._waitMs = options.pollMs ?? 100;   // one wait on the thread pool
    this._busy = false;                     // a call runs on the thread pool
    this._queue = [];                       // calls waiting for it to finish
    this._events = [];                      // received, not yet consumed
    this._waiters = [];                     // consumers waiting for events
    this._closing = false;
    try {
      if (options.hwm !== undefined) check(c.subSet(this._handle, Option.HWM, options.hwm));
      if (options.maxPayload !== undefined) check(c.subSet(this._handle, Option.MAX_PAYLOAD, options.maxPayload));
      if (options.heartbeat !== undefined) check(c.subSet(this._handle, Option.HEARTBEAT_MS, options.heartbeat));
      if (options.heartbeatTimeout !== undefined) check(c.subSet(this._handle, Option.HEARTBEAT_TIMEOUT_MS, options.heartbeatTimeout));
      for (const t of typeof topics === 'string' ? [topics] : topics) check(c.subscribe(this._handle, topicArg(t)));
    } catch (err2) {
      this.close();
      throw err2;
    }
  }

  // Runs fn at once if nothing is on the thread pool, else after it.
  _serial(fn) {
    return new Promise((resolve, reject) => {
      const run = () => {
        try {
          resolve(fn());
        } catch (err) {
          reject(err);
        }
      };
      if (this._busy) this._queue.push(run);
      else run();
    });
  }

  _live() {
    if (!this._handle || this._closing) throw new HeraldError(ErrorCode.INVALID, 'the subscriber is closed');
    return this._handle;
  }

  /**
   * True while the connection to the broker is up (handshake done, not
   * dropped since); false once closed. Needs a libherald with HERALD_1.1.
   */
  get connected() {
    if (!c.subConnected) throw new HeraldError(ErrorCode.INVALID, 'the loaded libherald is older than HERALD_1.1');
    return Boolean(this._handle) && !this._closing && c.subConnected(this._handle) === 1;
  }

  /**
   * True if the broker refused the latest handshake: it does not allow this
   * client's CURVE key to subscribe, or one side uses CURVE and the other
   * not. The subscriber keeps retrying. Needs a libherald with HERALD_1.2.
   */
  get refused() {
    if (!c.subRefused) throw new HeraldError(ErrorCode.INVALID, 'the loaded libherald is older than HERALD_1.2');
    return Boolean(this._handle) && !this._closing && c.subRefused(this._handle) === 1;
  }

  /**
   * Each broker's link: { brokers: [{ endpoint, up }], connected }.
   * Needs a libherald with HERALD_1.3.
   */
  stats() {
    const h = this._live();
    const n = need(c.subBrokers)(h);
    const brokers = [];
    for (let i = 0; i < n; i++) brokers.push({ endpoint: c.subBrokerEndpoint(h, i), up: c.subBrokerConnected(h, i) === 1 });
    return { brokers, connected: brokers.some((b) => b.up) };
  }

  /** Subscribe to topics (matched exactly). Resolves once applied. */
  subscribe(...topics) {
    topics.forEach(topicArg);
    return this._serial(() => topics.forEach((t) => check(c.subscribe(this._live(), t))));
  }

  /** Unsubscribe from topics. */
  unsubscribe(...topics) {
    topics.forEach(topicArg);
    return this._serial(() => topics.forEach((t) => check(c.unsubscribe(this._live(), t))));
  }

  /** Resolves once the broker confirms the subscriptions made so far. */
  async ready(timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rc = await this._serial(() => c.sync(this._live(), 0));
      if (rc === 0) return;
      if (rc !== ErrorCode.TIMEOUT) check(rc);
      if (Date.now() > deadline) throw new HeraldError(ErrorCode.TIMEOUT, 'the broker did not confirm the subscriptions in time');
      await this._pump(Math.min(this._waitMs, Math.max(1, deadline - Date.now())));
    }
  }

  // Turns a received event into { topic, event } and frees it.
  _take(ev) {
    try {
      const topic = c.topic(ev);
      const size = [0];
      let event;
      if (this._raw) {
        const ptr = c.payload(ev, size);
        event = Buffer.from(koffi.view(ptr, size[0]));
      } else {
        const ptr = c.json(ev, size);
        if (!ptr) throw new HeraldError(ErrorCode.NOMEM, c.errmsg());
        event = JSON.parse(Buffer.from(koffi.view(ptr, size[0])).toString('utf8'));
      }
      return { topic, event };
    } finally {
      c.evDestroy([ev]);
    }
  }

  // One wait for events on the thread pool, then whatever else is ready.
  _pump(waitMs) {
    return new Promise((resolve, reject) => {
      if (this._closing || !this._handle) return resolve();
      this._busy = true;
      const out = [null];
      c.recv.async(this._handle, out, waitMs, (err, rc) => {
        this._busy = false;
        try {
          if (err) throw err;
          if (rc === 0) {
            this._events.push(this._take(out[0]));
            // Drain what else has arrived, without waiting.
            for (let i = 0; i < 1024 && !this._closing; i++) {
              const more = [null];
              const rc2 = c.recv(this._handle, more, 0);
              if (rc2 !== 0) break;
              this._events.push(this._take(more[0]));
            }
          } else if (rc !== ErrorCode.TIMEOUT && rc !== ErrorCode.INTERRUPTED) {
            throw new HeraldError(rc, c.errmsg());
          }
          resolve();
        } catch (e) {
          reject(e);
        } finally {
          const queued = this._queue.splice(0);
          queued.forEach((run) => run());
          if (this._closing) this._destroy();
        }
      });
    });
  }

  /** The next event, or undefined once closed. */
  async next() {
    while (this._events.length === 0) {
      if (this._closing || !this._handle) return { done: true, value: undefined };
      if (this._busy) await new Promise((r) => this._queue.push(r));
      else await this._pump(this._waitMs);
    }
    return { done: false, value: this._events.shift() };
  }

  [Symbol.asyncIterator]() {
    return {
      next: () => this.next(),
      return: async () => ({ done: true, value: undefined }),
    };
  }

  _destroy() {
    if (this._handle) {
      const h = [this._handle];
      this._handle = null;
      c.subDestroy(h);
    }
  }

  /**
   * Close the subscriber: iteration ends, and everything is released (once
   * a wait in progress returns). Safe to call twice.
   */
  close() {
    if (this._closing) return;
    this._closing = true;
    if (!this._busy) this._destroy();
  }
}

/** The loaded libherald's version. */
function version() {
  return c.version();
}

module.exports = { Publisher, Subscriber, HeraldError, ErrorCode, version };
