"""/status NUMBER for anyone: plain words, no personal data; /my for one's own tickets."""

from __future__ import annotations

import pytest

from bot.domain.numbers import damm_digit, format_number
from sandbox.local import LocalSandbox
from tests.e2e.talk import en, zh
from tests.e2e.test_intake_happy import DESCRIPTION, file_complaint

pytestmark = pytest.mark.backends  # run on SQLite and on PostgreSQL (tests/e2e/conftest.py)

def mistype(number: str) -> str:
    """Change one digit: the check digit catches it."""
    d = (int(number[4]) + 1) % 10
    return number[:4] + str(d) + number[5:]


async def test_status_of_a_real_ticket_shows_progress_and_no_personal_data(local: LocalSandbox, sb) -> None:
    reporter = await sb.person("李雷", last_name="王", username="lilei_wang")
    number = await file_complaint(reporter)
    stranger = await sb.person("Stranger", language_code="en")
    await stranger.say(f"/status {number[:3]}-{number[3:6]}-{number[6:]}")
    reply = await stranger.expect(f"Ticket {format_number(number)}")
    text = reply["text"]
    assert en("state.registered") in text
    assert "Housing and property" in text or local.config.city.category("housing").name_en in text
    for private in ("李雷", "王", "lilei_wang", str(reporter.id), DESCRIPTION, DESCRIPTION[:8]):
        assert private not in text, f"status leaks {private!r}"
    assert en("event.registered") in text


async def test_status_with_a_wrong_check_digit_asks_about_a_typo(local: LocalSandbox, sb) -> None:
    number = await file_complaint(await sb.person("李雷"))
    someone = await sb.person("韩梅梅")
    wrong = mistype(number)
    await someone.say(f"/status {wrong}")
    await someone.expect(zh("status.mistyped", number=wrong))


async def test_status_of_a_number_that_does_not_exist(local: LocalSandbox, sb) -> None:
    someone = await sb.person("韩梅梅")
    unused = "12345678" + damm_digit("12345678")
    await someone.say(f"/status {unused}")
    await someone.expect(zh("status.not_found", number=format_number(unused)))
    await someone.say("/status")
    await someone.expect(zh("status.usage"))


async def test_my_lists_my_tickets_with_their_state(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.say("/my")
    await li.expect(zh("my.empty"))
    first = await file_complaint(li)
    second = await file_complaint(li, category="交通物流")
    await li.say("/my")
    reply = await li.expect(zh("my.header"))
    assert format_number(first) in reply["text"] and format_number(second) in reply["text"]
    assert reply["text"].count(zh("state.dispatched")) == 2
