"""The AsyncAPI 3.0 document: every subject ks-engine reads or writes."""

from __future__ import annotations

from typing import Any

import yaml

from ks_engine.asyncapi_messages import messages
from ks_engine.support_start_contract import SUPPORT_STARTED_TYPE

EVENT_NAMES = [
    "Signalled",
    "SignalAdded",
    "ConsentRequested",
    "ConsentGiven",
    "ConsentDeclined",
    "ConsentWithdrawn",
    "Discussed",
    "SupportMatched",
    "Escalated",
    "Closed",
    "PersonalDataErased",
    "SupportStarted",
    "Evaluated",
    "Reopened",
    "DeadlineSuspended",
    "DeadlineResumed",
    "DeadlineExtended",
    "Assigned",
    "ChildBorn",
    "CasesMerged",
    "Restricted",
    "RestrictionLifted",
    "SignalRetracted",
    "PersonalDetailsCorrected",
    "TransferRequested",
    "CaseTransferred",
    "TransferRefused",
]


def asyncapi_document() -> dict[str, Any]:
    """Every subject ks-engine reads or writes, with payloads and examples."""
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "ks-engine",
            "version": "1.0.0",
            "description": (
                "Signals from partners of the Knooppunt Kansrijke Start, their receipts, dead "
                "letters and the referral events ks-engine publishes. Partners set the "
                "`Nats-Msg-Id` header to `<source>#<id>`; a signal re-sent with the same source "
                "and id has no second effect, also long after the stream's duplicate window. A "
                "corrected signal needs a new id. The receipt's reference is the UUIDv5 of "
                "`<source>#<id>`, the same the HTTP API returns."
            ),
        },
        "defaultContentType": "application/json",
        "channels": {
            "signals": {
                "address": "ks.signals.{municipality}",
                "description": "Stream KS_SIGNALS (work queue). Messages carry the BSN in "
                "clear and are removed once processed; every stream's store is encrypted at "
                "rest by nats-server (KS_NATS_STORE_KEY, or the cluster's nats_store_key). A "
                "well-formed signal is still refused when its municipality runs no Knooppunt "
                "in the region file (KS_REGION_PATH), when a date of birth, a born child's "
                "birth date or the referral consent's date lies in the future, or when a due "
                "date is more than ten months ahead. A BSN typed in free text (the note, an "
                "address, a name, the reporter's organisation) is stored as [BSN]. Providers "
                "publish their confirmation that support started "
                f"({SUPPORT_STARTED_TYPE}) here too.",
                "parameters": {"municipality": {"description": "CBS code, e.g. GM0928."}},
                "messages": {
                    "signal": {"$ref": "#/components/messages/signal"},
                    "supportStarted": {"$ref": "#/components/messages/supportStarted"},
                },
            },
            "receipts": {
                "address": "ks.receipts.{municipality}.{partner}.{reference}",
                "description": "Stream KS_RECEIPTS: the outcome of every processed signal. A "
                "partner's NATS user may read `ks.receipts.*.<partner>.>` only.",
                "parameters": {
                    "municipality": {
                        "description": "From the subject the signal was sent to; `unknown` "
                        "when that is no municipality code."
                    },
                    "partner": {"description": "The partner's id in the partner registry."},
                    "reference": {"description": "UUIDv5 of `<source>#<id>`."},
                },
                "messages": {"receipt": {"$ref": "#/components/messages/receipt"}},
            },
            "deadLetters": {
                "address": "ks.dlq.signals",
                "description": "Stream KS_DLQ (bounded retention, KS_DLQ_MAX_AGE_DAYS): "
                "rejected signals, sealed. The payload is the original message (subject, "
                "headers and body) encrypted under a key derived from the engine's "
                "KS_CIPHER_KEY; only `ks dlq show` and `ks dlq replay` open it, each use "
                "access-logged. The clear headers say why and where, and never carry a "
                "BSN (BSN-like numbers are redacted). `ks dlq replay` leaves a marker on "
                "ks.dlq.replays.",
                "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
            },
            "referralEvents": {
                "address": "ks.events.{municipality}.{eventName}",
                "description": "Stream KS_EVENTS (append-only): every stored referral event as "
                "a CloudEvent; codes and dates only, no pseudonym.",
                "parameters": {
                    "municipality": {"description": "CBS code of the case."},
                    "eventName": {"enum": EVENT_NAMES},
                },
                "messages": {"referralEvent": {"$ref": "#/components/messages/referralEvent"}},
            },
            "feedback": {
                "address": "ks.feedback.{municipality}.{partner}",
                "description": "Stream KS_FEEDBACK (KS_FEEDBACK_MAX_AGE_DAYS, default 400): "
                "feedback to the partner who signalled, published by the relay exactly once "
                "per step (before the step's referral event). A partner's NATS user may read "
                "`ks.feedback.*.<partner>` only; over HTTP, `GET /signals` lists the partner's "
                "own signals with their latest feedback.",
                "parameters": {
                    "municipality": {"description": "CBS code of the case."},
                    "partner": {
                        "description": "The partner's id in the partner registry (else a "
                        "token of its source), as in its receipts' subjects."
                    },
                },
                "messages": {"feedback": {"$ref": "#/components/messages/feedback"}},
            },
            "auditCheckpoints": {
                "address": "ks.events.checkpoints",
                "description": "Stream KS_EVENTS: the audit trail's signed checkpoints (the "
                "hash chain's head and position, Ed25519-signed by the engine); see "
                "docs/audit.md.",
                "messages": {"checkpoint": {"$ref": "#/components/messages/checkpoint"}},
            },
        },
        "operations": {
            "receiveSignal": {"action": "receive", "channel": {"$ref": "#/channels/signals"}},
            "sendReceipt": {"action": "send", "channel": {"$ref": "#/channels/receipts"}},
            "sendDeadLetter": {"action": "send", "channel": {"$ref": "#/channels/deadLetters"}},
            "sendReferralEvent": {
                "action": "send",
                "channel": {"$ref": "#/channels/referralEvents"},
            },
            "sendFeedback": {"action": "send", "channel": {"$ref": "#/channels/feedback"}},
            "sendCheckpoint": {
                "action": "send",
                "channel": {"$ref": "#/channels/auditCheckpoints"},
            },
        },
        "components": {"messages": messages()},
    }


def asyncapi_yaml() -> str:
    """docs/asyncapi.yaml, the AsyncAPI document as YAML."""
    return yaml.safe_dump(asyncapi_document(), sort_keys=False, allow_unicode=True, width=100)
