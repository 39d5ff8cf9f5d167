"""Cerebro state for tests. Memories go through the service, which derives their search text,
embedding, token count and expiry; chats and messages are plain rows."""

from __future__ import annotations

import factory

from cerebro.models import Chat, ChatMessage, Layer, Memory
from cerebro.services.memory import memory_upsert
from tests.factories import UserFactory


class ChatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chat

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"chat {n}")


class ChatMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatMessage

    chat = factory.SubFactory(ChatFactory)
    role = ChatMessage.Role.USER
    content = "Hello"


class MemoryFactory(factory.django.DjangoModelFactory):
    """A memory as ``/api/memory/upsert`` would store it (``memory_upsert``)."""

    class Meta:
        model = Memory

    user = factory.SubFactory(UserFactory)
    key = factory.Sequence(lambda n: f"fact-{n}")
    content = factory.Dict({"text": "a fact worth keeping"})
    layer = Layer.TEMPORARY
    confidence = 0.5  # the upsert endpoint's default, as layer is
    tags = factory.List([])

    @classmethod
    def _create(cls, model_class, *, user, key, content, layer, confidence, tags, **options):
        return memory_upsert(
            user=user, key=key, content=content, layer=layer, confidence=confidence, tags=tags, **options
        ).memory
