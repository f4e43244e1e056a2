"""Reading the region file (YAML or JSON): the shipped Zuid-Limburg one, or an operator's."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from domain.region import Region

SHIPPED = "data/region-zuid-limburg.yaml"


class RegionFileError(Exception):
    """The region file could not be read or is not valid."""


def _where(loc: tuple[int | str, ...], raw: object) -> str:
    """A pydantic error location in words: ``municipalities[6] (GM0928).service_levels``."""
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int):
            parts[-1] = f"{parts[-1]}[{step}]" if parts else f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, dict) and "code" in node:
                parts[-1] += f" ({node['code']})"
        else:
            parts.append(step)
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts) or "(the file)"


def parse_region(text: str, source: str) -> Region:
    """The region in ``text``; RegionFileError naming the municipality and field at fault."""
    try:
        raw = yaml.safe_load(text)
        return Region.model_validate(raw)
    except yaml.YAMLError as exc:
        raise RegionFileError(f"region file {source} is not YAML or JSON: {exc}") from None
    except ValidationError as exc:
        reasons = "; ".join(
            f"{_where(e['loc'], raw)}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_input=False)
        )
        raise RegionFileError(f"region file {source} is not valid: {reasons}") from None


@lru_cache(maxsize=8)
def load_region(path: Path | None = None) -> Region:
    """The region at ``path``, or the Zuid-Limburg region shipped with ks-engine."""
    try:
        if path is None:
            text = resources.files("ks_engine").joinpath(SHIPPED).read_text("utf-8")
        else:
            text = path.read_text("utf-8")
    except OSError as exc:
        raise RegionFileError(f"region file {path} cannot be read: {exc}") from None
    return parse_region(text, str(path or "(shipped)"))
