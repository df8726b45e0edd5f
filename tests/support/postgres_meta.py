"""The real postgres-meta (npm `@supabase/postgres-meta`), the server behind the Management API's query endpoint.

The API twin hands every query to it, so what the tests see is postgres-meta's
own behaviour: one implicit transaction per text, the rows of the last result
set that has rows, its error text (`formattedError`), numbers and dates as
strings. One server serves every test database: the connection string travels
encrypted in the `x-connection-encrypted` header (AES with the server's
CRYPTO_KEY, by crypto-js, the library postgres-meta decrypts it with), as
the platform's own callers send it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / ".cache" / "npm" / "node_modules"
SERVER = MODULES / "@supabase" / "postgres-meta" / "dist" / "server" / "server.js"
VERSION = "0.99.0"
CRYPTO_KEY = "supadeploy-tests-only"
ENCRYPT = "process.stdout.write(require('crypto-js').AES.encrypt(process.argv[1], process.argv[2]).toString())"


def _free_pair() -> int:
    """A port whose successor is free too (postgres-meta also listens on PORT+1)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
        with socket.socket() as b:
            try:
                b.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no free pair of ports for postgres-meta")


class PostgresMeta:
    def __init__(self) -> None:
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, default_dsn: str = "postgresql://postgres@127.0.0.1:1/postgres") -> PostgresMeta:
        if not SERVER.exists():
            raise AssertionError(f"postgres-meta is not installed at {SERVER}: run scripts/test.sh")
        self.port = _free_pair()
        env = {**os.environ, "PG_META_PORT": str(self.port), "PG_META_HOST": "127.0.0.1",
               "PG_META_DB_URL": default_dsn, "NODE_ENV": "production", "CRYPTO_KEY": CRYPTO_KEY}
        self._process = subprocess.Popen(["node", str(SERVER)], env=env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if self._process.poll() is not None:
                    raise RuntimeError("postgres-meta exited at start") from None
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("postgres-meta did not start within 30 s")

    def connection(self, dsn: str) -> str:
        """The `x-connection-encrypted` header value for a database (crypto-js, run by node)."""
        done = subprocess.run(["node", "-e", ENCRYPT, dsn, CRYPTO_KEY], capture_output=True, text=True, check=True,
                              env={**os.environ, "NODE_PATH": str(MODULES)})
        return done.stdout.strip()

    def query(self, connection: str, sql: str) -> tuple[int, Any]:
        """POST /query as the platform does: (HTTP status, parsed JSON body)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/query", method="POST",
                                         data=json.dumps({"query": sql}).encode(),
                                         headers={"x-connection-encrypted": connection,
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
