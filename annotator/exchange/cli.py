"""What the `export` and `import` management commands share: the acting user and a terminal
progress bar that takes the same updates as a Command's Progress."""

from django.core.management.base import CommandError
from tqdm import tqdm

from annotator.accounts.models import User


class TerminalProgress:
    """A Progress (update(percent), beat()) drawn as a tqdm bar on stderr."""

    def __init__(self, description: str) -> None:
        self.bar = tqdm(total=100, desc=description, unit="%", bar_format="{l_bar}{bar}| {n:.0f}% [{elapsed}]")

    def update(self, percent: float, *, force: bool = False) -> None:
        value = max(0.0, min(100.0, percent))
        if value > self.bar.n:
            self.bar.update(value - self.bar.n)

    def beat(self) -> None:
        self.bar.refresh()

    def close(self, *, done: bool) -> None:
        if done:
            self.update(100)
        self.bar.close()


def acting_user(email: str) -> User:
    """The user the operation runs as: its permissions apply, as in the API."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        raise CommandError(f"No user with the email {email!r}.")
    return user
