"""Input read strictly: a value of the wrong type is a 400, never silently coerced or defaulted."""

from rest_framework import serializers
from rest_framework.request import Request

from annotator.core.errors import BadRequest

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"", "0", "false", "no", "off"}


def query_flag(request: Request, name: str) -> bool:
    """A boolean query parameter: absent or empty is false; anything but a yes/no word is a 400."""
    value = request.query_params.get(name, "").strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise BadRequest(f"{name} must be true or false.", details={name: "not a boolean"})


class StrictCharField(serializers.CharField):
    """A CharField that takes only JSON strings: DRF's own turns 12 or 3.5 into "12" or "3.5"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
