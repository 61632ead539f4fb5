"""System checks: settings that would only fail on the first request are caught at start-up."""

from django.conf import settings
from django.core import checks

from annotator.accounts.throttling import parse_rate


@checks.register(checks.Tags.security)
def api_rate_limits_parse(app_configs, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    for name in ("API_RATE_LIMIT", "API_ANON_RATE_LIMIT"):
        try:
            parse_rate(getattr(settings, name))
        except ValueError as error:
            errors.append(checks.Error(f"{name}: {error}", id="accounts.E001"))
    return errors
