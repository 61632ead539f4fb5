"""The Content Security Policy holds in the browser: inline code is refused, and the guard every
browser test runs under (conftest.csp_violations) notices when it is."""

import pytest

from tests.e2e.conftest import csp_violations

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_injected_inline_script_is_refused_and_reported(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    refused = csp_violations(context)
    try:
        page = context.new_page()
        page.goto("/login/")
        with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
            ran = page.evaluate(
                """() => {
                    window.ranInline = false;
                    const script = document.createElement("script");
                    script.textContent = "window.ranInline = true";
                    document.body.append(script);
                    return window.ranInline;
                }"""
            )
    finally:
        context.close()

    assert ran is False
    assert len(refused) == 1 and "inline script" in refused[0]
