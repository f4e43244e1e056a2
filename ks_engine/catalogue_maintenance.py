"""The menukaart in the event store: the current version for everyone, changes by administrators.

Until an administrator first changes or imports it, the menukaart is the configured file
(``KS_CATALOGUE_PATH`` or the shipped one); the first change takes that file in as the
menukaart's first event, so every version the engine used is in its history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from domain.catalogue import Catalogue, Organization, SupportOffer
from domain.errors import ServiceNotFoundError, VersionConflictError
from domain.menukaart import MENUKAART_ID, Menukaart
from ks_engine import commands as c

if TYPE_CHECKING:
    from eventsourcing.application import Repository


class CatalogueMaintenance:
    """Mixed into the application: reads and changes the one Menukaart aggregate."""

    if TYPE_CHECKING:
        repository: Repository[Any]
        clock: Callable[[], datetime]
        _seed_catalogue: Catalogue

        def save(self, *objs: Any, **kwargs: Any) -> Any: ...

    def menukaart(self) -> Menukaart | None:
        """The stored menukaart, or None while the configured file still serves."""
        try:
            found: object = self.repository.get(MENUKAART_ID)
        except AggregateNotFoundError:
            return None
        assert isinstance(found, Menukaart)
        return found

    @property
    def catalogue(self) -> Catalogue:
        """The current menukaart (its version names it in support matches)."""
        stored = self.menukaart()
        return stored.catalogue() if stored is not None else self._seed_catalogue

    def catalogue_versions(self) -> tuple[Catalogue, dict[str, int]]:
        """The current menukaart and each offer's version, read once."""
        stored = self.menukaart()
        if stored is None:
            return self._seed_catalogue, {s.id: 1 for s in self._seed_catalogue.services}
        return stored.catalogue(), dict(stored.service_versions)

    def catalogue_service(self, service_id: str) -> tuple[SupportOffer, Organization, int]:
        """An offer, its provider and the version to send back when changing it."""
        stored = self.menukaart()
        catalogue = stored.catalogue() if stored else self._seed_catalogue
        offer = next((s for s in catalogue.services if s.id == service_id), None)
        if offer is None:
            raise ServiceNotFoundError(f"offer '{service_id}' is not on the menukaart")
        version = stored.service_version(service_id) if stored else 1
        return offer, catalogue.provider_of(service_id), version

    def save_catalogue_service(
        self,
        offer: SupportOffer,
        organization: Organization | None,
        expected_version: int | None,
        ctx: c.Context,
    ) -> int:
        """Add or change an offer; returns the offer's new version."""
        kaart = self._menukaart_to_change()
        kaart.save_service(
            offer,
            organization,
            expected_version=expected_version,
            actor=ctx.actor,
            at=self.clock(),
        )
        self._commit_menukaart(kaart)
        return kaart.service_version(offer.id)

    def remove_catalogue_service(
        self, service_id: str, expected_version: int, ctx: c.Context
    ) -> int:
        """Take an offer off the menukaart; returns the catalogue's new version."""
        kaart = self._menukaart_to_change()
        kaart.remove_service(
            service_id, expected_version=expected_version, actor=ctx.actor, at=self.clock()
        )
        self._commit_menukaart(kaart)
        return kaart.version

    def import_catalogue(self, catalogue: Catalogue, ctx: c.Context) -> int:
        """Replace the menukaart by ``catalogue``; returns the new catalogue version."""
        kaart = self.menukaart()
        if kaart is None:
            kaart = Menukaart.start(catalogue, actor=ctx.actor, at=self.clock())
        else:
            kaart.replace_all(catalogue, actor=ctx.actor, at=self.clock())
        self._commit_menukaart(kaart)
        return kaart.version

    def _menukaart_to_change(self) -> Menukaart:
        kaart = self.menukaart()
        if kaart is None:
            from domain.values import Actor, ActorRole

            engine = Actor(organisation="ks-engine", role=ActorRole.ADMIN, user_ref="config")
            kaart = Menukaart.start(self._seed_catalogue, actor=engine, at=self.clock())
        return kaart

    def _commit_menukaart(self, kaart: Menukaart) -> None:
        try:
            self.save(kaart)
        except RecordConflictError:
            raise VersionConflictError(
                "the menukaart was changed by someone else at the same moment; reload it and "
                "try again",
                expected=kaart.version,
                actual=kaart.version,
            ) from None
