"""Bodies of the signal endpoints: the partner contract's CloudEvent, and the answer."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ks_engine.signal_contract import SignalData, SignalEvent


class SignalIn(SignalEvent):
    """A signal as a CloudEvents 1.0 event in structured JSON (the same as on NATS)."""

    data: SignalData


class SignalSubmittedOut(BaseModel):
    """The signal is in the pipeline; its receipt appears at ``receipt`` once processed."""

    reference: str = Field(description="Quote it to look up the receipt.")
    receipt: str = Field(description="Where the receipt can be read: GET this path.")
