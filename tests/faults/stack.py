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
RESTARTS = 5  # starts of one worker that may exit before it serves


@dataclass
class Worker:
    """One running `ks <command>` process and its log file."""

    name: str
    command: str
    process: subprocess.Popen[bytes]
    log: Path
    offset: int = 0  # where this start's output begins in the log
    exits: list[int] = field(default_factory=list)  # exit codes of starts that did not serve

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
        """Everything this worker wrote, over all its starts."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def this_start(self) -> str:
        with self.log.open("rb") as f:
            f.seek(self.offset)
            return f.read().decode(errors="replace")

    async def serves(self, guard: float = 120.0) -> bool:
        """Wait until this start serves (its log says so): True; False if it exits first."""
        deadline = time.monotonic() + guard
        while READY[self.command] not in self.this_start():
            if not self.running:
                return False
            assert time.monotonic() < deadline, f"ks {self.command} never served"
            await asyncio.sleep(0.1)
        return True


@dataclass
class Stack:
    """The engine's settings for one test, and the worker processes started with them."""

    base: Path
    cluster: NatsCluster
    database: PostgresDatabase
    overrides: dict[str, str] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)

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
            "KS_SIGNING_KEY": keys["signing_key"],
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
        offset = log.stat().st_size if log.exists() else 0
        with log.open("ab") as out:
            process = subprocess.Popen(
                [KS, command], env=environment, stdout=out, stderr=subprocess.STDOUT
            )
        worker = Worker(name, command, process, log, offset)
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
        """Start the commands one after the other, each once the one before serves."""
        return [await self.serving(self.start(command)) for command in commands]

    async def serving(self, worker: Worker) -> Worker:
        """The worker once it serves. A start that exits first is started again, as Compose's
        `restart: unless-stopped` does: a worker exits when it cannot declare the streams at
        start (on a busy machine the cluster may time out or find no peers for a moment).
        Running workers must never exit: the tests check that they are still running."""
        exits: list[int] = []
        while not await worker.serves():
            exits.append(worker.process.returncode)
            assert len(exits) < RESTARTS, f"ks {worker.command} exited:\n{worker.output()[-3000:]}"
            worker = self.restart(worker)
        worker.exits = exits
        return worker

    def restart(self, worker: Worker) -> Worker:
        """The same command again, under the same name (its log goes on in the same file)."""
        self.workers.remove(worker)
        return self.start(worker.command, worker.name)

    def warnings(self, most: int = 60) -> str:
        """The last ``most`` lines each worker logged at warning level or above."""
        noted = []
        for worker in self.workers:
            lines = [
                line
                for line in worker.output().splitlines()
                if '"level": "warning"' in line or '"level": "error"' in line or "Traceback" in line
            ]
            noted.append(f"{worker.name}: {len(lines)} lines\n" + "\n".join(lines[-most:]))
        return "\n".join(noted)

    def close(self) -> dict[str, int]:
        """Stop every worker still running; the exit code of each."""
        return {w.name: w.stop() for w in self.workers}
