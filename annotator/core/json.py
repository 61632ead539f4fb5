"""Helpers for Dataloop-shaped entity JSON."""

from datetime import UTC, datetime


def iso(value: datetime | None) -> str | None:
    """Timestamps as Dataloop writes them: ISO 8601 UTC with milliseconds and a Z."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
