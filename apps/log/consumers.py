"""`BuildLogConsumer`: a build's live updates over a websocket (docs/logs.md).

Session-authenticated and project-scoped: anonymous users are closed with 4401, non-members with
4403, a build that does not exist with 4404. The socket joins the build's group on connect; a
`subscribe` then sends the stored lines after `after` (batches of at most 1,000) and from then on
the live batches of that job, without lines the socket already sent.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.core.errors import NotFound, PermissionDenied
from apps.log.access import build_for_live, job_for_live
from apps.log.chunks import chunk_decode
from apps.log.lines import line_payload
from apps.log.live import LIVE_BATCH_LINES, build_group_name
from apps.log.selectors import log_lines_page

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


def stored_page(job, attempt: int, after: int) -> list[dict]:
    lines = log_lines_page(job=job, attempt=attempt, after_seq=after, limit=LIVE_BATCH_LINES)
    return [line_payload(line) for line in lines]


class BuildLogConsumer(AsyncJsonWebsocketConsumer):
    build_id: int | None = None
    job_key: str | None = None
    attempt = 0
    last_seq = 0

    async def connect(self):
        """Join the group before accepting, so nothing published after the handshake is missed;
        a refusal is an accept then a close, so the client gets the code."""
        code = await self.refusal()
        if code is None:
            await self.channel_layer.group_add(build_group_name(self.build_id), self.channel_name)
        await self.accept()
        if code is not None:
            await self.close(code=code)

    async def refusal(self) -> int | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return CLOSE_UNAUTHENTICATED
        route = self.scope["url_route"]["kwargs"]
        try:
            self.build_id = await database_sync_to_async(build_for_live)(
                user=user,
                project_slug=route["slug"],
                pipeline_slug=route["pipeline"],
                number=int(route["number"]),
            )
        except PermissionDenied:
            return CLOSE_FORBIDDEN
        except NotFound:
            return CLOSE_NOT_FOUND
        return None

    async def disconnect(self, code):
        if self.build_id is not None:
            await self.channel_layer.group_discard(build_group_name(self.build_id), self.channel_name)

    async def receive_json(self, content, **kwargs):
        if self.build_id is None:
            return
        if not isinstance(content, dict) or content.get("type") != "subscribe":
            await self.send_json({"type": "error", "message": "expected a subscribe message"})
            return
        try:
            after = max(int(content.get("after") or 0), 0)
            attempt = int(content["attempt"]) if content.get("attempt") else None
            job, attempt = await database_sync_to_async(job_for_live)(
                build_id=self.build_id, key=str(content.get("job") or ""), attempt=attempt
            )
        except (TypeError, ValueError, NotFound) as error:
            await self.send_json({"type": "error", "message": str(error)})
            return
        self.job_key, self.attempt, self.last_seq = job.key, attempt, after
        while lines := await database_sync_to_async(stored_page)(job, attempt, self.last_seq):
            await self.send_lines(lines)
            if len(lines) < LIVE_BATCH_LINES:
                break

    async def send_lines(self, lines: list[dict]) -> None:
        self.last_seq = lines[-1]["seq"]
        message = {"type": "log.appended", "job": self.job_key, "attempt": self.attempt, "lines": lines}
        await self.send_json(message)

    async def log_appended(self, event):
        if event.get("job") != self.job_key or event.get("attempt", 0) < self.attempt:
            return
        if event["attempt"] > self.attempt:
            self.attempt, self.last_seq = event["attempt"], 0
        last = self.last_seq
        chunk = chunk_decode(event["first_seq"], event["line_count"], event["text"], event["meta"])
        lines = [line_payload(line) for line in chunk if line.seq > last]
        for start in range(0, len(lines), LIVE_BATCH_LINES):
            await self.send_lines(lines[start:start + LIVE_BATCH_LINES])

    async def build_changed(self, event):
        await self.send_json(event)
