"""Operations: liveness, readiness of the parts the API needs and of the supervised
components, Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field

from adapters.http.context import ServicesDep
from ks_engine.supervision import all_required_up

router = APIRouter(tags=["operations"])


class HealthOut(BaseModel):
    """The process answers."""

    status: str


class ComponentOut(BaseModel):
    """A component of the engine under `ks run`'s supervisor."""

    state: Literal["up", "restarting", "down"] = Field(
        description="up: running; restarting: failed, starts again after a delay; down: stopped"
    )
    required: bool = Field(description="The engine is not ready while this one is not up.")
    restarts: int = Field(description="Restarts after an unexpected error since `ks run` began.")
    last_error: str | None = Field(description="The class of the last error (never its message).")


class ReadyOut(BaseModel):
    """Each part the API needs, and whether it is reachable ('ok' or the reason); each
    component `ks run` supervises (empty when the API runs alone)."""

    status: str
    checks: dict[str, str]
    components: dict[str, ComponentOut] = Field(default_factory=dict)


@router.get("/health", summary="Liveness: the process answers")
def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get(
    "/ready",
    summary="Readiness: event store, NATS and read models reachable, every component up",
    response_model=ReadyOut,
    responses={
        503: {
            "model": ReadyOut,
            "description": "A part is not reachable, or a required component is not up.",
        }
    },
)
async def ready(services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await run_in_threadpool(services.referrals.recorder.max_notification_id)
        checks["event_store"] = "ok"
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        checks["event_store"] = f"unreachable: {type(exc).__name__}"
    for name, check in services.readiness.items():
        try:
            problem = await check()
        except Exception as exc:  # same: a failing check is a reason, not a crash
            problem = f"check failed: {type(exc).__name__}"
        checks[name] = problem or "ok"
    board = services.components
    found = board.snapshot() if board is not None else {}
    components = {
        name: ComponentOut(
            state=status.state.value,
            required=status.required,
            restarts=status.restarts,
            last_error=status.last_error,
        )
        for name, status in found.items()
    }
    ok = all(v == "ok" for v in checks.values()) and all_required_up(found)
    body = ReadyOut(status="ready" if ok else "not ready", checks=checks, components=components)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(services: ServicesDep) -> Response:
    await services.metrics.refresh()
    return Response(services.metrics.render(), media_type=CONTENT_TYPE_LATEST)
