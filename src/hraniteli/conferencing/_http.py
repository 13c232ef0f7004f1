"""Plumbing of the HTTP providers: timeouts, errors without secrets, cached access tokens."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from hraniteli.conferencing.errors import ProviderError

TOKEN_REFRESH_MARGIN_SECONDS = 60.0
"""Tokens are renewed this long before they expire, so none expires in the middle of a call."""

MonotonicClock = Callable[[], float]


class ProviderHttp:
    """One provider's view of the shared client: a timeout on every call, errors as ProviderError.

    httpx messages can carry URLs and request details, so only the exception's kind is kept.
    """

    def __init__(
        self, client: httpx.AsyncClient, *, platform: str, account: str | None, timeout: float
    ) -> None:
        self.client = client
        self.platform = platform
        self.account = account
        self.timeout = timeout

    def error(self, reason: str) -> ProviderError:
        return ProviderError(self.platform, reason, account=self.account)

    async def send(self, what: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.client.request(method, url, timeout=self.timeout, **kwargs)
        except httpx.TimeoutException as exc:
            raise self.error(f"{what}: timed out after {self.timeout:g}s") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self.error(f"{what}: {type(exc).__name__}") from exc

    def json_object(self, what: str, response: httpx.Response) -> dict[str, Any]:
        if not response.is_success:
            raise self.error(f"{what}: HTTP {response.status_code}{_oauth_error_code(response)}")
        try:
            body = response.json()
        except ValueError as exc:
            raise self.error(f"{what}: the reply is not JSON") from exc
        if not isinstance(body, dict):
            raise self.error(f"{what}: the reply is not a JSON object")
        return body


_ERROR_CODE = re.compile(r"^[A-Za-z_]{1,40}$")


def _oauth_error_code(response: httpx.Response) -> str:
    """The OAuth `error` code (e.g. invalid_client) when there is one: short, safe to log."""
    try:
        body = response.json()
    except ValueError:
        return ""
    code = body.get("error") if isinstance(body, dict) else None
    return f" ({code})" if isinstance(code, str) and _ERROR_CODE.match(code) else ""


def token_from(http: ProviderHttp, what: str, response: httpx.Response) -> tuple[str, float]:
    body = http.json_object(what, response)
    token, expires_in = body.get("access_token"), body.get("expires_in")
    if not isinstance(token, str) or not token:
        raise http.error(f"{what}: no access_token in the reply")
    if not isinstance(expires_in, int | float) or expires_in <= 0:
        expires_in = 3600
    return token, float(expires_in)


class TokenCache:
    """One access token, fetched when first needed and reused until shortly before it expires."""

    def __init__(self, fetch: Callable[[], Awaitable[tuple[str, float]]], *, clock: MonotonicClock) -> None:
        self._fetch = fetch
        self._clock = clock
        self._token: str | None = None
        self._valid_until = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        async with self._lock:  # concurrent callers share one token request
            if self._token is None or self._clock() >= self._valid_until:
                token, expires_in = await self._fetch()
                self._token = token
                self._valid_until = self._clock() + max(0.0, expires_in - TOKEN_REFRESH_MARGIN_SECONDS)
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget a token the API refused, unless another caller has already replaced it."""
        if self._token == token:
            self._token = None


async def authorized(
    http: ProviderHttp, tokens: TokenCache, what: str, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """Call with the cached token; on 401 (revoked or expired early) retry once with a fresh one."""
    response: httpx.Response | None = None
    for _ in range(2):
        token = await tokens.get()
        headers = {"Authorization": f"Bearer {token}"}
        response = await http.send(what, method, url, headers=headers, **kwargs)
        if response.status_code != httpx.codes.UNAUTHORIZED:
            return response
        tokens.invalidate(token)
    assert response is not None
    return response
