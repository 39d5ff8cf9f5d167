from core.consumers import UserEventsConsumer


class MarketplaceEventsConsumer(UserEventsConsumer):
    """``/marketplace/ws?token=<jwt>``: generation, training, purchase and download events."""

    event_prefixes = ("generation.", "training.", "dataset.", "model.")
