"""manage.py serve refuses process layouts that cannot work, before it starts anything."""

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.parametrize(
    ("redis_url", "embedded", "message"),
    [
        ("", True, "scale-out mode"),
        ("redis://127.0.0.1:6379/9", True, "embedded Celery worker"),
    ],
)
def test_several_processes_need_redis_and_a_separate_worker(settings, redis_url, embedded, message):
    settings.REDIS_URL = redis_url
    settings.CELERY_WORKER_EMBEDDED = embedded

    with pytest.raises(CommandError, match=message):
        call_command("serve", workers=2)


def test_zero_processes_is_refused():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("serve", workers=0)
