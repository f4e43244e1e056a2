"""No BSN outside the person block: any free text loses its BSNs, however they are written."""

from __future__ import annotations

import re
from datetime import datetime

from hypothesis import assume, given
from hypothesis import strategies as st

from domain.catalogue import Organization, SupportOffer
from domain.escalation import EscalationPurpose
from domain.redaction import REDACTED, bsn_spans, holds_bsn, is_bsn, redact_bsns
from domain.referral import Referral
from domain.values import (
    Actor,
    ActorRole,
    MeldcodeStep,
    Outcome,
    PersonalDetails,
    Phase,
    Reporter,
    ReporterRole,
)
from ks_engine.clock import AMSTERDAM
from tests.referral_builders import make_signal
from tests.strategies import bsns

NOT_DIGITS = st.characters(exclude_categories=("Nd",), codec=None)
GLUE = st.text(NOT_DIGITS, max_size=8)
PUNCTUATION = st.sampled_from(list("#.,;:!?()[]{}'\"/\\-_+=*&%$@<>|~`^ \t\n"))
SEPARATORS = st.sampled_from([" ", ".", "-", "\u00a0", "\u200b", "/", " - ", "\u2009"])


def digits_left(text: str, bsn: str) -> bool:
    """Whether ``bsn``'s nine digits still appear in order, separators aside."""
    return bsn in re.sub(r"\D", "", text)


@given(bsns(), GLUE, GLUE)
def test_a_bsn_glued_to_anything_but_digits_is_redacted(bsn: str, before: str, after: str) -> None:
    text = before + bsn + after
    redacted = redact_bsns(text)
    assert bsn not in redacted
    assert REDACTED in redacted
    assert holds_bsn(text)
    assert not holds_bsn(redacted)


@given(
    bsns(), st.lists(st.tuples(PUNCTUATION, st.text(alphabet="abcxyzé", max_size=3)), max_size=4)
)
def test_a_bsn_among_letters_and_punctuation_is_redacted(
    bsn: str, around: list[tuple[str, str]]
) -> None:
    prefix = "".join(p + w for p, w in around)
    for text in (f"{prefix}{bsn}", f"{bsn}{prefix}", f"abc{bsn}x", f"#{bsn}.", f"({bsn})"):
        assert not digits_left(redact_bsns(text), bsn)


@given(bsns(), SEPARATORS, st.sampled_from([(3, 3, 3), (4, 2, 3), (2, 3, 2, 2), (3, 6)]))
def test_a_bsn_written_in_groups_is_redacted(bsn: str, sep: str, groups: tuple[int, ...]) -> None:
    parts, at = [], 0
    for size in groups:
        parts.append(bsn[at : at + size])
        at += size
    text = f"BSN: {sep.join(parts)}, zie dossier"
    redacted = redact_bsns(text)
    assert not digits_left(redacted, bsn)
    assert redacted.startswith("BSN: [BSN]")
    assert redacted.endswith(", zie dossier")


@given(bsns())
def test_a_bsn_in_another_script_is_redacted(bsn: str) -> None:
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in bsn)
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in bsn)
    for text in (arabic_indic, fullwidth):
        assert redact_bsns(f"x{text}y") == f"x{REDACTED}y"


@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=200))
def test_redaction_leaves_no_bsn_never_grows_and_is_stable(text: str) -> None:
    redacted = redact_bsns(text)
    assert not holds_bsn(redacted)
    assert bsn_spans(redacted) == []
    assert len(redacted) <= len(text)
    assert redact_bsns(redacted) == redacted


@given(st.text(NOT_DIGITS, max_size=200))
def test_text_without_digits_is_left_alone(text: str) -> None:
    assert redact_bsns(text) == text


@given(st.integers(0, 10**9 - 1).map(lambda n: f"{n:09d}"), GLUE, GLUE)
def test_nine_digits_failing_the_elfproef_are_left_alone(
    digits: str, before: str, after: str
) -> None:
    assume(not is_bsn(digits))
    text = f"{before} {digits} {after}"
    assert redact_bsns(text) == text


def test_longer_numbers_are_not_bsns() -> None:
    for text in ("tel 0612345678", "AGB 1234567820", "IBAN NL91ABNA0417164300", "12-06-2026"):
        assert redact_bsns(text) == text


def test_free_text_fields_of_values_are_redacted_on_validation() -> None:
    details = PersonalDetails(name="Eva 123456782", note="zie BSN 111.222.333 (oud dossier)")
    assert details.name == "Eva [BSN]"
    assert details.note == "zie BSN [BSN] (oud dossier)"
    reporter = Reporter(organisation="praktijk#123456782", role=ReporterRole.MIDWIFE)
    assert reporter.organisation == "praktijk#[BSN]"


def test_coordinators_free_text_is_redacted_before_it_becomes_an_event() -> None:
    at = datetime(2026, 11, 2, 10, 0, tzinfo=AMSTERDAM)
    actor = Actor(organisation="gemeente-kerkrade", role=ActorRole.COORDINATOR, user_ref="c-1")
    case = Referral.signal(make_signal(), actor=actor, at=at, causation_id="s-1")
    case.escalate(
        meldcode_step=MeldcodeStep.DECIDE,
        legal_basis="Wmo 2015 art. 5.2.6 (123456782)",
        justification="Acute onveiligheid, moeder BSN123456782; kind 111 222 333 ook.",
        organisations=["veilig-thuis-zuid-limburg", "melder 123456782"],
        purpose=EscalationPurpose.DISCUSSION,
        actor=actor,
        at=at,
        causation_id="r-1",
    )
    case.close(
        outcome=Outcome.REFERRED_TO_VEILIG_THUIS,
        reason="#100000009.",
        actor=actor,
        at=at,
        causation_id="r-2",
    )
    events = case.collect_events()
    stored = repr([e.__dict__ for e in events])
    for bsn in ("123456782", "111222333", "100000009"):
        assert bsn not in stored
    assert "111 222 333" not in stored
    assert case.escalations[0]["justification"] == (
        "Acute onveiligheid, moeder BSN[BSN]; kind [BSN] ook."
    )
    assert case.outcome == {"code": "referred_to_veilig_thuis", "reason": "#[BSN]."}


def test_the_menukaarts_texts_are_free_text_too() -> None:
    offer = SupportOffer(
        id="schuldhulp",
        name="Schuldhulp 123456782",
        organization_id="gemeente",
        description="Aanmelden met BSN 111 222 333 van de cliënt.",
        eligibility="#100000009.",
        phases=(Phase.PREGNANCY,),
        service_area=("GM0928",),
    )
    assert (offer.name, offer.description, offer.eligibility) == (
        "Schuldhulp [BSN]",
        "Aanmelden met BSN [BSN] van de cliënt.",
        "#[BSN].",
    )
    assert Organization(id="o", name="Praktijk 123456782").name == "Praktijk [BSN]"
