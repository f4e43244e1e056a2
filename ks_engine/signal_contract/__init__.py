"""The contract partners code against: a signal as a CloudEvents 1.0 event (structured JSON).

Shared by the NATS intake and the HTTP API, so both take exactly the same input and refuse
it with the same error codes and reasons. Reasons name the field and what was wrong; they
never repeat the value (which may be a BSN). One module per reason to change: the data
models (``models``), the envelope and subject (``envelope``), the date rules (``dates``),
reading a signal (``parser``), its domain terms (``translation``) and what is published
about it (``publication``).
"""

from __future__ import annotations

from ks_engine.signal_contract.envelope import (
    SIGNAL_SUBJECT_PREFIX,
    SignalEvent,
    check_envelope,
    check_municipality,
    field_errors,
    read_envelope,
)
from ks_engine.signal_contract.models import (
    SIGNAL_TYPE,
    SIGNAL_TYPE_PREFIX,
    ChildIn,
    ChildPersonIn,
    HouseholdIn,
    PersonIn,
    ReferralConsentIn,
    SignalData,
)
from ks_engine.signal_contract.parser import ParsedSignal, parse_signal, signal_from
from ks_engine.signal_contract.publication import EXAMPLE_TIME, data_json_schema, example_signal
from ks_engine.signal_contract.translation import to_domain
from ks_engine.signal_rejection import Rejection, RejectionCode, load_json

__all__ = [
    "EXAMPLE_TIME",
    "SIGNAL_SUBJECT_PREFIX",
    "SIGNAL_TYPE",
    "SIGNAL_TYPE_PREFIX",
    "ChildIn",
    "ChildPersonIn",
    "HouseholdIn",
    "ParsedSignal",
    "PersonIn",
    "ReferralConsentIn",
    "Rejection",
    "RejectionCode",
    "SignalData",
    "SignalEvent",
    "check_envelope",
    "check_municipality",
    "data_json_schema",
    "example_signal",
    "field_errors",
    "load_json",
    "parse_signal",
    "read_envelope",
    "signal_from",
    "to_domain",
]
