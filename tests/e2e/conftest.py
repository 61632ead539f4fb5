"""Browser fixtures for the end-to-end tests: Debian's Chromium driven by Playwright's sync API."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
# Screenshots land here; the folder is git-ignored.
RESULTS_DIR = ROOT / "test-results"

# A slow machine may need longer than Playwright's default 5 s for a page to settle.
expect.set_options(timeout=10_000)


# Scoped to this package, not the session: one Chromium serves every e2e test, and both
# Playwright's event loop and DJANGO_ALLOW_ASYNC_UNSAFE are gone before pytest runs any other
# test. A session-scoped fixture would keep them until the very end, and then the async tests
# that pytest-django orders after these fail ("Runner.run() cannot be called from a running
# event loop"), and `manage.py check --deploy` in tests/test_settings.py inherits the variable
# and fails with async.E001.
@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"The end-to-end tests need Debian's Chromium at {CHROMIUM}, which is missing. "
            "Install it with `apt-get install -y chromium` (as root), or run `make test` as root, which installs it.",
            pytrace=False,
        )
    # Playwright's sync API runs an asyncio event loop in the main thread and marks it as
    # running between calls. Django then takes every ORM call the tests make in that thread
    # (factories, services, assertions on the database) for a call from async code and
    # raises SynchronousOnlyOperation. These calls are plain blocking code, so allow them
    # while Playwright is active, and put the setting back afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def csp_violations(context) -> list[str]:
    """Collects what Chromium reports refusing under our Content Security Policy in `context`'s pages.

    Every page is served with a policy that allows no inline script or style; a page that
    needs one would work here only half, so each browser test asserts this stays empty.
    """
    refused: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            refused.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", on_console)
    return refused


@pytest.fixture
def page(browser, live_server):
    """A page in a fresh browser context (no cookies), with relative URLs going to the live server.
    The test fails if any page it opened broke the Content Security Policy."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    refused = csp_violations(context)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert refused == [], refused


@pytest.fixture
def screenshot_dir() -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    return RESULTS_DIR


@pytest.fixture
def log_in(page):
    """log_in(user): log `page` in through the login page, as a person would, and land on the projects."""

    def log_in_as(user, password: str = PASSWORD) -> None:
        page.goto("/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()

    return log_in_as
