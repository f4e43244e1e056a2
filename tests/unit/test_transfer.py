"""Transfer to another municipality, both ways: asked with the family's consent (or on the
Meldcode basis), accepted (the case goes on there; later signals there join it) or refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from domain.case_lookup import case_number
from domain.consent_record import ConsentMethod
from domain.errors import (
    CaseRestrictedError,
    ConsentRequiredError,
    IllegalTransitionError,
    InvalidValueError,
)
from domain.escalation import EscalationPurpose
from domain.household import ConsentGiver
from domain.restriction import RestrictionBasis
from domain.transfer import TransferBasis, TransferConsent
from domain.values import Actor, ActorRole, MeldcodeStep
from ks_engine import commands as c
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from projections.case_view import apply as apply_view
from projections.monitoring import apply as apply_monitoring
from projections.work_queue import apply as apply_row
from tests.conftest import FixedClock
from tests.referral_builders import (
    BSN_A,
    KERKRADE,
    LANDGRAAF,
    coordinator_ctx,
    make_signal,
    partner_ctx,
    person,
)
from tests.unit.test_projection_scenario import published

CONSENT = TransferConsent(
    given_by=ConsentGiver.PARENT, method=ConsentMethod.WRITTEN, given_on=date(2026, 1, 5)
)
RECEIVING = c.Context(
    actor=Actor(organisation="gemeente-landgraaf", role=ActorRole.COORDINATOR, user_ref="l-1"),
    causation_id="receiving",
)
HEERLEN, VAALS = "GM0917", "GM0981"


@pytest.fixture
def engine(tmp_path: Path, clock: FixedClock) -> Iterator[Engine]:
    built = bootstrap(
        Settings(store="memory", data_dir=tmp_path), clock=clock, configure_logs=False
    )
    yield built
    built.close()


def _case(engine: Engine, municipality: str = KERKRADE) -> UUID:
    signal = make_signal(BSN_A, municipality=municipality)
    outcome = engine.referrals.receive_signal(signal, partner_ctx(signal))
    assert outcome.case_id is not None
    return outcome.case_id


def _ask(engine: Engine, case_id: UUID, to: str = LANDGRAAF) -> None:
    cmd = c.RequestTransfer(
        case_id=case_id, to_municipality=to, basis=TransferBasis.FAMILY_CONSENT, consent=CONSENT
    )
    engine.referrals.request_transfer(cmd, coordinator_ctx())


def test_transfer_accepted_the_case_goes_on_in_the_new_municipality(engine: Engine) -> None:
    app = engine.referrals
    case_id = _case(engine)
    app.request_consent(c.RequestConsent(case_id=case_id), coordinator_ctx())
    # Given a transfer asked with the family's written consent
    _ask(engine, case_id)
    assert app.get_case(case_id).transfer_request is not None
    assert app.get_case(case_id).municipality == KERKRADE  # nothing moves before the answer
    # When Landgraaf accepts it
    app.accept_transfer(c.AcceptTransfer(case_id=case_id), RECEIVING)
    # Then the case goes on there, where it stood, with its whole history
    case = app.get_case(case_id)
    assert (case.municipality, case.state.value) == (LANDGRAAF, "consent_requested")
    assert case.transfers[0]["from_municipality"] == KERKRADE
    assert case.former_municipalities == [KERKRADE]
    # and a later signal about the mother in Landgraaf joins it, one in Kerkrade does not
    later = make_signal(BSN_A, municipality=LANDGRAAF)
    assert app.receive_signal(later, partner_ctx(later)).case_id == case_id
    back = make_signal(BSN_A, municipality=KERKRADE)
    assert app.receive_signal(back, partner_ctx(back)).case_id != case_id
    # and the case number finds it in Landgraaf only
    number = case_number(case_id)
    assert [x.id for x in app.search_cases([LANDGRAAF], number=number)] == [case_id]
    assert app.search_cases([KERKRADE], number=number) == []


def test_transfer_refused_the_case_stays_and_may_be_asked_again(engine: Engine) -> None:
    app = engine.referrals
    case_id = _case(engine)
    _ask(engine, case_id)
    app.refuse_transfer(c.RefuseTransfer(case_id=case_id, reason="geen plek"), RECEIVING)
    case = app.get_case(case_id)
    assert (case.municipality, case.transfer_request, case.transfers) == (KERKRADE, None, [])
    _ask(engine, case_id, to=VAALS)
    assert app.get_case(case_id).transfer_request["to_municipality"] == VAALS  # type: ignore[index]


def test_a_transfer_needs_the_familys_consent_or_the_meldcode(engine: Engine) -> None:
    app = engine.referrals
    case_id = _case(engine)
    without = c.RequestTransfer(
        case_id=case_id, to_municipality=LANDGRAAF, basis=TransferBasis.FAMILY_CONSENT
    )
    with pytest.raises(ConsentRequiredError, match="who in the family agreed"):
        app.request_transfer(without, coordinator_ctx())
    meldcode = c.RequestTransfer(
        case_id=case_id, to_municipality=LANDGRAAF, basis=TransferBasis.MELDCODE
    )
    with pytest.raises(ConsentRequiredError, match="not escalated under the Meldcode"):
        app.request_transfer(meldcode, coordinator_ctx())
    escalation = c.Escalate(
        case_id=case_id,
        meldcode_step=MeldcodeStep.DECIDE,
        legal_basis="Wmo 2015 art. 5.2.6",
        justification="acute zorgen over de veiligheid van het kind",
        organisations=["veilig-thuis-zuid-limburg"],
        purpose=EscalationPurpose.DISCUSSION,
    )
    app.escalate(escalation, coordinator_ctx())
    app.request_transfer(meldcode, coordinator_ctx())
    assert app.get_case(case_id).transfer_request["basis"] == "meldcode"  # type: ignore[index]


def test_a_transfer_goes_to_another_knooppunt_of_the_region_once_at_a_time(
    engine: Engine,
) -> None:
    app = engine.referrals
    case_id = _case(engine)
    with pytest.raises(InvalidValueError, match="Heerlen runs no Knooppunt"):
        _ask(engine, case_id, to=HEERLEN)
    with pytest.raises(InvalidValueError, match="in GM0928 already"):
        _ask(engine, case_id, to=KERKRADE)
    with pytest.raises(IllegalTransitionError, match="no transfer was asked for"):
        app.accept_transfer(c.AcceptTransfer(case_id=case_id), RECEIVING)
    _ask(engine, case_id)
    with pytest.raises(IllegalTransitionError, match="waits for its answer"):
        _ask(engine, case_id, to=VAALS)


def test_a_restricted_case_is_not_transferred(engine: Engine) -> None:
    app = engine.referrals
    case_id = _case(engine)
    officer = c.Context(
        actor=Actor(organisation="fg", role=ActorRole.PRIVACY_OFFICER), causation_id="fg"
    )
    app.restrict_processing(c.Restrict(case_id=case_id, basis=RestrictionBasis.OBJECTION), officer)
    with pytest.raises(CaseRestrictedError):
        _ask(engine, case_id)


def test_events_after_the_transfer_are_published_under_the_new_municipality(
    engine: Engine,
) -> None:
    app = engine.referrals
    case_id = _case(engine)
    _ask(engine, case_id)
    app.accept_transfer(c.AcceptTransfer(case_id=case_id), RECEIVING)
    app.request_consent(c.RequestConsent(case_id=case_id), RECEIVING)
    events = [e for e in published(app) if e.case_id == str(case_id)]
    where = [(e.name, e.municipality) for e in events]
    assert where == [
        ("Signalled", KERKRADE),
        ("TransferRequested", KERKRADE),
        ("CaseTransferred", LANDGRAAF),
        ("ConsentRequested", LANDGRAAF),
    ]
    # The views follow: the case view and the work queue row are Landgraaf's now
    view, row = None, None
    for e in events:
        view, row = apply_view(view, e), apply_row(row, e, app.service_levels)
    assert view is not None
    assert row is not None
    assert (view.municipality, row.municipality, row.transfer) == (LANDGRAAF, LANDGRAAF, None)
    assert view.transfers[0]["from_municipality"] == KERKRADE
    assert person(BSN_A) not in repr([e.data for e in events[1:]])


def test_monitoring_counts_each_event_for_the_municipality_the_case_was_in(
    engine: Engine, clock: FixedClock
) -> None:
    app = engine.referrals
    case_id = _case(engine)
    app.request_consent(c.RequestConsent(case_id=case_id), coordinator_ctx())
    _ask(engine, case_id)
    app.accept_transfer(c.AcceptTransfer(case_id=case_id), RECEIVING)
    app.record_consent(
        c.RecordConsent(case_id=case_id, given=True, scope=["ggd-zuid-limburg"]), RECEIVING
    )
    facts, tallies = None, []
    for e in published(app):
        if e.case_id == str(case_id):
            facts, counted, _ = apply_monitoring(facts, e)
            tallies += counted
    where = {(t.measure, t.municipality) for t in tallies}
    assert ("cases_opened", KERKRADE) in where  # signalled in Kerkrade
    assert ("consent", LANDGRAAF) in where  # consent recorded after the move
    assert ("consent", KERKRADE) not in where
