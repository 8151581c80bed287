"""`BuildLogConsumer`: a build's live updates over a websocket (docs/logs.md).

Session-authenticated and project-scoped: anonymous users are closed with 4401, non-members with
4403, a build that does not exist with 4404. The socket joins the build's group (status changes)
on connect; a `subscribe` joins the job's log group, then sends the stored lines after `after`
(batches of at most 1,000) and from then on the live batches of that job, without lines the
socket already sent.

Lines go out as chunks (apps/log/chunks.py: the texts joined by newlines, the other fields as runs),
so a live batch is forwarded as ingest published it, without a look at each line; the page decodes.
"""

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.core.errors import NotFound, PermissionDenied
from apps.log.access import build_for_live, job_for_live
from apps.log.chunks import Chunk, chunk_after, chunk_encode
from apps.log.live import LIVE_BATCH_LINES, build_group_name, job_log_group_name
from apps.log.selectors import log_lines_page

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


def stored_page(job, attempt: int, after: int) -> Chunk | None:
    lines = log_lines_page(job=job, attempt=attempt, after_seq=after, limit=LIVE_BATCH_LINES)
    return chunk_encode(lines) if lines else None


def appended_message(*, job_key: str, attempt: int, chunk: Chunk) -> str:
    """The `log.appended` message of a chunk (docs/logs.md), built as text: `meta` is JSON already."""
    return (
        f'{{"type":"log.appended","job":{json.dumps(job_key)},"attempt":{attempt},'
        f'"first_seq":{chunk.first_seq},"last_seq":{chunk.last_seq},"line_count":{chunk.line_count},'
        f'"text":{json.dumps(chunk.text, ensure_ascii=False)},"meta":{chunk.meta}}}'
    )


class BuildLogConsumer(AsyncJsonWebsocketConsumer):
    build_id: int | None = None
    log_group: str | None = None
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
        await self.join_log_group(None)

    async def join_log_group(self, group: str | None) -> None:
        """Follow one job's log group (leaving the one followed before), joined before its stored
        lines are read so no batch falls between them and the live ones."""
        if group == self.log_group:
            return
        if self.log_group is not None:
            await self.channel_layer.group_discard(self.log_group, self.channel_name)
        if group is not None:
            await self.channel_layer.group_add(group, self.channel_name)
        self.log_group = group

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
        await self.join_log_group(job_log_group_name(job.id))
        while chunk := await database_sync_to_async(stored_page)(job, attempt, self.last_seq):
            await self.send_chunk(chunk)
            if chunk.line_count < LIVE_BATCH_LINES:
                break

    async def send_chunk(self, chunk: Chunk) -> None:
        self.last_seq = chunk.last_seq
        await self.send(text_data=appended_message(job_key=self.job_key, attempt=self.attempt, chunk=chunk))

    async def log_appended(self, event):
        if event.get("job") != self.job_key or event.get("attempt", 0) < self.attempt:
            return
        if event["attempt"] > self.attempt:
            self.attempt, self.last_seq = event["attempt"], 0
        fields = ("first_seq", "last_seq", "line_count", "text", "meta")
        chunk = chunk_after(Chunk(*(event[name] for name in fields)), self.last_seq)
        if chunk is not None:
            await self.send_chunk(chunk)

    async def build_changed(self, event):
        await self.send_json(event)
