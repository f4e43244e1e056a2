"""The dashboard as an OpenID Connect relying party: authorization code flow with PKCE.

authlib builds the authorization request (S256 code challenge, state, nonce) and redeems the
code; the ID token is checked with joserfc against the provider's published keys: signature,
issuer, audience, expiry and the nonce of this sign-in. Provider errors become one error type
with a sentence a coordinator can pass on to their administrator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ks_engine.person_sessions import Person

_METADATA_SECONDS = 3600


class SignInFailedError(Exception):
    """The provider could not be reached, or what it answered cannot be trusted."""


@dataclass(frozen=True)
class Pending:
    """What the browser's return from the provider must match."""

    state: str
    nonce: str
    code_verifier: str
    url: str


@dataclass(frozen=True)
class SignedInPerson:
    """A person whose ID token checked out, and the token (a hint for signing out)."""

    person: Person
    id_token: str


class OidcClient:
    """One configured provider."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        redirect_uri: str,
        groups_claim: str = "groups",
        scope: str = "openid profile",
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uri, self.groups_claim, self.scope = redirect_uri, groups_claim, scope
        self._metadata: dict[str, Any] | None = None
        self._fetched = 0.0

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            self.client_id,
            self.client_secret,
            scope=self.scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.client_secret else "none",
            timeout=10,
        )

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour)."""
        if self._metadata is None or time.monotonic() - self._fetched > _METADATA_SECONDS:
            url = f"{self.issuer}/.well-known/openid-configuration"
            self._metadata = await self._get_json(url)
            self._fetched = time.monotonic()
        return self._metadata

    async def start(self) -> Pending:
        """A new authorization request: where to send the browser, and what to remember."""
        meta = await self.metadata()
        verifier, nonce = generate_token(64), generate_token(32)
        async with self._client() as client:
            url, state = client.create_authorization_url(
                meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
            )
        return Pending(state=state, nonce=nonce, code_verifier=verifier, url=url)

    async def finish(self, code: str, pending: Pending) -> SignedInPerson:
        """Redeem the code and check the ID token; SignInFailedError when anything is off."""
        meta = await self.metadata()
        try:
            async with self._client() as client:
                token = await client.fetch_token(
                    meta["token_endpoint"], code=code, code_verifier=pending.code_verifier
                )
        except Exception as e:  # authlib and the HTTP stack raise many kinds; one answer here
            raise SignInFailedError(
                f"the identity provider did not accept the sign-in ({type(e).__name__})"
            ) from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailedError("the identity provider sent no ID token")
        claims = await self._verified_claims(id_token, meta, pending.nonce)
        groups = claims.get(self.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        person = Person(self.issuer, str(claims["sub"]), tuple(str(g) for g in groups))
        return SignedInPerson(person, id_token)

    async def end_session_url(self, id_token: str, after: str) -> str | None:
        """Where to send the browser to sign out at the provider too (None if it has none)."""
        endpoint = (await self.metadata()).get("end_session_endpoint")
        if not endpoint:
            return None
        query = httpx2.QueryParams(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": after,
                "client_id": self.client_id,
            }
        )
        return f"{endpoint}?{query}"

    async def _verified_claims(
        self, id_token: str, meta: dict[str, Any], nonce: str
    ) -> dict[str, Any]:
        keys = KeySet.import_key_set(await self._get_json(meta["jwks_uri"]))  # type: ignore[arg-type]
        try:
            decoded = jwt.decode(id_token, keys)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": meta.get("issuer", self.issuer)},
                aud={"essential": True, "value": self.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as e:
            raise SignInFailedError(f"the ID token is not valid ({type(e).__name__})") from None
        return dict(decoded.claims)

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx2.AsyncClient(timeout=10) as http:
                answer = await http.get(url)
                answer.raise_for_status()
                data = answer.json()
        except (httpx2.HTTPError, ValueError) as e:
            raise SignInFailedError(
                f"the identity provider at {self.issuer} cannot be reached ({type(e).__name__})"
            ) from None
        if not isinstance(data, dict):
            raise SignInFailedError(f"the identity provider at {self.issuer} answered oddly")
        return data
