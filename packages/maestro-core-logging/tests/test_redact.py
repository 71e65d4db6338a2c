"""Redaction: secret-looking keys are masked at any depth, by whole-key match."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import maestro_core_logging as mcl
from hypothesis import given
from hypothesis import strategies as st
from maestro_core_logging._redact import REDACTED, Redactor

if TYPE_CHECKING:
    from .conftest import Output


def test_default_keys_are_masked_case_insensitively(configure: Callable[..., Output]) -> None:
    """password, api_key, Authorization, Cookie and token are masked whatever their case."""
    out = configure()
    mcl.get_logger("t").info(
        "login",
        password="hunter2",
        API_KEY="k-1",
        Authorization="Bearer abc",
        Cookie="sid=1",
        token="t-1",
    )
    line = out.lines()[0]
    for key in ("password", "API_KEY", "Authorization", "Cookie", "token"):
        assert line[key] == REDACTED
    assert "hunter2" not in out.text()


def test_names_that_merely_contain_a_secret_word_are_kept(
    configure: Callable[..., Output],
) -> None:
    """author, tokens_used and password_policy_url are not masked (whole-key matching)."""
    out = configure()
    mcl.get_logger("t").info(
        "ok", author="ann", tokens_used=12, password_policy_url="https://x/policy"
    )
    line = out.lines()[0]
    assert line["author"] == "ann"
    assert line["tokens_used"] == 12
    assert line["password_policy_url"] == "https://x/policy"


def test_nested_values_are_masked(configure: Callable[..., Output]) -> None:
    """Secrets inside nested dicts and lists of dicts are masked; the caller's data is untouched."""
    out = configure()
    payload: dict[str, Any] = {
        "user": {"name": "ann", "credentials": {"password": "p"}},
        "headers": [{"X-API-Key": "k"}, {"accept": "json"}],
    }
    mcl.get_logger("t").info("request", body=payload, items=({"secret": 1},))
    line = out.lines()[0]
    assert line["body"]["user"]["credentials"] == REDACTED
    assert line["body"]["headers"] == [{"X-API-Key": REDACTED}, {"accept": "json"}]
    assert line["items"] == [{"secret": REDACTED}]
    assert payload["user"]["credentials"] == {"password": "p"}


def test_context_values_are_masked(configure: Callable[..., Output]) -> None:
    """Secrets bound in the context are masked too."""
    out = configure()
    with mcl.log_context(session="s-1", tenant="acme"):
        mcl.get_logger("t").info("x")
    line = out.lines()[0]
    assert line["session"] == REDACTED
    assert line["tenant"] == "acme"


def test_stdlib_extra_fields_are_masked(configure: Callable[..., Output]) -> None:
    """Fields passed with extra= to a stdlib logger are masked as well."""
    out = configure()
    logging.getLogger("app").warning("login", extra={"password": "p", "user": "ann"})
    line = out.lines()[0]
    assert line["password"] == REDACTED
    assert line["user"] == "ann"


def test_custom_keys_replace_the_defaults(configure: Callable[..., Output]) -> None:
    """redact_keys replaces the default list; DEFAULT_REDACT_KEYS | {...} extends it."""
    out = configure(redact_keys={"pin"})
    log = mcl.get_logger("t")
    log.info("a", pin="1234", password="visible")
    configure(redact_keys=mcl.DEFAULT_REDACT_KEYS | {"pin"})
    log.info("b", pin="1234", password="hidden")
    first, second = out.lines()
    assert (first["pin"], first["password"]) == (REDACTED, "visible")
    assert (second["pin"], second["password"]) == (REDACTED, REDACTED)


def test_empty_key_list_disables_redaction(configure: Callable[..., Output]) -> None:
    """redact_keys=() turns redaction off."""
    out = configure(redact_keys=())
    mcl.get_logger("t").info("a", password="shown")
    assert out.lines()[0]["password"] == "shown"


def test_hyphens_and_underscores_match_each_other() -> None:
    """Keys are compared with '-' read as '_', so headers match their underscore names."""
    redactor = Redactor({"set_cookie", "x-api-key"})
    assert redactor.is_secret("Set-Cookie")
    assert redactor.is_secret("X_API_KEY")
    assert not redactor.is_secret("cookie_banner")
    assert not redactor.is_secret(42)


_SECRET = "s3cr3t-value"
_keys = st.sampled_from(["password", "Token", "api_key", "name", "author", "id", "AUTHORIZATION"])
_leaves = st.one_of(st.just(_SECRET), st.integers(), st.text(max_size=5))
_trees = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(_keys, children, max_size=3)
    ),
    max_leaves=12,
)


def _leaks(value: Any, under_secret: bool = False) -> bool:
    """Return whether _SECRET survives anywhere a secret key should have masked it."""
    if isinstance(value, dict):
        return any(
            _leaks(
                v, under_secret or k.lower() in {"password", "token", "api_key", "authorization"}
            )
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_leaks(v, under_secret) for v in value)
    return under_secret and value == _SECRET


@given(st.dictionaries(_keys, _trees, max_size=4))
def test_no_secret_survives_at_any_depth(event: dict[str, Any]) -> None:
    """For any nesting of dicts and lists, nothing under a secret key survives redaction."""
    redactor = Redactor(mcl.DEFAULT_REDACT_KEYS)
    original = json.dumps(event, sort_keys=True)
    copy = dict(event)
    redactor.redact_in_place(copy)
    assert not _leaks(copy)
    assert json.dumps(event, sort_keys=True) == original
