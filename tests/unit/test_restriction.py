"""Restriction (AVG art. 18/21): a restricted case is kept and refuses every command but the
privacy officer's, until lifted; the views show it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from domain.deadlines import ServiceLevels
from domain.errors import CaseRestrictedError, IllegalTransitionError
from domain.expiry import ExpiryRule
from domain.restriction import RestrictionBasis
from domain.values import Actor, ActorRole, Outcome
from ks_engine import commands as c
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.privacy.expiry import expire_inactive
from ks_engine.settings import Settings
from projections.case_view import apply as apply_view
from projections.event import envelope, parse_event, public_data
from projections.work_queue import apply as apply_row
from tests.conftest import FixedClock
from tests.referral_builders import BSN_A, BSN_B, coordinator_ctx, make_signal, partner_ctx

OFFICER = c.Context(
    actor=Actor(organisation="fg", role=ActorRole.PRIVACY_OFFICER, user_ref="fg-1"),
    causation_id="rights-1",
)


@pytest.fixture
def engine(tmp_path: Path, clock: FixedClock) -> Iterator[Engine]:
    built = bootstrap(
        Settings(store="memory", data_dir=tmp_path), clock=clock, configure_logs=False
    )
    yield built
    built.close()


def _case(engine: Engine, bsn: str = BSN_A) -> UUID:
    sig = make_signal(bsn)
    outcome = engine.referrals.receive_signal(sig, partner_ctx(sig))
    assert outcome.case_id is not None
    return outcome.case_id


def test_restriction_refuses_every_command_until_the_privacy_officer_lifts_it(
    engine: Engine, clock: FixedClock
) -> None:
    app = engine.referrals
    case_id = _case(engine)
    # Given a case the privacy officer restricted on the family's objection
    app.restrict_processing(c.Restrict(case_id=case_id, basis=RestrictionBasis.OBJECTION), OFFICER)
    # When a coordinator acts on it, the command is refused in words and nothing is recorded
    version = app.get_case(case_id).version
    for cmd in (
        lambda: app.request_consent(c.RequestConsent(case_id=case_id), coordinator_ctx()),
        lambda: app.close_case(
            c.Close(case_id=case_id, outcome=Outcome.NO_CONTACT), coordinator_ctx()
        ),
    ):
        with pytest.raises(CaseRestrictedError, match="restricted at the family's request"):
            cmd()
    assert app.get_case(case_id).version == version
    # Nor does inactivity expiry close it
    clock.advance(days=800)
    assert expire_inactive(app, ExpiryRule()) == []
    assert app.get_case(case_id).is_open
    # Then lifting it lets the work go on where it stood
    app.lift_restriction(c.LiftRestriction(case_id=case_id), OFFICER)
    app.request_consent(c.RequestConsent(case_id=case_id), coordinator_ctx())
    assert app.get_case(case_id).state.value == "consent_requested"


def test_restricting_twice_or_lifting_an_unrestricted_case_is_refused(engine: Engine) -> None:
    app = engine.referrals
    case_id = _case(engine)
    with pytest.raises(IllegalTransitionError, match="is not restricted"):
        app.lift_restriction(c.LiftRestriction(case_id=case_id), OFFICER)
    app.restrict_processing(c.Restrict(case_id=case_id, basis=RestrictionBasis.UNLAWFUL), OFFICER)
    with pytest.raises(IllegalTransitionError, match="restricted already"):
        app.restrict_processing(
            c.Restrict(case_id=case_id, basis=RestrictionBasis.UNLAWFUL), OFFICER
        )


def test_a_restricted_case_is_not_merged_into_another(engine: Engine) -> None:
    app = engine.referrals
    kept, other = _case(engine, BSN_A), _case(engine, BSN_B)
    app.restrict_processing(c.Restrict(case_id=other, basis=RestrictionBasis.OBJECTION), OFFICER)
    with pytest.raises(CaseRestrictedError):
        app.merge_cases(c.MergeCases(case_id=kept, other_case_id=other), coordinator_ctx())


def test_the_queue_and_case_view_show_the_restriction(engine: Engine) -> None:
    app = engine.referrals
    case_id = _case(engine)
    app.restrict_processing(c.Restrict(case_id=case_id, basis=RestrictionBasis.OBJECTION), OFFICER)
    view, row = None, None
    for n, stored in enumerate(app.events.get(case_id), start=1):
        name = type(stored).__name__
        msg = envelope(
            name=name,
            case_id=case_id,
            municipality="GM0928",
            version=n,
            position=n,
            through=n,
            data=public_data(name, vars(stored)),
        )
        event = parse_event(json.dumps(msg).encode(), n)
        view = apply_view(view, event)
        row = apply_row(row, event, ServiceLevels())
    assert view is not None
    assert view.restriction is not None
    assert view.restriction["basis"] == "objection"
    assert row is not None
    assert row.restricted
