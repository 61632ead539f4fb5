"""Failed-login throttling, shared by the login page and POST /token; and the API's rate limits.

Failures are counted per (email, client address) in the cache, which is Redis in the
scale-out mode, so the limit holds across web processes. A success clears the count.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from annotator.core.cache import window_count
from annotator.core.errors import TooManyRequests

logger = logging.getLogger(__name__)


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


# --- API rate limits ----------------------------------------------------------------------------
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def parse_rate(rate: str) -> tuple[int, int] | None:
    """'600/min' -> (600, 60); '' or 'off' -> None (no limit). A malformed rate is a config error."""
    rate = rate.strip().lower()
    if rate in {"", "off", "none", "0"}:
        return None
    count, _, period = rate.partition("/")
    if not count.isdigit() or int(count) < 1 or period not in _PERIODS:
        raise ValueError(f"a rate is '<requests>/<s|min|hour>' or 'off', not {rate!r}")
    return int(count), _PERIODS[period]


class ApiRateThrottle(BaseThrottle):
    """Requests per caller per fixed window: a signed-in user by id, anyone else by address.

    One atomic cache increment per request, in one round trip (Redis in the scale-out mode, so
    the limit holds across web processes). The rates are read from settings on every request,
    so they can be changed without a restart of the test process; a cache outage lets requests
    through rather than failing them, because a limiter must not take the API down with it.
    """

    def allow_request(self, request, view) -> bool:
        user = getattr(request, "user", None)
        signed_in = bool(user and user.is_authenticated)
        limit = parse_rate(settings.API_RATE_LIMIT if signed_in else settings.API_ANON_RATE_LIMIT)
        if limit is None:
            return True
        count, period = limit
        now = time.time()
        window = int(now // period)
        who = f"user:{user.pk}" if signed_in else f"addr:{self.get_ident(request)}"
        key = f"api-rate:{who}:{period}:{window}"
        try:
            seen = window_count(key, timeout=period + 1)
        except Exception:  # see the class docstring
            logger.warning("API rate limiter: the cache is unreachable; letting the request through", exc_info=True)
            return True
        self._wait = (window + 1) * period - now
        return seen <= count

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)
