"""Opening a case: from a partner's first signal, or as the linked follow-up of a closed case
that is reopened. Mixed into ``Referral``, whose ``Signalled`` event both record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self
from uuid import UUID

from domain.errors import InvalidValueError
from domain.event_records import cause, signal_record, tagged
from domain.household import map_pseudonyms
from domain.personal_data import PersonalDataHolder
from domain.values import Actor, Signal

Json = dict[str, Any]


class CaseOpening(PersonalDataHolder):
    """The two ways a case begins."""

    if TYPE_CHECKING:
        Signalled: ClassVar[type[Any]]
        municipality: str
        person_pseudonym: str
        signals: list[Json]

    @classmethod
    def signal(
        cls,
        signal: Signal,
        *,
        actor: Actor,
        at: datetime,
        causation_id: str,
        sealed_personal: Json | None = None,
        case_id: UUID | None = None,
    ) -> Self:
        """Open a case from a first signal; ``sealed_personal``: see ``domain.personal_data``.
        ``case_id``: the id the case gets (a new random one when not given)."""
        return cls._create(
            cls.Signalled,
            id=case_id,
            municipality=signal.municipality,
            person_pseudonym=signal.person_pseudonym,
            signal=signal_record(signal, actor),
            personal=tagged(sealed_personal, signal),
            **cause(actor, at, causation_id),
        )

    @classmethod
    def follow_up(
        cls,
        earlier: CaseOpening,
        *,
        actor: Actor,
        at: datetime,
        causation_id: str,
        reseal: Callable[[str], str] | None = None,
    ) -> Self:
        """Open the linked follow-up case of a closed case that is reopened (*heropend*).

        It copies the codes of the latest signal, not the sealed personal details: those stay
        under the earlier case's key (and are erased with it); further signals bring their own.
        ``reseal`` seals the copied pseudonyms under the follow-up's own link key.
        """
        if not earlier.signals:
            raise InvalidValueError(
                f"cannot reopen case {earlier.id}: every signal on it was retracted"
            )
        # Not the partner's signal: its source stays behind (no feedback of a coordinator's step).
        signal = {k: v for k, v in earlier.signals[-1].items() if k not in ("at", "source")}
        person = earlier.person_pseudonym
        if reseal is not None:
            signal, person = map_pseudonyms(signal, reseal), reseal(person)
        return cls._create(
            cls.Signalled,
            municipality=earlier.municipality,
            person_pseudonym=person,
            signal=dict(signal, signal_key=f"reopening:{earlier.id}"),
            personal={},
            follows=str(earlier.id),
            **cause(actor, at, causation_id),
        )
