"""Entity ids: 24 lowercase hex characters that sort in creation order.

Layout (12 bytes): a 6-byte millisecond timestamp, then a 6-byte tail. Within one
millisecond a process increments the tail of its previous id, so ids from one process
are strictly increasing; across processes they are ordered to the millisecond, like
MongoDB ObjectIds. The SDK pages with {"id": {"$gt": lastId}}, which relies on this.
"""

import secrets
import threading
import time

ID_LENGTH = 24
_lock = threading.Lock()
_last_ms = 0
_last_tail = 0
# Start the tail in the lower half so that increments within a millisecond never overflow.
_TAIL_START_LIMIT = 1 << 47


def new_id() -> str:
    global _last_ms, _last_tail
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            now_ms = _last_ms
            _last_tail += 1
        else:
            _last_ms = now_ms
            _last_tail = secrets.randbelow(_TAIL_START_LIMIT)
        return f"{now_ms:012x}{_last_tail:012x}"


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == ID_LENGTH and all(ch in "0123456789abcdef" for ch in value)
