"""ks-engine as the production profile runs it, for fault tests: `ks intake`, `ks relay` and
`ks project` as separate processes on the shipped 3-node NATS cluster and on PostgreSQL.

Every setting reaches the processes through ``KS_*`` environment variables, as in
docker-compose.yml; the test kills and restarts the processes and the servers under them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ks_engine.settings import Settings, new_secrets
from tests.nats_cluster import NatsCluster
from tests.postgres_server import PostgresDatabase

KS = str(Path(sys.executable).parent / "ks")
# What each command logs once it serves; the NATS cluster may fail over only after that.
READY = {"intake": "intake.started", "relay": "relay.started", "project": "ks-engine running"}


@dataclass
class Worker:
    """One running `ks <command>` process and its log file."""

    name: str
    command: str
    process: subprocess.Popen[bytes]
    log: Path
    starts: int = 1  # how often this worker was started on the same log

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a lost container: no clean-up runs."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM, as `docker compose stop`; the exit code."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def ready(self, guard: float = 120.0) -> Worker:
        """Wait until the worker serves (its log says so); fail if it exits first."""
        deadline = time.monotonic() + guard
        marker = READY[self.command]
        while self.output().count(marker) < self.starts:
            assert self.running, f"ks {self.command} exited:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"ks {self.command} never served"
            await asyncio.sleep(0.1)
        return self


@dataclass
class Stack:
    """The engine's settings for one test, and the worker processes started with them."""

    base: Path
    cluster: NatsCluster
    database: PostgresDatabase
    overrides: dict[str, str] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # names of workers restarted

    def __post_init__(self) -> None:
        self.data_dir = self.base / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        keys = new_secrets()
        engine = self.cluster.engine
        self.env = {
            "KS_ENVIRONMENT": "production",
            "KS_DATA_DIR": str(self.data_dir),
            "KS_STORE": "postgres",
            "KS_PG_HOST": self.database.host,
            "KS_PG_PORT": str(self.database.port),
            "KS_PG_DBNAME": self.database.dbname,
            "KS_PG_USER": self.database.user,
            "KS_PG_PASSWORD": self.database.password,
            "KS_NATS_URL": ",".join(engine.servers),
            "KS_NATS_USER": engine.user,
            "KS_NATS_PASSWORD": engine.password,
            "KS_NATS_REPLICAS": "3",
            "KS_PSEUDONYM_KEY": keys["pseudonym_key"],
            "KS_CIPHER_KEY": keys["cipher_key"],
            "KS_LOG_FORMAT": "json",
            **self.overrides,
        }

    def settings(self) -> Settings:
        """The same settings, for the test's own look at the event store and the views."""
        fields = {name.removeprefix("KS_").lower(): value for name, value in self.env.items()}
        return Settings(**fields)  # type: ignore[arg-type]

    def start(self, command: str, name: str | None = None) -> Worker:
        """Start `ks <command>`; its output goes to a file (a full pipe would block it)."""
        name = name or command
        log = self.base / f"ks-{name}.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("KS_")}
        environment.update(self.env)
        with log.open("ab") as out:
            process = subprocess.Popen(
                [KS, command], env=environment, stdout=out, stderr=subprocess.STDOUT
            )
        starts = 1 + sum(1 for _ in self.gone if _ == name)
        worker = Worker(name, command, process, log, starts)
        self.workers.append(worker)
        return worker

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        """Run a short `ks <command>` with the workers' settings, as a health check does."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("KS_")}
        environment.update(self.env)
        return subprocess.run(
            [KS, command], env=environment, capture_output=True, text=True, timeout=60
        )

    async def start_serving(self, *commands: str) -> list[Worker]:
        """Start the commands one after the other, each once the one before serves.

        Started at once, they all declare the streams at once; on a busy machine a
        declaration can time out and the process exits (Compose's restart policy would start
        it again): the tests start them in turn instead.
        """
        return [await self.start(command).ready() for command in commands]

    def restart(self, worker: Worker) -> Worker:
        """The same command again, under the same name (its log goes on in the same file)."""
        self.workers.remove(worker)
        self.gone.append(worker.name)
        return self.start(worker.command, worker.name)

    def close(self) -> dict[str, int]:
        """Stop every worker still running; the exit code of each."""
        return {w.name: w.stop() for w in self.workers}
