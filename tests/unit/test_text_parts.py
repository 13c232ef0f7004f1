"""Texts longer than Telegram takes (4,096 UTF-16 code units) are cut into parts that fit:
between paragraphs where it can, else lines, else words; never losing a character."""

from __future__ import annotations

from datetime import UTC, datetime

from hraniteli.notifications.service import TEXT_LIMIT, Button, message_parts, text_parts

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_a_text_that_fits_is_one_part_unchanged() -> None:
    text = "Здравствуйте!\n\n" + "а" * (TEXT_LIMIT - 15)
    assert units(text) == TEXT_LIMIT
    assert text_parts(text) == [text]


def test_paragraphs_are_kept_whole() -> None:
    paragraphs = [f"{n} " + "слово " * 300 for n in range(6)]  # ~1,800 characters each
    text = "\n\n".join(p.strip() for p in paragraphs)

    parts = text_parts(text)

    assert len(parts) == 3
    assert all(units(part) <= TEXT_LIMIT for part in parts)
    assert "\n\n".join(parts) == text


def test_one_long_line_is_cut_between_words() -> None:
    text = " ".join(f"слово{n}" for n in range(1500))  # ~12,000 characters, no line breaks

    parts = text_parts(text)

    assert all(units(part) <= TEXT_LIMIT for part in parts)
    assert " ".join(parts) == text
    assert all(part.split()[-1].startswith("слово") for part in parts)


def test_characters_outside_the_basic_plane_count_twice_as_telegram_counts_them() -> None:
    text = "🙂" * 3000  # 3,000 characters, 6,000 UTF-16 code units, no place to cut

    parts = text_parts(text)

    assert [units(part) for part in parts] == [4096, 6000 - 4096]
    assert "".join(parts) == text


def test_parts_keep_order_the_first_key_and_put_the_buttons_last() -> None:
    buttons = [[Button("Ответить", data="reply:1")]]

    parts = message_parts("relay:1", "абв " * 3000, buttons, NOW)

    assert [part.dedupe_key for part in parts] == ["relay:1", "relay:1#2", "relay:1#3"]
    assert [part.created_at for part in parts] == sorted({part.created_at for part in parts})
    assert parts[0].created_at == NOW
    assert [part.buttons for part in parts] == [
        None,
        None,
        [[{"text": "Ответить", "callback_data": "reply:1"}]],
    ]
