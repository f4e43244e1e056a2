"""Domain errors. Messages are written for a coordinator or a partner, not for a developer."""

from __future__ import annotations


class DomainError(Exception):
    """A command or value was refused by the rules of the Knooppunt."""


class InvalidValueError(DomainError, ValueError):
    """A value (BSN, municipality code, score, ...) is not valid."""


class IllegalTransitionError(DomainError):
    """The action is not allowed in the case's current state."""

    def __init__(self, message: str, *, state: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.state = state
        self.allowed = allowed


class ConsentRequiredError(IllegalTransitionError):
    """The action needs the family's consent (or an escalation), which the case does not have."""

    def __init__(
        self, message: str, *, state: str, allowed: list[str], missing: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, state=state, allowed=allowed)
        self.missing = missing  # the organisations neither the consent nor an escalation names


class CaseClosedError(IllegalTransitionError):
    """The case is closed; nothing more can be recorded on it."""


class VersionConflictError(DomainError):
    """The case changed since the version the command was based on."""

    def __init__(self, message: str, *, expected: int, actual: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class CaseNotFoundError(DomainError):
    """No case with this id exists."""


class UnknownOfferError(DomainError):
    """A support offer that is not in the catalogue (menukaart) was named."""


class CatalogueError(DomainError):
    """A change to the menukaart would leave it invalid (unknown provider, double id, ...)."""


class ServiceNotFoundError(DomainError):
    """No offer with this id is on the menukaart."""


class CaseRestrictedError(DomainError):
    """Processing of the case is restricted (AVG art. 18): only the privacy officer may act."""


class MeetingNotFoundError(DomainError):
    """No Knooppunt meeting (casusoverleg) with this id exists."""


class NotInConsentScopeError(DomainError):
    """An organisation acted for a case whose family's consent does not name it."""
