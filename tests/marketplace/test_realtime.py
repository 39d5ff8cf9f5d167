"""``/marketplace/ws``: each event the marketplace publishes reaches the user concerned and no one else."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from accounts import services as account_services
from config.asgi import application
from marketplace.services import generation, purchases
from marketplace.services.downloads import model_download_grant
from tests.marketplace.factories import (
    DatasetFactory,
    GenerationJobFactory,
    PurchaseFactory,
    TrainedModelFactory,
    WalletProfileFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def in_memory_channel_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def token_for(user) -> str:
    return account_services.auth_session_start(user=user, product="marketplace").tokens.access


async def connect(user) -> WebsocketCommunicator:
    token = await database_sync_to_async(token_for)(user)
    communicator = WebsocketCommunicator(
        application, f"/marketplace/ws?token={token}", headers=[(b"origin", b"http://localhost")]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    hello = json.loads((await communicator.receive_output(timeout=5))["text"])
    assert hello["event"] == "connected"
    return communicator


async def events(communicator: WebsocketCommunicator) -> list[dict]:
    received = []
    while not await communicator.receive_nothing(timeout=0.3):
        received.append(await communicator.receive_json_from(timeout=5))
    return received


def run(scenario):
    return async_to_sync(scenario)()


def test_dataset_purchased_reaches_only_the_creator():
    creator, buyer, bystander = (WalletProfileFactory().user for _ in range(3))
    dataset = DatasetFactory(creator=creator, price=Decimal(1))
    purchase = PurchaseFactory(dataset=dataset, buyer=buyer, status="pending")

    def complete():
        with transaction.atomic():
            purchases._complete(purchase)

    async def scenario():
        sockets = [await connect(user) for user in (creator, buyer, bystander)]
        await database_sync_to_async(complete)()
        heard = [await events(socket) for socket in sockets]
        for socket in sockets:
            await socket.disconnect()
        return heard

    creator_heard, buyer_heard, bystander_heard = run(scenario)
    assert creator_heard == [
        {"event": "dataset.purchased", "data": {"datasetId": str(dataset.id), "purchaserId": str(buyer.id)}}
    ]
    assert buyer_heard == [] and bystander_heard == []


def test_generation_and_training_progress_reach_only_the_owner():
    owner, other = WalletProfileFactory().user, WalletProfileFactory().user
    job = GenerationJobFactory(dataset__creator=owner)

    async def scenario():
        sockets = [await connect(owner), await connect(other)]
        await database_sync_to_async(generation.generation_job_start)(job_id=job.id)
        await database_sync_to_async(generation.generation_job_progress)(job_id=job.id, progress=55)
        heard = [await events(socket) for socket in sockets]
        for socket in sockets:
            await socket.disconnect()
        return heard

    owner_heard, other_heard = run(scenario)
    assert [e["event"] for e in owner_heard] == ["generation.progress", "generation.progress"]
    assert owner_heard[-1]["data"] == {
        "jobId": str(job.id),
        "datasetId": str(job.dataset_id),
        "progress": 55,
        "status": "running",
    }
    assert other_heard == []


def test_model_downloaded_reaches_only_the_trainer():
    trainer, downloader = WalletProfileFactory().user, WalletProfileFactory().user
    from core import storage

    model = TrainedModelFactory(trained_by=trainer, filecoin_cid=storage.save_bytes(b"w").cid)

    async def scenario():
        sockets = [await connect(trainer), await connect(downloader)]
        await database_sync_to_async(model_download_grant)(user=downloader, model=model)
        heard = [await events(socket) for socket in sockets]
        for socket in sockets:
            await socket.disconnect()
        return heard

    trainer_heard, downloader_heard = run(scenario)
    assert trainer_heard == [
        {"event": "model.downloaded", "data": {"modelId": str(model.id), "downloaderId": str(downloader.id)}}
    ]
    assert downloader_heard == []
