"""The feedback's ``data`` written out for the relay (``feedback_data_json``) is, for any
feedback, case and municipality, the JSON the published model gives (``FeedbackData``)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from hypothesis import example, given
from hypothesis import strategies as st

from domain.feedback import Feedback, FeedbackStatus, SignalRef
from ks_engine.feedback_contract import FeedbackData, SignalRefOut, feedback_data_json

texts = st.text()
feedbacks = st.builds(
    Feedback,
    source=texts,
    status=st.sampled_from(FeedbackStatus),
    on=st.dates(),
    signals=st.lists(st.builds(SignalRef, id=texts, reference=texts), max_size=3).map(tuple),
    joined=st.none() | st.booleans(),
    result=st.none() | texts,
)


def feedback_data(feedback: Feedback, case_id: UUID | str, municipality: str) -> FeedbackData:
    """The published model of the feedback's data, built field by field."""
    joined = feedback.joined
    return FeedbackData(
        case_id=UUID(str(case_id)),
        municipality=municipality,
        status=feedback.status,
        on=feedback.on,
        signals=[SignalRefOut(id=s.id, reference=s.reference) for s in feedback.signals],
        case=None if joined is None else ("joined" if joined else "new"),
        result=feedback.result,
    )


case_ids = st.uuids() | st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())


@given(feedback=feedbacks, case_id=case_ids, municipality=texts)
@example(  # the falsy values that must still be written
    feedback=Feedback("s", FeedbackStatus.CLOSED, date(1, 1, 1), (), joined=False, result=""),
    case_id=UUID(int=0),
    municipality="",
)
def test_written_out_as_the_model_writes_it(
    feedback: Feedback, case_id: Any, municipality: str
) -> None:
    model = feedback_data(feedback, case_id, municipality)
    assert feedback_data_json(feedback, case_id, municipality) == model.model_dump(
        mode="json", exclude_none=True
    )
