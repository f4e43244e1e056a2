"""Bodies of the signal endpoints: the partner contract's CloudEvent, and the answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from ks_engine.feedback_contract import SignalFeedback
from ks_engine.signal_contract import SignalData, SignalEvent

COMPONENTS = "#/components/schemas/{model}"


class SignalIn(SignalEvent):
    """A signal as a CloudEvents 1.0 event in structured JSON (the same as on NATS)."""

    specversion: Literal["1.0"]
    type: Literal["nl.kansrijkestart.signal.v1"]  # SIGNAL_TYPE
    datacontenttype: Literal["application/json"] | None = None
    data: SignalData


class SignalSubmittedOut(BaseModel):
    """The signal is in the pipeline; its receipt appears at ``receipt`` once processed."""

    reference: str = Field(description="Quote it to look up the receipt.")
    receipt: str = Field(description="Where the receipt can be read: GET this path.")


class SignalsOut(BaseModel):
    """A partner's own signals with their feedback: what the family's consent lets it hear."""

    signals: list[SignalFeedback] = Field(
        description="In the order they were accepted; a rejected signal has only its receipt."
    )


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of a route that reads its body itself."""
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": COMPONENTS.format(model=model.__name__)}}
        },
    }


def body_schemas(*models: type[BaseModel]) -> dict[str, Any]:
    """Components for the bodies routes read themselves (FastAPI sees only declared ones)."""
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=COMPONENTS)
    return dict(top.get("$defs", {}))
