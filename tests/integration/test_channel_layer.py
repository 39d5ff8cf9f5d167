"""The channel layer on Redis lets go when a receive is cancelled.

Each WebSocket's consumer waits in ``receive()`` on the process's one layer, and a closed socket's
consumer is cancelled. A cancellation the Redis client swallowed (redis-py sent commands through
``asyncio.wait_for`` when a socket timeout was set, which on Python 3.11 drops a cancellation that
lands as the send completes) left that receive running for ever, holding the layer's receive
lock: under sockets opening and closing, a uvicorn process's /health (which round-trips a message
through the layer) stopped answering for good. settings.REDIS_ASYNCIO_OPTIONS is the fix.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time

import httpx
import pytest
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from websockets.sync.client import connect

CANCELLED_WITHIN_SECONDS = 2.0


async def _receive_then_cancel(layer) -> str:
    """Start a receive on a new channel, cancel it a few milliseconds later: how it ended."""
    channel = await layer.new_channel()
    receive = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(random.uniform(0, 0.02))  # spread the cancel over the send
    receive.cancel()
    done, _ = await asyncio.wait([receive], timeout=CANCELLED_WITHIN_SECONDS)
    if not done:
        return "still receiving"
    return "cancelled" if receive.cancelled() else f"ended otherwise: {receive.exception() or receive.result()!r}"


async def _roundtrip(layer) -> dict:
    channel = await layer.new_channel("check.")
    await layer.send(channel, {"type": "check.ping"})
    async with asyncio.timeout(CANCELLED_WITHIN_SECONDS):
        return await layer.receive(channel)


@pytest.mark.redis
def test_a_cancelled_receive_stops_and_the_layer_keeps_delivering():
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)

    async def scenario() -> tuple[list[str], dict]:
        outcomes = []
        for _ in range(40):
            outcomes += await asyncio.gather(*(_receive_then_cancel(layer) for _ in range(4)))
        return outcomes, await _roundtrip(layer)

    outcomes, message = asyncio.run(scenario())

    assert set(outcomes) == {"cancelled"}, [o for o in outcomes if o != "cancelled"]
    assert message == {"type": "check.ping"}


@pytest.mark.integration
def test_health_keeps_answering_while_sockets_open_and_close(asgi_server):
    stop = threading.Event()

    def open_and_close_sockets() -> None:
        # an unauthenticated socket: accepted, then closed by the server (4401), its consumer cancelled
        while not stop.is_set():
            try:
                with connect(f"{asgi_server.ws_url}/coder/ws", origin=asgi_server.http_url, open_timeout=5) as socket:
                    socket.recv(timeout=1)
            except Exception:  # closed by the server is the point
                pass

    churners = [threading.Thread(target=open_and_close_sockets, daemon=True) for _ in range(4)]
    for churner in churners:
        churner.start()
    answers = []
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                answers.append(httpx.get(f"{asgi_server.http_url}/health", timeout=8).status_code)
            except httpx.TimeoutException:
                answers.append("no answer within 8 s")
                break
    finally:
        stop.set()
        for churner in churners:
            churner.join(timeout=10)

    assert answers and set(answers) == {200}, answers
