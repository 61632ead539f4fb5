"""HS256 JWTs: API keys, login id tokens and refresh tokens.

The dtlpy SDK decodes tokens without checking them and refuses to send a request
unless `exp` is more than 60 s away, and it reads the `email` claim; so every token
carries `email` and `exp`. The server checks the signature, the expiry, the token's
purpose (`typ`) and that its record (`jti`, an ApiToken id) has not been revoked.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import jwt
from django.conf import settings

ALGORITHM = "HS256"
ISSUER = "annotator"


class TokenType:
    API_KEY = "api_key"
    ID = "id"
    REFRESH = "refresh"


# Tokens that may authenticate an API request; refresh tokens only buy new id tokens.
BEARER_TYPES = frozenset({TokenType.API_KEY, TokenType.ID})


@dataclass(frozen=True)
class TokenClaims:
    token_id: str
    user_id: str
    email: str
    typ: str
    expires_at: datetime


class InvalidToken(Exception):
    """The token is malformed, tampered with, expired or of the wrong type."""


def encode_token(
    *, token_id: str, user_id: str, email: str, typ: str, issued_at: datetime, expires_at: datetime
) -> str:
    claims = {
        "iss": ISSUER,
        "sub": user_id,
        "email": email,
        "typ": typ,
        "jti": token_id,
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM)


def decode_token(raw: str, *, allowed_types: frozenset[str]) -> TokenClaims:
    claims = _verified_claims(raw, settings.JWT_SIGNING_KEY)
    if claims["exp"] <= time.time():  # as PyJWT decides it, with no leeway
        raise InvalidToken("Token has expired.")
    if claims["typ"] not in allowed_types:
        raise InvalidToken("Token cannot be used here.")

    return TokenClaims(
        token_id=str(claims["jti"]),
        user_id=str(claims["sub"]),
        email=str(claims["email"]),
        typ=str(claims["typ"]),
        expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
    )


@lru_cache(maxsize=4096)
def _verified_claims(raw: str, key: str) -> dict:
    """The claims of a token whose signature, issuer and claims check out, but for its expiry,
    which the caller checks on every use. Kept per token and signing key: every API request
    carries its key, and checking the signature again cost ~2% of a request's CPU. A token
    that fails raises, and failures are not kept."""
    try:
        claims = jwt.decode(
            raw,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "jti", "sub", "email", "typ"], "verify_exp": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken("Token is invalid.") from exc
    if not isinstance(claims["exp"], int | float):
        raise InvalidToken("Token is invalid.")
    return claims
