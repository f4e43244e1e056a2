"""The menukaart: validation of the data file and the ranking of offers for a case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.catalogue import Catalogue, suggest_support
from domain.errors import UnknownOfferError
from domain.referral import Referral
from domain.values import Dimension, Need, Phase, RiskFactor
from ks_engine.catalogue_file import CatalogueFileError, load_catalogue
from ks_engine.clock import AMSTERDAM
from tests.conftest import FixedClock
from tests.referral_builders import (
    COORDINATOR,
    JGZ,
    KERKRADE,
    MIDWIFE,
    UTRECHT,
    give,
    make_signal,
    new_case,
    request,
    scores,
)


def service(offer_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": offer_id,
        "name": offer_id.title(),
        "organization_id": "org-1",
        "phases": ["pregnancy"],
        "service_area": [KERKRADE],
        **fields,
    }


CATALOGUE = Catalogue.model_validate(
    {
        "version": "test",
        "organizations": [{"id": "org-1", "name": "Eén"}, {"id": "org-2", "name": "Twee"}],
        "services": [
            service("no-fit", needs=["addiction"], risk_factors=["substance_use"]),
            service("stress-a", risk_factors=["stress"]),
            service(
                "alpha",
                organization_id="org-2",
                needs=["financial"],
                risk_factors=["debts"],
                dimensions=["quality_of_life"],
            ),
            service("beta", needs=["housing"], risk_factors=["housing"]),
            service(
                "after-birth", needs=["financial"], risk_factors=["debts"], phases=["postnatal"]
            ),
            service("utrecht-only", needs=["financial"], service_area=[UTRECHT]),
            service("stress-b", risk_factors=["stress"]),
        ],
    }
)


def discussed_case(clock: FixedClock) -> Referral:
    """Signalled with debts and stress in pregnancy; discussed: financial and housing needs,
    quality of life and mental well-being scored low."""
    case = new_case(clock())
    request(case, clock())
    give(case, clock(), scope=(JGZ,))
    case.record_discussion(
        on=clock().date(),
        participants=[JGZ],
        scores=scores(low=3, high=8),
        needs=[Need.FINANCIAL, Need.HOUSING],
        actor=COORDINATOR,
        at=clock(),
        causation_id="d",
    )
    return case


def test_offers_are_ranked_by_needs_risk_factors_and_low_scores(clock: FixedClock) -> None:
    ranked = suggest_support(discussed_case(clock), CATALOGUE)

    assert [(s.offer.id, s.score) for s in ranked] == [
        ("alpha", 6),
        ("beta", 3),
        ("stress-a", 2),
        ("stress-b", 2),  # a tie keeps catalogue order
    ]
    best = ranked[0]
    assert best.provider.name == "Twee"
    assert list(best.reasons) == [
        {"kind": "need", "code": "financial", "label": "Financiën en schulden", "points": 3},
        {
            "kind": "risk_factor",
            "code": "debts",
            "label": "Schulden en financiële problemen",
            "points": 2,
        },
        {
            "kind": "dimension",
            "code": "quality_of_life",
            "label": "Kwaliteit van leven",
            "points": 1,
        },
    ]
    assert [r["code"] for r in ranked[1].reasons] == ["housing"]  # housing is no risk factor here


def test_before_a_discussion_only_risk_factors_count(clock: FixedClock) -> None:
    ranked = suggest_support(new_case(clock()), CATALOGUE)

    assert [(s.offer.id, s.score) for s in ranked] == [
        ("stress-a", 2),
        ("alpha", 2),
        ("stress-b", 2),
    ]


def test_offers_outside_the_phase_or_municipality_are_left_out(clock: FixedClock) -> None:
    in_utrecht = new_case(clock(), make_signal(municipality=UTRECHT, risks=(RiskFactor.DEBTS,)))
    after_birth = new_case(clock(), make_signal(phase=Phase.POSTNATAL))

    assert suggest_support(in_utrecht, CATALOGUE) == []  # utrecht-only fits needs, not risks
    assert [s.offer.id for s in suggest_support(after_birth, CATALOGUE)] == ["after-birth"]


def test_the_phase_of_the_latest_signal_counts(clock: FixedClock) -> None:
    case = discussed_case(clock)
    case.add_signal(make_signal(phase=Phase.POSTNATAL), actor=MIDWIFE, at=clock(), causation_id="s")

    ranked = suggest_support(case, CATALOGUE)

    assert [(s.offer.id, s.score) for s in ranked] == [("after-birth", 5)]


def test_the_shipped_menukaart_is_valid_and_suggests_debt_counselling(clock: FixedClock) -> None:
    shipped = load_catalogue()
    case = discussed_case(clock)

    ranked = suggest_support(case, shipped)

    assert ranked[0].offer.id == "schuldhulpverlening"
    assert all(KERKRADE in s.offer.service_area for s in ranked)
    assert all(Phase.PREGNANCY in s.offer.phases for s in ranked)
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    assert shipped.provider_of("voorzorg").id == "ggd-zuid-limburg"


def test_an_unknown_offer_is_named_in_the_error() -> None:
    with pytest.raises(UnknownOfferError, match="support offer 'nope' is not on the menukaart"):
        CATALOGUE.offer("nope")


@pytest.mark.parametrize(
    ("services", "message"),
    [
        ([service("a"), service("a")], "service ids in the menukaart must be unique"),
        ([service("a", organization_id="ghost")], "service 'a' names unknown organization"),
        ([service("a", service_area=["GM12"])], "municipality code must be 'GM'"),
        ([service("A b")], "String should match pattern"),
        ([service("a", phases=[])], "at least 1 item"),
    ],
)
def test_an_invalid_menukaart_is_refused(services: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Catalogue.model_validate(
            {
                "version": "x",
                "organizations": [{"id": "org-1", "name": "Eén"}],
                "services": services,
            }
        )


def test_an_unreadable_menukaart_file_gets_a_clear_error(tmp_path: Any) -> None:
    path = tmp_path / "menukaart.json"
    path.write_text("{not json")

    with pytest.raises(CatalogueFileError, match="is not usable"):
        load_catalogue(path)


def test_an_offer_already_matched_is_not_suggested_again(clock: FixedClock) -> None:
    case = discussed_case(clock)
    case.match_support(
        offers=[{"offer_id": "alpha", "provider": JGZ}],
        lead_professional="JGZ-verpleegkundige",
        planned_start=clock().date(),
        actor=COORDINATOR,
        at=clock(),
        causation_id="m",
    )

    ranked = suggest_support(case, CATALOGUE)

    assert [s.offer.id for s in ranked] == ["beta", "stress-a", "stress-b"]


@settings(max_examples=60, deadline=None)
@given(
    needs=st.lists(st.sampled_from(list(Need)), min_size=1, max_size=8),
    risks=st.lists(st.sampled_from(list(RiskFactor)), max_size=8),
    dimensions=st.lists(st.sampled_from(list(Dimension)), max_size=8),
)
def test_a_reason_counts_and_shows_once_however_often_an_offer_lists_it(
    needs: list[Need], risks: list[RiskFactor], dimensions: list[Dimension]
) -> None:
    # An offer whose terms are listed more than once (a form or an import may send them so)
    catalogue = Catalogue.model_validate(
        {
            "version": "test",
            "organizations": [{"id": "org-1", "name": "Eén"}],
            "services": [service("twice", needs=needs, risk_factors=risks, dimensions=dimensions)],
        }
    )
    offer = catalogue.services[0]
    assert offer.needs == tuple(dict.fromkeys(needs))
    at = datetime(2026, 11, 2, 10, 0, tzinfo=AMSTERDAM)
    case = new_case(at, make_signal(risks=tuple(dict.fromkeys(risks)) or (RiskFactor.STRESS,)))
    request(case, at)
    give(case, at, scope=(JGZ,))
    case.record_discussion(
        on=at.date(),
        participants=[JGZ],
        scores=scores(low=3, high=8),
        needs=list(Need),
        actor=COORDINATOR,
        at=at,
        causation_id="d",
    )

    [suggestion] = suggest_support(case, catalogue)

    codes = [(r["kind"], r["code"]) for r in suggestion.reasons]
    assert len(codes) == len(set(codes))
    assert suggestion.score == sum(r["points"] for r in suggestion.reasons)
    assert len(suggestion.reason_labels) == len(set(suggestion.reason_labels))
    assert set(suggestion.reason_labels) == {r["label"] for r in suggestion.reasons}
