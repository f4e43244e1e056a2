"""A throwaway PostgreSQL server for tests, from the installed binaries, on loopback only.

PostgreSQL refuses to run as root, and the test machines run as root: the server then runs as
the ``postgres`` system user (created if missing) in a temporary directory it owns. Durability
is switched off (fsync, full page writes): the data lives only as long as the test session.
"""

from __future__ import annotations

import itertools
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from tests.ports import listening_port

SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
APP_USER = "ks_engine"


class PostgresServerError(Exception):
    """The test PostgreSQL server could not be set up."""


@dataclass(frozen=True)
class PostgresDatabase:
    """Where one test's database is and how the engine's user logs in to it."""

    host: str
    port: int
    dbname: str
    user: str
    password: str

    def settings_fields(self) -> dict[str, Any]:
        """The ``Settings`` fields (``pg_*``) that point the engine at this database."""
        return {
            "store": "postgres",
            "pg_host": self.host,
            "pg_port": self.port,
            "pg_dbname": self.dbname,
            "pg_user": self.user,
            "pg_password": self.password,
        }


def postgres_bin_dir() -> Path:
    """The directory holding ``initdb`` and ``postgres``; fails loudly if there is none."""
    on_path = shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_major_version)
    if versions:
        return versions[-1].parent
    raise PostgresServerError(
        "PostgreSQL server binaries (initdb, postgres) not found on PATH nor under "
        "/usr/lib/postgresql/*/bin: install PostgreSQL 15 (apt-get install postgresql-15)"
    )


def _major_version(initdb: Path) -> int:
    return int(initdb.parent.parent.name) if initdb.parent.parent.name.isdigit() else 0


def ensure_system_user() -> pwd.struct_passwd | None:
    """The account the server runs as: ``postgres`` when we are root (created if missing)."""
    if os.geteuid() != 0:
        return None  # not root: PostgreSQL runs as ourselves
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd is None:
        raise PostgresServerError(f"running as root, no {SYSTEM_USER!r} user and no useradd")
    subprocess.run(
        [
            useradd,
            "--system",
            "--user-group",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            SYSTEM_USER,
        ],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(SYSTEM_USER)


class PostgresServer:
    """A PostgreSQL server in a temporary directory; databases made per test."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = listening_port()
        self.bin_dir = postgres_bin_dir()
        self.superuser_password = secrets.token_urlsafe(16)
        self.app_password = secrets.token_urlsafe(16)
        self._account = ensure_system_user()
        self._base: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)

    # -- life cycle -----------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> None:
        """Create the cluster (first time only), start the server and wait until it answers."""
        if self._base is None:
            self._init_cluster()
        assert self._base is not None
        log = (self._base / "postgres.log").open("ab")
        self._process = subprocess.Popen(
            [
                str(self.bin_dir / "postgres"),
                "-D", str(self._base / "data"),
                "-c", f"listen_addresses={self.host}",
                "-c", f"port={self.port}",
                "-c", f"unix_socket_directories={self._base}",
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "max_connections=300",
                "-c", "shared_buffers=32MB",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=self._base,
            **self._run_as(),
        )  # fmt: skip
        log.close()  # the server has its own copy
        self._wait_ready(timeout)

    def stop(self) -> None:
        """Fast shutdown: sessions are ended, the server stops cleanly."""
        self._signal_and_wait(signal.SIGINT)

    def crash(self) -> None:
        """Immediate shutdown, as a crash: the next start runs crash recovery."""
        self._signal_and_wait(signal.SIGQUIT)

    def restart(self) -> None:
        """Stop and start again on the same port with the same data."""
        self.stop()
        self.start()

    def remove(self) -> None:
        """Stop the server and delete its files."""
        self.stop()
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None

    # -- databases ------------------------------------------------------------------------
    def create_database(self) -> PostgresDatabase:
        """A new, empty database owned by the engine's (unprivileged) user."""
        dbname = f"ks_test_{next(self._names)}"
        with self.admin_connection() as conn:
            conn.execute(
                SQL("CREATE DATABASE {} OWNER {}").format(Identifier(dbname), Identifier(APP_USER))
            )
        return PostgresDatabase(self.host, self.port, dbname, APP_USER, self.app_password)

    def drop_database(self, dbname: str) -> None:
        """Drop a database, ending any session still connected to it."""
        with self.admin_connection() as conn:
            conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(dbname)))

    def admin_connection(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        """A superuser connection in autocommit mode (CREATE DATABASE needs it)."""
        return psycopg.connect(
            host=self.host,
            port=self.port,
            dbname=dbname,
            user=SUPERUSER,
            password=self.superuser_password,
            autocommit=True,
            connect_timeout=5,
        )

    # -- internals ------------------------------------------------------------------------
    def _init_cluster(self) -> None:
        base = Path(tempfile.mkdtemp(prefix="ks-postgres-"))
        self._base = base
        pwfile = base / "superuser-password"
        pwfile.write_text(self.superuser_password + "\n")
        if self._account is not None:
            for path in (base, pwfile):
                os.chown(path, self._account.pw_uid, self._account.pw_gid)
        done = subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "-D", str(base / "data"),
                "-U", SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            capture_output=True,
            cwd=base,
            check=False,
            **self._run_as(),
        )  # fmt: skip
        pwfile.unlink()
        if done.returncode != 0:
            raise PostgresServerError(f"initdb failed: {done.stderr.decode(errors='replace')}")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise PostgresServerError(f"postgres exited at start:\n{self._log_tail()}")
            try:
                with self.admin_connection() as conn:
                    self._ensure_app_user(conn)
                return
            except psycopg.OperationalError as exc:
                last_error = str(exc)
                time.sleep(0.1)
        raise PostgresServerError(
            f"postgres did not accept connections in {timeout}s ({last_error}):\n{self._log_tail()}"
        )

    def _ensure_app_user(self, conn: psycopg.Connection[Any]) -> None:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_USER,)).fetchone():
            return
        conn.execute(
            SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(Identifier(APP_USER), self.app_password)
        )

    def _signal_and_wait(self, sig: signal.Signals) -> None:
        if self._process is None:
            return
        self._process.send_signal(sig)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def _run_as(self) -> dict[str, Any]:
        if self._account is None:
            return {}
        return {"user": self._account.pw_uid, "group": self._account.pw_gid, "extra_groups": []}

    def _log_tail(self) -> str:
        assert self._base is not None
        log = self._base / "postgres.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()
