"""Loading libherald and declaring its C functions for ctypes.

The library is looked for, in order:

1. at the path in the ``HERALD_LIBRARY`` environment variable;
2. in a build tree beside this package (``build/libclient`` under the
   repository root, or ``$HERALD_BUILD_DIR/libclient``);
3. on the system, as ``libherald.so.1``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

SONAME = "libherald.so.1"


def _candidates() -> list[str]:
    found = []
    env = os.environ.get("HERALD_LIBRARY")
    if env:
        return [env]
    root = Path(__file__).resolve().parents[3]
    build_dirs = []
    if os.environ.get("HERALD_BUILD_DIR"):
        build_dirs.append(Path(os.environ["HERALD_BUILD_DIR"]))
    build_dirs.append(root / "build")
    for build in build_dirs:
        path = build / "libclient" / SONAME
        if path.exists():
            found.append(str(path))
    system = ctypes.util.find_library("herald")
    found.append(system or SONAME)
    return found


def _load() -> ctypes.CDLL:
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as exc:
            errors.append(f"{path}: {exc}")
    raise ImportError(
        "cannot load libherald; build it (make build), set HERALD_LIBRARY to "
        "the path of libherald.so.1, or install it. Tried: " + "; ".join(errors)
    )


lib = _load()

_c = ctypes
_vp = _c.c_void_p
_sz = _c.c_size_t
_int = _c.c_int
_str = _c.c_char_p


def _fn(name: str, restype, *argtypes) -> None:
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


_added: set = set()


def _since(name: str, restype, *argtypes) -> None:
    """Declare a function added after HERALD_1.0 (in HERALD_1.1, 1.2 or 1.3). An
    older libherald.so.1 lacks it; the binding then does without (has()
    says)."""
    try:
        _fn(name, restype, *argtypes)
    except AttributeError:
        return
    _added.add(name)


def has(name: str) -> bool:
    """Whether the loaded library has a function added after HERALD_1.0."""
    return name in _added


_fn("herald_version", _str)
_fn("herald_strerror", _str, _int)
_fn("herald_errmsg", _str)
_fn("herald_free", None, _vp)
_fn("herald_json_to_msgpack", _int, _str, _sz, _c.POINTER(_vp), _c.POINTER(_sz))
_fn("herald_msgpack_to_json", _int, _str, _sz, _c.POINTER(_vp), _c.POINTER(_sz))

_fn("herald_publisher_new", _vp, _str, _c.POINTER(_int))
_fn("herald_publisher_destroy", None, _c.POINTER(_vp))
_fn("herald_publisher_set_option", _int, _vp, _int, _c.c_int64)
_fn("herald_publish", _int, _vp, _str, _str, _sz)
_fn("herald_publish_json", _int, _vp, _str, _str, _sz)
_since("herald_publisher_close", _int, _c.POINTER(_vp))
_since("herald_publisher_new_secure", _vp, _str, _str, _str, _c.POINTER(_int))
_since("herald_publisher_brokers", _int, _vp)
_since("herald_publisher_broker_endpoint", _str, _vp, _int)
_since("herald_publisher_broker_up", _int, _vp, _int)
_since("herald_publisher_stat", _c.c_uint64, _vp, _int, _int)

_fn("herald_subscriber_new", _vp, _str, _c.POINTER(_int))
_fn("herald_subscriber_destroy", None, _c.POINTER(_vp))
_fn("herald_subscriber_set_option", _int, _vp, _int, _c.c_int64)
_fn("herald_subscribe", _int, _vp, _str)
_fn("herald_unsubscribe", _int, _vp, _str)
_fn("herald_subscriber_sync", _int, _vp, _int)
_fn("herald_subscriber_fd", _int, _vp, _c.POINTER(_int))
_fn("herald_recv", _int, _vp, _c.POINTER(_vp), _int)
_fn("herald_subscriber_skipped", _c.c_uint64, _vp)
_since("herald_subscriber_connected", _int, _vp)
_since("herald_subscriber_new_secure", _vp, _str, _str, _str, _c.POINTER(_int))
_since("herald_subscriber_refused", _int, _vp)
_since("herald_subscriber_brokers", _int, _vp)
_since("herald_subscriber_broker_endpoint", _str, _vp, _int)
_since("herald_subscriber_broker_connected", _int, _vp, _int)

_fn("herald_event_topic", _str, _vp)
_fn("herald_event_payload", _vp, _vp, _c.POINTER(_sz))
_fn("herald_event_json", _vp, _vp, _c.POINTER(_sz))
_fn("herald_event_metadata", _vp, _vp, _c.POINTER(_sz))
_fn("herald_event_destroy", None, _c.POINTER(_vp))
