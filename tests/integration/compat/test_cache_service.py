"""The cache service's paths (cards, converted schedules, education, ping) and CORS."""

from __future__ import annotations

import httpx
import pytest

from hraniteli.db import Database
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import NOW
from tests.integration.compat.helpers import HOUR_KEYS, SLOT_ROW_KEYS, assert_error, schedule_request

ANNA = "Иванова Анна"
PETR = "Петров Пётр"
MENTAL_ILLNESS = "Есть диагностированное психиатрическое заболевание (ПРЛ, БАР, ПТСР и др)"


async def test_cards_show_the_public_card_fields_in_the_clients_vocabulary(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await make_psychologist(
        database,
        now=NOW,
        name=ANNA,
        sex="female",
        age=34,
        min_price=2000,
        max_price=3500,
        queries=["Тревога", "Отношения с партнёром"],
        skills=[MENTAL_ILLNESS, "Утрата близкого"],
        additional_modals=["КПТ", "Гештальт"],
        main_modal="Психоанализ",
        experience="3-5",
        debt=7,
        telegram_id="123456",
    )
    await make_psychologist(database, now=NOW, name=PETR, sex="male", group="supervision")
    await make_psychologist(database, now=NOW, name="Скрытая Вера", is_active=False)

    response = await client.get("/cards")

    assert response.status_code == 200
    cards = {card["name"]: card for card in response.json()}
    assert set(cards) == {ANNA, PETR}
    card = cards[ANNA]
    assert card["sex"] == "Женщина"
    assert cards[PETR]["sex"] == "Мужчина"
    assert card["age"] == 34
    assert card["min_session_price"] == 2000
    assert card["max_session_price"] == 3500
    assert card["queries"] == "Тревога; Отношения с партнёром"
    assert card["queries"].split("; ") == ["Тревога", "Отношения с партнёром"]
    assert MENTAL_ILLNESS in card["works_with"]
    assert card["main_modal"] == "Психоанализ"
    assert card["experience"] == "3-5"
    assert card["group"] == "Сообщество"
    assert cards[PETR]["group"] == "Супервизии"
    for forbidden in ("editor_secret", "secret", "debt", "sessions_provided", "telegram_id"):
        assert forbidden not in card
    assert anna.editor_secret not in response.text
    assert "123456" not in response.text, "a Telegram id names the psychologist to the bot: not public"


async def test_cards_of_an_empty_catalogue_are_an_empty_list(client: httpx.AsyncClient) -> None:
    response = await client.get("/cards")

    assert response.status_code == 200
    assert response.json() == []


async def test_education_records_name_the_psychologist_with_underscores(
    client: httpx.AsyncClient, database: Database
) -> None:
    await make_psychologist(
        database,
        now=NOW,
        name=ANNA,
        education=[
            {"title": "МГУ", "program_title": "Клиническая психология", "doc_type": "Диплом", "year": 2015}
        ],
    )
    await make_psychologist(database, now=NOW, name=PETR)

    response = await client.get("/edu-keys-pipeline-batch", params={"batch_size": 1000, "use_cache": "true"})

    assert response.status_code == 200
    assert response.json() == [
        {
            "psychologist": "Иванова_Анна",
            "program_title": "Клиническая психология",
            "year": 2015,
            "title": "МГУ",
            "doc_type": "Диплом",
        }
    ]


async def test_ping(client: httpx.AsyncClient) -> None:
    response = await client.get("/ping")

    assert response.status_code == 200


@pytest.mark.parametrize("body", [None, schedule_request(userTimeOffsetMsk=7, show_only_psy=PETR)])
async def test_convert_schedule_timezone_zero_adds_the_local_fields_and_ignores_the_body(
    client: httpx.AsyncClient, database: Database, body: object
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    await make_slot(database, anna, start_at=msk(2026, 3, 4, 14), now=NOW)
    await make_slot(database, anna, start_at=msk(2026, 3, 30, 14), now=NOW)

    response = await client.post("/convert-schedule-timezone/0", json=body)

    assert response.status_code == 200
    items = response.json()[0]["items"]
    assert items[0]["date"] == "2026-03-02"
    assert items[-1]["date"] == "2026-04-02"  # today … today + 31 days
    assert "воскресенье" not in {item["day_name"] for item in items}
    for item in items:
        assert list(item["slots"]) == HOUR_KEYS
    (row,) = items[2]["slots"]["14:00"]
    assert set(row) == SLOT_ROW_KEYS
    assert (row["Дата Локальная"], row["Время Локальное"]) == ("2026-03-04", "14:00")
    listed = [(item["date"], hour) for item in items for hour, rows in item["slots"].items() if rows]
    assert listed == [("2026-03-04", "14:00"), ("2026-03-30", "14:00")]


async def test_convert_schedule_timezone_four_rekeys_to_local_hours(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    await make_slot(database, anna, start_at=msk(2026, 3, 4, 21), now=NOW)

    response = await client.post("/convert-schedule-timezone/4", json=schedule_request())

    assert response.status_code == 200
    items = response.json()[0]["items"]
    listed = [
        (item["date"], hour, row["date"], row["time"], row["Дата Локальная"], row["Время Локальное"])
        for item in items
        for hour, rows in item["slots"].items()
        for row in rows
    ]
    assert listed == [("2026-03-05", "01:00", "2026-03-04", "21:00", "2026-03-05", "01:00")]


@pytest.mark.parametrize("offset", ["abc", "99", "nan", "-20"])
async def test_convert_schedule_timezone_refuses_a_bad_offset(client: httpx.AsyncClient, offset: str) -> None:
    response = await client.post(f"/convert-schedule-timezone/{offset}")

    assert_error(response, 400, "INVALID_INPUT")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/webhook/add-slot"),
        ("POST", "/webhook/get-aggregated-all"),
        ("GET", "/webhook/get-slot-test-contur"),
        ("POST", "/convert-schedule-timezone/0"),
        ("GET", "/cards"),
    ],
)
async def test_a_preflight_from_another_origin_is_allowed(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.options(
        path,
        headers={
            "Origin": "https://psy.hrani.live",
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://psy.hrani.live")
    assert method in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


async def test_a_cross_origin_answer_carries_the_allow_origin_header(
    client: httpx.AsyncClient, database: Database
) -> None:
    await make_psychologist(database, now=NOW, name=ANNA)

    response = await client.get(
        "/webhook/get-slot", params={"secret": "x"}, headers={"Origin": "https://hrani.live"}
    )

    assert response.json() == {"error": "unauthored"}
    assert response.headers["access-control-allow-origin"] in ("*", "https://hrani.live")
