"""The messages of the AsyncAPI document: their headers, payloads and examples."""

from __future__ import annotations

from typing import Any

from adapters.nats.dead_letters import SEALED_FORMAT
from ks_engine.audit.chain import CHECKPOINT_FORMAT
from ks_engine.feedback_contract import FEEDBACK_TYPE, FeedbackData
from ks_engine.receipts import Receipt
from ks_engine.schema_docs import SCHEMA_PATH, SUPPORT_STARTED_SCHEMA_PATH
from ks_engine.signal_contract import SIGNAL_TYPE, RejectionCode, example_signal
from ks_engine.support_start_contract import SUPPORT_STARTED_TYPE, example_support_started

EXAMPLE_BSN = "111222333"  # a test number that passes the elfproef
EXAMPLE_CASE_ID = "0f8e2a52-4c1d-4a8b-9b1e-2d3c4b5a6f70"


_CHECKPOINT_FIELDS = (
    "format",
    "position",
    "head",
    "events",
    "signed_at",
    "key_fingerprint",
    "signature",
)


_NO_BSN = (
    "Never a citizen service number: an envelope whose id, source or subject holds one is "
    "refused (bsn_as_reference)."
)


def error_codes_description() -> str:
    """Every rejection code with its meaning, for the contract documents."""
    return "; ".join(f"`{code.value}`: {code.meaning}" for code in RejectionCode)


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON Schema with its ``$defs`` written in place (it is embedded elsewhere)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    inlined: dict[str, Any] = walk(schema)
    return inlined


def _feedback_message() -> dict[str, Any]:
    """Feedback to the partner who signalled, as far as the family's consent allows."""
    example: dict[str, Any] = {
        "specversion": "1.0",
        "type": FEEDBACK_TYPE,
        "source": "urn:ks-engine",
        "subject": EXAMPLE_CASE_ID,
        "id": "9b2f5c1e-3a4d-5e6f-8a9b-0c1d2e3f4a5b",
        "time": "2026-11-23T10:15:01+01:00",
        "datacontenttype": "application/json",
        "position": 1042,
        "part": 0,
        "data": {
            "case_id": EXAMPLE_CASE_ID,
            "municipality": "GM0928",
            "status": "accepted",
            "on": "2026-11-23",
            "signals": [{"id": "2026-000123", "reference": "5b0c3f9e-8f55-5a43-9a3f-0d7e3c2b1a10"}],
            "case": "new",
        },
    }
    accepted: dict[str, Any] = example["data"]
    closed_data = {k: v for k, v in accepted.items() if k != "case"}
    closed = example | {
        "id": "0d6e8f1a-2b3c-5d4e-9f0a-1b2c3d4e5f60",
        "position": 1311,
        "data": closed_data
        | {"status": "closed", "on": "2027-05-02", "result": "support_completed"},
    }
    return {
        "name": FEEDBACK_TYPE,
        "summary": "A step of a case the partner signalled, as far as the consent allows.",
        "description": "Every partner that signalled hears `accepted` (its signal opened a "
        "case or joined one) and the family's answer, `consent_given` or `consent_declined` "
        "(only that). `consent_asked` (asked again while consent is held), `discussed`, "
        "`support_started` and `closed` (with its `result` code) reach only the partners the "
        "family's active consent names. No personal data, no free text: the case id, codes, "
        "dates and the partner's own signal ids. `id` is the same for every publication of "
        "the same feedback; `position` and `part` order it.",
        "payload": {
            "type": "object",
            "required": ["specversion", "type", "source", "id", "subject", "data"],
            "properties": {
                "specversion": {"const": "1.0"},
                "type": {"const": FEEDBACK_TYPE},
                "source": {"const": "urn:ks-engine"},
                "id": {"type": "string"},
                "subject": {"type": "string", "description": "The case id."},
                "time": {"type": "string", "format": "date-time"},
                "datacontenttype": {"const": "application/json"},
                "position": {"type": "integer"},
                "part": {"type": "integer"},
                "data": _inlined(FeedbackData.model_json_schema()),
            },
        },
        "examples": [
            {"name": "accepted", "payload": example},
            {"name": "closed", "payload": closed},
        ],
    }


def _support_started_message() -> dict[str, Any]:
    """A provider's confirmation that support started, on the signals' channel."""
    return {
        "name": SUPPORT_STARTED_TYPE,
        "summary": "A provider the family's consent names confirms that the support started.",
        "description": "Judged by the intake like a signal: the same envelope checks, error "
        "codes, receipts and dead letters. Refused with `not_in_consent_scope` when the "
        "family's active consent does not name the source, `unknown_case` when data.case_id "
        "names no case of the municipality, `refused_by_case` when the case is not at "
        "support matched. Sent again with the same source and id, it has no second effect.",
        "headers": {
            "type": "object",
            "required": ["Nats-Msg-Id"],
            "properties": {"Nats-Msg-Id": {"type": "string"}},
        },
        "payload": _cloudevent_schema(
            {"$ref": SUPPORT_STARTED_SCHEMA_PATH.removeprefix("docs/")},
            {"const": SUPPORT_STARTED_TYPE},
        ),
        "examples": [
            {"name": "debt counselling", "payload": example_support_started(EXAMPLE_CASE_ID)}
        ],
    }


def _cloudevent_schema(data_ref: dict[str, Any], type_const: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["specversion", "type", "source", "id", "data"],
        "propertyNames": {
            "pattern": "^[a-z0-9]+$",
            "description": "CloudEvents attribute names: lower-case letters and digits only "
            "(extension attributes are allowed and ignored).",
        },
        "properties": {
            "specversion": {"const": "1.0"},
            "type": type_const,
            "source": {
                "type": "string",
                "description": "The partner organisation's URI. " + _NO_BSN,
            },
            "id": {"type": "string", "description": "Unique per source. " + _NO_BSN},
            "time": {
                "type": "string",
                "format": "date-time",
                "description": "RFC 3339, with its UTC offset (2026-11-23T10:15:00+01:00).",
            },
            "subject": {"type": "string", "description": _NO_BSN},
            "datacontenttype": {"const": "application/json"},
            "data": data_ref,
        },
    }


def messages() -> dict[str, Any]:
    """Every message ks-engine reads or writes, by its name in the document's components."""
    example = example_signal(EXAMPLE_BSN)
    receipt_ok = {
        "reference": "5b0c3f9e-8f55-5a43-9a3f-0d7e3c2b1a10",
        "status": "accepted",
        "source": example["source"],
        "signal_id": example["id"],
        "case_id": EXAMPLE_CASE_ID,
        "matched_existing": False,
        "duplicate": False,
        "error_code": None,
        "reason": None,
        "processed_at": "2026-11-23T10:15:02+01:00",
    }
    receipt_bad = dict(
        receipt_ok,
        status="rejected",
        case_id=None,
        matched_existing=None,
        error_code="invalid_bsn",
        reason="data.person.bsn: BSN fails the elfproef (11-test); check for a typing error",
    )
    return {
        "signal": {
            "name": SIGNAL_TYPE,
            "headers": {
                "type": "object",
                "required": ["Nats-Msg-Id"],
                "properties": {"Nats-Msg-Id": {"type": "string"}},
            },
            "payload": _cloudevent_schema(
                {"$ref": SCHEMA_PATH.removeprefix("docs/")}, {"const": SIGNAL_TYPE}
            ),
            "examples": [{"name": "midwife", "payload": example}],
        },
        "supportStarted": _support_started_message(),
        "feedback": _feedback_message(),
        "receipt": {
            "payload": Receipt.model_json_schema(),
            "examples": [
                {"name": "accepted", "payload": receipt_ok},
                {"name": "rejected", "payload": receipt_bad},
            ],
        },
        "deadLetter": {
            "headers": {
                "type": "object",
                "properties": {
                    "Nats-Msg-Id": {
                        "type": "string",
                        "description": "dlq:<original stream>:<original sequence>",
                    },
                    "Ks-Error-Code": {
                        "enum": [c.value for c in RejectionCode],
                        "description": error_codes_description(),
                    },
                    "Ks-Error-Reason": {
                        "type": "string",
                        "description": "In words, at most 1000 characters.",
                    },
                    "Ks-Original-Stream": {"const": "KS_SIGNALS"},
                    "Ks-Original-Subject": {"type": "string"},
                    "Ks-Original-Sequence": {"type": "string"},
                    "Ks-Deliveries": {"type": "string"},
                    "Ks-Reference": {"type": "string"},
                    "Ks-Partner": {
                        "type": "string",
                        "description": "The partner's id (or a token of its source).",
                    },
                    "Ks-Sealed": {"const": SEALED_FORMAT},
                },
            },
            "payload": {
                "description": "Sealed: a 12-byte nonce, then AES-256-GCM ciphertext and "
                "tag of the JSON object {subject, headers, body (base64)} of the original "
                "message; the associated data binds it to its letter "
                "(`ks-engine dead letter v1:<original stream>:<original sequence>`). The "
                "key is HKDF-SHA256 of KS_CIPHER_KEY with info `ks-engine dead letters "
                "v1`.",
            },
        },
        "checkpoint": {
            "payload": {
                "type": "object",
                "required": [*_CHECKPOINT_FIELDS],
                "properties": {
                    "format": {"const": CHECKPOINT_FORMAT},
                    "position": {"type": "integer"},
                    "events": {"type": "integer"},
                    **{
                        f: {"type": "string"}
                        for f in ("head", "signed_at", "key_fingerprint", "signature")
                    },
                },
            },
        },
        "referralEvent": {
            "payload": _cloudevent_schema(
                {"type": "object"},
                {"pattern": r"^nl\.kansrijkestart\.referral\.[A-Za-z]+\.v1$"},
            ),
        },
    }
