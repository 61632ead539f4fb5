"""Failed-login throttling, shared by the login page and POST /token.

Failures are counted per (email, client address) in the cache, which is Redis in the
scale-out mode, so the limit holds across web processes. A success clears the count.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from annotator.core.errors import TooManyRequests


def _key(email: str, address: str) -> str:
    digest = hashlib.sha256(f"{email.strip().lower()}|{address}".encode()).hexdigest()
    return f"login-failures:{digest}"


def login_attempt_check(*, email: str, address: str) -> None:
    """Raise TooManyRequests while this email and address are locked out."""
    record = cache.get(_key(email, address))
    if record and record["count"] >= settings.LOGIN_FAILURE_LIMIT:
        retry_after = max(1, int(record["first"] + settings.LOGIN_FAILURE_WINDOW_SECONDS - time.time()))
        raise TooManyRequests("Too many failed logins. Try again later.", retry_after=retry_after)


def login_failure_record(*, email: str, address: str) -> None:
    key = _key(email, address)
    now = time.time()
    record = cache.get(key) or {"count": 0, "first": now}
    record["count"] += 1
    remaining = max(1, int(record["first"] + settings.LOGIN_FAILURE_WINDOW_SECONDS - now))
    cache.set(key, record, timeout=remaining)


def login_failures_clear(*, email: str, address: str) -> None:
    cache.delete(_key(email, address))
