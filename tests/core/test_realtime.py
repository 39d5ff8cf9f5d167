"""core.realtime.publish with the in-memory channel layer and the API sockets of config/asgi.py.

The full-stack path (a Celery worker publishing through Redis to a live server) is covered by
tests/integration/test_realtime_delivery.py.
"""

from __future__ import annotations

import logging

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from accounts import services as account_services
from config.asgi import application
from core import realtime

# Channels' database_sync_to_async closes the connection around each call, which a test wrapped in
# a transaction would not survive; committing for real is also what the on-commit tests need.
pytestmark = pytest.mark.django_db(transaction=True)

STATUS = {"taskId": "0b7c3a8e-3f1c-4a51-9d38-0c4f2d1e6a10", "status": "running", "progress": 45}


@pytest.fixture(autouse=True)
def in_memory_channel_layer(settings):
    """A fresh in-memory layer for each test (channels rebuilds it when the setting changes)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


async def open_socket(user, path: str = "/coder/ws") -> WebsocketCommunicator:
    """A socket signed in as ``user``, past its ``connected`` hello (so it is in the user's group)."""
    product = path.strip("/").split("/")[0]
    issued = await sync_to_async(account_services.auth_session_start)(user=user, product=product)
    communicator = WebsocketCommunicator(application, f"{path}?token={issued.tokens.access}")
    accepted, _ = await communicator.connect(timeout=5)
    assert accepted
    hello = await communicator.receive_json_from(timeout=5)
    assert hello == {"event": "connected", "data": {"userId": str(user.pk)}}
    return communicator


async def publish(user_id, event: str, data) -> None:
    """``realtime.publish`` called as services call it: from synchronous code."""
    await sync_to_async(realtime.publish)(user_id, event, data)


def test_publish_reaches_every_socket_of_the_user_and_no_one_else(user, other_user):
    async def scenario():
        # Given the user on two sockets and another user on one
        first_tab, second_tab = await open_socket(user), await open_socket(user)
        stranger = await open_socket(other_user)

        # When an event is published to the user
        await publish(user.pk, "task:status_updated", STATUS)

        # Then each of the user's sockets gets exactly {"event", "data"}, the stranger nothing
        expected = {"event": "task:status_updated", "data": STATUS}
        assert await first_tab.receive_json_from(timeout=2) == expected
        assert await second_tab.receive_json_from(timeout=2) == expected
        assert await stranger.receive_nothing(timeout=0.3)
        for socket_ in (first_tab, second_tab, stranger):
            await socket_.disconnect()

    async_to_sync(scenario)()


def test_publish_inside_a_transaction_is_delivered_only_after_commit(user):
    async def scenario():
        # Given the user's socket and an open transaction
        socket_ = await open_socket(user)
        atomic = transaction.atomic()
        await sync_to_async(atomic.__enter__)()

        # When a service publishes inside it, nothing goes out yet
        await publish(user.pk, "task:status_updated", STATUS)
        assert await socket_.receive_nothing(timeout=0.3)

        # Then the commit sends it
        await sync_to_async(atomic.__exit__)(None, None, None)
        assert await socket_.receive_json_from(timeout=2) == {"event": "task:status_updated", "data": STATUS}
        await socket_.disconnect()

    async_to_sync(scenario)()


def test_publish_inside_a_rolled_back_transaction_is_never_delivered(user):
    def publish_then_roll_back():
        with transaction.atomic():
            realtime.publish(user.pk, "task:status_updated", STATUS)
            transaction.set_rollback(True)

    async def scenario():
        # Given the user's socket
        socket_ = await open_socket(user)

        # When a service publishes inside a transaction that rolls back
        await sync_to_async(publish_then_roll_back)()

        # Then the socket hears nothing, and the next committed event comes through alone
        assert await socket_.receive_nothing(timeout=0.3)
        await publish(user.pk, "task:completed", {"taskId": "t-1"})
        assert await socket_.receive_json_from(timeout=2) == {"event": "task:completed", "data": {"taskId": "t-1"}}
        await socket_.disconnect()

    async_to_sync(scenario)()


def test_each_api_socket_relays_only_its_own_events(user):
    async def scenario():
        # Given the user on the coder and the marketplace sockets
        coder = await open_socket(user, "/coder/ws")
        marketplace = await open_socket(user, "/marketplace/ws")

        # When a marketplace event, then a coder event are published to the user
        await publish(user.pk, "generation.progress", {"jobId": "j-1", "progress": 10, "status": "running"})
        await publish(user.pk, "credits:updated", {"userId": str(user.pk), "credits": 77, "change": -23})

        # Then the coder socket's first message is the coder event; the marketplace one never came
        assert await coder.receive_json_from(timeout=2) == {
            "event": "credits:updated",
            "data": {"userId": str(user.pk), "credits": 77, "change": -23},
        }
        assert await coder.receive_nothing(timeout=0.3)
        # And the marketplace socket got only its own
        assert await marketplace.receive_json_from(timeout=2) == {
            "event": "generation.progress",
            "data": {"jobId": "j-1", "progress": 10, "status": "running"},
        }
        assert await marketplace.receive_nothing(timeout=0.3)
        for socket_ in (coder, marketplace):
            await socket_.disconnect()

    async_to_sync(scenario)()


def test_apublish_from_async_code_reaches_the_user(user):
    async def scenario():
        socket_ = await open_socket(user)
        await realtime.apublish(user.pk, "task:completed", {"taskId": "t-2"})
        assert await socket_.receive_json_from(timeout=2) == {"event": "task:completed", "data": {"taskId": "t-2"}}
        await socket_.disconnect()

    async_to_sync(scenario)()


def test_socket_answers_ping_with_pong(user):
    async def scenario():
        socket_ = await open_socket(user)
        await socket_.send_json_to({"type": "ping"})
        assert await socket_.receive_json_from(timeout=2) == {"event": "pong", "data": {}}
        await socket_.disconnect()

    async_to_sync(scenario)()


def test_disconnected_socket_leaves_the_users_group(user):
    async def scenario():
        # Given a socket that connected and then went away
        socket_ = await open_socket(user)
        await socket_.disconnect()

        # Then the user's group is empty again
        layer = realtime.get_channel_layer()
        assert not layer.groups.get(realtime.user_group(user.pk))

    async_to_sync(scenario)()


def test_a_failing_channel_layer_never_fails_the_write(user, monkeypatch, caplog):
    # Given a channel layer that is down
    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("channel layer unreachable")

    monkeypatch.setattr(realtime, "get_channel_layer", lambda: BrokenLayer())

    # When a service publishes and commits
    with caplog.at_level(logging.WARNING, logger="core.realtime"), transaction.atomic():
        realtime.publish(user.pk, "task:status_updated", STATUS)

    # Then the write went through and the lost event is logged
    assert "realtime publish failed" in caplog.text


def test_a_networked_layer_is_sent_to_from_one_lasting_event_loop_of_the_process(user, monkeypatch):
    # Given a channel layer that is not the in-memory one (Redis), recording where it is called
    import asyncio

    loops = []

    class NetworkedLayer:
        async def group_send(self, group, message):
            loops.append(asyncio.get_running_loop())

    monkeypatch.setattr(realtime, "get_channel_layer", lambda: NetworkedLayer())

    # When synchronous code publishes twice
    realtime.publish_now(user.pk, "task:status_updated", STATUS)
    realtime.publish_now(user.pk, "task:status_updated", STATUS)

    # Then both sends ran on the same loop, still running (its connections kept), not one loop each
    assert len(loops) == 2
    assert loops[0] is loops[1]
    assert loops[0].is_running()


def test_a_channel_layer_that_hangs_gives_the_event_up_after_the_timeout(user, monkeypatch, caplog):
    # Given a networked layer that never answers, and a short publish timeout
    import asyncio

    class HangingLayer:
        async def group_send(self, group, message):
            await asyncio.sleep(60)

    monkeypatch.setattr(realtime, "get_channel_layer", lambda: HangingLayer())
    monkeypatch.setattr(realtime, "PUBLISH_TIMEOUT", 0.2)

    # When synchronous code publishes
    with caplog.at_level(logging.WARNING, logger="core.realtime"):
        realtime.publish_now(user.pk, "task:status_updated", STATUS)

    # Then the writer is let go and the lost event is logged
    assert "realtime publish failed" in caplog.text
