"""The regional monitoring page names each published category in Dutch."""

from __future__ import annotations

from adapters.http.dashboard.labels import label_of
from adapters.http.dashboard.region import category_label


def test_an_evaluation_outcome_is_named_by_offer_and_outcome_in_dutch() -> None:
    offers = {"voorzorg": "VoorZorg"}
    assert category_label("evaluation_outcome_by_offer", "voorzorg/partly", offers) == (
        "VoorZorg: Deels behaald"
    )
    # An offer no longer on the menukaart keeps its code rather than disappearing.
    assert category_label("evaluation_outcome_by_offer", "oud-aanbod/met", offers) == (
        "oud-aanbod: Behaald"
    )
    assert (
        label_of("measure", "evaluation_outcome_by_offer") == "Evaluaties per aanbod, naar uitkomst"
    )
    assert label_of("measure", "days_to_support_start") == (
        "Dagen van signaal tot start van de ondersteuning"
    )
