"""A local fake Ethereum JSON-RPC node (behind respx): transactions, receipts and a block height."""

from __future__ import annotations

import json
import secrets

import httpx
import respx

RPC_URL = "http://eth-node.test/rpc"


class FakeChain:
    def __init__(self, block_number: int = 1000) -> None:
        self.block_number = block_number
        self.transactions: dict[str, dict] = {}
        self.receipts: dict[str, dict] = {}
        self.calls: list[str] = []

    def send(self, *, sender: str, to: str, value_wei: int, status: int = 1, mined: bool = True) -> str:
        tx_hash = "0x" + secrets.token_hex(32)
        self.transactions[tx_hash] = {
            "hash": tx_hash,
            "from": sender.lower(),
            "to": to.lower(),
            "value": hex(value_wei),
            "blockNumber": hex(self.block_number) if mined else None,
        }
        if mined:
            self.receipts[tx_hash] = {"transactionHash": tx_hash, "status": hex(status)}
        return tx_hash

    def mine(self, blocks: int) -> None:
        self.block_number += blocks

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        method, params = body["method"], body["params"]
        self.calls.append(method)
        if method == "eth_blockNumber":
            result = hex(self.block_number)
        elif method == "eth_getTransactionByHash":
            result = self.transactions.get(params[0].lower())
        elif method == "eth_getTransactionReceipt":
            result = self.receipts.get(params[0].lower())
        else:
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32601}})
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": result})

    def install(self, router: respx.Router) -> None:
        router.post(RPC_URL).mock(side_effect=self.handle)
