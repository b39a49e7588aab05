"""A buyer's evening through `flexsupply up` as a process: its whole log afterwards holds none of the buyers'
tokens, phones or addresses, and none of the keys. uvicorn's access log would write every token-bearing path."""

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import httpx

from tests.integration.test_match_runs import finished_run
from tests.support.catalogue import create_supplier
from tests.support.matching import create_package, register_community
from tests.support.sales import order, planned_sale
from tests.support.stack import Stack, embedded_stack

PHONES = ("13912345678", "13787654321", "13655512345")
ADDRESS = "No. 77 Jiefang North Road, Jiangbei District, Ningbo"


async def buyers_evening(stack: Stack) -> set[str]:
    """Orders, the order and delivery pages, a case reported, a sign-up: returns every secret it handled."""
    secrets = {stack.token, *PHONES, ADDRESS}
    async with AsyncExitStack() as clients:
        operator = await clients.enter_async_context(stack.client())

        def as_key(key: str) -> httpx.AsyncClient:
            secrets.add(key)
            client = stack.client(key)
            clients.push_async_callback(client.aclose)
            return client

        secrets.add((await create_supplier(operator))["api_key"]["api_key"])
        sale = await planned_sale(operator, as_key, finished_run, opens_in_seconds=0, per_buyer_limit=3)
        buyer = await clients.enter_async_context(stack.client(""))

        placed = await order(buyer, sale.id, phone=PHONES[0], address=ADDRESS)
        assert placed.status_code == 201, placed.text
        token = placed.json()["token"]
        form = {"quantity": "1", "region": "ningbo", "name": "Chen", "phone": PHONES[1], "address": ADDRESS}
        from_page = await buyer.post(f"/sale/{sale.id}", data=form)
        assert from_page.status_code == 303, from_page.text
        page_token = from_page.headers["location"].rsplit("/", 1)[1]
        secrets |= {token, page_token}
        for path in (f"/order/{token}", f"/api/v1/orders/{token}", f"/order/{page_token}", f"/delivery/{token}"):
            assert (await buyer.get(path)).status_code in {200, 404}
        await buyer.get(f"/api/v1/buyer-orders/{token}?token={token}")
        await buyer.post(f"/delivery/{token}/cases", data={"kind": "late", "description": f"call {PHONES[0]}"})
        await buyer.post(f"/order/{page_token}/cancel")

        _, leader_key = await register_community(operator)
        leader = as_key(leader_key)
        package = await create_package(leader)
        signup = await leader.post(f"/api/v1/packages/{package['id']}/signup", json={"per_person_max": 3})
        assert signup.status_code == 201, signup.text
        signup_token = signup.json()["token"]
        secrets.add(signup_token)
        assert (await buyer.get(f"/api/v1/signups/{signup_token}")).status_code == 200
        entry = {"name": "Wang", "phone": PHONES[2], "region": "ningbo", "quantity": 2}
        assert (await buyer.post(f"/api/v1/signups/{signup_token}/entries", json=entry)).status_code == 201
        await buyer.get(f"/signup/{signup_token}")  # a page, where one is served
    return secrets


def test_a_buyers_evening_leaves_no_token_phone_address_or_key_in_the_logs(tmp_path: Path):
    with embedded_stack(tmp_path) as stack:
        secrets = asyncio.run(buyers_evening(stack))
    logs = "\n".join(path.read_text(errors="replace") for path in sorted(tmp_path.glob("*.log")))

    assert '"GET /order/[redacted] HTTP/1.1" 200' in logs  # the access log was written, with the path redacted
    found = sorted(secret for secret in secrets if secret in logs)
    assert not found, f"in the logs: {found}"
