"""Streaming a chat turn's answer, and storing it once streamed.

The spec's stream is produced while its client reads it. The app's (an AI SDK 5 UI message
stream, cerebro/ui_messages.py) is produced by a task of its own that outlives the request: a
client that reloads the page, or loses its connection, does not stop the answer. Each frame goes to
the request that asked (through a queue) and to the resumable store (cerebro/resumable.py), from
which ``GET /api/chat/{id}/stream`` replays it from the start. The answer is stored before the
stream's last frames, so a client told the stream has finished finds it stored.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections.abc import AsyncIterator

from asgiref.sync import SyncToAsync, sync_to_async
from django.db import close_old_connections, transaction

from cerebro import ui_messages
from cerebro.resumable import StreamWriter, stream_store
from cerebro.services.chat import ChatTurn, chat_turn_finish
from core.llm import LanguageModelError, StreamChunk, get_provider

logger = logging.getLogger(__name__)

# The app's answers being produced in this process (a reference keeps a task from being collected).
_producing: set[asyncio.Task] = set()


def _finish_outside_a_request(**fields) -> None:
    """``chat_turn_finish`` from a task that may outlive its request: database connections are
    checked before and released after, as Django does around a request (none runs here)."""
    in_transaction = transaction.get_connection().in_atomic_block  # a caller's (a test's)
    if not in_transaction:
        close_old_connections()
    try:
        chat_turn_finish(**fields)
    finally:
        if not in_transaction:
            close_old_connections()


async def answer_store(
    turn: ChatTurn,
    provider_name: str,
    text: str,
    final: StreamChunk | None,
    *,
    complete: bool,
    outside_a_request: bool = False,
):
    """Store the assistant's answer; a failure is logged, never raised into the stream."""
    usage = final.usage if final is not None else None
    try:
        await sync_to_async(_finish_outside_a_request if outside_a_request else chat_turn_finish)(
            chat_id=turn.chat_id,
            text=text,
            provider=provider_name,
            model=(final.model if final is not None and final.model else turn.model) or "",
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            usage_estimated=usage.estimated if usage else True,
            complete=complete,
            message_id=turn.assistant_message_id or None,
        )
    except Exception:
        logger.exception("could not store the assistant's answer", extra={"chat_id": turn.chat_id})


class _Frames:
    """Where the app's frames go: the asking request's queue, and the resumable store while it works."""

    def __init__(self, queue: asyncio.Queue, writer: StreamWriter | None) -> None:
        self.queue = queue
        self.writer = writer

    async def emit(self, frame: bytes) -> None:
        self.queue.put_nowait(frame)
        if self.writer is None:
            return
        try:
            await self.writer.append(frame)
        except Exception:
            logger.exception("the resumable stream store failed; this answer cannot be resumed")
            await self.close_store()

    async def close_store(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            try:
                await writer.close()
            except Exception:
                logger.exception("could not close a resumable stream")


async def _open_store(chat_id: str) -> StreamWriter | None:
    try:
        return await stream_store().open(chat_id=chat_id, stream_id=str(uuid.uuid4()))
    except Exception:
        logger.exception("the resumable stream store is unavailable; this answer cannot be resumed")
        return None


async def _produce(turn: ChatTurn, queue: asyncio.Queue) -> None:
    frames = _Frames(queue, await _open_store(turn.chat_id))
    provider = get_provider()
    part_id = uuid.uuid4().hex
    pieces: list[str] = []
    final: StreamChunk | None = None
    stored = False
    try:
        await frames.emit(ui_messages.start(turn.assistant_message_id))
        await frames.emit(ui_messages.start_step())
        failure: LanguageModelError | None = None
        try:
            async for chunk in provider.astream(turn.prompt, model=turn.model):
                if chunk.delta:
                    if not pieces:
                        await frames.emit(ui_messages.text_start(part_id))
                    pieces.append(chunk.delta)
                    await frames.emit(ui_messages.text_delta(part_id, chunk.delta))
                if chunk.is_final:
                    final = chunk
        except LanguageModelError as exc:
            failure = exc
        if pieces:
            await frames.emit(ui_messages.text_end(part_id))
        stored = True
        await answer_store(
            turn, provider.name, "".join(pieces), final, complete=failure is None, outside_a_request=True
        )
        if failure is not None:
            await frames.emit(ui_messages.error(failure.message))
        else:
            await frames.emit(ui_messages.finish_step())
            await frames.emit(ui_messages.finish())
        await frames.emit(ui_messages.DONE)
    except asyncio.CancelledError:
        # The process is stopping: keep what was said, marked incomplete.
        if not stored:
            await asyncio.shield(
                answer_store(turn, provider.name, "".join(pieces), final, complete=False, outside_a_request=True)
            )
        raise
    finally:
        queue.put_nowait(None)
        await frames.close_store()


async def ui_answer_stream(turn: ChatTurn) -> AsyncIterator[bytes]:
    """The app's UI message stream of ``turn``'s answer, for the request that asked for it."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    # The task outlives the request when its client goes away, so it must not keep using the
    # request's thread-sensitive context: asgiref would give that finished context a new thread of
    # its own (never shut down) for the task's database work. Without one, that work runs on the
    # process's thread for sync code outside requests (or, under a sync caller, on the caller's).
    context = contextvars.copy_context()
    context.run(SyncToAsync.thread_sensitive_context.set, None)
    task = asyncio.get_running_loop().create_task(_produce(turn, queue), context=context)
    _producing.add(task)
    task.add_done_callback(_producing.discard)
    while (frame := await queue.get()) is not None:
        yield frame


async def running_answer_stream(chat_id: str) -> AsyncIterator[bytes] | None:
    """The chat's running answer from its first frame, following it live; None when none runs."""
    store = stream_store()
    stream_id = await store.running(chat_id)
    return store.read(stream_id) if stream_id else None
