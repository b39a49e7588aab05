"""Communities, demand packages, the group's sign-up and sourcing rounds through the matching API, on a real database
and broker."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlmodel import col, select

from flexsupply.kit.auth import LEADER_KEY_PREFIX, hash_secret, parse_api_key
from flexsupply.kit.db import Database
from tests.support.catalogue import create_supplier
from tests.support.matching import create_package, package_body, register_community, round_body, start_round
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]
SOME_ID = "00000000-0000-0000-0000-000000000001"


def _at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def leader_of_new_community(operator: httpx.AsyncClient, as_key: KeyClient) -> tuple[dict[str, Any], Any]:
    community, key = await register_community(operator)
    return community, as_key(key)


async def outbox_rows(database_urls: dict[str, str], round_id: str) -> list[Any]:
    from flexsupply.matching.models import OutboxMessage

    database = Database(database_urls["matching"], pooled=False)
    try:
        async with database.transaction() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.created_at)))).all()
    finally:
        await database.dispose()
    return [row for row in rows if row.payload.get("round_id") == round_id]


# --- the whole path -------------------------------------------------------------------------------------------


async def test_a_new_leader_goes_from_the_groups_sign_up_to_a_sourcing_round(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    community, key = await register_community(operator, name="Home bakers of Ningbo")
    assert key.startswith("flk_")
    leader = as_key(key)
    me = (await leader.get("/api/v1/leader/me")).json()
    assert me["community_name"] == "Home bakers of Ningbo" and me["leader"]["id"] == community["leader"]["id"]

    # A draft with the regions the group lives in; how many comes from the sign-up.
    draft = await create_package(leader, quantities={"ningbo": 0, "shanghai": 0})
    assert draft["community_id"] == community["id"]
    assert (draft["status"], draft["next_steps"]) == ("draft", ["request_quotes", "cancel"])

    opened = await leader.post(f"/api/v1/packages/{draft['id']}/signup", json={"per_person_max": 4})
    assert opened.status_code == 201, opened.text
    link = f"/api/v1/signups/{opened.json()['token']}"

    invitation = (await anonymous.get(link)).json()
    assert invitation == {
        "title": "Sourdough gift box",
        "spec": "Two 500 g loaves, boxed",
        "display_name": None,
        "description": "",
        "photo_url": None,
        "regions": ["ningbo", "shanghai"],
        "per_person_max": 4,
        "closes_at": None,
        "open": True,
        "sale_opens_at": invitation["sale_opens_at"],
        "sale_closes_at": invitation["sale_closes_at"],
        "notices": [],
    }
    for moment in ("sale_opens_at", "sale_closes_at"):
        assert datetime.fromisoformat(invitation[moment]) == datetime.fromisoformat(draft[moment])
    members = [("Wang Fang", "138 0013 8000", "ningbo", 2), ("Li Na", "13900139000", "shanghai", 4)]
    for name, phone, region, quantity in members:
        answer = await anonymous.post(
            f"{link}/entries", json={"name": name, "phone": phone, "region": region, "quantity": quantity}
        )
        assert answer.status_code == 201, answer.text
    # Wang Fang changes her mind, writing her number another way: her entry is replaced, not doubled.
    again = await anonymous.post(
        f"{link}/entries", json={"name": "Wang Fang", "phone": "+86 138-0013-8000", "region": "ningbo", "quantity": 3}
    )
    assert again.status_code == 200 and again.json()["phone"] == "+8613800138000"

    signup = (await leader.get(f"/api/v1/packages/{draft['id']}/signup")).json()
    assert (signup["totals"], signup["total_units"], signup["open"]) == ({"ningbo": 3, "shanghai": 4}, 7, True)
    assert [(e["name"], e["phone"], e["quantity"]) for e in signup["entries"]] == [
        ("Wang Fang", "+8613800138000", 3),
        ("Li Na", "+8613900139000", 4),
    ]

    adopted = await leader.post(f"/api/v1/packages/{draft['id']}/signup/adopt")
    assert adopted.status_code == 200 and adopted.json()["quantities"] == {"ningbo": 3, "shanghai": 4}
    assert (await anonymous.get(link)).json()["open"] is False

    started = await leader.post("/api/v1/sourcing-rounds", json=round_body(draft["id"]))
    assert started.status_code == 201, started.text
    sourcing_round = started.json()
    assert (sourcing_round["package_ids"], sourcing_round["status"]) == ([draft["id"]], "open")

    package = (await leader.get(f"/api/v1/packages/{draft['id']}")).json()
    assert (package["status"], package["round_id"], package["next_steps"]) == (
        "sourcing",
        sourcing_round["id"],
        ["plan", "cancel"],
    )
    history = (await leader.get(f"/api/v1/packages/{draft['id']}/history")).json()
    assert [(h["from_status"], h["to_status"], h["step"], h["actor"]) for h in history] == [
        ("draft", "sourcing", "request_quotes", f"leader:{community['leader']['id']}")
    ]
    # The suppliers service says how many it asked once it has sent the RFQs: on a busy machine perhaps only
    # later, perhaps already. The rest of the round is as it was created.
    assert (sourcing_round["rfq_count"], sourcing_round["rfqs_acknowledged_at"]) == (None, None)
    read = (await leader.get(f"/api/v1/sourcing-rounds/{sourcing_round['id']}")).json()
    assert without_acknowledgement(read) == without_acknowledgement(sourcing_round)
    assert (read["rfq_count"] is None) == (read["rfqs_acknowledged_at"] is None)

    # The suppliers service hears of the round once the commit is made; the deadline waits for reply_by.
    async def opened_event_sent() -> Any:
        rows = await outbox_rows(database_urls, sourcing_round["id"])
        return next((r for r in rows if r.event_name == "matching.rfq_round_opened" and r.sent_at), None)

    sent = await eventually(opened_event_sent)
    assert sent.payload["items"] == [
        {
            "package_id": draft["id"],
            "sku": "bread-gift-box",
            "spec": "Two 500 g loaves, boxed",
            "quantities": {"ningbo": 3, "shanghai": 4},
            "needed_by": sent.payload["items"][0]["needed_by"],
            "min_quality": 80,
        }
    ]
    assert datetime.fromisoformat(sent.payload["items"][0]["needed_by"]) == datetime.fromisoformat(package["needed_by"])
    assert sent.payload["named_supplier_ids"] == []
    due = [r for r in await outbox_rows(database_urls, sourcing_round["id"]) if r.event_name != sent.event_name]
    assert [(r.event_name, r.sent_at) for r in due] == [("matching.sourcing_round_due", None)]
    assert due[0].not_before == datetime.fromisoformat(sourcing_round["reply_by"])

    async def acknowledged() -> dict[str, Any] | None:
        read = (await leader.get(f"/api/v1/sourcing-rounds/{sourcing_round['id']}")).json()
        return read if read["rfqs_acknowledged_at"] is not None else None

    assert (await eventually(acknowledged))["rfq_count"] >= 0


def without_acknowledgement(sourcing_round: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in sourcing_round.items() if name not in {"rfq_count", "rfqs_acknowledged_at"}}


# --- communities and keys --------------------------------------------------------------------------------------


async def test_only_the_hash_of_a_leader_key_is_stored(operator: httpx.AsyncClient, database_urls: dict[str, str]):
    from flexsupply.matching.models import LeaderKey

    community, key = await register_community(operator)
    database = Database(database_urls["matching"], pooled=False)
    try:
        async with database.transaction() as session:
            leader_id = UUID(community["leader"]["id"])
            keys = (await session.exec(select(LeaderKey).where(LeaderKey.leader_id == leader_id))).all()
    finally:
        await database.dispose()
    assert len(keys) == 1
    parsed = parse_api_key(key, LEADER_KEY_PREFIX)
    assert parsed is not None
    secret = parsed[1]  # the whole secret: it may itself contain "_"
    assert keys[0].secret_hash == hash_secret(secret) and secret not in keys[0].secret_hash


async def test_operators_list_and_read_communities(operator: httpx.AsyncClient):
    community, _ = await register_community(operator)
    assert (await operator.get(f"/api/v1/communities/{community['id']}")).json() == community
    listed = (await operator.get("/api/v1/communities", params={"limit": 500})).json()
    assert community in listed
    assert "api_key" not in str(listed)
    assert (await operator.get(f"/api/v1/communities/{SOME_ID}")).status_code == 404


async def test_a_repeated_registration_with_one_idempotency_key_makes_one_community(operator: httpx.AsyncClient):
    body = {"name": "Campers of Hangzhou", "leader": {"name": "Chen Jie", "contact": "13700137000"}}
    headers = {"Idempotency-Key": f"community-{SOME_ID}"}
    first = await operator.post("/api/v1/communities", json=body, headers=headers)
    second = await operator.post("/api/v1/communities", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()  # the key shown once is shown again to the same retry
    names = [c["name"] for c in (await operator.get("/api/v1/communities", params={"limit": 500})).json()]
    assert names.count("Campers of Hangzhou") == 1


async def test_rotating_a_leaders_key_revokes_the_old_one(operator: httpx.AsyncClient, as_key: KeyClient):
    community, key = await register_community(operator)
    old = as_key(key)
    rotated = await operator.post(f"/api/v1/communities/{community['id']}/leader-keys", json={})
    assert rotated.status_code == 201, rotated.text
    new = as_key(rotated.json()["api_key"])
    assert (await old.get("/api/v1/leader/me")).status_code == 401
    assert (await new.get("/api/v1/leader/me")).json()["leader"]["id"] == community["leader"]["id"]
    assert (await operator.post(f"/api/v1/communities/{SOME_ID}/leader-keys", json={})).status_code == 404


OPERATOR_ONLY = [
    ("POST", "/api/v1/communities"),
    ("GET", "/api/v1/communities"),
    ("GET", "/api/v1/communities/{own}"),
    ("POST", "/api/v1/communities/{own}/leader-keys"),
]


@pytest.mark.parametrize(("method", "path"), OPERATOR_ONLY)
async def test_operator_routes_refuse_leaders_even_for_their_own_community(
    operator: httpx.AsyncClient, as_key: KeyClient, method: str, path: str
):
    community, leader = await leader_of_new_community(operator, as_key)
    body = {"name": "Mine", "leader": {"name": "Me", "contact": "me"}}
    response = await leader.request(method, path.format(own=community["id"]), json=body)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await leader.get("/api/v1/leader/me")).status_code == 200  # the key was not rotated


LEADER_ROUTES = [
    ("GET", "/api/v1/leader/me"),
    ("GET", "/api/v1/packages"),
    ("POST", "/api/v1/packages"),
    ("GET", f"/api/v1/packages/{SOME_ID}"),
    ("PATCH", f"/api/v1/packages/{SOME_ID}"),
    ("POST", f"/api/v1/packages/{SOME_ID}/cancel"),
    ("GET", f"/api/v1/packages/{SOME_ID}/history"),
    ("POST", f"/api/v1/packages/{SOME_ID}/signup"),
    ("GET", f"/api/v1/packages/{SOME_ID}/signup"),
    ("POST", f"/api/v1/packages/{SOME_ID}/signup/adopt"),
    ("POST", "/api/v1/sourcing-rounds"),
    ("GET", f"/api/v1/sourcing-rounds/{SOME_ID}"),
]


@pytest.mark.parametrize(("method", "path"), LEADER_ROUTES)
async def test_a_supplier_key_is_known_here_but_refused_on_leader_routes(
    operator: httpx.AsyncClient, as_key: KeyClient, method: str, path: str
):
    supplier = as_key((await create_supplier(operator))["api_key"]["api_key"])
    response = await supplier.request(method, path, json={})
    assert response.status_code == 403, response.text  # authenticated (not 401), not allowed


async def test_the_operator_is_not_a_leader(operator: httpx.AsyncClient):
    assert (await operator.get("/api/v1/leader/me")).status_code == 403


@pytest.mark.parametrize("header", [None, "Bearer flk_nonsense", f"Bearer flk_{'0' * 32}_secret"])
async def test_package_routes_need_a_known_credential(anonymous: httpx.AsyncClient, header: str | None):
    headers = {"authorization": header} if header else {}
    assert (await anonymous.get("/api/v1/packages", headers=headers)).status_code == 401


# --- packages -----------------------------------------------------------------------------------------------


BAD_PACKAGES = [
    ("sale_closes_at", {"sale_opens_at": _at(days=6), "sale_closes_at": _at(days=5)}),
    ("needed_by", {"needed_by": _at(days=-1)}),
    ("needed_by", {"needed_by": "2030-01-01T00:00:00"}),
    ("threshold_units", {"threshold_units": 401}),
    ("quantities", {"quantities": {"atlantis": 10}}),
    ("quantities", {"quantities": {}}),
    ("quantities.ningbo", {"quantities": {"ningbo": -1}}),
    ("per_buyer_limit", {"per_buyer_limit": 401}),
    ("min_quality", {"min_quality": 101}),
    ("backups", {"backups": 6}),
    ("sale_price_cents", {"sale_price_cents": 59.5}),
    ("currency", {"currency": "yuan"}),
    ("sku", {"sku": ""}),
]


@pytest.mark.parametrize(("field", "changes"), BAD_PACKAGES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_PACKAGES)])
async def test_a_bad_package_gets_a_400_naming_the_field(
    operator: httpx.AsyncClient, as_key: KeyClient, field: str, changes: dict[str, Any]
):
    _, leader = await leader_of_new_community(operator, as_key)
    response = await leader.post("/api/v1/packages", json=package_body(**changes))
    assert response.status_code == 400, response.text
    problem = response.json()
    assert field in [error["field"] for error in problem["errors"]], problem
    assert (await leader.get("/api/v1/packages")).json() == []


async def test_an_operator_drafts_for_a_named_community(operator: httpx.AsyncClient, as_key: KeyClient):
    community, leader = await leader_of_new_community(operator, as_key)
    missing = await operator.post("/api/v1/packages", json=package_body())
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "community_id"
    unknown = await operator.post("/api/v1/packages", json=package_body(community_id=SOME_ID))
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "community_id"

    package = await create_package(operator, community_id=community["id"])
    assert [p["id"] for p in (await leader.get("/api/v1/packages")).json()] == [package["id"]]
    in_community = await operator.get("/api/v1/packages", params={"community_id": community["id"]})
    assert [p["id"] for p in in_community.json()] == [package["id"]]


async def test_a_leader_cannot_draft_for_another_community(operator: httpx.AsyncClient, as_key: KeyClient):
    other, _ = await register_community(operator)
    _, leader = await leader_of_new_community(operator, as_key)
    response = await leader.post("/api/v1/packages", json=package_body(community_id=other["id"]))
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "community_id"
    assert (await operator.get("/api/v1/packages", params={"community_id": other["id"]})).json() == []


async def test_a_repeated_create_with_one_idempotency_key_drafts_one_package(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    _, leader = await leader_of_new_community(operator, as_key)
    body, headers = package_body(), {"Idempotency-Key": "package-create-1"}
    first = await leader.post("/api/v1/packages", json=body, headers=headers)
    second = await leader.post("/api/v1/packages", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert len((await leader.get("/api/v1/packages")).json()) == 1


async def test_packages_are_listed_by_status_a_page_at_a_time(operator: httpx.AsyncClient, as_key: KeyClient):
    _, leader = await leader_of_new_community(operator, as_key)
    drafts = [await create_package(leader, title=f"Box {n}") for n in range(3)]
    await start_round(leader, drafts[0]["id"])

    page = (await leader.get("/api/v1/packages", params={"limit": 2, "offset": 1})).json()
    assert [p["title"] for p in page] == ["Box 1", "Box 2"]
    sourcing = (await leader.get("/api/v1/packages", params={"status": "sourcing"})).json()
    assert [p["id"] for p in sourcing] == [drafts[0]["id"]]
    assert (await leader.get("/api/v1/packages", params={"limit": 501})).status_code == 400
    assert (await leader.get("/api/v1/packages", params={"status": "lost"})).status_code == 400


async def test_a_draft_changes_only_what_is_sent_and_still_keeps_the_rules(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    _, leader = await leader_of_new_community(operator, as_key)
    package = await create_package(leader)
    path = f"/api/v1/packages/{package['id']}"

    changed = await leader.patch(path, json={"title": "Rye gift box", "quantities": {"chengdu": 50}})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["quantities"], changed.json()["sku"]) == (
        "Rye gift box",
        {"chengdu": 50},
        "bread-gift-box",
    )
    for field, body in [
        ("threshold_units", {"threshold_units": 401}),
        ("quantities", {"quantities": {"atlantis": 1}}),
        ("title", {"title": None}),
    ]:
        refused = await leader.patch(path, json=body)
        assert refused.status_code == 400 and field in [e["field"] for e in refused.json()["errors"]]
    assert (await leader.get(path)).json() == changed.json()


async def test_a_leader_cannot_see_or_change_another_communitys_package(operator: httpx.AsyncClient, as_key: KeyClient):
    _, owner = await leader_of_new_community(operator, as_key)
    _, intruder = await leader_of_new_community(operator, as_key)
    package = await create_package(owner)
    await owner.post(f"/api/v1/packages/{package['id']}/signup", json={"per_person_max": 2})
    path = f"/api/v1/packages/{package['id']}"

    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"title": "Mine now"}),
        ("POST", "/cancel", {"reason": "mine"}),
        ("GET", "/history", None),
        ("GET", "/signup", None),
        ("POST", "/signup", {"per_person_max": 1}),
        ("POST", "/signup/close", None),
        ("POST", "/signup/adopt", None),
    ]:
        response = await intruder.request(method, path + suffix, json=body)
        assert response.status_code == 404, (method, suffix, response.text)
    assert (await intruder.get("/api/v1/packages")).json() == []
    refused = await intruder.post("/api/v1/sourcing-rounds", json=round_body(package["id"]))
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "package_ids"

    unchanged = (await owner.get(path)).json()
    assert (unchanged["status"], unchanged["title"]) == ("draft", package["title"])
    assert (await owner.get(f"{path}/signup")).json()["open"] is True


# --- the state machine ------------------------------------------------------------------------------------------


async def test_an_illegal_move_is_a_409_naming_the_state_and_its_moves_and_changes_nothing(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    _, leader = await leader_of_new_community(operator, as_key)
    package = await create_package(leader)
    sourcing_round = await start_round(leader, package["id"])
    path = f"/api/v1/packages/{package['id']}"
    before = (await leader.get(path)).json()

    again = await leader.post("/api/v1/sourcing-rounds", json=round_body(package["id"]))
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "a sourcing package cannot request_quotes; allowed from sourcing: plan, cancel" in again.json()["detail"]
    edit = await leader.patch(path, json={"title": "Too late"})
    assert edit.status_code == 409 and "sourcing" in edit.json()["detail"]

    assert (await leader.get(path)).json() == before
    assert before["round_id"] == sourcing_round["id"]
    assert len((await leader.get(f"{path}/history")).json()) == 1


async def test_a_cancelled_package_says_why_and_cannot_move_again(operator: httpx.AsyncClient, as_key: KeyClient):
    community, leader = await leader_of_new_community(operator, as_key)
    package = await create_package(leader)
    path = f"/api/v1/packages/{package['id']}"
    assert (await leader.post(f"{path}/cancel", json={"reason": " "})).status_code == 400

    cancelled = await operator.post(f"{path}/cancel", json={"reason": "The bakery closed for the holidays"})
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["next_steps"]) == ("cancelled", [])

    refused = await leader.post(f"{path}/cancel", json={"reason": "again"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == "a cancelled package cannot cancel; cancelled is final"
    history = (await leader.get(f"{path}/history")).json()
    assert [(h["step"], h["from_status"], h["to_status"], h["actor"], h["reason"]) for h in history] == [
        ("cancel", "draft", "cancelled", "operator", "The bakery closed for the holidays")
    ]
    assert community["id"] == cancelled.json()["community_id"]


# --- the sign-up ----------------------------------------------------------------------------------------------------


async def open_signup(leader: httpx.AsyncClient, **changes: Any) -> tuple[dict[str, Any], str]:
    package = await create_package(leader, quantities={"ningbo": 0, "shanghai": 0})
    response = await leader.post(f"/api/v1/packages/{package['id']}/signup", json={"per_person_max": 3} | changes)
    assert response.status_code == 201, response.text
    return package, f"/api/v1/signups/{response.json()['token']}"


def entry(**changes: Any) -> dict[str, Any]:
    return {"name": "Zhao Lei", "phone": "13600136000", "region": "ningbo", "quantity": 1} | changes


async def test_a_sign_up_refuses_bad_entries_naming_the_field(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    _, leader = await leader_of_new_community(operator, as_key)
    package, link = await open_signup(leader)
    for field, changes in [
        ("quantity", {"quantity": 4}),
        ("quantity", {"quantity": 0}),
        ("region", {"region": "chengdu"}),
        ("phone", {"phone": "12345"}),
        ("name", {"name": ""}),
    ]:
        response = await anonymous.post(f"{link}/entries", json=entry(**changes))
        assert response.status_code == 400, response.text
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert (await leader.get(f"/api/v1/packages/{package['id']}/signup")).json()["entries"] == []


async def test_members_see_no_one_elses_name_or_phone(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    _, leader = await leader_of_new_community(operator, as_key)
    package, link = await open_signup(leader)
    await anonymous.post(f"{link}/entries", json=entry())
    invitation = await anonymous.get(link)
    assert "Zhao Lei" not in invitation.text and "13600136000" not in invitation.text
    assert (await anonymous.get(f"/api/v1/packages/{package['id']}/signup")).status_code == 401
    assert (await anonymous.get("/api/v1/signups/not-a-token")).status_code == 404
    assert (await operator.get(f"/api/v1/packages/{package['id']}/signup")).json()["entries"][0]["name"] == "Zhao Lei"


async def test_a_closed_sign_up_takes_no_entries(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    _, leader = await leader_of_new_community(operator, as_key)
    package, link = await open_signup(leader)
    closed = await leader.post(f"/api/v1/packages/{package['id']}/signup/close")
    assert closed.status_code == 200 and closed.json()["open"] is False
    assert (await anonymous.post(f"{link}/entries", json=entry())).status_code == 409
    assert (
        await leader.post(f"/api/v1/packages/{package['id']}/signup", json={"per_person_max": 1})
    ).status_code == 409


async def test_a_sign_up_past_its_closing_time_takes_no_entries(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    _, leader = await leader_of_new_community(operator, as_key)
    past = await leader.post(
        f"/api/v1/packages/{(await create_package(leader))['id']}/signup",
        json={"per_person_max": 1, "closes_at": _at(minutes=-1)},
    )
    assert past.status_code == 400 and past.json()["errors"][0]["field"] == "closes_at"
    _, link = await open_signup(leader, closes_at=_at(seconds=0.5))
    assert (await anonymous.post(f"{link}/entries", json=entry())).status_code == 201
    await asyncio.sleep(0.6)
    assert (await anonymous.get(link)).json()["open"] is False
    assert (await anonymous.post(f"{link}/entries", json=entry(phone="13500135000"))).status_code == 409


async def test_a_sign_up_closes_when_sourcing_starts(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    _, leader = await leader_of_new_community(operator, as_key)
    package, link = await open_signup(leader)
    await leader.patch(f"/api/v1/packages/{package['id']}", json={"quantities": {"ningbo": 10, "shanghai": 0}})
    await start_round(leader, package["id"])
    assert (await anonymous.post(f"{link}/entries", json=entry())).status_code == 409
    adopt = await leader.post(f"/api/v1/packages/{package['id']}/signup/adopt")
    assert adopt.status_code == 409


async def test_members_signing_up_at_once_with_one_phone_leave_one_entry(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    _, leader = await leader_of_new_community(operator, as_key)
    package, link = await open_signup(leader)
    answers = await asyncio.gather(
        *(anonymous.post(f"{link}/entries", json=entry(quantity=1 + n % 3)) for n in range(8))
    )
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    assert sum(a.status_code == 201 for a in answers) == 1
    signup = (await leader.get(f"/api/v1/packages/{package['id']}/signup")).json()
    assert len(signup["entries"]) == 1


# --- sourcing rounds ---------------------------------------------------------------------------------------------


async def test_a_bad_round_gets_a_400_naming_the_field_and_moves_nothing(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    _, leader = await leader_of_new_community(operator, as_key)
    package = await create_package(leader)
    empty = await create_package(leader, quantities={"ningbo": 0})
    for field, body in [
        ("reply_by", round_body(package["id"], reply_by=_at(days=-1))),
        ("reply_by", round_body(package["id"], reply_by=_at(days=30))),
        ("reply_by", round_body(package["id"], reply_by="2030-01-01T00:00:00")),
        ("package_ids", round_body(empty["id"])),
        ("package_ids", round_body(package["id"], package["id"])),
        ("package_ids", round_body()),
        ("package_ids", round_body(*[SOME_ID[:-2] + f"{n:02d}" for n in range(51)])),
    ]:
        response = await leader.post("/api/v1/sourcing-rounds", json=body)
        assert response.status_code == 400, response.text
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert {p["status"] for p in (await leader.get("/api/v1/packages")).json()} == {"draft"}


async def test_an_operator_federates_packages_of_several_groups_into_one_round(
    operator: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    _, bakers = await leader_of_new_community(operator, as_key)
    _, campers = await leader_of_new_community(operator, as_key)
    _, outsider = await leader_of_new_community(operator, as_key)
    ours, theirs = await create_package(bakers), await create_package(campers, quantities={"chengdu": 60})
    supplier = (await create_supplier(operator))["supplier"]["id"]

    sourcing_round = await start_round(operator, ours["id"], theirs["id"], named_supplier_ids=[supplier])

    assert sourcing_round["started_by"] == "operator"
    for leader in (bakers, campers):
        assert (await leader.get(f"/api/v1/sourcing-rounds/{sourcing_round['id']}")).status_code == 200
    assert (await outsider.get(f"/api/v1/sourcing-rounds/{sourcing_round['id']}")).status_code == 404
    assert (await operator.get(f"/api/v1/sourcing-rounds/{SOME_ID}")).status_code == 404

    async def opened_event_sent() -> Any:
        rows = await outbox_rows(database_urls, sourcing_round["id"])
        return next((r for r in rows if r.event_name == "matching.rfq_round_opened" and r.sent_at), None)

    sent = await eventually(opened_event_sent)
    assert [item["package_id"] for item in sent.payload["items"]] == [ours["id"], theirs["id"]]
    assert sent.payload["items"][1]["quantities"] == {"chengdu": 60}
    assert sent.payload["named_supplier_ids"] == [supplier]


async def test_a_leader_cannot_start_a_round_with_another_groups_package(
    operator: httpx.AsyncClient, as_key: KeyClient
):
    _, leader = await leader_of_new_community(operator, as_key)
    _, other = await leader_of_new_community(operator, as_key)
    ours, theirs = await create_package(leader), await create_package(other)
    response = await leader.post("/api/v1/sourcing-rounds", json=round_body(ours["id"], theirs["id"]))
    assert response.status_code == 400
    assert response.json()["detail"] == f"package_ids: no package {theirs['id']} that you may source"
    assert (await leader.get(f"/api/v1/packages/{ours['id']}")).json()["status"] == "draft"


async def test_a_package_cannot_be_checked_while_the_suppliers_service_is_down(database_urls: dict[str, str]):
    from flexsupply.matching.app import DESCRIPTION
    from flexsupply.matching.settings import MatchingSettings
    from tests.integration.conftest import OPERATOR_TOKEN
    from tests.support.lifespan import running
    from tests.support.processes import free_port

    settings = MatchingSettings(suppliers_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    async with (
        running(DESCRIPTION.app(settings)) as app,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url="http://matching.test",
            headers={"authorization": f"Bearer {OPERATOR_TOKEN}"},
        ) as operator,
    ):
        created = await operator.post(
            "/api/v1/communities", json={"name": "Offline", "leader": {"name": "A", "contact": "b"}}
        )
        community_id = created.json()["community"]["id"]
        response = await operator.post("/api/v1/packages", json=package_body(community_id=community_id))
        assert response.status_code == 503, response.text
        assert "suppliers" in response.json()["detail"]
        assert (await operator.get("/api/v1/packages", params={"community_id": community_id})).json() == []


async def test_a_leader_chooses_group_pickup_per_region(operator: httpx.AsyncClient, as_key: KeyClient):
    _, leader = await leader_of_new_community(operator, as_key)
    point = {"name": "Li's bakery", "address": "12 Harbour Road, Ningbo", "phone": "+8613900000001"}
    package = await create_package(leader, pickup_points={"ningbo": point})
    assert package["pickup_points"] == {"ningbo": point}

    stray = await leader.patch(f"/api/v1/packages/{package['id']}", json={"pickup_points": {"chengdu": point}})
    assert stray.status_code == 400 and "chengdu" in stray.text
    bad_phone = await leader.post(
        "/api/v1/packages", json=package_body(pickup_points={"ningbo": point | {"phone": "x"}})
    )
    assert bad_phone.status_code == 400
    cleared = await leader.patch(f"/api/v1/packages/{package['id']}", json={"pickup_points": {}})
    assert cleared.status_code == 200 and cleared.json()["pickup_points"] == {}
