"""What a buyer reads, through the real app: Chinese by default and English on request, money in yuan, regions by
the catalogue's name, phones in one form however typed, short Chinese addresses, and refusals in plain words (the
order API's problem details too), before the opening as after the end."""

import re
from typing import Any
from uuid import uuid4

import httpx

from tests.integration.test_flash_sale import KeyClient, on_sale
from tests.integration.test_match_runs import finished_run
from tests.support.sales import order, planned_sale
from tests.support.waiting import eventually

ENGLISH = {"accept-language": "en"}


async def named_region(operator: httpx.AsyncClient, name: str) -> str:
    code = f"r{uuid4().hex[:8]}"
    assert (await operator.put(f"/api/v1/regions/{code}", json={"name": name})).status_code == 200
    return code


async def test_a_phone_typed_two_ways_is_one_buyer_and_a_short_chinese_address_is_taken(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key, per_buyer_limit=2)
    spaced = await order(anonymous, setup.id, phone="+86 139 0000 0010", address="3栋2单元")
    assert spaced.status_code == 201, spaced.text
    bare = await order(anonymous, setup.id, phone="13900000010", address="海曙区")
    assert bare.status_code == 201, bare.text
    over = await order(anonymous, setup.id, phone="139-0000-0010")
    assert over.status_code == 409 and over.json()["type"].endswith("/buyer-limit-reached"), over.text
    orders = (await setup.leader.get(f"/api/v1/packages/{setup.id}/orders")).json()
    assert {o["phone"] for o in orders} == {"+8613900000010"}
    assert sorted(o["address"] for o in orders) == ["3栋2单元", "海曙区"]


async def test_the_order_apis_refusals_are_in_the_buyers_language(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key, quantities={"ningbo": 1, "shanghai": 1}, per_buyer_limit=1)
    chinese = (await order(anonymous, setup.id, phone="12")).json()
    assert (chinese["status"], chinese["title"]) == (400, "请检查您填写的内容")
    assert "手机号：请填写手机号码" in chinese["detail"]
    assert chinese["errors"][0]["field"] == "phone" and "手机号" in chinese["errors"][0]["message"]
    english = (
        await anonymous.post(
            f"/api/v1/sales/{setup.id}/orders",
            json={"quantity": 1, "region": "ningbo", "name": "Li", "phone": "12", "address": "Road 8"},
            headers={"Idempotency-Key": uuid4().hex} | ENGLISH,
        )
    ).json()
    assert english["title"] == "Please check what you entered" and "Phone: enter a phone number" in english["detail"]

    assert (await order(anonymous, setup.id, quantity=1)).status_code == 201
    sold_out = (await order(anonymous, setup.id, quantity=1)).json()
    assert (sold_out["title"], sold_out["left"]) == ("卖完了", 0)
    assert "只剩 0 件" in sold_out["detail"]


async def test_the_sale_page_in_chinese_takes_an_early_form_back_with_what_was_typed(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    region = await named_region(operator, "宁波海曙")
    setup = await planned_sale(
        operator, as_key, finished_run, opens_in_seconds=3600, quantities={region: 5}, per_buyer_limit=3
    )
    page = await anonymous.get(f"/sale/{setup.id}")
    assert page.status_code == 200
    html = page.text
    assert 'lang="zh-CN"' in html and "距开抢还有" in html and "宁波海曙" in html
    assert re.search(r"¥\d+\.\d\d", html), html
    assert 'name="idempotency_key"' in html  # the form is there before the opening
    assert "Opens in" not in html and "Delivery region" not in html
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert key

    form = {"quantity": "2", "region": region, "name": "王芳", "phone": "13900000011", "address": "3栋"}
    early = await anonymous.post(f"/sale/{setup.id}", data=form | {"idempotency_key": key.group(1)})
    assert early.status_code == 409
    assert "还没开始" in early.text and 'value="王芳"' in early.text and ">3栋</textarea>" in early.text

    bad = await anonymous.post(f"/sale/{setup.id}", data=form | {"phone": "12", "address": "x"})
    assert bad.status_code == 400
    assert "手机号：请填写手机号码" in bad.text and "收货地址" in bad.text
    assert "String should have" not in bad.text and "Value error" not in bad.text

    english = await anonymous.get(f"/sale/{setup.id}", headers=ENGLISH)
    assert 'lang="en"' in english.text and "Opens in" in english.text and "宁波海曙" in english.text


async def test_a_cancelled_sale_says_so_in_buyer_words(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key)
    cancelled = await setup.leader.post(f"/api/v1/packages/{setup.id}/cancel", json={"reason": "供应商停产"})
    assert cancelled.status_code == 200, cancelled.text

    async def ended() -> dict[str, Any] | None:
        sale = (await anonymous.get(f"/api/v1/sales/{setup.id}")).json()
        return sale if sale["ending"] == "cancelled" else None

    await eventually(ended)
    page = (await anonymous.get(f"/sale/{setup.id}")).text
    assert "团长取消了这次团购" in page and "全额退款" in page
    assert 'name="idempotency_key"' not in page  # nothing to order any more
