"""Herald for Python: publish events to a Herald broker and subscribe to them.

Publishing, for example from a GraphQL mutation resolver::

    import herald

    with herald.Publisher() as pub:
        pub.publish("chat.general", {"id": "1", "text": "hi"})

Subscribing in asyncio::

    async with herald.Subscriber(topics=["chat.general"]) as sub:
        async for topic, event in sub:
            print(topic, event)

The binding uses ctypes over libherald's C ABI and has no compiled part.
Errors from the library raise :class:`HeraldError`, which carries the C
error code and the library's message.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import enum
import json
import os
import sys
import weakref
from typing import Any, AsyncIterator, Iterable, Iterator, Optional, Tuple, Union

from ._lib import has, lib

__all__ = [
    "ErrorCode",
    "HeraldError",
    "Publisher",
    "Subscriber",
    "DEFAULT_PUB_ENDPOINT",
    "DEFAULT_SUB_ENDPOINT",
    "TOPIC_MAX",
    "version",
    "json_to_msgpack",
    "msgpack_to_json",
]

DEFAULT_PUB_ENDPOINT = "tcp://127.0.0.1:7400"
DEFAULT_SUB_ENDPOINT = "tcp://127.0.0.1:7401"
TOPIC_MAX = 255

Event = Tuple[str, Any]


class ErrorCode(enum.IntEnum):
    """The C library's ``herald_err_t`` values."""

    OK = 0
    INVALID = 1
    NOMEM = 2
    TOPIC = 3
    TOO_BIG = 4
    JSON = 5
    MSGPACK = 6
    AGAIN = 7
    TIMEOUT = 8
    ENDPOINT = 9
    INTERRUPTED = 10
    TRANSPORT = 11
    UNSENT = 12
    KEY = 13
    NO_CURVE = 14


class _Option(enum.IntEnum):
    LINGER_MS = 1
    SEND_TIMEOUT_MS = 2
    HWM = 3
    MAX_PAYLOAD = 4
    HEARTBEAT_MS = 5
    HEARTBEAT_TIMEOUT_MS = 6


class _Stat(enum.IntEnum):
    SENT = 1
    CONFIRMED = 2
    LOST = 3
    REROUTED = 4
    FAILOVERS = 5


Endpoint = Union[None, str, Iterable[str]]


def _endpoint(endpoint: Endpoint) -> Optional[str]:
    """An endpoint, or a list of brokers given as a list or tuple of str
    (the C API's comma-separated string)."""
    if endpoint is None or isinstance(endpoint, str):
        return endpoint
    if isinstance(endpoint, (list, tuple)):
        for ep in endpoint:
            if not isinstance(ep, str):
                raise TypeError(f"a broker endpoint must be str, not {type(ep).__name__}")
            if "," in ep:
                raise HeraldError(ErrorCode.ENDPOINT, f"an endpoint in a list holds a comma: {ep!r}")
        if not endpoint:
            raise HeraldError(ErrorCode.ENDPOINT, "the list of brokers is empty")
        return ",".join(endpoint)
    raise TypeError(f"endpoint must be str, a list of str or None, not {type(endpoint).__name__}")


def _need(name: str) -> None:
    if not has(name):
        raise HeraldError(ErrorCode.INVALID, "the loaded libherald is older than HERALD_1.3")


class HeraldError(Exception):
    """A libherald call failed.

    ``code`` is the C error code (an :class:`ErrorCode` where known) and
    ``message`` the library's description, for example
    ``"invalid JSON at line 1, column 9: ..."``.
    """

    def __init__(self, code: int, message: str) -> None:
        try:
            code = ErrorCode(code)
        except ValueError:
            pass
        self.code = code
        self.message = message
        super().__init__(f"{message} [{getattr(code, 'name', code)}]")


def _check(rc: int) -> None:
    if rc != 0:
        raise HeraldError(rc, lib.herald_errmsg().decode("utf-8", "replace"))


def _topic(topic: str) -> bytes:
    if not isinstance(topic, str):
        raise TypeError(f"topic must be str, not {type(topic).__name__}")
    data = topic.encode("utf-8", "surrogatepass")
    # C strings end at the first NUL, so the library could not see this.
    if b"\0" in data:
        raise HeraldError(ErrorCode.TOPIC, "invalid topic: topic contains a NUL byte")
    return data


def _ms(seconds: Optional[float]) -> int:
    """Seconds (None = forever) to the C API's milliseconds (-1 = forever)."""
    if seconds is None:
        return -1
    if seconds <= 0:
        return 0
    return max(1, min(int(seconds * 1000), 2**31 - 1))


def version() -> str:
    """The version of the loaded libherald, as "MAJOR.MINOR.PATCH"."""
    return lib.herald_version().decode()


def json_to_msgpack(text: Union[str, bytes]) -> bytes:
    """Pack JSON text into msgpack bytes, as the library does when publishing."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    out = ctypes.c_void_p()
    size = ctypes.c_size_t()
    _check(lib.herald_json_to_msgpack(data, len(data), ctypes.byref(out), ctypes.byref(size)))
    try:
        return ctypes.string_at(out.value, size.value)
    finally:
        lib.herald_free(out)


def msgpack_to_json(data: bytes) -> str:
    """Convert one msgpack value to JSON text, mapped as docs/wire.md says."""
    out = ctypes.c_void_p()
    size = ctypes.c_size_t()
    _check(lib.herald_msgpack_to_json(bytes(data), len(data), ctypes.byref(out), ctypes.byref(size)))
    try:
        return ctypes.string_at(out.value, size.value).decode("utf-8")
    finally:
        lib.herald_free(out)


# Publishers still open when the interpreter exits are closed then, so that
# a script that publishes and ends without close() still flushes. Nobody is
# left to catch an exception there, so a loss is reported on stderr.
_open_publishers: "weakref.WeakSet[Publisher]" = weakref.WeakSet()


def _new(kind: str, endpoint: Endpoint, curve_server: Optional[str],
         curve_cert: Optional[str]) -> ctypes.c_void_p:
    """herald_<kind>_new_secure, which takes the CURVE files (None: the
    library reads $HERALD_CURVE_SERVER and $HERALD_CURVE_CERT; with neither
    the connection is plaintext), or herald_<kind>_new from a libherald
    older than HERALD_1.2, which cannot use CURVE."""
    err = ctypes.c_int()
    endpoint = _endpoint(endpoint)
    ep = endpoint.encode() if endpoint else None
    secure = f"herald_{kind}_new_secure"
    if has(secure):
        handle = getattr(lib, secure)(ep, _path(curve_server), _path(curve_cert), ctypes.byref(err))
    elif curve_server or curve_cert or os.environ.get("HERALD_CURVE_SERVER") \
            or os.environ.get("HERALD_CURVE_CERT"):
        raise HeraldError(ErrorCode.NO_CURVE, "this libherald is older than HERALD_1.2 "
                          "and cannot use CURVE")
    else:
        handle = getattr(lib, f"herald_{kind}_new")(ep, ctypes.byref(err))
    if not handle:
        _check(err.value)
    return ctypes.c_void_p(handle)


def _path(value: Optional[Union[str, "os.PathLike[str]"]]) -> Optional[bytes]:
    return os.fsencode(value) if value else None


@atexit.register
def _close_publishers() -> None:
    for pub in list(_open_publishers):
        pub._close_reporting("at interpreter exit")


class Publisher:
    """Publishes events to a broker's ingress.

    :param endpoint: the broker's ingress, such as ``"tcp://10.0.0.5:7400"``;
        ``None`` means ``$HERALD_PUB_ENDPOINT`` if set, else
        :data:`DEFAULT_PUB_ENDPOINT`. Several brokers: a list or tuple of
        ingress endpoints, or one str with commas, in the same order for
        every publisher and subscriber; each topic goes to its owner
        broker, or the next live one (docs/libherald.md, "Several
        brokers"), and :meth:`stats` counts what each confirmed or lost.
    :param linger: seconds :meth:`close` waits to flush queued messages
        (default 2.0; ``None`` waits forever).
    :param send_timeout: seconds a publish waits for queue room before it
        raises ``HeraldError`` with code ``AGAIN`` (default 1.0; ``None``
        waits forever, 0 never waits).
    :param hwm: messages that may queue towards the broker (default 100000).
    :param max_payload: largest packed payload in bytes (default 1 MiB).
    :param heartbeat: seconds between ZMTP heartbeats on each broker link
        (default 0.5 with a list, 5 with one endpoint; 0.001 to 600).
    :param heartbeat_timeout: seconds without an answer after which a link
        is dropped and its topics move on (default 1.5 with a list, 15
        with one endpoint).
    :param curve_server: for a broker with CURVE, its public certificate
        file (or its public key, 40 characters of Z85); ``None`` means
        ``$HERALD_CURVE_SERVER`` if set.
    :param curve_cert: this client's secret certificate file (``herald
        keygen NAME`` writes ``NAME_secret``), which the broker must allow
        to publish; ``None`` means ``$HERALD_CURVE_CERT`` if set. Give both
        or neither; with neither the connection is plaintext. A missing or
        bad file raises :class:`HeraldError` with code ``KEY``.

    A publisher is safe to share between threads. Creating it does not wait
    for the broker: messages queue until the connection is up.
    :meth:`close` (or leaving a ``with`` block) raises :class:`HeraldError`
    with code ``UNSENT`` if messages were dropped because the linger time
    ran out. Publishers not closed by the program are closed (and flushed)
    at interpreter exit, where a loss is printed on stderr.
    """

    def __init__(
        self,
        endpoint: Endpoint = None,
        *,
        linger: Optional[float] = 2.0,
        send_timeout: Optional[float] = 1.0,
        hwm: Optional[int] = None,
        max_payload: Optional[int] = None,
        heartbeat: Optional[float] = None,
        heartbeat_timeout: Optional[float] = None,
        curve_server: Optional[str] = None,
        curve_cert: Optional[str] = None,
    ) -> None:
        self._handle = _new("publisher", endpoint, curve_server, curve_cert)
        _open_publishers.add(self)
        try:
            self._set(_Option.LINGER_MS, _ms(linger))
            self._set(_Option.SEND_TIMEOUT_MS, _ms(send_timeout))
            if hwm is not None:
                self._set(_Option.HWM, hwm)
            if max_payload is not None:
                self._set(_Option.MAX_PAYLOAD, max_payload)
            if heartbeat is not None:
                self._set(_Option.HEARTBEAT_MS, round(heartbeat * 1000))
            if heartbeat_timeout is not None:
                self._set(_Option.HEARTBEAT_TIMEOUT_MS, round(heartbeat_timeout * 1000))
        except BaseException:
            self._close_reporting("after a failed set-up")
            raise

    def _set(self, option: int, value: int) -> None:
        _check(lib.herald_publisher_set_option(self._live(), option, value))

    def _live(self) -> ctypes.c_void_p:
        if not self._handle:
            raise HeraldError(ErrorCode.INVALID, "the publisher is closed")
        return self._handle

    def publish(self, topic: str, obj: Any) -> None:
        """Publish ``obj``, which must be JSON-serialisable, to ``topic``.

        Raises :class:`HeraldError` (codes ``TOPIC``, ``TOO_BIG``, ``AGAIN``
        for backpressure, ...), or ``TypeError``/``ValueError`` for objects
        JSON cannot represent.
        """
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        self.publish_json(topic, text)

    def publish_json(self, topic: str, text: Union[str, bytes]) -> None:
        """Publish JSON text as it is (packed to msgpack by the library)."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        _check(lib.herald_publish_json(self._live(), _topic(topic), data, len(data)))

    def publish_raw(self, topic: str, data: bytes) -> None:
        """Publish ``data``, which must be exactly one msgpack value."""
        data = bytes(data)
        _check(lib.herald_publish(self._live(), _topic(topic), data, len(data)))

    def stats(self) -> dict:
        """What the publisher sent to each broker, and what came of it::

            {"brokers": [{"endpoint": str, "up": bool, "sent": int,
                          "confirmed": int, "lost": int, "rerouted": int,
                          "failovers": int}, ...],
             "sent": int, "confirmed": int, "lost": int, "rerouted": int,
             "failovers": int}

        ``lost`` counts the events a broker had not confirmed when its link
        was seen to drop (in doubt: it may have forwarded some of them);
        ``rerouted`` those sent while their owner broker was down;
        ``failovers`` how many times a link dropped. With one endpoint
        there are no confirmations (``confirmed`` and ``lost`` stay 0).
        Needs a libherald with HERALD_1.3."""
        _need("herald_publisher_stat")
        h = self._live()
        keys = {"sent": _Stat.SENT, "confirmed": _Stat.CONFIRMED, "lost": _Stat.LOST,
                "rerouted": _Stat.REROUTED, "failovers": _Stat.FAILOVERS}
        brokers = []
        for i in range(lib.herald_publisher_brokers(h)):
            b = {"endpoint": lib.herald_publisher_broker_endpoint(h, i).decode(),
                 "up": bool(lib.herald_publisher_broker_up(h, i))}
            b.update({k: int(lib.herald_publisher_stat(h, i, v)) for k, v in keys.items()})
            brokers.append(b)
        out: dict = {"brokers": brokers}
        out.update({k: sum(b[k] for b in brokers) for k in keys})
        return out

    def close(self) -> None:
        """Flush (for at most ``linger`` seconds) and close.

        Raises :class:`HeraldError` with code ``UNSENT`` if messages were
        still queued when the linger time ran out (they were dropped; the
        message says how many were published and whether the broker was
        ever connected). With several brokers, ``UNSENT`` means that not
        every event was confirmed: the message gives how many were counted
        lost and how many were still unconfirmed. The publisher is closed
        either way, and closing it again does nothing.
        """
        if not getattr(self, "_handle", None):
            return
        _open_publishers.discard(self)
        if not has("herald_publisher_close"):
            # A libherald older than HERALD_1.1 cannot tell.
            lib.herald_publisher_destroy(ctypes.byref(self._handle))
            self._handle = ctypes.c_void_p()
            return
        rc = lib.herald_publisher_close(ctypes.byref(self._handle))
        self._handle = ctypes.c_void_p()
        _check(rc)

    def _close_reporting(self, when: str) -> None:
        """Close where no caller can catch the error: report it on stderr."""
        try:
            self.close()
        except HeraldError as err:
            if sys.stderr is not None:
                print(f"herald: publisher closed {when}: {err}", file=sys.stderr)

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(self, exc_type: object, exc: Optional[BaseException], tb: object) -> None:
        try:
            self.close()
        except HeraldError as err:
            if exc is None:
                raise
            # Keep the exception that ended the block, and add the loss.
            note = f"herald: when closing the publisher: {err}"
            if hasattr(exc, "add_note"):
                exc.add_note(note)
            elif sys.stderr is not None:
                print(note, file=sys.stderr)

    def __del__(self) -> None:
        self._close_reporting("by the garbage collector")


class Subscriber:
    """Receives the events of the topics it subscribes to.

    Use it as an asyncio async iterator (``async for topic, event in sub``),
    which waits on the library's file descriptor with ``loop.add_reader``
    and never blocks the loop, or as a blocking iterator
    (``for topic, event in sub``). ``event`` is the decoded JSON value, or
    the msgpack ``bytes`` when ``raw=True``.

    :param endpoint: the broker's egress; ``None`` means
        ``$HERALD_SUB_ENDPOINT`` if set, else :data:`DEFAULT_SUB_ENDPOINT`.
        Several brokers: a list or tuple of egress endpoints (or one str
        with commas), in the publishers' order; the subscriber connects to
        each and receives every event once.
    :param topics: topics to subscribe to at once (matched exactly).
    :param raw: yield msgpack bytes instead of decoded JSON.
    :param hwm: messages that may wait unread (default 100000).
    :param max_payload: larger payloads are skipped (default 1 MiB).
    :param heartbeat: as for :class:`Publisher` (set before subscribing:
        the links are made again).
    :param heartbeat_timeout: as for :class:`Publisher`.
    :param curve_server: for a broker with CURVE, its public certificate
        (or key); ``None`` means ``$HERALD_CURVE_SERVER`` if set.
    :param curve_cert: this client's secret certificate, which the broker
        must allow to subscribe; ``None`` means ``$HERALD_CURVE_CERT`` if
        set. As for :class:`Publisher`; :attr:`refused` says when the
        broker turns the key away.

    A subscriber must be used from one thread (or one event loop) at a time.
    """

    def __init__(
        self,
        endpoint: Endpoint = None,
        topics: Iterable[str] = (),
        *,
        raw: bool = False,
        hwm: Optional[int] = None,
        max_payload: Optional[int] = None,
        heartbeat: Optional[float] = None,
        heartbeat_timeout: Optional[float] = None,
        curve_server: Optional[str] = None,
        curve_cert: Optional[str] = None,
    ) -> None:
        if isinstance(topics, str):
            topics = [topics]
        self._handle = _new("subscriber", endpoint, curve_server, curve_cert)
        self._raw = raw
        self._waiter: Optional[asyncio.Future] = None
        try:
            if hwm is not None:
                _check(lib.herald_subscriber_set_option(self._handle, _Option.HWM, hwm))
            if max_payload is not None:
                _check(lib.herald_subscriber_set_option(self._handle, _Option.MAX_PAYLOAD, max_payload))
            if heartbeat is not None:
                _check(lib.herald_subscriber_set_option(self._handle, _Option.HEARTBEAT_MS,
                                                        round(heartbeat * 1000)))
            if heartbeat_timeout is not None:
                _check(lib.herald_subscriber_set_option(self._handle, _Option.HEARTBEAT_TIMEOUT_MS,
                                                        round(heartbeat_timeout * 1000)))
            fd = ctypes.c_int()
            _check(lib.herald_subscriber_fd(self._handle, ctypes.byref(fd)))
            self._fd = fd.value
            self.subscribe(*topics)
        except BaseException:
            self.close()
            raise

    def _live(self) -> ctypes.c_void_p:
        if not self._handle:
            raise HeraldError(ErrorCode.INVALID, "the subscriber is closed")
        return self._handle

    def _wake(self) -> None:
        # Subscribing can consume the fd's edge; let a waiting reader look
        # for events again rather than sleep through them.
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def subscribe(self, *topics: str) -> None:
        """Subscribe to each topic. Subscribing twice is harmless."""
        for topic in topics:
            _check(lib.herald_subscribe(self._live(), _topic(topic)))
        self._wake()

    def unsubscribe(self, *topics: str) -> None:
        """Unsubscribe from each topic."""
        for topic in topics:
            _check(lib.herald_unsubscribe(self._live(), _topic(topic)))
        self._wake()

    @property
    def skipped(self) -> int:
        """Messages skipped for breaking the wire format or the size limit."""
        return int(lib.herald_subscriber_skipped(self._handle)) if self._handle else 0

    @property
    def connected(self) -> bool:
        """True while the connection to the broker is up (handshake done,
        not dropped since); with several brokers, while at least one is
        (:meth:`stats` gives each). It may be read from any thread; False
        once closed. Needs a libherald with HERALD_1.1."""
        if not has("herald_subscriber_connected"):
            raise HeraldError(ErrorCode.INVALID, "the loaded libherald is older than HERALD_1.1")
        handle = getattr(self, "_handle", None)
        return bool(lib.herald_subscriber_connected(handle)) if handle else False

    @property
    def refused(self) -> bool:
        """True if the broker refused the latest handshake: it does not
        allow this client's CURVE key to subscribe, or one side uses CURVE
        and the other not. The subscriber keeps retrying. May be read from
        any thread. Needs a libherald with HERALD_1.2."""
        if not has("herald_subscriber_refused"):
            raise HeraldError(ErrorCode.INVALID, "the loaded libherald is older than HERALD_1.2")
        handle = getattr(self, "_handle", None)
        return bool(lib.herald_subscriber_refused(handle)) if handle else False

    def stats(self) -> dict:
        """Each broker's link, and what was skipped::

            {"brokers": [{"endpoint": str, "up": bool}, ...],
             "connected": bool, "skipped": int}

        ``connected`` is :attr:`connected`: at least one broker is. May be
        read from any thread. Needs a libherald with HERALD_1.3."""
        _need("herald_subscriber_brokers")
        h = self._live()
        brokers = [{"endpoint": lib.herald_subscriber_broker_endpoint(h, i).decode(),
                    "up": bool(lib.herald_subscriber_broker_connected(h, i))}
                   for i in range(lib.herald_subscriber_brokers(h))]
        return {"brokers": brokers, "connected": any(b["up"] for b in brokers),
                "skipped": self.skipped}

    def fileno(self) -> int:
        """The library's pollable descriptor (edge-triggered; see herald.h)."""
        return self._fd

    def sync(self, timeout: Optional[float] = 5.0) -> None:
        """Block until the broker confirms every subscription made so far.

        Anything published after this returns is delivered. Raises
        :class:`HeraldError` with code ``TIMEOUT`` if no confirmation came.
        """
        _check(lib.herald_subscriber_sync(self._live(), _ms(timeout)))

    async def ready(self, timeout: Optional[float] = 5.0) -> None:
        """Like :meth:`sync`, without blocking the event loop."""

        async def confirm() -> None:
            while True:
                rc = lib.herald_subscriber_sync(self._live(), 0)
                if rc == 0:
                    return
                if rc != ErrorCode.TIMEOUT:
                    _check(rc)
                # With several brokers, one coming up or going down (or one
                # not reached in time) changes the answer and announces
                # nothing on the descriptor: look again every 100 ms, as
                # herald_subscriber_sync does.
                try:
                    await asyncio.wait_for(self._readable(), 0.1)
                except asyncio.TimeoutError:
                    pass

        try:
            await asyncio.wait_for(confirm(), timeout)
        except asyncio.TimeoutError:
            raise HeraldError(
                ErrorCode.TIMEOUT, "the broker did not confirm the subscriptions in time"
            ) from None

    def _take(self, rc: int, ev: ctypes.c_void_p) -> Optional[Event]:
        if rc == ErrorCode.TIMEOUT or rc == ErrorCode.INTERRUPTED:
            return None
        _check(rc)
        try:
            topic = lib.herald_event_topic(ev).decode("utf-8")
            size = ctypes.c_size_t()
            if self._raw:
                ptr = lib.herald_event_payload(ev, ctypes.byref(size))
                return topic, ctypes.string_at(ptr, size.value)
            ptr = lib.herald_event_json(ev, ctypes.byref(size))
            if not ptr:
                _check(ErrorCode.NOMEM)
            return topic, json.loads(ctypes.string_at(ptr, size.value))
        finally:
            lib.herald_event_destroy(ctypes.byref(ev))

    def recv(self, timeout: Optional[float] = None) -> Optional[Event]:
        """Wait up to ``timeout`` seconds (``None``: forever) for the next
        event. Returns ``(topic, event)``, or ``None`` on timeout."""
        ms = _ms(timeout)
        while True:
            ev = ctypes.c_void_p()
            rc = lib.herald_recv(self._live(), ctypes.byref(ev), ms)
            # A signal (Ctrl-C) interrupts the wait; Python raises its
            # exception as soon as the call returns, and otherwise we go on.
            if rc == ErrorCode.INTERRUPTED:
                continue
            return self._take(rc, ev)

    def recv_nowait(self) -> Optional[Event]:
        """The next event if one is waiting, else ``None``."""
        ev = ctypes.c_void_p()
        return self._take(lib.herald_recv(self._live(), ctypes.byref(ev), 0), ev)

    async def _readable(self) -> None:
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        waiter = self._waiter

        def on_ready() -> None:
            if not waiter.done():
                waiter.set_result(None)

        loop.add_reader(self._fd, on_ready)
        try:
            await waiter
        finally:
            loop.remove_reader(self._fd)
            self._waiter = None

    async def arecv(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The asyncio form of :meth:`recv`."""

        async def wait() -> Event:
            while True:
                event = self.recv_nowait()
                if event is not None:
                    return event
                await self._readable()

        try:
            return await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            return None

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        if not self._handle:
            raise StopIteration
        event = self.recv(None)
        assert event is not None
        return event

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        while True:
            if not self._handle:
                raise StopAsyncIteration
            event = self.recv_nowait()
            if event is not None:
                return event
            await self._readable()

    def close(self) -> None:
        """Close the subscriber. Safe to call twice."""
        if getattr(self, "_handle", None):
            self._wake()
            lib.herald_subscriber_destroy(ctypes.byref(self._handle))
            self._handle = ctypes.c_void_p()

    def __enter__(self) -> "Subscriber":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Subscriber":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
