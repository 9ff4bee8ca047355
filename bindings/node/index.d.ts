// Type declarations for the herald Node binding (index.js).

/** The C library's herald_err_t codes. */
export declare const ErrorCode: {
  readonly OK: 0;
  readonly INVALID: 1;
  readonly NOMEM: 2;
  readonly TOPIC: 3;
  readonly TOO_BIG: 4;
  readonly JSON: 5;
  readonly MSGPACK: 6;
  readonly AGAIN: 7;
  readonly TIMEOUT: 8;
  readonly ENDPOINT: 9;
  readonly INTERRUPTED: 10;
  readonly TRANSPORT: 11;
  readonly UNSENT: 12;
  readonly KEY: 13;
  readonly NO_CURVE: 14;
};

/** A libherald call failed. */
export declare class HeraldError extends Error {
  /** The C error code (see ErrorCode). */
  readonly code: number;
  /** The code's name, such as "TOPIC". */
  readonly codeName: string;
}

export interface PublisherOptions {
  /** ms close() waits to flush queued messages (default 2000; null: forever). */
  linger?: number | null;
  /** ms a publish waits for queue room before throwing AGAIN (default 1000; null: forever). */
  sendTimeout?: number | null;
  /** messages that may queue towards the broker (default 100000). */
  hwm?: number;
  /** largest packed payload in bytes (default 1048576). */
  maxPayload?: number;
  /** ms between ZMTP heartbeats on each broker link (default 500 with a list, 5000 with one endpoint). */
  heartbeat?: number;
  /** ms without an answer after which a link is dropped and its topics move on (default 1500 with a list, 15000 with one). */
  heartbeatTimeout?: number;
  /** For a broker with CURVE: its public certificate file (or key); default $HERALD_CURVE_SERVER. */
  curveServer?: string;
  /** This client's secret certificate file, allowed to publish; default $HERALD_CURVE_CERT. Both or neither. */
  curveCert?: string;
}

/** One broker's counters, in Publisher.stats(). */
export interface PublisherBrokerStats {
  endpoint: string;
  up: boolean;
  sent: number;
  confirmed: number;
  /** Sent and not confirmed when the link dropped (in doubt). */
  lost: number;
  /** Sent here while the topic's owner was not live. */
  rerouted: number;
  failovers: number;
}

export interface PublisherStats {
  brokers: PublisherBrokerStats[];
  sent: number;
  confirmed: number;
  lost: number;
  rerouted: number;
  failovers: number;
}

export declare class Publisher {
  /**
   * endpoint: the broker's ingress; default $HERALD_PUB_ENDPOINT or tcp://127.0.0.1:7400.
   * Several brokers: an array of ingress endpoints (or one string with commas), in the same
   * order for every publisher and subscriber.
   */
  constructor(endpoint?: string | string[] | null, options?: PublisherOptions);
  /** What was sent to each broker and what came of it (HERALD_1.3). */
  stats(): PublisherStats;
  /** Publish a JSON-serialisable value. */
  publish(topic: string, value: unknown): void;
  /** Publish JSON text as it is. */
  publishJson(topic: string, text: string): void;
  /** Publish one msgpack value given as bytes. */
  publishRaw(topic: string, bytes: Uint8Array): void;
  /**
   * Flush (for at most `linger` ms) and close. Throws HeraldError with code
   * UNSENT if messages were dropped when the linger time ran out; closed
   * either way, and a second call does nothing.
   */
  close(): void;
}

export interface SubscriberOptions {
  /** Yield msgpack Buffers instead of decoded JSON. */
  raw?: boolean;
  /** messages that may wait unread (default 100000). */
  hwm?: number;
  /** larger payloads are skipped (default 1048576). */
  maxPayload?: number;
  /** ms of each wait on the thread pool; subscribe() and close() may wait this long (default 100). */
  pollMs?: number;
  /** As for PublisherOptions (set at construction: the links are made again). */
  heartbeat?: number;
  heartbeatTimeout?: number;
  /** For a broker with CURVE: its public certificate file (or key); default $HERALD_CURVE_SERVER. */
  curveServer?: string;
  /** This client's secret certificate file, allowed to subscribe; default $HERALD_CURVE_CERT. Both or neither. */
  curveCert?: string;
}

export interface HeraldEvent<T = unknown> {
  topic: string;
  event: T;
}

export declare class Subscriber<T = unknown> implements AsyncIterable<HeraldEvent<T>> {
  /**
   * endpoint: the broker's egress; default $HERALD_SUB_ENDPOINT or tcp://127.0.0.1:7401.
   * Several brokers: an array of egress endpoints, in the publishers' order.
   */
  constructor(endpoint?: string | string[] | null, topics?: string | string[], options?: SubscriberOptions);
  /** Each broker's link (HERALD_1.3); connected: at least one is up. */
  stats(): { brokers: { endpoint: string; up: boolean }[]; connected: boolean };
  subscribe(...topics: string[]): Promise<void>;
  unsubscribe(...topics: string[]): Promise<void>;
  /** Resolves once the broker confirms the subscriptions made so far. */
  ready(timeoutMs?: number): Promise<void>;
  /** True while the connection to the broker is up (handshake done, not dropped since); with a list, while one is. */
  readonly connected: boolean;
  /** True if the broker refused the latest handshake (CURVE key not allowed, or a security mismatch). */
  readonly refused: boolean;
  next(): Promise<IteratorResult<HeraldEvent<T>>>;
  [Symbol.asyncIterator](): AsyncIterator<HeraldEvent<T>>;
  /** End iteration and release everything. Safe to call twice. */
  close(): void;
}

/** The loaded libherald's version, "MAJOR.MINOR.PATCH". */
export declare function version(): string;
