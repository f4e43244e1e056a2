"""The hand-written canonical forms of the chain's hashes equal ``canonical`` of the same
dictionary for any text, so stored chains and exports keep verifying."""

import json
from uuid import UUID

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ks_engine.audit import chain

texts = st.text()
numbers = st.integers(min_value=0, max_value=2**63)


@given(texts, numbers, texts, texts, texts, texts, texts, st.sampled_from(chain.CHAIN_FORMATS))
def test_body_hash_is_the_hash_of_the_canonical_body(
    aggregate: str,
    version: int,
    topic: str,
    state: str,
    summary: str,
    prev: str,
    sealed_at: str,
    chain_format: int,
) -> None:
    fields = {
        "aggregate": aggregate,
        "version": version,
        "topic": topic,
        "state_hash": state,
        "summary_hash": summary,
        "prev_in_aggregate": prev,
    }
    body = chain.body(**fields, chain_format=chain_format, sealed_at=sealed_at)
    # Format 1 (links sealed before chain formats) covers these six fields; format 2 also
    # covers the time of sealing and the format itself.
    expected = fields if chain_format == 1 else fields | {"chain_format": 2, "sealed_at": sealed_at}
    assert body == expected
    assert chain.body_hash(
        **fields, chain_format=chain_format, sealed_at=sealed_at
    ) == chain.sha256(chain.canonical(body))


@given(texts, numbers, texts, texts, texts)
def test_a_link_relabelled_with_the_other_chain_format_hashes_differently(
    aggregate: str, version: int, topic: str, state: str, sealed_at: str
) -> None:
    fields = {
        "aggregate": aggregate,
        "version": version,
        "topic": topic,
        "state_hash": state,
        "summary_hash": "",
        "prev_in_aggregate": chain.GENESIS,
    }
    hashes = {chain.body_hash(**fields, chain_format=f, sealed_at=sealed_at) for f in (1, 2, 3)}
    assert len(hashes) == 3


@given(numbers, texts, texts)
def test_link_hash_is_the_hash_of_the_canonical_link(position: int, prev: str, body: str) -> None:
    expected = chain.sha256(chain.canonical({"position": position, "prev": prev, "body": body}))
    assert chain.link_hash(position, prev, body) == expected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_canonical_is_json_dumps_with_sorted_keys_no_spaces_and_ascii(value: object) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert chain.canonical(value) == expected.encode()


leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text()
)
summaries = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(st.dictionaries(st.text(), summaries))
def test_a_summary_hash_is_the_hash_of_its_canonical_json(summary: dict[str, object]) -> None:
    text = json.dumps(summary, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert chain.summary_hash(summary) == chain.sha256(text.encode())


def test_a_summary_holding_what_json_does_not_write_cannot_be_hashed() -> None:
    with pytest.raises(TypeError, match="UUID is not JSON serializable"):
        chain.summary_hash({"a": [{"b": UUID(int=1)}]})
    with pytest.raises(TypeError, match="keys must be str"):
        chain.summary_hash({"a": {(1, 2): 1}})


# ASCII text (control characters and DEL among it) as often as any text
any_text = st.text(st.characters(max_codepoint=0x7F)) | st.text()
plain_leaves = st.none() | st.booleans() | st.integers(-(2**80), 2**80) | any_text
plain_summaries = st.recursive(
    plain_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=5),
    max_leaves=30,
)


class Label(str):
    """A str subclass: json writes it as its text, orjson would not be asked."""


@given(st.dictionaries(any_text, plain_summaries))
@example({"reason": "\x7f"})  # DEL: ASCII, escaped by json, not by orjson
def test_a_plain_summary_hashes_as_any_summary_whatever_its_text_and_numbers(
    summary: dict[str, object],
) -> None:
    assert chain.plain_summary_hash(summary) == chain.summary_hash(summary)


@given(
    st.dictionaries(
        st.text(),
        plain_leaves
        | st.datetimes()
        | st.dates()
        | st.decimals(allow_nan=False)
        | st.text().map(Label)
        | st.tuples(st.text()),
    )
)
def test_a_summary_with_other_values_hashes_as_json_writes_it_or_fails_as_it_fails(
    summary: dict[str, object],
) -> None:
    try:
        expected: str | None = chain.summary_hash(summary)
    except TypeError:
        expected = None
    if expected is None:
        with pytest.raises(TypeError):
            chain.plain_summary_hash(summary)
    else:
        assert chain.plain_summary_hash(summary) == expected
