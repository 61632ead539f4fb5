"""Every page and API answer carries the Content Security Policy and the other hardening headers."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", ["/login/", "/", "/api/v1/users/me", "/no-such-page/"])
def test_pages_and_api_answers_carry_a_policy_without_inline_code(path):
    response = Client(HTTP_HOST="127.0.0.1").get(path)

    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_the_pages_hold_no_inline_script_style_or_handler(user):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    for path in ("/login/", "/"):
        html = client.get(path, follow=True).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html), path
        assert not re.search(r"\sstyle=\"", html), path
        assert not re.search(r"\son[a-z]+=\"", html), path
