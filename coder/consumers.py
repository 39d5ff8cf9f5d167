from core.consumers import UserEventsConsumer


class CoderEventsConsumer(UserEventsConsumer):
    """``/coder/ws``: task and credit events of the signed-in user."""

    event_prefixes = ("task:", "credits:")
