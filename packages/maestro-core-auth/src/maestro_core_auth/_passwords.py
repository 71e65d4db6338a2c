"""`PasswordManager`: Argon2id with rehash-on-login, bcrypt legacy verify, off-loop verify."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import AuthConfigError, PasswordTooLongError
from ._util import optional_import

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from argon2 import PasswordHasher

__all__ = ["PasswordManager"]

_log = logging.getLogger("maestro.auth")
_T = TypeVar("_T")
# name -> (time_cost, memory_cost KiB, parallelism)
PROFILES: dict[str, tuple[int, int, int]] = {
    "owasp": (2, 19_456, 1),  # OWASP Password Storage Cheat Sheet, Argon2id option 2
    "rfc9106": (3, 65_536, 4),  # RFC 9106 low-memory recommendation (argon2-cffi's default)
}
_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
_BCRYPT_LIMIT = 72


def available_cpus(cgroup_root: str = "/sys/fs/cgroup") -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup v2 ``cpu.max`` quota.

    ``os.cpu_count()`` counts the host's CPUs; a container limited to 2 CPUs on a 64-CPU node
    would otherwise start 64 hash threads (and hold 64 x 19 MiB). The quotas of the process's
    cgroup and of its ancestors are read under ``cgroup_root``; an unreadable file is no limit.
    """
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    try:
        with open("/proc/self/cgroup", encoding="ascii") as file:
            lines = file.read().splitlines()
    except (OSError, ValueError):
        return max(1, count)
    group = next((line[3:] for line in lines if line.startswith("0::")), None)
    if group is None:  # cgroup v1 only: no quota read
        return max(1, count)
    parts = [part for part in group.split("/") if part and part != ".."]
    for depth in range(len(parts), -1, -1):
        path = os.path.join(cgroup_root, *parts[:depth], "cpu.max")
        try:
            with open(path, encoding="ascii") as file:
                quota, _, period = file.read().strip().partition(" ")
            if quota != "max" and int(period) > 0:
                count = min(count, -(-int(quota) // int(period)))
        except (OSError, ValueError):
            continue
    return max(1, count)


def default_concurrency(cpus: int) -> int:
    """Hash threads for ``cpus`` CPUs: one CPU stays free for the event loop (at least one)."""
    return max(1, cpus - 1)


def _lower_priority() -> None:
    """Hash threads yield the CPU to the event-loop thread (Linux: a per-thread nice of +5).

    Argon2 releases the GIL, so the loop's only competitor is the OS scheduler; on a busy
    machine a lower weight keeps request handling responsive while hashes queue.
    """
    with contextlib.suppress(AttributeError, OSError):  # not Linux / not permitted: default
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)


def _start_all_threads(executor: ThreadPoolExecutor, count: int) -> None:
    """Start all ``count`` worker threads now, before any hash runs.

    A ThreadPoolExecutor starts a thread inside ``submit`` when no worker is idle, and
    ``Thread.start`` waits until the new thread first runs. During a burst of logins the
    hashes already running hold the CPUs, so that wait (on the event loop's thread) took
    tens of milliseconds per thread on a busy 2-CPU machine. Here each start is immediate:
    every task waits on a barrier, so every submit finds no idle worker and starts one.
    """
    barrier = threading.Barrier(count + 1)
    for _ in range(count):
        executor.submit(barrier.wait, 10.0)
    with contextlib.suppress(threading.BrokenBarrierError):  # a slow start: lazily, as before
        barrier.wait(10.0)


class PasswordManager:
    """Hashes and verifies passwords with Argon2id (PHC strings).

    ``profile`` is ``"owasp"`` (m=19 MiB, t=2, p=1) or ``"rfc9106"``; ``time_cost``,
    ``memory_cost`` (KiB) and ``parallelism`` override it. ``verify_and_update`` returns a new
    hash when the stored one uses old parameters or is a bcrypt legacy hash (extra
    ``bcrypt``). ``averify`` runs in a private thread pool of ``max_concurrency`` threads
    (default 2 x CPUs), so the event loop never waits on a hash and memory stays bounded.
    ``verify(None, password)`` does the same work as a wrong password (unknown users).
    """

    def __init__(
        self,
        profile: str = "owasp",
        *,
        time_cost: int | None = None,
        memory_cost: int | None = None,
        parallelism: int | None = None,
        max_concurrency: int | None = None,
        max_password_bytes: int = 4096,
    ) -> None:
        if profile not in PROFILES:
            raise AuthConfigError(f"profile must be one of {sorted(PROFILES)}, not {profile!r}")
        t, m, p = PROFILES[profile]
        self.time_cost = t if time_cost is None else time_cost
        self.memory_cost = m if memory_cost is None else memory_cost
        self.parallelism = p if parallelism is None else parallelism
        for name, value, low in (
            ("time_cost", self.time_cost, 1),
            ("parallelism", self.parallelism, 1),
            ("memory_cost", self.memory_cost, 8 * self.parallelism),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise AuthConfigError(f"{name} must be an int >= {low}")
        self.profile = profile
        if max_concurrency is None:
            max_concurrency = default_concurrency(available_cpus())
        self.max_concurrency = max_concurrency
        if (
            not isinstance(self.max_concurrency, int)
            or isinstance(self.max_concurrency, bool)
            or self.max_concurrency < 1
        ):
            raise AuthConfigError("max_concurrency must be an int >= 1")
        if not isinstance(max_password_bytes, int) or max_password_bytes < 8:
            raise AuthConfigError("max_password_bytes must be an int >= 8")
        self.max_password_bytes = max_password_bytes
        self._hasher: PasswordHasher | None = None
        self._dummy: str | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"PasswordManager(profile={self.profile!r}, t={self.time_cost}, "
            f"m={self.memory_cost}, p={self.parallelism}, max_concurrency={self.max_concurrency})"
        )

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> PasswordManager:
        """From an ``AuthSettings``-shaped section: its ``password_profile``."""
        options: dict[str, Any] = {"profile": getattr(settings, "password_profile", "owasp")}
        options.update(overrides)
        return cls(**options)

    @property
    def hasher(self) -> PasswordHasher:
        """The argon2-cffi hasher with this manager's parameters."""
        if self._hasher is None:
            from argon2 import PasswordHasher, Type

            self._hasher = PasswordHasher(
                time_cost=self.time_cost,
                memory_cost=self.memory_cost,
                parallelism=self.parallelism,
                type=Type.ID,
            )
        return self._hasher

    def _encode(self, password: str | bytes) -> bytes:
        if isinstance(password, str):
            data = password.encode("utf-8")
        elif isinstance(password, bytes):
            data = password
        else:
            raise AuthConfigError("a password must be str or bytes")
        if len(data) > self.max_password_bytes:
            raise PasswordTooLongError(
                f"the password is longer than {self.max_password_bytes} bytes"
            )
        return data

    # ----------------------------------------------------------------- sync
    def hash(self, password: str | bytes) -> str:
        """An Argon2id PHC string for ``password``."""
        return self.hasher.hash(self._encode(password))

    def verify(self, hashed: str | None, password: str | bytes) -> bool:
        """True when ``password`` matches ``hashed``; ``hashed=None`` costs a dummy verify."""
        return self.verify_and_update(hashed, password)[0]

    def verify_and_update(
        self, hashed: str | None, password: str | bytes
    ) -> tuple[bool, str | None]:
        """``(ok, new_hash)``: ``new_hash`` is set when the stored hash should be replaced."""
        data = self._encode(password)
        if hashed is None:
            self._dummy_verify(data)
            return False, None
        if not isinstance(hashed, str):
            raise AuthConfigError("a stored hash must be a str (a PHC string)")
        if hashed.startswith(_BCRYPT_PREFIXES):
            if not self._bcrypt_verify(hashed, data):
                return False, None
            return True, self.hasher.hash(data)
        if not hashed.startswith("$argon2"):
            raise AuthConfigError(
                "the stored hash is neither Argon2 nor bcrypt; it cannot be verified"
            )
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        try:
            self.hasher.verify(hashed, data)
        except VerifyMismatchError:
            return False, None
        except (VerificationError, InvalidHashError):
            _log.warning("stored password hash is malformed", extra={"event": "auth.bad_hash"})
            return False, None
        if self.hasher.check_needs_rehash(hashed):
            return True, self.hasher.hash(data)
        return True, None

    def _dummy_verify(self, data: bytes) -> None:
        from argon2.exceptions import VerificationError

        if self._dummy is None:
            with self._lock:
                if self._dummy is None:
                    self._dummy = self.hasher.hash(os.urandom(16))
        with contextlib.suppress(VerificationError):
            self.hasher.verify(self._dummy, data)

    @staticmethod
    def _bcrypt_verify(hashed: str, data: bytes) -> bool:
        if len(data) > _BCRYPT_LIMIT:
            raise PasswordTooLongError(
                "the password is longer than 72 bytes, which a bcrypt hash cannot check "
                "(it would be truncated); reset it to get an Argon2id hash"
            )
        bcrypt = optional_import("bcrypt", "bcrypt legacy hash verification", "bcrypt")
        try:
            return bool(bcrypt.checkpw(data, hashed.encode("ascii")))
        except ValueError:
            _log.warning("stored bcrypt hash is malformed", extra={"event": "auth.bad_hash"})
            return False

    # ----------------------------------------------------------------- async
    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            with self._lock:
                if self._executor is None:
                    from concurrent.futures import ThreadPoolExecutor

                    executor = ThreadPoolExecutor(
                        max_workers=self.max_concurrency,
                        thread_name_prefix="maestro-auth-pw",
                        initializer=_lower_priority,
                    )
                    _start_all_threads(executor, self.max_concurrency)
                    self._executor = executor
        return self._executor

    async def _offload(self, func: Callable[..., _T], *args: Any) -> _T:
        import asyncio

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), func, *args)

    async def ahash(self, password: str | bytes) -> str:
        """``hash`` in the worker pool."""
        return await self._offload(self.hash, password)

    async def averify(self, hashed: str | None, password: str | bytes) -> bool:
        """``verify`` in the worker pool (at most ``max_concurrency`` at once)."""
        return await self._offload(self.verify, hashed, password)

    async def averify_and_update(
        self, hashed: str | None, password: str | bytes
    ) -> tuple[bool, str | None]:
        """``verify_and_update`` in the worker pool."""
        return await self._offload(self.verify_and_update, hashed, password)

    def close(self) -> None:
        """Stop the worker threads (they start again on the next async call)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
