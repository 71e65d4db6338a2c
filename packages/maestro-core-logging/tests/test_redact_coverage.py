"""What redaction covers: header containers, dataclasses, key tokens, URLs, exception text."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import maestro_core_logging as mcl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from maestro_core_logging._redact import Redactor
from starlette.datastructures import Headers

if TYPE_CHECKING:
    from .conftest import Output

REDACTED = "[REDACTED]"


def _secret() -> str:
    """A secret made at test time."""
    return "s" + secrets.token_hex(8)


@dataclass
class Login:
    """A dataclass that carries a secret field."""

    user: str
    password: str


def test_container_types_are_walked(configure: Callable[..., Output]) -> None:
    """Starlette Headers, a MappingProxyType, ASGI raw headers and dataclasses are masked."""
    out = configure()
    token = _secret()
    mcl.get_logger("app").info(
        "request",
        headers=Headers({"authorization": f"Bearer {token}", "accept": "json"}),
        proxy=MappingProxyType({"api_key": token, "region": "eu"}),
        raw=[(b"cookie", f"sid={token}".encode()), (b"accept", b"json")],
        login=Login("ann", token),
    )
    [line] = out.lines()
    assert token not in out.text()
    assert line["headers"] == {"authorization": REDACTED, "accept": "json"}
    assert line["proxy"] == {"api_key": REDACTED, "region": "eu"}
    assert line["raw"][0] == ["cookie", REDACTED]
    assert line["login"] == {"user": "ann", "password": REDACTED}


@pytest.mark.parametrize(
    "key",
    ["db_password", "AWS_SECRET_ACCESS_KEY", "passwordHash", "userApiKey", "x-auth-token"],
)
def test_keys_are_matched_by_their_tokens(key: str) -> None:
    """A secret word anywhere in a key (its tokens, camelCase too) marks the key secret."""
    assert Redactor(mcl.DEFAULT_REDACT_KEYS).is_secret(key)


@pytest.mark.parametrize(
    "key", ["author", "tokens_used", "password_policy_url", "cookie_banner", "token_type"]
)
def test_keys_that_describe_a_secret_are_kept(key: str) -> None:
    """A key about a secret (its policy, its type) is not itself secret."""
    assert not Redactor(mcl.DEFAULT_REDACT_KEYS).is_secret(key)


def test_credentials_inside_urls_are_masked(configure: Callable[..., Output]) -> None:
    """user:password@ in any URL, in values or in the message, keeps the user, masks the rest."""
    out = configure()
    pw = _secret()
    url = f"postgresql://app:{pw}@db:5432/orders"
    mcl.get_logger("app").info(f"connecting to {url}", target=url, nested={"urls": [url]})
    [line] = out.lines()
    assert pw not in out.text()
    assert line["target"] == "postgresql://app:***@db:5432/orders"
    assert line["message"] == "connecting to postgresql://app:***@db:5432/orders"
    assert line["nested"] == {"urls": ["postgresql://app:***@db:5432/orders"]}


def test_secrets_inside_exception_messages_are_masked(configure: Callable[..., Output]) -> None:
    """An exception whose text carries a password or a URL with one is logged masked."""
    out = configure()
    pw = _secret()
    try:
        raise ConnectionError(f"login failed: password={pw} for redis://:{pw}@cache:6379/0")
    except ConnectionError:
        mcl.get_logger("app").exception("cache down")
    [line] = out.lines()
    assert pw not in out.text()
    assert "password=***" in line["exception"]["message"]
    assert "redis://:***@cache:6379/0" in line["exception"]["stack"]


def test_reserved_fields_win_and_the_callers_are_kept_prefixed(
    configure: Callable[..., Output],
) -> None:
    """level, timestamp, message and service keywords do not overwrite the line's own."""
    out = configure()
    mcl.get_logger("app").info(
        "real message", level="fake", timestamp="never", message="other", service="spoofed"
    )
    [line] = out.lines()
    assert (line["level"], line["message"], line["service"]) == ("info", "real message", "svc")
    assert line["timestamp"] != "never"
    assert line["field_level"] == "fake"
    assert line["field_timestamp"] == "never"
    assert line["field_message"] == "other"
    assert line["field_service"] == "spoofed"


def test_reserved_fields_win_in_ecs_and_console(output: Output) -> None:
    """ECS keeps its message and log.level; the console keeps its level and timestamp."""
    mcl.configure_logging(service="svc", format="ecs", stream=output.stream)
    mcl.get_logger("app").info("real", message="other", service="spoofed")
    [doc] = output.lines()
    assert doc["message"] == "real"
    assert doc["service"] == {"name": "svc"}
    assert doc["field_message"] == "other"
    output.clear()
    mcl.configure_logging(service="svc", format="console", stream=output.stream)
    mcl.get_logger("app").info("real", level="fake")
    assert "field_level" in output.text()


_SECRET_WORDS = ["password", "secret", "token", "api_key", "authorization", "cookie"]
_secret_keys = st.builds(
    lambda prefix, word, upper, camel: (
        ((prefix + word.title().replace("_", "")) if camel else (prefix + "_" + word)).upper()
        if upper
        else ((prefix + word.title().replace("_", "")) if camel else (prefix + "_" + word))
    ),
    st.sampled_from(["db", "aws", "user", "x"]),
    st.sampled_from(_SECRET_WORDS),
    st.booleans(),
    st.booleans(),
)
_plain_keys = st.sampled_from(["name", "id", "region", "count", "author"])
_MARK = "leak-" + secrets.token_hex(4)
_leaves = st.one_of(
    st.just(_MARK),
    st.just(f"https://u:{_MARK}@h/p"),
    st.integers(),
    st.text(alphabet="abc", max_size=4),
)
_trees = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(_secret_keys, _plain_keys), children, max_size=3),
        st.builds(lambda k, v: [(k, v)], _secret_keys, st.just(_MARK)),
    ),
    max_leaves=10,
)


def _leaks(value: Any, under_secret: bool) -> bool:
    """Whether the marker survives under a secret key, or inside a URL's userinfo."""
    if isinstance(value, dict):
        return any(_leaks(v, under_secret or _is_secret_key(k)) for k, v in value.items())
    if isinstance(value, list):
        return any(_leaks(v, under_secret) for v in value)
    if isinstance(value, str):
        return (under_secret and _MARK in value) or f":{_MARK}@" in value
    return False


def _is_secret_key(key: str) -> bool:
    """The test's own notion: the key contains one of the secret words (any spelling)."""
    flat = key.lower().replace("_", "")
    return any(word.replace("_", "") in flat for word in _SECRET_WORDS)


@given(st.dictionaries(st.one_of(_secret_keys, _plain_keys), _trees, max_size=4))
def test_no_secret_survives_any_nesting_or_spelling(event: dict[str, Any]) -> None:
    """For any nesting, key spelling (prefixes, UPPER, camelCase) and URL, nothing leaks."""
    redactor = Redactor(mcl.DEFAULT_REDACT_KEYS)
    original = json.dumps(event, sort_keys=True, default=str)
    copy = dict(event)
    redactor.redact_in_place(copy)
    assert not _leaks(json.loads(json.dumps(copy, default=str)), False)
    assert json.dumps(event, sort_keys=True, default=str) == original
