"""Raw log downloads, streamed: one job attempt as text, a whole build as .zip or .tar.gz.

The pieces come from `apps.log.selectors.log_text_chunks`, so archived logs download the same way.
Under ASGI the response must iterate asynchronously (Django would otherwise read a synchronous
iterator whole before sending); `streaming_response` picks the right form for the request.
"""

import io
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse

from apps.log.selectors import log_text_chunks

ARCHIVE_FORMATS = {"zip": "application/zip", "tar.gz": "application/gzip"}
SPOOL_BYTES = 8 * 1024 * 1024


class Pipe(io.RawIOBase):
    """A write-only, non-seekable file whose written bytes are taken out piece by piece."""

    def __init__(self):
        super().__init__()
        self.pieces: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.pieces.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        data, self.pieces = b"".join(self.pieces), []
        return data


def job_text_bytes(*, job, attempt: int) -> Iterator[bytes]:
    for piece in log_text_chunks(job=job, attempt=attempt):
        yield piece.encode()


def zip_chunks(entries: list[tuple[str, object, int]]) -> Iterator[bytes]:
    pipe = Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, job, attempt in entries:
            with archive.open(name, "w", force_zip64=True) as member:
                for piece in job_text_bytes(job=job, attempt=attempt):
                    member.write(piece)
                    yield pipe.take()
    yield pipe.take()


def tar_gz_chunks(entries: list[tuple[str, object, int]]) -> Iterator[bytes]:
    """A tar member needs its size first, so each job's text is spooled to a temporary file."""
    pipe = Pipe()
    with tarfile.open(fileobj=pipe, mode="w|gz") as archive:
        for name, job, attempt in entries:
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
                for piece in job_text_bytes(job=job, attempt=attempt):
                    spool.write(piece)
                info = tarfile.TarInfo(name)
                info.size = spool.tell()
                info.mode = 0o644
                spool.seek(0)
                archive.addfile(info, spool)
            yield pipe.take()
    yield pipe.take()


def build_archive_chunks(*, entries: list[tuple[str, object, int]], fmt: str) -> Iterator[bytes]:
    return zip_chunks(entries) if fmt == "zip" else tar_gz_chunks(entries)


async def asynchronous(chunks: Iterator[bytes]):
    """Each piece produced in the request's sync thread, so database access stays where it was."""
    done = object()
    step = sync_to_async(next, thread_sensitive=True)
    while (piece := await step(chunks, done)) is not done:
        if piece:
            yield piece


def streaming_response(request, chunks: Iterator[bytes], *, filename: str, content_type: str):
    django_request = getattr(request, "_request", request)
    content = asynchronous(chunks) if isinstance(django_request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
