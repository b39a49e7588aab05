"""Bodies mean what they say: a boolean is true or false, and the live stock is documented as the stream it is."""

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from tests.support.catalogue import create_supplier
from tests.support.matching import register_community


@pytest.mark.parametrize("not_a_boolean", [0, 1, "false", "yes", None])
async def test_key_rotation_takes_only_a_json_boolean(operator: httpx.AsyncClient, not_a_boolean: Any):
    supplier = (await create_supplier(operator))["supplier"]
    community, _ = await register_community(operator)
    for path in (f"/api/v1/suppliers/{supplier['id']}/api-keys", f"/api/v1/communities/{community['id']}/leader-keys"):
        response = await operator.post(path, json={"revoke_existing": not_a_boolean})
        assert response.status_code == 400, (path, response.text)
        assert [error["field"] for error in response.json()["errors"]] == ["revoke_existing"]
        assert (await operator.post(path, json={"revoke_existing": False})).status_code == 201


async def test_the_stock_stream_is_documented_as_server_sent_events(anonymous: httpx.AsyncClient):
    document = (await anonymous.get("/docs/openapi.json")).json()
    answer = document["paths"]["/api/v1/sales/{package_id}/stock/events"]["get"]["responses"]["200"]
    assert list(answer["content"]) == ["text/event-stream"]


def test_a_batchs_quality_check_takes_only_a_json_boolean():
    from flexsupply.fulfilment.schemas import BatchCreate

    body = {"quantity": 10, "lot_number": "L-1"}
    assert BatchCreate.model_validate(body | {"quality_passed": False}, strict=False).quality_passed is False
    with pytest.raises(ValidationError, match="quality_passed"):
        BatchCreate.model_validate(body | {"quality_passed": 0}, strict=False)  # as litestar validates bodies
