"""deep_merge: the layering rule of configuration files, with its algebraic properties."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from maestro_core_config import deep_merge

KEYS = st.sampled_from(["a", "b", "c", "d"])
LEAVES = st.one_of(
    st.integers(), st.text(max_size=3), st.none(), st.lists(st.integers(), max_size=2)
)
TREES: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.dictionaries(KEYS, LEAVES, max_size=3),
    lambda children: st.dictionaries(KEYS, st.one_of(LEAVES, children), max_size=3),
    max_leaves=12,
)


def leaves(tree: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Flatten a tree to {path: leaf}; an empty dict counts as a leaf."""
    out: dict[tuple[str, ...], Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out.update(leaves(value, (*prefix, key)))
        else:
            out[(*prefix, key)] = value
    return out


def test_sections_merge_and_lists_replace() -> None:
    """Nested mappings merge key by key; lists are replaced whole."""
    base = {"db": {"host": "a", "port": 1}, "tags": [1, 2]}
    assert deep_merge(base, {"db": {"port": 2}, "tags": [3]}) == {
        "db": {"host": "a", "port": 2},
        "tags": [3],
    }


@given(TREES)
def test_empty_is_identity(tree: dict[str, Any]) -> None:
    """Merging with an empty mapping on either side changes nothing."""
    assert deep_merge(tree, {}) == tree
    assert deep_merge({}, tree) == tree


@given(TREES, TREES)
def test_override_leaves_always_win(base: dict[str, Any], override: dict[str, Any]) -> None:
    """Every leaf of the override is in the result with the override's value."""
    merged = leaves(deep_merge(base, override))
    for path, value in leaves(override).items():
        if not (isinstance(value, dict) and not value):
            assert merged[path] == value


@given(TREES, TREES)
def test_base_leaves_survive_unless_overridden(
    base: dict[str, Any], override: dict[str, Any]
) -> None:
    """A base leaf is kept unless the override sets that path, one above it or one below it."""
    merged = leaves(deep_merge(base, override))
    over = leaves(override)
    for path, value in leaves(base).items():
        shadowed = any(o[: len(path)] == path or path[: len(o)] == o for o in over)
        if not shadowed and not (isinstance(value, dict) and not value):
            assert merged[path] == value


@given(TREES)
def test_idempotent(tree: dict[str, Any]) -> None:
    """Laying a file over itself changes nothing."""
    assert deep_merge(tree, tree) == tree


@given(TREES, TREES)
def test_top_level_keys_are_the_union(base: dict[str, Any], override: dict[str, Any]) -> None:
    """No key is lost or invented at the top level: the result has exactly both key sets."""
    assert set(deep_merge(base, override)) == set(base) | set(override)


@given(TREES, TREES)
def test_inputs_are_not_modified(base: dict[str, Any], override: dict[str, Any]) -> None:
    """deep_merge returns a new mapping and leaves both arguments as they were."""
    import copy

    before = copy.deepcopy((base, override))
    deep_merge(base, override)
    assert (base, override) == before
