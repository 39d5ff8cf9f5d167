"""An Ethereum node's JSON-RPC API over httpx (``ETH_RPC_URL``): the three calls a purchase needs."""

from __future__ import annotations

import itertools

import httpx

from marketplace import conf
from marketplace.errors import PAYMENT_PROVIDER_UNAVAILABLE

_request_ids = itertools.count(1)


class EthereumRpc:
    """The three JSON-RPC calls a purchase needs, over HTTP.

    Every failure to get a result (no node configured, unreachable, not JSON, a JSON-RPC error) is
    ``PAYMENT_PROVIDER_UNAVAILABLE``: the caller treats it as "not known yet".
    """

    def __init__(self, url: str | None = None, timeout: float | None = None) -> None:
        self.url = url if url is not None else conf.ETH_RPC_URL
        self.timeout = timeout if timeout is not None else conf.ETH_RPC_TIMEOUT_SECONDS

    def call(self, method: str, params: list):
        if not self.url:
            raise PAYMENT_PROVIDER_UNAVAILABLE("No Ethereum node is configured (ETH_RPC_URL)")
        body = {"jsonrpc": "2.0", "id": next(_request_ids), "method": method, "params": params}
        try:
            response = httpx.post(self.url, json=body, timeout=self.timeout)
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError):
            raise PAYMENT_PROVIDER_UNAVAILABLE("The Ethereum node could not be reached")
        if not isinstance(answer, dict) or answer.get("error"):
            raise PAYMENT_PROVIDER_UNAVAILABLE("The Ethereum node answered with an error")
        return answer.get("result")

    def transaction(self, tx_hash: str) -> dict | None:
        return self.call("eth_getTransactionByHash", [tx_hash])

    def receipt(self, tx_hash: str) -> dict | None:
        return self.call("eth_getTransactionReceipt", [tx_hash])

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)
