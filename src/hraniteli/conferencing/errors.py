"""The one error a meeting provider raises: which provider failed and why, with no secrets."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider could not do what was asked (HTTP error, timeout, bad credentials, bad reply).

    `reason` is written for the administrators' log: status codes and error kinds only,
    never tokens, keys, client secrets or response bodies that might echo them.
    """

    def __init__(self, platform: str, reason: str, *, account: str | None = None) -> None:
        super().__init__(f"{platform}{f' ({account})' if account else ''}: {reason}")
        self.platform = platform
        self.reason = reason
        self.account = account
