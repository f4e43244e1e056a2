"""Live births per municipality and year, from a CSV in the shape CBS StatLine exports.

The operator downloads the figures from CBS StatLine (e.g. table 37230ned, *Bevolkings-
ontwikkeling; regio per maand*, column *Levend geboren kinderen*) as CSV. The file has the
columns ``RegioS`` (CBS code, e.g. ``GM0928``), ``Perioden`` (``2025JJ00`` for a year,
``2025MM03`` for a month; months are added up per year) and one column whose name starts with
``LevendGeborenKinderen``; separated by ``;`` (StatLine's default) or ``,``. Lines starting with
``#`` are comments. The demo ships an illustrative file: its figures are made up.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from importlib import resources
from pathlib import Path

SHIPPED = "data/births-zuid-limburg-illustrative.csv"
_PERIOD = re.compile(r"^(\d{4})(JJ00|MM(0[1-9]|1[0-2]))$")


class BirthsFileError(Exception):
    """The births file could not be read or is not in the StatLine shape."""


Births = dict[tuple[str, int], int]


def parse_births(text: str, source: str) -> Births:
    """Births per (municipality code, year); BirthsFileError naming the line and column."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        raise BirthsFileError(f"births file {source} has no header line")
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    fields = [f.strip() for f in reader.fieldnames or []]
    births_column = next((f for f in fields if f.startswith("LevendGeborenKinderen")), None)
    for needed in ("RegioS", "Perioden", births_column):
        if needed is None or needed not in fields:
            missing = needed or "LevendGeborenKinderen..."
            raise BirthsFileError(f"births file {source} has no column {missing}")
    assert births_column is not None
    years: dict[int, set[str]] = defaultdict(set)  # JJ00 or MM per year, never both
    totals: Births = defaultdict(int)
    for number, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        code, period, value = row["RegioS"], row["Perioden"], row[births_column]
        where = f"births file {source}, data line {number} ({code} {period})"
        if not re.fullmatch(r"GM\d{4}", code):
            raise BirthsFileError(f"{where}: RegioS must be a municipality code like GM0928")
        found = _PERIOD.fullmatch(period)
        if found is None:
            raise BirthsFileError(f"{where}: Perioden must look like 2025JJ00 or 2025MM03")
        if not value.isdigit():
            raise BirthsFileError(f"{where}: {births_column} must be a whole number")
        year = int(found.group(1))
        kind = "year" if found.group(2) == "JJ00" else "month"
        years[year].add(f"{code}:{kind}")
        if f"{code}:year" in years[year] and f"{code}:month" in years[year]:
            raise BirthsFileError(f"{where}: the year and its months are both given")
        totals[(code, year)] += int(value)
    return dict(totals)


def load_births(path: Path | None) -> tuple[Births, str]:
    """The births at ``path`` (or the shipped illustrative ones) and a note on their source."""
    try:
        if path is None:
            text = resources.files("ks_engine").joinpath(SHIPPED).read_text("utf-8")
            note = "illustrative birth figures shipped with the demo (not CBS figures)"
        else:
            text = path.read_text("utf-8")
            note = f"births from {path.name} (CBS StatLine, supplied by the operator)"
    except OSError as exc:
        raise BirthsFileError(f"births file {path} cannot be read: {exc}") from None
    return parse_births(text, str(path or "(shipped)")), note
