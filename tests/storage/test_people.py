"""A chosen language survives Telegram's language_code; a name is recorded once per change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import people, users
from storage.db import Database

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def test_a_chosen_language_wins_over_the_one_telegram_reports(db: Database) -> None:
    await db.write(lambda c: users.upsert(c, 1, "zh", NOW))
    assert await db.read(lambda c: people.chosen_language(c, 1)) is None
    await db.write(lambda c: people.choose_language(c, 1, "en", NOW))
    await db.write(lambda c: users.upsert(c, 1, "zh", NOW + timedelta(minutes=1)))  # Telegram still says zh
    user = await db.read(lambda c: users.get(c, 1))
    assert user is not None and user.language == "en"
    assert await db.read(lambda c: people.chosen_language(c, 1)) == "en"


async def test_choosing_a_language_before_ever_writing_creates_the_user(db: Database) -> None:
    await db.write(lambda c: people.choose_language(c, 2, "en", NOW))
    user = await db.read(lambda c: users.get(c, 2))
    assert user is not None and user.language == "en" and user.reachable


async def test_a_name_is_recorded_only_when_it_changes(db: Database) -> None:
    written = [await db.write(lambda c, n=name, i=i: people.record_name(c, 5, n, NOW + timedelta(minutes=i)))
               for i, name in enumerate(["张三", "张三", "张三丰", "张三"])]
    assert written == [True, False, True, True]
    names = await db.read(lambda c: people.names_of(c, [5, 6]))
    assert [n for _, n in names[5]] == ["张三", "张三丰", "张三"] and 6 not in names
    assert await db.read(lambda c: people.names_of(c, [])) == {}
