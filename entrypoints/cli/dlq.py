"""`ks dlq list|show|replay`: an administrator repairs dead-lettered signals.

Dead letters are sealed (adapters/nats/dead_letters.py); these commands open them with the
engine's key. Each use is written to the access log before anything is shown or replayed
(NEN 7513: who, as admin of which organisation, from which OS account and host, purpose
repair, which letter and whose pseudonym), also when it fails.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import socket
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from uuid import uuid4

import nats.errors
import typer

from adapters.nats.dead_letter_box import (
    DeadLetterBox,
    DeadLetterNotFoundError,
    ReplayRefusedError,
)
from adapters.nats.dead_letters import DeadLetterError, Original, dead_letter_seal
from entrypoints.cli.projections import jetstream
from ks_engine.access_log import AccessAction, AccessLog, AccessOutcome, Purpose
from ks_engine.bootstrap import Engine, bootstrap

app = typer.Typer(no_args_is_help=True, help="Dead letters (KS_DLQ): list, show, replay.")
T = TypeVar("T")


def _someone(value: str) -> str:
    if not value.strip():
        raise typer.BadParameter("say who you are: every use of the dead letters is logged")
    return value.strip()


User = Annotated[
    str,
    typer.Option(
        "--user",
        help="Who you are: your principal id or staff reference (no name).",
        callback=_someone,
    ),
]
Organisation = Annotated[str, typer.Option(help="The organisation on whose behalf you act.")]
Seq = Annotated[int, typer.Argument(help="The dead letter's sequence in KS_DLQ (ks dlq list).")]


class _Audited:
    """Writes one access-log entry per command, naming the administrator and the letter."""

    def __init__(self, engine: Engine, user: str, organisation: str) -> None:
        self.log = AccessLog(engine.referrals, engine.referrals.clock)
        self.engine, self.user, self.organisation = engine, user, organisation
        self.source = f"cli {getpass.getuser()}@{socket.gethostname()}"

    def record(
        self,
        action: AccessAction,
        what: str,
        status: int,
        *,
        pseudonym: str | None = None,
    ) -> None:
        self.log.record(
            action=action,
            outcome=AccessOutcome.ALLOWED if status < 400 else AccessOutcome.ERROR,
            principal_id=self.user,
            role="admin",
            organisation=self.organisation,
            purpose=Purpose.REPAIR,
            source_address=self.source,
            request_id=str(uuid4()),
            person_pseudonym=pseudonym,
            object=what,
            status=status,
        )

    def pseudonym(self, original: Original) -> str | None:
        """The pseudonym of the BSN in a signal's body, when it holds a valid one."""
        try:
            doc = json.loads(original.body)
            bsn = doc["data"]["person"]["bsn"]
            return self.engine.pseudonymise(bsn) if isinstance(bsn, str) else None
        except (ValueError, KeyError, TypeError, RecursionError):
            return None


def _on_box(engine: Engine, use: Callable[[DeadLetterBox], Awaitable[T]]) -> T:
    async def run() -> T:
        async with jetstream(engine.settings) as js:
            return await use(DeadLetterBox(js, dead_letter_seal(engine.settings)))

    return asyncio.run(run())


def _fail(audit: _Audited, action: AccessAction, what: str, error: Exception) -> typer.Exit:
    """Log the failed use (with an HTTP-like status, as the API's entries have) and say why."""
    if isinstance(error, nats.errors.Error):
        status, message = 503, f"KS_DLQ cannot be read right now ({type(error).__name__})"
    elif isinstance(error, DeadLetterNotFoundError):
        status, message = 404, str(error)
    elif isinstance(error, ReplayRefusedError):
        status, message = 409, str(error)
    else:
        status, message = 422, str(error)
    audit.record(action, what, status)
    typer.echo(message, err=True)
    return typer.Exit(1)


@app.command("list")
def list_letters(user: User, organisation: Organisation = "ks-engine-admin") -> None:
    """List the dead letters: sequence, time, subject, partner, reason. Never a body."""
    engine = bootstrap()
    try:
        audit = _Audited(engine, user, organisation)
        try:
            letters, replayed = _on_box(engine, lambda box: box.letters())
        except nats.errors.Error as e:
            raise _fail(audit, AccessAction.READ, "ks dlq list", e) from None
        audit.record(AccessAction.READ, "ks dlq list", 200)
    finally:
        engine.close()
    for letter in letters:
        row = letter.metadata()
        when = replayed.get(letter.seq)
        mark = "" if letter.seq not in replayed else f"  replayed {when or ''}".rstrip()
        typer.echo(
            f"{row['seq']:>6}  {row['time'][:19]}  {row['subject']}  {row['partner'] or '-'}  "
            f"{row['code']}: {row['reason']}  (deliveries {row['deliveries']}, "
            f"sealed {row['sealed']}){mark}"
        )
    typer.echo(f"{len(letters)} dead letters in KS_DLQ.")


@app.command("show")
def show(seq: Seq, user: User, organisation: Organisation = "ks-engine-admin") -> None:
    """Open dead letter SEQ and print the original message, personal data included, for
    repair. Do not copy it anywhere else."""
    engine = bootstrap()
    what = f"ks dlq show {seq}"
    try:
        audit = _Audited(engine, user, organisation)
        try:
            letter = _on_box(engine, lambda box: box.letter(seq))
            original = letter.original(dead_letter_seal(engine.settings))
        except (DeadLetterError, nats.errors.Error) as e:
            raise _fail(audit, AccessAction.READ, what, e) from None
        audit.record(AccessAction.READ, what, 200, pseudonym=audit.pseudonym(original))
    finally:
        engine.close()
    meta = letter.metadata()
    typer.echo(f"dead letter {seq}, {meta['time']}: {meta['code']}: {meta['reason']}")
    typer.echo(f"subject: {_printable(original.subject)}")
    for name, value in sorted(original.headers.items()):
        typer.echo(f"header {_printable(name)}: {_printable(value)}")
    typer.echo("")
    typer.echo(_printable(original.body.decode("utf-8", errors="replace")))


def _printable(text: str) -> str:
    """A partner's bytes as safe terminal text: control characters (escape sequences that
    could rewrite the administrator's screen) shown as escapes, lines and tabs kept."""
    return "".join(
        ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else repr(ch)[1:-1] for ch in text
    )


@app.command("replay")
def replay(seq: Seq, user: User, organisation: Organisation = "ks-engine-admin") -> None:
    """Publish dead letter SEQ again as the partner sent it, once its cause is repaired (a
    partner registered, the store back). A signal that already took effect is recognised and
    has no second effect."""
    engine = bootstrap()
    what = f"ks dlq replay {seq}"
    try:
        audit = _Audited(engine, user, organisation)

        async def use(box: DeadLetterBox) -> int:
            original = (await box.letter(seq)).original(box.seal)
            # Logged before the replay: a replay never happens unlogged.
            await asyncio.to_thread(
                audit.record, AccessAction.EXECUTE, what, 202, pseudonym=audit.pseudonym(original)
            )
            return await box.replay(seq)

        try:
            new_seq = _on_box(engine, use)
        except (DeadLetterError, nats.errors.Error) as e:
            raise _fail(audit, AccessAction.EXECUTE, what, e) from None
    finally:
        engine.close()
    typer.echo(
        f"dead letter {seq} published again as KS_SIGNALS message {new_seq}; its receipt tells "
        "the outcome."
    )
