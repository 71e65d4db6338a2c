"""Hand-made tokens for attack tests: what an attacker can send, built without our code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

ISSUER = "https://auth.maestro.test"


def b64(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: Any) -> str:
    """A JSON object as a base64url segment."""
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def hs_token(
    header: dict[str, Any], payload: Any, secret: bytes, *, raw_payload: bytes | None = None
) -> str:
    """A compact JWS signed with HMAC-SHA256 over ``secret`` (whatever the header says)."""
    body = b64(raw_payload) if raw_payload is not None else segment(payload)
    signing_input = f"{segment(header)}.{body}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"


def unsigned(header: dict[str, Any], payload: Any) -> str:
    """A token with an empty signature (alg none style)."""
    return f"{segment(header)}.{segment(payload)}."
