"""A query parameter an operation does not know is refused with its name, never ignored: a
mistyped filter (`?stat=open`) must not answer as if it had been applied."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.http import openapi_document
from tests.integration.test_http_stack import Api, api

__all__ = ["api"]


def _get_operations_with_query() -> list[tuple[str, set[str]]]:
    found = []
    for path, operations in openapi_document()["paths"].items():
        op: dict[str, Any] | None = operations.get("get")
        if op is None or "{" in path:
            continue
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        if names:
            found.append((path, names))
    return found


OPERATIONS = _get_operations_with_query()


def test_there_are_operations_with_query_parameters_to_check() -> None:
    assert {"/cases", "/meetings"} <= {path for path, _ in OPERATIONS}


def test_every_operation_names_the_query_parameter_it_does_not_know(api: Api) -> None:
    for path, names in OPERATIONS:
        answer = api.client.get(f"{path}?stat=open", headers=api.auth("kerkrade"))
        assert answer.status_code == 422, (path, answer.status_code, answer.text)
        detail = answer.json()["detail"]
        assert "'stat'" in detail, (path, detail)
        assert all(name in detail for name in names), (path, detail)


KNOWN = sorted(dict(OPERATIONS)["/cases"])
# The known names are drawn too: random text almost never spells one
NAMES = st.sampled_from(KNOWN) | st.text(
    string.ascii_letters + string.digits + "_-.", min_size=1, max_size=20
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES)
def test_any_unknown_name_is_refused_and_known_ones_pass(api: Api, name: str) -> None:
    known = set(KNOWN)
    answer = api.client.get("/cases", params={name: "x"}, headers=api.auth("kerkrade"))
    if name in known:
        assert answer.status_code != 422 or f"'{name}'" not in answer.json()["detail"]
    else:
        assert answer.status_code == 422, (name, answer.text)
        assert f"query.{name}" in answer.json()["detail"]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    around=st.tuples(
        st.sampled_from(["", "a", "x", "_", "q."]), st.sampled_from(["", "a", "b", "_", "-z"])
    )
)
def test_an_unknown_name_holding_a_bsn_is_not_repeated(api: Api, around: tuple[str, str]) -> None:
    """The refusal names the parameter, but a BSN typed as its name never comes back."""
    name = f"{around[0]}123456782{around[1]}"
    answer = api.client.get("/cases", params={name: "x"}, headers=api.auth("kerkrade"))
    assert answer.status_code == 422, answer.text
    assert "123456782" not in answer.text, answer.text
