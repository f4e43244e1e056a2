"""The menukaart as the engine keeps it: a versioned catalogue in which every change is an event.

Promise: every version of the menukaart the engine ever used can be read back from its events
(who changed what, when), each change leaves a valid catalogue (checked before the event), and
each offer carries the catalogue version of its last change, which administrators send back as
``If-Match`` so that two people editing one offer cannot overwrite each other unseen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from pydantic import ValidationError

from domain.catalogue import Catalogue, Organization, SupportOffer
from domain.errors import CatalogueError, ServiceNotFoundError, VersionConflictError
from domain.values import Actor

Json = dict[str, Any]
MENUKAART_ID = uuid5(NAMESPACE_URL, "urn:ks-engine:menukaart")


def _valid(organizations: list[Json], services: list[Json], version: int) -> Catalogue:
    """The catalogue these records make, or CatalogueError naming the record and field."""
    try:
        return Catalogue.model_validate(
            {"version": str(version), "organizations": organizations, "services": services}
        )
    except ValidationError as exc:
        reasons = []
        for e in exc.errors(include_input=False):
            loc = e["loc"]
            where = ".".join(str(p) for p in loc) or "menukaart"
            kind, index = (str(loc[0]), loc[1]) if len(loc) >= 2 else ("", None)
            if kind in ("services", "organizations") and isinstance(index, int):
                records = services if kind == "services" else organizations
                record_id = records[index].get("id", "?") if index < len(records) else "?"
                where = f"{kind[:-1]} '{record_id}'" + "".join(f".{p}" for p in loc[2:])
            reasons.append(f"{where}: {e['msg'].removeprefix('Value error, ')}")
        raise CatalogueError("the menukaart would not be valid: " + "; ".join(reasons)) from None


class Menukaart(Aggregate):
    """The one menukaart of this engine (*menukaart van de interventies*)."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return MENUKAART_ID

    @classmethod
    def start(cls, catalogue: Catalogue, *, actor: Actor, at: datetime) -> Menukaart:
        """The menukaart as first taken in from ``catalogue`` (a file or an import)."""
        dump = catalogue.model_dump(mode="json")
        return cls(
            organizations=dump["organizations"],
            services=dump["services"],
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
        )

    @event("Started")
    def __init__(
        self, organizations: list[Json], services: list[Json], actor: Json, occurred_at: datetime
    ) -> None:
        self.organizations = {o["id"]: o for o in organizations}
        self.services = {s["id"]: s for s in services}
        self.service_versions = dict.fromkeys(self.services, 1)

    def catalogue(self) -> Catalogue:
        """The current menukaart; its version is this aggregate's version."""
        return _valid(list(self.organizations.values()), list(self.services.values()), self.version)

    def service_version(self, service_id: str) -> int:
        """The catalogue version of the offer's last change; ServiceNotFoundError if none."""
        if service_id not in self.services:
            raise ServiceNotFoundError(f"offer '{service_id}' is not on the menukaart")
        return self.service_versions[service_id]

    # -- administrators' commands: checked first, then one event -------------------------
    def save_service(
        self,
        offer: SupportOffer,
        organization: Organization | None,
        *,
        expected_version: int | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Add an offer (``expected_version`` None) or change one (the version last seen)."""
        exists = offer.id in self.services
        if expected_version is None and exists:
            raise VersionConflictError(
                f"offer '{offer.id}' is already on the menukaart; change it with its version",
                expected=0,
                actual=self.service_versions[offer.id],
            )
        if expected_version is not None:
            self._check_version(offer.id, expected_version)
        organizations = dict(self.organizations)
        if organization is not None:
            organizations[organization.id] = organization.model_dump(mode="json")
        services = dict(self.services)
        services[offer.id] = offer.model_dump(mode="json")
        _valid(list(organizations.values()), list(services.values()), self.version + 1)
        self._service_saved(
            service=offer.model_dump(mode="json"),
            organization=organization.model_dump(mode="json") if organization else None,
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
        )

    def remove_service(
        self, service_id: str, *, expected_version: int, actor: Actor, at: datetime
    ) -> None:
        """Take an offer off the menukaart (matches made with it keep its id and version)."""
        self._check_version(service_id, expected_version)
        self._service_removed(
            service_id=service_id, actor=actor.model_dump(mode="json"), occurred_at=at
        )

    def replace_all(self, catalogue: Catalogue, *, actor: Actor, at: datetime) -> None:
        """Replace the whole menukaart by an imported one."""
        dump = catalogue.model_dump(mode="json")
        self._imported(
            organizations=dump["organizations"],
            services=dump["services"],
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
        )

    def _check_version(self, service_id: str, expected: int) -> None:
        actual = self.service_version(service_id)
        if expected != actual:
            raise VersionConflictError(
                f"offer '{service_id}' changed since version {expected} (now version {actual}); "
                "reload it and try again",
                expected=expected,
                actual=actual,
            )

    # -- events: assign state only -------------------------------------------------------
    @event("ServiceSaved")
    def _service_saved(
        self, service: Json, organization: Json | None, actor: Json, occurred_at: datetime
    ) -> None:
        if organization is not None:
            self.organizations[organization["id"]] = organization
        self.services[service["id"]] = service
        self.service_versions[service["id"]] = self.version + 1

    @event("ServiceRemoved")
    def _service_removed(self, service_id: str, actor: Json, occurred_at: datetime) -> None:
        del self.services[service_id]
        del self.service_versions[service_id]

    @event("Imported")
    def _imported(
        self, organizations: list[Json], services: list[Json], actor: Json, occurred_at: datetime
    ) -> None:
        self.organizations = {o["id"]: o for o in organizations}
        self.services = {s["id"]: s for s in services}
        self.service_versions = dict.fromkeys(self.services, self.version + 1)
