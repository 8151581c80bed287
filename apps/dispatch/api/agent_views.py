"""The agent protocol's job endpoints (docs/agent-protocol.md): heartbeat, claim, steps, logs,
finish. Plain Django views: they authenticate the agent, parse JSON and call one service.
`claim` is asynchronous so a long poll holds no thread.
"""

import json
import time
from functools import wraps

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.api.exceptions import error_status
from apps.core.errors import ApplicationError
from apps.dispatch.services import job_claim_answer, jobs_heartbeat
from apps.dispatch.wakeup import JobsQueuedWaiter
from apps.environment.agent_package import agent_package
from apps.environment.services import agent_authenticate, agent_record_heartbeat
from apps.process.services import jobs

MAX_WAIT_SECONDS = 60


def error_response(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def read_json(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as error:
        raise ValueError(f"the body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def agent_call(view):
    """Authenticate `Authorization: Agent <id>:<secret>`, parse the JSON body, map errors to 4xx."""

    @csrf_exempt
    @require_POST
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        agent = agent_authenticate(request.headers.get("Authorization"))
        if agent is None:
            return error_response(
                401, "not_authenticated", "a valid 'Authorization: Agent <id>:<secret>' is required"
            )
        try:
            return JsonResponse(view(request, agent, read_json(request), *args, **kwargs))
        except ValueError as error:
            return error_response(400, "bad_request", str(error))
        except ApplicationError as error:
            return error_response(error_status(error), getattr(error, "code", "error"), str(error))

    return wrapper


def upgrade_offer(agent) -> dict | None:
    try:
        _, version, sha256 = agent_package()
    except ApplicationError:
        return None
    if not agent.version or agent.version == version:
        return None
    return {"version": version, "url": "/api/agent/v1/download", "sha256": sha256}


@agent_call
def heartbeat(request, agent, body):
    agent = agent_record_heartbeat(
        agent=agent,
        version=body.get("version"),
        os=body.get("os"),
        arch=body.get("arch"),
        hostname=body.get("hostname"),
    )
    return {
        "cancel_jobs": jobs_heartbeat(agent=agent, running_job_ids=body.get("running_jobs") or []),
        "lease_seconds": settings.DEVOPS_LEASE_SECONDS,
        "upgrade": upgrade_offer(agent),
    }


@agent_call
def step_next(request, agent, body, job_id):
    return jobs.job_step_next(
        agent=agent, job_id=job_id, completed=body.get("completed"), runner=body.get("runner")
    )


@agent_call
def step_progress(request, agent, body, job_id):
    return jobs.job_step_progress(
        agent=agent, job_id=job_id, completed=body.get("completed"), running=body.get("running")
    )


def log_lines(body: dict, required: bool = True) -> list:
    lines = body.get("lines") if required else body.get("lines") or []
    if not isinstance(lines, list):
        raise ValueError("'lines' must be a list")
    return lines


@agent_call
def logs(request, agent, body, job_id):
    if "columns" in body:
        if not isinstance(body["columns"], dict):
            raise ValueError("'columns' must be an object")
        return jobs.job_logs_append(agent=agent, job_id=job_id, columns=body["columns"])
    return jobs.job_logs_append(agent=agent, job_id=job_id, lines=log_lines(body))


@agent_call
def finish(request, agent, body, job_id):
    return jobs.job_finish(
        agent=agent,
        job_id=job_id,
        status=str(body.get("status", "")),
        error=body.get("error"),
        lines=log_lines(body, required=False),
        completed=body.get("completed"),
        runner=body.get("runner"),
    )


def off_loop(function):
    """`function` run in a thread of the event loop's pool, which then gives its database connection
    back: those threads live on, and a connection each would drain the connection pool."""

    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return sync_to_async(run, thread_sensitive=False)


@csrf_exempt
async def claim(request):
    """Long poll: answer a job as soon as one fits the agent, or 204 after `wait_seconds`."""
    if request.method != "POST":
        return error_response(405, "method_not_allowed", "use POST")
    agent = await off_loop(agent_authenticate)(
        request.headers.get("Authorization")
    )
    if agent is None:
        return error_response(
            401, "not_authenticated", "a valid 'Authorization: Agent <id>:<secret>' is required"
        )
    try:
        wait = min(float(read_json(request).get("wait_seconds", 25)), MAX_WAIT_SECONDS)
    except (ValueError, TypeError) as error:
        return error_response(400, "bad_request", str(error))
    attempt = off_loop(job_claim_answer)
    async with JobsQueuedWaiter() as waiter:
        deadline = time.monotonic() + wait
        while True:
            payload = await attempt(agent=agent)
            if payload is not None:
                return JsonResponse({"job": payload})
            waiter.pass_on()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return HttpResponse(status=204)
            await waiter.wait(min(remaining, 5.0))
