"""The monitoring publication: periods, reach per 100 live births, durations and the births file."""

from __future__ import annotations

import pytest

from domain.region import Region
from ks_engine.births_file import BirthsFileError, load_births, parse_births
from projections.disclosure import Rules
from projections.monitoring_store import Count, Days
from projections.publication import period_of, publish, to_csv

REGION = Region.model_validate(
    {
        "id": "test-regio",
        "name": "Testregio",
        "municipalities": [
            {"code": "GM0928", "name": "Kerkrade", "knooppunt": True},
            {"code": "GM0882", "name": "Landgraaf", "knooppunt": True},
            {"code": "GM0917", "name": "Heerlen"},
        ],
    }
)


def families(municipality: str, month: str, n: int, role: str = "midwife") -> Count:
    return Count(municipality, month, "families_by_reporter", role, n)


def test_months_fall_in_their_quarter_and_year() -> None:
    assert period_of("2026-03", "quarter") == "2026-Q1"
    assert period_of("2026-04", "quarter") == "2026-Q2"
    assert period_of("2026-12", "quarter") == "2026-Q4"
    assert period_of("2026-12", "year") == "2026"
    assert period_of("2026-12", "month") == "2026-12"


def test_reach_is_families_per_100_live_births_in_the_year() -> None:
    counts = [
        families("GM0928", "2026-01", 20),
        families("GM0928", "2026-07", 14),  # 34 families in Kerkrade in 2026
        families("GM0882", "2026-02", 12, "jgz"),
        families("GM0882", "2026-03", 13, "jgz"),  # 25 in Landgraaf
        families("GM0344", "2026-03", 50),  # not in the region: left out
    ]
    births = {("GM0928", 2026): 340, ("GM0882", 2026): 290}
    publication = publish(
        counts,
        [],
        region=REGION,
        births=births,
        births_note="test",
        rules=Rules(),
        granularity="year",
        area="municipality",
    )
    reach = {r.area.code: r for r in publication.reach}
    assert reach["GM0928"].per_100_births == 10.0  # 100 * 34 / 340
    assert reach["GM0882"].per_100_births == 8.6  # 100 * 25 / 290 = 8.62
    assert set(reach) == {"GM0928", "GM0882"}
    region = publish(
        counts,
        [],
        region=REGION,
        births=births,
        births_note="test",
        rules=Rules(),
        granularity="year",
        area="region",
    ).reach
    assert [(r.area.code, r.births, r.per_100_births) for r in region] == [
        ("test-regio", 630, 9.4)  # 100 * 59 / 630 = 9.37
    ]


def test_reach_without_births_or_over_a_small_count_is_not_published() -> None:
    counts = [
        families("GM0928", "2026-01", 40),
        families("GM0917", "2026-01", 30),
        families("GM0882", "2026-01", 4),
    ]
    publication = publish(
        counts,
        [],
        region=REGION,
        births={("GM0882", 2026): 290},
        births_note="test",
        rules=Rules(),
        granularity="year",
        area="municipality",
    )
    reach = {r.area.code: r for r in publication.reach}
    assert (reach["GM0928"].status, reach["GM0928"].per_100_births) == ("no_births", None)
    assert (reach["GM0882"].status, reach["GM0882"].per_100_births) == ("suppressed", None)
    # Heerlen's 30 is hidden beside Landgraaf's 4, which 74 - 40 - 30 would otherwise give.
    assert reach["GM0917"].status == "suppressed"


def test_durations_are_published_over_enough_cases_only() -> None:
    days = [Days("GM0928", "2026-01", "days_to_consent", d) for d in range(1, 11)]
    days += [Days("GM0882", "2026-01", "days_to_consent", d) for d in (3, 4)]
    publication = publish(
        [],
        days,
        region=REGION,
        births={},
        births_note="test",
        rules=Rules(),
        granularity="quarter",
        area="municipality",
    )
    found = {d.area.code: d for d in publication.durations}
    assert (found["GM0928"].median, found["GM0928"].p90) == (5.5, 9.0)
    assert (found["GM0882"].status, found["GM0882"].median) == ("suppressed", None)
    lines = to_csv(publication).splitlines()
    assert "days_to_consent,2026-Q1,GM0928,Kerkrade,median,5.5,exact" in lines
    assert "days_to_consent,2026-Q1,GM0882,Landgraaf,p90,,suppressed" in lines


def test_a_statline_births_file_is_read_and_months_add_up_to_the_year() -> None:
    text = (
        '"ID";"RegioS";"Perioden";"LevendGeborenKinderen_2"\n'
        '"0";"GM0928  ";"2025JJ00";"340"\n'
        '"1";"GM0882";"2025MM01";"20"\n'
        '"2";"GM0882";"2025MM02";"25"\n'
    )
    assert parse_births(text, "t.csv") == {("GM0928", 2025): 340, ("GM0882", 2025): 45}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('"0";"Kerkrade";"2025JJ00";"340"', "data line 2 (Kerkrade 2025JJ00): RegioS"),
        ('"0";"GM0928";"2025";"340"', "Perioden must look like 2025JJ00"),
        ('"0";"GM0928";"2025JJ00";"veel"', "LevendGeborenKinderen_2 must be a whole number"),
    ],
)
def test_a_births_file_error_names_the_line_and_column(line: str, message: str) -> None:
    header = '"ID";"RegioS";"Perioden";"LevendGeborenKinderen_2"\n'
    with pytest.raises(BirthsFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_births(header + line + "\n", "t.csv")


def test_the_demo_births_file_says_its_figures_are_illustrative() -> None:
    births, note = load_births(None)
    assert "illustrative" in note
    assert births[("GM0981", 2026)] > 0
    from importlib import resources

    text = resources.files("ks_engine").joinpath("data/births-zuid-limburg-illustrative.csv")
    assert "ILLUSTRATIVE" in text.read_text("utf-8").splitlines()[0]
