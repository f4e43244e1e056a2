"""Loading the menukaart from its data file (the shipped one, or a coalition's own)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from domain.catalogue import Catalogue


class CatalogueFileError(Exception):
    """The menukaart file could not be read or is not valid."""


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue at ``path``, or the one shipped with ks-engine."""
    try:
        if path is None:
            text = resources.files("ks_engine").joinpath("data/menukaart.json").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        return Catalogue.model_validate(json.loads(text))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise CatalogueFileError(f"menukaart {path or '(shipped)'} is not usable: {exc}") from None
