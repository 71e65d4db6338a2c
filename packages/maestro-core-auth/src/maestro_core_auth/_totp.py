"""`TOTP`: RFC 6238 time-based one-time passwords (SHA-1, 6 digits, 30 s, +-1 step)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from datetime import datetime

from ._errors import AuthConfigError
from ._util import aware

__all__ = ["TOTP"]


class TOTP:
    """A TOTP generator/verifier for one base32 secret; ``repr`` never shows the secret."""

    def __init__(self, secret_b32: str, *, digits: int = 6, step: int = 30, window: int = 1):
        try:
            padded = secret_b32.upper().replace(" ", "")
            padded += "=" * (-len(padded) % 8)
            self._secret = base64.b32decode(padded)
        except (ValueError, AttributeError, TypeError):
            raise AuthConfigError("the TOTP secret must be base32 text") from None
        if len(self._secret) < 10:
            raise AuthConfigError("a TOTP secret must be at least 80 bits (RFC 4226 section 4)")
        if digits not in (6, 7, 8) or step < 1 or window < 0:
            raise AuthConfigError("digits must be 6-8, step >= 1 and window >= 0")
        self.digits, self.step, self.window = digits, step, window

    def __repr__(self) -> str:
        return f"TOTP(digits={self.digits}, step={self.step}, window={self.window})"

    def _counter(self, at: float | datetime | None) -> int:
        if at is None:
            moment = time.time()
        elif isinstance(at, datetime):
            moment = aware(at, "at").timestamp()
        else:
            moment = float(at)
        return int(moment // self.step)

    def _code(self, counter: int) -> str:
        mac = hmac.new(self._secret, struct.pack(">Q", counter), hashlib.sha1).digest()
        offset = mac[-1] & 0x0F
        value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
        return str(value % 10**self.digits).zfill(self.digits)

    def now(self, at: float | datetime | None = None) -> str:
        """The code for ``at`` (POSIX seconds or an aware datetime; default: now)."""
        return self._code(self._counter(at))

    def verify(self, code: str, *, at: float | datetime | None = None) -> bool:
        """True when ``code`` matches within +-``window`` steps (constant-time compare)."""
        if not isinstance(code, str) or len(code) != self.digits or not code.isdigit():
            return False
        counter = self._counter(at)
        ok = False
        for delta in range(-self.window, self.window + 1):
            ok |= hmac.compare_digest(self._code(counter + delta), code)
        return ok
