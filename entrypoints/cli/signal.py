"""`ks signal`: what a partner integrator uses to try the contract."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from uuid import uuid4

import nats
import typer
from nats.errors import NoServersError

from ks_engine.demo import demo_bsn
from ks_engine.receipts import signal_reference
from ks_engine.runtime import nats_credentials
from ks_engine.settings import Settings
from ks_engine.signal_contract import SIGNAL_SUBJECT_PREFIX, example_signal

app = typer.Typer(no_args_is_help=True, help="Partner signals: example and send.")


@app.command("example")
def example(
    municipality: str = "GM0928",
    household: bool = typer.Option(
        False, "--household", help="Name the household: a co-parent and the expected child."
    ),
) -> None:
    """Print a valid example signal (random test BSNs, a fresh id) as JSON."""
    rng = random.Random()  # noqa: S311 - test data
    bsn = demo_bsn(rng)
    co_parent = _other_bsn(rng, bsn) if household else None
    typer.echo(
        json.dumps(
            example_signal(
                bsn, municipality=municipality, event_id=str(uuid4()), co_parent_bsn=co_parent
            ),
            indent=2,
            ensure_ascii=False,
        )
    )


def _other_bsn(rng: random.Random, bsn: str) -> str:
    """A valid test BSN other than ``bsn``: the co-parent's own."""
    while (other := demo_bsn(rng)) == bsn:
        pass
    return other


@app.command("send")
def send(file: Path) -> None:
    """Publish the signal in FILE to ks.signals.<municipality>, as a partner system would."""
    doc = json.loads(file.read_text("utf-8"))
    municipality = str(doc.get("data", {}).get("municipality", ""))
    if not municipality:
        raise typer.BadParameter("the signal has no data.municipality", param_hint="FILE")
    key = f"{doc.get('source')}#{doc.get('id')}"
    settings = Settings()
    try:
        seq = asyncio.run(_publish(settings, municipality, file.read_bytes(), key))
    except NatsUnreachableError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"published as stream sequence {seq}; reference {signal_reference(key)}")
    typer.echo(
        "the receipt: GET /signals/<reference> on the HTTP API (a partner's token), or "
        f"subscribe to ks.receipts.{municipality}.>"
    )


class NatsUnreachableError(Exception):
    """No nats-server answered at the configured address."""


async def _publish(settings: Settings, municipality: str, body: bytes, key: str) -> int:
    """Publish once; an unreachable server is reported within seconds, not retried forever."""

    async def quiet(_: Exception) -> None:
        """Connection errors are reported once, below, not as a traceback per attempt."""

    try:
        nc = await nats.connect(
            settings.nats_servers,
            connect_timeout=2,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.5,
            error_cb=quiet,
            **nats_credentials(settings),
        )
    except (NoServersError, OSError, TimeoutError) as e:
        raise NatsUnreachableError(
            f"no NATS server answered at {settings.effective_nats_url}: set KS_NATS_URL to the "
            "address the engine prints on start (`ks-engine running ... on nats://...`)"
        ) from e
    try:
        ack = await nc.jetstream().publish(
            SIGNAL_SUBJECT_PREFIX + municipality, body, headers={"Nats-Msg-Id": key}
        )
        return int(ack.seq)
    finally:
        await nc.close()
