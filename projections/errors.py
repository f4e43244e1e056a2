"""Errors of the read models. Messages are written for whoever asked the query."""

from __future__ import annotations


class ProjectionError(Exception):
    """A read model could not be built or queried."""


class InvalidEventError(ProjectionError):
    """A message on the event stream is not a Referral event this engine understands."""


class InvalidCursorError(ProjectionError, ValueError):
    """A pagination cursor was not issued by this work queue (or was altered)."""


class UnknownProjectionError(ProjectionError, LookupError):
    """No read model has the requested name."""


class ViewDatabaseError(ProjectionError):
    """The read models' database refused or failed a statement (busy, missing, corrupt)."""
