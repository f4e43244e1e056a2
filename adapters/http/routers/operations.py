"""Operations: liveness, readiness of the parts the API needs, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from adapters.http.context import ServicesDep

router = APIRouter(tags=["operations"])


class HealthOut(BaseModel):
    """The process answers."""

    status: str


class ReadyOut(BaseModel):
    """Each part the API needs, and whether it is reachable ('ok' or the reason)."""

    status: str
    checks: dict[str, str]


@router.get("/health", summary="Liveness: the process answers")
def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get(
    "/ready",
    summary="Readiness: event store, NATS and read models reachable",
    response_model=ReadyOut,
    responses={503: {"model": ReadyOut, "description": "A part is not reachable."}},
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
    ok = all(v == "ok" for v in checks.values())
    body = ReadyOut(status="ready" if ok else "not ready", checks=checks)
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
