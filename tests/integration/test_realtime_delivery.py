"""An event published by a real Celery worker reaches the user's socket on a live ASGI server.

Worker, server and test talk only through PostgreSQL and Redis (broker and channel layer), as the
processes of the full stack do.
"""

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.factories import UserFactory
from tests.integration.conftest import assert_receives_nothing, receive_event
from tests.integration.tasks import publish_user_events_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def stranger():
    return UserFactory()


def publish_from_worker(worker, *events: tuple) -> None:
    publish_user_events_task.apply_async(
        args=[[[str(user_id), event, data] for user_id, event, data in events]], queue=worker.queue
    )


def test_event_published_by_a_worker_reaches_only_its_users_socket(celery_worker, open_user_socket, owner, stranger):
    # Given the owner and a stranger, each connected to the live server's coder socket
    owner_socket = open_user_socket(owner)
    stranger_socket = open_user_socket(stranger)
    status = {"taskId": "0b7c3a8e-3f1c-4a51-9d38-0c4f2d1e6a10", "status": "running", "progress": 45}

    # When a task on the worker publishes an event to the owner, then a marker to the stranger
    publish_from_worker(
        celery_worker,
        (owner.pk, "task:status_updated", status),
        (stranger.pk, "task:status_updated", {"marker": "for the stranger"}),
    )

    # Then the owner's socket gets exactly the event
    assert receive_event(owner_socket) == {"event": "task:status_updated", "data": status}
    # And the stranger's next message is its own marker: the owner's event, sent first, never came
    assert receive_event(stranger_socket) == {"event": "task:status_updated", "data": {"marker": "for the stranger"}}
    assert_receives_nothing(stranger_socket)
    assert_receives_nothing(owner_socket)


def test_every_socket_of_the_user_gets_the_event(celery_worker, open_user_socket, owner):
    # Given the owner signed in twice (two tabs)
    first_tab, second_tab = open_user_socket(owner), open_user_socket(owner)

    # When the worker publishes one event
    publish_from_worker(
        celery_worker, (owner.pk, "credits:updated", {"userId": str(owner.pk), "credits": 77, "change": -23})
    )

    # Then both tabs get it
    expected = {"event": "credits:updated", "data": {"userId": str(owner.pk), "credits": 77, "change": -23}}
    assert receive_event(first_tab) == expected
    assert receive_event(second_tab) == expected


def test_each_socket_relays_only_its_apis_events(celery_worker, open_user_socket, owner):
    # Given the owner connected to both the coder and the marketplace sockets
    coder_socket = open_user_socket(owner, path="/coder/ws")
    marketplace_socket = open_user_socket(owner, path="/marketplace/ws", product="marketplace")

    # When the worker publishes a marketplace event, then a coder event
    publish_from_worker(
        celery_worker,
        (owner.pk, "generation.progress", {"jobId": "job-1", "progress": 10, "status": "running"}),
        (owner.pk, "task:completed", {"taskId": "task-1", "status": "completed"}),
    )

    # Then the coder socket's next message is the coder event (the marketplace one was not relayed)
    assert receive_event(coder_socket) == {
        "event": "task:completed",
        "data": {"taskId": "task-1", "status": "completed"},
    }
    # And the marketplace socket got only the marketplace event
    assert receive_event(marketplace_socket) == {
        "event": "generation.progress",
        "data": {"jobId": "job-1", "progress": 10, "status": "running"},
    }
    assert_receives_nothing(marketplace_socket)


def test_socket_without_valid_token_is_closed_with_4401(asgi_server):
    # Given a client with a token that is not a JWT
    url = f"{asgi_server.ws_url}/coder/ws?token=not-a-jwt"
    # When it connects and waits for a message, then the server closes the socket with 4401
    with connect(url, open_timeout=10, close_timeout=2) as socket_, pytest.raises(ConnectionClosed) as closed:
        socket_.recv(timeout=10)
    assert closed.value.rcvd.code == 4401
