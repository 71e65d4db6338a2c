"""``make demo``: the service on one machine with nothing to start.

Generates this run's secrets (never written to a file), starts the pricing stub on a free
port and the service with uvicorn (SQLite under ./var, in-process cache and broker; the app
runs its migrations at start), then prints the curl lines to try. Ctrl-C stops both.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=0.5) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def uvicorn(target: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--no-access-log"]
    return subprocess.Popen([*command, "--log-level", "warning"], env=env)


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    pricing_port = free_port()
    password = secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "MAESTRO_AUTH__HMAC_SECRET": secrets.token_urlsafe(48),
        "MAESTRO_HTTP__CURSOR_SECRET": secrets.token_urlsafe(32),
        "MAESTRO_USERS__CLERK_PASSWORD": password,
        "MAESTRO_USERS__ADMIN_PASSWORD": secrets.token_urlsafe(12),
        "MAESTRO_PRICING__URL": f"http://127.0.0.1:{pricing_port}",
    }
    os.makedirs("var", exist_ok=True)
    stopping = False

    def stop(signum: int, frame: object) -> None:
        # The first SIGTERM stops the demo like Ctrl-C; later ones arrive during the
        # shutdown and must not interrupt it (the children would be left running).
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    # Shutdown is wired before any child starts and before "ready" is printed, so a
    # signal at any moment stops both children.
    signal.signal(signal.SIGTERM, stop)
    started = time.monotonic()
    children: list[subprocess.Popen[bytes]] = []
    try:
        children.append(uvicorn("reference_service.pricing_stub:app", pricing_port, env))
        service = uvicorn("reference_service.app:app", port, env)
        children.append(service)
        base = f"http://127.0.0.1:{port}"
        if not wait_for(f"{base}/readyz", started + 30):
            print("demo: the service did not become ready", file=sys.stderr)
            return 3
        took = time.monotonic() - started
        print(f"\norders is ready on {base} ({took:.2f} s); pricing stub on :{pricing_port}\n")
        print(DEMO.format(base=base, password=password, pricing=pricing_port), flush=True)
        service.wait()
        return service.returncode
    except KeyboardInterrupt:
        return 0
    finally:
        stopping = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for process in children:
            process.terminate()
        for process in children:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        print("demo: stopped", flush=True)


DEMO = """\
JSON='content-type: application/json'
PICK='import json,sys; print(json.load(sys.stdin)[sys.argv[1]])'
# 1. log in as the clerk ann (this run's password)
TOKEN=$(curl -s {base}/auth/token -H "$JSON" \\
  -d '{{"username": "ann", "password": "{password}"}}' | python3 -c "$PICK" access_token)
AUTH="authorization: Bearer $TOKEN"
# 2. create an order: 201 + Location
ID=$(curl -s {base}/orders -H "$AUTH" -H "$JSON" -d '{{"sku": "A-1", "quantity": 2}}' \\
  | python3 -c "$PICK" id)
# 3. read it back: "status" is "confirmed" once the consumer ran
curl -s {base}/orders/$ID -H "$AUTH"
# 4. keyset pages (Link: rel="next")
curl -si '{base}/orders?limit=1' -H "$AUTH"
# 5. RED series by route and the pricing breaker
curl -s {base}/metrics | grep -E 'request_duration_seconds_count|circuit_breaker_state'
# 6. make pricing fail (retries honour Retry-After, then the breaker opens)
curl -s -X POST 'http://127.0.0.1:{pricing}/mode?mode=unavailable'
# the browser page: {base}/   (Ctrl-C stops the demo)"""


if __name__ == "__main__":
    raise SystemExit(main())
