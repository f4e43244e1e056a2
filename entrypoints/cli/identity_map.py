"""`ks principals map`: which people of an identity provider may sign in to the dashboard.

Every change is written to the access log (NEN 7513: who changed whose access, when, from
where), as the API's own changes are.
"""

from __future__ import annotations

import getpass
import socket
from typing import Annotated
from uuid import uuid4

import typer
from pydantic import ValidationError

from ks_engine.access_log import AccessAction, AccessLog, AccessOutcome, Purpose
from ks_engine.bootstrap import bootstrap
from ks_engine.identity_map import IdentityMap, IdentityRule
from ks_engine.principals import PrincipalError, Role
from ks_engine.settings import Settings

app = typer.Typer(
    no_args_is_help=True,
    help="Map an OpenID Connect provider's people or groups to a role (dashboard sign-in).",
)

User = Annotated[
    str,
    typer.Option("--user", help="Who you are: your principal id or staff reference (no name)."),
]


def _audit(user: str, action: AccessAction, what: str) -> None:
    engine = bootstrap(configure_logs=False)
    try:
        AccessLog(engine.referrals, engine.referrals.clock).record(
            action=action,
            outcome=AccessOutcome.ALLOWED,
            principal_id=user,
            role=Role.ADMIN.value,
            organisation="ks-engine beheer",
            purpose=Purpose.OPERATIONS,
            source_address=f"cli {getpass.getuser()}@{socket.gethostname()}",
            request_id=str(uuid4()),
            object=what,
            status=200,
        )
    finally:
        engine.close()


def _describe(rule: IdentityRule) -> str:
    who = f"subject {rule.subject}" if rule.subject is not None else f"group {rule.group}"
    where = f" for {', '.join(rule.municipalities)}" if rule.municipalities else ""
    return f"{who} of {rule.issuer} -> {rule.role.value} of {rule.organisation}{where}"


@app.command("add")
def add(
    issuer: Annotated[str, typer.Option(help="The provider's issuer URL (its `iss`).")],
    role: Annotated[Role, typer.Option(help="coordinator, auditor, admin or programme_office")],
    organisation: Annotated[str, typer.Option(help="The organisation the person works for")],
    user: User,
    subject: Annotated[
        str | None, typer.Option(help="One person: their `sub` at the provider.")
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="Everyone in this group (KS_OIDC_GROUPS_CLAIM).")
    ] = None,
    municipality: Annotated[
        list[str] | None, typer.Option(help="Municipality a coordinator serves (repeatable)")
    ] = None,
) -> None:
    """Let a person, or everyone in a group, sign in with this role."""
    try:
        rule = IdentityRule(
            issuer=issuer.rstrip("/"),
            subject=subject,
            group=group,
            role=role,
            organisation=organisation,
            municipalities=tuple(municipality or ()),
        )
        IdentityMap(Settings().identity_map_file).add(rule)
    except ValidationError as e:
        typer.echo(
            "; ".join(str(err["msg"]).removeprefix("Value error, ") for err in e.errors()), err=True
        )
        raise typer.Exit(2) from None
    except PrincipalError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    _audit(user, AccessAction.CREATE, f"ks principals map add {rule.key}: {_describe(rule)}")
    typer.echo(f"{rule.key}: {_describe(rule)}")


@app.command("list")
def list_rules() -> None:
    """Who may sign in through which provider, as what."""
    for rule in IdentityMap(Settings().identity_map_file).rules():
        typer.echo(f"{rule.key}: {_describe(rule)}")


@app.command("remove")
def remove(key: str, user: User) -> None:
    """Remove a rule: the sessions it allowed end at their next request."""
    try:
        rule = IdentityMap(Settings().identity_map_file).remove(key)
    except PrincipalError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    _audit(user, AccessAction.DELETE, f"ks principals map remove {key}: {_describe(rule)}")
    typer.echo(f"removed {key}: {_describe(rule)}")
