"""The menukaart as HSDS 3.0 JSON: round trip, validation against Open Referral's own schemas,
errors naming record and field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.catalogue import Catalogue
from domain.values import Dimension, Need, Phase, RiskFactor
from ks_engine import hsds
from ks_engine.catalogue_file import load_catalogue
from ks_engine.hsds import HsdsError, export_hsds, from_hsds, to_hsds
from ks_engine.hsds_schema import problems, schemas, validator

SHIPPED = load_catalogue()


def test_the_shipped_menukaart_survives_a_round_trip_and_is_valid_hsds() -> None:
    document = to_hsds(SHIPPED)
    for o in document["organizations"]:
        assert not list(validator("organization").iter_errors(o))
    for s in document["services"]:
        assert not list(validator("service").iter_errors(s))
    assert export_hsds(SHIPPED) == document
    back = from_hsds(copy.deepcopy(document))
    assert back.services == SHIPPED.services
    assert back.organizations == SHIPPED.organizations
    voorzorg = next(s for s in document["services"] if s["id"] == "voorzorg")
    terms = {
        (a["taxonomy_term"]["taxonomy_id"], a["taxonomy_term"]["code"])
        for a in voorzorg["attributes"]
    }
    assert ("ks-phase", "pregnancy") in terms
    assert ("ks-risk-factor", "young_parents") in terms
    assert [a["name"] for a in voorzorg["service_areas"]] == [
        "GM0928",
        "GM0882",
        "GM0981",
        "GM0917",
    ]


services = st.builds(
    lambda i, phases, needs, risks, dims, area: {
        "id": f"offer-{i}",
        "name": f"Aanbod {i}",
        "organization_id": "org",
        "description": "beschrijving",
        "eligibility": "voor wie",
        "phases": phases,
        "needs": needs,
        "risk_factors": risks,
        "dimensions": dims,
        "service_area": area,
    },
    st.integers(0, 10_000),
    st.lists(st.sampled_from([p.value for p in Phase]), min_size=1, max_size=3, unique=True),
    st.lists(st.sampled_from([n.value for n in Need]), max_size=3, unique=True),
    st.lists(st.sampled_from([r.value for r in RiskFactor]), max_size=3, unique=True),
    st.lists(st.sampled_from([d.value for d in Dimension]), max_size=3, unique=True),
    st.lists(st.sampled_from(["GM0928", "GM0882", "GM0981", "GM0344"]), min_size=1, unique=True),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(services, min_size=1, max_size=5, unique_by=lambda s: s["id"]))
def test_any_menukaart_comes_back_unchanged_from_hsds(records: list[dict[str, Any]]) -> None:
    catalogue = Catalogue.model_validate(
        {"version": "9", "organizations": [{"id": "org", "name": "Org"}], "services": records}
    )
    assert from_hsds(to_hsds(catalogue)) == catalogue


def _broken(change: Any) -> str:
    document = to_hsds(SHIPPED)
    change(document)
    with pytest.raises(HsdsError) as caught:
        from_hsds(document)
    return str(caught.value)


def test_a_schema_error_names_the_service_and_field() -> None:
    message = _broken(lambda d: d["services"][0].update(status="open"))
    assert "service 'voorzorg': status: 'open' is not one of" in message


def test_a_missing_required_field_names_the_organization() -> None:
    message = _broken(lambda d: d["organizations"][1].pop("name"))
    assert "organization 'ggd-regio-utrecht': (record): 'name' is a required property" in message


def test_a_municipality_that_is_not_a_cbs_code_names_the_service_areas() -> None:
    message = _broken(lambda d: d["services"][2]["service_areas"][0].update(name="Kerkrade"))
    assert "service 'stevig-ouderschap': service_areas: municipality code must be" in message
    assert "at least 1 item" not in message  # the item is named, not the list's length


def test_an_unknown_phase_is_named() -> None:
    def change(d: dict[str, Any]) -> None:
        d["services"][1]["attributes"][0]["taxonomy_term"]["code"] = "kraamtijd"

    assert "service 'voorzorg-utrecht': phases: Input should be" in _broken(change)


def test_an_unknown_provider_is_named() -> None:
    message = _broken(lambda d: d["services"][0].update(organization_id="onbekend"))
    assert "service 'voorzorg' names unknown organization 'onbekend'" in message


def test_parts_of_hsds_the_menukaart_does_not_keep_are_refused_by_name() -> None:
    phones = [{"id": "p", "number": "1"}, {"id": "q", "number": "2"}]
    message = _broken(lambda d: d["services"][3].update(phones=phones))
    assert message.count("service 'prenataal-huisbezoek': phones: the menukaart does not keep") == 1
    assert "HSDS phone records" in message


def test_an_unkept_table_deep_inside_a_record_is_named_by_its_path() -> None:
    def change(d: dict[str, Any]) -> None:
        d["services"][0]["attributes"][0]["metadata"] = [{"id": "m"}]
        d["organizations"][0]["programs"] = [{"id": "p", "name": "P"}]

    message = _broken(change)
    assert "service 'voorzorg': attributes.0.metadata: the menukaart does not keep HSDS" in message
    org = to_hsds(SHIPPED)["organizations"][0]["id"]
    assert f"organization '{org}': programs: the menukaart does not keep HSDS program" in message


def test_references_between_the_vendored_schema_files_are_followed() -> None:
    # service.json -> attribute.json -> taxonomy_term.json -> taxonomy.json, all by "$ref".
    service = to_hsds(SHIPPED)["services"][0]
    term = service["attributes"][0]["taxonomy_term"]
    del term["name"]
    term["taxonomy_detail"] = {"id": "ks-phase", "name": "Fase"}
    service["service_areas"][0]["id"] = 7
    found = problems("service", service)
    assert "service 'voorzorg': attributes.0.taxonomy_term: 'name' is a required property" in found
    taxonomy = "service 'voorzorg': attributes.0.taxonomy_term.taxonomy_detail"
    assert f"{taxonomy}: 'description' is a required property" in found
    assert "service 'voorzorg': service_areas.0.id: 7 is not of type 'string'" in found


def test_the_vendored_schemas_are_open_referrals_files_of_one_commit() -> None:
    # Unchanged upstream files: each keeps its own $id on the same branch, no local edits.
    base = "https://raw.githubusercontent.com/openreferral/specification/refs/heads/3.2/schema/"
    for table, schema in schemas().items():
        assert schema["$id"] == f"{base}{table}.json"
        assert schema["name"] == table
    assert set(schemas()) == {
        "service",
        "organization",
        "service_area",
        "attribute",
        "taxonomy_term",
        "taxonomy",
    }


def test_an_export_that_would_not_be_valid_hsds_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def without_description(catalogue: Catalogue) -> dict[str, Any]:
        document = to_hsds(catalogue)
        del document["organizations"][0]["description"]
        return document

    monkeypatch.setattr(hsds, "to_hsds", without_description)
    with pytest.raises(HsdsError, match="'description' is a required property"):
        export_hsds(SHIPPED)


def test_an_inactive_service_is_left_out() -> None:
    document = to_hsds(SHIPPED)
    document["services"][0]["status"] = "inactive"
    assert "voorzorg" not in {s.id for s in from_hsds(document).services}
