"""Partners' signals over HTTP: the same CloudEvent as on NATS, into the same pipeline."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response

from adapters.http.context import AttemptDep, ServicesDep, audited, require
from adapters.http.ports import SignalGateway, SignalGatewayError
from adapters.http.problems import (
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    UnavailableError,
    problem_responses,
)
from adapters.http.schemas.signals import SignalIn, SignalsOut, SignalSubmittedOut, request_body
from domain.errors import CaseNotFoundError
from ks_engine.access_log import AccessAction
from ks_engine.feedback_contract import current_feedback
from ks_engine.principals import Principal, Role
from ks_engine.receipts import Receipt, signal_reference
from ks_engine.signal_contract import SIGNAL_SUBJECT_PREFIX, Rejection, parse_signal

router = APIRouter(prefix="/signals", tags=["signals"])

Partner = Annotated[Principal, require(Role.PARTNER)]


def _gateway(services: ServicesDep) -> SignalGateway:
    if services.signals is None:
        raise UnavailableError("the signal intake (NATS) is not connected; try again later")
    gateway: SignalGateway = services.signals
    return gateway


@router.post(
    "",
    status_code=202,
    summary="Submit a signal (a CloudEvent, as on NATS); its receipt follows at Location",
    dependencies=[audited(AccessAction.CREATE)],
    responses=problem_responses(400, 401, 403, 413, 422, 503),
    openapi_extra={"requestBody": request_body(SignalIn)},
)
async def submit_signal(
    request: Request,
    response: Response,
    principal: Partner,
    services: ServicesDep,
    attempt: AttemptDep,
) -> SignalSubmittedOut:
    # The body is read here, after authentication, by the partners' contract itself (the same
    # parser as on NATS), so that both channels refuse a signal with the same code and reason.
    body = await request.body()
    try:
        parsed = parse_signal(body, rules=services.signal_rules)
    except Rejection as refused:
        errors = [{"field": f"body.{path}", "message": message} for path, message in refused.errors]
        raise InvalidRequestError(
            refused.reason, code=refused.code.value, errors=errors or None
        ) from None
    if parsed.event.source != principal.organisation:
        raise ForbiddenError(
            f"signals are submitted in your own name: source must be '{principal.organisation}'"
        )
    # The entry names no pseudonym: with the signal's reference it would tie the person to
    # the case for ever, past the case's erasure (the case keeps its pseudonyms sealed).
    reference = signal_reference(parsed.event.signal_key)
    gateway = _gateway(services)
    try:
        await gateway.submit(
            SIGNAL_SUBJECT_PREFIX + parsed.data.municipality,
            body,
            parsed.event.signal_key,
        )
    except SignalGatewayError:
        raise UnavailableError(
            "the signal could not be handed to the intake; send it again"
        ) from None
    services.metrics.signals.labels("submitted").inc()
    location = f"/signals/{reference}"
    response.headers["Location"] = location
    return SignalSubmittedOut(reference=reference, receipt=location)


@router.get(
    "",
    summary="Your own signals, each with the latest feedback on its case",
    dependencies=[audited(AccessAction.READ)],
    responses=problem_responses(401, 403, 503),
)
async def list_signals(principal: Partner, services: ServicesDep) -> SignalsOut:
    # Only the partner's own: its feedback subjects are all that is read.
    try:
        messages = await _gateway(services).feedback(principal.organisation)
    except SignalGatewayError:
        raise UnavailableError("feedback cannot be read right now; try again shortly") from None
    return SignalsOut(signals=current_feedback(messages))


@router.get(
    "/{reference}",
    summary="The receipt of one of your signals: accepted with its case, or rejected and why",
    dependencies=[audited(AccessAction.READ)],
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def signal_receipt(
    reference: UUID, principal: Partner, services: ServicesDep, attempt: AttemptDep
) -> Receipt:
    try:
        receipt = await _gateway(services).receipt(str(reference))
    except SignalGatewayError:
        raise UnavailableError("receipts cannot be read right now; try again shortly") from None
    if receipt is None:
        raise NotFoundError("there is no receipt for this reference (yet); try again shortly")
    if receipt.source != principal.organisation:
        if attempt is not None:
            attempt.hidden = True
        raise NotFoundError("there is no receipt for this reference (yet); try again shortly")
    if receipt.case_id is not None and attempt is not None:
        try:
            attempt.touches(services.referrals.get_case(receipt.case_id))
        except CaseNotFoundError:
            attempt.case_id = receipt.case_id
    return receipt
