"""POST /token (login and refresh), bearer API keys, and every way a token can be bad."""

import time
from datetime import timedelta
from unittest import mock

import jwt
import pytest
from django.conf import settings
from django.utils import timezone

from annotator.accounts import services
from annotator.accounts.models import ApiToken
from annotator.accounts.tokens import ALGORITHM, ISSUER
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/token?default"
ME_URL = "/api/v1/users/me"


def login(client, email, password, address="10.0.0.1"):
    return client.post(
        TOKEN_URL,
        {"username": email, "password": password, "type": "user_credentials"},
        format="json",
        REMOTE_ADDR=address,
    )


def forged(user, record_id, *, typ="api_key", exp_delta=timedelta(hours=1), key=None, **extra):
    now = timezone.now()
    claims = {
        "iss": ISSUER,
        "sub": user.id,
        "email": user.email,
        "typ": typ,
        "jti": record_id,
        "iat": int(now.timestamp()),
        "exp": int((now + exp_delta).timestamp()),
        **extra,
    }
    return jwt.encode(claims, key or settings.JWT_SIGNING_KEY, algorithm=ALGORITHM)


def test_password_login_returns_jwts_the_sdk_can_read(anon_api, user):
    # when
    response = login(anon_api, user.email, PASSWORD)

    # then: unverified decoding (as dtlpy does) finds email and a far exp
    assert response.status_code == 200
    body = response.json()
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["email"] == user.email
    assert claims["exp"] - timezone.now().timestamp() > 60
    assert set(body) == {"id_token", "refresh_token"}
    # and the id token authenticates API calls
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['id_token']}")
    assert anon_api.get(ME_URL).json()["email"] == user.email


def test_login_accepts_email_in_any_case(anon_api, user):
    assert login(anon_api, user.email.upper(), PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [("user@example.com", "wrong"), ("nobody@example.com", PASSWORD), ("", ""), ("user@example.com", "")],
)
def test_bad_credentials_get_401_and_issue_nothing(anon_api, email, password):
    # given
    UserFactory(email="user@example.com")

    # when
    response = login(anon_api, email, password)

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert ApiToken.objects.count() == 0


def test_inactive_user_cannot_log_in(anon_api):
    inactive = UserFactory(is_active=False)
    assert login(anon_api, inactive.email, PASSWORD).status_code == 401


def test_unknown_grant_type_is_400(anon_api, user):
    response = anon_api.post(TOKEN_URL, {"type": "client_credentials"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_repeated_failed_logins_are_throttled_even_with_the_right_password(anon_api, user, settings):
    # given: the limit of failures from one address
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert login(anon_api, user.email, "wrong").status_code == 401

    # when: the right password arrives while locked out
    response = login(anon_api, user.email, PASSWORD)

    # then
    assert response.status_code == 429
    assert response.json()["details"]["retryAfter"] > 0
    assert ApiToken.objects.count() == 0
    # and another address is not locked out
    assert login(anon_api, user.email, PASSWORD, address="10.0.0.2").status_code == 200


def test_a_success_clears_the_failure_count(anon_api, user, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    login(anon_api, user.email, "wrong")
    login(anon_api, user.email, "wrong")
    assert login(anon_api, user.email, PASSWORD).status_code == 200
    login(anon_api, user.email, "wrong")
    login(anon_api, user.email, "wrong")
    assert login(anon_api, user.email, PASSWORD).status_code == 200


def test_refresh_returns_a_new_id_token_and_can_be_repeated(anon_api, user):
    # given
    refresh = login(anon_api, user.email, PASSWORD).json()["refresh_token"]

    # when: the SDK reuses the same refresh token each time
    first = anon_api.post(TOKEN_URL, {"type": "refresh_token", "refresh_token": refresh}, format="json")
    second = anon_api.post(TOKEN_URL, {"type": "refresh_token", "refresh_token": refresh}, format="json")

    # then
    assert first.status_code == second.status_code == 200
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {second.json()['id_token']}")
    assert anon_api.get(ME_URL).status_code == 200


def test_refresh_token_cannot_call_the_api_and_id_token_cannot_refresh(anon_api, user):
    tokens = login(anon_api, user.email, PASSWORD).json()
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['refresh_token']}")
    assert anon_api.get(ME_URL).status_code == 401
    anon_api.credentials()
    response = anon_api.post(TOKEN_URL, {"type": "refresh_token", "refresh_token": tokens["id_token"]}, format="json")
    assert response.status_code == 401


def test_refresh_without_token_is_400(anon_api):
    response = anon_api.post(TOKEN_URL, {"type": "refresh_token"}, format="json")
    assert response.status_code == 400


def test_revoking_a_session_ends_its_refresh_and_id_tokens(anon_api, user):
    # given
    tokens = login(anon_api, user.email, PASSWORD).json()
    ApiToken.objects.filter(user=user, kind=ApiToken.Kind.SESSION).update(revoked_at=timezone.now())

    # when / then
    refreshed = anon_api.post(
        TOKEN_URL, {"type": "refresh_token", "refresh_token": tokens["refresh_token"]}, format="json"
    )
    assert refreshed.status_code == 401
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['id_token']}")
    assert anon_api.get(ME_URL).status_code == 401


def test_api_key_authenticates_and_records_last_use(anon_api, user):
    # given
    record, token = services.api_key_create(user=user, name="ci")

    # when
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = anon_api.get(ME_URL)

    # then
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    record.refresh_from_db()
    assert record.last_used_at is not None


def _bad_tokens(user):
    record, good = services.api_key_create(user=user, name="k")
    revoked_record, revoked = services.api_key_create(user=user, name="revoked")
    services.api_key_revoke(user=user, token_id=revoked_record.id)
    head, payload, signature = good.split(".")
    tampered_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(user.email.encode(), b"evil@example.com" + b" " * 0)
    ).decode()
    unsigned = jwt.encode(
        {
            "email": user.email,
            "exp": 9999999999,
            "sub": user.id,
            "jti": record.id,
            "typ": "api_key",
            "iss": ISSUER,
            "iat": 1,
        },
        key=None,
        algorithm="none",
    )
    return {
        "expired": forged(user, record.id, exp_delta=timedelta(seconds=-5)),
        "tampered": f"{head}.{tampered_payload}.{signature}",
        "wrong key": forged(user, record.id, key="not-the-server-key-" * 4),
        "revoked": revoked,
        "unsigned": unsigned,
        "unknown record": forged(user, "0" * 24),
        "other user's record": forged(UserFactory(), record.id),
        "garbage": "not-a-jwt",
        "missing claims": jwt.encode({"exp": 9999999999}, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM),
        "expired record": forged(
            user,
            ApiToken.objects.create(
                user=user, kind="api_key", name="old", expires_at=timezone.now() - timedelta(days=1)
            ).id,
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "tampered",
        "wrong key",
        "revoked",
        "unsigned",
        "unknown record",
        "other user's record",
        "garbage",
        "missing claims",
        "expired record",
    ],
)
def test_bad_bearer_tokens_get_401_in_the_error_shape(anon_api, user, case):
    # given
    token = _bad_tokens(user)[case]

    # when
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = anon_api.get(ME_URL)

    # then
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401 and body["code"] in {"invalid_token", "not_authenticated"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_credentials_is_401(anon_api):
    response = anon_api.get(ME_URL)
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_api_keys_are_listed_created_and_revoked_over_the_api(client_for, user):
    # given
    api = client_for(user)

    # when
    created = api.post("/api/v1/users/me/apikeys", {"name": "training", "days": 30}, format="json")

    # then
    assert created.status_code == 201
    key = created.json()
    assert key["token"] and key["active"] is True
    names = [k["name"] for k in api.get("/api/v1/users/me/apikeys").json()]
    assert "training" in names and all("token" not in k for k in api.get("/api/v1/users/me/apikeys").json())

    # when revoked, the key stops working at once
    assert api.delete(f"/api/v1/users/me/apikeys/{key['id']}").json()["active"] is False
    other = type(api)()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {key['token']}")
    assert other.get(ME_URL).status_code == 401


@pytest.mark.parametrize(
    "payload", [{"name": ""}, {"name": "x" * 101}, {"name": "k", "days": 0}, {"name": "k", "days": 99999}, {}]
)
def test_bad_api_key_requests_are_400_and_create_nothing(client_for, user, payload):
    api = client_for(user)
    before = ApiToken.objects.count()
    assert api.post("/api/v1/users/me/apikeys", payload, format="json").status_code == 400
    assert ApiToken.objects.count() == before


def test_users_cannot_revoke_someone_elses_key(client_for, user):
    other = UserFactory()
    record, _ = services.api_key_create(user=other, name="theirs")
    response = client_for(user).delete(f"/api/v1/users/me/apikeys/{record.id}")
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.revoked_at is None


def test_a_key_that_worked_is_refused_once_it_expires(anon_api, user):
    # given: a key that has authenticated (its checked claims are kept for the next request)
    record = ApiToken.objects.create(user=user, kind="api_key", name="k", expires_at=timezone.now() + timedelta(days=1))
    token = forged(user, record.id, exp_delta=timedelta(seconds=30))
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert anon_api.get(ME_URL).status_code == 200

    # when: its exp passes
    later = time.time() + 31
    with mock.patch("annotator.accounts.tokens.time.time", return_value=later):
        response = anon_api.get(ME_URL)

    # then
    assert response.status_code == 401
    assert response.json()["message"] == "Token has expired."


def test_a_key_signed_with_a_replaced_signing_key_is_refused(anon_api, user, settings):
    record = ApiToken.objects.create(user=user, kind="api_key", name="k", expires_at=timezone.now() + timedelta(days=1))
    token = forged(user, record.id)
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert anon_api.get(ME_URL).status_code == 200

    settings.JWT_SIGNING_KEY = "a-new-signing-key-" * 4

    assert anon_api.get(ME_URL).status_code == 401
