"""Sealed dead letters: the original opens only with its key and under its own letter; the clear
headers carry no BSN; the settings hold and refuse the JetStream store key."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.nats.dead_letters import (
    DeadLetter,
    DeadLetterError,
    DeadLetterSeal,
    Original,
    Rejected,
    dead_letter_key,
)
from ks_engine.settings import Settings, SettingsError, new_secrets

BSN = "111222333"
KEY = dead_letter_key(b"k" * 32)
SEAL = DeadLetterSeal(KEY)


def rejected(**changes: str) -> Rejected:
    fields = {
        "stream": "KS_SIGNALS",
        "sequence": 7,
        "code": "invalid_signal",
        "reason": f"data.person.bsn {BSN} is not allowed here",
        "deliveries": 1,
        "reference": "0b5c2f0e-5a51-5d8e-9d4b-3a1c8f2f7a10",
        "partner": "verloskunde-parkstad",
        "original_subject": "ks.signals.GM0928",
    }
    return Rejected(**{**fields, **changes})  # type: ignore[arg-type]


headers = st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=50), max_size=5)


@given(body=st.binary(max_size=2000), subject=st.text(max_size=80), hdrs=headers)
def test_any_original_opens_as_it_was_sealed(
    body: bytes, subject: str, hdrs: dict[str, str]
) -> None:
    original = Original(subject, hdrs, body)
    assert SEAL.open("KS_SIGNALS:7", SEAL.seal("KS_SIGNALS:7", original)) == original


@given(body=st.binary(max_size=200))
def test_the_sealed_form_never_holds_the_bsn(body: bytes) -> None:
    sealed = SEAL.seal(
        "KS_SIGNALS:1", Original("ks.signals.GM0928", {"id": BSN}, body + BSN.encode())
    )
    assert BSN.encode() not in sealed
    assert base64.b64encode(BSN.encode()) not in sealed


def test_a_sealed_body_opens_only_under_its_letter_and_key_and_undamaged() -> None:
    sealed = SEAL.seal("KS_SIGNALS:7", Original("ks.signals.GM0928", {}, b"{}"))
    with pytest.raises(DeadLetterError, match="KS_SIGNALS:8 does not open"):
        SEAL.open("KS_SIGNALS:8", sealed)  # moved to another letter
    with pytest.raises(DeadLetterError):
        DeadLetterSeal(dead_letter_key(b"x" * 32)).open("KS_SIGNALS:7", sealed)
    damaged = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DeadLetterError):
        SEAL.open("KS_SIGNALS:7", damaged)
    with pytest.raises(DeadLetterError):
        SEAL.open("KS_SIGNALS:7", b"short")


def test_the_dead_letter_key_is_derived_not_the_cipher_key() -> None:
    assert dead_letter_key(b"k" * 32) != b"k" * 32
    assert len(KEY) == 32


@pytest.mark.parametrize("glued", [BSN, "111 222 333", f"x{BSN}y", f"#{BSN}."])
def test_clear_headers_redact_bsns_wherever_a_partner_put_them(glued: str) -> None:
    found = rejected(
        reason=f"bad {glued}", partner=f"p-{glued}", original_subject=f"ks.signals.{glued}"
    ).headers()
    assert all(BSN not in v and "111 222 333" not in v for v in found.values())
    assert found["Nats-Msg-Id"] == "dlq:KS_SIGNALS:7"
    assert found["Ks-Sealed"] == "aes-256-gcm/v1"


@given(
    before=st.text(max_size=30),
    after=st.text(max_size=30),
    bsn=st.sampled_from([BSN, "111 222 333", "111.222.333", "123456782"]),
)
def test_no_bsn_survives_in_a_clear_header_whatever_surrounds_it(
    before: str, after: str, bsn: str
) -> None:
    text = f"{before}{bsn}{after}"
    found = rejected(reason=text, partner=text, original_subject=text).headers()
    digits = bsn.replace(" ", "").replace(".", "")
    for value in found.values():
        assert bsn not in value
        assert digits not in value


def test_the_list_shows_metadata_and_a_letter_from_before_sealing_opens_as_it_is() -> None:
    letter = DeadLetter(
        3, None, rejected().headers(), SEAL.seal("KS_SIGNALS:7", Original("s", {}, b"x"))
    )
    assert letter.sealed
    assert letter.metadata()["code"] == "invalid_signal"
    assert letter.original(SEAL).body == b"x"
    legacy = DeadLetter(4, None, {"Ks-Original-Subject": "ks.signals.GM0928"}, b"{old}")
    assert not legacy.sealed
    assert legacy.original(SEAL) == Original("ks.signals.GM0928", {}, b"{old}")


def test_production_with_its_own_nats_server_refuses_to_start_without_a_store_key() -> None:
    keys = new_secrets()
    production = {
        "environment": "production",
        "pseudonym_key": keys["pseudonym_key"],
        "cipher_key": keys["cipher_key"],
        "signing_key": keys["signing_key"],
    }
    with pytest.raises(SettingsError, match="KS_NATS_STORE_KEY must be set in production"):
        Settings(**production)  # type: ignore[arg-type]
    # With a cluster (KS_NATS_URL) the cluster holds its own key (the secret nats_store_key).
    assert Settings(**production, nats_url="nats://nats-1:4222")  # type: ignore[arg-type]
    found = Settings(**production, nats_store_key=keys["nats_store_key"])  # type: ignore[arg-type]
    assert found.nats_store_key_text() == keys["nats_store_key"]


def test_the_store_key_is_letters_and_digits_nats_server_reads_as_a_string() -> None:
    assert Settings(nats_store_key=new_secrets()["nats_store_key"])  # type: ignore[arg-type]
    for unreadable in ("k" * 31, "1" + "a" * 40, "k" + "a" * 39 + "+", "k" + "a" * 39 + " "):
        with pytest.raises(SettingsError, match="KS_NATS_STORE_KEY"):
            Settings(nats_store_key=unreadable)  # type: ignore[arg-type]


def test_development_keeps_a_store_key_in_the_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Settings(data_dir=data).nats_store_key_text()
    assert first == Settings(data_dir=data).nats_store_key_text()
    assert (data / "development-secrets.json").stat().st_mode & 0o077 == 0


def test_show_prints_a_partners_control_characters_as_escapes() -> None:
    from entrypoints.cli.dlq import _printable

    assert _printable('{"a":\n\t"\x1b[2Jb\u200b"}') == '{"a":\n\t"\\x1b[2Jb\\u200b"}'
