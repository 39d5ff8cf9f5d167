"""The outside HTTP services the marketplace calls, one client each, at configurable base URLs.

- ``ethereum``: an Ethereum node's JSON-RPC API (``ETH_RPC_URL``), to check crypto payments;
- ``stripe``: Stripe's REST API (``STRIPE_API_URL``), to check card payments;
- ``ipfs``: a Kubo node's RPC API (``IPFS_API_URL``), to pin dataset files.

They speak HTTP and nothing else: what an answer means for a purchase or a file is decided by the
services (``services/payment_checks.py``, ``services/pinning.py``). Tests point them at local
HTTP fakes (tests/marketplace/fake_chain.py, fake_kubo.py).
"""
