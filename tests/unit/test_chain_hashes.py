"""The hand-written canonical forms of the chain's hashes equal ``canonical`` of the same
dictionary for any text, so stored chains and exports keep verifying."""

from hypothesis import given
from hypothesis import strategies as st

from ks_engine.audit import chain

texts = st.text()
numbers = st.integers(min_value=0, max_value=2**63)


@given(texts, numbers, texts, texts, texts, texts)
def test_body_hash_is_the_hash_of_the_canonical_body(
    aggregate: str, version: int, topic: str, state: str, summary: str, prev: str
) -> None:
    body = {
        "aggregate": aggregate,
        "version": version,
        "topic": topic,
        "state_hash": state,
        "summary_hash": summary,
        "prev_in_aggregate": prev,
    }
    assert chain.body_hash(
        aggregate=aggregate,
        version=version,
        topic=topic,
        state_hash=state,
        summary_hash=summary,
        prev_in_aggregate=prev,
    ) == chain.sha256(chain.canonical(body))


@given(numbers, texts, texts)
def test_link_hash_is_the_hash_of_the_canonical_link(position: int, prev: str, body: str) -> None:
    expected = chain.sha256(chain.canonical({"position": position, "prev": prev, "body": body}))
    assert chain.link_hash(position, prev, body) == expected
