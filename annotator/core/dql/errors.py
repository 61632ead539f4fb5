"""The one error DQL raises: a 400 whose message names the offending field, operator or key."""

from typing import Any

from annotator.core.errors import BadRequest

CODE = "invalid_query"
_MAX_QUOTED = 80


def quoted(text: object) -> str:
    """User text for an error message: quoted, escaped and shortened."""
    value = text if isinstance(text, str) else repr(text)
    if len(value) > _MAX_QUOTED:
        value = value[:_MAX_QUOTED] + "…"
    return repr(value)


def invalid(message: str, **details: Any) -> BadRequest:
    return BadRequest(message, details=details or None, code=CODE)
