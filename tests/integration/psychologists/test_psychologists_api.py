"""The clean psychologist API: CRUD with the admin key, editor secrets, slots by owner."""

from __future__ import annotations

import httpx

from tests.conftest import ADMIN

PROFILE = {
    "name": "Иванова Анна",
    "telegram_id": "12345",
    "sex": "female",
    "age": 38,
    "time_zone": "Asia/Novosibirsk",
    "main_modal": "Гештальт",
    "skills": ["Утрата близкого", "Состояние ужаса, панические атаки"],
    "queries": ["Страх будущего и неопределенности"],
    "min_price": 2000,
    "max_price": 3000,
    "is_help_hand": True,
    "group": "community",
    "debt": 8,
    "client_sex": "female",
    "min_client_age": 20,
    "max_client_age": 60,
    "education": [
        {"title": "МГУ", "program_title": "Клиническая психология", "doc_type": "Диплом", "year": 2010}
    ],
}


async def test_create_read_update_delete(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/psychologists", json=PROFILE, headers=ADMIN)
    assert created.status_code == 201
    body = created.json()
    assert len(body["editor_secret"]) >= 32  # ≥ 128 bits of URL-safe base64
    assert body["editor_secret"] in body["editor_url"]

    fetched = await client.get(f"/api/v1/psychologists/{body['id']}", headers=ADMIN)
    assert fetched.json()["time_zone"] == "Asia/Novosibirsk"
    assert fetched.json()["education"][0]["program_title"] == "Клиническая психология"
    assert "editor_secret" not in fetched.json()

    patched = await client.patch(
        f"/api/v1/psychologists/{body['id']}", json={"debt": 10, "is_help_hand": False}, headers=ADMIN
    )
    assert patched.status_code == 200
    assert (patched.json()["debt"], patched.json()["is_help_hand"]) == (10, False)

    deleted = await client.delete(f"/api/v1/psychologists/{body['id']}", headers=ADMIN)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/psychologists/{body['id']}", headers=ADMIN)).status_code == 404


async def test_duplicate_name_or_telegram_id_is_a_conflict(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/psychologists", json=PROFILE, headers=ADMIN)
    again = await client.post("/api/v1/psychologists", json={**PROFILE, "telegram_id": "999"}, headers=ADMIN)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "CONFLICT"


async def test_bad_profiles_are_refused_with_field_details(client: httpx.AsyncClient) -> None:
    cases = [
        {**PROFILE, "time_zone": "Mars/Olympus"},
        {**PROFILE, "min_client_age": 50, "max_client_age": 20},
        {**PROFILE, "sex": "robot"},
        {**PROFILE, "unknown_field": 1},
        {"sex": "female"},
    ]
    for payload in cases:
        response = await client.post("/api/v1/psychologists", json=payload, headers=ADMIN)
        assert response.status_code == 422, payload
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert response.json()["error"]["details"]
    listed = await client.get("/api/v1/psychologists", headers=ADMIN)
    assert listed.json() == []


async def test_a_body_that_is_not_json_is_a_clear_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/psychologists", content=b"{not json", headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "JSON" in response.json()["error"]["message"]


async def test_the_admin_key_is_required(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/psychologists")).status_code == 401
    assert (await client.post("/api/v1/psychologists", json=PROFILE)).status_code == 401


async def test_rotating_the_secret_invalidates_the_old_editor_link(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/v1/psychologists", json=PROFILE, headers=ADMIN)).json()
    old = created["editor_secret"]

    rotated = await client.post(f"/api/v1/psychologists/{created['id']}/rotate-secret", headers=ADMIN)

    new = rotated.json()["editor_secret"]
    assert new != old
    assert (await client.get("/webhook/get-slot", params={"secret": old})).json() == {"error": "unauthored"}
    assert "items" in (await client.get("/webhook/get-slot", params={"secret": new})).json()[0]


async def test_a_psychologist_manages_only_their_own_slots(client: httpx.AsyncClient) -> None:
    anna = (await client.post("/api/v1/psychologists", json=PROFILE, headers=ADMIN)).json()
    petr = (
        await client.post("/api/v1/psychologists", json={"name": "Петров Пётр", "sex": "male"}, headers=ADMIN)
    ).json()
    own = {"X-Editor-Secret": anna["editor_secret"]}

    added = await client.post(
        f"/api/v1/psychologists/{anna['id']}/slots",
        json={"local_date": "2026-03-04", "local_time": "18:00"},
        headers=own,
    )
    foreign = await client.post(
        f"/api/v1/psychologists/{petr['id']}/slots",
        json={"start_at": "2026-03-04T10:00:00+03:00"},
        headers=own,
    )

    assert added.status_code == 201
    assert added.json()["slot"]["start_at"] == "2026-03-04T11:00:00Z"  # 18:00 in Novosibirsk
    assert foreign.status_code == 403
    listed = await client.get(f"/api/v1/psychologists/{anna['id']}/slots", headers=own)
    assert [s["local_start"] for s in listed.json()] == ["2026-03-04T18:00:00+07:00"]

    slot_id = added.json()["slot"]["id"]
    removed = await client.delete(f"/api/v1/psychologists/{anna['id']}/slots/{slot_id}", headers=own)
    assert removed.status_code == 204
    assert (await client.get(f"/api/v1/psychologists/{anna['id']}/slots", headers=own)).json() == []
