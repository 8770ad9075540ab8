"""OpenID Connect sign-in (authorisation code flow with PKCE), as public-sector identity
providers offer it (Microsoft Entra ID, NHS.net Connect, Okta...).

Offered when ``SVDUTY_OIDC_ISSUER`` and ``SVDUTY_OIDC_CLIENT_ID`` are set (and the secret, for a
confidential client). The provider proves who the person is; svduty only lets in a user that an
administrator created with that provider's subject (``svduty users create NAME --role R --org O
--oidc-subject SUB``), so signing in with the provider never creates an account by itself.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from svduty.config import Settings

DISCOVERY_SECONDS = 3600
_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


class OidcError(Exception):
    """The provider's answer could not be trusted or used."""


def enabled(settings: Settings) -> bool:
    """Whether single sign-on is configured."""
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def _get_json(url: str) -> dict[str, Any]:
    with _lock:
        hit = _cache.get(url)
        if hit and time.monotonic() - hit[0] < DISCOVERY_SECONDS:
            return hit[1]
    try:
        r = httpx.get(url, timeout=10)
        r.raise_for_status()
        data = r.json()
    except (httpx.HTTPError, ValueError) as e:
        raise OidcError(f"the identity provider did not answer at {url}: {e}") from e
    with _lock:
        _cache[url] = (time.monotonic(), data)
    return data


def discovery(settings: Settings) -> dict[str, Any]:
    """The provider's metadata (``/.well-known/openid-configuration``), cached for an hour."""
    issuer = str(settings.oidc_issuer).rstrip("/")
    meta = _get_json(issuer + "/.well-known/openid-configuration")
    if meta.get("issuer", "").rstrip("/") != issuer:
        raise OidcError("the provider's metadata names another issuer")
    return meta


def start(settings: Settings, redirect_uri: str) -> tuple[str, dict[str, str]]:
    """The provider's authorisation URL, and what the session must keep for the callback."""
    meta = discovery(settings)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = {
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile email",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    url = meta["authorization_endpoint"] + "?" + urlencode(query)
    return url, {"state": state, "nonce": nonce, "verifier": verifier, "redirect_uri": redirect_uri}


def finish(settings: Settings, code: str, kept: dict[str, str]) -> dict[str, Any]:
    """Exchange the code for an ID token and check it: signature, issuer, audience, expiry, nonce.

    Returns:
        The ID token's claims (``sub`` is the person's subject at the provider).
    """
    meta = discovery(settings)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": kept["redirect_uri"],
        "client_id": settings.oidc_client_id,
        "code_verifier": kept["verifier"],
    }
    if settings.oidc_client_secret:
        form["client_secret"] = settings.oidc_client_secret
    try:
        r = httpx.post(meta["token_endpoint"], data=form, timeout=10)
        r.raise_for_status()
        id_token = r.json()["id_token"]
    except (httpx.HTTPError, ValueError, KeyError) as e:
        raise OidcError(f"the identity provider refused the sign-in code: {e}") from e
    keys = KeySet.import_key_set(_get_json(meta["jwks_uri"]))
    try:
        token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256"])
        JWTClaimsRegistry(
            iss={"essential": True, "value": meta["issuer"]},
            aud={"essential": True, "value": settings.oidc_client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": kept["nonce"]},
        ).validate(token.claims)
    except (JoseError, ValueError) as e:
        raise OidcError(f"the identity provider's token is not valid: {e}") from e
    return dict(token.claims)
