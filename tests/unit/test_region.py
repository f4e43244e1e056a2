"""The region: its file, the municipalities with a Knooppunt, days per step and offers there."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from domain.catalogue import suggest_support
from domain.deadlines import ServiceLevels, next_deadline
from domain.organisations import names, providers_in, working_in
from domain.region import Region
from ks_engine.catalogue_file import load_catalogue
from ks_engine.region_file import RegionFileError, load_region, parse_region
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import give, make_signal, new_case, request

ZUID_LIMBURG = {
    "GM0888": "Beek",
    "GM1954": "Beekdaelen",
    "GM0899": "Brunssum",
    "GM1903": "Eijsden-Margraten",
    "GM1729": "Gulpen-Wittem",
    "GM0917": "Heerlen",
    "GM0928": "Kerkrade",
    "GM0882": "Landgraaf",
    "GM0935": "Maastricht",
    "GM0938": "Meerssen",
    "GM0965": "Simpelveld",
    "GM1883": "Sittard-Geleen",
    "GM0971": "Stein",
    "GM0981": "Vaals",
    "GM0994": "Valkenburg aan de Geul",
    "GM0986": "Voerendaal",
}
VAALS, KERKRADE = "GM0981", "GM0928"


def test_the_demo_region_is_zuid_limburg_with_three_knooppunten() -> None:
    region = load_region()
    assert {m.code: m.name for m in region.municipalities} == ZUID_LIMBURG
    assert set(region.knooppunten) == {"GM0928", "GM0882", "GM0981"}
    assert Settings().region == region  # the settings point to it by default


def test_a_region_file_error_names_the_municipality_and_field() -> None:
    text = (
        "id: test\nname: Test\nmunicipalities:\n"
        "  - {code: GM0928, name: Kerkrade}\n"
        "  - {code: GM0981, name: Vaals, service_levels: {discussion_days: 0}}\n"
        "  - {code: GM981, name: Typo}\n"
    )
    with pytest.raises(RegionFileError) as caught:
        parse_region(text, "regio.yaml")
    message = str(caught.value)
    assert "regio.yaml" in message
    assert "municipalities[1] (GM0981).service_levels.discussion_days" in message
    assert "municipalities[2] (GM981).code" in message


def test_a_municipality_listed_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "region.json"
    path.write_text(
        '{"id": "x", "name": "X", "municipalities": [{"code": "GM0928", "name": "A"},'
        ' {"code": "GM0928", "name": "B"}]}'
    )
    with pytest.raises(RegionFileError, match="listed twice: GM0928"):
        load_region(path)


def test_a_municipality_s_own_days_set_its_deadlines_and_others_keep_the_defaults(
    clock: FixedClock,
) -> None:
    region = Region.model_validate(
        {
            "id": "t",
            "name": "T",
            "municipalities": [
                {"code": VAALS, "name": "Vaals", "service_levels": {"discussion_days": 15}},
                {"code": KERKRADE, "name": "Kerkrade"},
            ],
        }
    )
    levels = region.service_levels(ServiceLevels(discussion_days=10, support_days=7))
    assert levels.for_municipality(VAALS).discussion_days == 15
    assert levels.for_municipality(VAALS).support_days == 7  # not given: the default
    assert levels.for_municipality(KERKRADE).discussion_days == 10
    for code, days in ((VAALS, 15), (KERKRADE, 10)):
        at: datetime = clock()
        case = new_case(at, make_signal(municipality=code))
        request(case, at)
        give(case, at)
        deadline = next_deadline(case, levels)
        assert deadline is not None
        assert (deadline.step, deadline.due) == ("discussion", (at + timedelta(days=days)).date())


def test_suggestions_leave_out_offers_the_region_does_not_list_for_the_municipality(
    clock: FixedClock,
) -> None:
    shipped, region = load_catalogue(), load_region()
    cases = {code: new_case(clock(), make_signal(municipality=code)) for code in (KERKRADE, VAALS)}
    kerkrade = {
        s.offer.id for s in suggest_support(cases[KERKRADE], shipped, region.offers_in(KERKRADE))
    }
    vaals = {s.offer.id for s in suggest_support(cases[VAALS], shipped, region.offers_in(VAALS))}
    assert region.offers_in(KERKRADE) is None  # every offer of the service area
    assert "centering-pregnancy" in kerkrade
    assert "centering-pregnancy" not in vaals  # not in Vaals' list
    assert vaals
    assert vaals <= set(region.offers_in(VAALS) or ())


def test_the_organisations_of_a_municipality_are_its_partners_and_providers_by_name() -> None:
    region, catalogue = load_region(), load_catalogue()

    in_kerkrade = working_in(KERKRADE, catalogue, region, also=["org-that-signalled"])

    ids = [i for i, _ in in_kerkrade]
    assert ids[0] == "fiom"  # sorted by name: "Fiom (Nu Niet Zwanger)" first
    assert [n for _, n in in_kerkrade] == sorted((n for _, n in in_kerkrade), key=str.casefold)
    assert dict(in_kerkrade)["veilig-thuis-zuid-limburg"] == "Veilig Thuis Zuid-Limburg"
    # One organisation known by two ids is offered once, the box standing for both.
    midwives = "https://verloskunde-parkstad.nl verloskunde-parkstad"
    assert dict(in_kerkrade)[midwives] == "Verloskundigen Parkstad"
    assert [n for _, n in in_kerkrade].count("Verloskundigen Parkstad") == 1
    assert names(catalogue, region)["verloskunde-parkstad"] == "Verloskundigen Parkstad"
    assert dict(in_kerkrade)["org-that-signalled"] == "org-that-signalled"  # unknown: as it is
    # Not from another region, not a partner of other municipalities, not the Knooppunt itself.
    assert "ggd-regio-utrecht" not in ids
    assert "buurtteam-utrecht" not in ids
    assert "https://verloskunde-heuvelland.nl" not in ids
    assert "gemeente-kerkrade" not in ids
    assert names(catalogue, region)["gemeente-kerkrade"] == "Knooppunt Kerkrade"
    # Vaals lists its offers: a provider with no offer there is not offered.
    assert "kraamzorg-limburg" in dict(working_in(VAALS, catalogue, region))
    assert set(providers_in(VAALS, catalogue, region)) <= {
        s.organization_id for s in catalogue.services if s.id in (region.offers_in(VAALS) or ())
    }


def test_a_partner_outside_the_region_or_listed_twice_is_refused() -> None:
    base = "id: r\nname: R\nmunicipalities: [{code: GM0928, name: Kerkrade}]\n"
    with pytest.raises(RegionFileError, match="outside the region: GM0344"):
        parse_region(base + "partners: [{id: a, name: A, municipalities: [GM0344]}]", "t")
    with pytest.raises(RegionFileError, match="partners listed twice: a"):
        parse_region(base + "partners: [{id: a, name: A}, {id: a, name: B}]", "t")
    with pytest.raises(RegionFileError, match="partners listed twice: b"):
        parse_region(base + "partners: [{id: a, name: A, also: [b]}, {id: b, name: B}]", "t")
