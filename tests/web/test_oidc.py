"""OpenID Connect sign-in against a real (small) identity provider served on loopback.

The provider is a few FastAPI routes of the test's own, run by uvicorn on 127.0.0.1: discovery,
authorisation (approving at once, as the person whose subject the test chooses), the token
endpoint (checking PKCE) and the key set. svduty talks to it over HTTP as it would to Entra ID.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Form, HTTPException
from fastapi.responses import RedirectResponse
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from svduty.config import Settings
from svduty.store import audit as store_audit
from svduty.store import open_store
from svduty.store import users as store_users
from svduty.store.agreements import ensure_agreements
from svduty.web.app import create_app

CLIENT_ID = "svduty-test"


class Provider:
    """A tiny OpenID Connect provider: who signs in next, and whether to misbehave."""

    def __init__(self, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.subject = "subject-1"
        self.wrong_nonce = False
        self.codes: dict[str, dict[str, str]] = {}
        self.app = FastAPI()
        self._routes()

    def _routes(self) -> None:
        app = self.app

        @app.get("/.well-known/openid-configuration")
        def meta() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token",
                "jwks_uri": self.issuer + "/jwks",
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            return {"keys": [self.key.as_dict(private=False)]}

        @app.get("/authorize")
        def authorize(
            redirect_uri: str, state: str, nonce: str, code_challenge: str, client_id: str
        ) -> RedirectResponse:
            assert client_id == CLIENT_ID
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": nonce, "challenge": code_challenge}
            query = urlencode({"code": code, "state": state})
            return RedirectResponse(f"{redirect_uri}?{query}", status_code=302)

        @app.post("/token")
        def token(code: str = Form(), code_verifier: str = Form()) -> dict[str, Any]:
            grant = self.codes.pop(code, None)
            if grant is None:
                raise HTTPException(400, "unknown code")
            digest = hashlib.sha256(code_verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
                raise HTTPException(400, "PKCE check failed")
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "aud": CLIENT_ID,
                "sub": self.subject,
                "iat": now,
                "exp": now + 300,
                "nonce": "not-the-nonce" if self.wrong_nonce else grant["nonce"],
                "preferred_username": "someone@example.nhs.net",
            }
            signed = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
            return {"id_token": signed, "access_token": "unused", "token_type": "Bearer"}


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    idp = Provider(port)
    server = uvicorn.Server(uvicorn.Config(idp.app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test identity provider did not start"
    yield idp
    server.should_exit = True
    thread.join(timeout=10)


def _app(tmp_path: Path, issuer: str | None) -> tuple[TestClient, Any]:
    settings = Settings(
        data_dir=tmp_path / "data", oidc_issuer=issuer, oidc_client_id=CLIENT_ID,
        oidc_client_secret="not-used-by-this-provider", oidc_label="Test SSO",  # noqa: S106
    )  # fmt: skip
    store = open_store(settings)
    ensure_agreements(store)
    store_users.create_user(
        store, "sso-analyst", "analyst", "health", None, oidc_subject="subject-1"
    )
    return TestClient(create_app(settings, store=store)), store


def _sign_in(client: TestClient) -> httpx.Response:
    start = client.get("/login/oidc", params={"next": "/dashboard"}, follow_redirects=False)
    assert start.status_code == 303
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    back = urlparse(at_provider.headers["location"])
    return client.get(back.path + "?" + back.query, follow_redirects=False)


def test_a_provisioned_user_signs_in(provider: Provider, tmp_path: Path) -> None:
    client, store = _app(tmp_path, provider.issuer)
    assert "Sign in with Test SSO" in client.get("/login").text
    provider.subject, provider.wrong_nonce = "subject-1", False
    done = _sign_in(client)
    assert done.status_code == 303 and done.headers["location"] == "/dashboard"
    me = client.get("/api/me").json()
    assert (me["name"], me["role"], me["org"]) == ("sso-analyst", "analyst", "health")
    assert store_audit.search(store, action="sign-in", actor="sso-analyst", outcome="ok")


def test_unknown_subjects_and_bad_tokens_are_refused(provider: Provider, tmp_path: Path) -> None:
    client, store = _app(tmp_path, provider.issuer)
    provider.subject, provider.wrong_nonce = "someone-not-set-up", False
    refused = _sign_in(client)
    assert refused.status_code == 403 and "not set up in svduty" in refused.text
    assert client.get("/api/me").status_code == 401
    provider.subject, provider.wrong_nonce = "subject-1", True
    bad = _sign_in(client)
    assert bad.status_code == 403 and "not valid" in bad.text
    assert client.get("/api/me").status_code == 401
    # A callback that did not start here (a forged state) is refused too.
    provider.wrong_nonce = False
    start = client.get("/login/oidc", follow_redirects=False)
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    query = parse_qs(urlparse(at_provider.headers["location"]).query)
    forged = client.get(
        "/login/oidc/callback", params={"code": query["code"][0], "state": "forged"}
    )
    assert forged.status_code == 403 and client.get("/api/me").status_code == 401
    refusals = store_audit.search(store, action="sign-in", outcome="refused")
    assert len(refusals) >= 3


def test_single_sign_on_is_off_unless_configured(tmp_path: Path) -> None:
    client, _ = _app(tmp_path, None)
    assert "single sign-on" not in client.get("/login").text.lower()
    assert client.get("/login/oidc").status_code == 404
