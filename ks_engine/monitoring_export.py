"""The monitoring publication as configured: the region, the disclosure rules and the births."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.region import Region
from ks_engine.births_file import Births, load_births
from ks_engine.settings import Settings
from projections.disclosure import Rules
from projections.monitoring_store import Count, Days
from projections.publication import Area, Granularity, Publication, publish


@dataclass(frozen=True)
class MonitoringExport:
    """What `ks monitoring export` and the API's export publish, with the operator's rules."""

    region: Region
    rules: Rules
    births: Births
    births_note: str

    @classmethod
    def from_settings(cls, settings: Settings) -> MonitoringExport:
        """The region, rules and births of ``settings``; in production only real births."""
        if settings.births_path is None and settings.environment == "production":
            births: Births = {}
            note = "no births file (KS_BIRTHS_PATH): reach is not published"
        else:
            births, note = load_births(settings.births_path)
        rules = Rules(
            threshold=settings.monitoring_threshold,
            rounding_base=settings.monitoring_rounding_base,
            protection=settings.monitoring_protection,
        )
        return cls(settings.region, rules, births, note)

    def publish(
        self, counts: Sequence[Count], days: Sequence[Days], granularity: Granularity, area: Area
    ) -> Publication:
        """The protected publication of these exact figures."""
        return publish(
            counts,
            days,
            region=self.region,
            births=self.births,
            births_note=self.births_note,
            rules=self.rules,
            granularity=granularity,
            area=area,
        )
