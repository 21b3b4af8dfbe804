"""The Encode API's credits: /tokens/balance and reserving, releasing or deducting for a job."""

from __future__ import annotations

from aiohttp import web

from gateway import classic_views
from gateway.auth import requires
from gateway.clients import CLIENTS, call_options
from gateway.schemas import CreditRequest, read_json
from protos.jobs.v1 import jobs_pb2

routes = web.RouteTableDef()

_OPERATIONS = {
    "reserve": jobs_pb2.CREDIT_OPERATION_RESERVE,
    "release": jobs_pb2.CREDIT_OPERATION_RELEASE,
    "deduct": jobs_pb2.CREDIT_OPERATION_DEDUCT,
}


@routes.get("/tokens/balance")
@requires("tokens:read")
async def balance(request: web.Request) -> web.Response:
    answer = await request.app[CLIENTS].jobs.GetBalance(jobs_pb2.GetBalanceRequest(), **call_options(request))
    return web.json_response(classic_views.balance(answer))


async def _adjust(request: web.Request, operation: str) -> web.Response:
    body = await read_json(request, CreditRequest)
    answer = await request.app[CLIENTS].jobs.AdjustCredits(
        jobs_pb2.AdjustCreditsRequest(operation=_OPERATIONS[operation], job_id=body.job_id, amount=body.amount),
        **call_options(request),
    )
    return web.json_response(
        {
            "ok": True,
            "operation": operation,
            "jobId": body.job_id,
            "amount": answer.amount,
            "balance": classic_views.balance(answer.balance),
        }
    )


@routes.post("/tokens/reserve")
@requires("tokens:write")
async def reserve(request: web.Request) -> web.Response:
    return await _adjust(request, "reserve")


@routes.post("/tokens/release")
@requires("tokens:write")
async def release(request: web.Request) -> web.Response:
    return await _adjust(request, "release")


@routes.post("/tokens/deduct")
@requires("tokens:write")
async def deduct(request: web.Request) -> web.Response:
    return await _adjust(request, "deduct")
