"""A connection URL whose password never shows in `repr`, `str` or f-strings."""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["SecretURL"]


class SecretURL:
    """A URL that hides its password: shown as ``postgresql://app:***@db:5432/app``.

    `get_secret_value()` returns the full URL for the one place that needs it (the driver),
    as `pydantic.SecretStr` does. Two SecretURLs are equal when their full URLs are.
    """

    __slots__ = ("_masked", "_url")

    def __init__(
        self,
        scheme: str,
        *,
        host: str = "",
        port: int | None = None,
        path: str = "",
        username: str | None = None,
        password: str | None = None,
        query: str = "",
    ) -> None:
        netloc = host
        if port is not None:
            netloc = f"{netloc}:{port}"
        userinfo = quote(username, safe="") if username else ""
        masked_userinfo = userinfo
        if password:
            userinfo = f"{userinfo}:{quote(password, safe='')}"
            masked_userinfo = f"{masked_userinfo}:***"
        suffix = f"{path}?{query}" if query else path
        if userinfo:
            self._url = f"{scheme}://{userinfo}@{netloc}{suffix}"
            self._masked = f"{scheme}://{masked_userinfo}@{netloc}{suffix}"
        else:
            self._url = self._masked = f"{scheme}://{netloc}{suffix}"

    def get_secret_value(self) -> str:
        """The full URL, password included: pass it to the driver, never to a log."""
        return self._url

    def __str__(self) -> str:
        return self._masked

    def __repr__(self) -> str:
        return f"SecretURL({self._masked!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretURL) and other._url == self._url

    def __hash__(self) -> int:
        return hash(self._url)
