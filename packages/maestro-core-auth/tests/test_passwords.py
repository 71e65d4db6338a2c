"""PasswordManager: Argon2id profiles, rehash on login, bcrypt legacy, capped off-loop verify."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from maestro_core_auth import AuthConfigError, PasswordManager, PasswordTooLongError
from maestro_core_auth._passwords import available_cpus, default_concurrency


def test_owasp_profile_parameters() -> None:
    """The default profile is Argon2id m=19 MiB, t=2, p=1 (OWASP)."""
    manager = PasswordManager()
    hashed = manager.hash("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert manager.verify(hashed, "correct horse")
    assert not manager.verify(hashed, "wrong horse")


def test_rfc9106_profile_parameters() -> None:
    """The rfc9106 profile carries argon2-cffi's default parameters."""
    manager = PasswordManager("rfc9106")
    assert (manager.time_cost, manager.memory_cost, manager.parallelism) == (3, 65_536, 4)
    with pytest.raises(AuthConfigError):
        PasswordManager("fast")


def test_verify_and_update_rehashes_outdated_parameters(fast_passwords: PasswordManager) -> None:
    """A hash made with other parameters verifies and comes back re-hashed with the current ones."""
    old = PasswordManager(time_cost=1, memory_cost=32, parallelism=1).hash("pw")
    ok, new_hash = fast_passwords.verify_and_update(old, "pw")
    assert ok
    assert new_hash is not None
    assert "m=64,t=1,p=1" in new_hash
    ok, again = fast_passwords.verify_and_update(new_hash, "pw")
    assert ok
    assert again is None
    assert fast_passwords.verify_and_update(old, "nope") == (False, None)


def test_bcrypt_legacy_hash_verifies_and_upgrades(fast_passwords: PasswordManager) -> None:
    """A bcrypt hash verifies once and is replaced by an Argon2id hash."""
    legacy = bcrypt.hashpw(b"hunter2", bcrypt.gensalt(rounds=4)).decode()
    ok, new_hash = fast_passwords.verify_and_update(legacy, "hunter2")
    assert ok
    assert new_hash is not None
    assert new_hash.startswith("$argon2id$")
    assert fast_passwords.verify_and_update(legacy, "hunter3") == (False, None)


def test_bcrypt_refuses_passwords_over_72_bytes(fast_passwords: PasswordManager) -> None:
    """A >72-byte password against a bcrypt hash is an error, never silently truncated."""
    legacy = bcrypt.hashpw(b"a" * 72, bcrypt.gensalt(rounds=4)).decode()
    with pytest.raises(PasswordTooLongError):
        fast_passwords.verify_and_update(legacy, "a" * 73)
    assert issubclass(PasswordTooLongError, ValueError)


def test_argon2_accepts_long_passwords_up_to_the_cap(fast_passwords: PasswordManager) -> None:
    """Argon2 takes a 4096-byte password; one byte more is refused."""
    long = "é" * 2048
    assert fast_passwords.verify(fast_passwords.hash(long), long)
    with pytest.raises(PasswordTooLongError):
        fast_passwords.hash("x" * 4097)


def test_unknown_users_cost_one_argon2_verify(
    fast_passwords: PasswordManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify(None, pw) runs the same Argon2 verify as a wrong password, and returns False."""
    hashed = fast_passwords.hash("pw")
    calls: list[str] = []
    real = fast_passwords.hasher

    class Counting:
        def verify(self, stored: str, password: Any) -> Any:
            calls.append(stored.split("$")[3])
            return real.verify(stored, password)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(fast_passwords, "_hasher", Counting())
    assert fast_passwords.verify(hashed, "wrong") is False
    assert fast_passwords.verify(None, "wrong") is False
    assert calls == ["m=64,t=1,p=1", "m=64,t=1,p=1"]


def test_unrecognised_and_malformed_hashes(
    fast_passwords: PasswordManager, caplog: pytest.LogCaptureFixture
) -> None:
    """A non-PHC stored value is a configuration error; a broken Argon2 string is a logged False."""
    with pytest.raises(AuthConfigError):
        fast_passwords.verify("plaintext-password", "plaintext-password")
    broken = "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$!!!"
    with caplog.at_level(logging.WARNING, logger="maestro.auth"):
        assert fast_passwords.verify(broken, "secret-pw") is False
    assert "secret-pw" not in caplog.text
    assert broken not in caplog.text


async def test_averify_runs_off_the_event_loop(
    fast_passwords: PasswordManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """averify executes in the manager's worker threads, not the loop's thread."""
    hashed = fast_passwords.hash("pw")
    threads: list[str] = []
    real = fast_passwords.verify_and_update

    def recording(stored: str | None, password: Any) -> tuple[bool, str | None]:
        threads.append(threading.current_thread().name)
        return real(stored, password)

    monkeypatch.setattr(fast_passwords, "verify_and_update", recording)
    assert await fast_passwords.averify(hashed, "pw") is True
    assert threads
    assert threads[0].startswith("maestro-auth-pw")
    assert await fast_passwords.averify(None, "pw") is False


async def test_concurrency_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    """64 concurrent averify calls never run more than max_concurrency hashes at once."""
    manager = PasswordManager(time_cost=1, memory_cost=64, parallelism=1, max_concurrency=3)
    hashed = manager.hash("pw")
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}
    real = manager.verify_and_update

    def tracked(stored: str | None, password: Any) -> tuple[bool, str | None]:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        try:
            return real(stored, password)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(manager, "verify_and_update", tracked)
    results = await asyncio.gather(*(manager.averify(hashed, "pw") for _ in range(64)))
    manager.close()
    assert all(results)
    assert 1 <= state["peak"] <= 3


async def test_ahash_and_averify_and_update(fast_passwords: PasswordManager) -> None:
    """The async twins hash and upgrade like the sync ones."""
    hashed = await fast_passwords.ahash("pw")
    assert await fast_passwords.averify_and_update(hashed, "pw") == (True, None)


def test_bad_parameters_and_repr(fast_passwords: PasswordManager) -> None:
    """Bad cost parameters are refused; repr shows parameters only."""
    with pytest.raises(AuthConfigError):
        PasswordManager(time_cost=0)
    with pytest.raises(AuthConfigError):
        PasswordManager(max_concurrency=0)
    with pytest.raises(AuthConfigError):
        fast_passwords.hash(1234)  # type: ignore[arg-type]
    assert "m=64" in repr(fast_passwords)


def test_from_settings_takes_the_profile() -> None:
    """from_settings reads password_profile from a settings-shaped object."""

    class Section:
        password_profile = "rfc9106"

    assert PasswordManager.from_settings(Section()).profile == "rfc9106"


def _cgroup_v2_path() -> str | None:
    with open("/proc/self/cgroup", encoding="ascii") as file:
        return next((line[3:] for line in file.read().splitlines() if line.startswith("0::")), None)


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux CPU affinity only")
def test_available_cpus_reads_affinity_and_cgroup_quota(tmp_path: Path) -> None:
    """The CPU count is the affinity mask, lowered by a cpu.max quota here or in an ancestor."""
    affinity = len(os.sched_getaffinity(0))
    assert available_cpus(str(tmp_path)) == affinity  # no cpu.max file: no quota
    group = _cgroup_v2_path()
    if group is None:  # a cgroup v1-only host has no cpu.max to read
        return
    own = tmp_path.joinpath(*[part for part in group.split("/") if part])
    own.mkdir(parents=True, exist_ok=True)
    (own / "cpu.max").write_text("max 100000\n")
    assert available_cpus(str(tmp_path)) == affinity  # "max": unlimited
    (tmp_path / "cpu.max").write_text("50000 100000\n")  # half a CPU on the root: rounds up to 1
    assert available_cpus(str(tmp_path)) == 1
    (tmp_path / "cpu.max").write_text("garbage\n")  # unreadable: no limit
    assert available_cpus(str(tmp_path)) == affinity


def test_default_concurrency_leaves_a_cpu_to_the_event_loop() -> None:
    """Hash threads default to the usable CPUs minus one (at least one), bounding memory too."""
    assert [default_concurrency(n) for n in (1, 2, 4, 16)] == [1, 1, 3, 15]
    manager = PasswordManager()
    assert manager.max_concurrency == default_concurrency(available_cpus())
    assert PasswordManager(max_concurrency=5).max_concurrency == 5
    with pytest.raises(AuthConfigError):
        PasswordManager(max_concurrency=True)


async def test_pool_threads_start_before_the_first_hash_not_during_a_burst() -> None:
    """All max_concurrency threads exist once the pool is made; a burst starts none.

    Starting a thread waits until it first runs, which, while hashes hold the CPUs, stalled
    the event loop for tens of milliseconds per thread started inside a burst.
    """
    manager = PasswordManager(time_cost=1, memory_cost=64, parallelism=1, max_concurrency=3)
    hashed = manager.hash("pw")

    def ours() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("maestro-auth-pw")}

    before = ours()
    assert await manager.averify(hashed, "pw") is True
    started = ours() - before
    assert len(started) == 3
    results = await asyncio.gather(*(manager.averify(hashed, "pw") for _ in range(24)))
    assert all(results)
    assert ours() - before == started
    manager.close()
    assert not any(thread.is_alive() for thread in started)
