"""A region (*regio*): its municipalities, which run a Knooppunt, their service levels and offers.

A region is configuration, not history: the operator describes it in a file
(``ks_engine/region_file.py`` reads it) and the engine consults it to refuse signals for
municipalities without a Knooppunt, to set each step's deadline, to suggest only the offers
available in a municipality, and to aggregate monitoring over the region.
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.deadlines import ServiceLevels
from domain.values import MunicipalityCode


class ServiceLevelDays(BaseModel):
    """Days per step for one municipality; a step left out keeps the engine's default."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    consent_request_working_days: int | None = Field(default=None, ge=1)
    consent_answer_days: int | None = Field(default=None, ge=1)
    discussion_days: int | None = Field(default=None, ge=1)
    support_days: int | None = Field(default=None, ge=1)

    def over(self, defaults: ServiceLevels) -> ServiceLevels:
        """These days where given, the defaults elsewhere."""
        given = {k: v for k, v in self.model_dump().items() if v is not None}
        return replace(defaults, **given)


class Municipality(BaseModel):
    """One municipality (*gemeente*) of the region, by its CBS code."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: MunicipalityCode
    name: str = Field(min_length=1, max_length=100)
    knooppunt: bool = False
    service_levels: ServiceLevelDays = ServiceLevelDays()
    # Offer ids available here; None: every offer whose service area names the municipality.
    offers: tuple[str, ...] | None = None


class Partner(BaseModel):
    """A partner organisation of the coalition (*coalitiepartner*): its id as cases name it
    (a signal's source or a registry code), its name, and where it works."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1, max_length=300, pattern=r"^\S+$")
    name: str = Field(min_length=1, max_length=200)
    # Other ids the same organisation is known by (e.g. its menukaart provider id).
    also: tuple[str, ...] = ()
    # The municipalities it works in; None: every one of the region; (): named, never offered.
    municipalities: tuple[MunicipalityCode, ...] | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id the organisation is known by, its own first."""
        return (self.id, *self.also)

    def works_in(self, code: str) -> bool:
        return self.municipalities is None or code in self.municipalities


class Region(BaseModel):
    """A region of municipalities that monitor their Knooppunten together."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9-]{1,64}$")
    name: str = Field(min_length=1, max_length=100)
    municipalities: tuple[Municipality, ...] = Field(min_length=1)
    partners: tuple[Partner, ...] = ()  # beyond the menukaart's providers: signallers, safety

    @model_validator(mode="after")
    def _codes_unique(self) -> Region:
        codes = [m.code for m in self.municipalities]
        doubles = sorted({c for c in codes if codes.count(c) > 1})
        if doubles:
            raise ValueError(f"municipality codes listed twice: {', '.join(doubles)}")
        return self

    @model_validator(mode="after")
    def _partners_known(self) -> Region:
        ids = [i for p in self.partners for i in p.ids]
        doubles = sorted({i for i in ids if ids.count(i) > 1})
        if doubles:
            raise ValueError(f"partners listed twice: {', '.join(doubles)}")
        codes = set(self.codes)
        for partner in self.partners:
            unknown = sorted(set(partner.municipalities or ()) - codes)
            if unknown:
                raise ValueError(
                    f"partner '{partner.id}' works in municipalities outside the region: "
                    + ", ".join(unknown)
                )
        return self

    def partners_in(self, code: str) -> tuple[Partner, ...]:
        """The partners that work in the municipality, in the file's order."""
        return tuple(p for p in self.partners if p.works_in(code))

    @property
    def codes(self) -> tuple[str, ...]:
        """Every municipality's CBS code, in the file's order."""
        return tuple(m.code for m in self.municipalities)

    @property
    def knooppunten(self) -> tuple[str, ...]:
        """The codes of the municipalities that run a Knooppunt (signals are taken for these)."""
        return tuple(m.code for m in self.municipalities if m.knooppunt)

    def municipality(self, code: str) -> Municipality | None:
        """The municipality with this code, or None when it is not in the region."""
        return next((m for m in self.municipalities if m.code == code), None)

    def name_of(self, code: str) -> str:
        """The municipality's name, or its code when the region does not list it."""
        found = self.municipality(code)
        return found.name if found else code

    def offers_in(self, code: str) -> frozenset[str] | None:
        """Offer ids the region lists for the municipality; None when it lists none."""
        found = self.municipality(code)
        return None if found is None or found.offers is None else frozenset(found.offers)

    def service_levels(self, defaults: ServiceLevels) -> ServiceLevels:
        """The defaults with this region's per-municipality days attached."""
        per = tuple(
            (m.code, m.service_levels.over(defaults))
            for m in self.municipalities
            if m.service_levels != ServiceLevelDays()
        )
        return replace(defaults, per_municipality=per)
