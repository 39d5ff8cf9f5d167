"""The WebSocket consumer each API's socket path uses: authenticate, subscribe, relay."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.realtime import session_group, user_group

UNAUTHORIZED_CLOSE_CODE = 4401


class UserEventsConsumer(AsyncJsonWebsocketConsumer):
    """Relays the signed-in user's events whose names start with one of ``event_prefixes``.

    A connection without a valid token is accepted and closed with 4401 so browsers can tell an
    authentication failure from a network error. Clients may send ``{"type": "ping"}``.
    """

    event_prefixes: tuple[str, ...] = ()

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=UNAUTHORIZED_CLOSE_CODE)
            return
        self.group_name = user_group(user.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        if self.scope.get("session_id"):
            self.session_group_name = session_group(self.scope["session_id"])
            await self.channel_layer.group_add(self.session_group_name, self.channel_name)
        await self.accept()
        await self.send_json({"event": "connected", "data": {"userId": str(user.pk)}})

    async def disconnect(self, code: int) -> None:
        for group in (getattr(self, "group_name", None), getattr(self, "session_group_name", None)):
            if group:
                await self.channel_layer.group_discard(group, self.channel_name)

    async def session_ended(self, message: dict) -> None:
        """The session this socket signed in with was revoked (log-out, refresh-token reuse)."""
        await self.close(code=UNAUTHORIZED_CLOSE_CODE)

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"event": "pong", "data": {}})

    async def realtime_event(self, message: dict) -> None:
        event = message["event"]
        if not self.event_prefixes or event.startswith(self.event_prefixes):
            await self.send_json({"event": event, "data": message["data"]})
